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

import sys
import types
from unittest import mock

import fixtures
from tests.unit import base

from cinder_ksvd.cmd import common
from cinder_ksvd.cmd import preflight
from cinder_ksvd import hooks
from cinder_ksvd import wsgi


class InitializeApplicationTestCase(base.TestCase):
    """Stock cinder.wsgi.wsgi is replaced: no cinder API is built."""

    def setUp(self):
        super(InitializeApplicationTestCase, self).setUp()
        self.stock = types.ModuleType('cinder.wsgi.wsgi')
        self.stock.initialize_application = mock.Mock(return_value='app')
        import cinder.wsgi
        patcher = mock.patch.dict(sys.modules,
                                  {'cinder.wsgi.wsgi': self.stock})
        patcher.start()
        self.addCleanup(patcher.stop)
        # create: the package has no attribute until the real module is
        # imported, which this test avoids.
        patcher = mock.patch.object(cinder.wsgi, 'wsgi', self.stock,
                                    create=True)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.install = self.useFixture(fixtures.MockPatchObject(
            hooks, 'install')).mock
        self.check = self.useFixture(fixtures.MockPatchObject(
            preflight, 'check')).mock
        self.useFixture(fixtures.MockPatchObject(
            sys, 'argv', ['uwsgi', '--config-file', '/my.conf']))

    def test_application(self):
        self.assertEqual('app', wsgi.initialize_application())
        self.install.assert_called_once_with()
        self.check.assert_called_once_with(['--config-file', '/my.conf'],
                                           'api')
        self.assertEqual(['uwsgi', '--config-file', '/my.conf'], sys.argv)
        self.stock.initialize_application.assert_called_once_with()

    def test_default_layering(self):
        sys.argv[1:] = []
        with mock.patch.object(common, 'config_argv',
                               return_value=['--config-file', '/d.conf']):
            wsgi.initialize_application()
        self.assertEqual(['uwsgi', '--config-file', '/d.conf'], sys.argv)

    def test_no_configuration(self):
        with mock.patch.object(common, 'config_argv', return_value=None):
            exc = self.assertRaises(RuntimeError,
                                    wsgi.initialize_application)
        self.assertIn('no configuration found', str(exc))
        self.stock.initialize_application.assert_not_called()

    def test_config_problem(self):
        self.check.side_effect = preflight.ConfigProblem('bad thing')
        exc = self.assertRaises(RuntimeError, wsgi.initialize_application)
        self.assertEqual('ksvd-cinder-wsgi: bad thing', str(exc))
        self.stock.initialize_application.assert_not_called()
