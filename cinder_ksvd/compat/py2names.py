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

"""Module names and builtins of the other Python, for listed modules only.

On Python 3 a listed module may import the Python 2 names (urllib2,
urlparse, httplib, ConfigParser, Queue, StringIO, cStringIO, cPickle, and
the Python 2 functions of urllib) and use the builtins unicode, basestring,
long, xrange and unichr.  On Python 2 it may import urllib.parse,
urllib.request, urllib.error and http.client.  The names never enter
sys.modules or the builtins module: the importer hands them to the listed
module's own __import__ and __builtins__ (cinder_ksvd.compat.importer).

The Python 2 direction is checked statically only (no Python 2 on our
machines).
"""

import sys
import types

PY2 = sys.version_info[0] == 2


class ProxyModule(types.ModuleType):
    """A module that shows another's attributes plus a few of its own.

    Attributes set on the proxy stay on the proxy; the wrapped module is
    never changed.  children maps attribute names to callables returning a
    replacement for that attribute (evaluated when first read).
    """

    def __init__(self, name, target=None, extra=None, children=None):
        super(ProxyModule, self).__init__(name)
        self.__dict__['_ksvd_target'] = target
        self.__dict__['_ksvd_children'] = dict(children or {})
        if target is not None:
            for key in ('__file__', '__path__', '__package__', '__doc__'):
                if hasattr(target, key):
                    self.__dict__[key] = getattr(target, key)
        self.__dict__.update(extra or {})

    def __getattr__(self, name):
        children = self.__dict__['_ksvd_children']
        if name in children:
            value = children[name]()
            if value is not None:
                self.__dict__[name] = value
                return value
        target = self.__dict__['_ksvd_target']
        if target is None:
            raise AttributeError('module %r has no attribute %r'
                                 % (self.__name__, name))
        return getattr(target, name)

    def __dir__(self):
        names = set(self.__dict__)
        names.update(self.__dict__['_ksvd_children'])
        target = self.__dict__['_ksvd_target']
        if target is not None:
            names.update(dir(target))
        return sorted(names)


def _module(name):
    __import__(name)
    return sys.modules[name]


def _copy(names, *modules):
    found = {}
    for name in names:
        for module in modules:
            if hasattr(module, name):
                found[name] = getattr(module, name)
                break
    return found


# --- Python 2 names on Python 3 ---------------------------------------

def _to_bytes(data):
    """Python 2 drivers pass str bodies; Python 3 sockets need bytes."""
    if data is not None and not isinstance(data, (bytes, bytearray)):
        if hasattr(data, 'encode'):
            return data.encode('utf-8')
    return data


def _urllib2_py3():
    request = _module('urllib.request')
    error = _module('urllib.error')
    parse = _module('urllib.parse')

    class Request(request.Request):
        """urllib2.Request: str bodies encoded, Python 2 accessors."""

        def __init__(self, url, data=None, *args, **kwargs):
            request.Request.__init__(self, url, _to_bytes(data), *args,
                                     **kwargs)

        def add_data(self, data):
            self.data = _to_bytes(data)

        def has_data(self):
            return self.data is not None

        def get_data(self):
            return self.data

        def get_type(self):
            return self.type

        def get_host(self):
            return self.host

        def get_selector(self):
            return self.selector

    def urlopen(url, data=None, *args, **kwargs):
        return request.urlopen(url, _to_bytes(data), *args, **kwargs)

    extra = {'Request': Request, 'urlopen': urlopen,
             'HTTPError': error.HTTPError, 'URLError': error.URLError,
             'quote': parse.quote, 'unquote': parse.unquote}
    return ProxyModule('urllib2', request, extra)


def _urllib_py3():
    """The urllib package plus the Python 2 functions of urllib."""
    import urllib
    parse = _module('urllib.parse')
    extra = _copy(('urlencode', 'quote', 'quote_plus', 'unquote',
                   'unquote_plus', 'splitquery'), parse)
    request = _module('urllib.request')
    extra.update(_copy(('urlretrieve', 'pathname2url', 'url2pathname',
                        'getproxies'), request))

    def urlopen(url, data=None, *args, **kwargs):
        return request.urlopen(url, _to_bytes(data), *args, **kwargs)
    extra['urlopen'] = urlopen
    children = dict((name, (lambda n=name: _module('urllib.' + n)))
                    for name in ('parse', 'request', 'error', 'response'))
    return ProxyModule('urllib', urllib, extra, children)


def _configparser_py3():
    configparser = _module('configparser')
    extra = {}
    if not hasattr(configparser, 'SafeConfigParser'):
        extra['SafeConfigParser'] = configparser.ConfigParser
    return ProxyModule('ConfigParser', configparser, extra)


def _stringio_py3():
    io = _module('io')
    return ProxyModule('StringIO', None, {'StringIO': io.StringIO})


def _base64_py3():
    """base64 where str in gives str out, as on Python 2."""
    import base64

    def text_in_text_out(func):
        def call(data, *args, **kwargs):
            if isinstance(data, str):
                return func(data.encode('utf-8'), *args,
                            **kwargs).decode('latin-1')
            return func(data, *args, **kwargs)
        call.__name__ = func.__name__
        call.__doc__ = func.__doc__
        return call

    extra = dict((name, text_in_text_out(getattr(base64, name)))
                 for name in ('b64encode', 'b64decode', 'standard_b64encode',
                              'standard_b64decode', 'urlsafe_b64encode',
                              'urlsafe_b64decode', 'b32encode', 'b16encode'))
    # Python 3 only (this function runs on Python 3 only).
    encode, decode = base64.encodebytes, base64.decodebytes  # novermin
    extra['encodestring'] = text_in_text_out(encode)
    extra['decodestring'] = text_in_text_out(decode)
    return ProxyModule('base64', base64, extra)


def _alias(name, real):
    return lambda: ProxyModule(name, _module(real))


PY2_ON_PY3 = {
    'urllib2': _urllib2_py3,
    'urlparse': _alias('urlparse', 'urllib.parse'),
    'httplib': _alias('httplib', 'http.client'),
    'ConfigParser': _configparser_py3,
    'Queue': _alias('Queue', 'queue'),
    'StringIO': _stringio_py3,
    'cStringIO': _stringio_py3,
    'cPickle': _alias('cPickle', 'pickle'),
}
# Names that exist on Python 3 too but lack the Python 2 functions.
AUGMENTED_ON_PY3 = {'urllib': _urllib_py3, 'base64': _base64_py3}


def builtins_py3():
    """Python 2 builtins a listed module may use on Python 3."""
    return {'unicode': str, 'basestring': str, 'long': int, 'xrange': range,
            'unichr': chr}


# --- Python 3 names on Python 2 (checked statically) ------------------

def _urllib_parse_py2():
    urlparse = _module('urlparse')
    urllib = _module('urllib')
    extra = _copy(('urlparse', 'urlunparse', 'urljoin', 'urlsplit',
                   'urlunsplit', 'urldefrag', 'parse_qs', 'parse_qsl',
                   'quote', 'quote_plus', 'unquote', 'unquote_plus',
                   'urlencode', 'splitquery'), urlparse, urllib)
    return ProxyModule('urllib.parse', None, extra)


def _urllib_request_py2():
    urllib = _module('urllib')
    extra = _copy(('urlretrieve', 'pathname2url', 'url2pathname',
                   'getproxies'), urllib)
    return ProxyModule('urllib.request', _module('urllib2'), extra)


def _urllib_error_py2():
    urllib2 = _module('urllib2')
    urllib = _module('urllib')
    extra = _copy(('HTTPError', 'URLError'), urllib2)
    extra.update(_copy(('ContentTooShortError',), urllib))
    return ProxyModule('urllib.error', None, extra)


PY3_ON_PY2 = {
    'urllib.parse': _urllib_parse_py2,
    'urllib.request': _urllib_request_py2,
    'urllib.error': _urllib_error_py2,
    'http.client': _alias('http.client', 'httplib'),
}


def _package_py2(name, real):
    """urllib / http on Python 2, with the Python 3 submodules."""
    children = {}
    for full in PY3_ON_PY2:
        if full.startswith(name + '.'):
            children[full.split('.', 1)[1]] = (
                lambda f=full: names().get(f))
    target = None
    if real:
        target = _module(real)
    return ProxyModule(name, target, None, children)


_cache = {}


def names():
    """{module name: shim module} of the running Python, built once."""
    if 'names' not in _cache:
        table = PY3_ON_PY2 if PY2 else PY2_ON_PY3
        built = {}
        for name, factory in table.items():
            built[name] = factory()
        _cache['names'] = built
    return _cache['names']


def augmented():
    """{module name: shim} for real modules shown with extra names."""
    if 'augmented' not in _cache:
        if PY2:
            built = {'urllib': _package_py2('urllib', 'urllib'),
                     'http': _package_py2('http', None)}
        else:
            built = dict((name, factory())
                         for name, factory in AUGMENTED_ON_PY3.items())
        _cache['augmented'] = built
    return _cache['augmented']


def builtins():
    """{name: object} added to a listed module's builtins."""
    return {} if PY2 else builtins_py3()
