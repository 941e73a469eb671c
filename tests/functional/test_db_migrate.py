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

"""ksvd-cinder-manage db migrate: a sqlite deployment moves to MariaDB.

Real api, scheduler and volume processes write types, volumes, a
snapshot, an attachment and a quota to sqlite; the services stop, the
command copies the database into a new MariaDB database, and services
started on MariaDB show the same through the API and keep working.
"""

import os
import shutil
import sqlite3
import time

from tests.functional import base
from tests.functional import services
from testtools import content

DOWN_TIME = 10


class DbMigrateTest(base.FunctionalTestCase):

    def _start(self, args, suffix):
        api = self.start('ksvd-cinder-api', args, 'api-%s' % suffix)
        self.start('ksvd-cinder-scheduler', args, 'scheduler-%s' % suffix)
        self.start('ksvd-cinder-volume', args, 'volume-%s' % suffix)
        cinder = self.client(self.wait_api(api))
        self.wait_services_up(cinder)
        return cinder

    def _manage(self, args):
        return services.run_command('ksvd-cinder-manage', args,
                                    self.workdir)

    def _snapshot_state(self, cinder):
        """What the API shows; compared before and after the move."""
        vtypes = dict((t.name, (t.id, t.get_keys()))
                      for t in cinder.volume_types.list())
        volumes = dict((v.id, (v.name, v.status, v.size, v.volume_type,
                               v.snapshot_id,
                               sorted(a['attachment_id']
                                      for a in v.attachments)))
                       for v in cinder.volumes.list())
        snaps = dict((s.id, (s.name, s.status, s.volume_id, s.size))
                     for s in cinder.volume_snapshots.list())
        quota = cinder.quotas.get(base.PROJECT, usage=True)
        usage = dict((r, (getattr(quota, r)['limit'],
                          getattr(quota, r)['in_use']))
                     for r in ('volumes', 'snapshots', 'gigabytes'))
        return {'types': vtypes, 'volumes': volumes, 'snapshots': snaps,
                'quota': usage}

    def test_sqlite_to_mariadb(self):
        rabbit = self.need(services.RabbitVhost())
        target = self.need(services.MysqlDatabase())
        db_file = os.path.join(self.workdir, 'cinder.sqlite')
        extra = {'DEFAULT': {'service_down_time': str(DOWN_TIME)}}
        conf = services.service_conf(self.workdir, rabbit.url,
                                     'sqlite:///%s' % db_file, extra)
        sqlite_conf = os.path.join(self.workdir, 'cinder-sqlite.conf')
        shutil.copy(conf, sqlite_conf)
        args = ['--config-file', services.DIST_CONF, '--config-file',
                sqlite_conf]
        rc, out, err = self._manage(args + ['db', 'sync'])
        self.assertEqual(0, rc, err)
        cinder = self._start(args, 'sqlite')

        # Lifecycle data on sqlite.
        vtype = cinder.volume_types.create('gold')
        vtype.set_keys({'volume_backend_name': 'fake', 'ksvd:tier': 'gold'})
        cinder.quotas.update(base.PROJECT, volumes=25, snapshots=7)
        vols = [cinder.volumes.create(1 + i, name='mig-%d' % i,
                                      volume_type=vtype.id)
                for i in range(3)]
        for vol in vols:
            self.wait_status(cinder.volumes, vol.id, 'available')
        snap = cinder.volume_snapshots.create(vols[0].id, name='mig-snap')
        self.wait_status(cinder.volume_snapshots, snap.id, 'available')
        from_snap = cinder.volumes.create(1, snapshot_id=snap.id,
                                          name='mig-from-snap')
        self.wait_status(cinder.volumes, from_snap.id, 'available')
        connector = {'initiator': 'iqn.2026-11.ksvd:migrate',
                     'ip': '127.0.0.1', 'host': 'ksvd-host-1',
                     'platform': 'x86_64', 'os_type': 'linux',
                     'multipath': False}
        att = cinder.attachments.create(vols[1].id, connector, mode='rw')
        cinder.attachments.complete(att['id'])
        self.wait_status(cinder.volumes, vols[1].id, 'in-use')
        cinder.volumes.delete(vols[2].id)  # a soft-deleted row, too
        self.wait_gone(cinder.volumes, vols[2].id)
        before = self._snapshot_state(cinder)
        self.assertEqual(3, len(before['volumes']))
        self.assertEqual((25, 3), before['quota']['volumes'])

        # Services up: the command refuses and says why.
        to = ['db', 'migrate', '--to', target.url]
        rc, out, err = self._manage(args + to)
        self.assertEqual(1, rc, out)
        self.assertIn('service(s) still running', err)
        self.assertEqual(1, len(err.strip().splitlines()), err)

        for proc in reversed(self.processes):
            proc.stop()
        # Wait (bounded) until the last heartbeat is older than
        # service_down_time, as the command demands.
        conn = sqlite3.connect(db_file, timeout=30)
        self.addCleanup(conn.close)
        self.wait_for('heartbeats older than service_down_time', lambda:
                      conn.execute(
                          "SELECT COUNT(*) FROM services WHERE deleted = 0 "
                          "AND updated_at > datetime('now', '-%d seconds')"
                          % (DOWN_TIME + 1)).fetchone()[0] == 0,
                      timeout=DOWN_TIME * 4)
        volumes_rows = conn.execute(
            'SELECT COUNT(*) FROM volumes').fetchone()[0]

        started = time.time()
        rc, out, err = self._manage(args + to)
        self.addDetail('migrate-seconds', content.text_content(
            '%.1f' % (time.time() - started)))
        self.assertEqual(0, rc, 'migrate failed:\n%s\n%s' % (out, err))
        self.assertRegex(out, r'(?m)^volumes +%d rows +checksum [0-9a-f]+ '
                         r' ok$' % volumes_rows)
        for table in ('volume_types', 'volume_type_extra_specs',
                      'snapshots', 'volume_attachment', 'quotas',
                      'quota_usages', 'services'):
            self.assertRegex(out, r'(?m)^%s +\d+ rows .* ok$' % table)
        self.assertIn('ksvd_test:***@', out)
        self.assertNotIn('ksvd_test:ksvd_test@', out + err)

        # Services on MariaDB see everything and keep working.
        services.service_conf(self.workdir, rabbit.url, target.url, extra)
        margs = ['--config-file', services.DIST_CONF, '--config-file',
                 conf]
        cinder = self._start(margs, 'mariadb')
        after = self._snapshot_state(cinder)
        self.assertEqual(before, after)
        cinder.attachments.delete(att['id'])
        self.wait_status(cinder.volumes, vols[1].id, 'available')
        new = cinder.volumes.create(1, name='on-mariadb',
                                    volume_type=vtype.id)
        self.wait_status(cinder.volumes, new.id, 'available')
        self.assertEqual((25, 4), self._snapshot_state(
            cinder)['quota']['volumes'])

        # A second migrate into the now used database refuses.
        for proc in self.processes:
            if proc.name.endswith('mariadb'):
                proc.stop()
        rc, out, err = self._manage(args + to)
        self.assertEqual(1, rc, out)
        self.assertIn('is not empty', err)
        self.assertEqual(1, len(err.strip().splitlines()), err)
