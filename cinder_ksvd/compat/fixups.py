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

"""Known-driver fixups: small corrections for drivers we know, in one place.

A fixup runs right after a listed driver module was loaded through the
compat importer, on the module object; it changes names in that module only
and returns one line per change (shown by ksvd-cinder-manage driver check
and logged).  To add one, write a function fix(module, conf) -> [str] and
append a Fixup to FIXUPS (see doc/driver-compat.md).
"""

import fnmatch
import ssl
import sys

from cinder_ksvd.compat import py2names


class Fixup(object):
    """A named correction applied to modules whose name matches a pattern.

    :param name: short name shown in reports, e.g. "ixsystems-tls".
    :param patterns: fnmatch patterns of module names it applies to.
    :param fix: fix(module, conf) returning a list of changes made.
    """

    def __init__(self, name, patterns, fix):
        self.name = name
        self.patterns = tuple(patterns)
        self.fix = fix

    def matches(self, module_name):
        return any(fnmatch.fnmatchcase(module_name, pattern)
                   for pattern in self.patterns)


def _own_classes(module):
    for value in list(vars(module).values()):
        if (isinstance(value, type)
                and getattr(value, '__module__', None) == module.__name__):
            yield value


def _group(conf):
    return conf.ksvd_compat


# --- iXsystems / TrueNAS ---------------------------------------------------

def _internal_tenant_project():
    from oslo_config import cfg
    try:
        return cfg.CONF.cinder_internal_tenant_project_id
    except (cfg.NoSuchOptError, cfg.NoSuchGroupError, AttributeError):
        return None


def _is_service_project(self, project_id):
    """Whether project_id is cinder's internal tenant (no Keystone call)."""
    internal = _internal_tenant_project()
    return bool(internal) and project_id == internal


def fix_service_project(module, conf):
    """_is_service_project asks Keystone; answer from cinder's config."""
    changes = []
    for cls in _own_classes(module):
        if '_is_service_project' in vars(cls):
            cls._is_service_project = _is_service_project
            changes.append('%s._is_service_project answers from [DEFAULT] '
                           'cinder_internal_tenant_project_id (no Keystone)'
                           % cls.__name__)
    return changes


def tls_context(conf):
    """The SSL context a fixed driver uses: verifying unless switched off."""
    group = _group(conf)
    if not group.ixsystems_tls_verify:
        return ssl._create_unverified_context()
    return ssl.create_default_context(cafile=group.ixsystems_ca_file or None)


def _ssl_proxy(conf):
    def SSLContext(*args, **kwargs):
        # The driver builds ssl.SSLContext() with no protocol: that
        # context verifies nothing.  Give it the configured one instead.
        return tls_context(conf)
    return py2names.ProxyModule('ssl', ssl, {'SSLContext': SSLContext})


def _redirect_handler(request_module, conf):
    group = _group(conf)

    class FollowRedirects(request_module.HTTPRedirectHandler):
        """Follow 301/302/307/308 with method and body; 303 becomes GET.

        urllib follows redirects of GET and HEAD only; the TrueNAS API is
        reached with POST, PUT and DELETE when the appliance redirects
        http to https.  A redirect from https to http is refused, and the
        Authorization header is dropped when the host changes.
        """

        max_redirections = group.ixsystems_max_redirects

        def redirect_request(self, req, fp, code, msg, headers, newurl):
            parse = sys.modules.get('urllib.parse') or __import__('urlparse')
            old = parse.urlsplit(req.get_full_url())
            new = parse.urlsplit(newurl)
            if old.scheme == 'https' and new.scheme != 'https':
                return None
            method = req.get_method()
            data = req.data if hasattr(req, 'data') else req.get_data()
            if code == 303:
                method, data = ('HEAD' if method == 'HEAD' else 'GET'), None
            elif code not in (301, 302, 307, 308):
                return None
            kept = dict((k, v) for k, v in req.headers.items()
                        if data is not None
                        or k.lower() not in ('content-length',
                                             'content-type'))
            if old.hostname != new.hostname:
                kept.pop('Authorization', None)
            redirected = request_module.Request(newurl, data, kept)
            redirected.get_method = lambda: method
            return redirected

    return FollowRedirects


def _urlopen(request_module, conf, encode=False):
    def urlopen(url, data=None, timeout=None, context=None, **kwargs):
        handlers = [_redirect_handler(request_module, conf)(),
                    request_module.HTTPSHandler(
                        context=context or tls_context(conf))]
        opener = request_module.build_opener(*handlers)
        if encode:
            data = py2names._to_bytes(data)
        if timeout is None:
            return opener.open(url, data)
        return opener.open(url, data, timeout)
    return urlopen


def _one_of(value, *candidates):
    """value is one of the candidates that exist (None never matches).

    A shim or module missing on this Python is None, and a module's None
    globals (__doc__ of a module without one, say) must not match it.
    """
    return value is not None and any(value is c for c in candidates)


def fix_http(module, conf):
    """Verify TLS (configurable) and follow redirects in the driver's HTTP.

    Replaces, in this module only, the ssl module and the urlopen of
    urllib.request / urllib2 / urllib with ones using the configured TLS
    context and following redirects.
    """
    request_module = sys.modules.get('urllib.request')
    if request_module is None and py2names.PY2:
        request_module = __import__('urllib2')
    if request_module is None:
        request_module = __import__('urllib.request').request
    changes = []
    namespace = vars(module)
    shim_names = py2names.names()
    augmented = py2names.augmented()
    for name, value in list(namespace.items()):
        if value is ssl:
            namespace[name] = _ssl_proxy(conf)
            changes.append('%s.SSLContext() verifies TLS (%s)' % (
                name, 'on' if _group(conf).ixsystems_tls_verify else
                'off: [ksvd_compat] ixsystems_tls_verify = false'))
        elif _one_of(value, request_module, shim_names.get('urllib2')):
            namespace[name] = py2names.ProxyModule(
                value.__name__, value,
                {'urlopen': _urlopen(request_module, conf,
                                     encode=value is not request_module)})
            changes.append('%s.urlopen follows redirects, verifies TLS'
                           % name)
        elif _one_of(value, sys.modules.get('urllib'),
                     augmented.get('urllib')):
            request_proxy = py2names.ProxyModule(
                request_module.__name__, request_module,
                {'urlopen': _urlopen(request_module, conf)})
            namespace[name] = py2names.ProxyModule(
                'urllib', value, {'urlopen': _urlopen(request_module, conf,
                                                      encode=True)},
                {'request': lambda p=request_proxy: p})
            changes.append('%s.request.urlopen follows redirects, verifies '
                           'TLS' % name)
        elif _one_of(value, getattr(request_module, 'urlopen', None)):
            namespace[name] = _urlopen(request_module, conf)
            changes.append('%s follows redirects, verifies TLS' % name)
    return changes


IXSYSTEMS = ('*.ixsystems', '*.ixsystems.*', 'ixsystems', 'ixsystems.*')

FIXUPS = [
    Fixup('ixsystems-keystone', IXSYSTEMS, fix_service_project),
    Fixup('ixsystems-http', IXSYSTEMS, fix_http),
]


def apply(module, conf):
    """Run every matching fixup on module; return "name: change" lines."""
    done = []
    if conf is None:
        return done
    for fixup in FIXUPS:
        if fixup.matches(module.__name__):
            for change in fixup.fix(module, conf):
                done.append('%s: %s' % (fixup.name, change))
    return done
