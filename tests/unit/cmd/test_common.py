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
import warnings

import fixtures
from oslo_config import cfg
from tests.unit import base

from cinder_ksvd.cmd import common
from cinder_ksvd.cmd import preflight
from cinder_ksvd import hooks
from cinder_ksvd import paths

DEFAULT_ARGS = ['--config-file', '/share/cinder-dist.conf',
                '--config-dir', '/etc/ksvd-cinder/cinder.conf.d']


class ConfigArgvTestCase(base.TestCase):

    @mock.patch.object(paths, 'default_config_args',
                       return_value=DEFAULT_ARGS)
    def test_argv_naming_a_config_unchanged(self, default_args):
        argv = ['db', 'sync', '--config-file', '/my.conf']
        result = common.config_argv(argv)
        self.assertEqual(['db', 'sync', '--config-file', '/my.conf'],
                         result)
        self.assertIsNot(argv, result)
        default_args.assert_not_called()

    @mock.patch.object(paths, 'default_config_args',
                       return_value=DEFAULT_ARGS)
    def test_config_dir_only_unchanged(self, default_args):
        self.assertEqual(['--config-dir=/d'],
                         common.config_argv(['--config-dir=/d']))
        default_args.assert_not_called()

    @mock.patch.object(paths, 'default_config_args',
                       return_value=DEFAULT_ARGS)
    def test_default_layering_prepended(self, default_args):
        self.assertEqual(DEFAULT_ARGS + ['db', 'sync'],
                         common.config_argv(['db', 'sync']))
        self.assertEqual(DEFAULT_ARGS, common.config_argv([]))

    @mock.patch.object(paths, 'default_config_args', return_value=[])
    def test_nothing_found(self, default_args):
        self.assertIsNone(common.config_argv(['--debug']))


class RunTestCase(base.TestCase):

    def setUp(self):
        super(RunTestCase, self).setUp()
        self.stderr = base.StringIO()
        self.useFixture(fixtures.MockPatchObject(sys, 'stderr',
                                                 self.stderr))
        self.useFixture(fixtures.MockPatchObject(sys, 'argv',
                                                 ['ksvd-cinder-test']))
        self.stock = mock.Mock(name='cinder.cmd.stock')
        self.stock.main.return_value = None
        self.importlib = self.useFixture(fixtures.MockPatchObject(
            common, 'importlib')).mock
        self.importlib.import_module.return_value = self.stock
        self.install = self.useFixture(fixtures.MockPatchObject(
            hooks, 'install')).mock
        # It changes the process-wide warning filters; tested on its own.
        self.quiet = self.useFixture(fixtures.MockPatchObject(
            common, 'quiet_imports')).mock
        self.dir = self.make_tempdir()

    def error_line(self):
        text = self.stderr.getvalue()
        self.assertTrue(text.endswith('\n'), text)
        self.assertEqual(1, len(text.splitlines()), text)
        return text

    def test_missing_config_file(self):
        missing = os.path.join(self.dir, 'missing.conf')
        code = common.run('volume', ['--config-file', missing],
                          check='volume')
        self.assertEqual(78, code)
        self.assertEqual(preflight.EX_CONFIG, code)
        line = self.error_line()
        self.assertEqual('ksvd-cinder-volume: error: config file %s does '
                         'not exist\n' % missing, line)
        self.stock.main.assert_not_called()

    def test_stock_module_imported_before_hooks(self):
        # Recorded through side effects, not attach_mock: fixtures makes
        # its mocks with the "mock" library where that is installed (the
        # legacy venvs), and attach_mock ignores another library's mocks.
        order = []
        self.quiet.side_effect = lambda: order.append('quiet_imports')

        def import_module(name):
            order.append('import_module %s' % name)
            return self.stock
        self.importlib.import_module.side_effect = import_module
        self.install.side_effect = lambda: order.append('install')
        self.stock.main.side_effect = lambda: order.append('main')
        path = self.write_file(self.dir, 'c.conf')
        self.assertEqual(0, common.run('api', ['--config-file', path]))
        self.assertEqual(['quiet_imports', 'import_module cinder.cmd.api',
                          'install', 'main'], order)

    @mock.patch.object(paths, 'default_config_args', return_value=[])
    def test_no_config_found(self, default_args):
        code = common.run('api', [], check='api')
        self.assertEqual(78, code)
        line = self.error_line()
        self.assertTrue(line.startswith('ksvd-cinder-api: error: no '
                                        'configuration found'), line)
        self.assertIn('--config-file', line)
        self.stock.main.assert_not_called()

    def test_argv_for_stock_main(self):
        path = self.write_file(self.dir, 'c.conf')
        seen = []
        self.stock.main.side_effect = lambda: seen.append(list(sys.argv))
        code = common.run('manage', ['db', 'sync', '--config-file', path],
                          prog='ksvd-cinder-manage')
        self.assertEqual(0, code)
        self.assertEqual([['ksvd-cinder-manage', 'db', 'sync',
                           '--config-file', path]], seen)
        self.assertEqual('', self.stderr.getvalue())

    @mock.patch.object(paths, 'default_config_args')
    def test_default_layering_passed_to_stock_main(self, default_args):
        path = self.write_file(self.dir, 'c.conf')
        default_args.return_value = ['--config-file', path]
        seen = []
        self.stock.main.side_effect = lambda: seen.append(list(sys.argv))
        common.run('scheduler', ['--debug'])
        self.assertEqual([['ksvd-cinder-scheduler', '--config-file', path,
                           '--debug']], seen)

    def test_exit_code_of_stock_main(self):
        path = self.write_file(self.dir, 'c.conf')
        self.stock.main.return_value = 3
        self.assertEqual(3, common.run('api', ['--config-file', path]))

    def test_config_error_in_stock_main(self):
        path = self.write_file(self.dir, 'c.conf')
        self.stock.main.side_effect = cfg.Error('first line\nsecond line')
        code = common.run('api', ['--config-file', path])
        self.assertEqual(78, code)
        self.assertEqual('ksvd-cinder-api: error: first line\n',
                         self.error_line())

    def test_preflight_runs_requested_check(self):
        path = self.write_file(self.dir, 'c.conf')
        with mock.patch.object(preflight, 'check') as check:
            common.run('backup', ['--config-file', path], check='backup')
        check.assert_called_once_with(['--config-file', path], 'backup')
        self.stock.main.assert_called_once_with()

    def test_fail(self):
        self.assertEqual(78, common.fail('prog', 'bad thing'))
        self.assertEqual('prog: error: bad thing\n', self.error_line())


class QuietImportsTestCase(base.TestCase):

    def test_eventlet_notice_silenced(self):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            common.quiet_imports()
            warnings.warn('\nEventlet is deprecated. It is currently '
                          'being maintained in bugfix mode.',
                          DeprecationWarning)
            warnings.warn('something else is deprecated',
                          DeprecationWarning)
        self.assertEqual(['something else is deprecated'],
                         [str(w.message) for w in caught])
