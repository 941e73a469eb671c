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
import sys
from unittest import mock

import fixtures
from oslo_config import cfg
from tests.unit import base

from cinder_ksvd.cmd import all as all_cmd
from cinder_ksvd.cmd import common
from cinder_ksvd.cmd import embedded
from cinder_ksvd.cmd import preflight
from cinder_ksvd import hooks
from cinder_ksvd import paths

FAKE_DRIVER = 'cinder.tests.fake_driver.FakeLoggingVolumeDriver'


class RunTestCase(base.TestCase):
    """all.run() up to serve(): no cinder service is started."""

    def setUp(self):
        super(RunTestCase, self).setUp()
        self.conf = self.new_conf()
        # The two cinder options prepare() reads (cinder registers them on
        # the global CONF when _import_stock() imports cinder.cmd.*).
        self.conf.register_opts([
            cfg.StrOpt('state_path', default='/var/lib/cinder'),
            cfg.ListOpt('enabled_backends', default=[]),
        ])
        self.useFixture(fixtures.MockPatchObject(all_cmd, 'CONF',
                                                 self.conf))
        self.import_stock = self.useFixture(fixtures.MockPatchObject(
            all_cmd, '_import_stock')).mock
        self.install = self.useFixture(fixtures.MockPatchObject(
            hooks, 'install')).mock
        self.useFixture(fixtures.MockPatchObject(common, 'quiet_imports'))
        self.serve = self.useFixture(fixtures.MockPatchObject(
            embedded, 'serve', return_value=0)).mock
        self.stderr = base.StringIO()
        self.useFixture(fixtures.MockPatchObject(sys, 'stderr',
                                                 self.stderr))
        self.state = self.make_tempdir()

    def config(self, text=''):
        db = 'sqlite:///%s' % os.path.join(self.state, 'cinder.sqlite')
        return self.write_file(
            self.make_tempdir(), 'cinder.conf',
            '[DEFAULT]\nstate_path = %s\n%s\n[database]\nconnection = %s\n'
            % (self.state, text, db))

    def error_line(self):
        text = self.stderr.getvalue()
        self.assertEqual(1, len(text.splitlines()), text)
        self.assertTrue(text.startswith('ksvd-cinder-all: error: '), text)
        return text

    def test_demo_serves_with_overlay(self):
        path = self.config()
        argv = ['--config-file', path, '--demo']
        with mock.patch.object(preflight, 'check',
                               wraps=preflight.check) as check:
            self.assertEqual(0, all_cmd.run(argv))
        overlay = os.path.join(self.state, embedded.OVERLAY)
        full = argv + ['--config-file', overlay]
        self.serve.assert_called_once_with(self.conf, full, all_cmd.PROG)
        self.assertEqual([mock.call(argv, 'api'), mock.call(full, 'all')],
                         check.mock_calls)
        self.import_stock.assert_called_once_with()
        self.install.assert_called_once_with()
        self.assertTrue(self.conf.demo)
        self.assertEqual('', self.stderr.getvalue())

    def test_configured_backend(self):
        path = self.config('enabled_backends = b1\n[b1]\nvolume_driver = %s'
                           % FAKE_DRIVER)
        self.assertEqual(0, all_cmd.run(['--config-file', path]))
        self.assertEqual(1, self.serve.call_count)

    def test_backend_checked_after_prepare(self):
        path = self.config('enabled_backends = b1\n[b1]\nvolume_driver = '
                           'ksvd_no_such_module.Driver')
        self.assertEqual(78, all_cmd.run(['--config-file', path]))
        self.assertIn('[b1] volume_driver ksvd_no_such_module.Driver',
                      self.error_line())
        self.serve.assert_not_called()

    @mock.patch.object(paths, 'default_config_args', return_value=[])
    def test_no_config(self, default_args):
        with mock.patch.object(embedded, 'prepare') as prepare:
            self.assertEqual(78, all_cmd.run(['--demo']))
        self.assertIn('no configuration found', self.error_line())
        prepare.assert_not_called()
        self.serve.assert_not_called()

    def test_config_problem_before_prepare(self):
        missing = os.path.join(self.state, 'missing.conf')
        with mock.patch.object(embedded, 'prepare') as prepare:
            code = all_cmd.run(['--config-file', missing, '--demo'])
        self.assertEqual(78, code)
        self.assertIn('config file %s does not exist' % missing,
                      self.error_line())
        prepare.assert_not_called()

    def test_no_backend(self):
        self.assertEqual(78, all_cmd.run(['--config-file', self.config()]))
        line = self.error_line()
        self.assertIn('--demo', line)
        self.assertIn('--lvm-loop', line)
        self.serve.assert_not_called()

    def test_demo_and_lvm_loop(self):
        with mock.patch.object(embedded, 'setup_lvm_loop') as setup:
            code = all_cmd.run(['--config-file', self.config(), '--demo',
                                '--lvm-loop', '20G'])
        self.assertEqual(78, code)
        self.assertIn('--demo and --lvm-loop exclude each other',
                      self.error_line())
        setup.assert_not_called()
        self.serve.assert_not_called()

    def test_main_exits_with_run_code(self):
        with mock.patch.object(all_cmd, 'run', return_value=78) as run:
            exc = self.assertRaises(SystemExit, all_cmd.main, ['--demo'])
        self.assertEqual(78, exc.code)
        run.assert_called_once_with(['--demo'])
