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

import functools
import os
import sqlite3
import types
from unittest import mock

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import engines
import sqlalchemy as sa
from tests.unit import base

from cinder_ksvd.db import connection
from cinder_ksvd.db import exc_filters
from cinder_ksvd.db import retry
from cinder_ksvd import opts


class Context(object):
    """A request context outside any enginefacade transaction."""


class InTransaction(object):
    transaction_ctx = object()


class NoEngineContext(object):
    @property
    def transaction_ctx(self):
        raise db_exc.NoEngineContextEstablished('no transaction')


class BrokenContext(object):
    @property
    def transaction_ctx(self):
        raise RuntimeError('not an enginefacade context')


@enginefacade.transaction_context_provider
class FacadeContext(object):
    """Like cinder's RequestContext: takes part in enginefacade."""


class RetryTestCase(base.TestCase):

    def setUp(self):
        super(RetryTestCase, self).setUp()
        for state in (retry._policy, retry._wrapped):
            patcher = mock.patch.dict(state)
            patcher.start()
            self.addCleanup(patcher.stop)
        retry._wrapped.clear()
        # No waiting between attempts.
        retry._policy.update(enabled=True, max_retries=10, interval=0,
                             max_interval=0)
        self.calls = []

    def failing(self, *errors, **kwargs):
        """A DB API function raising errors in turn, then returning."""
        result = kwargs.get('result', 'done')
        errors = list(errors)

        def volume_update(context, volume_id, values):
            """Update a volume."""
            self.calls.append((context, volume_id, values))
            if errors:
                raise errors.pop(0)
            return result
        return volume_update


class WrapTestCase(RetryTestCase):

    def test_retries_transient_errors(self):
        fn = retry.wrap(self.failing(exc_filters.SqliteTransientError(),
                                     exc_filters.SqliteTransientError()))
        context = Context()
        self.assertEqual('done', fn(context, 'vol-1', values={'a': 1}))
        self.assertEqual([(context, 'vol-1', {'a': 1})] * 3, self.calls)

    def test_gives_up_after_max_retries(self):
        retry._policy['max_retries'] = 2
        errors = [exc_filters.SqliteTransientError() for _i in range(5)]
        fn = retry.wrap(self.failing(*errors))
        raised = self.assertRaises(exc_filters.SqliteTransientError,
                                   fn, Context(), 'vol-1', {})
        self.assertIs(errors[2], raised)
        self.assertEqual(3, len(self.calls))

    def test_other_errors_not_retried(self):
        for error in (db_exc.DBDeadlock(), db_exc.DBError(),
                      db_exc.DBConnectionError(), db_exc.DBDuplicateEntry(),
                      ValueError('not a db error')):
            self.calls[:] = []
            fn = retry.wrap(self.failing(error))
            raised = self.assertRaises(type(error), fn, Context(), 'v', {})
            self.assertIs(error, raised)
            self.assertEqual(1, len(self.calls), error)

    def test_not_retried_inside_a_transaction(self):
        fn = retry.wrap(self.failing(exc_filters.SqliteTransientError()))
        self.assertRaises(exc_filters.SqliteTransientError,
                          fn, InTransaction(), 'vol-1', {})
        self.assertEqual(1, len(self.calls))

    def test_contexts_without_transaction(self):
        for context in (NoEngineContext(), BrokenContext(), None,
                        FacadeContext()):
            self.calls[:] = []
            fn = retry.wrap(self.failing(exc_filters.SqliteTransientError()))
            self.assertEqual('done', fn(context, 'vol-1', {}))
            self.assertEqual(2, len(self.calls), context)

    def test_enginefacade_transaction(self):
        factory = enginefacade.transaction_context()
        factory.configure(connection='sqlite://')
        context = FacadeContext()
        fn = retry.wrap(self.failing(exc_filters.SqliteTransientError()))
        with factory.writer.using(context):
            self.assertRaises(exc_filters.SqliteTransientError,
                              fn, context, 'vol-1', {})
        self.assertEqual(1, len(self.calls))
        # The transaction is over: the same context is retried again.
        self.calls[:] = []
        self.assertEqual('done', retry.wrap(self.failing(
            exc_filters.SqliteTransientError()))(context, 'vol-1', {}))
        self.assertEqual(2, len(self.calls))

    def test_switched_off(self):
        retry._policy['enabled'] = False
        fn = retry.wrap(self.failing(exc_filters.SqliteTransientError()))
        self.assertRaises(exc_filters.SqliteTransientError,
                          fn, Context(), 'vol-1', {})
        self.assertEqual(1, len(self.calls))

    def test_no_retries(self):
        retry._policy['max_retries'] = 0
        fn = retry.wrap(self.failing(exc_filters.SqliteTransientError()))
        self.assertRaises(exc_filters.SqliteTransientError,
                          fn, Context(), 'vol-1', {})
        self.assertEqual(1, len(self.calls))

    def test_policy_read_at_call_time(self):
        fn = retry.wrap(self.failing(*[exc_filters.SqliteTransientError()
                                       for _i in range(5)]))
        retry._policy['max_retries'] = 1
        self.assertRaises(exc_filters.SqliteTransientError,
                          fn, Context(), 'vol-1', {})
        self.assertEqual(2, len(self.calls))

    def test_keeps_metadata(self):
        original = self.failing()
        fn = retry.wrap(original)
        self.assertEqual('volume_update', fn.__name__)
        self.assertEqual('Update a volume.', fn.__doc__)
        self.assertEqual(original.__module__, fn.__module__)
        # __qualname__: Python 3 only.
        self.assertEqual(getattr(original, '__qualname__', None),
                         getattr(fn, '__qualname__', None))
        self.assertIs(original, fn.__wrapped__)
        self.assertIs(True, fn.ksvd_retry)

    def test_waits_between_attempts(self):
        retry._policy.update(interval=0.25, max_interval=0.5)
        fn = retry.wrap(self.failing(exc_filters.SqliteTransientError(),
                                     exc_filters.SqliteTransientError()))
        # Only oslo.db's retry loop sees this clock.
        with mock.patch.object(oslo_db_api, 'time') as clock:
            self.assertEqual('done', fn(Context(), 'vol-1', {}))
        sleep = clock.sleep
        self.assertEqual(2, sleep.call_count)
        self.assertEqual(mock.call(0.25), sleep.mock_calls[0])
        # Then doubled, with jitter (a DBDeadlock), at most max_interval.
        second = sleep.mock_calls[1][1][0]
        self.assertTrue(0 <= second <= 0.5, second)


class RetriesItselfTestCase(base.TestCase):

    def test_oslo_db_retry_detected(self):
        @oslo_db_api.wrap_db_retry(max_retries=1, retry_on_deadlock=True)
        def quota_reserve(context):
            pass
        self.assertTrue(retry._retries_itself(quota_reserve))

    def test_detected_below_other_decorators(self):
        # cinder: @require_context over @wrap_db_retry over the writer.
        def require_context(f):
            @functools.wraps(f)
            def wrapper(*args, **kwargs):
                return f(*args, **kwargs)
            return wrapper

        @require_context
        @oslo_db_api.wrap_db_retry(max_retries=1, retry_on_deadlock=True)
        def reservation_commit(context):
            pass
        self.assertTrue(retry._retries_itself(reservation_commit))

    def test_detected_below_decorators_without_wraps(self):
        # cinder 15/16 patched (patches/): handle_db_data_error keeps the
        # function only in its closure (no functools.wraps).
        def handle_db_data_error(f):
            def wrapper(*args, **kwargs):
                return f(*args, **kwargs)
            return wrapper

        def require_context(f):
            @functools.wraps(f)
            def wrapper(*args, **kwargs):
                return f(*args, **kwargs)
            return wrapper

        @handle_db_data_error
        @require_context
        @oslo_db_api.wrap_db_retry(max_retries=1, retry_on_deadlock=True)
        def volume_update(context, volume_id, values):
            pass
        self.assertTrue(retry._retries_itself(volume_update))

        @handle_db_data_error
        @require_context
        def snapshot_update(context, snapshot_id, values):
            pass
        self.assertFalse(retry._retries_itself(snapshot_update))

    def test_plain_function(self):
        def volume_update(context):
            pass
        self.assertFalse(retry._retries_itself(volume_update))
        self.assertFalse(retry._retries_itself(retry.wrap(volume_update)))
        self.assertFalse(retry._retries_itself(mock.Mock(__wrapped__=None)))

    def test_wrapped_loop(self):
        def volume_update(context):
            pass
        volume_update.__wrapped__ = volume_update
        self.assertFalse(retry._retries_itself(volume_update))


class InstallTestCase(RetryTestCase):

    def module(self, name, **functions):
        module = types.ModuleType(name)
        for key, value in functions.items():
            setattr(module, key, value)
        return module

    def test_wraps_candidates(self):
        volume_update = self.failing()

        def snapshot_update(context, snapshot_id, values):
            return 'snap'

        def not_a_candidate(context):
            return 'other'

        api = self.module('fake.db.api', volume_update=volume_update,
                          snapshot_update=snapshot_update,
                          not_a_candidate=not_a_candidate)
        self.assertEqual(['volume_update', 'snapshot_update'],
                         retry.install([api]))
        self.assertIsNot(volume_update, api.volume_update)
        self.assertIs(volume_update, api.volume_update.__wrapped__)
        self.assertIs(snapshot_update, api.snapshot_update.__wrapped__)
        self.assertIs(not_a_candidate, api.not_a_candidate)
        self.assertEqual(['snapshot_update', 'volume_update'],
                         retry.wrapped_names())
        self.assertEqual('volume_update', api.volume_update.__name__)
        self.assertEqual('Update a volume.', api.volume_update.__doc__)

    def test_installed_function_retries(self):
        api = self.module('fake.db.api', volume_update=self.failing(
            exc_filters.SqliteTransientError()))
        retry.install([api])
        self.assertEqual('done', api.volume_update(Context(), 'v', {}))
        self.assertEqual(2, len(self.calls))

    def test_skips_functions_retried_by_cinder(self):
        @oslo_db_api.wrap_db_retry(max_retries=1, retry_on_deadlock=True)
        def quota_reserve(context):
            return 'reserved'

        api = self.module('fake.db.api', quota_reserve=quota_reserve,
                          volume_update=self.failing())
        self.assertEqual(['volume_update'], retry.install([api]))
        self.assertIs(quota_reserve, api.quota_reserve)
        self.assertNotIn('quota_reserve', retry.wrapped_names())

    def test_same_function_in_second_module(self):
        volume_update = self.failing()

        def other_volume_update(context, volume_id, values):
            return 'other'

        api = self.module('fake.db.api', volume_update=volume_update)
        package = self.module('fake.db', volume_update=volume_update)
        other = self.module('fake.other', volume_update=other_volume_update)
        self.assertEqual(['volume_update'],
                         retry.install([api, package, other]))
        self.assertIs(api.volume_update, package.volume_update)
        self.assertTrue(package.volume_update.ksvd_retry)
        # A different function of the same name is not ours to replace.
        self.assertIs(other_volume_update, other.volume_update)

    def test_idempotent(self):
        api = self.module('fake.db.api', volume_update=self.failing())
        package = self.module('fake.db', volume_update=api.volume_update)
        retry.install([api, package])
        wrapped = api.volume_update
        self.assertEqual([], retry.install([api, package]))
        self.assertIs(wrapped, api.volume_update)
        self.assertIs(wrapped, package.volume_update)
        # Not wrapped twice: one call per attempt.
        self.assertEqual('done', api.volume_update(Context(), 'v', {}))
        self.assertEqual(1, len(self.calls))
        self.assertFalse(getattr(wrapped.__wrapped__, 'ksvd_retry', False))

    def test_missing_names_skipped(self):
        self.assertEqual([], retry.install([self.module('fake.empty')]))
        self.assertEqual([], retry.install([]))
        self.assertEqual([], retry.wrapped_names())


class ConfigureTestCase(RetryTestCase):

    def test_from_config(self):
        conf = self.new_conf()
        opts.register_opts(conf)
        path = self.write_file(self.make_tempdir(), 'c.conf',
                               '[ksvd_database]\nretry_max = 3\n'
                               'retry_interval = 0.5\n'
                               'retry_max_interval = 4\n')
        conf(['--config-file', path], default_config_files=[],
             default_config_dirs=[])
        expected = {'enabled': True, 'max_retries': 3, 'interval': 0.5,
                    'max_interval': 4.0}
        self.assertEqual(expected, retry.configure(conf, True))
        self.assertEqual(expected, retry._policy)
        retry.configure(conf, False)
        self.assertIs(False, retry._policy['enabled'])

    def test_from_config_max_retries_used(self):
        conf = self.new_conf()
        opts.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        conf.set_override('retry_max', 1, group='ksvd_database')
        conf.set_override('retry_interval', 0, group='ksvd_database')
        retry.configure(conf, True)
        fn = retry.wrap(self.failing(*[exc_filters.SqliteTransientError()
                                       for _i in range(3)]))
        self.assertRaises(exc_filters.SqliteTransientError,
                          fn, Context(), 'v', {})
        self.assertEqual(2, len(self.calls))


class LockedDatabaseTestCase(RetryTestCase):
    """Filters and retries together on a real locked sqlite file."""

    def setUp(self):
        super(LockedDatabaseTestCase, self).setUp()
        exc_filters.install()
        connection.install()
        for state in (exc_filters._state, connection._settings):
            patcher = mock.patch.dict(state)
            patcher.start()
            self.addCleanup(patcher.stop)
        exc_filters._state['enabled'] = None
        connection._settings.update(connection.DEFAULTS)
        connection._settings['busy_timeout'] = 0
        self.path = os.path.join(self.make_tempdir(), 'cinder.sqlite')
        self.engine = engines.create_engine('sqlite:///%s' % self.path)
        self.addCleanup(self.engine.dispose)
        with self.engine.begin() as conn:
            base.sql(conn, 'CREATE TABLE volumes (id INTEGER PRIMARY '
                           'KEY, status VARCHAR(32))')

    def test_locked_write_retried(self):
        other = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(other.close)
        other.execute('BEGIN EXCLUSIVE')

        def volume_update(context, status):
            self.calls.append(status)
            with self.engine.begin() as conn:
                conn.execute(sa.text('INSERT INTO volumes (status) VALUES '
                                     '(:status)'), {'status': status})
            return status

        def release(seconds):
            # The other writer commits while we wait before the retry.
            if other.in_transaction:
                other.execute('COMMIT')

        fn = retry.wrap(volume_update)
        with mock.patch.object(oslo_db_api, 'time') as clock:
            clock.sleep.side_effect = release
            self.assertEqual('available', fn(Context(), 'available'))
        self.assertEqual(['available', 'available'], self.calls)
        clock.sleep.assert_called_once_with(0)
        rows = other.execute('SELECT status FROM volumes').fetchall()
        self.assertEqual([('available',)], rows)


class ConsumedArgumentsTestCase(RetryTestCase):
    """cinder's volume_update pops 'metadata' out of values."""

    def test_retry_gets_the_callers_full_values(self):
        seen = []

        def volume_update(context, volume_id, values):
            seen.append(dict(values))
            values.pop('metadata', None)
            if len(seen) < 3:
                raise exc_filters.SqliteTransientError(
                    Exception('database is locked'))
            return 'done'

        values = {'display_name': 'x', 'metadata': {'k': 'v'}}
        wrapped = retry.wrap(volume_update)
        self.assertEqual('done', wrapped(Context(), 'vol-1', values))
        self.assertEqual(3, len(seen))
        for attempt in seen:
            self.assertEqual({'display_name': 'x', 'metadata': {'k': 'v'}},
                             attempt)


class ForwardingLayoutTestCase(RetryTestCase):
    """Before cinder 29, cinder.db.api forwards to an IMPL module."""

    def test_retry_behind_forwarder_is_seen(self):
        impl = types.ModuleType('fake.db.sqlalchemy.api')

        @oslo_db_api.wrap_db_retry(max_retries=5, retry_on_deadlock=True)
        def quota_reserve(context, *args):
            return 'reserved'
        impl.quota_reserve = quota_reserve

        def forwarding_quota_reserve(context, *args):
            return impl.quota_reserve(context, *args)

        def forwarding_volume_update(context, *args):
            return 'updated'
        api = types.ModuleType('fake.db.api')
        api.quota_reserve = forwarding_quota_reserve
        api.volume_update = forwarding_volume_update
        done = retry.install([api], impls=[impl])
        self.assertEqual(['volume_update'], done)
        self.assertIs(forwarding_quota_reserve, api.quota_reserve)
        self.assertTrue(api.volume_update.ksvd_retry)
