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

import hashlib
import os

from tests.unit import base
from tests.unit import image as helpers

from cinder_ksvd.image import httpstore

BODY = os.urandom(300000)


class SplitUrlTestCase(base.TestCase):

    def test_checksum_fragment(self):
        digest = hashlib.sha256(BODY).hexdigest()
        url, expected = httpstore.split_url(
            'http://127.0.0.1:8/a/b.img#sha256=%s' % digest.upper())
        self.assertEqual('http://127.0.0.1:8/a/b.img', url)
        self.assertEqual({'sha256': digest}, expected)
        self.assertEqual(({'md5': 'a' * 32}),
                         httpstore.split_url('https://h/x#md5=' + 'a' * 32)[1])

    def test_refused(self):
        for url in ('ftp://127.0.0.1/x', 'file:///etc/passwd', 'http:///x',
                    'http://h/x#sha256=abc', 'http://h/x#size=3',
                    'http://h/x\x00y', 'http://h/a b'):
            self.assertRaises(httpstore.HttpImageError,
                              httpstore.split_url, url)

    def test_is_url(self):
        self.assertTrue(httpstore.is_url('HTTPS://h/x'))
        self.assertFalse(httpstore.is_url('7c1b7a4e-4b4e-4f0e-8f0e-1d2c3b4a'))
        self.assertFalse(httpstore.is_url(None))


class HttpStoreTestCase(base.TestCase):

    def setUp(self):
        super(HttpStoreTestCase, self).setUp()
        self.web = self.useFixture(helpers.LoopbackServer({'/img': BODY}))
        self.store = httpstore.HttpStore(
            timeout=10, chunk_size=65536,
            allowed_prefixes=[self.web.url + '/'])

    def test_probe_reads_only_the_head(self):
        found = self.store.probe(self.web.url + '/img')
        self.assertEqual(len(BODY), found['size'])
        self.assertEqual(BODY[:512], found['head'])
        self.assertEqual('"%d"' % len(BODY), found['etag'])
        # Header names as sent: Python 2's server lowercases them.
        headers = dict((name.lower(), value)
                       for name, value in self.web.requests[-1][1].items())
        self.assertEqual('bytes=0-511', headers['range'])

    def test_stream(self):
        got = b''.join(self.store.stream(self.web.url + '/img', len(BODY)))
        self.assertEqual(BODY, got)

    def test_redirects_followed_up_to_the_limit(self):
        self.store.max_redirects = 3
        got = b''.join(self.store.stream(self.web.url + '/redirect/3/img'))
        self.assertEqual(BODY, got)
        exc = self.assertRaises(
            httpstore.HttpImageError, lambda: list(
                self.store.stream(self.web.url + '/redirect/4/img')))
        self.assertIn('more than 3 redirects', str(exc))

    def test_redirect_to_other_host_checked(self):
        self.web.server.http_twin = 'http://localhost:1'
        exc = self.assertRaises(
            httpstore.HttpImageError, lambda: list(
                self.store.stream(self.web.url + '/to-http/img')))
        self.assertIn('http://localhost:1/img is not under any of',
                      str(exc))

    def test_http_errors(self):
        exc = self.assertRaises(httpstore.HttpImageError, self.store.probe,
                                self.web.url + '/missing')
        self.assertIn('answered HTTP 404', str(exc))
        port = self.web.server.server_address[1]
        self.web.server.server_close()
        self.web.server.shutdown()
        exc = self.assertRaises(httpstore.HttpImageError, lambda: list(
            self.store.stream('http://127.0.0.1:%d/img' % port)))
        self.assertIn('cannot fetch', str(exc))

    def test_short_body(self):
        exc = self.assertRaises(httpstore.HttpImageError, lambda: list(
            self.store.stream(self.web.url + '/short/img', len(BODY))))
        self.assertIn('bytes', str(exc))

    def test_size_changed_on_server(self):
        exc = self.assertRaises(httpstore.HttpImageError, lambda: list(
            self.store.stream(self.web.url + '/img', len(BODY) + 1)))
        self.assertIn('registered with %d' % (len(BODY) + 1), str(exc))

    def test_no_size_refused_by_probe(self):
        exc = self.assertRaises(httpstore.HttpImageError, self.store.probe,
                                self.web.url + '/chunked/img')
        self.assertIn('did not report the image size', str(exc))

    def test_allowed_hosts(self):
        self.store.allowed_hosts = ['images.example']
        self.assertRaises(httpstore.HttpImageError, self.store.check,
                          self.web.url + '/img')
        self.assertEqual([], self.web.requests)


class HttpsTestCase(base.TestCase):

    def setUp(self):
        super(HttpsTestCase, self).setUp()
        self.web = self.useFixture(helpers.LoopbackServer(
            {'/img': BODY}, tls_dir=self.make_tempdir()))

    def test_verified_by_default(self):
        store = httpstore.HttpStore(timeout=10,
                                    allowed_prefixes=[self.web.url])
        exc = self.assertRaises(httpstore.HttpImageError, store.probe,
                                self.web.url + '/img')
        self.assertIn('TLS verification', str(exc))

    def test_ca_file(self):
        store = httpstore.HttpStore(timeout=10, ca_file=self.web.ca_file,
                                    allowed_prefixes=[self.web.url])
        self.assertEqual(BODY, b''.join(store.stream(self.web.url + '/img')))

    def test_no_downgrade_to_http(self):
        plain = self.useFixture(helpers.LoopbackServer({'/img': BODY}))
        self.web.server.http_twin = plain.url
        store = httpstore.HttpStore(timeout=10, ca_file=self.web.ca_file,
                                    allowed_prefixes=[self.web.url, plain.url])
        exc = self.assertRaises(httpstore.HttpImageError, lambda: list(
            store.stream(self.web.url + '/to-http/img')))
        self.assertIn('https to http', str(exc))
        self.assertEqual([], plain.requests)


class _Listener(object):
    """A loopback TCP port that counts the connections it accepts."""

    def __init__(self):
        import socket
        import threading
        self.sock = socket.socket()
        self.sock.bind(('127.0.0.1', 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._thread = threading.Thread(target=self._run)
        self._thread.daemon = True  # daemon= is Python 3 only
        self._thread.start()

    def _run(self):
        while True:
            try:
                conn, _peer = self.sock.accept()
            except (OSError, IOError):  # socket.error is IOError on 2.7
                return
            self.accepted += 1
            conn.close()

    def close(self):
        # Wake the accept first and wait for the thread: closing under a
        # green thread that still waits on the descriptor lets the next
        # socket with that number trip eventlet ("second simultaneous
        # read", seen on Python 2.7 / eventlet 0.25).
        import socket
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except (OSError, IOError):
            pass
        self._thread.join(5)
        self.sock.close()


class SsrfTestCase(base.TestCase):
    """The bypasses of issue 27 against a loopback listener."""

    def setUp(self):
        super(SsrfTestCase, self).setUp()
        self.web = self.useFixture(helpers.LoopbackServer({'/img': BODY}))
        self.internal = _Listener()
        self.addCleanup(self.internal.close)
        self.store = httpstore.HttpStore(
            timeout=5, allowed_prefixes=[self.web.url + '/'])

    def refused(self, url, store=None, reason=None):
        exc = self.assertRaises(httpstore.HttpImageError, lambda: list(
            (store or self.store).stream(url)))
        if reason:
            self.assertIn(reason, str(exc))
        return exc

    def test_the_allowed_prefix_works(self):
        self.assertEqual(BODY, b''.join(self.store.stream(
            self.web.url + '/img')))

    def test_other_hosts_and_ports_refused(self):
        port = self.internal.port
        for host in ('127.0.0.1', 'localhost', '2130706433', '127.1',
                     '0.0.0.0', '[::1]', '[::ffff:127.0.0.1]', '0x7f.1',
                     '017700000001'):
            self.refused('http://%s:%d/img' % (host, port),
                         reason='is not under any of')
        self.assertEqual(0, self.internal.accepted)

    def test_numeric_forms_refused_even_when_prefixed(self):
        # A prefix by name or odd numeric form: the resolved address is
        # loopback, which only url_allowed_networks can allow.
        port = self.internal.port
        for host in ('localhost', '2130706433', '127.1', '0x7f.1'):
            store = httpstore.HttpStore(
                timeout=5,
                allowed_prefixes=['http://%s:%d/' % (host, port)])
            exc = self.refused('http://%s:%d/img' % (host, port), store)
            # glibc reads 2130706433 as 127.0.0.1, eventlet's resolver
            # does not resolve it at all: refused either way.
            self.assertRegex(str(exc), 'is loopback; refused|cannot resolve')
        store = httpstore.HttpStore(
            timeout=5, allowed_prefixes=['http://0.0.0.0:%d/' % port],
            allowed_networks=['0.0.0.0/0'])
        self.refused('http://0.0.0.0:%d/img' % port, store,
                     'is unspecified; refused')
        self.assertEqual(0, self.internal.accepted)
        store = httpstore.HttpStore(
            timeout=5, allowed_prefixes=['http://localhost:%d/' % port],
            allowed_networks=['127.0.0.0/8'])
        self.refused('http://localhost:%d/img' % port, store,
                     'cannot fetch')  # listed: connected, then closed
        self.assertEqual(1, self.internal.accepted)

    def test_control_characters_and_tricks_refused(self):
        base_url = self.web.url
        for url, reason in (
                (base_url + '/img%0d%0aHost:%20evil', 'control characters'),
                (base_url + '/img%0AX', 'control characters'),
                (base_url + '/img\r\nX: y', 'control characters'),
                (base_url + '/a/../img', 'dot segment'),
                (base_url + '/a/%2e%2E/img', 'dot segment'),
                (base_url + '/a\\..\\img', 'backslash'),
                ('http://127.0.0.1:%d@127.0.0.1:%d/img'
                 % (self.web.server.server_address[1], self.internal.port),
                 'user information'),
                (base_url.replace('http', 'https') + '/img',
                 'is not under any of')):
            self.refused(url, reason=reason)
        self.assertEqual([], self.web.requests)

    def test_redirect_to_internal_port_refused(self):
        self.web.server.http_twin = 'http://127.0.0.1:%d' % self.internal.port
        self.refused(self.web.url + '/to-http/img',
                     reason='127.0.0.1:%d/img is not under any of'
                     % self.internal.port)
        self.assertEqual(0, self.internal.accepted)
        self.assertEqual(1, len(self.web.requests))

    def test_prefix_path_is_a_directory(self):
        store = httpstore.HttpStore(
            timeout=5, allowed_prefixes=[self.web.url + '/images'])
        self.refused(self.web.url + '/images-other/img', store,
                     'is not under any of')
        self.refused(self.web.url + '/img', store, 'is not under any of')
        self.assertEqual([], self.web.requests)

    def test_metadata_refused_by_resolution(self):
        # No traffic to 169.254.x.x: the resolver is the test's and a
        # connection attempt would fail the test.
        import fixtures
        self.useFixture(fixtures.MockPatch(
            'urllib3.util.connection.create_connection',
            side_effect=AssertionError('connected')))
        for address, reason in (('169.254.169.254', 'cloud metadata'),
                                ('fd00:ec2::254', 'cloud metadata'),
                                ('fe80::a9fe:a9fe', 'link-local'),
                                ('::ffff:169.254.169.254', 'metadata')):
            family = 10 if ':' in address else 2
            store = httpstore.HttpStore(
                timeout=5,
                allowed_prefixes=['http://metadata.internal/latest/'],
                resolve=lambda *a, **k: [(family, 1, 6, '', (address, 80))])
            self.refused('http://metadata.internal/latest/meta-data/',
                         store, reason)

    def test_connected_address_checked_again(self):
        # DNS rebinding: the name resolved to a listed address when
        # checked, the connection went elsewhere (127.0.0.1).
        port = self.web.server.server_address[1]
        store = httpstore.HttpStore(
            timeout=5, allowed_prefixes=['http://localhost:%d/' % port],
            allowed_networks=['127.0.0.2/32'],
            resolve=lambda *a, **k: [(2, 1, 6, '', ('127.0.0.2', port))])
        self.refused('http://localhost:%d/img' % port, store,
                     'address 127.0.0.1 is loopback; refused')
        self.assertEqual([], self.web.requests)

    def test_bad_configuration(self):
        for prefix in ('ftp://h/', 'http:///x', 'http://u@h/',
                       'http://h/a/../b', 'http://h:99999/'):
            self.assertRaises(ValueError, httpstore.HttpStore,
                              allowed_prefixes=[prefix])
        for network in ('127.0.0.1/33', 'host', '::1/200'):
            self.assertRaises(ValueError, httpstore.HttpStore,
                              allowed_networks=[network])

    def test_out_of_range_port_is_not_the_default_port(self):
        # Python 2's urlsplit gives port None (so 80) for :99999.
        store = httpstore.HttpStore(allowed_prefixes=['http://h/'])
        for url in ('http://h:99999/img', 'http://h:0/img', 'http://h:x/img',
                    'http://[::1]:70000/img'):
            exc = self.assertRaises(httpstore.HttpImageError, store.check,
                                    url)
            self.assertIn('bad port', str(exc))
        self.assertEqual(('h', 80), store.check('http://h:80/img'))
        self.assertEqual(('h', 80), store.check('http://h/img'))

    def test_forbidden_reason(self):
        for address in ('127.0.0.1', '127.9.9.9', '::1', '0.0.0.0', '::',
                        '::ffff:127.0.0.1', 'fe80::1%lo', '169.254.169.254',
                        '224.0.0.1', '255.255.255.255', 'ff02::1'):
            self.assertIsNotNone(httpstore.forbidden_reason(address),
                                 address)
        loop = [httpstore.parse_network('127.0.0.0/8')]
        self.assertIsNone(httpstore.forbidden_reason('127.0.0.1', loop))
        self.assertIsNone(httpstore.forbidden_reason('::ffff:127.0.0.1',
                                                     loop))
        self.assertIsNotNone(httpstore.forbidden_reason('::1', loop))
