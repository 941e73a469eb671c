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

from cinder import context as cinder_context
from cinder.message import api as message_api
from cinder.objects import volume_attachment
from tests.unit import base

from cinder_ksvd.api import scoping


class StripScopeParamsTest(base.TestCase):

    def test_drops_only_the_widening_parameters(self):
        environ = {'QUERY_STRING': 'all_tenants=1&name=x&Project_ID=a&'
                                   'tenant_id=b&limit=5'}
        self.assertEqual(['Project_ID', 'all_tenants', 'tenant_id'],
                         scoping.strip_scope_params(environ))
        self.assertEqual('name=x&limit=5', environ['QUERY_STRING'])

    def test_leaves_other_queries_alone(self):
        for query in ('', 'name=all&sort=created_at', 'x=%ff%00'):
            environ = {'QUERY_STRING': query}
            self.assertEqual([], scoping.strip_scope_params(environ))
            self.assertEqual(query, environ['QUERY_STRING'])

    def test_is_scoped(self):
        user = cinder_context.RequestContext('u', 'p', is_admin=False)
        admin = cinder_context.RequestContext('u', 'p', is_admin=True)
        self.assertTrue(scoping.is_scoped(user))
        self.assertFalse(scoping.is_scoped(admin))
        self.assertFalse(scoping.is_scoped(None))


class InstallTest(base.TestCase):

    def test_install_wraps_once(self):
        scoping.install()
        first = (volume_attachment.VolumeAttachment.get_by_id,
                 message_api.API.get_all)
        self.assertFalse(scoping.install())
        self.assertEqual(first, (volume_attachment.VolumeAttachment.get_by_id,
                                 message_api.API.get_all))
        self.assertEqual('get_all', message_api.API.get_all.__name__)

    def test_message_list_gets_the_callers_project(self):
        seen = []

        class Db(object):
            def message_get_all(self, context, filters=None, **kwargs):
                seen.append(dict(filters))
                return []

        scoping.install()
        api = message_api.API.__new__(message_api.API)
        api.db = Db()
        user = cinder_context.RequestContext('u', 'proj-b', is_admin=False)
        admin = cinder_context.RequestContext('u', 'proj-b', is_admin=True)
        api.get_all(user, filters={'project_id': 'proj-a'})
        api.get_all(admin, filters={'resource_type': 'VOLUME'})
        self.assertEqual([{'project_id': 'proj-b'},
                          {'resource_type': 'VOLUME'}], seen)
