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
import time

from cinder import context as cinder_context
from cinder import exception as cinder_exception
from cinder.policies import volumes as volume_policies
from cinder import policy as cinder_policy
import fixtures
import hypothesis
from hypothesis import strategies
from oslo_config import cfg
from tests.unit import base
import webob

from cinder_ksvd.api import auth
from cinder_ksvd.api import tokens
from cinder_ksvd import opts


class Downstream(object):
    """Stands for cinder's API router: records the context it was given."""

    def __init__(self):
        self.environ = None

    def __call__(self, environ, start_response):
        self.environ = dict(environ)
        start_response('200 OK', [('Content-Type', 'text/plain')])
        return [b'ok']

    @property
    def context(self):
        return self.environ['cinder.context']


class FilterTestCase(base.TestCase):

    def setUp(self):
        super(FilterTestCase, self).setUp()
        self.path = os.path.join(self.make_tempdir(), 'tokens.json')
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf.set_override('token_file', self.path,
                               group=opts.AUTH_GROUP)
        self.logger = self.useFixture(fixtures.FakeLogger(
            name='cinder_ksvd.api.auth'))
        self.app = Downstream()
        # cinder's context and policy read the global CONF, parsed as the
        # API parses it; restored afterwards.
        cfg.CONF([], project='cinder', default_config_files=[],
                 default_config_dirs=[])
        self.addCleanup(cfg.CONF.reset)
        self.addCleanup(cinder_policy.reset)

    def make_filter(self, **overrides):
        for name, value in overrides.items():
            self.conf.set_override(name, value, group=opts.AUTH_GROUP)
        return auth.TokenAuth(self.app, conf=self.conf)

    def request(self, middleware, token=None, headers=None):
        req = webob.Request.blank('/v3/volumes')
        if token is not None:
            req.environ['HTTP_X_AUTH_TOKEN'] = token
        for key, value in (headers or {}).items():
            req.environ[key] = value
        self.app.environ = None
        return req.get_response(middleware)


class TokenAuthTest(FilterTestCase):

    def test_no_token_is_401_json(self):
        middleware = self.make_filter()
        for token in (None, ''):
            resp = self.request(middleware, token)
            self.assertEqual(401, resp.status_int)
            self.assertEqual('application/json', resp.content_type)
            body = json.loads(resp.body)
            self.assertEqual(401, body['error']['code'])
            self.assertIsNone(self.app.environ)

    def test_wrong_token_is_401_and_secret_not_logged(self):
        _, value = tokens.create(self.path, 'u', 'proj', ['member'])
        token_id, secret = tokens.parse(value)
        wrong = tokens.new_secret()
        middleware = self.make_filter()
        resp = self.request(middleware, 'ksvd.%s.%s' % (token_id, wrong))
        self.assertEqual(401, resp.status_int)
        self.assertIsNone(self.app.environ)
        self.assertIn('wrong secret for token id %s' % token_id,
                      self.logger.output)
        self.assertNotIn(wrong, self.logger.output)
        self.assertNotIn(secret, self.logger.output)
        self.assertNotIn(wrong, resp.text)

    def test_expired_is_401(self):
        _, value = tokens.create(self.path, 'u', 'proj', ['member'],
                                 expires=int(time.time()) - 1)
        resp = self.request(self.make_filter(), value)
        self.assertEqual(401, resp.status_int)
        self.assertIn('expired', self.logger.output)

    def test_roles_become_a_cinder_context(self):
        cases = (
            (['admin'], True, ['admin', 'member', 'reader'], []),
            (['member'], False, ['member', 'reader'], []),
            (['reader'], False, ['reader'], []),
            (['member', 'service'], False, ['member', 'reader', 'service'],
             ['service']),
        )
        middleware = self.make_filter()
        for roles, is_admin, effective, service_roles in cases:
            _, value = tokens.create(self.path, 'u', 'proj-a', roles)
            resp = self.request(middleware, value)
            self.assertEqual(200, resp.status_int)
            ctx = self.app.context
            self.assertIsInstance(ctx, cinder_context.RequestContext)
            self.assertEqual(('u', 'proj-a'), (ctx.user_id, ctx.project_id))
            self.assertEqual(is_admin, ctx.is_admin, roles)
            self.assertEqual(sorted(effective), sorted(ctx.roles), roles)
            self.assertEqual(service_roles, ctx.service_roles)
            # The secret does not travel in the context (RPC, logs).
            self.assertIsNone(ctx.auth_token)

    def test_cinder_policy_applies(self):
        middleware = self.make_filter()
        target = {'project_id': 'proj-a', 'user_id': 'u'}
        allowed = {}
        for role in ('reader', 'member', 'admin'):
            _, value = tokens.create(self.path, 'u', 'proj-a', [role])
            self.request(middleware, value)
            ctx = self.app.context
            try:
                ctx.authorize(volume_policies.CREATE_POLICY, target=target)
                allowed[role] = True
            except cinder_exception.PolicyNotAuthorized:
                allowed[role] = False
        self.assertEqual({'reader': False, 'member': True, 'admin': True},
                         allowed)
        # A member of project B is not allowed on project A's target.
        _, value = tokens.create(self.path, 'u', 'proj-b', ['member'])
        self.request(middleware, value)
        self.assertRaises(cinder_exception.PolicyNotAuthorized,
                          self.app.context.authorize,
                          volume_policies.GET_POLICY, target=target)

    def test_injected_identity_headers_are_ignored(self):
        _, value = tokens.create(self.path, 'u', 'proj-a', ['reader'])
        resp = self.request(self.make_filter(), value, headers={
            'HTTP_X_ROLES': 'admin', 'HTTP_X_SERVICE_ROLES': 'service',
            'HTTP_X_PROJECT_ID': 'proj-b', 'HTTP_X_USER_ID': 'root',
            'HTTP_OPENSTACK_SYSTEM_SCOPE': 'all',
            'HTTP_X_IS_ADMIN_PROJECT': 'True'})
        self.assertEqual(200, resp.status_int)
        ctx = self.app.context
        self.assertEqual(['reader'], ctx.roles)
        self.assertEqual([], ctx.service_roles)
        self.assertEqual(('u', 'proj-a'), (ctx.user_id, ctx.project_id))
        self.assertIsNone(ctx.system_scope)
        self.assertFalse(ctx.is_admin)
        for key in ('HTTP_X_ROLES', 'HTTP_X_SERVICE_ROLES',
                    'HTTP_X_PROJECT_ID', 'HTTP_X_AUTH_TOKEN'):
            self.assertNotIn(key, self.app.environ)

    def test_bad_headers_are_401(self):
        _, value = tokens.create(self.path, 'u', 'proj', ['member'])
        middleware = self.make_filter()
        for bad in (' ', value + ':', value + ':proj', 'u:p:extra',
                    value.replace('.', ':'), 'x' * 70000,
                    value[:-2] + '\xc3\xa9',  # UTF-8 bytes as WSGI latin-1
                    value[:-1] + '\udcff', value + '\r\n'):
            resp = self.request(middleware, bad)
            self.assertEqual(401, resp.status_int, repr(bad)[:60])
            self.assertIsNone(self.app.environ)

    def test_file_changes_apply_without_restart(self):
        middleware = self.make_filter()
        self.assertIn('does not exist', self.logger.output)
        token, value = tokens.create(self.path, 'u', 'proj', ['member'])
        self.assertEqual(200, self.request(middleware, value).status_int)
        tokens.revoke(self.path, token.id)
        self.assertEqual(401, self.request(middleware, value).status_int)


class NoauthCompatTest(FilterTestCase):

    def test_off_by_default(self):
        self.assertFalse(self.conf[opts.AUTH_GROUP].allow_noauth_header)
        resp = self.request(self.make_filter(), 'admin:admin')
        self.assertEqual(401, resp.status_int)

    def test_on_warns_at_start_and_each_use(self):
        middleware = self.make_filter(allow_noauth_header=True)
        self.assertIn('allow_noauth_header is on', self.logger.output)
        for _ in range(2):
            resp = self.request(middleware, 'alice:proj-a')
            self.assertEqual(200, resp.status_int)
        self.assertEqual(2, self.logger.output.count(
            'noauth header used by'))
        ctx = self.app.context
        self.assertEqual(('alice', 'proj-a'), (ctx.user_id, ctx.project_id))
        self.assertTrue(ctx.is_admin)
        self.request(middleware, 'bob')
        self.assertEqual(('bob', 'bob'), (self.app.context.user_id,
                                          self.app.context.project_id))
        for bad in ('a:b:c', ':b', 'a:', 'a b'):
            self.assertEqual(401, self.request(middleware, bad).status_int,
                             bad)
        # ksvd tokens keep working, and a bad one is not taken as noauth.
        _, value = tokens.create(self.path, 'u', 'proj', ['reader'])
        self.assertEqual(200, self.request(middleware, value).status_int)
        self.assertEqual(['reader'], self.app.context.roles)
        self.assertEqual(401, self.request(
            middleware, value[:-1] + '!').status_int)


class FuzzTest(FilterTestCase):
    """Random X-Auth-Token values never make the real filter fail."""

    @hypothesis.settings(max_examples=400, deadline=None,
                         suppress_health_check=list(hypothesis.HealthCheck))
    @hypothesis.given(value=strategies.one_of(
        strategies.text(max_size=300),
        strategies.text(alphabet=strategies.characters(
            min_codepoint=0, max_codepoint=255), max_size=200),
        strategies.builds(
            lambda a, b, c, sep: sep.join(('ksvd', a, b, c)),
            strategies.text(max_size=20), strategies.text(max_size=20),
            strategies.text(max_size=60),
            strategies.sampled_from(['.', ':', '..', ''])),
        strategies.from_regex(r'\Aksvd\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}\Z'),
        strategies.from_regex(r'\A[A-Za-z0-9_:-]{0,80}\Z')),
        noauth=strategies.booleans())
    def test_fuzz_header(self, value, noauth):
        if not os.path.exists(self.path):
            tokens.create(self.path, 'u', 'proj', ['member'])
        middleware = self.make_filter(allow_noauth_header=noauth)
        resp = self.request(middleware, value)
        self.assertIn(resp.status_int, (200, 401), repr(value))
        if resp.status_int == 401:
            self.assertIsNone(self.app.environ)
            self.assertEqual(401, json.loads(resp.body)['error']['code'])
        else:
            self.assertTrue(noauth, repr(value))
