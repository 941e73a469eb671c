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

"""A stand-in for KSVD's management centre (MC) receiving compute events.

It implements the receiving side of doc/compute-events.md as an MC must:
checks X-KSVD-Signature (HMAC-SHA256 of the raw body with the shared
secret) and rejects a bad one with 401, validates the body against the
published schema file (doc/compute-events.schema.json, not the sender's
module) and rejects an invalid event with 400, de-duplicates on event_id,
and answers 204.  It can be stopped and started again on the same port.
"""

import hashlib
import hmac
import http.server
import json
import os
import threading

import jsonschema
from tests.functional import services

SCHEMA_FILE = os.path.join(services.REPO, 'doc',
                           'compute-events.schema.json')


class Receiver(object):

    def __init__(self, secret, port=0):
        self.secret = secret.encode('utf-8')
        self.port = port
        with open(SCHEMA_FILE) as handle:
            self.validator = jsonschema.Draft7Validator(json.load(handle))
        self.lock = threading.Lock()
        self.events = {}        # event_id -> event, first delivery
        self.deliveries = []    # every accepted POST, duplicates included
        self.rejected = []      # (status, reason)
        self._server = None
        self._thread = None

    @property
    def url(self):
        return 'http://127.0.0.1:%d/ksvd/events' % self.port

    def start(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, reason=None):
                if reason is not None:
                    with receiver.lock:
                        receiver.rejected.append((status, reason))
                self.send_response(status)
                self.send_header('Content-Length', '0')
                self.end_headers()

            def do_POST(self):
                if self.path != '/ksvd/events':
                    return self._answer(404, 'path %s' % self.path)
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length)
                expected = 'sha256=' + hmac.new(
                    receiver.secret, body, hashlib.sha256).hexdigest()
                given = self.headers.get('X-KSVD-Signature') or ''
                if not hmac.compare_digest(expected, given):
                    return self._answer(401, 'bad signature')
                try:
                    event = json.loads(body.decode('utf-8'))
                except ValueError as exc:
                    return self._answer(400, 'not JSON: %s' % exc)
                errors = list(receiver.validator.iter_errors(event))
                if errors:
                    return self._answer(400, errors[0].message)
                if self.headers.get('X-KSVD-Event-Id') != event['event_id']:
                    return self._answer(400, 'event id header mismatch')
                with receiver.lock:
                    receiver.deliveries.append(event)
                    receiver.events.setdefault(event['event_id'], event)
                return self._answer(204)

        http.server.ThreadingHTTPServer.allow_reuse_address = True
        self._server = http.server.ThreadingHTTPServer(
            ('127.0.0.1', self.port), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None

    def of_type(self, type):
        with self.lock:
            return [event for event in self.events.values()
                    if event['type'] == type]
