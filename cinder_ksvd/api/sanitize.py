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
"""The ksvdinput paste filter: refuse input stock cinder answers with 500.

Placed before oslo.middleware's sizelimit and the token check.  Each
refusal is a 4xx with a JSON body in cinder's fault format
({"badRequest": {"code": 400, "message": ...}}) and one INFO log line:

- a path or query string that is not UTF-8 once percent-decoded (%ff), a
  path with a . or .. segment (DELETE /groups/. reached a route that
  fails);
- a body larger than [oslo_middleware] max_request_body_size, with a
  Content-Length or chunked, on any method: 413 after the body was read
  and discarded (at most DRAIN_MAX bytes), so the client gets the answer
  instead of a reset connection;
- on POST, PUT and PATCH: an empty body (except POST .../workers/cleanup),
  bytes that are not UTF-8, JSON that does not parse or nests deeper than
  MAX_DEPTH, strings with a lone surrogate (\\ud800), a volume action
  that needs an object given null ({"os-detach": null}), attachment
  connectors whose values are objects, and bodies without the key cinder
  reads unchecked (REQUIRED_KEYS: PUT /default-types/{project} without
  "default_type");
- DELETE /groups/{id} and /consistencygroups/{id}: cinder routes them to
  handlers that need a body (500); groups are deleted with the "delete"
  action.
"""

import io
import json
import re

from oslo_config import cfg
from oslo_log import log as logging

try:
    from urllib import parse
    unquote_to_bytes = parse.unquote_to_bytes
except ImportError:  # Python 2: unquote works on byte strings there
    import urlparse as parse
    unquote_to_bytes = parse.unquote

LOG = logging.getLogger(__name__)

MAX_DEPTH = 32
DRAIN_MAX = 64 * 1024 * 1024
_READ = 65536
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.S)
_SURROGATE_RE = re.compile(u'[\ud800-\udfff]')
_ACTION_RE = re.compile(r'/(volumes|snapshots|backups|groups|'
                        r'group_snapshots|attachments)/[^/]+/action$')
_ATTACHMENT_RE = re.compile(r'/attachments(/[^/]+)?$')
# DELETE on these members reaches a handler that needs a body (the groups
# controller's "delete" action, consistencygroups' delete): KeyError, 500.
_DELETE_BY_ACTION_RE = re.compile(r'(^|/)(groups|consistencygroups)/[^/]+/?$')
# Volume actions whose argument must be an object (cinder reads keys of
# it and fails with 500 on null).
OBJECT_ACTIONS = frozenset([
    'os-attach', 'os-detach', 'os-force_detach', 'os-initialize_connection',
    'os-terminate_connection', 'os-extend', 'os-retype', 'os-set_bootable',
    'os-update_readonly_flag', 'os-volume_upload_image', 'os-reset_status',
    'os-migrate_volume', 'os-migrate_volume_completion',
    'os-set_image_metadata', 'os-unset_image_metadata',
    'os-update_snapshot_status', 'os-reimage', 'revert',
    'os-extend_volume_completion'])
# (method, path pattern, key): bodies cinder reads body[key] of without
# checking it is there (KeyError: 500).
REQUIRED_KEYS = (
    ('PUT', re.compile(r'/default-types/[^/]+$'), 'default_type'),
)
_TITLES = {400: ('400 Bad Request', 'badRequest'),
           413: ('413 Request Entity Too Large', 'requestEntityTooLarge')}


class Refused(Exception):
    def __init__(self, status, message):
        super(Refused, self).__init__(message)
        self.status = status
        self.message = message


def _answer(start_response, status, message, close=False):
    line, key = _TITLES[status]
    body = json.dumps({key: {'code': status,
                             'message': message}}).encode('utf-8')
    headers = [('Content-Type', 'application/json'),
               ('Content-Length', str(len(body)))]
    if close:
        headers.append(('Connection', 'close'))
    start_response(line, headers)
    return [body]


def _utf8(raw, what):
    if not isinstance(raw, bytes):
        raw = raw.encode('latin-1')  # py3 WSGI strings are latin-1
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        raise Refused(400, '%s is not valid UTF-8 (a percent-escape such '
                           'as %%ff?)' % what)


def _depth(text):
    depth = deepest = 0
    for char in _STRING_RE.sub('', text):
        if char in '[{':
            depth += 1
            if depth > deepest:
                deepest = depth
        elif char in ']}':
            depth -= 1
    return deepest


def _walk_strings(value):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            for text in _walk_strings(item):
                yield text
    elif isinstance(value, list):
        for item in value:
            for text in _walk_strings(item):
                yield text
    elif isinstance(value, type(u'')):
        yield value


def _scalar(value):
    return value is None or isinstance(value, (type(u''), bool, int, float))


def check_body(method, path, raw):
    """Raise Refused for a POST/PUT/PATCH body cinder cannot handle."""
    if not raw.strip():
        if method == 'POST' and path.endswith('/workers/cleanup'):
            return
        raise Refused(400, 'The request body is empty: %s %s needs a JSON '
                           'object' % (method, path))
    text = _utf8(raw, 'The request body')
    if _depth(text) > MAX_DEPTH:
        raise Refused(400, 'The request body nests JSON deeper than %d '
                           'levels' % MAX_DEPTH)
    try:
        body = json.loads(text)
    except ValueError as exc:
        raise Refused(400, 'The request body is not valid JSON: %s' % exc)
    for string in _walk_strings(body):
        if _SURROGATE_RE.search(string):
            raise Refused(400, 'The request body has a string with a lone '
                               'surrogate (such as \\ud800): not valid '
                               'Unicode')
    if not isinstance(body, dict):
        raise Refused(400, 'The request body must be a JSON object, not %s'
                      % type(body).__name__)
    for wanted_method, pattern, key in REQUIRED_KEYS:
        if (method == wanted_method and pattern.search(path) and
                not isinstance(body.get(key), dict)):
            raise Refused(400, '%s %s needs {"%s": {...}} in the body'
                          % (method, path, key))
    if _ACTION_RE.search(path):
        for action, argument in body.items():
            if argument is None and action in OBJECT_ACTIONS:
                raise Refused(400, 'Action %s needs an object, not null'
                              % action)
    if _ATTACHMENT_RE.search(path) and isinstance(body.get('attachment'),
                                                  dict):
        connector = body['attachment'].get('connector')
        if isinstance(connector, dict):
            for key, value in connector.items():
                if _scalar(value) or (isinstance(value, list) and
                                      all(_scalar(v) for v in value)):
                    continue
                raise Refused(400, 'Connector value %s must be a string, '
                                   'number, boolean, null or a list of '
                                   'them' % key)


class InputGuard(object):
    """WSGI middleware: 4xx for input that would make cinder answer 500."""

    def __init__(self, application, conf=None):
        self.application = application
        self.conf = conf or cfg.CONF
        # [oslo_middleware] max_request_body_size, as sizelimit reads it.
        from oslo_middleware import sizelimit
        self.conf.register_opts(getattr(sizelimit, 'OPTS', None) or
                                getattr(sizelimit, '_opts'),
                                group='oslo_middleware')

    @property
    def limit(self):
        return self.conf.oslo_middleware.max_request_body_size

    def __call__(self, environ, start_response):
        try:
            self._check(environ)
        except Refused as exc:
            LOG.info('%d for %s %s from %s: %s', exc.status,
                     environ.get('REQUEST_METHOD'),
                     environ.get('PATH_INFO', '')[:200],
                     environ.get('REMOTE_ADDR'), exc.message)
            close = exc.status == 413 and environ.get('ksvd.undrained')
            return _answer(start_response, exc.status, exc.message,
                           close=bool(close))
        return self.application(environ, start_response)

    def _drain(self, environ, stream):
        left = DRAIN_MAX
        while left > 0:
            chunk = stream.read(min(_READ, left))
            if not chunk:
                return
            left -= len(chunk)
        environ['ksvd.undrained'] = True

    def _too_large(self, environ, stream, size=None):
        self._drain(environ, stream)
        raise Refused(413, 'The request body is larger than %d bytes '
                           '([oslo_middleware] max_request_body_size)%s'
                      % (self.limit, '' if size is None
                         else ' (%d bytes sent)' % size))

    def _check(self, environ):
        method = environ.get('REQUEST_METHOD', 'GET')
        path = _utf8(environ.get('PATH_INFO', ''), 'The request path')
        segments = path.split('/')
        if '.' in segments or '..' in segments:
            raise Refused(400, 'The request path has a . or .. segment')
        _utf8(unquote_to_bytes(environ.get('QUERY_STRING', '')),
              'The query string')
        stream = environ.get('wsgi.input')
        chunked = 'chunked' in environ.get('HTTP_TRANSFER_ENCODING',
                                           '').lower()
        length = environ.get('CONTENT_LENGTH') or ''
        if length and not chunked:
            try:
                length = int(length)
            except ValueError:
                raise Refused(400, 'Content-Length %r is not a number'
                              % length[:20])
            if length < 0:
                raise Refused(400, 'Content-Length is negative')
            if length > self.limit:
                self._too_large(environ, stream, length)
        else:
            length = 0
        raw = None
        if chunked and stream is not None:
            raw = stream.read(self.limit + 1)
            if len(raw) > self.limit:
                self._too_large(environ, stream)
        elif method in ('POST', 'PUT', 'PATCH') and stream is not None:
            raw = stream.read(length) if length else b''
        if raw is not None:
            environ['wsgi.input'] = io.BytesIO(raw)
            environ['CONTENT_LENGTH'] = str(len(raw))
            environ.pop('HTTP_TRANSFER_ENCODING', None)
        if method in ('POST', 'PUT', 'PATCH'):
            check_body(method, path, raw or b'')
        if method == 'DELETE' and _DELETE_BY_ACTION_RE.search(path):
            kind = _DELETE_BY_ACTION_RE.search(path).group(2)
            raise Refused(400, 'DELETE %s is not how cinder deletes %s: '
                               'POST .../%s/{id}/action with {"delete": '
                               '{"delete-volumes": false}} (groups) or '
                               '.../%s/{id}/delete (consistency groups)'
                          % (path, kind, kind, kind))


def filter_factory(global_conf, **local_conf):
    """paste.filter_factory of [filter:ksvdinput] in api-paste.ini."""
    def _filter(application):
        return InputGuard(application)
    return _filter
