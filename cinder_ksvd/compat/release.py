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

"""cinder-release shims: names that moved between cinder 15 and 29.

Global but purely additive: a name is added only where it is missing, and
never replaces one that exists.  Facts (see doc/driver-compat.md):

- cinder.volume.utils was renamed cinder.volume.volume_utils in 15;
- trace, trace_method, trace_api, brick_get_connector(_properties),
  brick_get_encryptor, brick_attach_volume_encryptor and
  require_driver_initialized moved from cinder.utils to
  cinder.volume.volume_utils in 18;
- calculate_virtual_free_capacity moved from cinder.utils to
  cinder.scheduler.sched_utils in 29;
- cinder.db.sqlalchemy.api was folded into cinder.db.api in 29;
- cinder.utils.retry's first parameter was renamed from "exceptions" to
  "retry_param" in 17 (given by keyword, the old name breaks).  That one is
  not global: listed driver modules see a cinder.utils whose retry takes
  both keywords (the function everyone else sees is unchanged).
"""

import functools
import importlib
import sys

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# module name -> module it stands for when missing.  None: an empty package.
MODULE_ALIASES = {
    'cinder.volume.utils': 'cinder.volume.volume_utils',
    'cinder.volume.volume_utils': 'cinder.volume.utils',
    'cinder.db.sqlalchemy': None,
    'cinder.db.sqlalchemy.api': 'cinder.db.api',
    'cinder.db.sqlalchemy.models': 'cinder.db.models',
}

_MOVED_TO_VOLUME_UTILS = (
    'trace', 'trace_method', 'trace_api', 'brick_get_connector',
    'brick_get_connector_properties', 'brick_get_encryptor',
    'brick_attach_volume_encryptor', 'require_driver_initialized')

# (module, name, modules to take it from when missing), in order.
SYMBOLS = tuple(
    [('cinder.utils', name, ('cinder.volume.volume_utils',))
     for name in _MOVED_TO_VOLUME_UTILS]
    + [('cinder.volume.volume_utils', name, ('cinder.utils',))
       for name in _MOVED_TO_VOLUME_UTILS]
    + [('cinder.utils', 'calculate_virtual_free_capacity',
        ('cinder.scheduler.sched_utils',)),
       ('cinder.scheduler.sched_utils', 'calculate_virtual_free_capacity',
        ('cinder.utils',))])

ALIAS_MARK = '_ksvd_compat_alias'
_added = []


def _import(name):
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def apply():
    """Add every missing name that exists elsewhere; return what was added.

    Idempotent.  Returns ["cinder.utils.trace <- cinder.volume.volume_utils",
    ...] (all additions made by this process so far).
    """
    for module_name, name, sources in SYMBOLS:
        module = sys.modules.get(module_name) or _import(module_name)
        if module is None or getattr(module, ALIAS_MARK, False):
            continue
        if name in vars(module):
            continue
        for source_name in sources:
            source = sys.modules.get(source_name) or _import(source_name)
            if source is None or getattr(source, ALIAS_MARK, False):
                continue
            if name in vars(source):
                setattr(module, name, vars(source)[name])
                _added.append('%s.%s <- %s' % (module_name, name,
                                               source_name))
                break
    return list(_added)


def added():
    """The additions apply() made, as "module.name <- source" strings."""
    return list(_added)


def added_names():
    """Short names apply() added (for reporting what a driver uses)."""
    return set(entry.split(' ', 1)[0].rsplit('.', 1)[1] for entry in _added)


def retry_compat(original, notify=None):
    """cinder.utils.retry taking "exceptions=" and "retry_param=" alike.

    notify(text) is called each time the old keyword is translated.
    """
    try:
        import inspect
        getargs = getattr(inspect, 'getfullargspec', None)
        params = (getargs or inspect.getargspec)(original).args
    except (TypeError, ValueError):
        return original
    if not params:
        return original
    first = params[0]
    other = 'exceptions' if first == 'retry_param' else 'retry_param'

    @functools.wraps(original)
    def retry(*args, **kwargs):
        if other in kwargs and first not in kwargs:
            kwargs[first] = kwargs.pop(other)
            if notify is not None:
                notify('%s= given as %s=' % (other, first))
        return original(*args, **kwargs)

    return retry


def overlays():
    """{module name: {attribute: callable(real module) -> replacement}}.

    Seen only by listed modules (through their __import__).
    """
    return {'cinder.utils': {'retry': lambda module, notify: retry_compat(
        module.retry, notify)}}
