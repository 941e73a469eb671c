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
by hand so each hop is checked (scheme, allowed host, never https to http);
TLS is verified unless the operator says otherwise.  Size and checksum are
verified by the caller, which knows what to expect.
"""

import re

import requests
from requests import compat as urlparse  # urllib(.parse) on py2 and py3

SCHEMES = ('http', 'https')
_FRAGMENT_RE = re.compile(r'^(sha256|md5)=([0-9a-fA-F]+)$')
_DIGEST_LENGTHS = {'sha256': 64, 'md5': 32}
_CONTENT_RANGE_RE = re.compile(r'^bytes \d+-\d+/(\d+)$')


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


class HttpStore(object):
    """GETs image URLs with the operator's TLS, redirect and host rules."""

    def __init__(self, verify=True, ca_file=None, timeout=60.0,
                 max_redirects=5, allowed_hosts=None, chunk_size=4194304):
        self.verify = ca_file or verify
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.allowed_hosts = [h.lower() for h in allowed_hosts or []]
        self.chunk_size = chunk_size

    def check(self, url):
        """Raise HttpImageError unless url may be fetched."""
        parts = urlparse.urlsplit(url)
        if parts.scheme.lower() not in SCHEMES or not parts.hostname:
            raise HttpImageError('%s is not an http(s) URL with a host'
                                 % url)
        if self.allowed_hosts and (
                parts.hostname.lower() not in self.allowed_hosts):
            raise HttpImageError('host %s is not in [ksvd_image] '
                                 'url_allowed_hosts' % parts.hostname)

    def _get(self, url, headers=None):
        """GET url with stream=True, following checked redirects."""
        session = requests.Session()
        session.trust_env = False  # no proxies from the environment
        current = url
        for _hop in range(self.max_redirects + 1):
            self.check(current)
            try:
                resp = session.get(current, headers=headers, stream=True,
                                   allow_redirects=False, verify=self.verify,
                                   timeout=(self.timeout, self.timeout))
            except requests.exceptions.SSLError as exc:
                raise HttpImageError('TLS verification of %s failed: %s'
                                     % (current, _first_line(exc)))
            except requests.exceptions.RequestException as exc:
                raise HttpImageError('cannot fetch %s: %s'
                                     % (current, _first_line(exc)))
            if resp.is_redirect:
                target = urlparse.urljoin(current,
                                          resp.headers.get('Location', ''))
                resp.close()
                if (urlparse.urlsplit(current).scheme == 'https' and
                        urlparse.urlsplit(target).scheme != 'https'):
                    raise HttpImageError('refused redirect from %s to %s '
                                         '(https to http)' % (current,
                                                              target))
                current = target
                continue
            if resp.status_code not in (200, 206):
                resp.close()
                raise HttpImageError('%s answered HTTP %d %s'
                                     % (current, resp.status_code,
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
