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
"""Point cinder at ksvd-cinder's files when cinder.conf leaves them unset.

Stock defaults name /etc/cinder/api-paste.ini and
/etc/cinder/resource_filters.json, which belong to the distribution's own
cinder (or do not exist in a venv).  Runs once config is parsed; options the
operator set explicitly are never touched.
"""

import os.path

from oslo_config import cfg
from oslo_log import log as logging

from cinder_ksvd import paths

LOG = logging.getLogger(__name__)


def _unset(conf, name, group=None):
    """True when no config file or command line set option name."""
    location = conf.get_location(name, group).location
    return location in (cfg.Locations.opt_default,
                        cfg.Locations.set_default)


def _default_paste(conf):
    try:
        from oslo_service import wsgi
        wsgi.register_opts(conf)
    except (ImportError, AttributeError):
        return None
    if not _unset(conf, 'api_paste_config'):
        return None
    found = paths.find(paths.PASTE_INI)
    if found:
        conf.set_default('api_paste_config', found)
    return found


def _default_resource_filters(conf):
    if 'resource_query_filters_file' not in conf:
        try:
            # Registers the option; cinder's API loads it lazily.
            import cinder.api.common  # noqa: F401
        except ImportError:
            return None
    if 'resource_query_filters_file' not in conf:
        return None  # a private ConfigOpts: cinder registers on cfg.CONF
    current = conf.resource_query_filters_file
    if not _unset(conf, 'resource_query_filters_file'):
        return None
    if os.path.isfile(current):
        return None
    found = paths.cinder_data_file('resource_filters.json')
    if found:
        conf.set_default('resource_query_filters_file', found)
    return found


def configured(conf):
    """Apply the defaults; returns a short description for the log."""
    paste = _default_paste(conf)
    filters = _default_resource_filters(conf)
    LOG.debug('config_defaults: api_paste_config=%s '
              'resource_query_filters_file=%s',
              paste or 'unchanged', filters or 'unchanged')
