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

"""Options of every cinder_ksvd module, and list_opts() for the generator.

Options live here, at the bottom of the package, so every integration can
register and read them without importing another integration.  Nothing is
registered at import time: callers use register_opts(), which is idempotent.
"""

from oslo_config import cfg

KSVD_GROUP = 'ksvd'

# One switch per runtime hook (see cinder_ksvd/hooks.py); the option name is
# the hook name.  A hook whose switch is off is installed but steps aside.
hook_opts = [
    cfg.BoolOpt('config_defaults',
                default=True,
                help='Point cinder at the files ksvd-cinder ships when '
                     'cinder.conf does not name them: the api-paste.ini '
                     'with the ksvd pipeline (api_paste_config) and '
                     'the resource filter file (resource_query_filters_file). '
                     'Files are looked up in /etc/ksvd-cinder, '
                     '/usr/share/ksvd-cinder and the share/ksvd-cinder '
                     'folder of the Python prefix, in that order. Switch '
                     'off to use stock cinder defaults.'),
]


def register_opts(conf):
    """Register every cinder_ksvd option on conf; safe to call twice."""
    for group, opts in list_opts():
        for opt in opts:
            # NOTE: register_opt returns False when the same option is
            # already registered, and raises only on a conflicting one.
            conf.register_opt(opt, group=group)


def list_opts():
    """Return (group, options) pairs for oslo-config-generator.

    Registered under the oslo.config.opts entry point as ksvd-cinder.
    """
    return [
        (KSVD_GROUP, list(hook_opts)),
    ]
