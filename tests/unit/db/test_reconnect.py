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

from unittest import mock

import pymysql
import sqlalchemy as sa
from tests import ports
from tests.unit import base

from cinder_ksvd.db import reconnect


class ReconnectTest(base.TestCase):

    def setUp(self):
        super(ReconnectTest, self).setUp()
        reconnect.install()
        self.addCleanup(reconnect.configure, 0)
        self.sleeps = []
        patcher = mock.patch.object(reconnect.time, 'sleep',
                                    side_effect=self.sleeps.append)
        patcher.start()
        self.addCleanup(patcher.stop)

    def _engine(self, url):
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.addCleanup(engine.dispose)
        return engine

    def test_waits_out_refusals_then_connects(self):
        reconnect.configure(30)
        engine = self._engine('mysql+pymysql://u:p@127.0.0.1:1/db')
        refused = pymysql.err.OperationalError(
            2003, "Can't connect to MySQL server on '127.0.0.1'")
        sentinel = mock.MagicMock(name='dbapi-connection')
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        effects = [refused, refused, sentinel]
        with mock.patch.object(engine.dialect, 'connect',
                               side_effect=effects) as c, \
                self.assertLogs(reconnect.LOG.logger, 'WARNING') as logs:
            # What SQLAlchemy calls before it would connect itself.
            raw = reconnect.on_do_connect(engine.dialect, None, cargs,
                                          cparams)
        self.assertEqual(3, c.call_count)
        c.assert_called_with(*cargs, **cparams)
        self.assertIs(sentinel, raw)
        self.assertEqual(2, len(self.sleeps))
        self.assertTrue(all(0 < s <= 5 for s in self.sleeps), self.sleeps)
        self.assertGreater(self.sleeps[1], self.sleeps[0])
        text = '\n'.join(logs.output)
        self.assertIn('refuses connections', text)
        self.assertIn('127.0.0.1:1', text)
        self.assertIn('reachable again', text)

    def test_wrong_password_fails_at_once(self):
        reconnect.configure(30)
        engine = self._engine('mysql+pymysql://u:p@127.0.0.1:1/db')
        denied = pymysql.err.OperationalError(
            1045, "Access denied for user 'u'@'localhost'")
        with mock.patch.object(engine.dialect, 'connect',
                               side_effect=denied) as c:
            self.assertRaises(sa.exc.OperationalError, engine.connect)
        self.assertEqual(1, c.call_count)
        self.assertEqual([], self.sleeps)

    def test_gives_up_after_reconnect_wait(self):
        reconnect.configure(2)
        port = ports.free_port()
        engine = self._engine('mysql+pymysql://u:p@127.0.0.1:%d/db' % port)
        clock = [1000.0]

        def sleep(seconds):
            self.sleeps.append(seconds)
            clock[0] += seconds

        with mock.patch.object(reconnect.time, 'sleep', side_effect=sleep), \
                mock.patch.object(reconnect.time, 'time',
                                  side_effect=lambda: clock[0]), \
                self.assertLogs(reconnect.LOG.logger, 'ERROR') as logs:
            # A real refused TCP connection to a closed loopback port.
            exc = self.assertRaises(sa.exc.OperationalError, engine.connect)
        self.assertEqual(2003, exc.orig.args[0])
        self.assertGreaterEqual(len(self.sleeps), 2)
        self.assertLessEqual(sum(self.sleeps), 2.0 + 1e-6)
        self.assertIn('still unreachable', logs.output[-1])

    def test_zero_wait_is_stock_behaviour(self):
        reconnect.configure(0)
        engine = self._engine('mysql+pymysql://u:p@127.0.0.1:%d/db'
                              % ports.free_port())
        self.assertRaises(sa.exc.OperationalError, engine.connect)
        self.assertEqual([], self.sleeps)

    def test_sqlite_untouched(self):
        reconnect.configure(30)
        engine = self._engine('sqlite://')
        with engine.connect() as conn:
            self.assertEqual(1, conn.execute(sa.text('SELECT 1')).scalar())
        self.assertEqual([], self.sleeps)

    def test_transient_codes(self):
        mysql = mock.Mock()
        mysql.name = 'mysql'
        for code in (2002, 2003, 2006, 2013, 1040, 1053):
            self.assertTrue(reconnect.transient(
                mysql, pymysql.err.OperationalError(code, 'x')), code)
        for code in (1044, 1045, 1049):
            self.assertFalse(reconnect.transient(
                mysql, pymysql.err.OperationalError(code, 'x')), code)
        pg = mock.Mock()
        pg.name = 'postgresql'
        self.assertTrue(reconnect.transient(
            pg, Exception('could not connect to server: Connection '
                          'refused')))
        self.assertFalse(reconnect.transient(
            pg, Exception('password authentication failed for user')))


class Ctx(object):
    """A request context outside any enginefacade transaction."""


class InTransaction(object):
    transaction_ctx = object()


class WrapApiTest(base.TestCase):

    def setUp(self):
        super(WrapApiTest, self).setUp()
        reconnect.install()
        reconnect.configure(30, interval=0)
        self.addCleanup(reconnect.configure, 0)
        self.engine = sa.create_engine('sqlite://')
        self.addCleanup(self.engine.dispose)

    @staticmethod
    def lost():
        from oslo_db import exception as db_exc
        return db_exc.DBConnectionError(
            pymysql.err.OperationalError(
                2013, 'Lost connection to MySQL server during query'))

    def test_repeated_when_no_commit_was_sent(self):
        seen = []

        def volume_update(context, volume_id, values):
            seen.append(dict(values))
            values.pop('metadata')  # cinder consumes its arguments
            if len(seen) == 1:
                raise self.lost()
            return 'ok'

        values = {'status': 'available', 'metadata': {'a': '1'}}
        with self.assertLogs(reconnect.LOG.logger, 'WARNING') as logs:
            result = reconnect.wrap_api(volume_update)(Ctx(), 'v1', values)
        self.assertEqual('ok', result)
        self.assertEqual([{'status': 'available', 'metadata': {'a': '1'}}] * 2,
                         seen)
        self.assertIn('volume_update lost its database connection before '
                      'any commit', logs.output[0])

    def test_not_repeated_after_a_commit(self):
        calls = []

        def volume_destroy(context, volume_id):
            calls.append(volume_id)
            with self.engine.begin() as conn:  # sends a COMMIT
                conn.execute(sa.text('SELECT 1'))
            raise self.lost()

        from oslo_db import exception as db_exc
        self.assertRaises(db_exc.DBConnectionError,
                          reconnect.wrap_api(volume_destroy), Ctx(), 'v1')
        self.assertEqual(['v1'], calls)

    def committing_worker_create(self, calls, lost_first=True):
        """worker_create that sends a COMMIT and loses it the first time."""
        def worker_create(context, **values):
            calls.append(dict(values))
            with self.engine.begin() as conn:  # sends a COMMIT
                conn.execute(sa.text('SELECT 1'))
            if lost_first and len(calls) == 1:
                raise self.lost()
            return 'created'
        return worker_create

    def api_with(self, row=None, error=None):
        api = mock.Mock()
        if error is not None:
            api.worker_get.side_effect = error
        else:
            api.worker_get.return_value = row
        return api

    def test_lost_commit_of_worker_create_read_back_there(self):
        calls = []
        row = mock.Mock(status='deleting', service_id=None)
        api = self.api_with(row)
        wrapped = reconnect.wrap_api(self.committing_worker_create(calls),
                                     api)
        with self.assertLogs(reconnect.LOG.logger, 'WARNING') as logs:
            result = wrapped(Ctx(), status='deleting', resource_type='Volume',
                             resource_id='v1')
        self.assertIs(row, result)
        self.assertEqual(1, len(calls))  # not repeated: it is there
        api.worker_get.assert_called_once_with(
            mock.ANY, resource_type='Volume', resource_id='v1')
        self.assertIn('what it wrote is there: done', logs.output[0])

    def test_lost_commit_of_worker_create_not_there_repeated(self):
        class WorkerNotFound(Exception):
            pass
        calls = []
        api = self.api_with(error=WorkerNotFound())
        wrapped = reconnect.wrap_api(self.committing_worker_create(calls),
                                     api)
        with self.assertLogs(reconnect.LOG.logger, 'WARNING') as logs:
            result = wrapped(Ctx(), status='deleting', resource_type='Volume',
                             resource_id='v1')
        self.assertEqual('created', result)
        self.assertEqual(2, len(calls))
        self.assertEqual(calls[0], calls[1])
        self.assertIn('nothing was written: repeating it', logs.output[0])

    def assert_not_settled(self, api):
        from oslo_db import exception as db_exc
        calls = []
        wrapped = reconnect.wrap_api(self.committing_worker_create(calls),
                                     api)
        self.assertRaises(db_exc.DBConnectionError, wrapped, Ctx(),
                          status='deleting', resource_type='Volume',
                          resource_id='v1')
        self.assertEqual(1, len(calls))

    def test_lost_commit_of_worker_create_other_row_raises(self):
        # Another service's claim: not what this call wrote.
        self.assert_not_settled(
            self.api_with(mock.Mock(status='deleting', service_id=7)))

    def test_lost_commit_not_settled_without_the_api_module(self):
        self.assert_not_settled(None)

    def test_read_before_commit_repeated_with_real_engine(self):
        calls = []

        def volume_get(context, volume_id):
            calls.append(volume_id)
            with self.engine.connect() as conn:  # no COMMIT: rolled back
                value = conn.execute(sa.text('SELECT 7')).scalar()
            if len(calls) == 1:
                raise self.lost()
            return value

        self.assertEqual(7, reconnect.wrap_api(volume_get)(Ctx(), 'v1'))
        self.assertEqual(['v1', 'v1'], calls)

    def test_gives_up_after_three_repeats(self):
        calls = []

        def volume_get(context, volume_id):
            calls.append(volume_id)
            raise self.lost()

        from oslo_db import exception as db_exc
        self.assertRaises(db_exc.DBConnectionError,
                          reconnect.wrap_api(volume_get), Ctx(), 'v1')
        self.assertEqual(4, len(calls))

    def test_inside_a_transaction_or_switched_off_calls_through(self):
        from oslo_db import exception as db_exc
        calls = []

        def volume_get(context, volume_id):
            calls.append(volume_id)
            raise self.lost()

        wrapped = reconnect.wrap_api(volume_get)
        self.assertRaises(db_exc.DBConnectionError, wrapped,
                          InTransaction(), 'v1')
        reconnect.configure(0)
        self.assertRaises(db_exc.DBConnectionError, wrapped, Ctx(), 'v2')
        self.assertEqual(['v1', 'v2'], calls)

    def test_nested_calls_repeat_once_at_the_outside(self):
        from oslo_db import exception as db_exc
        calls = []

        def inner(context, volume_id):
            calls.append('inner')
            raise self.lost()

        wrapped_inner = reconnect.wrap_api(inner)

        def outer(context, volume_id):
            calls.append('outer')
            return wrapped_inner(context, volume_id)

        self.assertRaises(db_exc.DBConnectionError,
                          reconnect.wrap_api(outer), Ctx(), 'v1')
        self.assertEqual(['outer', 'inner'] * 4, calls)

    def test_install_api_wraps_public_context_functions(self):
        import types
        module = types.ModuleType('fake_db_api')

        def volume_get(context, volume_id):
            return volume_id

        def get_engine():
            return None

        def _private(context):
            return None

        for fn in (volume_get, get_engine, _private):
            fn.__module__ = 'fake_db_api'
            setattr(module, fn.__name__, fn)
        module.sleep = reconnect.time.sleep  # not a function of the module
        self.assertEqual(1, reconnect.install_api([module]))
        self.assertTrue(module.volume_get.ksvd_reconnect)
        self.assertIs(get_engine, module.get_engine)
        self.assertIs(_private, module._private)
        self.assertEqual('v', module.volume_get(Ctx(), 'v'))
        self.assertEqual(0, reconnect.install_api([module]))
