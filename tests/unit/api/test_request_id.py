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

import fixtures
from oslo_middleware import request_id as oslo_request_id
from tests.unit import base

from cinder_ksvd.api import request_id


def _app(environ, start_response):
    start_response('200 OK', [])
    return [b'']


class RequestIdTest(base.TestCase):

    def test_the_installed_cinders_filter(self):
        # cinder 21 and later have their own filter; 15 and 16 do not.
        try:
            from cinder.api.middleware import request_id as cinder_rid
            expected = cinder_rid.RequestId
        except ImportError:
            expected = oslo_request_id.RequestId
        app = request_id.filter_factory({})(_app)
        self.assertIs(expected, type(app))

    def test_oslo_filter_where_cinder_has_none(self):
        # cinder 15 and 16 (issue 24, item 1): the shipped paste file named
        # cinder's filter, and the API died with "No module named
        # request_id".
        self.useFixture(fixtures.MonkeyPatch(
            'sys.modules', dict(sys.modules,
                                **{'cinder.api.middleware.request_id': None})))
        app = request_id.filter_factory({})(_app)
        self.assertIs(type(app), oslo_request_id.RequestId)
