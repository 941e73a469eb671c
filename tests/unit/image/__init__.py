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
"""A real HTTP(S) server on 127.0.0.1 for the image store tests."""

import datetime
import http.server
import ipaddress
import os
import re
import socketserver
import ssl

import fixtures


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves server.files {path: bytes}; a few paths misbehave on purpose.

    /redirect/<n>/<path>  302 n times, then <path>
    /to-http/<path>       302 to the plain-http twin (server.http_twin)
    /short/<path>         announces the full length, sends half
    /chunked/<path>       no Content-Length
    """

    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def _send(self, code, headers, body=b''):
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if body and self.command != 'HEAD':
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    def do_GET(self):
        self.server.requests.append((self.path, dict(self.headers)))
        path = self.path
        match = re.match(r'^/redirect/(\d+)(/.*)$', path)
        if match:
            left = int(match.group(1))
            target = (match.group(2) if left <= 1 else
                      '/redirect/%d%s' % (left - 1, match.group(2)))
            return self._send(302, {'Location': target,
                                    'Content-Length': '0'})
        if path.startswith('/to-http/'):
            return self._send(302, {
                'Location': self.server.http_twin + path[len('/to-http'):],
                'Content-Length': '0'})
        mode = None
        for prefix in ('/short', '/chunked'):
            if path.startswith(prefix + '/'):
                mode, path = prefix, path[len(prefix):]
        body = self.server.files.get(path)
        if body is None:
            return self._send(404, {'Content-Length': '9'}, b'not found')
        if mode == '/short':
            self.close_connection = True
            return self._send(200, {'Content-Length': str(len(body))},
                              body[:len(body) // 2])
        if mode == '/chunked':
            self.close_connection = True
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)
            return
        rng = re.match(r'^bytes=(\d+)-(\d+)$', self.headers.get('Range', ''))
        if rng:
            start, end = int(rng.group(1)), min(int(rng.group(2)),
                                                len(body) - 1)
            return self._send(206, {
                'Content-Range': 'bytes %d-%d/%d' % (start, end, len(body)),
                'Content-Length': str(end - start + 1),
                'ETag': '"%d"' % len(body)}, body[start:end + 1])
        return self._send(200, {'Content-Length': str(len(body)),
                                'ETag': '"%d"' % len(body)}, body)


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients that hang up early are part of the tests


def serve(state_dir):
    """Child process: serve state_dir's files until killed.

    The server runs in its own interpreter: other unit tests import
    cinder.cmd.*, which eventlet-patches the test process, and a server
    thread there deadlocks against requests imported before the patch.
    State is shared through files: files.json (path -> base64 body), twin
    (server.http_twin), requests.jsonl (what was asked), tls (cert, key).
    """
    import base64
    import json
    import sys

    class Files(object):
        def get(self, path):
            with open(os.path.join(state_dir, 'files.json')) as handle:
                body = json.load(handle).get(path)
            return None if body is None else base64.b64decode(body)

    class Requests(object):
        def append(self, item):
            with open(os.path.join(state_dir, 'requests.jsonl'), 'a') as out:
                out.write(json.dumps(item) + '\n')

    class Twin(object):
        def __add__(self, other):
            with open(os.path.join(state_dir, 'twin')) as handle:
                return handle.read() + other

    server = Server(('127.0.0.1', 0), Handler)
    server.files, server.requests, server.http_twin = Files(), Requests(), \
        Twin()
    cert = os.path.join(state_dir, 'cert.pem')
    if os.path.exists(cert):
        # PROTOCOL_TLS_SERVER: Python 3.6+.
        context = ssl.SSLContext(getattr(ssl, 'PROTOCOL_TLS_SERVER',
                                         ssl.PROTOCOL_SSLv23))
        context.load_cert_chain(cert, os.path.join(state_dir, 'key.pem'))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    sys.stdout.write('%d\n' % server.server_address[1])
    sys.stdout.flush()
    server.serve_forever()


class _Files(dict):
    """files {path: bytes}, written through to the child's files.json."""

    def __init__(self, state_dir, files):
        super(_Files, self).__init__(files)
        self._state_dir = state_dir
        self._save()

    def _save(self):
        import base64
        import json
        data = dict((path, base64.b64encode(body).decode('ascii'))
                    for path, body in self.items())
        temp = os.path.join(self._state_dir, 'files.json.tmp')
        with open(temp, 'w') as out:
            json.dump(data, out)
        os.rename(temp, os.path.join(self._state_dir, 'files.json'))

    def __setitem__(self, path, body):
        super(_Files, self).__setitem__(path, body)
        self._save()


class _ServerProxy(object):
    """What the tests touch of the server, backed by the child process."""

    def __init__(self, state_dir, proc, port):
        self._state_dir = state_dir
        self._proc = proc
        self.server_address = ('127.0.0.1', port)
        self.files = None
        self.http_twin = ''

    @property
    def http_twin(self):
        with open(os.path.join(self._state_dir, 'twin')) as handle:
            return handle.read()

    @http_twin.setter
    def http_twin(self, value):
        with open(os.path.join(self._state_dir, 'twin'), 'w') as out:
            out.write(value)

    def shutdown(self):
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._proc.stdout.close()

    server_close = shutdown


class LoopbackServer(fixtures.Fixture):
    """Handler on 127.0.0.1:<random port> in a child process.

    TLS when given a cert dir.
    """

    def __init__(self, files, tls_dir=None):
        super(LoopbackServer, self).__init__()
        self.initial_files = files
        self.tls_dir = tls_dir

    def _setUp(self):
        import subprocess
        import sys
        state = self.useFixture(fixtures.TempDir()).path
        files = _Files(state, self.initial_files)
        scheme = 'http'
        if self.tls_dir:
            self.ca_file = make_cert(self.tls_dir)
            for name in ('cert.pem', 'key.pem'):
                with open(os.path.join(self.tls_dir, name), 'rb') as src:
                    with open(os.path.join(state, name), 'wb') as dst:
                        dst.write(src.read())
            scheme = 'https'
        repo = os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__)))))
        # Unpatched (tests/unit/__init__.py): a green server stopped
        # answering under oslo.service's EVENTLET_HUB on eventlet 0.30
        # (Python 3.9) and cannot accept TLS on eventlet 0.25 (Python 2.7).
        env = dict(os.environ, PYTHONPATH=repo, KSVD_TESTS_UNPATCHED='1')
        env.pop('EVENTLET_HUB', None)
        proc = subprocess.Popen(
            [sys.executable, '-c',
             'import sys; from tests.unit.image import serve; '
             'serve(sys.argv[1])', state],
            stdout=subprocess.PIPE, cwd=repo, env=env)
        port = int(proc.stdout.readline())
        self.server = _ServerProxy(state, proc, port)
        self.server.files = files
        self.addCleanup(self.server.shutdown)
        self.url = '%s://127.0.0.1:%d' % (scheme, port)

    @property
    def requests(self):
        import json
        path = os.path.join(self.server._state_dir, 'requests.jsonl')
        if not os.path.exists(path):
            return []
        with open(path) as handle:
            return [tuple(json.loads(line)) for line in handle]


def make_cert(directory):
    """A self-signed certificate for IP 127.0.0.1; returns its PEM path."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    from cryptography.hazmat.backends import default_backend

    # backend=: required before cryptography 3.1 (the legacy tier's 2.8).
    key = ec.generate_private_key(ec.SECP256R1(), default_backend())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u'127.0.0.1')])
    now = datetime.datetime.utcnow()  # naive: UTC to cryptography
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(u'127.0.0.1'))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256(), default_backend()))
    cert_path = os.path.join(directory, 'cert.pem')
    with open(cert_path, 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(directory, 'key.pem'), 'wb') as handle:
        handle.write(key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()))
    return cert_path
