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
from unittest import mock

from oslo_config import cfg
from oslo_service import wsgi
from tests.unit import base

from cinder_ksvd import config_defaults
from cinder_ksvd import paths

FOUND_PASTE = '/found/ksvd-cinder/api-paste.ini'
STOCK_FILTERS = '/etc/cinder/resource_filters.json'


class ConfigDefaultsTestCase(base.TestCase):

    def parsed_conf(self, text=None, register=None):
        """A fresh ConfigOpts parsed from a config file holding text."""
        conf = self.new_conf()
        wsgi.register_opts(conf)
        if register:
            register(conf)
        args = []
        if text is not None:
            path = self.write_file(self.make_tempdir(), 'cinder.conf', text)
            args = ['--config-file', path]
        conf(args, project='cinder', default_config_files=[],
             default_config_dirs=[])
        return conf


class DefaultPasteTestCase(ConfigDefaultsTestCase):

    @mock.patch.object(paths, 'find', return_value=FOUND_PASTE)
    def test_unset_gets_found_file(self, find):
        conf = self.parsed_conf()
        self.assertEqual(FOUND_PASTE, config_defaults._default_paste(conf))
        self.assertEqual(FOUND_PASTE, conf.api_paste_config)
        find.assert_called_once_with(paths.PASTE_INI)

    @mock.patch.object(paths, 'find', return_value=FOUND_PASTE)
    def test_unset_in_file_gets_found_file(self, find):
        conf = self.parsed_conf('[DEFAULT]\ndebug = true\n')
        config_defaults._default_paste(conf)
        self.assertEqual(FOUND_PASTE, conf.api_paste_config)

    @mock.patch.object(paths, 'find', return_value=FOUND_PASTE)
    def test_explicit_value_left_alone(self, find):
        conf = self.parsed_conf('[DEFAULT]\n'
                                'api_paste_config = /operator/paste.ini\n')
        self.assertIsNone(config_defaults._default_paste(conf))
        self.assertEqual('/operator/paste.ini', conf.api_paste_config)
        find.assert_not_called()

    @mock.patch.object(paths, 'find', return_value=FOUND_PASTE)
    def test_explicit_stock_value_left_alone(self, find):
        # Set to the very value of the stock default: still the operator's.
        stock = self.parsed_conf().api_paste_config
        conf = self.parsed_conf('[DEFAULT]\napi_paste_config = %s\n'
                                % stock)
        config_defaults._default_paste(conf)
        self.assertEqual(stock, conf.api_paste_config)

    @mock.patch.object(paths, 'find', return_value=FOUND_PASTE)
    def test_override_left_alone(self, find):
        conf = self.new_conf()
        wsgi.register_opts(conf)
        conf.set_override('api_paste_config', '/override/paste.ini')
        conf([], default_config_files=[], default_config_dirs=[])
        config_defaults._default_paste(conf)
        self.assertEqual('/override/paste.ini', conf.api_paste_config)

    @mock.patch.object(paths, 'find', return_value=None)
    def test_nothing_found_keeps_stock_default(self, find):
        conf = self.parsed_conf()
        stock = conf.api_paste_config
        self.assertIsNone(config_defaults._default_paste(conf))
        self.assertEqual(stock, conf.api_paste_config)

    @mock.patch.object(paths, 'find', return_value=FOUND_PASTE)
    def test_registers_wsgi_options_itself(self, find):
        conf = self.new_conf()
        conf([], default_config_files=[], default_config_dirs=[])
        config_defaults._default_paste(conf)
        self.assertEqual(FOUND_PASTE, conf.api_paste_config)


def _register_filters(conf):
    conf.register_opt(cfg.StrOpt('resource_query_filters_file',
                                 default=STOCK_FILTERS))


class DefaultResourceFiltersTestCase(ConfigDefaultsTestCase):

    def setUp(self):
        super(DefaultResourceFiltersTestCase, self).setUp()
        self.data = self.write_file(self.make_tempdir(),
                                    'resource_filters.json', '{}')

    def test_missing_stock_file_replaced(self):
        conf = self.parsed_conf(register=_register_filters)
        with mock.patch.object(paths, 'cinder_data_file',
                               return_value=self.data) as data_file:
            with mock.patch.object(os.path, 'isfile', return_value=False):
                found = config_defaults._default_resource_filters(conf)
        self.assertEqual(self.data, found)
        self.assertEqual(self.data, conf.resource_query_filters_file)
        data_file.assert_called_once_with('resource_filters.json')

    def test_existing_default_file_kept(self):
        existing = self.write_file(self.make_tempdir(), 'filters.json', '{}')

        def register(conf):
            conf.register_opt(cfg.StrOpt('resource_query_filters_file',
                                         default=existing))
        conf = self.parsed_conf(register=register)
        with mock.patch.object(paths, 'cinder_data_file',
                               return_value=self.data) as data_file:
            self.assertIsNone(
                config_defaults._default_resource_filters(conf))
        self.assertEqual(existing, conf.resource_query_filters_file)
        data_file.assert_not_called()

    def test_explicit_value_left_alone(self):
        conf = self.parsed_conf('[DEFAULT]\nresource_query_filters_file = '
                                '/operator/missing.json\n',
                                register=_register_filters)
        with mock.patch.object(paths, 'cinder_data_file',
                               return_value=self.data):
            self.assertIsNone(
                config_defaults._default_resource_filters(conf))
        self.assertEqual('/operator/missing.json',
                         conf.resource_query_filters_file)


class ConfiguredTestCase(ConfigDefaultsTestCase):

    def test_sets_both_defaults(self):
        conf = self.parsed_conf(register=_register_filters)
        with mock.patch.object(paths, 'find', return_value=FOUND_PASTE), \
                mock.patch.object(paths, 'cinder_data_file',
                                  return_value='/found/filters.json'), \
                mock.patch.object(os.path, 'isfile', return_value=False):
            config_defaults.configured(conf)
        self.assertEqual(FOUND_PASTE, conf.api_paste_config)
        self.assertEqual('/found/filters.json',
                         conf.resource_query_filters_file)

    def test_works_on_a_private_conf(self):
        # hooks.install(conf)/configured(conf) accept any ConfigOpts; the
        # hook must then register what it reads on that conf, not only on
        # the global cfg.CONF.
        conf = self.parsed_conf()
        with mock.patch.object(paths, 'find', return_value=FOUND_PASTE), \
                mock.patch.object(paths, 'cinder_data_file',
                                  return_value=None):
            config_defaults.configured(conf)
        self.assertEqual(FOUND_PASTE, conf.api_paste_config)
