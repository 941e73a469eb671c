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

import io
import json

from tests.unit import base
import webob

from cinder_ksvd.api import sanitize


class App(object):
    def __init__(self):
        self.bodies = []

    def __call__(self, environ, start_response):
        self.bodies.append(environ['wsgi.input'].read())
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'ok']


class InputGuardTest(base.TestCase):

    def setUp(self):
        super(InputGuardTest, self).setUp()
        self.conf = self.new_conf()
        self.app = App()
        self.guard = sanitize.InputGuard(self.app, conf=self.conf)
        self.conf([], default_config_files=[], default_config_dirs=[])
        self.conf.set_override('max_request_body_size', 1000,
                               'oslo_middleware')

    def send(self, method, path, body=None, chunked=False, query=''):
        req = webob.Request.blank('/', method=method)
        req.environ['PATH_INFO'] = path
        req.environ['QUERY_STRING'] = query
        if body is not None:
            if not isinstance(body, bytes):  # on Python 2 str is bytes
                body = body.encode('utf-8', 'surrogatepass')
            req.environ['wsgi.input'] = io.BytesIO(body)
            if chunked:
                req.environ['HTTP_TRANSFER_ENCODING'] = 'chunked'
                req.environ.pop('CONTENT_LENGTH', None)
            else:
                req.environ['CONTENT_LENGTH'] = str(len(body))
        resp = req.get_response(self.guard)
        return resp.status_int, resp.body

    def refused(self, status, *args, **kwargs):
        got, body = self.send(*args, **kwargs)
        self.assertEqual(status, got, body)
        message = list(json.loads(body.decode()).values())[0]['message']
        self.assertTrue(message)
        return message

    def test_good_requests_pass_unchanged(self):
        body = json.dumps({'volume': {'size': 1,
                                      'name': u'caf\u00e9 \U0001f600'}})
        self.assertEqual(200, self.send('POST', '/p/volumes', body)[0])
        self.assertEqual(200, self.send('GET', '/p/volumes/%c3%a9',
                                        query='name=%c3%a9')[0])
        self.assertEqual(200, self.send('POST', '/p/volumes', body,
                                        chunked=True)[0])
        self.assertEqual(200, self.send('POST', '/p/workers/cleanup', '')[0])
        self.assertEqual(200, self.send('POST', '/p/volumes/x/action',
                                        '{"os-reserve": null}')[0])
        self.assertEqual([body.encode()] * 2, [self.app.bodies[0],
                                               self.app.bodies[2]])

    def test_bad_utf8(self):
        self.assertIn('path is not valid UTF-8',
                      self.refused(400, 'GET', '/p/volumes/\xff'))
        self.assertIn('query string',
                      self.refused(400, 'GET', '/p/volumes', query='a=%ff'))
        self.assertIn('body is not valid UTF-8', self.refused(
            400, 'POST', '/p/volumes', b'{"a": "\xff"}'))

    def test_bodies(self):
        self.conf.set_override('max_request_body_size', 100000,
                               'oslo_middleware')
        for body, text in (
                ('', 'empty'), ('{"volume": ', 'not valid JSON'),
                ('[' * 5000 + ']' * 5000, 'deeper than 32'),
                ('{"a":' * 40 + '1' + '}' * 40, 'deeper than 32'),
                ('{"volume": {"name": "\\ud800"}}', 'lone surrogate'),
                ('{"volume": {"metadata": {"\\udfff": "v"}}}',
                 'lone surrogate'),
                ('[1]', 'must be a JSON object')):
            self.assertIn(text, self.refused(400, 'POST', '/p/volumes',
                                             body))
        # "[" inside strings is not nesting.
        self.assertEqual(200, self.send('POST', '/p/volumes', json.dumps(
            {'volume': {'name': '[' * 100}}))[0])

    def test_actions_and_connectors(self):
        self.assertIn('os-detach needs an object', self.refused(
            400, 'POST', '/p/volumes/x/action', '{"os-detach": null}'))
        for path, method in (('/p/attachments', 'POST'),
                             ('/p/attachments/a', 'PUT')):
            self.assertIn('Connector value a', self.refused(
                400, method, path, json.dumps({'attachment': {
                    'connector': {'a': {'b': 'c'}}}})))
        self.assertEqual(200, self.send('POST', '/p/attachments', json.dumps(
            {'attachment': {'connector': {'wwpns': ['a', 'b'],
                                          'multipath': False,
                                          'initiator': 'iqn.x'}}}))[0])

    def test_found_by_the_fuzz_tier(self):
        self.assertIn('needs {"default_type"', self.refused(
            400, 'PUT', '/p/default-types/detail', '{"os-unreserve": {}}'))
        self.assertEqual(200, self.send(
            'PUT', '/p/default-types/p2',
            '{"default_type": {"volume_type": "t"}}')[0])
        for path in ('/p/groups/.', '/p/groups/..', '/p/./volumes'):
            self.assertIn('. or .. segment',
                          self.refused(400, 'DELETE', path))
        # DELETE /groups/detail?limit={"a":1} (seed 1164056378): cinder's
        # groups "delete" action read a body that is not there.
        for path in ('/p/groups/detail', '/p/groups/%s' % ('a' * 36),
                     '/groups/x/', '/p/consistencygroups/x'):
            self.assertIn('is not how cinder deletes', self.refused(
                400, 'DELETE', path))
        for path in ('/p/group_snapshots/x', '/p/group_types/x',
                     '/p/volumes/x', '/p/groups/x/action'):
            self.assertEqual(200, self.send('DELETE', path)[0])

    def test_too_large(self):
        big = '{"a": "%s"}' % ('x' * 5000)
        for method in ('POST', 'GET', 'PUT'):
            for chunked in (False, True):
                self.assertIn('larger than 1000 bytes', self.refused(
                    413, method, '/p/volumes', big, chunked=chunked))
        self.assertEqual([], self.app.bodies)
