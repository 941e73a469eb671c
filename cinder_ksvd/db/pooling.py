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

"""Keep sqlite connections open between transactions.

oslo.db gives a sqlite file a NullPool: every transaction opens the file,
runs the connection pragmas, compiles its statements again and makes
sqlite read cinder's whole schema, and a writer does the last two while it
holds the write lock (BEGIN IMMEDIATE comes first).  For the files
configure() names, engines get a QueuePool instead: up to [database]
max_pool_size idle connections are kept, and a burst opens as many more as
it needs (no overflow limit, no waiting for a connection, as with
NullPool).

A pooled connection keeps the file it opened: when the file at the path is
no longer that file (replaced by a restore, or removed), the connection is
dropped at checkout and a new one opens the path again.  oslo.db already
drops connections a forked child inherited.  Other databases, in-memory
sqlite and files not named are left to oslo.db.
"""

import os
import sqlite3

from oslo_log import log as logging
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy import pool as sa_pool

from cinder_ksvd.db import placement

LOG = logging.getLogger(__name__)

# conn.info key: (st_dev, st_ino, path) of the file the connection opened.
OPENED = 'ksvd_sqlite_file'
DEFAULT_SIZE = 5
_state = {'paths': frozenset()}
_installed = []


class SqliteFilePool(sa_pool.QueuePool):
    """The pool of a sqlite file (a QueuePool our listeners recognise)."""


def resolve(mode, mount, network_fs):
    """Whether connection_pool applies ("auto": a local filesystem).

    :param mount: placement.Mount of the file, or None if unknown.
    """
    if mode == 'off':
        return False
    if mode == 'on':
        return True
    return mount is not None and mount.fstype not in network_fs


def configure(paths):
    """Pool the connections of engines created from now on for these files."""
    _state['paths'] = frozenset(os.path.abspath(p) for p in paths)


def enabled_paths():
    return sorted(_state['paths'])


def describe(max_pool_size):
    """How many idle connections a pool keeps, for the start-up log line."""
    size = DEFAULT_SIZE if max_pool_size is None else max_pool_size
    if size == 0:
        return 'no limit on idle connections'
    return 'up to %d idle connections' % size


def pool_args(url, engine_args, max_pool_size=None):
    """Turn oslo.db's engine arguments for url into pooled ones, in place.

    :returns: True when the engine will pool its connections.
    """
    path = placement.sqlite_path(url)
    if path is None or path not in _state['paths']:
        return False
    chosen = engine_args.get('poolclass') or url.get_dialect().get_pool_class(
        url)
    if not issubclass(chosen, sa_pool.NullPool):
        return False  # oslo.db or the caller chose a pool on purpose
    engine_args['poolclass'] = SqliteFilePool
    engine_args['pool_size'] = (DEFAULT_SIZE if max_pool_size is None
                                else max_pool_size)
    engine_args['max_overflow'] = -1
    # A pooled connection serves whichever thread checks it out next; the
    # pool hands it to one user at a time.
    engine_args.setdefault('connect_args', {})['check_same_thread'] = False
    return True


def _main_file(dbapi_connection):
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute('PRAGMA database_list')
        for _seq, name, filename in cursor.fetchall():
            if name == 'main':
                return filename or None
    finally:
        cursor.close()
    return None


def _identity(path):
    info = os.stat(path)
    return info.st_dev, info.st_ino


def on_connect(dbapi_connection, connection_record):
    """Remember which file a pooled connection opened."""
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    path = _main_file(dbapi_connection)
    if path:
        try:
            connection_record.info[OPENED] = _identity(path) + (path,)
        except OSError:
            connection_record.info.pop(OPENED, None)


def on_checkout(dbapi_connection, connection_record, connection_proxy):
    """Drop a connection whose file is no longer the one at its path."""
    opened = connection_record.info.get(OPENED)
    if opened is None:
        return
    if connection_record.info.get('pid', os.getpid()) != os.getpid():
        # Inherited through fork: oslo.db's guard drops it without closing
        # it (closing would act on the parent's sqlite state).
        return
    dev, ino, path = opened
    try:
        now = _identity(path)
    except OSError as exc:
        now = None
        why = 'is gone (%s)' % exc.strerror
    else:
        why = 'was replaced'
    if now == (dev, ino):
        return
    LOG.warning('sqlite file %s %s since this connection opened it: '
                'opening it again', path, why)
    raise sa_exc.DisconnectionError('sqlite file %s %s' % (path, why))


def _wrap(engines):
    original = engines._init_connection_args
    if getattr(original, '_ksvd_pooling', False):
        return False

    def _init_connection_args(url, engine_args, *args, **kwargs):
        # oslo.db pops max_pool_size for sqlite: read it first.
        kw = args[0] if args and isinstance(args[0], dict) else kwargs
        size = kw.get('max_pool_size')
        result = original(url, engine_args, *args, **kwargs)
        pool_args(url, engine_args, size)
        return result

    _init_connection_args._ksvd_pooling = True
    _init_connection_args.original = original
    engines._init_connection_args = _init_connection_args
    return True


def install():
    """Wrap oslo.db's engine argument set-up; attach the pool listeners."""
    if _installed:
        return False
    from oslo_db.sqlalchemy import engines
    _wrap(engines)
    event.listen(SqliteFilePool, 'connect', on_connect)
    event.listen(SqliteFilePool, 'checkout', on_checkout)
    _installed.append(True)
    return True
