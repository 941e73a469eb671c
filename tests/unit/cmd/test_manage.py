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
from unittest import mock

import fixtures
from tests.unit import base

from cinder_ksvd.cmd import common
from cinder_ksvd.cmd import manage


class MainTestCase(base.TestCase):

    def setUp(self):
        super(MainTestCase, self).setUp()
        self.run = self.useFixture(fixtures.MockPatchObject(
            common, 'run', return_value=0)).mock

    def main(self, *args):
        with mock.patch.object(sys, 'argv', ['ksvd-cinder-manage'] +
                               list(args)):
            exc = self.assertRaises(SystemExit, manage.main)
        self.assertEqual(0, exc.code)

    def test_command_checked(self):
        self.main('db', 'sync')
        self.run.assert_called_once_with('manage', ['db', 'sync'],
                                         check='manage')

    def test_help_without_checks(self):
        for args in ([], ['-h'], ['--help']):
            self.run.reset_mock()
            self.main(*args)
            self.run.assert_called_once_with('manage', args)
