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
import os
import shutil
import subprocess
import sys
import tempfile

from tests.unit import base
from tests.unit.compute import test_sinks

from cinder_ksvd.compute import mc_client
from cinder_ksvd.compute import sinks

SECRET = 'mc-secret'

# A stand-in MC query API in its own interpreter (see test_sinks for why).
# routes.json maps a path to [status, body]; each request's path and
# headers are appended to requests.jsonl.
MC_CODE = r"""
import json, os, sys
from http import server
workdir = sys.argv[1]

class Handler(server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(os.path.join(workdir, 'requests.jsonl'), 'a') as out:
            out.write(json.dumps([self.path, dict(self.headers)]) + '\n')
        with open(os.path.join(workdir, 'routes.json')) as handle:
            routes = json.load(handle)
        status, body = routes.get(self.path, [404, ''])
        data = body.encode('utf-8')
        self.send_response(status)
        if status in (301, 302):
            self.send_header('Location', 'http://127.0.0.1:9/elsewhere')
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass

httpd = server.HTTPServer(('127.0.0.1', 0), Handler)
sys.stdout.write('%d\n' % httpd.server_port)
sys.stdout.flush()
httpd.serve_forever()
"""


class MCServer(object):

    def __init__(self):
        self.workdir = tempfile.mkdtemp(prefix='ksvd-mc-')
        self.routes = {}
        self.proc = subprocess.Popen(
            [sys.executable, '-c', MC_CODE, self.workdir],
            stdout=subprocess.PIPE)
        self.url = 'http://127.0.0.1:%d/mc/' % int(
            self.proc.stdout.readline())

    def route(self, path, status, body):
        self.routes[path] = [status, body]
        with open(os.path.join(self.workdir, 'routes.json'), 'w') as out:
            json.dump(self.routes, out)

    @property
    def requests(self):
        path = os.path.join(self.workdir, 'requests.jsonl')
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [json.loads(line) for line in handle]

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class ServerVolumeAttachmentTestCase(base.TestCase):

    def setUp(self):
        super(ServerVolumeAttachmentTestCase, self).setUp()
        self.mc = MCServer()
        self.addCleanup(self.mc.stop)
        self.mc.route('/mc/servers/srv-1/volumes/vol-1', 200,
                      '{"attachment_id": "att-1"}')

    def ask(self, server='srv-1', volume='vol-1', url=None):
        return mc_client.server_volume_attachment(
            url or self.mc.url, SECRET, server, volume, timeout=5)

    def test_attachment_id(self):
        self.assertEqual('att-1', self.ask())

    def test_signed_request_target(self):
        self.ask()
        (path, headers), = self.mc.requests
        self.assertEqual('/mc/servers/srv-1/volumes/vol-1', path)
        # Header names are case-insensitive (Python 2's server lowercases).
        headers = dict((k.lower(), v) for k, v in headers.items())
        timestamp = headers[mc_client.TIMESTAMP_HEADER.lower()]
        self.assertEqual(
            sinks.signature(SECRET, mc_client.request_target(
                'GET', path, timestamp)),
            headers[sinks.SIGNATURE_HEADER.lower()])
        self.assertEqual('GET %s\n%s' % (path, timestamp),
                         mc_client.request_target(
                             'GET', path, timestamp).decode('utf-8'))

    def test_null_attachment(self):
        self.mc.route('/mc/servers/srv-2/volumes/vol-1', 200,
                      '{"attachment_id": null}')
        self.assertIsNone(self.ask(server='srv-2'))

    def test_not_found(self):
        self.assertRaises(mc_client.NotFound, self.ask, server='other')

    def test_ids_cannot_leave_the_path(self):
        self.assertRaises(mc_client.NotFound, self.ask,
                          server='../../x', volume='a/b?c=1')
        (path, headers), = self.mc.requests
        self.assertEqual('/mc/servers/..%2F..%2Fx/volumes/a%2Fb%3Fc%3D1',
                         path)

    def test_server_error_is_unavailable(self):
        self.mc.route('/mc/servers/srv-1/volumes/vol-1', 500, 'oops')
        exc = self.assertRaises(mc_client.Unavailable, self.ask)
        self.assertIn('500', str(exc))

    def test_redirect_not_followed(self):
        self.mc.route('/mc/servers/srv-1/volumes/vol-1', 302, '')
        self.assertRaises(mc_client.Unavailable, self.ask)
        self.assertEqual(1, len(self.mc.requests))

    def test_bad_answers_are_unavailable(self):
        for body in ('not json', '{}', '[]', '{"attachment_id": 5}'):
            self.mc.route('/mc/servers/srv-1/volumes/vol-1', 200, body)
            self.assertRaises(mc_client.Unavailable, self.ask)

    def test_unreachable(self):
        exc = self.assertRaises(mc_client.Unavailable, self.ask,
                                url=test_sinks.refused_url())
        self.assertIn('not reached', str(exc))
