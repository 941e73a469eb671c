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
import socket
import subprocess
import sys

from tests.unit.client import fakes

from cinder_ksvd.client import shell


# A loopback stand-in for the API, in its own interpreter: the unit tests
# run under eventlet's monkey patching, where a server thread would be a
# green thread.  GET / answers cinder's version list (unauthenticated, as
# cinder does); every other request answers what an auth filter answers to
# a bad token: 401 with cinder's JSON fault body.  Each request's path,
# X-Auth-Token and OpenStack-API-Version are printed as a JSON line.
SERVER = r"""
import json, sys
try:
    from http import server as http_server
except ImportError:  # Python 2 (legacy tier)
    import BaseHTTPServer as http_server

def say(text):
    sys.stdout.write(text + '\n')
    sys.stdout.flush()

class Api(http_server.BaseHTTPRequestHandler):
    def do_GET(self):
        say(json.dumps([self.path, self.headers.get('X-Auth-Token'),
                        self.headers.get('OpenStack-API-Version')]))
        if self.path == '/':
            body = {'versions': [{'id': 'v3.0', 'status': 'CURRENT',
                                  'version': sys.argv[1],
                                  'min_version': '3.0', 'links': []}]}
            status = 300
        else:
            status = 401
            body = {'error': {'code': 401, 'message': 'The request you '
                              'have made requires authentication.'}}
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

server = http_server.HTTPServer(('127.0.0.1', 0), Api)
say(str(server.server_address[1]))
server.serve_forever()
"""


class ShellTest(fakes.ShellTestCase):

    def _server(self, max_version='3.71'):
        """(endpoint, requests seen) of a loopback API process."""
        proc = subprocess.Popen([sys.executable, '-c', SERVER, max_version],
                                stdout=subprocess.PIPE)
        self.addCleanup(proc.wait, 10)
        self.addCleanup(proc.kill)
        port = int(proc.stdout.readline())

        def seen():
            proc.kill()
            return [json.loads(line) for line in proc.stdout.read()
                    .decode().splitlines()]
        return 'http://127.0.0.1:%d/v3' % port, seen

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
        endpoint, seen = self._server()
        rc, out, err = self.run_shell('--endpoint', endpoint, 'volume',
                                      'list', factory=shell.make_client)
        self.assertEqual(1, rc)
        self.assertEqual('authentication failed (HTTP 401): check --token '
                         'or KSVD_CINDER_TOKEN\n', err)
        # The token went in X-Auth-Token, with the negotiated microversion.
        # The server's 3.71, or less where cinderclient stops earlier
        # (3.60 with Ussuri's cinderclient).
        from cinderclient import api_versions
        version = min(api_versions.APIVersion('3.71'),
                      api_versions.APIVersion(api_versions.MAX_VERSION))
        self.assertEqual(['/v3/volumes/detail', 'admin:p1',
                          'volume ' + version.get_string()], seen()[-1])

    def test_negotiates_down_to_the_server(self):
        endpoint, seen = self._server('3.50')
        client = shell.make_client(endpoint, 't')
        self.assertEqual('3.50', client.api_version.get_string())
        pinned = shell.make_client(endpoint, 't', '3.60')
        self.assertEqual('3.60', pinned.api_version.get_string())

    def test_server_too_old(self):
        endpoint, seen = self._server('3.27')
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
