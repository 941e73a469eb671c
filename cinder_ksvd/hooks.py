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
"""The one place that knows every runtime integration of cinder_ksvd.

install() runs in each wrapper after the stock cinder.cmd module is imported
and before its main(): it registers our options and applies each hook's
import-time part, in a fixed order, once per process.  Config is not parsed
yet, so nothing here reads an option.  Each hook may also have a part that
runs once config and logging exist (configured()); that is where switches in
[ksvd] are read and where the active hooks are logged.
"""

import functools
import importlib
import threading

from oslo_config import cfg
from oslo_log import log as logging

from cinder_ksvd import opts

LOG = logging.getLogger(__name__)

# (switch name in [ksvd], module) in the order they are applied.  A module may
# define install() (import-time patching, reads no config), configured(conf)
# (once config and logging are set up, when its switch is on), disable(conf)
# (instead, when it is off) and preflight(conf) (start-up checks on the
# wrappers' private config, raising exception.StartupRefused).
HOOKS = (
    ('config_defaults', 'cinder_ksvd.config_defaults'),
    ('database', 'cinder_ksvd.db'),
    ('compute', 'cinder_ksvd.compute'),
    ('image', 'cinder_ksvd.image'),
    ('compat', 'cinder_ksvd.compat'),
    ('cluster', 'cinder_ksvd.cluster'),
    ('projects', 'cinder_ksvd.api.projects'),
)


_lock = threading.Lock()
_state = {'installed': False, 'configured': False, 'active': None}


def _module(path):
    return importlib.import_module(path)


def install(conf=None):
    """Apply every hook's import-time part; idempotent, reads no config."""
    conf = conf or cfg.CONF
    with _lock:
        if _state['installed']:
            return False
        opts.register_opts(conf)
        for name, path in HOOKS:
            hook_install = getattr(_module(path), 'install', None)
            if hook_install is not None:
                hook_install()
        _wrap_log_setup(conf)
        _state['installed'] = True
        return True


def _wrap_log_setup(conf):
    """Run configured() right after cinder's main() sets up logging.

    Every cinder entry point (services, manage, WSGI) parses config and then
    calls oslo_log's setup(); that call is the first moment both exist.
    """
    original = logging.setup
    if getattr(original, '_ksvd_wrapped', False):
        return

    @functools.wraps(original)
    def setup(*args, **kwargs):
        result = original(*args, **kwargs)
        configured(conf)
        return result

    setup._ksvd_wrapped = True
    setup.__wrapped__ = original  # functools.wraps does it on py3 only
    logging.setup = setup


def switched_on(conf, name):
    """Read the [ksvd] switch of hook name (config must be parsed)."""
    return bool(getattr(conf[opts.KSVD_GROUP], name))


def configured(conf=None):
    """Run each active hook's post-config part once and log the list."""
    conf = conf or cfg.CONF
    with _lock:
        if _state['configured']:
            return _state['active']
        active, off = [], []
        for name, path in HOOKS:
            if not switched_on(conf, name):
                off.append(name)
                hook_disable = getattr(_module(path), 'disable', None)
                if hook_disable is not None:
                    hook_disable(conf)
                continue
            active.append(name)
            hook_configured = getattr(_module(path), 'configured', None)
            if hook_configured is not None:
                hook_configured(conf)
        _state['configured'] = True
        _state['active'] = active
    LOG.info('ksvd-cinder hooks active: %s; switched off in [ksvd]: %s',
             ', '.join(active) or 'none', ', '.join(off) or 'none')
    return active


def preflight(conf):
    """Run each active hook's start-up checks on a parsed private conf.

    Called by the wrappers before the stock main(); raises
    cinder_ksvd.exception.StartupRefused with a one-line reason.
    """
    opts.register_opts(conf)
    for name, path in HOOKS:
        if not switched_on(conf, name):
            continue
        check = getattr(_module(path), 'preflight', None)
        if check is None:
            continue
        check(conf)


def active_hooks():
    """Names of the hooks configured() found switched on, or None."""
    return _state['active']
