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

"""Base class of the functional tests: real processes, bounded waits."""

import os
import shutil
import time

import fixtures
from tests.functional import services
import testtools
from testtools import content

LOG_DIR = os.environ.get('KSVD_TEST_LOG_DIR',
                         os.path.join(services.REPO, '.functional-logs'))
API_VERSION = '3.70'
PROJECT = 'ksvd-functional'
# How to get a missing service, in every skip message.
SETUP_HINT = ('as root, tools/setup-test-machine installs and starts the '
              'services and packages the tests need; CI=true makes this '
              'skip a failure')


class FunctionalTestCase(testtools.TestCase):
    """Starts real services; keeps their logs when a test fails."""

    def setUp(self):
        super(FunctionalTestCase, self).setUp()
        timeout = int(os.environ.get('OS_TEST_TIMEOUT', '600'))
        self.useFixture(fixtures.Timeout(timeout, gentle=True))
        self.workdir = self.useFixture(fixtures.TempDir()).path
        self.processes = []
        self.addOnException(self._keep_logs)

    def need(self, fixture):
        """Use fixture; a missing service fails under CI=true, else skips."""
        try:
            return self.useFixture(fixture)
        except services.Unavailable as exc:
            if services.in_ci():
                self.fail('CI=true and a required service is missing: %s'
                          % exc)
            self.skipTest('%s (%s)' % (exc, SETUP_HINT))
        except fixtures.MultipleExceptions as exc:
            for info in exc.args:
                if isinstance(info[1], services.Unavailable):
                    if services.in_ci():
                        self.fail('CI=true and a required service is '
                                  'missing: %s' % info[1])
                    self.skipTest('%s (%s)' % (info[1], SETUP_HINT))
            raise

    def start(self, binary, args, name=None):
        proc = services.Process(binary, args, self.workdir, name)
        self.processes.append(proc)
        return self.useFixture(proc)

    def _keep_logs(self, exc_info):
        target = os.path.join(LOG_DIR, self.id())
        for proc in self.processes:
            try:
                text = proc.output()
            except OSError:
                continue
            self.addDetail('%s-log-tail' % proc.name,
                           content.text_content(text[-20000:]))
        try:
            if os.path.isdir(target):
                shutil.rmtree(target)
            shutil.copytree(self.workdir, target,
                            ignore=shutil.ignore_patterns('*.sqlite*'))
            self.addDetail('kept-logs', content.text_content(target))
        except (OSError, shutil.Error):
            pass

    # -- client side -----------------------------------------------------

    def token(self, project=PROJECT, user='functional', roles=('admin',),
              expires=None):
        """A ksvd API token in the test's token file (made once per kind).

        Written through cinder_ksvd.api.tokens, as ksvd-cinder-manage token
        create does; the running API re-reads the file.
        """
        from cinder_ksvd.api import tokens
        key = (project, user, tuple(roles), expires)
        cache = self.__dict__.setdefault('_tokens', {})
        if key not in cache:
            cache[key] = tokens.create(services.token_file(self.workdir),
                                       user, project, list(roles),
                                       expires=expires)[1]
        return cache[key]

    def client(self, endpoint, project=PROJECT, user='functional',
               roles=('admin',), token=None):
        """python-cinderclient v3 through the ksvd-token auth plugin."""
        from cinderclient import client as cinder_client
        from keystoneauth1 import loading
        from keystoneauth1 import session
        token = token or self.token(project, user, roles)
        auth = loading.get_plugin_loader('ksvd-token').load_from_options(
            endpoint=endpoint, token=token, project_id=project)
        sess = session.Session(auth=auth)
        return cinder_client.Client(API_VERSION, session=sess)

    def wait_for(self, what, probe, timeout=90, interval=0.25):
        """Poll probe() until it returns a true value; bounded."""
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(interval)
        self.fail('timed out after %ss waiting for %s (last: %r)'
                  % (timeout, what, last))

    def wait_status(self, manager, resource_id, status, timeout=90):
        def probe():
            obj = manager.get(resource_id)
            if obj.status != status and obj.status in (
                    'error', 'error_deleting', 'error_extending'):
                self.fail('%s %s went to %s' % (manager.resource_class
                                                .__name__, resource_id,
                                                obj.status))
            return obj if obj.status == status else None
        return self.wait_for('%s -> %s' % (resource_id, status), probe,
                             timeout)

    def wait_gone(self, manager, resource_id, timeout=90):
        from cinderclient import exceptions

        def probe():
            try:
                obj = manager.get(resource_id)
            except exceptions.NotFound:
                return True
            if obj.status.startswith('error'):
                self.fail('%s went to %s while deleting'
                          % (resource_id, obj.status))
            return False
        self.wait_for('%s deleted' % resource_id, probe, timeout)

    def wait_services_up(self, cinder, binaries=('cinder-scheduler',
                                                 'cinder-volume')):
        def probe():
            try:
                services = cinder.services.list()
            except Exception:  # API not answering yet
                return False
            up = set(s.binary for s in services if s.state == 'up')
            return set(binaries) <= up
        self.wait_for('services %s up' % ', '.join(binaries), probe, 120)
        # The scheduler places volumes only once it has the backend's
        # capabilities (the volume service publishes them after start).
        self.wait_for('scheduler knows a pool',
                      lambda: cinder.pools.list(detailed=False), 120)

    def wait_api(self, proc):
        """Port the API bound (listen port 0), read from its log."""
        match = proc.wait_for_log(
            r'wsgi starting up on http://127\.0\.0\.1:(\d+)', timeout=120)
        return 'http://127.0.0.1:%s/v3' % match.group(1)

    # -- the lifecycle every deployment must pass --------------------------

    def run_lifecycle(self, cinder, backend='fake', backend_name='fake'):
        """Types, volumes, extend, snapshots, clone, attachments, delete.

        :param backend: the backend section, seen in the volume's host.
        :param backend_name: the volume_backend_name its driver reports.
        """
        vtype = cinder.volume_types.create('ksvd-%s' % backend)
        vtype.set_keys({'volume_backend_name': backend_name})
        self.assertEqual({'volume_backend_name': backend_name},
                         cinder.volume_types.get(vtype.id).get_keys())

        vol = cinder.volumes.create(1, name='life-1', volume_type=vtype.id)
        vol = self.wait_status(cinder.volumes, vol.id, 'available')
        shown = cinder.volumes.get(vol.id)
        self.assertEqual('life-1', shown.name)
        self.assertEqual(1, shown.size)
        self.assertEqual(vtype.name, shown.volume_type)
        self.assertIn('@%s' % backend,
                      getattr(shown, 'os-vol-host-attr:host'))

        cinder.volumes.extend(vol, 2)
        self.wait_for('extend to 2 GiB',
                      lambda: cinder.volumes.get(vol.id).size == 2 and
                      cinder.volumes.get(vol.id).status == 'available')

        snap = cinder.volume_snapshots.create(vol.id, name='life-snap')
        self.wait_status(cinder.volume_snapshots, snap.id, 'available')
        self.assertEqual(2, cinder.volume_snapshots.get(snap.id).size)

        from_snap = cinder.volumes.create(2, snapshot_id=snap.id,
                                          name='from-snap')
        from_snap = self.wait_status(cinder.volumes, from_snap.id,
                                     'available')
        self.assertEqual(snap.id, from_snap.snapshot_id)

        clone = cinder.volumes.create(2, source_volid=vol.id, name='clone')
        clone = self.wait_status(cinder.volumes, clone.id, 'available')
        self.assertEqual(vol.id, clone.source_volid)

        connector = {'initiator': 'iqn.2026-11.ksvd:functional',
                     'ip': '127.0.0.1', 'host': 'ksvd-host-1',
                     'platform': 'x86_64', 'os_type': 'linux',
                     'multipath': False}
        att = cinder.attachments.create(vol.id, connector, mode='rw')
        self.assertEqual(vol.id, att['volume_id'])
        self.assertTrue(att['connection_info'])
        cinder.attachments.complete(att['id'])
        in_use = self.wait_status(cinder.volumes, vol.id, 'in-use')
        self.assertEqual([att['id']],
                         [a['attachment_id'] for a in in_use.attachments])
        cinder.attachments.delete(att['id'])
        self.wait_status(cinder.volumes, vol.id, 'available')

        cinder.volumes.delete(from_snap.id)
        self.wait_gone(cinder.volumes, from_snap.id)
        cinder.volume_snapshots.delete(snap.id)
        self.wait_gone(cinder.volume_snapshots, snap.id)
        for victim in (clone, vol):
            cinder.volumes.delete(victim.id)
        for victim in (clone, vol):
            self.wait_gone(cinder.volumes, victim.id)
        self.assertEqual([], cinder.volumes.list())
