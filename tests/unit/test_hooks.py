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

import logging as std_logging
import sys
import types
from unittest import mock

import fixtures
from oslo_config import cfg
from oslo_log import log as logging
from tests.unit import base

from cinder_ksvd import hooks
from cinder_ksvd import opts

ON_MODULE = 'ksvd_test_hook_on'
OFF_MODULE = 'ksvd_test_hook_off'


class HooksTestCase(base.TestCase):
    """hooks keeps process state; every test starts from a clean one."""

    def setUp(self):
        super(HooksTestCase, self).setUp()
        # Restore the module state and oslo_log's setup after each test.
        patcher = mock.patch.dict(hooks._state, {'installed': False,
                                                 'configured': False,
                                                 'active': None})
        patcher.start()
        self.addCleanup(patcher.stop)
        self.addCleanup(setattr, logging, 'setup', logging.setup)
        self.calls = []
        self.conf = self.new_conf()

    def fake_hooks(self, with_install=True):
        """Two fake hook modules; [ksvd] fake_on is on, fake_off is off."""
        modules = {}
        for name, switch in ((ON_MODULE, 'fake_on'),
                             (OFF_MODULE, 'fake_off')):
            module = types.ModuleType(name)
            if with_install:
                module.install = mock.Mock(
                    side_effect=lambda s=switch: self.calls.append(
                        ('install', s)))
            module.configured = mock.Mock(
                side_effect=lambda conf, s=switch: self.calls.append(
                    ('configured', s)))
            modules[name] = module
        self.useFixture(fixtures.MockPatchObject(
            hooks, 'HOOKS', (('fake_on', ON_MODULE),
                             ('fake_off', OFF_MODULE))))
        patcher = mock.patch.dict(sys.modules, modules)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.conf.register_opts([cfg.BoolOpt('fake_on', default=True),
                                 cfg.BoolOpt('fake_off', default=False)],
                                group=opts.KSVD_GROUP)
        return modules[ON_MODULE], modules[OFF_MODULE]

    def fake_log_setup(self):
        """Replace oslo_log's setup by one that records its calls."""
        def setup(conf, product, version='unknown'):
            self.calls.append(('setup', product))
            return 'setup-result'
        logging.setup = setup
        return setup


class InstallTestCase(HooksTestCase):

    def test_idempotent(self):
        self.fake_log_setup()
        self.assertIs(True, hooks.install(self.conf))
        self.assertIs(False, hooks.install(self.conf))
        self.assertTrue(hooks._state['installed'])

    def test_registers_ksvd_options(self):
        self.fake_log_setup()
        hooks.install(self.conf)
        self.conf([], default_config_files=[], default_config_dirs=[])
        for name, _path in hooks.HOOKS:
            self.assertIs(True, self.conf[opts.KSVD_GROUP][name])

    def test_runs_hook_install_once_in_order(self):
        self.fake_log_setup()
        on, off = self.fake_hooks()
        hooks.install(self.conf)
        hooks.install(self.conf)
        # Switches are not read at install time: both modules install.
        self.assertEqual([('install', 'fake_on'), ('install', 'fake_off')],
                         self.calls)
        on.install.assert_called_once_with()
        off.install.assert_called_once_with()
        on.configured.assert_not_called()

    def test_hook_without_install(self):
        self.fake_log_setup()
        self.fake_hooks(with_install=False)
        self.assertIs(True, hooks.install(self.conf))
        self.assertEqual([], self.calls)

    def test_wraps_log_setup(self):
        original = self.fake_log_setup()
        hooks.install(self.conf)
        self.assertIsNot(original, logging.setup)
        self.assertIs(original, logging.setup.__wrapped__)
        self.assertTrue(logging.setup._ksvd_wrapped)

    def test_log_setup_calls_configured_once_after_setup(self):
        self.fake_log_setup()
        hooks.install(self.conf)
        with mock.patch.object(hooks, 'configured',
                               side_effect=lambda conf: self.calls.append(
                                   ('configured', conf))) as configured:
            result = logging.setup(self.conf, 'cinder')
        self.assertEqual('setup-result', result)
        self.assertEqual([('setup', 'cinder'), ('configured', self.conf)],
                         self.calls)
        configured.assert_called_once_with(self.conf)

    def test_log_setup_runs_hooks_configured(self):
        self.fake_log_setup()
        on, off = self.fake_hooks()
        hooks.install(self.conf)
        self.calls[:] = []
        self.conf([], default_config_files=[], default_config_dirs=[])
        logging.setup(self.conf, 'cinder')
        self.assertEqual([('setup', 'cinder'), ('configured', 'fake_on')],
                         self.calls)
        on.configured.assert_called_once_with(self.conf)
        off.configured.assert_not_called()
        self.assertEqual(['fake_on'], hooks.active_hooks())

    def test_log_setup_wrapped_only_once(self):
        original = self.fake_log_setup()
        hooks.install(self.conf)
        wrapped = logging.setup
        # A second install in the same process (state reset) must not
        # stack a second wrapper around the first.
        hooks._state['installed'] = False
        hooks.install(self.conf)
        self.assertIs(wrapped, logging.setup)
        with mock.patch.object(hooks, 'configured') as configured:
            logging.setup(self.conf, 'cinder')
        configured.assert_called_once_with(self.conf)
        self.assertEqual([('setup', 'cinder')], self.calls)
        self.assertIs(original, logging.setup.__wrapped__)


class ConfiguredTestCase(HooksTestCase):

    def setUp(self):
        super(ConfiguredTestCase, self).setUp()
        self.fake_log_setup()
        self.log = self.useFixture(fixtures.FakeLogger(
            name='cinder_ksvd.hooks', level=std_logging.INFO))

    def _parse(self, text=''):
        args = []
        if text:
            path = self.write_file(self.make_tempdir(), 'c.conf', text)
            args = ['--config-file', path]
        self.conf(args, default_config_files=[], default_config_dirs=[])

    def test_only_switched_on_hooks_run(self):
        on, off = self.fake_hooks()
        hooks.install(self.conf)
        self._parse()
        self.assertEqual(['fake_on'], hooks.configured(self.conf))
        on.configured.assert_called_once_with(self.conf)
        off.configured.assert_not_called()

    def test_logs_one_line(self):
        self.fake_hooks()
        hooks.install(self.conf)
        self._parse()
        hooks.configured(self.conf)
        lines = self.log.output.splitlines()
        self.assertEqual(1, len(lines), lines)
        self.assertIn('ksvd-cinder hooks active: fake_on; '
                      'switched off in [ksvd]: fake_off', lines[0])

    def test_switches_from_config_file(self):
        on, off = self.fake_hooks()
        hooks.install(self.conf)
        self._parse('[ksvd]\nfake_on = false\nfake_off = true\n')
        self.assertEqual(['fake_off'], hooks.configured(self.conf))
        on.configured.assert_not_called()
        off.configured.assert_called_once_with(self.conf)
        self.assertIn('active: fake_off; switched off in [ksvd]: fake_on',
                      self.log.output)

    def test_all_switched_off(self):
        on, off = self.fake_hooks()
        hooks.install(self.conf)
        self._parse('[ksvd]\nfake_on = false\n')
        self.assertEqual([], hooks.configured(self.conf))
        on.configured.assert_not_called()
        off.configured.assert_not_called()
        self.assertIn('active: none; switched off in [ksvd]: '
                      'fake_on, fake_off', self.log.output)

    def test_runs_once(self):
        on, _off = self.fake_hooks()
        hooks.install(self.conf)
        self._parse()
        first = hooks.configured(self.conf)
        second = hooks.configured(self.conf)
        self.assertEqual(['fake_on'], first)
        self.assertEqual(first, second)
        on.configured.assert_called_once_with(self.conf)
        self.assertEqual(1, len(self.log.output.splitlines()))

    def test_active_hooks_before_configured(self):
        self.assertIsNone(hooks.active_hooks())

    def test_switched_on(self):
        self.fake_hooks()
        self._parse()
        self.assertTrue(hooks.switched_on(self.conf, 'fake_on'))
        self.assertFalse(hooks.switched_on(self.conf, 'fake_off'))

    def test_switched_off_hook_disabled(self):
        on, off = self.fake_hooks()
        on.disable = mock.Mock()
        off.disable = mock.Mock(side_effect=lambda conf: self.calls.append(
            ('disable', 'fake_off')))
        hooks.install(self.conf)
        self.calls[:] = []
        self._parse()
        self.assertEqual(['fake_on'], hooks.configured(self.conf))
        off.disable.assert_called_once_with(self.conf)
        on.disable.assert_not_called()
        off.configured.assert_not_called()
        self.assertEqual([('configured', 'fake_on'), ('disable', 'fake_off')],
                         self.calls)

    def test_switched_off_hook_without_disable(self):
        _on, off = self.fake_hooks()
        hooks.install(self.conf)
        self._parse('[ksvd]\nfake_on = false\n')
        self.assertFalse(hasattr(off, 'disable'))
        self.assertEqual([], hooks.configured(self.conf))

    def test_database_hook_disabled(self):
        # The real database hook: switched off, every part steps aside.
        from cinder_ksvd.db import connection
        from cinder_ksvd.db import exc_filters
        from cinder_ksvd.db import retry
        for state in (exc_filters._state, connection._settings,
                      retry._policy):
            patcher = mock.patch.dict(state)
            patcher.start()
            self.addCleanup(patcher.stop)
        self.useFixture(fixtures.MockPatchObject(
            hooks, 'HOOKS', (('database', 'cinder_ksvd.db'),)))
        opts.register_opts(self.conf)
        self.conf.register_opt(cfg.StrOpt('connection'), group='database')
        self._parse('[ksvd]\ndatabase = false\n')
        self.assertEqual([], hooks.configured(self.conf))
        self.assertIs(False, exc_filters.enabled())
        self.assertIs(False, connection.settings()['enabled'])
        self.assertIs(False, retry._policy['enabled'])


class PreflightTestCase(HooksTestCase):

    def setUp(self):
        super(PreflightTestCase, self).setUp()
        self.on, self.off = self.fake_hooks()
        self.on.preflight = mock.Mock(
            side_effect=lambda conf: self.calls.append(('preflight', 'on')))
        self.off.preflight = mock.Mock()

    def parse(self, text=''):
        args = []
        if text:
            path = self.write_file(self.make_tempdir(), 'c.conf', text)
            args = ['--config-file', path]
        self.conf(args, default_config_files=[], default_config_dirs=[])

    def test_runs_switched_on_checks(self):
        self.parse()
        self.assertIsNone(hooks.preflight(self.conf))
        self.on.preflight.assert_called_once_with(self.conf)
        self.off.preflight.assert_not_called()
        self.assertEqual([('preflight', 'on')], self.calls)

    def test_switches_from_config(self):
        self.parse('[ksvd]\nfake_on = false\nfake_off = true\n')
        hooks.preflight(self.conf)
        self.on.preflight.assert_not_called()
        self.off.preflight.assert_called_once_with(self.conf)

    def test_hook_without_preflight(self):
        del self.on.preflight
        self.parse('[ksvd]\nfake_off = true\n')
        hooks.preflight(self.conf)
        self.off.preflight.assert_called_once_with(self.conf)

    def test_refusal_propagates(self):
        from cinder_ksvd import exception
        self.on.preflight.side_effect = exception.StartupRefused('no way')
        self.parse()
        error = self.assertRaises(exception.StartupRefused,
                                  hooks.preflight, self.conf)
        self.assertEqual('no way', str(error))

    def test_registers_options_on_a_private_conf(self):
        # The wrappers call it with a conf parsed before our options exist.
        self.useFixture(fixtures.MockPatchObject(
            hooks, 'HOOKS', (('database', ON_MODULE),)))
        conf = self.new_conf()
        path = self.write_file(self.make_tempdir(), 'c.conf',
                               '[ksvd]\nconfig_defaults = false\n')
        conf(['--config-file', path], default_config_files=[],
             default_config_dirs=[])
        hooks.preflight(conf)
        self.assertIs(True, conf[opts.KSVD_GROUP].database)
        self.assertIs(False, conf[opts.KSVD_GROUP].config_defaults)
        self.on.preflight.assert_called_once_with(conf)
        self.assertFalse(hooks._state['installed'])
        self.assertFalse(hooks._state['configured'])
