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

import socket
from unittest import mock

from oslo_config import cfg
from tests import ports
from tests.unit import base

from cinder_ksvd import cluster
from cinder_ksvd import exception


class MaskedTestCase(base.TestCase):

    def test_password_masked(self):
        self.assertEqual('redis://:***@h:6379',
                         cluster.masked('redis://:secret@h:6379'))
        self.assertEqual('mysql://u:***@h/db?x=1',
                         cluster.masked('mysql://u:pass@h/db?x=1'))
        self.assertEqual('etcd3+http://h:2379',
                         cluster.masked('etcd3+http://h:2379'))


class CheckCoordinationTestCase(base.TestCase):

    def check(self, url):
        conf = self.new_conf()
        conf([])
        conf.register_opt(cfg.StrOpt('backend_url', secret=True),
                          group='coordination')
        if url is not None:
            conf.set_override('backend_url', url, group='coordination')
        return cluster.check_coordination(conf, timeout=2)

    def refused(self, url):
        exc = self.assertRaises(exception.StartupRefused, self.check, url)
        self.assertNotIn('\n', str(exc))
        return str(exc)

    def test_single_node_defaults_pass(self):
        self.assertIsNone(self.check(None))
        self.assertIsNone(self.check('file:///var/lib/cinder/coordination'))

    def test_garbage(self):
        self.assertIn('backend_url garbage is not a URL: use e.g. '
                      'etcd3+http://', self.refused('garbage'))

    def test_unknown_driver(self):
        self.assertIn("tooz cannot load a driver for it (NoMatches",
                      self.refused('nosuch://127.0.0.1:1'))

    def test_unreachable_redis_is_quick_and_masked(self):
        port = ports.free_port()
        msg = self.refused('redis://:secret@127.0.0.1:%d' % port)
        self.assertIn('cannot reach the coordinator at 127.0.0.1:%d' % port,
                      msg)
        self.assertIn('redis://:***@127.0.0.1', msg)
        self.assertNotIn('secret', msg)

    def test_bad_port(self):
        self.assertIn('is not a valid URL',
                      self.refused('redis://127.0.0.1:notaport'))

    def test_driver_start_failure(self):
        from tooz import coordination
        coord = mock.Mock()
        coord.start.side_effect = coordination.ToozConnectionError(
            'auth failed\nsecond line')
        listener = socket.socket()
        listener.bind(('127.0.0.1', 0))
        listener.listen(1)
        self.addCleanup(listener.close)
        url = 'redis://127.0.0.1:%d' % listener.getsockname()[1]
        with mock.patch.object(coordination, 'get_coordinator',
                               return_value=coord):
            msg = self.refused(url)
        self.assertIn('cannot reach the coordinator (ToozConnectionError: '
                      'auth failed): start it or fix the URL', msg)

    def test_reachable(self):
        from tooz import coordination
        coord = mock.Mock()
        listener = socket.socket()
        listener.bind(('127.0.0.1', 0))
        listener.listen(1)
        self.addCleanup(listener.close)
        url = 'redis://127.0.0.1:%d' % listener.getsockname()[1]
        with mock.patch.object(coordination, 'get_coordinator',
                               return_value=coord) as get:
            self.assertIsNone(self.check(url))
        self.assertEqual(url, get.call_args[0][0])
        coord.start.assert_called_once_with(start_heart=False)
        coord.stop.assert_called_once_with()
