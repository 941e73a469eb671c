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
import threading

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


class LoopbackServer(fixtures.Fixture):
    """Handler on 127.0.0.1:<random port>; TLS when given a cert dir."""

    def __init__(self, files, tls_dir=None):
        super(LoopbackServer, self).__init__()
        self.files = files
        self.tls_dir = tls_dir

    def _setUp(self):
        self.server = Server(('127.0.0.1', 0), Handler)
        self.server.files = self.files
        self.server.requests = []
        self.server.http_twin = ''
        scheme = 'http'
        if self.tls_dir:
            self.ca_file = make_cert(self.tls_dir)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(self.ca_file,
                                    os.path.join(self.tls_dir, 'key.pem'))
            self.server.socket = context.wrap_socket(self.server.socket,
                                                     server_side=True)
            scheme = 'https'
        thread = threading.Thread(target=self.server.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = '%s://127.0.0.1:%d' % (scheme,
                                          self.server.server_address[1])
        self.requests = self.server.requests


def make_cert(directory):
    """A self-signed certificate for IP 127.0.0.1; returns its PEM path."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import serialization
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, '127.0.0.1')])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address('127.0.0.1'))]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    cert_path = os.path.join(directory, 'cert.pem')
    with open(cert_path, 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.path.join(directory, 'key.pem'), 'wb') as handle:
        handle.write(key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption()))
    return cert_path
