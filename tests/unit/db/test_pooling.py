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

import importlib.metadata
import inspect
import os
import shutil
import sqlite3
import threading
from unittest import mock

from oslo_db.sqlalchemy import engines
from sqlalchemy import event
from sqlalchemy import pool as sa_pool
from tests.unit import base

from cinder_ksvd.db import connection
from cinder_ksvd.db import placement
from cinder_ksvd.db import pooling

OSLO_DB_VERSION = importlib.metadata.version('oslo.db')


class PoolingTestCase(base.TestCase):
    """Engines built by oslo.db's create_engine on real sqlite files."""

    def setUp(self):
        super(PoolingTestCase, self).setUp()
        connection.install()
        pooling.install()
        patcher = mock.patch.dict(connection._settings)
        patcher.start()
        self.addCleanup(patcher.stop)
        connection._settings.update(connection.DEFAULTS)
        self.addCleanup(pooling.configure, pooling.enabled_paths())
        self.dir = self.make_tempdir()
        self.path = os.path.join(self.dir, 'cinder.sqlite')
        self.connects = []

    def engine(self, path=None, pooled=True, **kwargs):
        path = path or self.path
        pooling.configure([path] if pooled else [])
        engine = engines.create_engine('sqlite:///%s' % path, **kwargs)
        self.addCleanup(engine.dispose)

        # oslo.db's create_engine connected once already (its test
        # connection): count the sqlite connections transactions use.
        @event.listens_for(engine, 'checkout')
        def count(dbapi_connection, connection_record, proxy):
            if not any(c is dbapi_connection for c in self.connects):
                self.connects.append(dbapi_connection)
        return engine

    def create_table(self, engine, status='creating'):
        with engine.begin() as conn:
            base.sql(conn, 'CREATE TABLE IF NOT EXISTS volumes '
                           '(id INTEGER PRIMARY KEY, status TEXT)')
            base.sql(conn, "INSERT INTO volumes (status) VALUES ('%s')"
                           % status)

    def statuses(self, engine):
        with engine.connect() as conn:
            return [row[0] for row in base.sql(
                conn,
                'SELECT status FROM volumes ORDER BY id')]


class PoolChoiceTestCase(PoolingTestCase):

    def test_named_file_is_pooled(self):
        engine = self.engine()
        self.assertIsInstance(engine.pool, pooling.SqliteFilePool)
        self.create_table(engine)
        for _ in range(5):
            self.assertEqual(['creating'], self.statuses(engine))
        # One connection served the six transactions.
        self.assertEqual(1, len(self.connects))

    def test_stock_oslo_db_opens_one_per_transaction(self):
        engine = self.engine(pooled=False)
        self.assertIsInstance(engine.pool, sa_pool.NullPool)
        self.create_table(engine)
        for _ in range(5):
            self.statuses(engine)
        self.assertEqual(6, len(self.connects))

    def test_other_file_left_to_oslo_db(self):
        pooling.configure([os.path.join(self.dir, 'other.sqlite')])
        engine = engines.create_engine('sqlite:///%s' % self.path)
        self.addCleanup(engine.dispose)
        self.assertIsInstance(engine.pool, sa_pool.NullPool)

    def test_memory_database_untouched(self):
        pooling.configure([os.path.abspath(':memory:')])
        engine = engines.create_engine('sqlite://')
        self.addCleanup(engine.dispose)
        self.assertNotIsInstance(engine.pool, pooling.SqliteFilePool)
        self.assertNotIsInstance(engine.pool, sa_pool.NullPool)

    def test_pool_size_is_max_pool_size(self):
        engine = self.engine(max_pool_size=2)
        self.create_table(engine)
        # 2 over the size at once: no waiting.
        conns = [engine.raw_connection() for _ in range(4)]
        for conn in conns:
            conn.close()
        self.assertEqual(2, engine.pool.checkedin())
        self.assertEqual(4, len(self.connects))

    def test_default_size(self):
        engine = self.engine()
        self.assertEqual(pooling.DEFAULT_SIZE, engine.pool.size())

    def test_used_from_another_thread(self):
        engine = self.engine()
        self.create_table(engine)
        results = []

        def read():
            try:
                results.append(self.statuses(engine))
            except Exception as exc:  # noqa: the assertion shows it
                results.append(exc)
        thread = threading.Thread(target=read)
        thread.start()
        thread.join()
        self.assertEqual([['creating']], results)
        self.assertEqual(1, len(self.connects))


class TransactionsTestCase(PoolingTestCase):

    def test_every_transaction_begins_immediate(self):
        engine = self.engine()
        self.create_table(engine)
        statements = []
        self.connects[0].set_trace_callback(statements.append)
        for _ in range(3):
            with engine.begin() as conn:
                base.sql(conn, "UPDATE volumes SET status = 'x'")
        begins = [s for s in statements if s.upper().startswith('BEGIN')]
        self.assertEqual(['BEGIN IMMEDIATE'] * 3, begins)

    def test_marker_does_not_outlive_the_checkout(self):
        engine = self.engine()
        self.create_table(engine)
        # A connection that goes back to the pool with the "BEGIN emitted"
        # marker still set (its end was not seen by SQLAlchemy's events).
        raw = engine.raw_connection()
        raw.info[connection.IN_TRANSACTION] = True
        raw.close()
        statements = []
        self.connects[0].set_trace_callback(statements.append)
        with engine.begin() as conn:
            base.sql(conn, "UPDATE volumes SET status = 'x'")
        self.assertEqual(1, len(self.connects))
        begins = [s for s in statements if s.upper().startswith('BEGIN')]
        self.assertEqual(['BEGIN IMMEDIATE'], begins)

    def test_checkin_drops_the_marker(self):
        record = mock.Mock(info={connection.IN_TRANSACTION: True, 'k': 1})
        connection.on_checkin(None, record)
        self.assertEqual({'k': 1}, record.info)

    def test_rolled_back_work_is_gone(self):
        engine = self.engine()
        self.create_table(engine)
        with engine.connect() as conn:
            transaction = conn.begin()
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('rolled back')")
            transaction.rollback()
        self.assertEqual(['creating'], self.statuses(engine))


class ReplacedFileTestCase(PoolingTestCase):

    def test_replaced_file_is_opened_again(self):
        engine = self.engine()
        self.create_table(engine, 'old')
        self.assertEqual(['old'], self.statuses(engine))
        # A restore: another file moved over the path.
        other = os.path.join(self.dir, 'restored.sqlite')
        db = sqlite3.connect(other)
        db.execute('CREATE TABLE volumes (id INTEGER PRIMARY KEY, '
                   'status TEXT)')
        db.execute("INSERT INTO volumes (status) VALUES ('restored')")
        db.commit()
        db.close()
        os.rename(other, self.path)
        with mock.patch.object(pooling.LOG, 'warning') as warning:
            self.assertEqual(['restored'], self.statuses(engine))
        self.assertEqual(2, len(self.connects))
        self.assertIn('was replaced', warning.call_args[0][0] %
                      warning.call_args[0][1:])
        # The new connection is kept again.
        self.assertEqual(['restored'], self.statuses(engine))
        self.assertEqual(2, len(self.connects))

    def test_removed_file_is_opened_again(self):
        engine = self.engine()
        self.create_table(engine)
        shutil.move(self.path, self.path + '.away')
        with mock.patch.object(pooling.LOG, 'warning') as warning:
            with engine.connect() as conn:
                # sqlite created a new empty file, as a new connection
                # always does; the old one is not written to any more.
                self.assertEqual(0, base.sql(
                    conn,
                    "SELECT count(*) FROM sqlite_master").scalar())
        self.assertIn('is gone', warning.call_args[0][0] %
                      warning.call_args[0][1:])

    def test_inherited_connection_left_to_oslo_db(self):
        record = mock.Mock(info={pooling.OPENED: (1, 2, self.path),
                                 'pid': os.getpid() + 1})
        with mock.patch.object(pooling.os, 'stat') as stat:
            pooling.on_checkout(None, record, None)
        stat.assert_not_called()

    def test_unchanged_file_not_stat_failed(self):
        engine = self.engine()
        self.create_table(engine)
        with mock.patch.object(pooling.LOG, 'warning') as warning:
            self.statuses(engine)
        warning.assert_not_called()


class ResolveTestCase(base.TestCase):

    def mount(self, fstype):
        return placement.Mount('/dev/x', '/var/lib/cinder', fstype, ['rw'])

    def test_modes(self):
        net = placement.NETWORK_FS
        self.assertTrue(pooling.resolve('auto', self.mount('ext4'), net))
        self.assertFalse(pooling.resolve('auto', self.mount('nfs4'), net))
        self.assertFalse(pooling.resolve('auto', self.mount('fuse.glusterfs'),
                                         net))
        self.assertFalse(pooling.resolve('auto', None, net))
        self.assertTrue(pooling.resolve('on', self.mount('fuse.glusterfs'),
                                        net))
        self.assertTrue(pooling.resolve('on', None, net))
        self.assertFalse(pooling.resolve('off', self.mount('ext4'), net))

    def test_describe(self):
        self.assertEqual('up to 5 idle connections', pooling.describe(None))
        self.assertEqual('up to 3 idle connections', pooling.describe(3))
        self.assertEqual('no limit on idle connections',
                         pooling.describe(0))


class OsloEngineGuardTestCase(base.TestCase):
    """The private oslo.db function pooling.install() wraps.

    If one of these fails, oslo.db changed how create_engine builds its
    engine arguments and cinder_ksvd/db/pooling.py has to be adapted.
    """

    def message(self, what):
        return ('oslo.db %s changed engines._init_connection_args (%s); '
                'cinder_ksvd/db/pooling.py must be adapted'
                % (OSLO_DB_VERSION, what))

    def test_create_engine_calls_it_by_module_name(self):
        pooling.install()
        source = inspect.getsource(engines.create_engine)
        self.assertIn('_init_connection_args(', source,
                      self.message('create_engine does not call it'))
        self.assertTrue(callable(getattr(
            engines._init_connection_args, 'original', None)),
            self.message('not wrapped'))

    def test_max_pool_size_reaches_the_wrapper(self):
        # oslo.db passes it positionally (a dict) or as keywords (12.x).
        path = os.path.join(self.make_tempdir(), 'x.sqlite')
        pooling.install()
        self.addCleanup(pooling.configure, pooling.enabled_paths())
        pooling.configure([path])
        engine = engines.create_engine('sqlite:///%s' % path,
                                       max_pool_size=3)
        self.addCleanup(engine.dispose)
        self.assertEqual(3, engine.pool.size(),
                         self.message('max_pool_size not seen'))

    def test_installed_once(self):
        pooling.install()
        wrapped = engines._init_connection_args
        self.assertTrue(wrapped._ksvd_pooling)
        self.assertFalse(pooling._wrap(engines))
        self.assertIs(wrapped, engines._init_connection_args)
