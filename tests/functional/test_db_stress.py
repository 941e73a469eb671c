# Copyright (c) 2026 KSVD ksvd-cinder developers
#
#    Licensed under the Apache License, Version 2.0 (the "License"); you may
#    not use this file except in compliance with the License. You may obtain
#    a copy of the License at
#
#         http://www.apache.org/licenses/LICENSE-2.0
#
#    Unless required by applicable law or agreed to in writing, software
#    distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
#    WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
#    License for the specific language governing permissions and limitations
#    under the License.

"""Several processes write through cinder's real DB API to one sqlite file.

tools/dbstress.py runs 4 writer processes (heartbeats as report_state does
them, volume_create, volume_update with and without metadata, quota reserve
and commit) and 2 readers on local disk, then re-reads the file and checks
that every acknowledged write is there.  Stock cinder surfaces "database is
locked" under this load; ksvd-cinder must surface nothing and lose nothing.
"""

import importlib.util
import json
import os

from tests.functional import base
from tests.functional import services
from testtools import content

DURATION = float(os.environ.get('KSVD_TEST_DBSTRESS_SECONDS', '8'))
WRITERS = 4
READERS = 2


def _load_dbstress():
    path = os.path.join(services.REPO, 'tools', 'dbstress.py')
    spec = importlib.util.spec_from_file_location('dbstress', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


dbstress = _load_dbstress()


class DbStressTest(base.FunctionalTestCase):

    def stress(self, mode, extra_conf=None, paths=None):
        paths = paths or [os.path.join(self.workdir, 'db', 'cinder.sqlite')]
        result = dbstress.run(mode, paths, writers=WRITERS,
                              readers=READERS, duration=DURATION,
                              workdir=os.path.join(self.workdir, 'stress'),
                              extra_conf=extra_conf)
        self.addDetail('dbstress-result', content.text_content(
            json.dumps(result, indent=2, sort_keys=True)))
        # The harness itself must have worked whatever the mode.
        self.assertEqual([], result['startup_failures'])
        self.assertEqual([], result['worker_failures'])
        self.assertEqual(WRITERS + READERS, result['workers_reported'])
        self.assertEqual({}, result['read_errors'])
        return result

    def test_ksvd_no_errors_no_lost_writes(self):
        """Shipped settings: lock waits, never an error or a lost write."""
        result = self.stress('ksvd')
        self.assertEqual({}, result['errors_by_kind'])
        self.assertEqual(0, result['lost'], result['lost_examples'])
        self.assertEqual('ok', result['integrity'])
        self.assertGreater(result['ok_writes'], 50)

    def test_ksvd_retries_keep_every_write(self):
        """A short busy timeout makes the retry layer do the work.

        With the shipped 30 s busy timeout and BEGIN IMMEDIATE, writers
        wait for the lock and nothing is retried on local disk; at 100 ms
        lock waits end in "database is locked" and must be retried, by
        cinder's decorators and by ours on the writes cinder never retries,
        without surfacing or losing a write.  (Plain reads are retried by
        nobody: with this timeout some fail, which is expected.)
        """
        result = self.stress('ksvd', {'ksvd_database': {
            'busy_timeout': '100'}})
        self.assertGreaterEqual(result['retries_seen'], 5)
        self.assertEqual(0, result['write_errors'], result['errors_by_call'])
        self.assertEqual(0, result['lost'], result['lost_examples'])
        self.assertEqual('ok', result['integrity'])
        self.assertGreater(result['ok_writes'], 50)

    def test_stock_surfaces_database_is_locked(self):
        """The load really contends: stock cinder reports locked errors."""
        result = self.stress('stock')
        locked = sum(count for kind, count in result['errors_by_kind'].items()
                     if 'database is locked' in kind)
        self.assertGreater(locked, 0, result['errors_by_kind'])
        self.assertEqual(0, result['retries_seen'])
        self.assertEqual('ok', result['integrity'])


class GlusterDbStressTest(DbStressTest):
    """The same load through two FUSE mounts of one replica-2 volume.

    The two mounts stand in for two hosts sharing /var/lib/cinder on
    GlusterFS, mounted with the cache-coherent options the placement check
    requires.  Every acknowledged write is re-read through the other mount.
    """

    def _volume(self, coherent=True):
        from tests.functional import gluster
        return self.need(gluster.GlusterVolume(coherent=coherent))

    def _paths(self, volume):
        return [os.path.join(mount, 'cinder', 'cinder.sqlite')
                for mount in volume.mounts]

    def test_ksvd_no_errors_no_lost_writes(self):
        volume = self._volume()
        result = self.stress('ksvd', paths=self._paths(volume))
        self.assertEqual({}, result['errors_by_kind'])
        self.assertEqual(0, result['lost'], result['lost_examples'])
        self.assertEqual('ok', result['integrity'])
        self.assertGreater(result['ok_writes'], 20)

    def test_ksvd_retries_keep_every_write(self):
        volume = self._volume()
        result = self.stress('ksvd', {'ksvd_database': {
            'busy_timeout': '100'}}, paths=self._paths(volume))
        self.assertGreaterEqual(result['retries_seen'], 5)
        self.assertEqual(0, result['write_errors'], result['errors_by_call'])
        self.assertEqual(0, result['lost'], result['lost_examples'])
        self.assertEqual('ok', result['integrity'])

    def test_stock_surfaces_database_is_locked(self):
        volume = self._volume()
        result = self.stress('stock', paths=self._paths(volume))
        self.assertGreater(sum(result['errors_by_kind'].values()), 0)
        self.assertEqual(0, result['retries_seen'])

    def test_default_mounts_are_refused(self):
        """ksvd refuses a sqlite file on a GlusterFS mount with defaults."""
        volume = self._volume(coherent=False)
        path = self._paths(volume)[0]
        os.makedirs(os.path.dirname(path))
        conf = services.write_conf(
            os.path.join(self.workdir, 'cinder.conf'),
            {'DEFAULT': {'state_path': self.workdir},
             'database': {'connection': 'sqlite:///%s' % path}})
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', ['--config-file', services.DIST_CONF,
                                   '--config-file', conf, 'db', 'sync'],
            self.workdir)
        self.assertEqual(78, rc, out + err)
        line = err.strip().splitlines()[-1]
        self.assertIn('direct-io-mode=enable', line)
        self.assertIn('allow_unsafe_placement', line)
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', ['--config-file', services.DIST_CONF,
                                   '--config-file', conf, 'db', 'check'],
            self.workdir)
        self.assertEqual(1, rc, out + err)
        self.assertIn('fuse.glusterfs', out)
        self.assertIn('safe:', out)
        self.assertFalse(os.path.exists(path))
