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

"""A second engine for cinder's @reader transactions on sqlite.

A listener on an engine cannot tell a reader's BEGIN from a writer's, so
with one engine every transaction takes the write lock (BEGIN IMMEDIATE).
oslo.db's enginefacade can send READER transactions to their own engine
(configure(slave_connection=URL, synchronous_reader=False)); we point that
engine at the same sqlite file and tell connection.on_begin which engine
is the readers', so that readers start with a deferred BEGIN (a shared
lock, taken alongside other readers and, in WAL mode, alongside the
writer) while writers keep BEGIN IMMEDIATE.  The file is the same, so a
reader transaction sees every write committed before it began.

cinder 29 keeps its transaction context in cinder.db.api, older releases
in cinder.db.sqlalchemy.api.  cinder's own configure(conf) passes
slave_connection = None explicitly; it is wrapped to apply ours again.
"""

import functools
import importlib

from oslo_log import log as logging

from cinder_ksvd.db import connection
from cinder_ksvd.db import placement

LOG = logging.getLogger(__name__)

API_MODULES = ('cinder.db.api', 'cinder.db.sqlalchemy.api')
_state = {'url': None}


def _modules(names):
    found = []
    for name in names:
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        # cinder 29 has no cinder.db.sqlalchemy.api; the compat hook may
        # serve that name as an alias of cinder.db.api: not a second module.
        if not getattr(module, '_ksvd_compat_alias', False):
            found.append(module)
    return found


def reader_url(conf):
    """The URL the reader engine gets, or None when it must not be used.

    Only for a sqlite file (":memory:" would be another database per
    engine) and only when no slave_connection was configured by the
    operator.
    """
    url = conf.database.connection or ''
    if not url.startswith('sqlite') or placement.sqlite_path(url) is None:
        return None
    if getattr(conf.database, 'slave_connection', None):
        return None
    return url


def apply(manager, url):
    """Configure one enginefacade transaction context; False if too late."""
    factory = getattr(manager, '_factory', None)
    try:
        manager.configure(slave_connection=url, synchronous_reader=False)
    except TypeError as exc:  # oslo.db's AlreadyStartedError
        LOG.warning('sqlite reader engine not used: the database engine '
                    'was already started (%s)', exc)
        return False
    if factory is not None:
        connection.watch_factory(factory)
    return True


def configure(conf, enabled, modules=None):
    """Give reader transactions their own engine if [ksvd_database] says so.

    :returns: the number of transaction contexts configured.
    """
    url = None
    if enabled and conf.ksvd_database.reader_engine:
        url = reader_url(conf)
    _state['url'] = url
    if url is None:
        return 0
    count = 0
    for module in _modules(API_MODULES) if modules is None else modules:
        manager = getattr(module, 'main_context_manager', None)
        if manager is not None and hasattr(manager, 'configure'):
            count += bool(apply(manager, url))
    return count


def _wrap_configure(module):
    original = getattr(module, 'configure', None)
    if original is None or getattr(original, '_ksvd_readers', False):
        return False

    @functools.wraps(original)
    def configure(*args, **kwargs):
        result = original(*args, **kwargs)
        manager = getattr(module, 'main_context_manager', None)
        if _state['url'] is not None and manager is not None:
            apply(manager, _state['url'])
        return result

    configure._ksvd_readers = True
    module.configure = configure
    return True


def install(modules=None):
    """Wrap cinder's db configure(conf) (import time, reads no config)."""
    modules = _modules(API_MODULES) if modules is None else modules
    return [module.__name__ for module in modules if _wrap_configure(module)]
