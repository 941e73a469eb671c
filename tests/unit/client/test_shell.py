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

import http.server
import json
import socket
import threading

from tests.unit.client import fakes

from cinder_ksvd.client import shell


class _Api(http.server.BaseHTTPRequestHandler):
    """Loopback stand-in for the API's version document and auth refusal.

    GET / answers cinder's version list (unauthenticated, as cinder does);
    every other request answers what an auth filter answers to a bad token:
    401 with cinder's JSON fault body.
    """

    max_version = '3.71'
    seen = []

    def do_GET(self):
        self.seen.append((self.path, self.headers.get('X-Auth-Token'),
                          self.headers.get('OpenStack-API-Version')))
        if self.path == '/':
            body = {'versions': [{'id': 'v3.0', 'status': 'CURRENT',
                                  'version': self.max_version,
                                  'min_version': '3.0', 'links': []}]}
            self._send(300, body)
        else:
            self._send(401, {'error': {'code': 401, 'message':
                                       'The request you have made requires '
                                       'authentication.'}})

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


class ShellTest(fakes.ShellTestCase):

    def _server(self, max_version='3.71'):
        handler = type('Api', (_Api,), {'max_version': max_version,
                                        'seen': []})
        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join, 10)
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return 'http://127.0.0.1:%d/v3' % server.server_address[1], handler

    def test_no_arguments_prints_help(self):
        rc, out, err = self.run_shell(auth=False)
        self.assertEqual(0, rc)
        self.assertIn('volume create', out)
        self.assertIn('attach', out)

    def test_env_gives_endpoint_and_token(self):
        self.useFixture(fakes.fixtures.EnvironmentVariable(
            'KSVD_CINDER_ENDPOINT', 'http://127.0.0.1:8776'))
        self.useFixture(fakes.fixtures.EnvironmentVariable(
            'KSVD_CINDER_TOKEN', 'admin:abc'))
        rc, out, err = self.run_shell('volume', 'list', auth=False)
        self.assertEqual((0, ''), (rc, err))
        self.assertEqual([('http://127.0.0.1:8776/v3', 'admin:abc', None,
                           False, None, 60.0)], self.made)

    def test_endpoint_forms(self):
        self.assertEqual('http://h:8776/v3',
                         shell.normalize_endpoint('http://h:8776/'))
        self.assertEqual('https://h/volume/v3',
                         shell.normalize_endpoint('https://h/volume/v3/'))
        self.assertEqual('http://h:8776/v3/p1',
                         shell.normalize_endpoint('http://h:8776/v3/p1'))

    def test_bad_endpoint(self):
        rc, out, err = self.run_shell('--endpoint', 'h:8776', 'volume',
                                      'list')
        self.assertEqual(1, rc)
        self.assertEqual("bad --endpoint 'h:8776': give "
                         "http(s)://HOST:PORT/v3\n", err)
        self.assertEqual([], self.made)

    def test_no_token(self):
        rc, out, err = self.run_shell('volume', 'list', auth=False)
        self.assertEqual(1, rc)
        self.assertEqual('no token: give --token or set KSVD_CINDER_TOKEN\n',
                         err)

    def test_unknown_command(self):
        rc, out, err = self.run_shell('volume', 'lst')
        self.assertEqual(2, rc)

    def test_401_is_one_line(self):
        endpoint, api = self._server()
        rc, out, err = self.run_shell('--endpoint', endpoint, 'volume',
                                      'list', factory=shell.make_client)
        self.assertEqual(1, rc)
        self.assertEqual('authentication failed (HTTP 401): check --token '
                         'or KSVD_CINDER_TOKEN\n', err)
        # The token went in X-Auth-Token, with the negotiated microversion.
        self.assertEqual(('/v3/volumes/detail', 'admin:p1', 'volume 3.71'),
                         api.seen[-1])

    def test_negotiates_down_to_the_server(self):
        endpoint, api = self._server('3.50')
        client = shell.make_client(endpoint, 't')
        self.assertEqual('3.50', client.api_version.get_string())
        pinned = shell.make_client(endpoint, 't', '3.60')
        self.assertEqual('3.60', pinned.api_version.get_string())

    def test_server_too_old(self):
        endpoint, api = self._server('3.27')
        rc, out, err = self.run_shell('--endpoint', endpoint, 'volume',
                                      'list', factory=shell.make_client)
        self.assertEqual(1, rc)
        self.assertEqual('the server speaks API 3.27 at most; ksvd-cinder '
                         'needs 3.44\n', err)

    def test_connection_refused(self):
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
        sock.close()   # nothing listens there now
        endpoint = 'http://127.0.0.1:%d/v3' % port
        rc, out, err = self.run_shell('--endpoint', endpoint, 'volume',
                                      'list', factory=shell.make_client)
        self.assertEqual(1, rc)
        self.assertEqual('cannot connect to the ksvd-cinder API at %s: '
                         'check --endpoint and that ksvd-cinder-api runs\n'
                         % endpoint, err)
