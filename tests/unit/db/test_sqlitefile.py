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

"""WAL checkpoints and consistent copies of the sqlite file (issue 23)."""

import logging as std_logging
import os
import shutil
import sqlite3
import time
from unittest import mock

import fixtures
from tests.unit import base

try:
    import eventlet.patcher
except ImportError:  # db-zed: no eventlet, nothing patched
    eventlet = None

from cinder_ksvd.db import sqlitefile


def later(delay, function, *args):
    """Call function(*args) after delay seconds in a real OS thread.

    The unit tests run eventlet-patched: a green thread would never run
    while the test waits inside sqlite's (C) busy handler.
    """
    threading = (eventlet.patcher.original('threading') if eventlet
                 else __import__('threading'))
    timer = threading.Timer(delay, function, args)
    timer.start()
    return timer


def rows_of(path, table='t'):
    """The rows of table in the file path alone (no -wal next to it)."""
    conn = sqlite3.connect(path)
    try:
        return sorted(r[0] for r in conn.execute('SELECT x FROM %s' % table))
    except sqlite3.OperationalError as exc:
        return str(exc)
    finally:
        conn.close()


class WalFileTestCase(base.TestCase):

    def setUp(self):
        super(WalFileTestCase, self).setUp()
        self.dir = self.make_tempdir()
        self.path = os.path.join(self.dir, 'cinder.sqlite')

    def open_db(self, journal='wal'):
        """A connection that keeps rows in the WAL (no auto-checkpoint).

        It stays open, so closing the last connection (which checkpoints)
        does not happen before the test looks.
        """
        conn = sqlite3.connect(self.path, isolation_level=None,
                               check_same_thread=False)
        self.addCleanup(conn.close)
        self.assertEqual(journal, conn.execute(
            'PRAGMA journal_mode = %s' % journal).fetchone()[0])
        conn.execute('PRAGMA wal_autocheckpoint = 0')
        conn.execute('CREATE TABLE t (x INTEGER)')
        conn.execute('BEGIN')
        conn.executemany('INSERT INTO t VALUES (?)',
                         [(i,) for i in range(50)])
        conn.execute('COMMIT')
        return conn

    def old_snapshot_reader(self, conn, row):
        """A reader holding a snapshot from before conn commits row.

        The WAL frames after its snapshot cannot be checkpointed while it
        stays open (check_same_thread off: tests end it from a thread).
        """
        reader = sqlite3.connect(self.path, isolation_level=None,
                                 check_same_thread=False)
        self.addCleanup(reader.close)
        reader.execute('BEGIN')
        reader.execute('SELECT COUNT(*) FROM t').fetchone()
        conn.execute('INSERT INTO t VALUES (%d)' % row)
        return reader

    def copy_alone(self, path=None):
        """cp cinder.sqlite (without its -wal) to a new directory."""
        target = os.path.join(self.make_tempdir(), 'copy.sqlite')
        shutil.copyfile(path or self.path, target)
        return target


class CheckpointTestCase(WalFileTestCase):

    def test_rows_only_in_wal_reach_the_file(self):
        self.open_db()
        self.assertGreater(os.path.getsize(self.path + '-wal'), 0)
        # The bug: the file alone is an empty database.
        self.assertIn('no such table', rows_of(self.copy_alone()))
        busy, log, done = sqlitefile.checkpoint(self.path)
        self.assertEqual((0, 0, 0), (busy, log, done))  # TRUNCATE
        self.assertEqual(0, os.path.getsize(self.path + '-wal'))
        self.assertEqual(list(range(50)), rows_of(self.copy_alone()))

    def test_nothing_to_do(self):
        self.assertIsNone(sqlitefile.checkpoint(self.path))
        self.assertFalse(os.path.exists(self.path))  # never created
        self.open_db('delete')
        self.assertIsNone(sqlitefile.checkpoint(self.path))

    def test_open_reader_makes_it_incomplete(self):
        conn = self.open_db()
        reader = self.old_snapshot_reader(conn, 99)
        exc = self.assertRaises(sqlitefile.CheckpointIncomplete,
                                sqlitefile.checkpoint, self.path, 100)
        self.assertIn('WAL frames of %s checkpointed: other processes '
                      'kept the database busy' % self.path, str(exc))
        reader.execute('COMMIT')
        sqlitefile.checkpoint(self.path, 100)
        self.assertEqual(list(range(50)) + [99],
                         rows_of(self.copy_alone()))


class AtExitTestCase(WalFileTestCase):

    def setUp(self):
        super(AtExitTestCase, self).setUp()
        self.useFixture(fixtures.MockPatchObject(
            sqlitefile, '_exit', {'path': None, 'registered': False}))
        self.register = self.useFixture(fixtures.MockPatch(
            'atexit.register')).mock
        self.log = self.useFixture(fixtures.FakeLogger(
            name='cinder_ksvd.db.sqlitefile', level=std_logging.DEBUG))

    def test_registered_once_and_checkpoints(self):
        sqlitefile.checkpoint_at_exit(self.path)
        sqlitefile.checkpoint_at_exit(self.path)
        self.register.assert_called_once_with(sqlitefile._checkpoint_at_exit)
        self.open_db()
        self.register.call_args[0][0]()
        self.assertEqual(list(range(50)), rows_of(self.copy_alone()))
        self.assertIn('checkpointed at exit', self.log.output)

    def test_cancelled(self):
        sqlitefile.checkpoint_at_exit(self.path)
        sqlitefile.checkpoint_at_exit(None)
        with mock.patch.object(sqlitefile, 'checkpoint') as checkpoint:
            sqlitefile._checkpoint_at_exit()
        checkpoint.assert_not_called()

    def test_never_raises(self):
        sqlitefile.checkpoint_at_exit(self.path)
        with mock.patch.object(sqlitefile, 'checkpoint',
                               side_effect=sqlite3.DatabaseError('boom')):
            sqlitefile._checkpoint_at_exit()
        self.assertIn('WAL checkpoint of %s at exit failed: boom'
                      % self.path, self.log.output)

    def test_other_process_busy_is_no_warning(self):
        sqlitefile.checkpoint_at_exit(self.path)
        conn = self.open_db()
        self.old_snapshot_reader(conn, 99)
        with mock.patch.object(sqlitefile, 'EXIT_BUSY_TIMEOUT_MS', 50):
            sqlitefile._checkpoint_at_exit()
        self.assertIn('WAL checkpoint at exit: ', self.log.output)
        self.assertNotIn('failed', self.log.output)


class BackupTestCase(WalFileTestCase):
    """Both ways: the online backup API and the Python 2.7 fallback."""

    fallback = False

    def setUp(self):
        super(BackupTestCase, self).setUp()
        self.dest = os.path.join(self.make_tempdir(), 'backup.sqlite')
        if self.fallback:
            self.useFixture(fixtures.MockPatchObject(
                sqlitefile, '_online_backup', return_value=None))
        self.method = ('file copy under the write lock' if self.fallback
                       else 'online backup API')

    def backup(self, **kwargs):
        result = sqlitefile.backup(self.path, self.dest, **kwargs)
        self.assertEqual(self.method, result['method'])
        self.assertEqual('ok', result['integrity'])
        self.assertEqual(self.dest, result['path'])
        self.assertEqual(os.path.getsize(self.dest), result['size'])
        self.assertFalse(os.path.exists(self.dest + '.tmp'))
        # One self-contained file.
        self.assertEqual([os.path.basename(self.dest)],
                         os.listdir(os.path.dirname(self.dest)))
        return result

    def test_commits_in_the_wal_are_copied(self):
        self.open_db()
        result = self.backup()
        self.assertEqual(1, result['tables'])
        self.assertEqual(50, result['rows'])
        self.assertEqual(list(range(50)), rows_of(self.copy_alone(
            self.dest)))
        conn = sqlite3.connect(self.dest)
        self.addCleanup(conn.close)
        self.assertEqual('delete', conn.execute(
            'PRAGMA journal_mode').fetchone()[0])

    def test_rollback_journal_source(self):
        self.open_db('persist')
        self.assertEqual(50, self.backup()['rows'])
        self.assertEqual(list(range(50)), rows_of(self.dest))

    def test_while_a_write_transaction_is_open_and_after_commit(self):
        conn = self.open_db()
        conn.execute('BEGIN IMMEDIATE')
        conn.execute('INSERT INTO t VALUES (100)')
        if self.fallback:
            # The fallback needs the write lock: it waits for the writer.
            later(0.3, conn.execute, 'COMMIT')
            started = time.time()
            self.backup()
            self.assertGreater(time.time() - started, 0.2)
            self.assertEqual(list(range(50)) + [100], rows_of(self.dest))
        else:
            self.backup()
            self.assertEqual(list(range(50)), rows_of(self.dest))
            conn.execute('COMMIT')
        conn.execute('INSERT INTO t VALUES (101)')
        self.backup(force=True)
        self.assertEqual(list(range(50)) + [100, 101], rows_of(self.dest))

    def test_refuses_an_existing_dest(self):
        self.open_db()
        self.write_file(os.path.dirname(self.dest), 'backup.sqlite', 'old')
        exc = self.assertRaises(sqlitefile.BackupError, sqlitefile.backup,
                                self.path, self.dest)
        self.assertEqual('%s already exists (--force replaces it)'
                         % self.dest, str(exc))
        with open(self.dest) as handle:
            self.assertEqual('old', handle.read())

    def test_force_replaces_and_drops_the_old_side_files(self):
        self.open_db()
        directory = os.path.dirname(self.dest)
        for name in ('backup.sqlite', 'backup.sqlite-wal',
                     'backup.sqlite-shm', 'backup.sqlite.tmp'):
            self.write_file(directory, name, 'old')
        self.assertEqual(50, self.backup(force=True)['rows'])

    def test_owner_and_mode_of_the_file(self):
        self.open_db()
        os.chmod(self.path, 0o640)
        info = os.stat(self.path)
        with mock.patch('os.chown') as chown:
            self.backup()
        chown.assert_called_once_with(self.dest + '.tmp', info.st_uid,
                                      info.st_gid)
        self.assertEqual(0o640, os.stat(self.dest).st_mode & 0o777)
        with mock.patch('os.chown', side_effect=OSError(1, 'EPERM')):
            self.backup(force=True)  # not root: the caller's file

    def test_refusals(self):
        exc = self.assertRaises(sqlitefile.BackupError, sqlitefile.backup,
                                self.path, self.dest)
        self.assertEqual('no database file at %s' % self.path, str(exc))
        self.open_db()
        exc = self.assertRaises(sqlitefile.BackupError, sqlitefile.backup,
                                self.path, self.path, force=True)
        self.assertEqual('%s is the database itself' % self.path, str(exc))
        exc = self.assertRaises(sqlitefile.BackupError, sqlitefile.backup,
                                self.path, '/nonexistent/dir/x.sqlite')
        self.assertEqual('no directory /nonexistent/dir', str(exc))

    def test_corrupt_source_leaves_nothing(self):
        with open(self.path, 'wb') as handle:
            handle.write(b'this is not a sqlite file' * 200)
        exc = self.assertRaises(sqlitefile.BackupError, sqlitefile.backup,
                                self.path, self.dest)
        self.assertIn('copying %s: ' % self.path, str(exc))
        self.assertEqual(1, len(str(exc).splitlines()))
        self.assertEqual([], os.listdir(os.path.dirname(self.dest)))


class FallbackBackupTestCase(BackupTestCase):
    """Python 2.7: no sqlite3.Connection.backup (forced here)."""

    fallback = True

    def test_backup_api_really_missing(self):
        # The way the attribute is looked up, with a py2-like connection.
        self.assertIsNone(sqlitefile._online_backup(object()))

    def test_reader_on_an_old_snapshot_is_waited_for(self):
        conn = self.open_db()
        reader = self.old_snapshot_reader(conn, 100)
        later(0.3, reader.execute, 'COMMIT')
        self.backup()
        self.assertEqual(list(range(50)) + [100], rows_of(self.dest))

    def test_reader_that_never_ends(self):
        conn = self.open_db()
        self.old_snapshot_reader(conn, 100)
        exc = self.assertRaises(sqlitefile.BackupError, sqlitefile.backup,
                                self.path, self.dest, busy_timeout_ms=200)
        self.assertIn('readers kept', str(exc))
        self.assertEqual([], os.listdir(os.path.dirname(self.dest)))
