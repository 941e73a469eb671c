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

"""The read-only HTTP(S) image store: images that live on a web server.

probe() learns an image's size and first bytes (to tell qcow2 from raw)
without downloading it; stream() yields its bytes.  Redirects are followed
by hand so each hop is checked; TLS is verified unless the operator says
otherwise.  Size and checksum are verified by the caller, which knows what
to expect.

What may be fetched (each hop of a redirect is checked again):

- the URL must start with one of the operator's prefixes
  ([ksvd_image] url_allowed_prefixes), compared after parsing: same scheme,
  same host, same port, and a path under the prefix's path; user
  information, backslashes, dot segments and encoded control characters
  are refused outright, and never https to http;
- every address the host resolves to, and the address actually connected
  to, must not be loopback, unspecified, link-local (cloud metadata
  services live there), multicast or reserved, unless the operator listed
  it: in [ksvd_image] url_allowed_networks or as the address of a prefix.
"""

import binascii
import re
import socket

import requests
from requests import adapters
from requests import compat as urlparse  # urllib(.parse) on py2 and py3
from urllib3 import connection as urllib3_connection
from urllib3 import connectionpool

SCHEMES = ('http', 'https')
_FRAGMENT_RE = re.compile(r'^(sha256|md5)=([0-9a-fA-F]+)$')
_DIGEST_LENGTHS = {'sha256': 64, 'md5': 32}
_CONTENT_RANGE_RE = re.compile(r'^bytes \d+-\d+/(\d+)$')
_DEFAULT_PORTS = {'http': 80, 'https': 443}
# Percent-encoded control characters (CR, LF, NUL, ...) and DEL.
_ENCODED_CONTROL_RE = re.compile(r'%(?:[01][0-9a-fA-F]|7[fF])')
_HOST_RE = re.compile(r'^[a-z0-9._\-:\[\]]+$')
# Never fetched from unless listed: (network, reason).
FORBIDDEN_NETWORKS = (
    ('0.0.0.0/8', 'unspecified'),
    ('127.0.0.0/8', 'loopback'),
    ('169.254.0.0/16', 'link-local (cloud metadata)'),
    ('100.100.100.200/32', 'cloud metadata'),
    ('192.0.0.192/32', 'cloud metadata'),
    ('224.0.0.0/4', 'multicast'),
    ('240.0.0.0/4', 'reserved'),
    ('::/128', 'unspecified'),
    ('::1/128', 'loopback'),
    ('fe80::/10', 'link-local'),
    ('fd00:ec2::254/128', 'cloud metadata'),
    ('ff00::/8', 'multicast'),
)


class HttpImageError(Exception):
    """The image URL cannot be used; str() is one line."""


def is_url(text):
    try:
        return urlparse.urlsplit(text).scheme.lower() in SCHEMES
    except (AttributeError, ValueError):
        return False


def split_url(url):
    """(url without fragment, {'sha256'|'md5': hex}) from an image URL.

    The fragment never reaches the server; "#sha256=<hex>" or "#md5=<hex>"
    names the checksum to verify.  Any other fragment is refused.
    """
    parts = urlparse.urlsplit(url)
    if parts.scheme.lower() not in SCHEMES or not parts.hostname:
        raise HttpImageError('%s is not an http(s) URL with a host' % url)
    if '\x00' in url or any(c.isspace() for c in url):
        raise HttpImageError('image URL contains blanks or NUL')
    expected = {}
    if parts.fragment:
        match = _FRAGMENT_RE.match(parts.fragment)
        if not match or len(match.group(2)) != _DIGEST_LENGTHS[
                match.group(1)]:
            raise HttpImageError('URL fragment must be sha256=<64 hex> or '
                                 'md5=<32 hex>, not %r' % parts.fragment)
        expected[match.group(1)] = match.group(2).lower()
    return url.split('#', 1)[0], expected


def _address(text):
    """(4|6, int) of an IP address text, IPv4-mapped IPv6 as IPv4; or None."""
    text = text.split('%', 1)[0]  # fe80::1%eth0
    for family, bits in ((socket.AF_INET, 4), (socket.AF_INET6, 6)):
        try:
            packed = socket.inet_pton(family, text)
        except (socket.error, ValueError, UnicodeError):
            continue
        value = int(binascii.hexlify(packed), 16)
        if bits == 6 and value >> 32 == 0xffff:
            return 4, value & 0xffffffff
        return bits, value
    return None


def parse_network(text):
    """(family, value, prefix length) of "address[/len]"; ValueError."""
    address, _sep, length = text.strip().partition('/')
    parsed = _address(address)
    if parsed is None:
        raise ValueError('%r is not an IP address or network' % text)
    family, value = parsed
    width = 32 if family == 4 else 128
    try:
        length = int(length) if length else width
    except ValueError:
        raise ValueError('%r has a bad prefix length' % text)
    if not 0 <= length <= width:
        raise ValueError('%r has a bad prefix length' % text)
    mask = ((1 << length) - 1) << (width - length)
    return family, value & mask, length


def _in_network(address, network):
    family, value = address
    net_family, net_value, length = network
    if family != net_family:
        return False
    width = 32 if family == 4 else 128
    mask = ((1 << length) - 1) << (width - length)
    return value & mask == net_value


_FORBIDDEN = [(parse_network(net), reason)
              for net, reason in FORBIDDEN_NETWORKS]
_NEVER = [parse_network('0.0.0.0/8'), parse_network('::/128')]


def forbidden_reason(text, allowed_networks=()):
    """Why address text must not be fetched from, or None if it may."""
    address = _address(text)
    if address is None:
        return 'not an IP address'
    # 0.0.0.0 and :: reach this host: never, whatever is listed.
    for network in _NEVER:
        if _in_network(address, network):
            return 'unspecified'
    for network in allowed_networks:
        if _in_network(address, network):
            return None
    for network, reason in _FORBIDDEN:
        if _in_network(address, network):
            return reason
    return None


def _port(parts):
    """The URL's port; ValueError when not a number or out of range.

    Read from the netloc: Python 2's urlsplit answers None (the default
    port) for an out-of-range port such as 99999 where Python 3 raises.
    """
    hostport = parts.netloc.rpartition('@')[2]
    if hostport.startswith('['):
        hostport = hostport.partition(']')[2]
    text = hostport.rpartition(':')[2] if ':' in hostport else ''
    if not text:
        return _DEFAULT_PORTS[parts.scheme.lower()]
    if not text.isdigit() or not 0 < int(text) <= 65535:
        raise ValueError('bad port %r' % text)
    return int(text)


def parse_prefix(text):
    """(scheme, host, port, path) of an allowed URL prefix; ValueError."""
    parts = urlparse.urlsplit(text.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES or not parts.hostname:
        raise ValueError('%r is not an http(s) URL with a host' % text)
    if '@' in parts.netloc or parts.query or parts.fragment:
        raise ValueError('%r: a prefix has no user, query or fragment'
                         % text)
    path = parts.path or '/'
    _check_path(path)
    return scheme, parts.hostname.lower().rstrip('.'), _port(parts), path


def _check_path(path):
    if '\\' in path:
        raise ValueError('backslash in the path')
    segments = urlparse.unquote(path).split('/')
    if '.' in segments or '..' in segments:
        raise ValueError('dot segment (. or ..) in the path')


def _under(path, prefix_path):
    if prefix_path.endswith('/'):
        return path.startswith(prefix_path)
    return path == prefix_path or path.startswith(prefix_path + '/')


def _guarded_adapter(guard):
    """A requests adapter whose connections call guard(peer address)."""

    class GuardedHTTPConnection(urllib3_connection.HTTPConnection):
        def _new_conn(self):
            sock = super(GuardedHTTPConnection, self)._new_conn()
            try:
                guard(sock.getpeername()[0])
            except Exception:
                sock.close()
                raise
            return sock

    class GuardedHTTPSConnection(urllib3_connection.HTTPSConnection):
        def _new_conn(self):
            sock = super(GuardedHTTPSConnection, self)._new_conn()
            try:
                guard(sock.getpeername()[0])
            except Exception:
                sock.close()
                raise
            return sock

    class HTTPPool(connectionpool.HTTPConnectionPool):
        ConnectionCls = GuardedHTTPConnection

    class HTTPSPool(connectionpool.HTTPSConnectionPool):
        ConnectionCls = GuardedHTTPSConnection

    class Adapter(adapters.HTTPAdapter):
        def init_poolmanager(self, *args, **kwargs):
            super(Adapter, self).init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = {'http': HTTPPool,
                                                       'https': HTTPSPool}

    return Adapter(max_retries=0)


class HttpStore(object):
    """GETs image URLs with the operator's TLS, redirect and URL rules."""

    def __init__(self, verify=True, ca_file=None, timeout=60.0,
                 max_redirects=5, allowed_hosts=None, chunk_size=4194304,
                 allowed_prefixes=(), allowed_networks=(),
                 resolve=socket.getaddrinfo):
        """allowed_prefixes: URLs are refused unless under one of them.

        Raises ValueError for a bad prefix or network.
        """
        self.verify = ca_file or verify
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.allowed_hosts = [h.lower() for h in allowed_hosts or []]
        self.chunk_size = chunk_size
        self.prefixes = [parse_prefix(p) for p in allowed_prefixes or ()]
        self.networks = [parse_network(n) for n in allowed_networks or ()]
        # The address of a prefix given by address is listed by it.
        for _scheme, host, _port, _path in self.prefixes:
            if _address(host.strip('[]')) is not None:
                self.networks.append(parse_network(host.strip('[]')))
        self._resolve = resolve

    def check(self, url):
        """Raise HttpImageError unless url may be fetched (no I/O)."""
        if any(ord(c) < 32 or ord(c) == 127 for c in url) or (
                _ENCODED_CONTROL_RE.search(url)):
            raise HttpImageError('image URL contains control characters '
                                 '(raw or percent-encoded)')
        parts = urlparse.urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in SCHEMES or not parts.hostname:
            raise HttpImageError('%s is not an http(s) URL with a host'
                                 % url)
        if '@' in parts.netloc:
            raise HttpImageError('%s: user information in an image URL is '
                                 'refused' % url)
        host = parts.hostname.lower().rstrip('.')
        if not _HOST_RE.match(host):
            raise HttpImageError('%s: bad host name %r' % (url, host))
        try:
            port = _port(parts)
            _check_path(parts.path or '/')
        except ValueError as exc:
            raise HttpImageError('%s: %s' % (url, exc))
        if not any(scheme == p_scheme and host == p_host and
                   port == p_port and _under(parts.path or '/', p_path)
                   for p_scheme, p_host, p_port, p_path in self.prefixes):
            raise HttpImageError('%s is not under any of [ksvd_image] '
                                 'url_allowed_prefixes' % url)
        if self.allowed_hosts and host not in self.allowed_hosts:
            raise HttpImageError('host %s is not in [ksvd_image] '
                                 'url_allowed_hosts' % parts.hostname)
        return host, port

    def check_address(self, address, url=''):
        """Raise HttpImageError when address may not be connected to."""
        reason = forbidden_reason(address, self.networks)
        if reason:
            raise HttpImageError(
                '%s: address %s is %s; refused (list it in [ksvd_image] '
                'url_allowed_networks to allow it)' % (url, address, reason))

    def _check_resolved(self, url, host, port):
        try:
            infos = self._resolve(host.strip('[]'), port, 0,
                                  socket.SOCK_STREAM)
        except (socket.error, UnicodeError) as exc:
            raise HttpImageError('cannot resolve %s: %s'
                                 % (host, _first_line(exc)))
        addresses = sorted(set(info[4][0] for info in infos))
        if not addresses:
            raise HttpImageError('cannot resolve %s' % host)
        for address in addresses:
            self.check_address(address, url)

    def _get(self, url, headers=None):
        """GET url with stream=True, following checked redirects."""
        session = requests.Session()
        session.trust_env = False  # no proxies from the environment
        current = [url]
        adapter = _guarded_adapter(
            lambda address: self.check_address(address, current[0]))
        session.mount('http://', adapter)
        session.mount('https://', adapter)
        for _hop in range(self.max_redirects + 1):
            host, port = self.check(current[0])
            self._check_resolved(current[0], host, port)
            try:
                resp = session.get(current[0], headers=headers,
                                   stream=True, allow_redirects=False,
                                   verify=self.verify,
                                   timeout=(self.timeout, self.timeout))
            except requests.exceptions.SSLError as exc:
                raise HttpImageError('TLS verification of %s failed: %s'
                                     % (current[0], _first_line(exc)))
            except requests.exceptions.RequestException as exc:
                raise HttpImageError('cannot fetch %s: %s'
                                     % (current[0], _first_line(exc)))
            if resp.is_redirect:
                target = urlparse.urljoin(current[0],
                                          resp.headers.get('Location', ''))
                resp.close()
                if (urlparse.urlsplit(current[0]).scheme == 'https' and
                        urlparse.urlsplit(target).scheme != 'https'):
                    raise HttpImageError('refused redirect from %s to %s '
                                         '(https to http)' % (current[0],
                                                              target))
                current[0] = target
                continue
            if resp.status_code not in (200, 206):
                resp.close()
                raise HttpImageError('%s answered HTTP %d %s'
                                     % (current[0], resp.status_code,
                                        resp.reason or ''))
            return resp
        raise HttpImageError('more than %d redirects from %s'
                             % (self.max_redirects, url))

    def probe(self, url, head_bytes=512):
        """{'size', 'head', 'etag', 'last_modified'} of the image at url."""
        resp = self._get(url, {'Range': 'bytes=0-%d' % (head_bytes - 1),
                               'Accept-Encoding': 'identity'})
        try:
            size = None
            if resp.status_code == 206:
                match = _CONTENT_RANGE_RE.match(
                    resp.headers.get('Content-Range', ''))
                if match:
                    size = int(match.group(1))
            elif 'Content-Length' in resp.headers:
                size = int(resp.headers['Content-Length'])
            if size is None:
                raise HttpImageError('%s did not report the image size '
                                     '(Content-Length)' % url)
            head = resp.raw.read(head_bytes) or b''
            return {'size': size, 'head': head[:head_bytes],
                    'etag': resp.headers.get('ETag'),
                    'last_modified': resp.headers.get('Last-Modified')}
        except ValueError:
            raise HttpImageError('%s sent a bad size header' % url)
        finally:
            resp.close()

    def stream(self, url, size=None):
        """Yield the bytes at url; HttpImageError on a short or long body."""
        resp = self._get(url, {'Accept-Encoding': 'identity'})
        try:
            if resp.status_code != 200:
                raise HttpImageError('%s answered HTTP %d to a plain GET'
                                     % (url, resp.status_code))
            length = resp.headers.get('Content-Length')
            if (size is not None and length is not None and
                    int(length) != size):
                raise HttpImageError('%s now has %s bytes, the image was '
                                     'registered with %d'
                                     % (url, length, size))
            got = 0
            while True:
                try:
                    chunk = resp.raw.read(self.chunk_size)
                except Exception as exc:
                    raise HttpImageError('reading %s failed after %d bytes:'
                                         ' %s' % (url, got,
                                                  _first_line(exc)))
                if not chunk:
                    break
                got += len(chunk)
                yield chunk
            if size is not None and got != size:
                raise HttpImageError('%s sent %d bytes, expected %d'
                                     % (url, got, size))
        finally:
            resp.close()


def _first_line(exc):
    text = str(exc).strip()
    return text.splitlines()[0] if text else exc.__class__.__name__
