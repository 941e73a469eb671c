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

"""Copying the sqlite file: db sync, db backup, clean shutdown (issue 23).

In WAL mode (the default on local disk) the latest commits live in
cinder.sqlite-wal: a copy of cinder.sqlite alone, right after db sync,
used to be an empty database.
"""

import os
import shutil
import sqlite3

from tests.functional import base
from tests.functional import services


def tables_of_file_alone(path, workdir):
    """Table names of a copy of path without its -wal (cp cinder.sqlite)."""
    copy_dir = os.path.join(workdir, 'copy-%d' % len(os.listdir(workdir)))
    os.mkdir(copy_dir)
    copy = os.path.join(copy_dir, 'cinder.sqlite')
    shutil.copyfile(path, copy)
    conn = sqlite3.connect(copy)
    try:
        return conn, set(r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"))
    except BaseException:
        conn.close()
        raise


class DbBackupTest(base.FunctionalTestCase):

    def _manage(self, args):
        return services.run_command('ksvd-cinder-manage', args,
                                    self.workdir)

    def _type_names(self, conn):
        return sorted(r[0] for r in conn.execute(
            'SELECT name FROM volume_types WHERE deleted = 0'))

    def test_sync_backup_and_shutdown_leave_a_complete_file(self):
        rabbit = self.need(services.RabbitVhost())
        db_file = os.path.join(self.workdir, 'cinder.sqlite')
        conf = services.service_conf(self.workdir, rabbit.url,
                                     'sqlite:///%s' % db_file)
        args = ['--config-file', services.DIST_CONF, '--config-file', conf]
        rc, out, err = self._manage(args + ['db', 'sync'])
        self.assertEqual(0, rc, err)
        conn = sqlite3.connect(db_file)
        self.addCleanup(conn.close)
        self.assertEqual('wal', conn.execute(
            'PRAGMA journal_mode').fetchone()[0])
        conn.close()
        wal = db_file + '-wal'
        self.assertEqual(0, os.path.getsize(wal) if os.path.exists(wal)
                         else 0)
        # The schema is in cinder.sqlite itself.
        copy, tables = tables_of_file_alone(db_file, self.workdir)
        self.addCleanup(copy.close)
        self.assertIn('volumes', tables)
        self.assertTrue(tables & set(['alembic_version', 'migrate_version']),
                        tables)

        # db backup while the API runs and has written.
        api = self.start('ksvd-cinder-api', args, 'api')
        cinder = self.client(self.wait_api(api))
        cinder.volume_types.create('backed-up')
        dest = os.path.join(self.workdir, 'backup', 'cinder.sqlite')
        os.mkdir(os.path.dirname(dest))
        rc, out, err = self._manage(args + ['db', 'backup', dest])
        self.assertEqual(0, rc, err)
        self.assertRegex(out, r'^backup of %s: %s, \d+ bytes, \d+ tables, '
                         r'\d+ rows, quick_check ok\n$' % (db_file, dest))
        backup = sqlite3.connect(dest)
        self.addCleanup(backup.close)
        self.assertIn('backed-up', self._type_names(backup))
        self.assertEqual(['cinder.sqlite'],
                         os.listdir(os.path.dirname(dest)))
        rc, out, err = self._manage(args + ['db', 'backup', dest])
        self.assertEqual(1, rc, out)
        self.assertEqual('ksvd-cinder-manage: error: db backup: %s already '
                         'exists (--force replaces it)' % dest, err.strip())

        # A clean stop (SIGTERM) checkpoints: the file alone holds the
        # API's last write.
        cinder.volume_types.create('after-backup')
        self.assertEqual(0, api.stop())
        self.assertNotIn('WAL checkpoint of', api.output())
        copy, tables = tables_of_file_alone(db_file, self.workdir)
        self.addCleanup(copy.close)
        self.assertIn('after-backup', self._type_names(copy))
