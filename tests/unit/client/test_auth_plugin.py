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

import ast
import os

from keystoneauth1 import loading
from keystoneauth1 import session
from tests.unit import base

from cinder_ksvd.client import auth_plugin


class PluginTest(base.TestCase):

    def test_loader_options(self):
        loader = auth_plugin.KsvdTokenLoader()
        options = dict((o.dest, o) for o in loader.get_options())
        self.assertTrue(options['endpoint'].required)
        self.assertTrue(options['token'].required)
        self.assertTrue(options['token'].secret)
        self.assertFalse(options['project_id'].required)

    def test_entry_point(self):
        loader = loading.get_plugin_loader('ksvd-token')
        self.assertIsInstance(loader, auth_plugin.KsvdTokenLoader)

    def test_plugin_sends_token_to_endpoint(self):
        plugin = auth_plugin.KsvdTokenLoader().load_from_options(
            endpoint='http://127.0.0.1:8776/v3', token='ksvd.x.y',
            project_id='p')
        sess = session.Session(auth=plugin)
        self.assertEqual('http://127.0.0.1:8776/v3',
                         plugin.get_endpoint(sess, service_type='volumev3',
                                             interface='public'))
        self.assertEqual({'X-Auth-Token': 'ksvd.x.y'},
                         plugin.get_headers(sess))
        self.assertEqual('p', plugin.get_project_id(sess))
        self.assertFalse(plugin.invalidate())

    def test_no_image_service(self):
        from keystoneauth1 import exceptions
        plugin = auth_plugin.KsvdTokenLoader().load_from_options(
            endpoint='http://127.0.0.1:8776/v3', token='ksvd.x.y')
        sess = session.Session(auth=plugin)
        exc = self.assertRaises(exceptions.EndpointNotFound,
                                plugin.get_endpoint, sess,
                                service_type='image')
        self.assertIn('there is no image service', str(exc))
        self.assertIn('cinder create --image <image id or name> <size>',
                      str(exc))
        for service_type in (None, 'volumev3', 'block-storage', 'identity'):
            self.assertEqual('http://127.0.0.1:8776/v3', plugin.get_endpoint(
                sess, service_type=service_type))

    def test_client_package_imports_no_server_module(self):
        root = os.path.dirname(auth_plugin.__file__)
        for name in os.listdir(root):
            if not name.endswith('.py'):
                continue
            with open(os.path.join(root, name)) as handle:
                tree = ast.parse(handle.read())
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or '']
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                for module in names:
                    self.assertFalse(
                        module.startswith('cinder_ksvd') and
                        not module.startswith('cinder_ksvd.client'),
                        '%s imports %s' % (name, module))
                    self.assertFalse(module.split('.')[0] == 'cinder',
                                     '%s imports %s' % (name, module))

    def test_cinderclient_style_parser_with_os_auth_type_env(self):
        """OS_AUTH_TYPE=ksvd-token next to cinderclient's --os-endpoint."""
        import argparse
        import fixtures
        self.useFixture(fixtures.EnvironmentVariable('OS_AUTH_TYPE',
                                                     'ksvd-token'))
        self.useFixture(fixtures.EnvironmentVariable('OS_TOKEN', 'ksvd.a.b'))
        parser = argparse.ArgumentParser()
        parser.add_argument('--os-endpoint', dest='os_endpoint')
        loading.register_auth_argparse_arguments(parser, [],
                                                 default='password')
        args = parser.parse_args(['--os-endpoint', 'http://127.0.0.1:1/v3'])
        plugin = loading.load_auth_from_argparse_arguments(args)
        self.assertIsInstance(plugin, auth_plugin.KsvdToken)
        self.assertEqual('http://127.0.0.1:1/v3', plugin.get_endpoint(None))
        self.assertEqual('ksvd.a.b', plugin.get_token(None))
