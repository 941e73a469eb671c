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
import configparser
import http.client
import io
import pickle
import queue
import urllib.parse
import urllib.request

from tests.unit import base

from cinder_ksvd.compat import py2names


class Py2NamesTestCase(base.TestCase):

    def test_table(self):
        names = py2names.names()
        self.assertEqual(sorted(['urllib2', 'urlparse', 'httplib',
                                 'ConfigParser', 'Queue', 'StringIO',
                                 'cStringIO', 'cPickle']), sorted(names))
        self.assertIs(urllib.parse.urljoin, names['urlparse'].urljoin)
        self.assertIs(http.client.HTTPConnection,
                      names['httplib'].HTTPConnection)
        self.assertIs(queue.Queue, names['Queue'].Queue)
        self.assertIs(pickle.dumps, names['cPickle'].dumps)
        self.assertIs(io.StringIO, names['StringIO'].StringIO)
        # SafeConfigParser is gone in 3.12; the shim gives ConfigParser.
        self.assertIs(getattr(configparser, 'SafeConfigParser',
                              configparser.ConfigParser),
                      names['ConfigParser'].SafeConfigParser)

    def test_nothing_global(self):
        import sys
        py2names.names()
        for name in py2names.PY2_ON_PY3:
            self.assertNotIn(name, sys.modules)
        import builtins
        self.assertFalse(hasattr(builtins, 'unicode'))
        self.assertFalse(hasattr(urllib, 'urlencode'))

    def test_urllib2_encodes_str_bodies(self):
        urllib2 = py2names.names()['urllib2']
        request = urllib2.Request('http://127.0.0.1/x', '{"a": 1}',
                                  {'Content-Type': 'application/json'})
        self.assertIsInstance(request, urllib.request.Request)
        self.assertEqual(b'{"a": 1}', request.get_data())
        self.assertTrue(request.has_data())
        self.assertEqual('127.0.0.1', request.get_host())
        self.assertEqual('http', request.get_type())
        request.add_data('zz')
        self.assertEqual(b'zz', request.data)
        self.assertIs(urllib.error.HTTPError, urllib2.HTTPError)
        self.assertIs(urllib.request.build_opener, urllib2.build_opener)

    def test_urllib_has_py2_functions(self):
        urllib_ = py2names.augmented()['urllib']
        self.assertEqual('a=1', urllib_.urlencode({'a': 1}))
        self.assertEqual('a+b', urllib_.quote_plus('a b'))
        self.assertIs(urllib.parse, urllib_.parse)
        self.assertIs(urllib.request, urllib_.request)

    def test_base64_str_in_str_out(self):
        b64 = py2names.augmented()['base64']
        self.assertEqual('dTpw', b64.b64encode('u:p'))
        self.assertEqual(b'dTpw', b64.b64encode(b'u:p'))
        self.assertEqual('u:p', b64.b64decode('dTpw'))
        self.assertEqual('dTpw\n', b64.encodestring('u:p'))
        self.assertIs(base64.b32decode, b64.b32decode)

    def test_builtins(self):
        table = py2names.builtins()
        self.assertIs(str, table['unicode'])
        self.assertIs(str, table['basestring'])
        self.assertIs(int, table['long'])
        self.assertIs(range, table['xrange'])

    def test_proxy_never_changes_target(self):
        proxy = py2names.ProxyModule('x', urllib.parse, {'extra': 1})
        proxy.other = 2
        self.assertFalse(hasattr(urllib.parse, 'other'))
        self.assertFalse(hasattr(urllib.parse, 'extra'))
        self.assertIn('extra', dir(proxy))
        self.assertIn('urljoin', dir(proxy))
        empty = py2names.ProxyModule('y')
        self.assertRaises(AttributeError, getattr, empty, 'nothing')
