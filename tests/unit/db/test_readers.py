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

"""The reader engine on real sqlite files through oslo.db's enginefacade.

Runs on oslo.db 18.1.1 / SQLAlchemy 2.1 (tox -e py3) and on oslo.db
12.1.0 / SQLAlchemy 1.4.46 (tox -e db-zed), so statements go through
session.execute(sa.text(...)), which both accept.
"""

import os
import sqlite3
import types
from unittest import mock

import fixtures
from oslo_config import cfg
from oslo_db.sqlalchemy import enginefacade
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import pool as sa_pool
from tests.unit import base

from cinder_ksvd.db import connection
from cinder_ksvd.db import readers
from cinder_ksvd import opts


@enginefacade.transaction_context_provider
class Context(object):
    """Stands in for cinder's RequestContext."""


class ReaderEngineTestCase(base.TestCase):

    def setUp(self):
        super(ReaderEngineTestCase, self).setUp()
        connection.install()
        patcher = mock.patch.dict(connection._settings)
        patcher.start()
        self.addCleanup(patcher.stop)
        connection._settings.update(connection.DEFAULTS)
        self.useFixture(fixtures.MockPatchObject(connection, '_factories',
                                                 []))
        self.useFixture(fixtures.MockPatchObject(readers, '_state',
                                                 {'url': None}))
        self.dir = self.make_tempdir()
        self.path = os.path.join(self.dir, 'cinder.sqlite')
        self.url = 'sqlite:///%s' % self.path
        db = sqlite3.connect(self.path)
        db.execute('CREATE TABLE volumes (id INTEGER PRIMARY KEY, '
                   'status VARCHAR(32))')
        db.commit()
        db.close()
        # (engine, statement) for every statement of every new connection.
        self.statements = []
        # Before our listener, so that its pragmas are traced too.
        event.listen(sa_pool.Pool, 'connect', self._trace, insert=True)
        self.addCleanup(event.remove, sa_pool.Pool, 'connect', self._trace)

    def _trace(self, dbapi_connection, connection_record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(self.statements.append)

    def manager(self, reader_engine=True, url=None):
        manager = enginefacade.transaction_context()
        # What cinder's configure(conf) does, then our hook.
        manager.configure(connection=url or self.url, slave_connection=None,
                          max_retries=0)
        if reader_engine:
            self.assertTrue(readers.apply(manager, url or self.url))
        self.addCleanup(self._dispose, manager)
        return manager

    @staticmethod
    def _dispose(manager):
        factory = manager._factory
        if factory.is_started:
            factory.get_writer_engine().dispose()
            factory.get_reader_engine().dispose()

    def begins(self):
        return [s for s in self.statements if s.upper().startswith('BEGIN')]

    def insert(self, manager, context, status):
        with manager.writer.using(context) as session:
            session.execute(sa.text('INSERT INTO volumes (status) VALUES '
                                    '(:status)'), {'status': status})

    def select(self, manager, context):
        with manager.reader.using(context) as session:
            return [row[0] for row in session.execute(
                sa.text('SELECT status FROM volumes ORDER BY id'))]

    def test_two_engines_on_one_file(self):
        manager = self.manager()
        writer = manager.writer.get_engine()
        reader = manager.reader.get_engine()
        self.assertIsNot(writer, reader)
        self.assertEqual(str(writer.url), str(reader.url))
        self.assertTrue(connection.is_reader_engine(reader))
        self.assertFalse(connection.is_reader_engine(writer))

    def test_begin_per_engine(self):
        manager = self.manager()
        self.insert(manager, Context(), 'creating')
        self.statements[:] = []
        self.assertEqual(['creating'], self.select(manager, Context()))
        self.insert(manager, Context(), 'available')
        self.assertEqual(['BEGIN', 'BEGIN IMMEDIATE'], self.begins())
        # Each new connection of either engine got the pragmas.
        pragmas = [s for s in self.statements
                   if s.startswith('PRAGMA') and ' = ' in s]
        self.assertEqual(2 * ['PRAGMA busy_timeout = 30000',
                              'PRAGMA journal_mode = persist',
                              'PRAGMA synchronous = full'], pragmas)

    def test_without_reader_engine_every_begin_is_immediate(self):
        manager = self.manager(reader_engine=False)
        self.insert(manager, Context(), 'creating')
        self.assertEqual(['creating'], self.select(manager, Context()))
        self.assertIs(manager.writer.get_engine(),
                      manager.reader.get_engine())
        self.assertEqual(['BEGIN IMMEDIATE', 'BEGIN IMMEDIATE'],
                         self.begins())

    def test_reads_its_own_committed_writes(self):
        manager = self.manager()
        context = Context()
        for status in ('creating', 'available', 'in-use'):
            self.insert(manager, context, status)
            # The next reader transaction of the same request sees it.
            self.assertEqual(status, self.select(manager, context)[-1])
        self.assertEqual(['BEGIN IMMEDIATE', 'BEGIN'] * 3, self.begins())

    def test_reader_inside_writer_uses_the_writer_transaction(self):
        manager = self.manager()
        context = Context()
        with manager.writer.using(context) as session:
            session.execute(sa.text("INSERT INTO volumes (status) VALUES "
                                    "('creating')"))
            # Not committed yet: only the writer's own transaction sees it.
            self.assertEqual(['creating'], self.select(manager, context))
        self.assertEqual(['BEGIN IMMEDIATE'], self.begins())

    def test_writer_that_reads_first_is_immediate(self):
        manager = self.manager()
        with manager.writer.using(Context()) as session:
            count = session.execute(
                sa.text('SELECT count(*) FROM volumes')).scalar()
            session.execute(sa.text("INSERT INTO volumes (status) VALUES "
                                    "('creating')"))
        self.assertEqual(0, count)
        self.assertEqual(['BEGIN IMMEDIATE'], self.begins())

    def other(self):
        other = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        self.addCleanup(other.close)
        return other

    def test_reader_does_not_take_the_write_lock(self):
        manager = self.manager()
        self.insert(manager, Context(), 'creating')
        other = self.other()
        with manager.reader.using(Context()) as session:
            session.execute(sa.text('SELECT count(*) FROM volumes')).scalar()
            # A writer can start while the reader's transaction is open.
            other.execute('BEGIN IMMEDIATE')
            other.execute("INSERT INTO volumes (status) VALUES ('x')")
            other.execute('ROLLBACK')

    def test_writer_takes_the_write_lock_at_begin(self):
        manager = self.manager()
        other = self.other()
        with manager.writer.using(Context()) as session:
            session.execute(sa.text('SELECT count(*) FROM volumes')).scalar()
            error = self.assertRaises(sqlite3.OperationalError,
                                      other.execute, 'BEGIN IMMEDIATE')
            self.assertIn('database is locked', str(error))

    def test_wal_writer_commits_while_a_reader_is_open(self):
        # In WAL mode readers never wait for the writer and the writer's
        # commit does not wait for readers (rollback journal: it would).
        connection._settings.update(journal_mode='wal', busy_timeout=0)
        manager = self.manager()
        context = Context()
        self.insert(manager, context, 'creating')
        with manager.reader.using(Context()) as session:
            self.assertEqual(['creating'], [row[0] for row in session.execute(
                sa.text('SELECT status FROM volumes'))])
            self.insert(manager, context, 'available')
            # The open reader keeps its snapshot.
            self.assertEqual(1, session.execute(
                sa.text('SELECT count(*) FROM volumes')).scalar())
        self.assertEqual(['creating', 'available'],
                         self.select(manager, context))
        self.assertIn('PRAGMA journal_mode = wal', self.statements)

    def test_switched_off_plain_begin(self):
        manager = self.manager()
        connection._settings['enabled'] = False
        self.insert(manager, Context(), 'creating')
        self.select(manager, Context())
        # oslo.db's own listener emits deferred BEGINs.
        self.assertEqual(['BEGIN', 'BEGIN'], self.begins())

    def test_too_late_once_started(self):
        log = self.useFixture(fixtures.FakeLogger(name='cinder_ksvd.db'))
        manager = self.manager(reader_engine=False)
        self.select(manager, Context())
        self.assertFalse(readers.apply(manager, self.url))
        self.assertIn('sqlite reader engine not used', log.output)
        self.assertEqual([], connection._factories)


class ConfigureTestCase(base.TestCase):

    def setUp(self):
        super(ConfigureTestCase, self).setUp()
        self.useFixture(fixtures.MockPatchObject(readers, '_state',
                                                 {'url': None}))
        self.useFixture(fixtures.MockPatchObject(connection, '_factories',
                                                 []))
        self.dir = self.make_tempdir()
        self.manager = mock.Mock(spec=['configure', '_factory'])
        self.module = base.Namespace(main_context_manager=self.manager)

    def conf(self, connection_url, text='', slave=None):
        conf = self.new_conf()
        opts.register_opts(conf)
        conf.register_opts([cfg.StrOpt('connection'),
                            cfg.StrOpt('slave_connection')],
                           group='database')
        path = self.write_file(self.dir, 'c.conf', '[ksvd_database]\n%s'
                               % text)
        conf(['--config-file', path], default_config_files=[],
             default_config_dirs=[])
        conf.set_override('connection', connection_url, group='database')
        if slave:
            conf.set_override('slave_connection', slave, group='database')
        return conf

    def test_sqlite_file(self):
        url = 'sqlite:///%s/cinder.sqlite' % self.dir
        conf = self.conf(url, 'reader_engine = true\n')
        self.assertEqual(1, readers.configure(conf, True, [self.module]))
        self.manager.configure.assert_called_once_with(
            slave_connection=url, synchronous_reader=False)
        self.assertEqual([self.manager._factory], connection._factories)
        self.assertEqual(url, readers._state['url'])

    def test_on_by_default(self):
        conf = self.conf('sqlite:///%s/cinder.sqlite' % self.dir)
        self.assertIs(True, conf.ksvd_database.reader_engine)
        self.assertEqual(1, readers.configure(conf, True, [self.module]))

    def test_switched_off(self):
        conf = self.conf('sqlite:///%s/cinder.sqlite' % self.dir,
                         'reader_engine = false\n')
        self.assertEqual(0, readers.configure(conf, True, [self.module]))
        self.manager.configure.assert_not_called()
        self.assertEqual([], connection._factories)

    def test_not_used(self):
        for url, enabled, slave in (
                ('sqlite:///%s/c.sqlite' % self.dir, False, None),
                ('sqlite://', True, None),
                ('sqlite:///:memory:', True, None),
                ('mysql+pymysql://u:p@127.0.0.1/cinder', True, None),
                ('sqlite:///%s/c.sqlite' % self.dir, True,
                 'sqlite:///%s/replica.sqlite' % self.dir)):
            conf = self.conf(url, 'reader_engine = true\n', slave)
            self.assertEqual(0, readers.configure(conf, enabled,
                                                  [self.module]), url)
            self.assertIsNone(readers._state['url'])
        self.manager.configure.assert_not_called()
        self.assertEqual([], connection._factories)

    def test_cinder_configure_keeps_the_reader_engine(self):
        # cinder's configure(conf) passes slave_connection=None explicitly.
        module = types.ModuleType('fake.db.api')
        module.main_context_manager = self.manager

        def configure(conf):
            module.main_context_manager.configure(slave_connection=None)
        module.configure = configure
        self.assertEqual(['fake.db.api'], readers.install([module]))
        self.assertEqual([], readers.install([module]))
        url = 'sqlite:///%s/cinder.sqlite' % self.dir
        readers.configure(self.conf(url, 'reader_engine = true\n'), True,
                          [module])
        self.manager.configure.reset_mock()
        module.configure(None)
        self.assertEqual(
            [mock.call(slave_connection=None),
             mock.call(slave_connection=url, synchronous_reader=False)],
            self.manager.configure.mock_calls)

    def test_cinder_configure_untouched_when_off(self):
        module = types.ModuleType('fake.db.api')
        module.main_context_manager = self.manager
        module.configure = lambda conf: None
        readers.install([module])
        module.configure(None)
        self.manager.configure.assert_not_called()
