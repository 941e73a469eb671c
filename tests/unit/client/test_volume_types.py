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

import json

from tests.unit.client import fakes


class TypeCommandsTest(fakes.ShellTestCase):

    def test_create_with_properties_then_list_and_delete(self):
        rc, out, err = self.run_shell(
            'type', 'create', 'lvm', '--property', 'volume_backend_name=lvm-1',
            '--description', 'local LVM', '-f', 'json')
        self.assertEqual(0, rc, err)
        created = json.loads(out)
        self.assertEqual({'volume_backend_name': 'lvm-1'},
                         created['properties'])
        rc, out, err = self.run_shell('type', 'list')
        self.assertIn('volume_backend_name=lvm-1', out)
        rc, out, err = self.run_shell('type', 'delete', 'lvm')
        self.assertEqual((0, ''), (rc, err))
        self.assertEqual({}, self.cinder.volume_types.db)

    def test_bad_property(self):
        rc, out, err = self.run_shell('type', 'create', 'x', '--property',
                                      'novalue')
        self.assertEqual(1, rc)
        self.assertEqual("--property needs KEY=VALUE, got 'novalue'\n", err)
        self.assertEqual({}, self.cinder.volume_types.db)

    def test_show_unknown(self):
        rc, out, err = self.run_shell('type', 'show', 'nope')
        self.assertEqual(1, rc)
        self.assertEqual("No volumetype with a name or ID of 'nope' "
                         "exists.\n", err)
