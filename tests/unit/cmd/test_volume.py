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

from unittest import mock

from tests.unit import base

from cinder_ksvd.cmd import common
from cinder_ksvd.cmd import volume


class MainTestCase(base.TestCase):

    @mock.patch.object(common, 'run', return_value=78)
    def test_runs_stock_volume_with_checks(self, run):
        exc = self.assertRaises(SystemExit, volume.main)
        self.assertEqual(78, exc.code)
        run.assert_called_once_with('volume', check='volume')
