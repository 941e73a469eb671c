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

"""sqlite/GlusterFS-safe database layer (the [ksvd] database hook).

install() (import time, no config): exception filters in front of
oslo.db's, class-level connection listeners, retry wrappers on the writes
cinder does not retry, a wrapper on cinder's db configure().
configured(conf): read [ksvd_database], resolve journal_mode "auto" by the
file's filesystem, give reader transactions their own engine, checkpoint
a WAL file at clean exit (sqlitefile).
preflight(conf): refuse to start on an unsafe or corrupt sqlite file.
Everything but reconnect (waiting for a restarting MariaDB/PostgreSQL
server, reconnect.py) steps aside for other databases, and all of it when
the switch is off.
"""

import importlib
import os
import sys

from oslo_log import log as logging

from cinder_ksvd.db import connection
from cinder_ksvd.db import exc_filters
from cinder_ksvd.db import placement
from cinder_ksvd.db import pooling
from cinder_ksvd.db import readers
from cinder_ksvd.db import reconnect
from cinder_ksvd.db import retry
from cinder_ksvd.db import sqlitefile
from cinder_ksvd.db import verdicts
from cinder_ksvd.db import writelock
from cinder_ksvd import exception

LOG = logging.getLogger(__name__)


class UnsafeDatabase(exception.StartupRefused):
    """The sqlite file must not be used as configured; str() is one line."""


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


def install():
    exc_filters.install()
    connection.install()
    pooling.install()
    readers.install()
    reconnect.install()
    # cinder 29: cinder.db.api is the implementation.  Before: it forwards
    # to cinder.db.sqlalchemy.api (IMPL), where cinder's retries sit.
    retry.install(_modules(('cinder.db.api', 'cinder.db')),
                  impls=_modules(('cinder.db.sqlalchemy.api',)))
    # Outermost: repeats a call whose connection broke before any COMMIT.
    reconnect.install_api(_modules(('cinder.db.api', 'cinder.db')))


def _placement(conf):
    """The sqlite file's path and mount (None, None: no sqlite file)."""
    url = conf.database.connection or ''
    path = placement.sqlite_path(url) if url.startswith('sqlite') else None
    if path is None:
        return None, None
    try:
        mount = placement.mount_of(path, placement.read_mounts())
    except (IOError, OSError):
        mount = None  # filesystem unknown: not known to be local
    return path, mount


def _journal_mode(conf, path, mount):
    """The journal mode for this file ("auto" resolved by its mount)."""
    configured = conf.ksvd_database.journal_mode
    if configured != 'auto' or path is None:
        return configured
    return placement.effective_journal_mode(configured, mount)


def _write_lock(conf, journal, path, mount):
    """Configure the side-file write lock; True if it is used."""
    group = conf.ksvd_database
    use = (path is not None and group.begin_immediate
           and writelock.resolve(group.write_lock, journal, mount,
                                 placement.NETWORK_FS))
    if (path is not None and group.write_lock == 'on' and not use
            and group.begin_immediate):
        LOG.warning('[ksvd_database] write_lock = on ignored for %s: not '
                    'known to be on a local filesystem (%s)', path, mount)
    writelock.configure([path] if use else [])
    return use


def _pool(conf, path, mount):
    """Configure connection pooling for the sqlite file; True if used."""
    use = path is not None and pooling.resolve(
        conf.ksvd_database.connection_pool, mount, placement.NETWORK_FS)
    pooling.configure([path] if use else [])
    return use


def _log_patched():
    names = retry.patched_names()
    if names:
        LOG.info('This cinder retries %s itself (patched cinder, '
                 'patches/): the runtime retry wrappers step aside for '
                 'them', ', '.join(names))


def configured(conf):
    _log_patched()
    exc_filters.set_enabled(True)
    path, mount = _placement(conf)
    journal = _journal_mode(conf, path, mount)
    connection.configure(conf, True, journal)
    locked = _write_lock(conf, journal, path, mount)
    pooled = _pool(conf, path, mount)
    retry.configure(conf, True)
    reconnect.configure(conf.ksvd_database.reconnect_wait)
    separate = readers.configure(conf, True)
    # A clean exit leaves the file complete (a copy of it alone is the
    # whole database): issue 23.
    sqlitefile.checkpoint_at_exit(path if journal == 'wal' else None)
    url = conf.database.connection or ''
    if url.startswith('sqlite'):
        group = conf.ksvd_database
        begin = 'IMMEDIATE' if group.begin_immediate else 'deferred'
        if separate and group.begin_immediate:
            begin = 'IMMEDIATE for writers, deferred on the reader engine'
        LOG.info('sqlite database layer: busy_timeout %(busy)d ms, journal '
                 '%(journal)s, synchronous %(sync)s, BEGIN %(begin)s, '
                 'retried writes: %(names)s, write lock %(lock)s, '
                 'connection pool %(pool)s',
                 {'busy': group.busy_timeout,
                  'journal': journal if journal == group.journal_mode
                  else '%s (%s)' % (journal, group.journal_mode),
                  'sync': group.synchronous,
                  'begin': begin,
                  'lock': 'on' if locked else 'off',
                  'pool': (pooling.describe(
                      getattr(conf.database, 'max_pool_size', None))
                      if pooled else 'off (a connection per transaction)'),
                  'names': ', '.join(retry.wrapped_names()) or 'none'})
    elif url:
        LOG.info('Database connections wait up to %d s for a server that '
                 'refuses them ([ksvd_database] reconnect_wait)',
                 conf.ksvd_database.reconnect_wait)


def disable(conf):
    """The switch is off: every part calls straight through."""
    exc_filters.set_enabled(False)
    connection.configure(conf, False)
    reconnect.configure(0)
    writelock.configure([])
    pooling.configure([])
    retry.configure(conf, False)
    readers.configure(conf, False)
    sqlitefile.checkpoint_at_exit(None)


def preflight(conf, service=None):
    """Refuse an unsafe placement or a corrupt file before starting.

    :param service: what is starting (recorded with this host's verdict).
    """
    url = conf.database.connection or ''
    path = placement.sqlite_path(url) if url else None
    if path is None:
        return
    group = conf.ksvd_database
    mounts = placement.read_mounts()
    mount = placement.mount_of(path, mounts)
    journal = placement.effective_journal_mode(group.journal_mode, mount)
    found = placement.problems(mount, journal_mode=journal,
                               **placement.gluster_facts(mount))
    if mount is not None and mount.fstype in placement.NETWORK_FS:
        # Where the other hosts sharing the file see it (db check).
        try:
            verdicts.record(path, mount, found, service or os.path.basename(
                sys.argv[0] if sys.argv else '?'))
        except (IOError, OSError) as exc:
            LOG.warning('cannot record this host\'s placement verdict for '
                        '%s next to it (%s): ksvd-cinder-manage db check on '
                        'other hosts will not see this one', path, exc)
    if found and not group.allow_unsafe_placement:
        raise UnsafeDatabase(
            'sqlite file %s is unsafe: %s; %s, or set [ksvd_database] '
            'allow_unsafe_placement = true' % (
                path, '; '.join(found), placement.fix_hint(mount)))
    if found:
        LOG.error('sqlite file %s is unsafe (%s), started anyway because '
                  '[ksvd_database] allow_unsafe_placement = true',
                  path, '; '.join(found))
    if group.check_integrity_on_start and os.path.exists(path):
        result = placement.quick_check(path)
        if result != 'ok':
            raise UnsafeDatabase('sqlite file %s failed PRAGMA quick_check: '
                                 '%s; restore it from a backup'
                                 % (path, result))
