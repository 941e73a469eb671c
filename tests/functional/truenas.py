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

"""A small double of a TrueNAS appliance's REST API v2.0 (zvols only).

Imitates the subset of the TrueNAS (CORE 13 / SCALE) REST API v2.0 that a
cinder driver needs to create and delete zvols, as documented by the
appliance's own API docs (/api/docs) and used by iXsystems' cinder driver:

- every request is authenticated: ``Authorization: Bearer <API key>`` or
  ``Basic <user:password>``; otherwise 401;
- ``GET /api/v2.0/system/version``: a JSON string, e.g. "TrueNAS-13.0-U6";
- ``GET /api/v2.0/pool/dataset``: the list of datasets;
- ``GET /api/v2.0/pool/dataset/id/<id>``: one dataset (id is the full name,
  URL-encoded, "tank%2Fcinder"); 404 ``{"message": ...}`` if absent.
  A dataset is ``{"id", "name", "pool", "type": "FILESYSTEM"|"VOLUME",
  "volsize" (volumes), "available", "used"}``; sizes are property objects
  ``{"parsed": <int>, "rawvalue": "<int>", "value": "<human>",
  "source": ...}``;
- ``POST /api/v2.0/pool/dataset`` with JSON ``{"name": "<parent>/<zvol>",
  "type": "VOLUME", "volsize": <bytes>}``: creates a zvol and answers the
  dataset; 422 with ``{"<field>": [{"message": ...}]}``-style validation
  errors when the parent is missing, the name exists, volsize is absent or
  not a multiple of volblocksize (16 KiB) or larger than the space left;
- ``DELETE /api/v2.0/pool/dataset/id/<id>``: answers ``true``; 404 if absent.

With ``--redirect`` it also listens on a second port that answers every
request with ``301 Moved Permanently`` and a Location on the API port, as
the appliance's web server does for http when "Web Interface HTTP -> HTTPS
Redirect" is on (here http to http: no certificates in tests).

Run: python truenas.py --api-key KEY --pool tank --dataset tank/cinder
[--size-gib N] [--redirect]; it prints one JSON line {"port": P,
"redirect_port": R} and serves until killed.  Every request is appended to
the log on stderr as "METHOD PATH STATUS".
"""

import argparse
import base64
import http.server
import json
import sys
import threading
import urllib.parse

GiB = 1024 ** 3
BLOCK = 16 * 1024


def _prop(value):
    return {'parsed': value, 'rawvalue': str(value),
            'value': '%.2fG' % (value / float(GiB)), 'source': 'NONE'}


class Appliance(object):

    def __init__(self, api_key, pool, datasets, size):
        self.api_key = api_key
        self.pool = pool
        self.size = size
        self.lock = threading.Lock()
        self.datasets = {}
        for name in [pool] + list(datasets):
            self.datasets[name] = {'type': 'FILESYSTEM'}

    def used(self):
        return sum(d.get('volsize', 0) for d in self.datasets.values())

    def show(self, name):
        data = self.datasets[name]
        used = sum(d.get('volsize', 0) for n, d in self.datasets.items()
                   if n == name or n.startswith(name + '/'))
        out = {'id': name, 'name': name, 'pool': self.pool,
               'type': data['type'], 'used': _prop(used),
               'available': _prop(self.size - self.used())}
        if data['type'] == 'VOLUME':
            out['volsize'] = _prop(data['volsize'])
            out['volblocksize'] = {'parsed': BLOCK, 'value': '16K'}
        return out


class Handler(http.server.BaseHTTPRequestHandler):
    """The API port: routes of the module docstring."""

    appliance = None
    protocol_version = 'HTTP/1.1'

    def log_message(self, fmt, *args):
        pass

    def _send(self, status, body):
        raw = json.dumps(body).encode('utf-8')
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)
        sys.stderr.write('%s %s %d\n' % (self.command, self.path,
                                         status))
        sys.stderr.flush()

    def _authorized(self):
        header = self.headers.get('Authorization', '')
        if header == 'Bearer %s' % self.appliance.api_key:
            return True
        if header.startswith('Basic '):
            try:
                pair = base64.b64decode(header[6:]).decode('utf-8')
            except (ValueError, UnicodeDecodeError):
                return False
            return pair == 'root:%s' % self.appliance.api_key
        return False

    def _body(self):
        length = int(self.headers.get('Content-Length') or 0)
        raw = self.rfile.read(length) if length else b''
        return json.loads(raw.decode('utf-8')) if raw else None

    def _route(self):
        path = urllib.parse.urlsplit(self.path).path
        prefix = '/api/v2.0'
        if not path.startswith(prefix + '/'):
            return None, None
        rest = path[len(prefix):]
        if rest.startswith('/pool/dataset/id/'):
            return 'dataset', urllib.parse.unquote_plus(
                rest[len('/pool/dataset/id/'):])
        return rest.rstrip('/'), None

    def _handle(self):
        body = self._body() if self.command in ('POST', 'PUT') else None
        if not self._authorized():
            return self._send(401, {'message': 'Not authenticated'})
        route, name = self._route()
        with self.appliance.lock:
            if self.command == 'GET' and route == '/system/version':
                return self._send(200, 'TrueNAS-13.0-U6')
            if self.command == 'GET' and route == '/pool/dataset':
                return self._send(200, [self.appliance.show(n) for n in
                                        sorted(self.appliance.datasets)])
            if route == 'dataset' and self.command in ('GET', 'DELETE'):
                if name not in self.appliance.datasets:
                    return self._send(404, {
                        'message': 'Dataset %s does not exist' % name})
                if self.command == 'GET':
                    return self._send(200, self.appliance.show(name))
                children = [n for n in self.appliance.datasets
                            if n.startswith(name + '/')]
                if children:
                    return self._send(422, {'message': '%s has '
                                            'children' % name})
                del self.appliance.datasets[name]
                return self._send(200, True)
            if self.command == 'POST' and route == '/pool/dataset':
                return self._create(body or {})
        return self._send(404, {'message': 'Not Found'})

    def _create(self, body):
        name = body.get('name') or ''
        size = body.get('volsize')
        errors = {}
        parent = name.rpartition('/')[0]
        if body.get('type') != 'VOLUME':
            errors['pool_dataset_create.type'] = 'only VOLUME here'
        elif name in self.appliance.datasets:
            errors['pool_dataset_create.name'] = 'Path %s already ' \
                'exists' % name
        elif parent not in self.appliance.datasets:
            errors['pool_dataset_create.name'] = 'Parent %s does not ' \
                'exist' % parent
        elif not isinstance(size, int) or size <= 0 or size % BLOCK:
            errors['pool_dataset_create.volsize'] = 'Volume size ' \
                'should be a multiple of 16K'
        elif size > self.appliance.size - self.appliance.used():
            errors['pool_dataset_create.volsize'] = 'Not enough space'
        if errors:
            return self._send(422, dict(
                (k, [{'message': v, 'errno': 22}])
                for k, v in errors.items()))
        self.appliance.datasets[name] = {'type': 'VOLUME', 'volsize': size}
        return self._send(200, self.appliance.show(name))

    do_GET = do_POST = do_PUT = do_DELETE = _handle


def make_handler(appliance):
    return type('ApplianceHandler', (Handler,), {'appliance': appliance})


def make_redirector(port_holder):

    class Redirect(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, fmt, *args):
            pass

        def _handle(self):
            length = int(self.headers.get('Content-Length') or 0)
            if length:
                self.rfile.read(length)
            host = self.headers.get('Host', '127.0.0.1').rsplit(':', 1)[0]
            self.send_response(301)
            self.send_header('Location', 'http://%s:%d%s' % (
                host, port_holder[0], self.path))
            self.send_header('Content-Length', '0')
            self.end_headers()
            sys.stderr.write('%s %s 301\n' % (self.command, self.path))
            sys.stderr.flush()

        do_GET = do_POST = do_PUT = do_DELETE = _handle

    return Redirect


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument('--api-key', required=True)
    parser.add_argument('--pool', default='tank')
    parser.add_argument('--dataset', action='append', default=[])
    parser.add_argument('--size-gib', type=int, default=100)
    parser.add_argument('--redirect', action='store_true')
    args = parser.parse_args(argv)
    appliance = Appliance(args.api_key, args.pool, args.dataset,
                          args.size_gib * GiB)
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                             make_handler(appliance))
    ports = {'port': server.server_address[1], 'redirect_port': None}
    if args.redirect:
        redirector = http.server.ThreadingHTTPServer(
            ('127.0.0.1', 0), make_redirector([ports['port']]))
        ports['redirect_port'] = redirector.server_address[1]
        threading.Thread(target=redirector.serve_forever,
                         daemon=True).start()
    sys.stdout.write(json.dumps(ports) + '\n')
    sys.stdout.flush()
    server.serve_forever()


if __name__ == '__main__':
    main()
