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

"""events listen: a hypervisor-side receiver of KSVD compute events.

ksvd-cinder's webhook sink POSTs each compute event, signed with HMAC-SHA256
(doc/compute-events.md). A host without the MC (a test rig, a small site)
runs this receiver: it checks the signature, and on `volume.extended`
rescans this host's attachments of the volume through os-brick
(extend_volume), so the attached device shows the new size, as Nova does
for stock cinder. One line of JSON per event goes to stdout.

Answers: 200 when the event is handled (or needs nothing on this host,
or was seen before: delivery is at least once), 401 on a bad signature,
400 on a body that is not an event, 500 when the rescan failed (the
sender retries).
"""

import hashlib
import hmac
import json
import logging
import sys

from cinder_ksvd.client import attach
from cinder_ksvd.client import common

try:  # Python 3
    from http import server as http_server
except ImportError:  # Python 2
    import BaseHTTPServer as http_server

LOG = logging.getLogger(__name__)
SIGNATURE_HEADER = 'X-KSVD-Signature'
MAX_BODY = 1024 * 1024
SEEN_LIMIT = 10000


def signature(secret, body):
    """The X-KSVD-Signature value of BODY (bytes) under SECRET (bytes)."""
    return 'sha256=' + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret, body, header):
    """True when HEADER is the signature of exactly BODY."""
    if not header:
        return False
    return hmac.compare_digest(signature(secret, body), str(header))


class Handler(object):
    """What to do with a verified event; independent of HTTP."""

    def __init__(self, cinder, local, out=None):
        self.cinder = cinder
        self.local = local
        self.out = out or sys.stdout
        self.seen = set()

    def handle(self, event):
        """Act on EVENT (a dict); returns the report written to out."""
        event_id = event.get('event_id')
        if event_id in self.seen:
            report = {'event_id': event_id, 'result': 'duplicate'}
        elif event.get('type') == 'volume.extended':
            report = self._extended(event)
            self._remember(event_id)
        else:
            report = {'event_id': event_id, 'type': event.get('type'),
                      'result': 'ignored'}
            self._remember(event_id)
        self.out.write(json.dumps(report, sort_keys=True) + '\n')
        self.out.flush()
        return report

    def _remember(self, event_id):
        if len(self.seen) >= SEEN_LIMIT:
            self.seen.clear()
        self.seen.add(event_id)

    def _extended(self, event):
        volume_id = event['volume_id']
        volume = self.cinder.volumes.get(volume_id)
        here = [a for a in getattr(volume, 'attachments', None) or ()
                if a.get('host_name') == self.local.host]
        devices = []
        for item in here:
            att = self.cinder.attachments.show(item['attachment_id'])
            conn_info = att.connection_info or {}
            if not conn_info.get('driver_volume_type'):
                continue
            size = self.local.extend(conn_info)
            devices.append({'attachment_id': item['attachment_id'],
                            'device': item.get('device'),
                            'new_size_bytes': size})
        return {'event_id': event.get('event_id'),
                'type': 'volume.extended', 'volume_id': volume_id,
                'new_size': event.get('new_size'),
                'result': 'rescanned' if devices else 'not-attached-here',
                'attachments': devices}


def parse_event(body):
    """The event dict from the raw body; ValueError when it is none."""
    event = json.loads(body.decode('utf-8'))
    if not isinstance(event, dict):
        raise ValueError('not a JSON object')
    version = str(event.get('schema_version', ''))
    if version.split('.')[0] != '1':
        raise ValueError('unknown schema_version %r' % version)
    for field in ('event_id', 'type', 'volume_id'):
        if not event.get(field):
            raise ValueError('no %s' % field)
    return event


def make_request_handler(secret, handler, path):
    """A BaseHTTPRequestHandler class bound to SECRET and HANDLER."""

    class RequestHandler(http_server.BaseHTTPRequestHandler):

        def _answer(self, status, text):
            data = (text + '\n').encode('utf-8')
            self.send_response(status)
            self.send_header('Content-Type', 'text/plain')
            self.send_header('Content-Length', str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            if path and self.path.split('?')[0] != path:
                return self._answer(404, 'not found')
            try:
                length = int(self.headers.get('Content-Length') or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY:
                return self._answer(400, 'bad Content-Length')
            body = self.rfile.read(length)
            if not verify(secret, body, self.headers.get(SIGNATURE_HEADER)):
                return self._answer(401, 'bad signature')
            try:
                event = parse_event(body)
            except ValueError as exc:
                return self._answer(400, 'not an event: %s' % exc)
            try:
                handler.handle(event)
            except Exception as exc:
                LOG.error('event %s: %s', event.get('event_id'),
                          common.describe(exc))
                return self._answer(500, common.one_line(str(exc)))
            return self._answer(200, 'ok')

        def log_message(self, fmt, *args):
            LOG.debug('%s ' + fmt, self.address_string(), *args)

    return RequestHandler


def read_secret(path):
    with open(path, 'rb') as handle:
        secret = handle.read().strip()
    if not secret:
        raise common.CommandError('%s is empty' % path)
    return secret


class Listen(common.Command):
    """Receive KSVD compute events; rescan attached volumes on extend."""

    host_factory = staticmethod(attach.local_host)
    server_class = http_server.HTTPServer

    def get_parser(self, prog_name):
        parser = super(Listen, self).get_parser(prog_name)
        parser.add_argument('--listen', default='127.0.0.1:8777',
                            metavar='ADDRESS:PORT',
                            help='where to accept the webhook\'s POSTs '
                            '(default %(default)s)')
        parser.add_argument('--path', default='',
                            help='accept POSTs to this path only (the '
                            'path of [ksvd_compute] webhook_url)')
        parser.add_argument('--secret-file', required=True,
                            help='file holding [ksvd_compute] '
                            'webhook_secret')
        parser.add_argument('--count', type=int, default=0,
                            help='exit after this many requests '
                            '(default: run until killed)')
        attach.add_host_args(parser)
        return parser

    def take_action(self, parsed_args):
        address, _, port = parsed_args.listen.rpartition(':')
        try:
            port = int(port)
        except ValueError:
            raise common.CommandError('bad --listen %r: give ADDRESS:PORT'
                                      % parsed_args.listen)
        secret = read_secret(parsed_args.secret_file)
        local = self.host_factory(parsed_args)
        handler = Handler(self.cinder, local, self.app.stdout)
        server = self.server_class(
            (address.strip('[]') or '127.0.0.1', port),
            make_request_handler(secret, handler, parsed_args.path))
        LOG.info('listening on %s', parsed_args.listen)
        try:
            if parsed_args.count > 0:
                for _ in range(parsed_args.count):
                    server.handle_request()
            else:
                server.serve_forever()
        finally:
            server.server_close()
        return 0
