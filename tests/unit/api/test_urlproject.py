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

from tests.unit import base

from cinder_ksvd.api import urlproject


class App(object):
    """Answers like cinder's router: routing args, then a status."""

    def __init__(self, status, project=None, body=b'{"x": 1}'):
        self.status, self.project, self.body = status, project, body
        self.closed = False

    def __call__(self, environ, start_response):
        args = {'action': 'index'}
        if self.project is not None:
            args['project_id'] = self.project
        environ['wsgiorg.routing_args'] = ((), args)
        start_response(self.status, [('Content-Type', 'application/json')])
        return self

    def __iter__(self):
        return iter([self.body])

    def close(self):
        self.closed = True


class UrlProjectTest(base.TestCase):

    def call(self, app, token_project='ksvd'):
        seen = []

        def start_response(status, headers, exc_info=None):
            seen.append((status, dict(headers)))
        body = b''.join(urlproject.call(app, {}, start_response,
                                        token_project))
        return seen[0][0], seen[0][1], body

    def test_other_project_in_url_is_named(self):
        app = App('400 Bad Request', project='other')
        status, headers, body = self.call(app)
        self.assertEqual('400 Bad Request', status)
        self.assertEqual(str(len(body)), headers['Content-Length'])
        text = json.loads(body.decode('utf-8'))['badRequest']['message']
        self.assertEqual(
            'This token belongs to project ksvd, but the URL names project '
            'other. Use the endpoint without a project (.../v3) or with the '
            "token's (.../v3/ksvd); with cinder or openstack and "
            '--os-auth-type ksvd-token: OS_PROJECT_ID=ksvd.', text)
        self.assertTrue(app.closed)

    def test_everything_else_passes_unchanged(self):
        for app in (App('400 Bad Request', project='ksvd'),
                    App('400 Bad Request'),
                    App('200 OK', project='other'),
                    App('404 Not Found', project='other')):
            status, _headers, body = self.call(app)
            self.assertEqual(app.status, status)
            self.assertEqual(b'{"x": 1}', body)
            self.assertFalse(app.closed)

    def test_url_project(self):
        self.assertIsNone(urlproject.url_project({}))
        self.assertIsNone(urlproject.url_project(
            {'wsgiorg.routing_args': ((), {})}))
        self.assertEqual('p', urlproject.url_project(
            {'wsgiorg.routing_args': ((), {'project_id': 'p'})}))

    def test_exc_info_forwarded_only_when_given(self):
        # A server's start_response may take two arguments (PEP 3333
        # makes exc_info optional); it must keep working behind the filter.
        calls = []

        def two_args(status, headers):
            calls.append(status)
        body = b''.join(urlproject.call(App('200 OK'), {}, two_args, 'ksvd'))
        self.assertEqual((['200 OK'], b'{"x": 1}'), (calls, body))

        def failing(environ, start_response):
            start_response('500 Internal Server Error', [], ('exc',))
            return [b'']
        given = []

        def three_args(status, headers, exc_info=None):
            given.append(exc_info)
        urlproject.call(failing, {}, three_args, 'ksvd')
        self.assertEqual([('exc',)], given)
