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

import logging

import fixtures
import oslo_messaging
from tests.unit import base

from cinder_ksvd.compat import logfilters


class RpcClientWarningTestCase(base.TestCase):
    """oslo.messaging's real RPCClient on its fake driver."""

    def setUp(self):
        super(RpcClientWarningTestCase, self).setUp()
        logfilters.uninstall()  # another test's compat.configured()
        self.addCleanup(logfilters.uninstall)
        self.log = self.useFixture(fixtures.FakeLogger(
            name=logfilters.RPC_CLIENT_LOGGER, level=logging.WARNING))
        self.transport = oslo_messaging.get_rpc_transport(
            self.new_conf(), url='fake:/')
        self.addCleanup(self.transport.cleanup)
        self.target = oslo_messaging.Target(topic='cinder-volume')

    def manual_clients(self, count):
        for _ in range(count):
            oslo_messaging.RPCClient(self.transport, self.target)

    def lines(self):
        return [line for line in self.log.output.splitlines()
                if logfilters.RPC_CLIENT_MANUAL in line]

    def test_repeated_for_each_client_without_the_filter(self):
        self.manual_clients(3)
        self.assertEqual(3, len(self.lines()))

    def test_logged_once_with_a_note(self):
        self.assertTrue(logfilters.install())
        self.assertFalse(logfilters.install())
        self.manual_clients(3)
        lines = self.lines()
        self.assertEqual(1, len(lines))
        self.assertIn('repeats in this process are not logged', lines[0])

    def test_other_records_pass(self):
        logfilters.install()
        self.manual_clients(2)
        logging.getLogger(logfilters.RPC_CLIENT_LOGGER).warning('other %s',
                                                                'record')
        self.assertIn('other record', self.log.output)

    def test_uninstall(self):
        logfilters.install()
        logfilters.uninstall()
        self.manual_clients(2)
        self.assertEqual(2, len(self.lines()))
