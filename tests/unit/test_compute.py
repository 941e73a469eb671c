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

from oslo_config import cfg
from tests.unit import base

from cinder_ksvd import compute
from cinder_ksvd import exception


class ComputeHookTestCase(base.TestCase):
    """Start-up checks of [ksvd_compute] on the wrappers' private conf."""

    def setUp(self):
        super(ComputeHookTestCase, self).setUp()
        self.state = self.make_tempdir()
        self.conf = self.new_conf()
        self.conf.register_opt(cfg.StrOpt('state_path'))
        self.files = []

    def load(self, compute_opts=None, default=None, extra=''):
        text = '[DEFAULT]\nstate_path = %s\n' % self.state
        for key, value in (default or {'compute_api_class':
                                       compute.OUR_CLASS}).items():
            text += '%s = %s\n' % (key, value)
        text += '[ksvd_compute]\n'
        for key, value in (compute_opts or {}).items():
            text += '%s = %s\n' % (key, value)
        text += extra
        path = self.write_file(self.state, 'c%d.conf' % len(self.files),
                               text)
        self.files.append(path)
        from cinder_ksvd import opts
        opts.register_opts(self.conf)
        self.conf(['--config-file', path], default_config_files=[],
                  default_config_dirs=[])
        return self.conf

    def refused(self, **kwargs):
        conf = self.load(**kwargs)
        exc = self.assertRaises(compute.ComputeConfigError,
                                compute.preflight, conf)
        self.assertIsInstance(exc, exception.StartupRefused)
        self.assertTrue(str(exc).startswith('[ksvd_compute] '))
        self.assertNotIn('\n', str(exc))
        return str(exc)

    def test_defaults_pass(self):
        self.assertIsNone(compute.preflight(self.load()))

    def test_stock_class_is_not_checked(self):
        stock = {'compute_api_class': 'cinder.compute.nova.API'}
        conf = self.load({'sinks': 'webhook'}, default=stock)
        self.assertIsNone(compute.preflight(conf))

    def test_webhook_needs_url_and_secret(self):
        message = self.refused(compute_opts={'sinks': 'webhook'})
        self.assertIn('webhook_url is not an http:// or https:// URL',
                      message)
        self.assertIn('webhook_secret is not set', message)

    def test_webhook_url_scheme(self):
        message = self.refused(compute_opts={
            'sinks': 'webhook', 'webhook_url': 'ftp://127.0.0.1/x',
            'webhook_secret': 's'})
        self.assertIn("'ftp://127.0.0.1/x'", message)

    def test_good_webhook(self):
        conf = self.load({'sinks': 'webhook,log',
                          'webhook_url': 'https://127.0.0.1/e',
                          'webhook_secret': 's'})
        self.assertIsNone(compute.preflight(conf))

    def test_unreadable_ca_file(self):
        message = self.refused(compute_opts={
            'webhook_ca_file': os.path.join(self.state, 'missing.pem')})
        self.assertIn('missing.pem is not readable', message)

    def test_notifications_need_a_driver(self):
        message = self.refused(compute_opts={'sinks': 'notifications'})
        self.assertIn('[oslo_messaging_notifications] driver', message)
        self.conf.clear()
        self.conf = self.new_conf()
        self.conf.register_opt(cfg.StrOpt('state_path'))
        conf = self.load({'sinks': 'notifications'},
                         extra='[oslo_messaging_notifications]\n'
                               'driver = messagingv2\n')
        self.assertIsNone(compute.preflight(conf))

    def test_mc_api_url_needs_scheme_and_secret(self):
        message = self.refused(compute_opts={'mc_api_url': 'mc.example'})
        self.assertIn("mc_api_url is not an http:// or https:// URL",
                      message)
        self.assertIn('webhook_secret (which signs its queries)', message)

    def test_unknown_sink_is_one_line(self):
        message = self.refused(compute_opts={'sinks': 'carrier-pigeon'})
        self.assertIn('carrier-pigeon', message)

    def test_empty_sinks(self):
        message = self.refused(compute_opts={'sinks': ''})
        self.assertIn('sinks is empty', message)

    def test_outbox_not_writable(self):
        blocker = self.write_file(self.state, 'a-file', 'x')
        message = self.refused(compute_opts={
            'outbox_dir': os.path.join(blocker, 'outbox')})
        self.assertIn('cannot be created or written', message)

    def test_outbox_parent_created_later_is_fine(self):
        conf = self.load({'outbox_dir': os.path.join(self.state, 'a', 'b')})
        self.assertIsNone(compute.preflight(conf))

    def test_global_conf_stays_usable(self):
        # Tools pass cfg.CONF; cinder and oslo.messaging register the same
        # options there later, which must not conflict.
        conf = self.load()
        compute.preflight(conf)
        from cinder import compute as cinder_compute
        import oslo_messaging.opts
        conf.register_opts(cinder_compute.compute_opts)
        for group, group_opts in oslo_messaging.opts.list_opts():
            conf.register_opts(group_opts, group=group)
        self.assertEqual(compute.OUR_CLASS, conf.compute_api_class)
