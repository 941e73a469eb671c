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

"""sqlite connection setup: pragmas, and BEGIN IMMEDIATE for writers.

Listeners are attached at class level (every Pool and Engine), so engines
cinder, cinder-manage and oslo.db build later all get them, and class-level
listeners run before the per-engine ones oslo.db adds: our BEGIN IMMEDIATE
is emitted first and oslo.db's deferred BEGIN then sees the transaction
marker it uses itself and stays silent.  Non-sqlite connections are left
untouched.  Settings are read from [ksvd_database] once config is parsed.

Every transaction gets BEGIN IMMEDIATE, except on an enginefacade's
separate reader engine (cinder_ksvd.db.readers registers the factory with
watch_factory()): reader transactions get a deferred BEGIN.
"""

import sqlite3

from sqlalchemy import engine as sa_engine
from sqlalchemy import event
from sqlalchemy import pool as sa_pool

from cinder_ksvd.db import writelock

# oslo.db's own sqlite listeners use this conn.info key as the "BEGIN was
# emitted" marker and pop it on commit/rollback; we share it.
IN_TRANSACTION = 'in_transaction'

DEFAULTS = {
    'enabled': True,
    'busy_timeout': 30000,
    'journal_mode': 'persist',
    'synchronous': 'full',
    'begin_immediate': True,
    'reader_engine': True,
}
_settings = dict(DEFAULTS)
_installed = []
# enginefacade factories whose separate reader engine gets deferred BEGIN.
_factories = []


def configure(conf, enabled, journal_mode=None):
    """Take the settings from parsed config (the hook's configured()).

    :param journal_mode: the mode "auto" stands for on this file's
        filesystem (placement.effective_journal_mode); "auto" left
        unresolved means persist.
    """
    group = conf.ksvd_database
    journal = journal_mode or group.journal_mode
    _settings.update(enabled=bool(enabled),
                     busy_timeout=group.busy_timeout,
                     journal_mode='persist' if journal == 'auto' else journal,
                     synchronous=group.synchronous,
                     begin_immediate=group.begin_immediate,
                     reader_engine=group.reader_engine)
    return dict(_settings)


def watch_factory(factory):
    """Treat factory's reader engine, once started, as a reader engine."""
    if not any(known is factory for known in _factories):
        _factories.append(factory)


def is_reader_engine(engine):
    """True for the separate reader engine of a watched factory.

    The engine a factory uses for both modes (no slave_connection) is a
    writer engine.
    """
    for factory in _factories:
        reader = getattr(factory, '_reader_engine', None)
        if (reader is engine
                and getattr(factory, '_writer_engine', None) is not engine):
            return True
    return False


def settings():
    return dict(_settings)


def _is_sqlite(dbapi_connection):
    return isinstance(dbapi_connection, sqlite3.Connection)


def on_connect(dbapi_connection, connection_record):
    """Set the pragmas on each new sqlite connection."""
    if not _settings['enabled'] or not _is_sqlite(dbapi_connection):
        return
    cursor = dbapi_connection.cursor()
    try:
        # Values come from validated options (int, or one of the choices).
        cursor.execute('PRAGMA busy_timeout = %d'
                       % int(_settings['busy_timeout']))
        cursor.execute('PRAGMA journal_mode = %s' % _settings['journal_mode'])
        cursor.fetchall()
        cursor.execute('PRAGMA synchronous = %s' % _settings['synchronous'])
    finally:
        cursor.close()
    if _settings['begin_immediate']:
        # pysqlite must not emit its own deferred BEGIN.
        dbapi_connection.isolation_level = None


def _execute(conn, sql):
    run = getattr(conn, 'exec_driver_sql', None)
    if run is not None:
        return run(sql)
    return conn.execute(sql)  # SQLAlchemy < 1.4 (cinder 15/16)


def on_begin(conn):
    """Emit BEGIN IMMEDIATE: take the write lock when the transaction starts.

    A deferred BEGIN takes it at the first write, and sqlite fails that
    upgrade at once ("database is locked") when another connection holds a
    read lock, whatever the busy timeout.  Transactions on a reader engine
    only read: a deferred BEGIN lets them run alongside each other.
    """
    if (not _settings['enabled'] or not _settings['begin_immediate']
            or conn.dialect.name != 'sqlite'):
        return
    if IN_TRANSACTION in conn.info:
        return
    if _factories and is_reader_engine(conn.engine):
        _execute(conn, 'BEGIN')
    else:
        # Wait for the write lock where the kernel wakes us (writelock),
        # not in sqlite's sleep-polling busy handler.
        writelock.acquire(conn)
        try:
            _execute(conn, 'BEGIN IMMEDIATE')
        except BaseException:
            writelock.release(conn)
            raise
    conn.info[IN_TRANSACTION] = True


def on_end(conn):
    if conn.invalidated:
        return  # its connection record was reset by on_invalidate
    conn.info.pop(IN_TRANSACTION, None)


def on_invalidate(dbapi_connection, connection_record, *args):
    """The transaction went with the connection: no marker, no lock."""
    connection_record.info.pop(IN_TRANSACTION, None)
    writelock.release_info(connection_record.info)


def on_checkin(dbapi_connection, connection_record):
    """Back in the pool (rolled back): no transaction is open any more.

    A pooled connection's record outlives the Connection; a marker left
    there would make the next transaction skip its BEGIN and run in
    autocommit.
    """
    connection_record.info.pop(IN_TRANSACTION, None)


def install():
    """Attach the class-level listeners once."""
    if _installed:
        return False
    event.listen(sa_pool.Pool, 'connect', on_connect)
    event.listen(sa_engine.Engine, 'begin', on_begin)
    event.listen(sa_engine.Engine, 'commit', on_end)
    event.listen(sa_engine.Engine, 'rollback', on_end)
    event.listen(sa_pool.Pool, 'invalidate', on_invalidate)
    event.listen(sa_pool.Pool, 'checkin', on_checkin)
    for name in ('checkin', 'reset', 'close'):
        event.listen(sa_pool.Pool, name, writelock.on_pool_event)
    _installed.append(True)
    return True
