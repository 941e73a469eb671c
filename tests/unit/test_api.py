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

from tests.unit import base

from cinder_ksvd import api
from cinder_ksvd.api import tokens
from cinder_ksvd.cmd import preflight
from cinder_ksvd import exception
from cinder_ksvd import opts


class PreflightTest(base.TestCase):

    def setUp(self):
        super(PreflightTest, self).setUp()
        self.dir = self.make_tempdir()
        self.path = os.path.join(self.dir, 'tokens.json')
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf.set_override('token_file', self.path,
                               group=opts.AUTH_GROUP)

    def test_missing_file_is_accepted(self):
        api.preflight(self.conf)

    def test_good_file(self):
        tokens.create(self.path, 'u', 'p', ['admin'])
        api.preflight(self.conf)

    def test_malformed_file_refused_in_one_line(self):
        self.write_file(self.dir, 'tokens.json', '{"version": 1}')
        exc = self.assertRaises(exception.StartupRefused, api.preflight,
                                self.conf)
        self.assertEqual(1, len(str(exc).splitlines()))
        self.assertIn('[ksvd_auth] token_file', str(exc))
        self.assertIn(self.path, str(exc))

    def test_api_wrappers_run_it(self):
        conf_file = self.write_file(self.dir, 'cinder.conf', (
            '[database]\nconnection = sqlite:///%s/x.sqlite\n'
            '[ksvd_auth]\ntoken_file = %s\n' % (self.dir, self.path)))
        self.write_file(self.dir, 'tokens.json', 'garbage')
        argv = ['--config-file', conf_file]
        for service in ('api', 'all'):
            exc = self.assertRaises(preflight.ConfigProblem,
                                    preflight.check, argv, service)
            self.assertIn('malformed', str(exc))
        # Other services never read the token file.
        preflight.check(argv, 'scheduler')
