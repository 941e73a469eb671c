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

import os
import sqlite3
from unittest import mock

from oslo_db.sqlalchemy import engines
import sqlalchemy as sa
from sqlalchemy import engine as sa_engine
from sqlalchemy import event
from sqlalchemy import pool as sa_pool
from tests.unit import base

from cinder_ksvd.db import connection
from cinder_ksvd.db import writelock
from cinder_ksvd import opts


class ConnectionTestCase(base.TestCase):

    def setUp(self):
        super(ConnectionTestCase, self).setUp()
        connection.install()
        patcher = mock.patch.dict(connection._settings)
        patcher.start()
        self.addCleanup(patcher.stop)
        connection._settings.update(connection.DEFAULTS)
        self.dir = self.make_tempdir()
        self.statements = []

    def engine(self, oslo=True, name='cinder.sqlite'):
        """An engine on a new sqlite file that records every statement."""
        url = 'sqlite:///%s' % os.path.join(self.dir, name)
        if oslo:
            engine = engines.create_engine(url)
        else:
            engine = sa.create_engine(url)
        self.addCleanup(engine.dispose)

        @event.listens_for(engine, 'connect')
        def trace(dbapi_connection, connection_record):
            dbapi_connection.set_trace_callback(self.statements.append)

        with engine.begin() as conn:
            base.sql(conn, 'CREATE TABLE volumes (id INTEGER PRIMARY '
                           'KEY, status VARCHAR(32))')
        self.statements[:] = []
        return engine

    def pragmas(self, engine):
        with engine.connect() as conn:
            return tuple(base.sql(conn, 'PRAGMA %s' % name).scalar()
                         for name in ('busy_timeout', 'journal_mode',
                                      'synchronous'))

    def insert(self, engine):
        with engine.begin() as conn:
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('creating')")

    def rows(self, name='cinder.sqlite'):
        db = sqlite3.connect(os.path.join(self.dir, name))
        try:
            return db.execute('SELECT status FROM volumes').fetchall()
        finally:
            db.close()

    def begins(self):
        return [s for s in self.statements if s.upper().startswith('BEGIN')]


class PragmaTestCase(ConnectionTestCase):

    def test_defaults(self):
        # synchronous: 2 is FULL.
        self.assertEqual((30000, 'persist', 2), self.pragmas(self.engine()))

    def test_from_settings(self):
        connection._settings.update(busy_timeout=1234,
                                    journal_mode='truncate',
                                    synchronous='extra')
        self.assertEqual((1234, 'truncate', 3), self.pragmas(self.engine()))

    def test_plain_sqlalchemy_engine(self):
        connection._settings.update(busy_timeout=4321, synchronous='normal')
        self.assertEqual((4321, 'persist', 1),
                         self.pragmas(self.engine(oslo=False)))

    def test_switched_off(self):
        connection._settings['enabled'] = False
        busy, journal, _sync = self.pragmas(self.engine())
        # sqlite3's own default (timeout=5.0) and sqlite's journal mode.
        self.assertEqual(5000, busy)
        self.assertEqual('delete', journal)

    def test_non_sqlite_connection_untouched(self):
        dbapi_connection = mock.Mock()
        dbapi_connection.isolation_level = 'DEFERRED'
        connection.on_connect(dbapi_connection, mock.Mock())
        self.assertEqual([], dbapi_connection.mock_calls)
        self.assertEqual('DEFERRED', dbapi_connection.isolation_level)

    def test_isolation_level(self):
        for begin_immediate, expected in ((True, None), (False, '')):
            connection._settings['begin_immediate'] = begin_immediate
            dbapi_connection = sqlite3.connect(':memory:')
            self.addCleanup(dbapi_connection.close)
            connection.on_connect(dbapi_connection, None)
            self.assertEqual(expected, dbapi_connection.isolation_level)


class BeginTestCase(ConnectionTestCase):
    """BEGIN IMMEDIATE once per transaction.

    Transactions are begun explicitly with conn.begin(): SQLAlchemy 1.4's
    (Debian 12) legacy Connection neither autobegins nor has
    commit()/rollback(); conn.begin() is the same "begin" event in 1.4 and
    2.x (where autobegin calls it too).
    """

    def test_begin_immediate_on_oslo_engine(self):
        engine = self.engine()
        self.insert(engine)
        self.assertEqual(['BEGIN IMMEDIATE'], self.begins())
        self.assertEqual('COMMIT', self.statements[-1])
        self.assertEqual([('creating',)], self.rows())

    def test_one_begin_per_transaction(self):
        engine = self.engine()
        self.insert(engine)
        self.insert(engine)
        with engine.connect() as conn:
            transaction = conn.begin()
            base.sql(conn, 'SELECT 1').scalar()
            transaction.rollback()
        self.assertEqual(['BEGIN IMMEDIATE'] * 3, self.begins())

    def test_rollback(self):
        engine = self.engine()
        with engine.connect() as conn:
            transaction = conn.begin()
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('creating')")
            self.assertTrue(conn.info[connection.IN_TRANSACTION])
            transaction.rollback()
            self.assertNotIn(connection.IN_TRANSACTION, conn.info)
        self.assertEqual(['BEGIN IMMEDIATE'], self.begins())
        self.assertEqual([], self.rows())

    def test_commit_clears_marker(self):
        engine = self.engine()
        with engine.connect() as conn:
            transaction = conn.begin()
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('creating')")
            transaction.commit()
            self.assertNotIn(connection.IN_TRANSACTION, conn.info)
            transaction = conn.begin()
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('available')")
            transaction.commit()
        self.assertEqual(['BEGIN IMMEDIATE'] * 2, self.begins())
        self.assertEqual([('creating',), ('available',)], self.rows())

    def test_begin_immediate_on_plain_engine(self):
        engine = self.engine(oslo=False)
        self.insert(engine)
        self.assertEqual(['BEGIN IMMEDIATE'], self.begins())
        self.assertEqual([('creating',)], self.rows())

    def test_deferred_begin(self):
        connection._settings['begin_immediate'] = False
        engine = self.engine()
        self.insert(engine)
        self.assertEqual(['BEGIN'], self.begins())
        self.assertEqual([('creating',)], self.rows())

    def test_switched_off(self):
        connection._settings['enabled'] = False
        engine = self.engine()
        self.insert(engine)
        self.assertEqual(['BEGIN'], self.begins())

    def test_takes_the_write_lock_at_begin(self):
        # BEGIN IMMEDIATE holds the RESERVED lock before the first write:
        # another writer cannot start its own transaction meanwhile.
        engine = self.engine()
        with engine.connect() as conn:
            transaction = conn.begin()
            base.sql(conn, 'SELECT count(*) FROM volumes').scalar()
            other = sqlite3.connect(os.path.join(self.dir, 'cinder.sqlite'),
                                    timeout=0, isolation_level=None)
            self.addCleanup(other.close)
            error = self.assertRaises(sqlite3.OperationalError,
                                      other.execute, 'BEGIN IMMEDIATE')
            self.assertIn('database is locked', str(error))
            transaction.rollback()
        other.execute('BEGIN IMMEDIATE')
        other.execute('ROLLBACK')

    def test_non_sqlite_connection_untouched(self):
        conn = mock.Mock()
        conn.dialect.name = 'mysql'
        conn.info = {}
        connection.on_begin(conn)
        self.assertEqual([], conn.exec_driver_sql.mock_calls)
        self.assertEqual([], conn.execute.mock_calls)
        self.assertEqual({}, conn.info)

    def test_no_second_begin(self):
        conn = mock.Mock()
        conn.dialect.name = 'sqlite'
        conn.info = {connection.IN_TRANSACTION: True}
        connection.on_begin(conn)
        conn.exec_driver_sql.assert_not_called()

    def test_old_sqlalchemy_execute(self):
        conn = mock.Mock(spec=['execute', 'dialect', 'info'])
        conn.dialect.name = 'sqlite'
        conn.info = {}
        connection.on_begin(conn)
        conn.execute.assert_called_once_with('BEGIN IMMEDIATE')
        self.assertEqual({connection.IN_TRANSACTION: True}, conn.info)


class ConfigureTestCase(ConnectionTestCase):

    def test_from_config(self):
        conf = self.new_conf()
        opts.register_opts(conf)
        path = self.write_file(self.dir, 'c.conf',
                               '[ksvd_database]\nbusy_timeout = 250\n'
                               'journal_mode = wal\nsynchronous = normal\n'
                               'begin_immediate = false\n'
                               'reader_engine = true\n')
        conf(['--config-file', path], default_config_files=[],
             default_config_dirs=[])
        expected = {'enabled': True, 'busy_timeout': 250,
                    'journal_mode': 'wal', 'synchronous': 'normal',
                    'begin_immediate': False, 'reader_engine': True}
        self.assertEqual(expected, connection.configure(conf, True))
        self.assertEqual(expected, connection.settings())
        connection.configure(conf, False)
        self.assertIs(False, connection.settings()['enabled'])

    def test_option_defaults_match(self):
        conf = self.new_conf()
        opts.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        self.assertEqual(connection.DEFAULTS,
                         connection.configure(conf, True))

    def test_journal_mode_resolved_by_the_caller(self):
        conf = self.new_conf()
        opts.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        self.assertEqual('auto', conf.ksvd_database.journal_mode)
        self.assertEqual('wal', connection.configure(
            conf, True, 'wal')['journal_mode'])
        # Unresolved "auto" never reaches PRAGMA journal_mode.
        self.assertEqual('persist', connection.configure(
            conf, True)['journal_mode'])
        self.assertEqual('persist', connection.configure(
            conf, True, 'auto')['journal_mode'])

    def test_settings_is_a_copy(self):
        connection.settings()['busy_timeout'] = 1
        self.assertEqual(30000, connection.settings()['busy_timeout'])


class InstallTestCase(base.TestCase):

    def test_class_level_once(self):
        with mock.patch.object(connection, '_installed', []), \
                mock.patch.object(connection.event, 'listen') as listen:
            self.assertTrue(connection.install())
            self.assertFalse(connection.install())
        self.assertEqual(
            [mock.call(sa_pool.Pool, 'connect', connection.on_connect),
             mock.call(sa_engine.Engine, 'begin', connection.on_begin),
             mock.call(sa_engine.Engine, 'commit', connection.on_end),
             mock.call(sa_engine.Engine, 'rollback', connection.on_end),
             mock.call(sa_pool.Pool, 'invalidate', connection.on_invalidate),
             mock.call(sa_pool.Pool, 'checkin', connection.on_checkin),
             mock.call(sa_pool.Pool, 'checkin', writelock.on_pool_event),
             mock.call(sa_pool.Pool, 'reset', writelock.on_pool_event),
             mock.call(sa_pool.Pool, 'close', writelock.on_pool_event)],
            listen.mock_calls)

    def test_installed_listeners(self):
        connection.install()
        self.assertTrue(event.contains(sa_pool.Pool, 'connect',
                                       connection.on_connect))
        self.assertTrue(event.contains(sa_engine.Engine, 'begin',
                                       connection.on_begin))
        self.assertFalse(connection.install())
