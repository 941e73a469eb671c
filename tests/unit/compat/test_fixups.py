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

import http.server
import json
import ssl
import threading
import types

from oslo_config import cfg
from tests.unit.compat import fakes

from cinder_ksvd import compat
from cinder_ksvd.compat import fixups


class _Server(object):
    """Loopback HTTP server: /moved answers 301 to /api, /api echoes."""

    def __init__(self, redirect_code=301, location='/api'):
        seen = self.seen = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length).decode() if length else None
                seen.append((self.command, self.path, body,
                             self.headers.get('Authorization')))
                if self.path == '/moved':
                    self.send_response(redirect_code)
                    self.send_header('Location', location)
                    self.send_header('Content-Length', '0')
                    self.end_headers()
                    return
                raw = json.dumps([self.command, body]).encode()
                self.send_response(200)
                self.send_header('Content-Length', str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = do_DELETE = do_PUT = handle_one

        self.server = http.server.ThreadingHTTPServer(('127.0.0.1', 0),
                                                      Handler)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class IxsystemsFixupsTestCase(fakes.CompatTestCase):

    def load(self):
        self.map_ixsystems()
        compat.activate(self.conf)
        from cinder.volume.drivers.ixsystems import freenasapi
        from cinder.volume.drivers.ixsystems import iscsi
        return freenasapi, iscsi

    def test_service_project_from_internal_tenant(self):
        _api, iscsi = self.load()
        driver = iscsi.FreeNASISCSIDriver.__new__(iscsi.FreeNASISCSIDriver)
        self.useFixture(_InternalTenant('svc-project'))
        self.assertTrue(driver._is_service_project('svc-project'))
        self.assertFalse(driver._is_service_project('other'))

    def test_service_project_unset(self):
        _api, iscsi = self.load()
        driver = iscsi.FreeNASISCSIDriver.__new__(iscsi.FreeNASISCSIDriver)
        self.useFixture(_InternalTenant(None))
        self.assertFalse(driver._is_service_project(None))

    def test_none_globals_are_left_alone(self):
        # A shim missing on this Python is None in the shim table; a
        # module's None globals must not be taken for it (issue 24: on
        # Python 2 __doc__ = None crashed fix_http with AttributeError).
        module = types.ModuleType('ksvd_fixture_none_globals')
        module.__doc__ = None
        module.nothing = None
        module.ssl = ssl
        changes = fixups.fix_http(module, self.conf)
        self.assertIsNone(module.__doc__)
        self.assertIsNone(module.nothing)
        self.assertEqual(1, len(changes))
        self.assertIn('ssl.SSLContext() verifies TLS', changes[0])

    def test_tls_verified_by_default(self):
        api, _iscsi = self.load()
        context = api.ssl.SSLContext(ssl.PROTOCOL_SSLv23)
        self.assertEqual(ssl.CERT_REQUIRED, context.verify_mode)
        self.assertTrue(context.check_hostname)
        # The ssl module itself is unchanged: only the driver's name is.
        self.assertIsInstance(ssl.SSLContext, type)
        self.assertIsNot(ssl.SSLContext, api.ssl.SSLContext)

    def test_tls_verification_off(self):
        self.set(ixsystems_tls_verify=False)
        api, _iscsi = self.load()
        self.assertEqual(ssl.CERT_NONE,
                         api.ssl.SSLContext().verify_mode)

    def test_redirects_followed_with_method_and_body(self):
        server = _Server(301)
        self.addCleanup(server.stop)
        api, _iscsi = self.load()
        for method, body in (('POST', {'a': 1}), ('DELETE', None)):
            del server.seen[:]
            request = api.urllib2.Request(
                server.url + '/moved',
                json.dumps(body) if body else None,
                {'Authorization': 'Bearer k'})
            request.get_method = lambda m=method: m
            answer = json.loads(api.urllib2.urlopen(request).read())
            self.assertEqual([method, json.dumps(body) if body else None],
                             answer)
            self.assertEqual([(method, '/moved'), (method, '/api')],
                             [s[:2] for s in server.seen])
            self.assertEqual('Bearer k', server.seen[1][3])

    def test_https_to_http_redirect_refused(self):
        import urllib.request
        handler = fixups._redirect_handler(urllib.request, self.conf)()
        request = urllib.request.Request('https://nas.example/x', b'{}')
        self.assertIsNone(handler.redirect_request(
            request, None, 308, 'moved', {}, 'http://nas.example/x'))
        # Another host: method kept, credentials dropped.
        request = urllib.request.Request(
            'http://nas.example/x', b'{}', {'Authorization': 'Basic x'},
            method='PUT')
        new = handler.redirect_request(request, None, 307, 'moved', {},
                                       'http://other.example/x')
        self.assertEqual('PUT', new.get_method())
        self.assertEqual(b'{}', new.data)
        self.assertNotIn('Authorization', new.headers)
        new = handler.redirect_request(request, None, 303, 'see', {},
                                       'http://nas.example/y')
        self.assertEqual('GET', new.get_method())
        self.assertIsNone(new.data)

    def test_fixups_only_for_matching_modules(self):
        other = types.ModuleType('cinder.volume.drivers.other.api')
        other.ssl = ssl
        self.assertEqual([], fixups.apply(other, self.conf))
        self.assertIs(ssl, other.ssl)
        mine = types.ModuleType('vendor.ixsystems.api')
        mine.ssl = ssl
        self.assertEqual(['ixsystems-http: ssl.SSLContext() verifies TLS '
                          '(on)'], fixups.apply(mine, self.conf))
        self.assertEqual([], fixups.apply(mine, None))

    def test_registry_is_extensible(self):
        seen = []
        extra = fixups.Fixup('demo', ['acme.*'],
                             lambda module, conf: seen.append(
                                 module.__name__) or ['patched'])
        self.useFixture(_Append(fixups.FIXUPS, extra))
        module = types.ModuleType('acme.driver')
        self.assertEqual(['demo: patched'], fixups.apply(module, self.conf))
        self.assertEqual(['acme.driver'], seen)


class _InternalTenant(fakes.fixtures.Fixture):

    def __init__(self, value):
        self.value = value

    def _setUp(self):
        conf = cfg.CONF
        try:
            conf.register_opt(cfg.StrOpt('cinder_internal_tenant_project_id'))
        except cfg.DuplicateOptError:
            pass
        conf.set_override('cinder_internal_tenant_project_id', self.value)
        self.addCleanup(conf.clear_override,
                        'cinder_internal_tenant_project_id')


class _Append(fakes.fixtures.Fixture):

    def __init__(self, items, item):
        self.items = items
        self.item = item

    def _setUp(self):
        self.items.append(self.item)
        self.addCleanup(self.items.remove, self.item)
