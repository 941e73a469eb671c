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

import os

from cinder.api import api_utils
from cinder import context as cinder_context
from cinder.policies import default_types as default_type_policies
from cinder import policy as cinder_policy
from keystoneauth1 import exceptions as ks_exc
from oslo_config import cfg
from tests.unit import base
import webob

from cinder_ksvd.api import projects
from cinder_ksvd.api import tokens
from cinder_ksvd import opts

STOCK = dict((name, getattr(api_utils, name)) for name in projects._NAMES)


class ProjectsHookTest(base.TestCase):

    def setUp(self):
        super(ProjectsHookTest, self).setUp()
        self.path = os.path.join(self.make_tempdir(), 'tokens.json')
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf.set_override('token_file', self.path,
                               group=opts.AUTH_GROUP)
        # cinder's context and policy read the global CONF.
        cfg.CONF([], project='cinder', default_config_files=[],
                 default_config_dirs=[])
        self.addCleanup(cfg.CONF.reset)
        self.addCleanup(cinder_policy.reset)
        self.addCleanup(self._restore)
        projects.install()
        projects.configured(self.conf)

    def _restore(self):
        for name, value in STOCK.items():
            setattr(api_utils, name, value)
        projects._state.update(conf=None, store=None)

    def context(self, project, roles):
        probe = cinder_context.RequestContext(
            user_id='u', project_id=project, roles=list(roles),
            is_admin=None, overwrite=False)
        return cinder_context.RequestContext(
            user_id='u', project_id=project, roles=list(roles),
            is_admin=cinder_policy.check_is_admin(probe), overwrite=False)

    def validate(self, ctx, project, policy=None):
        # Called the way cinder's default-types controller calls it.
        return api_utils.validate_project_and_authorize(
            ctx, project, policy or default_type_policies.GET_POLICY)

    def test_install_replaces_and_disable_restores(self):
        self.assertIs(projects.get_project, api_utils.get_project)
        self.assertIs(projects.validate_project_and_authorize,
                      api_utils.validate_project_and_authorize)
        projects.disable(self.conf)
        for name, value in STOCK.items():
            self.assertIs(value, getattr(api_utils, name))
        projects.install()
        self.assertIs(projects.get_project, api_utils.get_project)

    def test_token_file_project_exists(self):
        admin = self.context('ops', ['admin', 'member', 'reader'])
        tokens.create(self.path, 'mc', 'tenant-b', ['member'])
        self.assertIsNone(self.validate(admin, 'tenant-b'))
        info = api_utils.get_project(admin, 'tenant-b')
        self.assertEqual('tenant-b', info.id)
        self.assertEqual('tenant-b', info.name)
        self.assertEqual(projects.KEYSTONE_API_VERSION,
                         info.keystone_api_version)

    def test_unknown_project_is_404(self):
        admin = self.context('ops', ['admin', 'member', 'reader'])
        tokens.create(self.path, 'mc', 'tenant-b', ['member'])
        exc = self.assertRaises(webob.exc.HTTPNotFound, self.validate,
                                admin, 'tenant-c')
        self.assertIn('Project with id tenant-c not found', exc.explanation)
        self.assertRaises(webob.exc.HTTPNotFound, self.validate, admin, '')
        # The stock Keystone client's error, for other callers.
        self.assertRaises(ks_exc.http.NotFound, api_utils.get_project,
                          admin, 'tenant-c')

    def test_callers_own_project_exists_without_a_token(self):
        # No token file at all (a noauth-header caller, say).
        admin = self.context('ops', ['admin', 'member', 'reader'])
        self.assertFalse(os.path.exists(self.path))
        self.assertIsNone(self.validate(admin, 'ops'))

    def test_expired_and_revoked_tokens(self):
        admin = self.context('ops', ['admin', 'member', 'reader'])
        token, _ = tokens.create(self.path, 'mc', 'tenant-b', ['member'],
                                 expires=1)
        # Expired: the project is still there.
        self.assertIsNone(self.validate(admin, 'tenant-b'))
        tokens.revoke(self.path, token.id)
        # The file changed: re-read, the project is gone.
        self.assertRaises(webob.exc.HTTPNotFound, self.validate,
                          admin, 'tenant-b')
        tokens.create(self.path, 'mc2', 'tenant-b', ['reader'])
        self.assertIsNone(self.validate(admin, 'tenant-b'))

    def test_policy_before_existence(self):
        tokens.create(self.path, 'mc', 'tenant-b', ['member'])
        member = self.context('tenant-b', ['member', 'reader'])
        for project in ('tenant-b', 'tenant-c'):
            for policy in (default_type_policies.CREATE_UPDATE_POLICY,
                           default_type_policies.GET_POLICY,
                           default_type_policies.DELETE_POLICY):
                exc = self.assertRaises(webob.exc.HTTPForbidden,
                                        self.validate, member, project,
                                        policy)
                self.assertIn('not authorized', exc.explanation)

    def test_validate_only_checks_existence(self):
        member = self.context('tenant-b', ['member', 'reader'])
        self.assertIsNone(api_utils.validate_project_and_authorize(
            member, 'tenant-b', default_type_policies.CREATE_UPDATE_POLICY,
            validate_only=True))
        self.assertRaises(webob.exc.HTTPNotFound,
                          api_utils.validate_project_and_authorize,
                          member, 'tenant-x', None, validate_only=True)

    def test_bad_token_file_keeps_last_projects(self):
        admin = self.context('ops', ['admin', 'member', 'reader'])
        tokens.create(self.path, 'mc', 'tenant-b', ['member'])
        self.assertIsNone(self.validate(admin, 'tenant-b'))
        with open(self.path, 'w') as handle:
            handle.write('{half written')
        self.assertIsNone(self.validate(admin, 'tenant-b'))
        self.assertEqual(frozenset(['tenant-b']), projects.known_projects())

    def test_follows_token_file_option(self):
        tokens.create(self.path, 'mc', 'tenant-b', ['member'])
        self.assertEqual(frozenset(['tenant-b']), projects.known_projects())
        other = os.path.join(self.make_tempdir(), 'tokens.json')
        tokens.create(other, 'mc', 'tenant-z', ['member'])
        self.conf.set_override('token_file', other, group=opts.AUTH_GROUP)
        self.assertEqual(frozenset(['tenant-z']), projects.known_projects())
