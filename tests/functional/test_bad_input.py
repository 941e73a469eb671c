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

"""Hostile input against the shipped pipeline: 4xx, never 5xx (issue 27).

One ksvd-cinder-all --demo; raw HTTP (http.client), so that bodies that are
not valid JSON or UTF-8, bad percent-escapes and chunked uploads reach the
server as sent.
"""

import http.client
import json
import os
import socket
import time

from tests.functional import base
from tests.functional import services

SURROGATE = '"\\ud800"'  # a JSON escape of a lone surrogate


class BadInputTest(base.FunctionalTestCase):

    def _deploy(self):
        conf = services.write_conf(
            os.path.join(self.workdir, 'cinder.conf'),
            dict({'DEFAULT': {'state_path': self.workdir,
                              'osapi_volume_listen_port': '0',
                              'report_interval': '2'}},
                 **services.auth_conf(self.workdir)))
        self.proc = self.start('ksvd-cinder-all',
                               ['--config-file', services.DIST_CONF,
                                '--config-file', conf, '--demo'], 'all')
        endpoint = self.wait_api(self.proc)
        self.port = int(endpoint.split(':')[2].split('/')[0])
        self.prefix = '/v3/' + base.PROJECT
        self.tok = self.token()
        admin = self.client(endpoint + '/' + base.PROJECT)
        self.wait_services_up(admin)
        return admin

    def raw(self, method, path, body=None, headers=None):
        """(status, parsed JSON or text) of one request sent as given."""
        conn = http.client.HTTPConnection('127.0.0.1', self.port,
                                          timeout=60)
        self.addCleanup(conn.close)
        sent = {'X-Auth-Token': self.tok,
                'OpenStack-API-Version': 'volume ' + base.API_VERSION,
                'Content-Type': 'application/json'}
        sent.update(headers or {})
        if isinstance(body, str):
            body = body.encode('utf-8', 'surrogatepass')
        conn.putrequest(method, self.prefix + path, skip_accept_encoding=True)
        for key, value in sent.items():
            conn.putheader(key, value)
        if body is not None and 'Transfer-Encoding' not in sent:
            conn.putheader('Content-Length', str(len(body)))
        conn.endheaders()
        if body is not None:
            if 'Transfer-Encoding' in sent:
                step = 1 << 20
                for start in range(0, len(body), step):
                    chunk = body[start:start + step]
                    conn.send(b'%x\r\n%s\r\n' % (len(chunk), chunk))
                conn.send(b'0\r\n\r\n')
            else:
                conn.send(body)
        resp = conn.getresponse()
        text = resp.read().decode('utf-8', 'replace')
        try:
            return resp.status, json.loads(text)
        except ValueError:
            return resp.status, text

    def assert_4xx(self, method, path, body=None, headers=None,
                   status=None):
        got, answer = self.raw(method, path, body, headers)
        what = '%s %s %r -> %d %s' % (method, path, (body or '')[:80], got,
                                      str(answer)[:200])
        # A message a client can show (cinder's fault body or ours).
        message = None
        if isinstance(answer, dict) and answer:
            message = (list(answer.values())[0] or {}).get('message')
        if (status and status != got) or not 400 <= got < 500 or (
                not message):
            self.bad.append(what)
        return message or ''

    def setUp(self):
        super(BadInputTest, self).setUp()
        self.bad = []

    def test_listed_requests_get_4xx(self):
        admin = self._deploy()
        vol = admin.volumes.create(1, name='victim')
        self.wait_status(admin.volumes, vol.id, 'available')
        # A lone surrogate in every string field the issue lists.
        for body in (
                '{"volume": {"size": 1, "name": %s}}' % SURROGATE,
                '{"volume": {"size": 1, "description": %s}}' % SURROGATE,
                '{"volume": {"size": 1, "volume_type": %s}}' % SURROGATE,
                '{"volume": {"size": 1, "group_id": %s}}' % SURROGATE,
                '{"volume": {"size": 1, "metadata": {%s: "v"}}}'
                % SURROGATE,
                '{"volume": {"size": 1, "metadata": {"k": %s}}}'
                % SURROGATE):
            message = self.assert_4xx('POST', '/volumes', body)
        self.assertIn('surrogate', message)
        self.assert_4xx('POST', '/volumes/%s/action' % vol.id,
                        '{"os-retype": {"new_type": %s}}' % SURROGATE)
        self.assert_4xx('POST', '/groups', '{"group": {"group_type": %s, '
                        '"volume_types": ["x"]}}' % SURROGATE)
        # Raw bytes that are not UTF-8.
        self.assert_4xx('POST', '/volumes',
                        b'{"volume": {"size": 1, "name": "\xff"}}')
        # %ff as an id.
        for collection in ('volumes', 'snapshots', 'attachments', 'types',
                           'messages', 'backups', 'os-volume-transfer',
                           'groups', 'os-quota-sets'):
            message = self.assert_4xx('GET', '/%s/%%ff' % collection)
        self.assertIn('UTF-8', message)
        self.assert_4xx('GET', '/volumes?name=%ff')
        # Empty and malformed bodies, nesting, nulls, nested connectors.
        self.assert_4xx('POST', '/volumes', '')
        self.assert_4xx('POST', '/volumes', b'')
        self.assert_4xx('POST', '/volumes', '{"volume": ')
        self.assert_4xx('POST', '/volumes', '[' * 5000 + ']' * 5000)
        self.assert_4xx('POST', '/volumes', '{"a":' * 5000 + '1' +
                        '}' * 5000)
        self.assert_4xx('POST', '/volumes/%s/action' % vol.id,
                        '{"os-detach": null}')
        self.assert_4xx('POST', '/attachments', json.dumps(
            {'attachment': {'volume_uuid': vol.id,
                            'connector': {'a': {'b': 'c'}}}}))
        # Found by the fuzz tier (tests/fuzz).
        self.assert_4xx('PUT', '/default-types/detail',
                        '{"os-unreserve": {"bootable": true}}')
        self.assert_4xx('DELETE', '/groups/.')
        self.assertEqual([], self.bad)
        # The volume is still usable, nothing was created.
        self.assertEqual(['victim'], [v.name for v in admin.volumes.list()])
        self.assertEqual('available', admin.volumes.get(vol.id).status)

    def test_oversized_bodies_get_413(self):
        self._deploy()
        big = b'{"volume": {"size": 1, "name": "' + b'x' * (11 << 20) + b'"}}'
        started = time.time()
        for method, headers in (('POST', None),
                                ('POST', {'Transfer-Encoding': 'chunked'}),
                                ('GET', None),
                                ('PUT', {'Transfer-Encoding': 'chunked'})):
            try:
                message = self.assert_4xx(method, '/volumes', big, headers,
                                          status=413)
            except (ConnectionError, socket.error,
                    http.client.HTTPException) as exc:
                self.fail('%s %s: connection broken instead of 413: %r'
                          % (method, headers, exc))
            self.assertIn('bytes', message)
        self.assertEqual([], self.bad)
        self.assertLess(time.time() - started, 60)
        # Under the limit still works.
        status, _ = self.raw('GET', '/volumes')
        self.assertEqual(200, status)
