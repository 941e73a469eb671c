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

import base64
import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from unittest import mock
import uuid

from tests.unit import base

from cinder_ksvd.compute import events
from cinder_ksvd.compute import sinks
from cinder_ksvd import opts

SECRET = 'shared-secret'


def make_event():
    return events.build(events.VOLUME_EXTENDED, str(uuid.uuid4()),
                        ['srv-1'], request_id='req-1', new_size=4)


# The receiver runs in its own interpreter: other unit tests import
# cinder.cmd.*, which eventlet-patches this process, and requests (imported
# before the patch) would then block a green-threaded server forever.
RECEIVER_CODE = r"""
import base64, json, os, sys
from http import server
workdir = sys.argv[1]

class Handler(server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers['Content-Length']))
        with open(os.path.join(workdir, 'received.jsonl'), 'a') as out:
            out.write(json.dumps([dict(self.headers),
                                  base64.b64encode(body).decode()]) + '\n')
        with open(os.path.join(workdir, 'status')) as handle:
            status = int(handle.read())
        self.send_response(status)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *args):
        pass

httpd = server.HTTPServer(('127.0.0.1', 0), Handler)
sys.stdout.write('%d\n' % httpd.server_port)
sys.stdout.flush()
httpd.serve_forever()
"""


class Receiver(object):
    """A webhook receiver on loopback that checks signatures like the MC."""

    def __init__(self, status=204):
        self.workdir = tempfile.mkdtemp(prefix='ksvd-receiver-')
        self.status = status
        self.proc = subprocess.Popen(
            [sys.executable, '-c', RECEIVER_CODE, self.workdir],
            stdout=subprocess.PIPE)
        port = int(self.proc.stdout.readline())
        self.url = 'http://127.0.0.1:%d/events' % port

    @property
    def status(self):
        with open(os.path.join(self.workdir, 'status')) as handle:
            return int(handle.read())

    @status.setter
    def status(self, value):
        with open(os.path.join(self.workdir, 'status'), 'w') as handle:
            handle.write(str(value))

    @property
    def received(self):
        path = os.path.join(self.workdir, 'received.jsonl')
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [(headers, base64.b64decode(body))
                    for headers, body in map(json.loads, handle)]

    def stop(self):
        self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    @staticmethod
    def verify(headers, body):
        expected = 'sha256=' + hmac.new(SECRET.encode('utf-8'), body,
                                        hashlib.sha256).hexdigest()
        # Header names are case-insensitive (Python 2's server lowercases).
        got = dict((k.lower(), v) for k, v in headers.items()).get(
            'x-ksvd-signature', '')
        return hmac.compare_digest(expected.encode('ascii'),
                                   got.encode('utf-8'))


def refused_url():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return 'http://127.0.0.1:%d/events' % port


class WebhookSinkTestCase(base.TestCase):

    def receiver(self, status=204):
        receiver = Receiver(status)
        self.addCleanup(receiver.stop)
        return receiver

    def test_delivers_signed_event(self):
        receiver = self.receiver()
        sink = sinks.WebhookSink(receiver.url, SECRET, timeout=5)
        event = make_event()
        body = events.dumps(event)
        self.assertIs(True, sink.send(event, body))
        self.assertEqual(1, len(receiver.received))
        headers, got = receiver.received[0]
        self.assertEqual(body, got)
        self.assertTrue(Receiver.verify(headers, got))
        self.assertEqual(event['event_id'], headers['X-KSVD-Event-Id'])
        self.assertEqual('application/json', headers['Content-Type'])
        self.assertEqual(event, events.validate(json.loads(
            got.decode('utf-8'))))

    def test_wrong_secret_fails_verification(self):
        receiver = self.receiver()
        sink = sinks.WebhookSink(receiver.url, 'other-secret')
        sink.send(make_event(), events.dumps(make_event()))
        headers, body = receiver.received[0]
        self.assertFalse(Receiver.verify(headers, body))

    def test_signature_function(self):
        body = b'{"a":1}'
        self.assertEqual(
            'sha256=' + hmac.new(b'k', body, hashlib.sha256).hexdigest(),
            sinks.signature('k', body))
        self.assertEqual(sinks.signature(b'k', body),
                         sinks.signature(u'k', body))

    def test_non_2xx_is_not_delivered(self):
        for status in (301, 400, 500, 503):
            receiver = self.receiver(status)
            sink = sinks.WebhookSink(receiver.url, SECRET)
            event = make_event()
            self.assertIs(False, sink.send(event, events.dumps(event)))
            self.assertEqual(1, len(receiver.received))

    def test_other_2xx_delivered(self):
        receiver = self.receiver(200)
        sink = sinks.WebhookSink(receiver.url, SECRET)
        event = make_event()
        self.assertIs(True, sink.send(event, events.dumps(event)))

    def test_refused_connection_is_not_delivered(self):
        sink = sinks.WebhookSink(refused_url(), SECRET, timeout=5)
        event = make_event()
        self.assertIs(False, sink.send(event, events.dumps(event)))

    def test_tls_verified_by_default(self):
        sink = sinks.WebhookSink('https://127.0.0.1:1/events', SECRET)
        self.assertIs(True, sink.verify)
        with mock.patch('requests.Session.post') as post:
            post.return_value.status_code = 202
            event = make_event()
            self.assertTrue(sink.send(event, events.dumps(event)))
        self.assertIs(True, post.call_args[1]['verify'])
        self.assertIs(False, post.call_args[1]['allow_redirects'])

    def test_needs_url_and_secret(self):
        self.assertRaises(ValueError, sinks.WebhookSink, None, SECRET)
        self.assertRaises(ValueError, sinks.WebhookSink, 'ftp://x', SECRET)
        self.assertRaises(ValueError, sinks.WebhookSink, 'http://x', '')
        self.assertRaises(ValueError, sinks.WebhookSink, 'http://x', None)


class LogSinkTestCase(base.TestCase):

    def test_logs_at_info(self):
        event = make_event()
        with mock.patch.object(sinks.LOG, 'info') as info:
            self.assertIs(True, sinks.LogSink().send(event,
                                                     events.dumps(event)))
        args = info.call_args[0]
        self.assertIn(event['event_id'], args[0] % args[1])


class NotificationSinkTestCase(base.TestCase):

    def conf(self, driver):
        conf = self.new_conf()
        conf([], default_config_files=[], default_config_dirs=[])
        import oslo_messaging
        oslo_messaging.get_notification_transport(conf, url='fake://')
        conf.set_override('driver', [driver],
                          group='oslo_messaging_notifications')
        return conf

    def test_sends_on_topic(self):
        from oslo_messaging.notify import _impl_test
        _impl_test.reset()
        self.addCleanup(_impl_test.reset)
        conf = self.conf('test')
        sink = sinks.NotificationSink('ksvd_topic', conf)
        event = make_event()
        self.assertIs(True, sink.send(event, events.dumps(event)))
        self.assertEqual(1, len(_impl_test.NOTIFICATIONS))
        _ctxt, message, priority, _retry = _impl_test.NOTIFICATIONS[0]
        self.assertEqual('INFO', priority)
        self.assertEqual('ksvd.volume.extended', message['event_type'])
        self.assertEqual(event, message['payload'])
        self.assertEqual(['ksvd_topic'], sink._get_notifier()._topics)

    def test_noop_driver_is_not_delivered(self):
        conf = self.conf('noop')
        sink = sinks.NotificationSink('ksvd_topic', conf)
        event = make_event()
        self.assertIs(False, sink.send(event, events.dumps(event)))


class FromConfTestCase(base.TestCase):

    def conf(self, **overrides):
        conf = self.new_conf()
        opts.register_opts(conf)
        conf([], default_config_files=[], default_config_dirs=[])
        for name, value in overrides.items():
            conf.set_override(name, value, group='ksvd_compute')
        return conf

    def test_default_is_log_only(self):
        built = sinks.from_conf(self.conf())
        self.assertEqual(['log'], [sink.name for sink in built])

    def test_all_sinks(self):
        built = sinks.from_conf(self.conf(
            sinks=['webhook', 'notifications', 'log'],
            webhook_url='https://mc.example/events', webhook_secret='s'))
        self.assertEqual(['webhook', 'notifications', 'log'],
                         [sink.name for sink in built])
        self.assertIs(True, built[0].verify)
        self.assertEqual(10.0, built[0].timeout)

    def test_ca_file_and_no_verify(self):
        conf = self.conf(sinks=['webhook'], webhook_url='https://mc/x',
                         webhook_secret='s', webhook_ca_file='/etc/ca.pem')
        self.assertEqual('/etc/ca.pem', sinks.from_conf(conf)[0].verify)
        conf.set_override('webhook_verify', False, group='ksvd_compute')
        self.assertIs(False, sinks.from_conf(conf)[0].verify)

    def test_webhook_without_secret_refused(self):
        conf = self.conf(sinks=['webhook'], webhook_url='https://mc/x')
        self.assertRaises(ValueError, sinks.from_conf, conf)

    def test_unknown_sink_refused_by_option(self):
        conf = self.conf()
        self.assertRaises(ValueError, conf.set_override, 'sinks', ['mail'],
                          group='ksvd_compute')
