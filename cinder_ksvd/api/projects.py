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
"""Which projects exist, without Keystone (the [ksvd] projects hook).

cinder 18+ checks that a project exists before it sets, shows or unsets
its default volume type (``/v3/default-types/{project}``, microversion
3.62): cinder.api.api_utils.validate_project_and_authorize asks Keystone
through get_project / _keystone_client.  There is no Keystone here and the
request context of the ksvdauth filter carries no Keystone token, so stock
cinder answers 403 to everyone.

install() replaces get_project and validate_project_and_authorize in
cinder.api.api_utils (the default-types controller looks them up there at
each call); disable() gives the stock ones back when the switch is off.

The rule (doc/auth.md): a project exists when the token file
([ksvd_auth] token_file) has a token for it (expired ones count: the
project is still there), or when it is the caller's own project.  The
policy check comes first, so a caller the policy refuses gets 403 whether
or not the project exists (stock cinder looked the project up first and,
in cinder 29's unset, skipped the policy check for an unknown one).  An
unknown project is 404 ("Project with id X not found.").
"""

import threading

from oslo_config import cfg
from oslo_log import log as logging

from cinder_ksvd.api import tokens
from cinder_ksvd import opts

LOG = logging.getLogger(__name__)

_NAMES = ('get_project', 'validate_project_and_authorize')
KEYSTONE_API_VERSION = 'ksvd'
_stock = {}
_state = {'conf': None, 'store': None}
_lock = threading.Lock()


class ProjectNotFound(Exception):
    """No token names the project and it is not the caller's."""


def _api_utils():
    from cinder.api import api_utils
    return api_utils


def _store():
    """The TokenStore of [ksvd_auth] token_file (made on first use)."""
    conf = _state['conf'] or cfg.CONF
    opts.register_opts(conf)
    path = conf[opts.AUTH_GROUP].token_file
    with _lock:
        store = _state['store']
        if store is None or store.path != path:
            store = tokens.TokenStore(path, on_error=_load_failed)
            _state['store'] = store
    return store


def _load_failed(reason):
    LOG.error('%s; projects are looked up in the tokens loaded before',
              reason)


def known_projects():
    """The projects the token file names (re-read when it changes)."""
    return _store().projects()


def exists(context, project_id):
    """True when project_id is the caller's or the token file names it."""
    if not project_id:
        return False
    if project_id == getattr(context, 'project_id', None):
        return True
    return project_id in known_projects()


def get_project(context, project_id):
    """cinder's get_project, answered from the token file.

    Raises keystoneauth's NotFound for an unknown project, as the Keystone
    client does, so any caller of the stock function keeps working.
    """
    api_utils = _api_utils()
    if not exists(context, project_id):
        from keystoneauth1 import exceptions as ks_exc
        raise ks_exc.http.NotFound('Project with id %s not found.'
                                   % project_id)
    return api_utils.GenericProjectInfo(project_id, KEYSTONE_API_VERSION,
                                        name=project_id)


def validate_project_and_authorize(context, project_id, policy_check=None,
                                   validate_only=False):
    """Policy first (403), then existence (404); no Keystone."""
    from cinder import exception
    from webob import exc
    if not validate_only:
        try:
            context.authorize(policy_check,
                              target={'project_id': project_id})
        except exception.NotAuthorized:
            raise exc.HTTPForbidden(explanation='You are not authorized to '
                                                'perform this operation.')
    if not exists(context, project_id):
        LOG.info('Project %s is unknown: no token in %s names it',
                 project_id, _store().path)
        raise exc.HTTPNotFound(explanation='Project with id %s not found.'
                                           % project_id)


def install():
    api_utils = _api_utils()
    if not all(hasattr(api_utils, name) for name in _NAMES):
        # cinder 15 and 16: no per-project default types (API 3.62 came
        # with cinder 17), so no project look-up to replace.
        _state['absent'] = True
        return
    if not _stock:
        for name in _NAMES:
            _stock[name] = getattr(api_utils, name)
    api_utils.get_project = get_project
    api_utils.validate_project_and_authorize = validate_project_and_authorize


def configured(conf):
    _state['conf'] = conf
    if _state.get('absent'):
        LOG.info('Projects: this cinder has no per-project default types '
                 '(API 3.62, cinder 17): no project look-up to replace')
        return
    LOG.info('Projects: looked up in the token file %s (no Keystone): '
             'per-project default volume types accept the projects that '
             'have a token', conf[opts.AUTH_GROUP].token_file)


def disable(conf):
    """The switch is off: cinder asks Keystone again."""
    if not _stock:
        return
    api_utils = _api_utils()
    for name, value in _stock.items():
        setattr(api_utils, name, value)
    LOG.warning('[ksvd] projects is off: cinder asks Keystone whether a '
                'project exists; without Keystone, setting or showing a '
                'per-project default volume type answers 403')
