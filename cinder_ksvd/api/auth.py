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
"""The paste filter that replaces cinder's NoAuthMiddleware.

Stock noauth makes whoever reaches the port admin of any project.  This
filter takes "X-Auth-Token: ksvd.<id>.<secret>" (see tokens.py), answers
401 with a JSON body when it is missing or not valid, and otherwise builds
cinder's RequestContext from the token's user, project and roles, so
cinder's own policy decides what the caller may do.  Identity headers a
client sent (X-Roles, X-Service-Roles, X-Project-Id, ...) are dropped: only
keystonemiddleware may set those, and there is none here.  A caller that is
not admin never reaches another project: the list parameters all_tenants,
project_id and tenant_id are removed from its query string and the reads
stock cinder does not scope are fixed (scoping.py).
"""

import json
import re
import time

from oslo_config import cfg
from oslo_log import log as logging

from cinder_ksvd.api import scoping
from cinder_ksvd.api import tokens
from cinder_ksvd.api import urlproject
from cinder_ksvd import opts

LOG = logging.getLogger(__name__)

TOKEN_KEY = 'HTTP_X_AUTH_TOKEN'
# Headers through which oslo.context / keystonemiddleware carry identity.
_IDENTITY_PREFIXES = ('HTTP_X_USER', 'HTTP_X_PROJECT', 'HTTP_X_TENANT',
                      'HTTP_X_DOMAIN', 'HTTP_X_ROLE', 'HTTP_X_SERVICE_',
                      'HTTP_X_IDENTITY', 'HTTP_X_IS_ADMIN',
                      'HTTP_X_AUTH_', 'HTTP_X_STORAGE_TOKEN',
                      'HTTP_OPENSTACK_SYSTEM_SCOPE', 'HTTP_X_SYSTEM_SCOPE')
_NOAUTH_PART = r'[A-Za-z0-9_\-]{1,255}'
# cinder's context_is_admin policy check costs about half a millisecond (it
# looks for policy file changes each time); its answer for a credential is
# kept this long, so a policy.yaml edit still applies within seconds.
ADMIN_CACHE_SECONDS = 5.0
ADMIN_CACHE_SIZE = 1024


def _unauthorized(start_response, message):
    body = json.dumps({'error': {'code': 401, 'title': 'Unauthorized',
                                 'message': message}}).encode('utf-8')
    start_response('401 Unauthorized', [
        ('Content-Type', 'application/json'),
        ('Content-Length', str(len(body))),
        ('WWW-Authenticate', 'X-Auth-Token realm="ksvd-cinder"'),
    ])
    return [body]


class TokenAuth(object):
    """WSGI middleware: ksvd token in, cinder RequestContext out."""

    def __init__(self, application, conf=None):
        self.application = application
        self.conf = conf or cfg.CONF
        opts.register_opts(self.conf)
        group = self.conf[opts.AUTH_GROUP]
        self.allow_noauth = group.allow_noauth_header
        try:
            self._forwarded = bool(self.conf.use_forwarded_for)
        except cfg.NoSuchOptError:
            self._forwarded = False
        self._noauth_re = re.compile(r'^(%s)(?::(%s))?\Z'
                                     % (_NOAUTH_PART, _NOAUTH_PART))
        self.store = tokens.TokenStore(group.token_file,
                                       on_load=self._loaded,
                                       on_error=self._load_failed)
        # Imported here, not at module level: paste builds the filter in
        # the API process once cinder's objects and config exist.
        from cinder import context
        from cinder import policy
        self._context_class = context.RequestContext
        self._check_is_admin = policy.check_is_admin
        self._admin_cache = {}
        scoping.install()
        self.store.refresh()
        if self.allow_noauth:
            LOG.warning('[%s] allow_noauth_header is on: any caller that '
                        'sends "X-Auth-Token: user:project" is admin of '
                        'that project, without a secret. Switch it off '
                        'once every client uses a ksvd token.',
                        opts.AUTH_GROUP)

    def _loaded(self, count, absent):
        if absent:
            LOG.error('API token file %s does not exist: every request is '
                      'refused (401) until a token is created with '
                      '"ksvd-cinder-manage token create"', self.store.path)
        else:
            LOG.info('API token file %s loaded: %d token(s)',
                     self.store.path, count)

    def _load_failed(self, reason):
        LOG.error('%s; still using the %d token(s) loaded before',
                  reason, len(self.store))

    def _remote(self, environ):
        address = environ.get('REMOTE_ADDR', '127.0.0.1')
        if self._forwarded:
            address = environ.get('HTTP_X_FORWARDED_FOR', address)
        return address

    def _is_admin(self, user, project, roles):
        """cinder's context_is_admin verdict for a credential (cached)."""
        key = (user, project, tuple(roles))
        now = time.time()
        cached = self._admin_cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        probe = self._context_class(user_id=user, project_id=project,
                                    roles=list(roles), is_admin=None,
                                    overwrite=False)
        verdict = bool(self._check_is_admin(probe))
        if len(self._admin_cache) >= ADMIN_CACHE_SIZE:
            self._admin_cache.clear()
        self._admin_cache[key] = (verdict, now + ADMIN_CACHE_SECONDS)
        return verdict

    def __call__(self, environ, start_response):
        value = environ.get(TOKEN_KEY)
        if not value:
            LOG.info('401 for %s %s from %s: no X-Auth-Token',
                     environ.get('REQUEST_METHOD'), environ.get('PATH_INFO'),
                     self._remote(environ))
            return _unauthorized(start_response, 'Authentication required: '
                                 'send X-Auth-Token: ksvd.<id>.<secret>')
        service = False
        if (self.allow_noauth and isinstance(value, str)
                and not value.startswith(tokens.PREFIX + '.')):
            match = self._noauth_re.match(value)
            if match is None:
                return self._refuse(environ, start_response,
                                    'malformed noauth header')
            user = match.group(1)
            project = match.group(2) or user
            roles = ['admin', 'member', 'reader']
            LOG.warning('noauth header used by %s for user %s project %s '
                        '([%s] allow_noauth_header is on)',
                        self._remote(environ), user, project,
                        opts.AUTH_GROUP)
        else:
            try:
                token = self.store.authenticate(value)
            except tokens.TokenError as exc:
                return self._refuse(environ, start_response, str(exc))
            user, project = token.user, token.project
            roles = token.effective_roles()
            service = 'service' in roles
        for key in [k for k in environ if k.startswith(_IDENTITY_PREFIXES)]:
            del environ[key]
        previous = environ.get('cinder.context')
        is_admin = self._is_admin(user, project, roles)
        if not is_admin:
            dropped = scoping.strip_scope_params(environ)
            if dropped:
                LOG.info('%s %s from %s (project %s, not admin): ignored '
                         'query parameter(s) %s, which only an admin may '
                         'use', environ.get('REQUEST_METHOD'),
                         environ.get('PATH_INFO'), self._remote(environ),
                         project, ', '.join(dropped))
        environ['cinder.context'] = self._context_class(
            user_id=user, project_id=project, user_name=user,
            project_name=project, roles=roles,
            service_roles=['service'] if service else [],
            # cinder's policy (context_is_admin) decides, as for Keystone.
            is_admin=is_admin,
            remote_address=self._remote(environ),
            timestamp=getattr(previous, 'timestamp', None),
            request_id=environ.get('openstack.request_id'),
            global_request_id=environ.get('openstack.global_request_id'))
        # A URL of another project: a 400 that names the token's project.
        return urlproject.call(self.application, environ, start_response,
                               project)

    def _refuse(self, environ, start_response, reason):
        LOG.warning('401 for %s %s from %s: %s',
                    environ.get('REQUEST_METHOD'), environ.get('PATH_INFO'),
                    self._remote(environ), reason)
        return _unauthorized(start_response, 'The token is not valid.')


def filter_factory(global_conf, **local_conf):
    """paste.filter_factory of [filter:ksvdauth] in api-paste.ini."""
    def _filter(application):
        return TokenAuth(application)
    return _filter
