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

import http.client
import json
import os
import tempfile
import threading
from unittest import mock
import uuid

from tests import ports
from tests.unit.client import fakes

from cinder_ksvd.client import attach
from cinder_ksvd.client import events
from cinder_ksvd.compute import events as compute_events

SECRET = b'0123456789abcdef'
CONNECTOR = {'host': 'kvm-7', 'ip': '127.0.0.1', 'initiator': 'iqn.x',
             'platform': 'x86_64', 'os_type': 'linux', 'multipath': False}


class EventsListenTest(fakes.ShellTestCase):
    """ksvd-cinder events listen on a real loopback HTTP server.

    Events are built by the server side's own code (compute.events), so a
    change of the format breaks this test; os-brick is replaced at its
    entry points only, as in test_attach.
    """

    def setUp(self):
        super(EventsListenTest, self).setUp()
        self.vol = self.cinder.volumes.add(name='disk1', size=2)
        self.patch(attach.LocalHost, 'setup', lambda self: None)
        props = mock.patch('os_brick.initiator.connector.'
                           'get_connector_properties',
                           return_value=dict(CONNECTOR))
        props.start()
        self.addCleanup(props.stop)
        factory = mock.patch('os_brick.initiator.connector.'
                             'InitiatorConnector.factory')
        self.brick = factory.start().return_value
        self.addCleanup(factory.stop)
        self.brick.connect_volume.return_value = {'path': '/dev/sdx'}
        self.brick.extend_volume.return_value = 2 * 1024 ** 3
        handle, self.secret_file = tempfile.mkstemp()
        os.write(handle, SECRET + b'\n')
        os.close(handle)
        self.addCleanup(os.unlink, self.secret_file)
        self.port = ports.free_port()

    def _event(self, kind='volume.extended', volume_id=None):
        event = {'schema_version': '1.0', 'event_id': str(uuid.uuid4()),
                 'type': kind, 'volume_id': volume_id or self.vol.id,
                 'server_ids': ['i-1'], 'request_id': None,
                 'timestamp': '2026-01-31T12:00:00.000000Z'}
        if kind == 'volume.extended':
            event['new_size'] = 2
        compute_events.validate(event)
        return event

    def _serve(self, count):
        result = {}

        def run():
            result['rc'], result['out'], result['err'] = self.run_shell(
                'events', 'listen', '--listen', '127.0.0.1:%d' % self.port,
                '--path', '/ksvd/events', '--secret-file', self.secret_file,
                '--host', 'kvm-7', '--count', str(count))
        thread = threading.Thread(target=run)
        thread.start()
        return thread, result

    def _post(self, body, sign=True, path='/ksvd/events', signature=None):
        headers = {'Content-Type': 'application/json'}
        if signature:
            headers['X-KSVD-Signature'] = signature
        elif sign:
            headers['X-KSVD-Signature'] = events.signature(SECRET, body)
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection('127.0.0.1', self.port,
                                                  timeout=10)
                conn.request('POST', path, body, headers)
                break
            except ConnectionRefusedError:
                threading.Event().wait(0.05)
        resp = conn.getresponse()
        resp.read()
        conn.close()
        return resp.status

    def test_extended_rescans_the_attached_volume(self):
        rc, out, err = self.run_shell('attach', 'disk1', '--host', 'kvm-7',
                                      '--instance-id', 'i-1')
        self.assertEqual(0, rc, err)
        thread, result = self._serve(2)
        body = json.dumps(self._event(), sort_keys=True).encode('utf-8')
        self.assertEqual(200, self._post(body))
        # the sender retries: the same event again is not rescanned twice
        self.assertEqual(200, self._post(body))
        thread.join(30)
        self.assertEqual(0, result['rc'], result['err'])
        reports = [json.loads(line) for line in result['out'].splitlines()]
        self.assertEqual(['rescanned', 'duplicate'],
                         [r['result'] for r in reports])
        self.assertEqual(2 * 1024 ** 3,
                         reports[0]['attachments'][0]['new_size_bytes'])
        att = list(self.cinder.attachments.db.values())[0]
        self.brick.extend_volume.assert_called_once_with(
            att['connection_info'])

    def test_bad_signature_and_path_are_refused(self):
        thread, result = self._serve(3)
        body = json.dumps(self._event(), sort_keys=True).encode('utf-8')
        self.assertEqual(401, self._post(body, sign=False))
        # signed, then changed on the way
        changed = body.replace(b'"new_size": 2', b'"new_size": 9')
        self.assertNotEqual(body, changed)
        self.assertEqual(401, self._post(
            changed, signature=events.signature(SECRET, body)))
        self.assertEqual(404, self._post(body, path='/other'))
        thread.join(30)
        self.assertEqual(0, result['rc'], result['err'])
        self.assertEqual('', result['out'])
        self.brick.extend_volume.assert_not_called()

    def test_other_types_and_volumes_elsewhere_need_nothing(self):
        thread, result = self._serve(2)
        for event in (self._event('volume.reimaged'), self._event()):
            body = json.dumps(event, sort_keys=True).encode('utf-8')
            self.assertEqual(200, self._post(body))
        thread.join(30)
        reports = [json.loads(line) for line in result['out'].splitlines()]
        self.assertEqual(['ignored', 'not-attached-here'],
                         [r['result'] for r in reports])
        self.brick.extend_volume.assert_not_called()

    def test_failed_rescan_answers_500(self):
        self.run_shell('attach', 'disk1', '--host', 'kvm-7',
                       '--instance-id', 'i-1')
        self.brick.extend_volume.side_effect = RuntimeError('no session')
        thread, result = self._serve(1)
        body = json.dumps(self._event(), sort_keys=True).encode('utf-8')
        self.assertEqual(500, self._post(body))
        thread.join(30)
        self.assertEqual('', result['out'])


class SignatureTest(fakes.ShellTestCase):

    def test_signature_is_the_documented_hmac(self):
        import hashlib
        import hmac
        body = b'{"a":1}'
        self.assertEqual(
            'sha256=' + hmac.new(SECRET, body, hashlib.sha256).hexdigest(),
            events.signature(SECRET, body))
        self.assertTrue(events.verify(SECRET, body,
                                      events.signature(SECRET, body)))
        self.assertFalse(events.verify(SECRET, body + b' ',
                                       events.signature(SECRET, body)))
        self.assertFalse(events.verify(SECRET, body, None))

    def test_parse_event_refuses_other_major_versions(self):
        self.assertRaises(ValueError, events.parse_event,
                          b'{"schema_version": "2.0", "event_id": "x", '
                          b'"type": "t", "volume_id": "v"}')
        self.assertRaises(ValueError, events.parse_event, b'[1]')
