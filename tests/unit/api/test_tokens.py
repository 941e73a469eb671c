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

import json
import os
import stat
import time
from unittest import mock

from tests.unit import base

from cinder_ksvd.api import tokens


class FormatTest(base.TestCase):

    def test_parse_round_trip(self):
        token_id, secret = tokens.new_id(), tokens.new_secret()
        self.assertEqual((token_id, secret),
                         tokens.parse('ksvd.%s.%s' % (token_id, secret)))
        self.assertEqual(16, len(token_id))
        self.assertEqual(43, len(secret))

    def test_parse_refuses_bad_values(self):
        good_id, good_secret = tokens.new_id(), tokens.new_secret()
        bad = ['', 'ksvd', 'ksvd..', 'admin:admin', 'user:project:extra',
               'ksvd.%s' % good_id,
               'ksvd.%s.%s.x' % (good_id, good_secret),
               'KSVD.%s.%s' % (good_id, good_secret),
               'ksvd.%s.%s' % (good_id.upper(), good_secret),
               'ksvd.%s.%s' % (good_id, good_secret[:-1]),
               'ksvd.%s.%s=' % (good_id, good_secret[:-1]),
               u'ksvd.%s.%s' % (good_id, good_secret[:-1] + u'\xe9'),
               'ksvd.%s.%s\n' % (good_id, good_secret),
               'ksvd:%s:%s' % (good_id, good_secret),
               'ksvd.%s.%s' % (good_id, good_secret) + 'A' * 10000,
               None]
        if bytes is not str:
            # Not on Python 2: there bytes is the native str (what WSGI
            # headers are), a valid token.
            bad.append(b'ksvd.%s.%s' % (good_id.encode(),
                                        good_secret.encode()))
        for value in bad:
            self.assertIsNone(tokens.parse(value), repr(value)[:80])

    def test_hash_is_salted(self):
        secret = tokens.new_secret()
        first, second = tokens.hash_secret(secret), tokens.hash_secret(secret)
        self.assertNotEqual(first, second)
        self.assertNotIn(secret, first)
        scheme, salt, value = first.split('$')
        self.assertEqual('hmac-sha256', scheme)
        self.assertEqual(64, len(value))

    def test_durations_and_times(self):
        self.assertEqual(90, tokens.parse_duration('90'))
        self.assertEqual(5400, tokens.parse_duration('90m'))
        self.assertEqual(2 * 86400, tokens.parse_duration('2d'))
        for bad in ('', '0', '-1h', '1w', '1.5h'):
            self.assertRaises(ValueError, tokens.parse_duration, bad)
        self.assertEqual(0, tokens.parse_time('1970-01-01T00:00:00Z'))
        self.assertEqual('2027-01-02T03:04:05Z', tokens.format_time(
            tokens.parse_time('2027-01-02T03:04:05Z')))
        self.assertRaises(ValueError, tokens.parse_time, '2027-01-02')

    def test_implied_roles(self):
        def roles(*given):
            return tokens.Token('0' * 16, 'u', 'p', given,
                                tokens.hash_secret('x')).effective_roles()
        self.assertEqual(['admin', 'member', 'reader'], roles('admin'))
        self.assertEqual(['member', 'reader'], roles('member'))
        self.assertEqual(['reader'], roles('reader'))
        self.assertEqual(['member', 'reader', 'service'],
                         roles('member', 'service'))

    def test_validate(self):
        tokens.validate('mc', 'ksvd-1', ['admin', 'service'])
        for user, project, roles in (('', 'p', ['admin']),
                                     ('u', 'a/b', ['admin']),
                                     ('u', 'p', []),
                                     ('u', 'p', ['owner']),
                                     ('u:x', 'p', ['reader'])):
            self.assertRaises(ValueError, tokens.validate, user, project,
                              roles)


class FileTest(base.TestCase):

    def setUp(self):
        super(FileTest, self).setUp()
        self.dir = self.make_tempdir()
        self.path = os.path.join(self.dir, 'tokens.json')

    def test_create_stores_only_a_hash(self):
        token, value = tokens.create(self.path, 'mc', 'ksvd',
                                     ['admin', 'service'],
                                     description='the MC')
        token_id, secret = tokens.parse(value)
        self.assertEqual(token.id, token_id)
        with open(self.path) as handle:
            text = handle.read()
        self.assertNotIn(secret, text)
        data = json.loads(text)
        entry = data['tokens'][token_id]
        self.assertEqual(['admin', 'service'], entry['roles'])
        self.assertEqual('the MC', entry['description'])
        self.assertIsNone(entry['expires_at'])
        self.assertEqual(0o640, stat.S_IMODE(os.stat(self.path).st_mode))
        self.assertEqual(['tokens.json'], os.listdir(self.dir))

    def test_second_create_reads_back_json_text(self):
        # json gives unicode on Python 2: the file written by the first
        # create must be accepted by the second (issue 24: exit 78 there).
        tokens.validate(u'mc', u'ksvd', [u'admin'])
        first, _ = tokens.create(self.path, 'mc', 'ksvd', ['admin'])
        second, _ = tokens.create(self.path, 'mc2', 'ksvd', ['reader'])
        stored = tokens.read(self.path)
        self.assertEqual(sorted([first.id, second.id]), sorted(stored))
        self.assertEqual(u'mc', stored[first.id].user)
        self.assertEqual(u'ksvd', stored[second.id].project)

    def test_read_missing_is_empty(self):
        self.assertEqual({}, tokens.read(self.path))
        self.assertIsNone(tokens.check_file(self.path))

    def test_revoke(self):
        first, _ = tokens.create(self.path, 'a', 'p', ['reader'])
        second, _ = tokens.create(self.path, 'b', 'p', ['reader'])
        self.assertEqual(first.id, tokens.revoke(self.path, first.id).id)
        self.assertIsNone(tokens.revoke(self.path, first.id))
        self.assertEqual([second.id], list(tokens.read(self.path)))

    def test_rewrite_keeps_mode(self):
        tokens.create(self.path, 'a', 'p', ['reader'])
        os.chmod(self.path, 0o600)
        tokens.create(self.path, 'b', 'p', ['reader'])
        self.assertEqual(0o600, stat.S_IMODE(os.stat(self.path).st_mode))

    def test_malformed_files(self):
        token, _ = tokens.create(self.path, 'a', 'p', ['reader'])
        good = json.load(open(self.path))
        entry = good['tokens'][token.id]
        cases = {
            'not json': '{',
            'wrong version': json.dumps({'version': 2, 'tokens': {}}),
            'list': json.dumps([]),
            'bad id': json.dumps({'version': 1, 'tokens': {'xyz': entry}}),
            'bad role': json.dumps({'version': 1, 'tokens': {
                token.id: dict(entry, roles=['root'])}}),
            'no hash': json.dumps({'version': 1, 'tokens': {
                token.id: dict((k, v) for k, v in entry.items()
                               if k != 'secret_hash')}}),
            'bad hash': json.dumps({'version': 1, 'tokens': {
                token.id: dict(entry, secret_hash='md5$00$00')}}),
            'bad expiry': json.dumps({'version': 1, 'tokens': {
                token.id: dict(entry, expires_at='soon')}}),
            'binary': b'\xff\xfe'.decode('latin-1'),
        }
        for name, text in cases.items():
            # bytes: json.dumps gives str (bytes) on Python 2.
            with open(self.path, 'wb') as handle:
                handle.write(text if isinstance(text, bytes)
                             else text.encode('utf-8'))
            exc = self.assertRaises(tokens.TokenFileError, tokens.read,
                                    self.path)
            self.assertIn('malformed', str(exc), name)
            self.assertEqual(1, len(str(exc).splitlines()), name)
            self.assertRaises(tokens.TokenFileError, tokens.check_file,
                              self.path)

    def test_check_file_refuses_world_writable_and_dirs(self):
        tokens.create(self.path, 'a', 'p', ['reader'])
        self.assertEqual(1, tokens.check_file(self.path))
        os.chmod(self.path, 0o646)
        exc = self.assertRaises(tokens.TokenFileError, tokens.check_file,
                                self.path)
        self.assertIn('world-writable', str(exc))
        exc = self.assertRaises(tokens.TokenFileError, tokens.check_file,
                                self.dir)
        self.assertIn('not a regular file', str(exc))

    def test_check_file_unreadable(self):
        tokens.create(self.path, 'a', 'p', ['reader'])
        with mock.patch.object(os, 'access', return_value=False):
            exc = self.assertRaises(tokens.TokenFileError,
                                    tokens.check_file, self.path)
        self.assertIn('not readable', str(exc))


class StoreTest(base.TestCase):

    def setUp(self):
        super(StoreTest, self).setUp()
        self.path = os.path.join(self.make_tempdir(), 'tokens.json')
        self.loads, self.errors = [], []
        self.store = tokens.TokenStore(
            self.path, on_load=lambda n, absent: self.loads.append(
                (n, absent)),
            on_error=self.errors.append)

    def test_authenticate(self):
        token, value = tokens.create(self.path, 'u', 'p', ['member'])
        self.assertEqual(token.id, self.store.authenticate(value).id)
        token_id, secret = tokens.parse(value)
        other = tokens.new_secret()
        for bad, why in (('ksvd.%s.%s' % (token_id, other), 'wrong secret'),
                         ('ksvd.%s.%s' % ('1' * 16, secret), 'unknown'),
                         ('junk', 'malformed')):
            exc = self.assertRaises(tokens.TokenError,
                                    self.store.authenticate, bad)
            self.assertIn(why, str(exc))
            self.assertNotIn(secret, str(exc))
            self.assertNotIn(other, str(exc))

    def test_compare_is_constant_time(self):
        _, value = tokens.create(self.path, 'u', 'p', ['member'])
        token_id, secret = tokens.parse(value)
        with mock.patch.object(tokens.hmac, 'compare_digest',
                               wraps=tokens.hmac.compare_digest) as compare:
            self.store.authenticate(value)
            self.assertRaises(tokens.TokenError, self.store.authenticate,
                              'ksvd.%s.%s' % ('1' * 16, secret))
        # Known and unknown ids both go through compare_digest.
        self.assertEqual(2, compare.call_count)

    def test_expiry(self):
        now = time.time()
        _, value = tokens.create(self.path, 'u', 'p', ['reader'],
                                 expires=int(now) + 60)
        self.store.authenticate(value, now=now)
        exc = self.assertRaises(tokens.TokenError, self.store.authenticate,
                                value, now=now + 61)
        self.assertIn('expired at', str(exc))

    def test_reload_on_change(self):
        self.assertRaises(tokens.TokenError, self.store.authenticate,
                          'ksvd.%s.%s' % (tokens.new_id(),
                                          tokens.new_secret()))
        self.assertEqual([(0, True)], self.loads)
        token, value = tokens.create(self.path, 'u', 'p', ['reader'])
        self.store.authenticate(value)
        tokens.revoke(self.path, token.id)
        exc = self.assertRaises(tokens.TokenError, self.store.authenticate,
                                value)
        self.assertIn('unknown', str(exc))
        self.assertEqual([(0, True), (1, False), (0, False)], self.loads)
        # Unchanged file: not read again.
        with mock.patch.object(tokens, 'read') as read:
            self.store.refresh()
        read.assert_not_called()

    def test_bad_file_at_runtime_keeps_last_good_set(self):
        _, value = tokens.create(self.path, 'u', 'p', ['reader'])
        self.store.authenticate(value)
        with open(self.path, 'a') as handle:
            handle.write('garbage')
        self.store.authenticate(value)
        self.assertEqual(1, len(self.errors))
        self.assertIn('malformed', self.errors[0])
        os.unlink(self.path)
        self.assertRaises(tokens.TokenError, self.store.authenticate, value)
