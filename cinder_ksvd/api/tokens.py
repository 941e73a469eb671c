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
"""API tokens: their format, the token file, and checking a presented one.

A token is ``ksvd.<id>.<secret>``: the id (16 hex digits) is public and
names the entry, the secret (32 random bytes, URL-safe base64) is shown once
and never stored.  The file keeps, per id, the user, project, roles, an
optional expiry and HMAC-SHA256(salt, secret) with a random salt.  Secrets
are 256-bit random, so a fast keyed hash is enough (a slow password hash
would guard low-entropy secrets we never have, at a cost on every request).
Comparison uses hmac.compare_digest.  No cinder import: the manage command
and the filter share this module.
"""

import base64
import binascii
import calendar
import contextlib
import errno
import fcntl
import hashlib
import hmac
import json
import os
import re
import stat
import tempfile
import time

PREFIX = 'ksvd'
ROLES = ('admin', 'member', 'reader', 'service')
# Keystone's default implied roles: admin > member > reader.
IMPLIED_ROLES = {'admin': ('admin', 'member', 'reader'),
                 'member': ('member', 'reader'),
                 'reader': ('reader',),
                 'service': ('service',)}
SCHEME = 'hmac-sha256'
FILE_VERSION = 1
MAX_TOKEN_LENGTH = 128
FILE_MODE = 0o640

_ID_RE = re.compile(r'^[0-9a-f]{16}\Z')
_SECRET_RE = re.compile(r'^[A-Za-z0-9_-]{43}\Z')
_NAME_RE = re.compile(r'^[A-Za-z0-9_\-.@]{1,255}\Z')
_PROJECT_RE = re.compile(r'^[A-Za-z0-9_\-]{1,255}\Z')
_TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


class TokenFileError(Exception):
    """The token file cannot be used; str() is one line."""


class TokenError(Exception):
    """A presented token is not valid; str() names why, never the secret."""


# Text as json gives it: unicode on Python 2, str on Python 3.
TEXT_TYPES = (str, type(u''))


def _text(value):
    return value.decode('ascii') if isinstance(value, bytes) else value


def new_id():
    return _text(binascii.hexlify(os.urandom(8)))


def new_secret():
    return _text(base64.urlsafe_b64encode(os.urandom(32))).rstrip('=')


def digest(salt, secret):
    """HMAC-SHA256 of the secret keyed with the salt (bytes)."""
    return hmac.new(salt, secret.encode('ascii'), hashlib.sha256).digest()


def hash_secret(secret, salt=None):
    """The stored form of a secret: 'hmac-sha256$<salt hex>$<hex>'."""
    salt = salt or os.urandom(16)
    return '%s$%s$%s' % (SCHEME, _text(binascii.hexlify(salt)),
                         _text(binascii.hexlify(digest(salt, secret))))


def parse(value):
    """Split a presented token into (id, secret); None if malformed.

    Never raises on any input: headers are attacker-controlled.
    """
    if not isinstance(value, TEXT_TYPES) or len(value) > MAX_TOKEN_LENGTH:
        return None
    parts = value.split('.')
    if len(parts) != 3 or parts[0] != PREFIX:
        return None
    if not _ID_RE.match(parts[1]) or not _SECRET_RE.match(parts[2]):
        return None
    return parts[1], parts[2]


def format_time(epoch):
    return time.strftime(_TIME_FORMAT, time.gmtime(epoch))


def parse_time(text):
    """'YYYY-MM-DDTHH:MM:SSZ' (UTC) to epoch seconds; ValueError if not."""
    return calendar.timegm(time.strptime(text, _TIME_FORMAT))


def parse_duration(text):
    """'90s', '15m', '12h', '30d' (or plain seconds) to seconds."""
    match = re.match(r'^(\d+)([smhd]?)$', text.strip())
    if not match:
        raise ValueError('%r is not a duration such as 3600s, 90m, 12h or '
                         '30d' % text)
    factor = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}[match.group(2)]
    seconds = int(match.group(1)) * factor
    if seconds <= 0:
        raise ValueError('a duration must be positive')
    return seconds


class Token(object):
    """One entry of the token file (the secret itself is never here)."""

    __slots__ = ('id', 'user', 'project', 'roles', 'expires', 'created',
                 'description', 'salt', 'digest')

    def __init__(self, token_id, user, project, roles, secret_hash,
                 expires=None, created=None, description=''):
        self.id = token_id
        self.user = user
        self.project = project
        self.roles = tuple(roles)
        self.expires = expires
        self.created = created
        self.description = description or ''
        scheme, salt, value = secret_hash.split('$')
        if scheme != SCHEME:
            raise ValueError('unknown hash scheme %r' % scheme)
        self.salt = binascii.unhexlify(salt)
        self.digest = binascii.unhexlify(value)
        if len(self.digest) != hashlib.sha256().digest_size:
            raise ValueError('hash has the wrong length')

    def expired(self, now=None):
        return self.expires is not None and (now or time.time()) >= \
            self.expires

    def effective_roles(self):
        """Roles with Keystone's implied roles added, in a stable order."""
        found = []
        for role in self.roles:
            for implied in IMPLIED_ROLES[role]:
                if implied not in found:
                    found.append(implied)
        return found

    def to_dict(self):
        return {
            'user': self.user,
            'project': self.project,
            'roles': list(self.roles),
            'expires_at': (format_time(self.expires)
                           if self.expires is not None else None),
            'created_at': (format_time(self.created)
                           if self.created is not None else None),
            'description': self.description,
            'secret_hash': '%s$%s$%s' % (
                SCHEME, _text(binascii.hexlify(self.salt)),
                _text(binascii.hexlify(self.digest))),
        }


def validate(user, project, roles):
    """Raise ValueError when an entry's identity is not acceptable."""
    if not isinstance(user, TEXT_TYPES) or not _NAME_RE.match(user):
        raise ValueError('user %r: use 1-255 letters, digits or _-.@'
                         % (user,))
    if not isinstance(project, TEXT_TYPES) or not _PROJECT_RE.match(project):
        raise ValueError('project %r: use 1-255 letters, digits, _ or -'
                         % (project,))
    if not roles:
        raise ValueError('a token needs at least one role')
    for role in roles:
        if role not in ROLES:
            raise ValueError('unknown role %r (known: %s)'
                             % (role, ', '.join(ROLES)))


def _entry(token_id, data):
    if not _ID_RE.match(token_id):
        raise ValueError('token id %r is not 16 hex digits' % token_id)
    if not isinstance(data, dict):
        raise ValueError('token %s is not an object' % token_id)
    try:
        roles = data['roles']
        if not isinstance(roles, list):
            raise ValueError('roles is not a list')
        validate(data['user'], data['project'], roles)
        expires = data.get('expires_at')
        created = data.get('created_at')
        return Token(token_id, data['user'], data['project'], roles,
                     data['secret_hash'],
                     expires=parse_time(expires) if expires else None,
                     created=parse_time(created) if created else None,
                     description=data.get('description') or '')
    except KeyError as exc:
        raise ValueError('token %s has no %s' % (token_id, exc))
    except (ValueError, TypeError, AttributeError) as exc:
        raise ValueError('token %s: %s' % (token_id, exc))


def loads(text):
    """Parse the token file's text into {id: Token}; ValueError if bad."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError('not JSON (%s)' % exc)
    if not isinstance(data, dict) or data.get('version') != FILE_VERSION:
        raise ValueError('not a version %d token file' % FILE_VERSION)
    entries = data.get('tokens')
    if not isinstance(entries, dict):
        raise ValueError('"tokens" is not an object')
    return dict((key, _entry(key, value)) for key, value in entries.items())


def dumps(tokens):
    body = {'version': FILE_VERSION,
            'tokens': dict((t.id, t.to_dict()) for t in tokens.values())}
    return json.dumps(body, indent=2, sort_keys=True) + '\n'


def read(path):
    """{id: Token} from path; a missing file is empty.

    Raises TokenFileError (one line) when it cannot be read or parsed.
    """
    try:
        with open(path, 'rb') as handle:
            raw = handle.read()
    except (IOError, OSError) as exc:
        if exc.errno == errno.ENOENT:
            return {}
        raise TokenFileError('token file %s cannot be read: %s'
                             % (path, exc.strerror or exc))
    try:
        return loads(raw.decode('utf-8'))
    except (ValueError, UnicodeDecodeError) as exc:
        raise TokenFileError('token file %s is malformed: %s'
                             % (path, str(exc).splitlines()[0]))


def check_file(path):
    """Start-up check: the file is absent (no tokens) or usable.

    Returns the number of tokens, or None when the file does not exist;
    raises TokenFileError for a file the API must not start with.
    """
    try:
        info = os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise TokenFileError('token file %s cannot be read: %s'
                             % (path, exc.strerror))
    if not stat.S_ISREG(info.st_mode):
        raise TokenFileError('token file %s is not a regular file' % path)
    if info.st_mode & stat.S_IWOTH:
        raise TokenFileError('token file %s is world-writable: anyone could '
                             'add a token; chmod 0640 it' % path)
    if not os.access(path, os.R_OK):
        raise TokenFileError('token file %s is not readable by this user '
                             '(uid %d)' % (path, os.getuid()))
    return len(read(path))


@contextlib.contextmanager
def _locked_dir(directory):
    """Serialize writers of the token file (flock on its directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _owner_for_new_file():
    """root:cinder when run as root and the group exists, else None."""
    if os.geteuid() != 0:
        return None
    try:
        import grp
        return 0, grp.getgrnam('cinder').gr_gid
    except (ImportError, KeyError):
        return None


def write(path, tokens):
    """Replace the token file atomically, keeping its mode and owner."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        old = os.stat(path)
        mode, owner = stat.S_IMODE(old.st_mode), (old.st_uid, old.st_gid)
    except OSError:
        mode, owner = FILE_MODE, _owner_for_new_file()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix='.tokens.')
    try:
        os.fchmod(fd, mode & ~stat.S_IWOTH)
        if owner is not None and os.geteuid() == 0:
            os.fchown(fd, owner[0], owner[1])
        os.write(fd, dumps(tokens).encode('utf-8'))
        os.fsync(fd)
        os.close(fd)
        fd = None
        os.rename(tmp, path)
    except BaseException:
        if fd is not None:
            os.close(fd)
        os.unlink(tmp)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def create(path, user, project, roles, expires=None, description='',
           now=None):
    """Add a token; return (Token, the full token string, shown once)."""
    validate(user, project, list(roles))
    secret = new_secret()
    now = int(now or time.time())
    directory = os.path.dirname(os.path.abspath(path))
    with _locked_dir(directory):
        tokens = read(path)
        token_id = new_id()
        while token_id in tokens:
            token_id = new_id()
        token = Token(token_id, user, project, roles, hash_secret(secret),
                      expires=expires, created=now, description=description)
        tokens[token_id] = token
        write(path, tokens)
    return token, '%s.%s.%s' % (PREFIX, token_id, secret)


def revoke(path, token_id):
    """Remove a token; return it, or None when there is no such id."""
    directory = os.path.dirname(os.path.abspath(path))
    with _locked_dir(directory):
        tokens = read(path)
        token = tokens.pop(token_id, None)
        if token is not None:
            write(path, tokens)
    return token


class TokenStore(object):
    """The tokens the API checks against, re-read when the file changes.

    Each check stats the file (about a microsecond); a changed file is read
    again.  A file that turns bad at runtime keeps the last good set (and is
    logged through on_error) so a half-edited file neither locks everyone
    out nor lets anyone in; a deleted file means no tokens.
    """

    def __init__(self, path, on_load=None, on_error=None):
        self.path = path
        self._signature = None
        self._tokens = {}
        self._on_load = on_load
        self._on_error = on_error
        self._dummy = Token('0' * 16, 'x', 'x', ['reader'],
                            hash_secret(new_secret()))

    def refresh(self):
        try:
            info = os.stat(self.path)
            signature = (info.st_dev, info.st_ino, info.st_size,
                         info.st_mtime)
        except OSError as exc:
            signature = ('stat', exc.errno)
        if signature == self._signature:
            return
        self._signature = signature
        try:
            tokens = read(self.path)
        except TokenFileError as exc:
            if self._on_error is not None:
                self._on_error(str(exc))
            return
        self._tokens = tokens
        if self._on_load is not None:
            self._on_load(len(tokens), signature[0] == 'stat')

    def __len__(self):
        return len(self._tokens)

    def projects(self):
        """The projects the file's tokens name (expired ones too)."""
        self.refresh()
        return frozenset(t.project for t in self._tokens.values())

    def authenticate(self, value, now=None):
        """Return the Token for a presented token string or raise TokenError.

        The secret is compared with hmac.compare_digest; an unknown id costs
        the same hashing as a known one.
        """
        self.refresh()
        parsed = parse(value)
        if parsed is None:
            raise TokenError('malformed token')
        token_id, secret = parsed
        token = self._tokens.get(token_id)
        candidate = token if token is not None else self._dummy
        matches = hmac.compare_digest(digest(candidate.salt, secret),
                                      candidate.digest)
        if token is None:
            raise TokenError('unknown token id %s' % token_id)
        if not matches:
            raise TokenError('wrong secret for token id %s' % token_id)
        if token.expired(now):
            raise TokenError('token id %s expired at %s'
                             % (token_id, format_time(token.expires)))
        return token
