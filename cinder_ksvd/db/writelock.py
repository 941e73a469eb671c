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

"""A wake-on-release write lock in front of sqlite's BEGIN IMMEDIATE.

sqlite's busy handler waits for the write lock by sleeping (1, 2, 5, ...
100 ms) and trying again, so the lock is often free while every waiter
sleeps.  Here a writer transaction first takes an fcntl lock on a side
file (<db>.ksvd-writelock); the kernel wakes a waiter when the holder
releases it, and BEGIN IMMEDIATE then finds sqlite's lock free.

fcntl locks belong to the process, so the writer transactions of one
process queue on a threading lock first (green under eventlet's monkey
patching: a waiting green thread yields) and only the holder of that lock
takes the fcntl lock.  Reader-engine transactions never take it.  It is
an optimisation only: sqlite's own locking still guarantees correctness,
and when the side file cannot be used the transaction goes on without it.
Local filesystems only: fcntl locks over a network filesystem are as slow
as the polling they would replace, or not shared at all.
"""

import fcntl
import os
import threading

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

SUFFIX = '.ksvd-writelock'
# conn.info (the pool's connection record) key: the lock this connection
# holds.  Shared by the Connection and the pool events, so a connection
# that goes back to the pool or is invalidated releases it.
HELD = 'ksvd_writelock'

# Paths whose writer transactions take the lock (configure()), and the
# per-process locks (rebuilt after fork: fcntl locks are not inherited and
# a thread lock may have been copied held).
_state = {'paths': frozenset(), 'pid': None, 'locks': {}}
_guard = []


def resolve(mode, journal_mode, mount, network_fs):
    """Whether write_lock applies to a file ("auto": local disk with WAL).

    :param mount: placement.Mount of the file, or None if unknown.
    """
    if mode == 'off' or mount is None or mount.fstype in network_fs:
        return False
    return mode == 'on' or journal_mode == 'wal'


def configure(paths):
    """Take the lock for writer transactions on these sqlite files."""
    _state['paths'] = frozenset(os.path.abspath(p) for p in paths)


def enabled_paths():
    return sorted(_state['paths'])


def _get_ident():
    # Looked up at call time: eventlet patches these to green thread ids.
    get_ident = getattr(threading, 'get_ident', None)
    if get_ident is None:  # Python 2.7
        import thread
        get_ident = thread.get_ident
    return get_ident()


class WriteLock(object):
    """The write lock of one sqlite file in this process.

    Reentrant per (green) thread: a thread that opens a second writer
    transaction while holding one does not wait for itself here (sqlite
    then answers as it would without this lock).
    """

    def __init__(self, db_path):
        self.path = db_path + SUFFIX
        self.db_path = db_path
        self.pid = os.getpid()
        # Created after monkey patching (first use), so green under eventlet.
        self._lock = threading.Lock()
        self._owner = None
        self._depth = 0
        self._fd = None
        self._warned = False

    def _open(self):
        flags = os.O_RDWR | os.O_CREAT | getattr(os, 'O_CLOEXEC', 0)
        try:
            mode = os.stat(self.db_path).st_mode & 0o666
        except OSError:
            mode = 0o644
        fd = os.open(self.path, flags, mode)
        if os.geteuid() == 0:
            # As sqlite does for -wal/-shm: root (cinder-manage) must not
            # leave a file the service user cannot open.
            try:
                st = os.stat(self.db_path)
                os.fchown(fd, st.st_uid, st.st_gid)
            except OSError:
                pass
        return fd

    def acquire(self):
        """Take the lock; False if only the thread lock could be taken."""
        me = _get_ident()
        if self._owner == me:
            self._depth += 1
            return True
        self._lock.acquire()
        self._owner = me
        self._depth = 1
        try:
            if self._fd is None:
                self._fd = self._open()
            # Blocking: the kernel wakes us when the holder releases.
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
        except (IOError, OSError) as exc:
            if not self._warned:
                LOG.warning('sqlite write lock %s not used: %s (sqlite\'s '
                            'own locking still applies)', self.path, exc)
                self._warned = True
            self._close_fd()
            return False
        return True

    def release(self):
        if self._depth > 1:
            self._depth -= 1
            return
        if self._fd is not None:
            try:
                fcntl.lockf(self._fd, fcntl.LOCK_UN)
            except (IOError, OSError):
                self._close_fd()  # closing the file drops the lock too
        self._owner = None
        self._depth = 0
        self._lock.release()

    def _close_fd(self):
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass


def _engine_path(engine):
    database = getattr(engine.url, 'database', None)
    if not database or database == ':memory:':
        return None
    return os.path.abspath(database)


def lock_for(engine):
    """This process's write lock for engine's file, or None."""
    if not _state['paths']:
        return None
    path = _engine_path(engine)
    if path not in _state['paths']:
        return None
    pid = os.getpid()
    if _state['pid'] != pid:
        _state['pid'] = pid
        _state['locks'] = {}
    locks = _state['locks']
    found = locks.get(path)
    if found is None:
        if not _guard:
            _guard.append(threading.Lock())
        with _guard[0]:
            found = locks.setdefault(path, WriteLock(path))
    return found


def acquire(conn):
    """Before BEGIN IMMEDIATE on a writer connection (connection.on_begin)."""
    if not _state['paths']:
        return
    lock = lock_for(conn.engine)
    if lock is None or HELD in conn.info:
        return
    _wrap_dialect(conn.dialect)
    lock.acquire()
    conn.info[HELD] = lock


def release_info(info):
    """Release the lock recorded in a connection's info, if any."""
    lock = info.pop(HELD, None) if info is not None else None
    if lock is not None and lock.pid == os.getpid():
        lock.release()  # a lock from before a fork is not ours to release


def release(conn):
    """BEGIN IMMEDIATE failed: nothing to commit, release now."""
    release_info(conn.info)


def _wrap_dialect(dialect):
    """Release after the real COMMIT or ROLLBACK, not before it.

    SQLAlchemy's commit and rollback events fire before the dialect ends
    the transaction; a writer woken then would find sqlite's lock still
    held and poll for it.  The dialect (one per engine, shared with its
    pool's reset) gets the connection record's proxy, whose info holds
    the lock.
    """
    if getattr(dialect, '_ksvd_writelock', False):
        return
    for name in ('do_commit', 'do_rollback'):
        setattr(dialect, name, _releasing(getattr(dialect, name)))
    dialect._ksvd_writelock = True


def _releasing(end):
    def wrapper(dbapi_connection):
        try:
            return end(dbapi_connection)
        finally:
            release_info(getattr(dbapi_connection, 'info', None))
    return wrapper


def on_pool_event(dbapi_connection, connection_record, *args):
    """Checked in, reset, invalidated or closed: never keep the lock."""
    release_info(getattr(connection_record, 'info', None))
