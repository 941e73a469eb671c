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
        self.store = httpstore.HttpStore(timeout=10, chunk_size=65536)

    def test_probe_reads_only_the_head(self):
        found = self.store.probe(self.web.url + '/img')
        self.assertEqual(len(BODY), found['size'])
        self.assertEqual(BODY[:512], found['head'])
        self.assertEqual('"%d"' % len(BODY), found['etag'])
        self.assertEqual('bytes=0-511', self.web.requests[-1][1]['Range'])

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
        self.store.allowed_hosts = ['127.0.0.1']
        self.web.server.http_twin = 'http://localhost:1'
        exc = self.assertRaises(
            httpstore.HttpImageError, lambda: list(
                self.store.stream(self.web.url + '/to-http/img')))
        self.assertIn('host localhost is not in', str(exc))

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
        store = httpstore.HttpStore(timeout=10)
        exc = self.assertRaises(httpstore.HttpImageError, store.probe,
                                self.web.url + '/img')
        self.assertIn('TLS verification', str(exc))

    def test_ca_file(self):
        store = httpstore.HttpStore(timeout=10, ca_file=self.web.ca_file)
        self.assertEqual(BODY, b''.join(store.stream(self.web.url + '/img')))

    def test_no_downgrade_to_http(self):
        plain = self.useFixture(helpers.LoopbackServer({'/img': BODY}))
        self.web.server.http_twin = plain.url
        store = httpstore.HttpStore(timeout=10, ca_file=self.web.ca_file)
        exc = self.assertRaises(httpstore.HttpImageError, lambda: list(
            store.stream(self.web.url + '/to-http/img')))
        self.assertIn('https to http', str(exc))
        self.assertEqual([], plain.requests)
