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

import collections.abc
import importlib.metadata
import os
import re
import sqlite3
import types
from unittest import mock

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import engines
from oslo_db.sqlalchemy import exc_filters as oslo_filters
import sqlalchemy as sa
from sqlalchemy import exc as sqla_exc
from tests.unit import base

from cinder_ksvd.db import connection
from cinder_ksvd.db import exc_filters

TRANSIENT_MESSAGES = (
    'database is locked',
    'database table is locked',
    'database table is locked: volumes',
    'disk I/O error',
    'unable to open database file',
    'Stale file handle',
    'stale NFS file handle',
)

OSLO_DB_VERSION = importlib.metadata.version('oslo.db')


def fake_context(error, dialect='sqlite'):
    """What oslo.db's handler reads from SQLAlchemy's ExceptionContext.

    oslo.db 18 reads context.dialect, oslo.db 12 (Debian 12, Zed) reads
    context.engine.dialect; a real ExceptionContext has both.
    """
    fake_dialect = types.SimpleNamespace(name=dialect)
    return types.SimpleNamespace(
        dialect=fake_dialect,
        engine=types.SimpleNamespace(dialect=fake_dialect),
        sqlalchemy_exception=error,
        original_exception=error.orig,
        is_disconnect=False,
        is_pre_ping=False,
        connection=None)


def operational_error(message):
    return sqla_exc.OperationalError('UPDATE volumes SET status=?',
                                     ('available',),
                                     sqlite3.OperationalError(message))


class FilterTestCase(base.TestCase):
    """Errors pushed through oslo.db's real handler and registry."""

    def setUp(self):
        super(FilterTestCase, self).setUp()
        exc_filters.install()
        # The switch is process state: start on, restore afterwards.
        patcher = mock.patch.dict(exc_filters._state, {'enabled': None})
        patcher.start()
        self.addCleanup(patcher.stop)

    def handle(self, error, dialect='sqlite'):
        """Run oslo.db's handle_error listener as SQLAlchemy would."""
        return oslo_filters.handler(fake_context(error, dialect))

    def test_transient_messages_become_retriable(self):
        for message in TRANSIENT_MESSAGES:
            error = operational_error(message)
            result = self.handle(error)
            self.assertIsInstance(result, exc_filters.SqliteTransientError,
                                  message)
            self.assertIsInstance(result, db_exc.DBDeadlock, message)
            self.assertNotIsInstance(result, db_exc.DBConnectionError,
                                     message)
            self.assertIs(error, result.inner_exception, message)

    def test_unable_to_open_beats_oslo_db(self):
        # oslo.db's own filter maps this message to DBNonExistentDatabase,
        # which nothing retries; ours must be tried first.
        result = self.handle(operational_error(
            'unable to open database file'))
        self.assertIsInstance(result, exc_filters.SqliteTransientError)
        self.assertNotIsInstance(result, db_exc.DBNonExistentDatabase)

    def test_other_operational_errors_untouched(self):
        # oslo.db re-raises unmatched OperationalErrors as they are.
        error = operational_error('near "SELEC": syntax error')
        raised = self.assertRaises(sqla_exc.OperationalError,
                                   self.handle, error)
        self.assertIs(error, raised)
        result = self.handle(operational_error('no such table: volumes'))
        self.assertIsInstance(result, db_exc.DBNonExistentTable)
        self.assertNotIsInstance(result, db_exc.DBDeadlock)

    def test_malformed_is_never_transient(self):
        error = sqla_exc.DatabaseError(
            'SELECT 1', (),
            sqlite3.DatabaseError('database disk image is malformed'))
        result = self.handle(error)
        self.assertIsInstance(result, db_exc.DBError)
        self.assertNotIsInstance(result, db_exc.DBDeadlock)

    def test_other_dialects_untouched(self):
        error = operational_error('database is locked')
        raised = self.assertRaises(sqla_exc.OperationalError,
                                   self.handle, error, 'mysql')
        self.assertIs(error, raised)

    def test_switched_off(self):
        exc_filters.set_enabled(False)
        self.assertFalse(exc_filters.enabled())
        for message in ('database is locked', 'disk I/O error'):
            error = operational_error(message)
            raised = self.assertRaises(sqla_exc.OperationalError,
                                       self.handle, error)
            self.assertIs(error, raised)
        # oslo.db's own mapping is back.
        self.assertIsInstance(
            self.handle(operational_error('unable to open database file')),
            db_exc.DBNonExistentDatabase)

    def test_enabled_before_config(self):
        self.assertTrue(exc_filters.enabled())
        exc_filters.set_enabled(0)
        self.assertIs(False, exc_filters.enabled())
        exc_filters.set_enabled('yes')
        self.assertIs(True, exc_filters.enabled())


class EngineTestCase(base.TestCase):
    """A real oslo.db engine on a sqlite file."""

    def setUp(self):
        super(EngineTestCase, self).setUp()
        exc_filters.install()
        connection.install()
        for state in (exc_filters._state, connection._settings):
            patcher = mock.patch.dict(state)
            patcher.start()
            self.addCleanup(patcher.stop)
        exc_filters._state['enabled'] = None
        connection._settings.update(connection.DEFAULTS)
        self.path = os.path.join(self.make_tempdir(), 'cinder.sqlite')
        self.engine = engines.create_engine('sqlite:///%s' % self.path)
        self.addCleanup(self.engine.dispose)
        with self.engine.begin() as conn:
            base.sql(conn, 'CREATE TABLE volumes (id INTEGER PRIMARY '
                           'KEY, status VARCHAR(32))')

    def hold_lock(self):
        """Another process's writer: an EXCLUSIVE lock on the file."""
        other = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(other.close)
        other.execute('BEGIN EXCLUSIVE')
        self.addCleanup(other.execute, 'ROLLBACK')

    def write_while_locked(self):
        # Connect first (pragmas set), then the other writer locks.
        with self.engine.connect() as conn:
            self.hold_lock()
            return self.assertRaises(
                (db_exc.DBError, sqla_exc.OperationalError), conn.execute,
                sa.text("INSERT INTO volumes (status) VALUES ('creating')"))

    def test_database_is_locked(self):
        connection._settings['busy_timeout'] = 0
        error = self.write_while_locked()
        self.assertIsInstance(error, exc_filters.SqliteTransientError)
        self.assertIsInstance(error, db_exc.DBDeadlock)
        self.assertNotIsInstance(error, db_exc.DBConnectionError)
        self.assertIn('database is locked', str(error))

    def test_database_is_locked_deferred_begin(self):
        connection._settings.update(busy_timeout=0, begin_immediate=False)
        error = self.write_while_locked()
        self.assertIsInstance(error, exc_filters.SqliteTransientError)
        self.assertIn('database is locked', str(error))

    def test_database_is_locked_switched_off(self):
        connection._settings['busy_timeout'] = 0
        exc_filters.set_enabled(False)
        error = self.write_while_locked()
        self.assertIsInstance(error, sqla_exc.OperationalError)
        self.assertNotIsInstance(error, db_exc.DBDeadlock)
        self.assertIn('database is locked', str(error))

    def failing_execute(self, raw_error):
        """The dialect's do_execute raising raw_error for UPDATEs only."""
        real = self.engine.dialect.do_execute

        def do_execute(cursor, statement, parameters, context=None):
            if statement.startswith('UPDATE'):
                raise raw_error
            return real(cursor, statement, parameters, context)
        return mock.patch.object(self.engine.dialect, 'do_execute',
                                 do_execute)

    def update(self):
        with self.engine.begin() as conn:
            conn.execute(sa.text("UPDATE volumes SET status = 'error'"))

    def test_transient_messages_through_engine(self):
        for message in TRANSIENT_MESSAGES:
            with self.failing_execute(sqlite3.OperationalError(message)):
                error = self.assertRaises(exc_filters.SqliteTransientError,
                                          self.update)
            self.assertIn(message, str(error))
            self.assertNotIsInstance(error, db_exc.DBConnectionError)

    def test_malformed_through_engine(self):
        raw = sqlite3.DatabaseError('database disk image is malformed')
        with self.failing_execute(raw):
            error = self.assertRaises(db_exc.DBError, self.update)
        self.assertNotIsInstance(error, exc_filters.SqliteTransientError)
        self.assertNotIsInstance(error, db_exc.DBDeadlock)
        self.assertIn('malformed', str(error))

    def test_disk_io_error_switched_off(self):
        exc_filters.set_enabled(False)
        with self.failing_execute(sqlite3.OperationalError('disk I/O error')):
            error = self.assertRaises(sqla_exc.OperationalError, self.update)
        self.assertNotIsInstance(error, db_exc.DBDeadlock)


class InstallTestCase(base.TestCase):
    """install() on a fresh copy of oslo.db's sqlite list."""

    def setUp(self):
        super(InstallTestCase, self).setUp()
        ours = exc_filters._sqlite_transient_error
        self.oslo_entries = [entry for entry in exc_filters.registry()
                             if entry[0] is not ours]
        patcher = mock.patch.dict(
            oslo_filters._registry['sqlite'],
            {sqla_exc.OperationalError: list(self.oslo_entries)})
        patcher.start()
        self.addCleanup(patcher.stop)

    def test_prepends_once(self):
        self.assertTrue(exc_filters.install())
        self.assertFalse(exc_filters.install())
        entries = exc_filters.registry()
        count = len(exc_filters.TRANSIENT_PATTERNS)
        self.assertEqual(len(self.oslo_entries) + count, len(entries))
        self.assertEqual(
            [exc_filters._sqlite_transient_error] * count,
            [fn for fn, _regex in entries[:count]])
        self.assertEqual(list(exc_filters.TRANSIENT_PATTERNS),
                         [regex.pattern for _fn, regex in entries[:count]])
        self.assertEqual(self.oslo_entries, entries[count:])

    def test_ahead_of_oslo_unable_to_open(self):
        exc_filters.install()
        entries = exc_filters.registry()
        message = '(sqlite3.OperationalError) unable to open database file'
        matching = [index for index, (fn, regex) in enumerate(entries)
                    if regex.match(message)]
        self.assertIs(exc_filters._sqlite_transient_error, entries[0][0])
        oslo = [index for index in matching
                if entries[index][0] is not
                exc_filters._sqlite_transient_error]
        self.assertTrue(oslo, 'oslo.db %s has no sqlite "unable to open" '
                        'filter any more' % OSLO_DB_VERSION)
        self.assertLess(matching[0], oslo[0])
        self.assertIs(exc_filters._sqlite_transient_error,
                      entries[matching[0]][0])

    def test_registry_is_oslo_list(self):
        self.assertIs(oslo_filters._registry['sqlite'][
            sqla_exc.OperationalError], exc_filters.registry())


class OsloRegistryGuardTestCase(base.TestCase):
    """The private oslo.db structure exc_filters relies on.

    If one of these fails, oslo.db changed its private filter registry and
    exc_filters.install() has to be adapted to that release.
    """

    def message(self, what):
        return ('oslo.db %s changed its private exc_filters registry (%s); '
                'cinder_ksvd/db/exc_filters.py must be adapted'
                % (OSLO_DB_VERSION, what))

    def test_shape(self):
        registry = oslo_filters._registry
        self.assertIsInstance(registry, collections.abc.Mapping,
                              self.message('_registry is not a mapping'))
        self.assertIn('sqlite', registry,
                      self.message('no sqlite entry'))
        self.assertIsInstance(registry['sqlite'], collections.abc.Mapping,
                              self.message('per-dialect entry'))
        self.assertIn(sqla_exc.OperationalError, registry['sqlite'],
                      self.message('no sqlite OperationalError list'))
        entries = registry['sqlite'][sqla_exc.OperationalError]
        self.assertIsInstance(entries, list, self.message('not a list'))
        for entry in entries:
            self.assertIsInstance(entry, tuple, self.message('entries'))
            self.assertEqual(2, len(entry), self.message('entry size'))
            fn, regex = entry
            self.assertTrue(callable(fn), self.message('entry callable'))
            self.assertIsInstance(regex, re.Pattern,
                                  self.message('entry regex'))

    def test_oslo_filled_it_itself(self):
        # oslo.db's own sqlite OperationalError filters are registered at
        # its import, before ours: install() has something to go in front
        # of.
        entries = oslo_filters._registry['sqlite'][sqla_exc.OperationalError]
        own = [fn for fn, _regex in entries
               if fn.__module__ == oslo_filters.__name__]
        self.assertTrue(own, self.message('no oslo.db sqlite filters'))
        self.assertIn(oslo_filters._check_database_non_existing, own,
                      self.message('"unable to open" filter moved'))

    def test_handler_tries_entries_in_list_order(self):
        calls = []

        def first(error, match, engine_name, is_disconnect):
            calls.append('first')
            raise db_exc.DBDeadlock(error)

        def second(error, match, engine_name, is_disconnect):
            calls.append('second')
            raise db_exc.DBError(error)

        def passes(error, match, engine_name, is_disconnect):
            calls.append('passes')  # returns: the next entry is tried

        entries = [(passes, re.compile('.*boom', re.DOTALL)),
                   (first, re.compile('.*boom', re.DOTALL)),
                   (second, re.compile('.*boom', re.DOTALL))]
        with mock.patch.dict(oslo_filters._registry,
                             {'ksvdtest': {sqla_exc.OperationalError:
                                           entries}}):
            result = oslo_filters.handler(
                fake_context(operational_error('boom'), 'ksvdtest'))
        self.assertEqual(['passes', 'first'], calls,
                         self.message('handler order'))
        self.assertIsInstance(result, db_exc.DBDeadlock,
                              self.message('handler returns the DBError'))

    def test_filters_decorator_appends(self):
        # Why install() inserts at index 0 instead of using @filters.
        def late(error, match, engine_name, is_disconnect):
            pass

        with mock.patch.dict(oslo_filters._registry,
                             {'ksvdtest': collections.defaultdict(list)}):
            oslo_filters.filters('ksvdtest', sqla_exc.OperationalError,
                                 '.*a')(late)
            oslo_filters.filters('ksvdtest', sqla_exc.OperationalError,
                                 ('.*b', '.*c'))(late)
            entries = oslo_filters._registry['ksvdtest'][
                sqla_exc.OperationalError]
            self.assertEqual(['.*a', '.*b', '.*c'],
                             [regex.pattern for _fn, regex in entries],
                             self.message('@filters appends'))
