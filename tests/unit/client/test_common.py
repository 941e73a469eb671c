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

from cinderclient import exceptions as c_exc
from keystoneauth1 import exceptions as ks_exc
from tests.unit import base

from cinder_ksvd.client import common


class DescribeTest(base.TestCase):

    def test_messages_are_one_line(self):
        cases = [
            (c_exc.Unauthorized(401, 'x'),
             'authentication failed (HTTP 401): check --token or '
             'KSVD_CINDER_TOKEN'),
            (c_exc.Forbidden(403, 'Policy does not\nallow'),
             'not allowed (HTTP 403): Policy does not allow'),
            (c_exc.NotFound(404, 'Volume v could not be found.'),
             'not found (HTTP 404): Volume v could not be found.'),
            (c_exc.NotFound(404, 'The resource could not be found.<br />'
                            '<br />'),
             'not found (HTTP 404): The resource could not be found. Check '
             'that --endpoint ends in /v3 (http://h:1/x)'),
            (c_exc.BadRequest(400, 'Invalid volume: bad'),
             'Invalid volume: bad (HTTP 400)'),
            (ks_exc.ConnectFailure('refused'),
             'cannot connect to the ksvd-cinder API at http://h:1/x: check '
             '--endpoint and that ksvd-cinder-api runs'),
            (common.CommandError('a\nb'), 'a b'),
            (KeyError('export'), "KeyError: 'export'"),
        ]
        for exc, text in cases:
            self.assertEqual(text, common.describe(exc, 'http://h:1/x'))


class HelpersTest(base.TestCase):

    def test_parse_properties(self):
        self.assertEqual({'a': 'b=c', 'd': ''},
                         common.parse_properties(['a=b=c', 'd=']))
        self.assertRaises(common.CommandError, common.parse_properties,
                          ['=x'])

    def test_wait_bounded(self):
        now = [0.0]
        slept = []

        def sleep(seconds):
            slept.append(seconds)
            now[0] += seconds
        exc = self.assertRaises(common.CommandError, common.wait, 'thing',
                                lambda: None, 3, 1.0, sleep,
                                lambda: now[0])
        self.assertEqual('timed out after 3s waiting for thing', str(exc))
        self.assertEqual([1.0, 1.0, 1.0], slept)
        self.assertEqual('ok', common.wait('x', lambda: 'ok', 0))

    def test_columns(self):
        cols, vals = common.show_columns({'b': {'k': 'v', 'a': 1},
                                          'a': [1], 'c': 'x'})
        self.assertEqual(('a', 'b', 'c'), cols)
        self.assertEqual('[1]', vals[0].human_readable())
        self.assertEqual('a=1, k=v', vals[1].human_readable())
        self.assertEqual({'k': 'v', 'a': 1}, vals[1].machine_readable())
        self.assertEqual('x', vals[2])
