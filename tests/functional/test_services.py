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

"""Separate ksvd-cinder-api, -scheduler and -volume processes.

Real RabbitMQ (own vhost), sqlite or MariaDB (own database), schema made by
ksvd-cinder-manage db sync, driven over HTTP by python-cinderclient.
"""

import os

from tests.functional import base
from tests.functional import services


class SeparateServicesTest(base.FunctionalTestCase):

    def _deploy(self, db_url, extra=None):
        rabbit = self.need(services.RabbitVhost())
        conf = services.service_conf(self.workdir, rabbit.url, db_url, extra)
        args = ['--config-file', services.DIST_CONF, '--config-file', conf]
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', args + ['db', 'sync'], self.workdir)
        self.assertEqual(0, rc, 'db sync failed:\n%s\n%s' % (out, err))
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', args + ['db', 'version'], self.workdir)
        self.assertEqual(0, rc, err)
        # Log lines may precede it on stdout; the revision is the last line.
        self.assertRegex(out.strip().splitlines()[-1], r'^[0-9a-f]{12}$')
        api = self.start('ksvd-cinder-api', args, 'api')
        self.start('ksvd-cinder-scheduler', args, 'scheduler')
        volume = self.start('ksvd-cinder-volume', args, 'volume')
        self.endpoint = self.wait_api(api)
        cinder = self.client(self.endpoint)
        self.wait_services_up(cinder)
        # The wrappers installed the hooks and logged the active list.
        volume.wait_for_log(r'ksvd-cinder hooks active: config_defaults')
        if os.environ.get('KSVD_TEST_PATCHED_CINDER') == '1':
            # tools/patches runs this on a cinder built from patches/: the
            # hooks found the patched features and stepped aside.
            volume.wait_for_log(r'runtime image hook steps aside; '
                                r'image_service_class = '
                                r'cinder_ksvd\.image\.service\.ImageService')
            volume.wait_for_log(r'runtime retry wrappers step aside')
        return cinder

    def test_lifecycle_sqlite(self):
        url = 'sqlite:///%s/cinder.sqlite' % self.workdir
        cinder = self._deploy(url)
        self.run_lifecycle(cinder)

    def test_lifecycle_mariadb(self):
        db = self.need(services.MysqlDatabase())
        cinder = self._deploy(db.url)
        self.run_lifecycle(cinder)
        # The services really wrote to MariaDB, not to a default sqlite.
        import pymysql
        from sqlalchemy.engine import url as sa_url
        parsed = sa_url.make_url(db.url)
        conn = pymysql.connect(host=parsed.host, port=parsed.port or 3306,
                               user=parsed.username,
                               password=parsed.password or '',
                               database=parsed.database)
        self.addCleanup(conn.close)
        with conn.cursor() as cur:
            cur.execute('SELECT COUNT(*) FROM volumes WHERE deleted = 1')
            self.assertEqual(3, cur.fetchone()[0])
            cur.execute("SELECT COUNT(*) FROM services WHERE `binary` IN "
                        "('cinder-scheduler', 'cinder-volume')")
            self.assertEqual(2, cur.fetchone()[0])

    def test_concurrent_creates_sqlite(self):
        """100 creates from 10 clients on sqlite: none fails, quota clean.

        Stock cinder 29 fails about a quarter of these with HTTP 500
        ("database is locked" in quota reserve/commit) and leaks
        reservations (shared/reference/stock-baseline.md).
        """
        import concurrent.futures
        import sqlite3

        db_file = '%s/cinder.sqlite' % self.workdir
        cinder = self._deploy('sqlite:///%s' % db_file,
                              {'DEFAULT': {'osapi_volume_workers': '2'}})
        errors = []

        def create(index):
            client = self.client(self.endpoint)
            try:
                vol = client.volumes.create(1, name='c-%03d' % index)
            except Exception as exc:
                errors.append('create %d: %r' % (index, exc))
                return None
            return vol.id

        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            ids = [i for i in pool.map(create, range(100)) if i]
        self.assertEqual([], errors)
        self.assertEqual(100, len(ids))
        for vol_id in ids:
            self.wait_status(cinder.volumes, vol_id, 'available', 180)

        def delete(vol_id):
            client = self.client(self.endpoint)
            try:
                client.volumes.delete(vol_id)
            except Exception as exc:
                errors.append('delete %s: %r' % (vol_id, exc))

        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            list(pool.map(delete, ids))
        self.assertEqual([], errors)
        for vol_id in ids:
            self.wait_gone(cinder.volumes, vol_id, 180)
        # The API answers 404 as soon as the volume row is destroyed, but
        # cinder-volume commits the delete's quota reservation after that
        # and logs "Deleted volume successfully." last: wait for all 100
        # before reading the usage (reading earlier saw in_use 4 in CI).
        volume = [p for p in self.processes if p.name == 'volume'][0]
        self.wait_for(
            'cinder-volume to finish 100 deletes',
            lambda: volume.output().count('Deleted volume successfully.')
            >= 100 or None, 180)

        usage = cinder.quotas.get(base.PROJECT, usage=True)
        for resource in ('volumes', 'gigabytes'):
            self.assertEqual({'in_use': 0, 'reserved': 0},
                             {k: getattr(usage, resource)[k]
                              for k in ('in_use', 'reserved')}, resource)
        conn = sqlite3.connect(db_file, timeout=30)
        self.addCleanup(conn.close)
        leaked = conn.execute('SELECT COUNT(*) FROM reservations '
                              'WHERE deleted = 0').fetchone()[0]
        self.assertEqual(0, leaked)
        wrong = conn.execute('SELECT resource, in_use, reserved FROM '
                             'quota_usages WHERE deleted = 0 AND '
                             '(in_use != 0 OR reserved != 0)').fetchall()
        self.assertEqual([], wrong)
        # This ran with the shipped sqlite settings, the pool included.
        for process in self.processes:
            if process.name in ('api', 'scheduler', 'volume'):
                self.assertIn('connection pool up to 5 idle connections',
                              process.output(), process.name)
