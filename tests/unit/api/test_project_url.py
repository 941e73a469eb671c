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

import routes
from tests.unit import base
import webob

from cinder_ksvd.api import project_url


class _Context(object):
    project_id = 'ksvd'


def _router(project_less):
    """A mapper shaped like cinder's v3 APIRouter (routes, as cinder)."""
    mapper = routes.Mapper()
    mapper.connect('versions', '/', controller='versions')
    for collection in ('volumes', 'types', 'os-quota-sets'):
        mapper.connect(collection, '/{project_id}/%s' % collection,
                       controller=collection)
        mapper.connect(collection, '/{project_id}/%s/{id}' % collection,
                       controller=collection)
        if project_less:
            mapper.connect(collection, '/%s' % collection,
                           controller=collection)

    class Router(object):
        map = mapper
        seen = []

        def __call__(self, environ, start_response):
            self.seen.append(environ['PATH_INFO'])
            return webob.Response('ok')(environ, start_response)
    return Router()


class ProjectURLTest(base.TestCase):

    def call(self, router, path):
        request = webob.Request.blank(path)
        request.environ['cinder.context'] = _Context()
        request.get_response(project_url.ProjectURL(router))
        return router.seen[-1]

    def test_project_put_in_the_path_when_router_needs_it(self):
        # cinder 15/16 route only /{project_id}/... (issue 24, item 4).
        router = _router(project_less=False)
        self.assertEqual('/ksvd/volumes', self.call(router, '/volumes'))
        self.assertEqual('/ksvd/volumes/v1', self.call(router, '/volumes/v1'))
        self.assertEqual('/ksvd/os-quota-sets/ksvd',
                         self.call(router, '/os-quota-sets/ksvd'))
        self.assertEqual('/ksvd/types.json', self.call(router, '/types.json'))

    def test_paths_with_a_project_are_left_alone(self):
        router = _router(project_less=False)
        self.assertEqual('/ksvd/volumes', self.call(router, '/ksvd/volumes'))
        self.assertEqual('/other/volumes',
                         self.call(router, '/other/volumes'))
        self.assertEqual('/', self.call(router, '/'))

    def test_passes_through_when_cinder_routes_project_less(self):
        # cinder 21 and later (microversion 3.67).
        router = _router(project_less=True)
        self.assertFalse(project_url.ProjectURL(router).active)
        self.assertEqual('/volumes', self.call(router, '/volumes'))

    def test_no_context_no_change(self):
        router = _router(project_less=False)
        request = webob.Request.blank('/volumes')
        request.get_response(project_url.ProjectURL(router))
        self.assertEqual('/volumes', router.seen[-1])
