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

"""ksvd-cinder-manage db sync's WAL checkpoint and db backup (issue 23)."""

import os
import shutil
import sqlite3
import sys
from unittest import mock

import fixtures
from oslo_config import cfg
from tests.unit import base

from cinder_ksvd.cmd import common
from cinder_ksvd.cmd import manage
from cinder_ksvd.cmd import preflight
from cinder_ksvd.db import sqlitefile
from cinder_ksvd import opts
from cinder_ksvd import paths


class DbFileTestCase(base.TestCase):

    def setUp(self):
        super(DbFileTestCase, self).setUp()
        self.dir = os.path.realpath(self.make_tempdir())
        self.path = os.path.join(self.dir, 'cinder.sqlite')
        self.stdout = self.useFixture(fixtures.MockPatch(
            'sys.stdout', new_callable=base.StringIO)).mock
        self.stderr = self.useFixture(fixtures.MockPatch(
            'sys.stderr', new_callable=base.StringIO)).mock

    def config(self, text=None):
        if text is None:
            text = '[database]\nconnection = sqlite:///%s\n' % self.path
        return self.write_file(self.dir, 'cinder.conf', text)

    def write_in_wal(self):
        """Commit a table and rows that stay in cinder.sqlite-wal.

        Like db sync's engine: the connection stays open, so sqlite's own
        checkpoint when the last connection closes does not happen.
        """
        conn = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(conn.close)
        conn.execute('PRAGMA journal_mode = wal')
        conn.execute('PRAGMA wal_autocheckpoint = 0')
        conn.execute('CREATE TABLE volumes (id INTEGER PRIMARY KEY)')
        conn.execute('INSERT INTO volumes VALUES (1), (2), (3)')
        return conn

    def file_alone(self, path=None):
        """The table names of a copy of the file without its -wal."""
        copy = os.path.join(self.make_tempdir(), 'copy.sqlite')
        shutil.copyfile(path or self.path, copy)
        conn = sqlite3.connect(copy)
        try:
            return [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
        finally:
            conn.close()

    def main(self, *args):
        with mock.patch.object(sys, 'argv', ['ksvd-cinder-manage'] +
                               list(args)):
            exc = self.assertRaises(SystemExit, manage.main)
        return exc.code


class DbSyncCheckpointTestCase(DbFileTestCase):

    def setUp(self):
        super(DbSyncCheckpointTestCase, self).setUp()
        # What stock cinder-manage leaves behind: the global config parsed.
        conf = self.new_conf()
        opts.register_opts(conf)
        conf.register_opt(cfg.StrOpt('connection'), group='database')
        conf(['--config-file', self.config()], default_config_files=[],
             default_config_dirs=[])
        self.useFixture(fixtures.MockPatchObject(cfg, 'CONF', conf))
        self.run = self.useFixture(fixtures.MockPatchObject(
            common, 'run', return_value=0)).mock

    def test_schema_in_the_file_after_db_sync(self):
        self.run.side_effect = lambda *a, **k: self.write_in_wal() and 0
        self.assertEqual(0, self.main('--config-file', self.config(), 'db',
                                      'sync'))
        self.run.assert_called_once_with(
            'manage', ['--config-file', self.config(), 'db', 'sync'],
            check='manage')
        # cp cinder.sqlite alone now gives the schema, not an empty file.
        self.assertEqual(['volumes'], self.file_alone())
        self.assertEqual(0, os.path.getsize(self.path + '-wal'))
        self.assertEqual('', self.stdout.getvalue() + self.stderr.getvalue())

    def test_failed_sync_is_not_checkpointed(self):
        self.run.return_value = 2
        with mock.patch.object(sqlitefile, 'checkpoint') as checkpoint:
            self.assertEqual(2, self.main('db', 'sync'))
        checkpoint.assert_not_called()

    def test_checkpoint_error_is_one_line(self):
        self.write_in_wal()
        with mock.patch.object(
                sqlitefile, 'checkpoint',
                side_effect=sqlite3.OperationalError('disk I/O error')):
            self.assertEqual(1, self.main('db', 'sync'))
        self.assertEqual(
            'ksvd-cinder-manage: error: db sync: the schema is written, but '
            'the WAL checkpoint of %s failed (disk I/O error); copy the file '
            'only with db backup\n' % self.path, self.stderr.getvalue())

    def test_busy_is_an_error(self):
        self.write_in_wal()
        with mock.patch.object(
                sqlitefile, 'checkpoint',
                side_effect=sqlitefile.CheckpointIncomplete('3 of 9 ...')):
            self.assertEqual(1, self.main('db', 'sync'))
        self.assertIn('failed (3 of 9 ...)', self.stderr.getvalue())

    def test_not_sqlite(self):
        cfg.CONF.set_override('connection', 'mysql+pymysql://c:p@db/cinder',
                              group='database')
        with mock.patch.object(sqlitefile, 'checkpoint') as checkpoint:
            self.assertEqual(0, self.main('db', 'sync'))
        checkpoint.assert_not_called()


class DbBackupTestCase(DbFileTestCase):

    def setUp(self):
        super(DbBackupTestCase, self).setUp()
        self.dest = os.path.join(self.dir, 'backup.sqlite')

    def backup(self, *extra, **kwargs):
        config = kwargs.get('config') or self.config()
        return manage.db_backup(['db', 'backup', self.dest, '--config-file',
                                 config] + list(extra))

    def test_backup_of_a_live_wal_database(self):
        self.write_in_wal()
        self.assertEqual(0, self.backup())
        self.assertEqual(
            'backup of %s: %s, %d bytes, 1 tables, 3 rows, quick_check ok\n'
            % (self.path, self.dest, os.path.getsize(self.dest)),
            self.stdout.getvalue())
        self.assertEqual(['volumes'], self.file_alone(self.dest))
        self.assertEqual('', self.stderr.getvalue())

    def test_existing_dest_refused_unless_force(self):
        self.write_in_wal()
        self.write_file(self.dir, 'backup.sqlite', 'keep me')
        self.assertEqual(1, self.backup())
        self.assertEqual('ksvd-cinder-manage: error: db backup: %s already '
                         'exists (--force replaces it)\n' % self.dest,
                         self.stderr.getvalue())
        self.assertEqual('', self.stdout.getvalue())
        self.assertEqual(0, self.backup('--force'))
        self.assertEqual(['volumes'], self.file_alone(self.dest))

    def test_not_sqlite(self):
        config = self.config('[database]\nconnection = '
                             'mysql+pymysql://cinder:secret@db/cinder\n')
        self.assertEqual(1, self.backup(config=config))
        self.assertEqual('ksvd-cinder-manage: error: db backup: [database] '
                         'connection is not a sqlite file; back a server '
                         'database up with its own tools\n',
                         self.stderr.getvalue())

    def test_bad_config(self):
        missing = os.path.join(self.dir, 'missing.conf')
        self.assertEqual(preflight.EX_CONFIG, self.backup(config=missing))
        self.assertIn('config file %s does not exist' % missing,
                      self.stderr.getvalue())
        self.assertEqual(1, len(self.stderr.getvalue().splitlines()))
        self.stderr.truncate(0)
        self.stderr.seek(0)
        config = self.config('[DEFAULT]\ndebug = true\n')
        self.assertEqual(preflight.EX_CONFIG, self.backup(config=config))
        self.assertEqual('ksvd-cinder-manage: error: [database] connection '
                         'is not set\n', self.stderr.getvalue())

    def test_no_configuration(self):
        with mock.patch.object(paths, 'default_config_args',
                               return_value=[]):
            self.assertEqual(preflight.EX_CONFIG,
                             manage.db_backup(['db', 'backup', self.dest]))
        self.assertIn('no configuration found', self.stderr.getvalue())

    def test_missing_database_file(self):
        self.assertEqual(1, self.backup())
        self.assertEqual('ksvd-cinder-manage: error: db backup: no database '
                         'file at %s\n' % self.path, self.stderr.getvalue())

    def test_dispatched_from_main(self):
        run = self.useFixture(fixtures.MockPatchObject(common, 'run')).mock
        with mock.patch.object(manage, 'db_backup',
                               return_value=0) as db_backup:
            self.assertEqual(0, self.main('--config-file', 'db', 'db',
                                          'backup', '/x.sqlite'))
        db_backup.assert_called_once_with(['--config-file', 'db', 'db',
                                           'backup', '/x.sqlite'])
        run.assert_not_called()

    def test_options_before_and_after(self):
        self.write_in_wal()
        self.assertEqual(0, manage.db_backup(
            ['--config-file', self.config(), 'db', 'backup', '--force',
             self.dest]))
        self.assertTrue(os.path.isfile(self.dest))
