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

"""The sqlite file as a file: WAL checkpoints and consistent copies.

In WAL mode the latest commits live in ``<file>-wal`` until sqlite
checkpoints them into the file, so copying the file alone can give an
old or even empty database.  checkpoint() moves the WAL into the file
(``ksvd-cinder-manage db sync`` runs it; checkpoint_at_exit() runs it when
a service exits cleanly); backup() copies a live database consistently
(``ksvd-cinder-manage db backup``).

Python 2.7 compatible (the legacy targets): sqlite3.Connection.backup is
Python 3.7+, so backup() falls back to copying the file while holding
sqlite's write lock (see _copy_locked).
"""

import atexit
import os
import shutil
import sqlite3
import stat
import time

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

# A service exiting while others still use the file must not hang: at exit
# the checkpoint waits at most this long for readers and the writer, then
# checkpoints what it can (sqlite degrades TRUNCATE to PASSIVE).
EXIT_BUSY_TIMEOUT_MS = 2000
_exit = {'path': None, 'registered': False}


class BackupError(Exception):
    """db backup cannot be done; str() is one line for the operator."""


class CheckpointIncomplete(Exception):
    """Readers or a writer kept frames in the WAL; str() is one line."""


def _connect(path, busy_timeout_ms):
    # isolation_level None: no implicit BEGIN from pysqlite; transactions
    # are opened explicitly below.
    return sqlite3.connect(path, timeout=busy_timeout_ms / 1000.0,
                           isolation_level=None)


def _journal_mode(conn):
    return str(conn.execute('PRAGMA journal_mode').fetchone()[0]).lower()


def checkpoint(path, busy_timeout_ms=30000, mode='TRUNCATE'):
    """Checkpoint the WAL of the sqlite file path into the file.

    Returns None when there is nothing to do (no such file: it is not
    created; not in WAL mode), else sqlite's (busy, log, checkpointed).
    Raises sqlite3.Error, and CheckpointIncomplete when frames stayed in
    the WAL (other processes kept it busy for busy_timeout_ms).  sqlite
    before 3.8.8 (EL7) knows no TRUNCATE and runs a PASSIVE checkpoint:
    the file then holds everything, the -wal file keeps its size.
    """
    if mode not in ('PASSIVE', 'FULL', 'RESTART', 'TRUNCATE'):
        raise ValueError('checkpoint mode %r' % (mode,))
    if not os.path.isfile(path):
        return None
    conn = _connect(path, busy_timeout_ms)
    try:
        if _journal_mode(conn) != 'wal':
            return None
        row = tuple(conn.execute('PRAGMA wal_checkpoint(%s)'
                                 % mode).fetchone())
    finally:
        conn.close()
    busy, log, done = row
    if busy or done < log:
        raise CheckpointIncomplete(
            '%d of %d WAL frames of %s checkpointed: other processes kept '
            'the database busy' % (max(done, 0), log, path))
    return row


def _checkpoint_at_exit():
    path = _exit['path']
    if path is None:
        return
    try:
        checkpoint(path, EXIT_BUSY_TIMEOUT_MS)
    except CheckpointIncomplete as exc:
        # Normal while other services still use the file: the last one to
        # exit checkpoints it.
        LOG.info('WAL checkpoint at exit: %s', exc)
    except Exception as exc:  # never raise at exit
        LOG.warning('WAL checkpoint of %s at exit failed: %s', path, exc)
    else:
        LOG.debug('WAL of %s checkpointed at exit', path)


def checkpoint_at_exit(path):
    """Checkpoint the WAL of path when this process exits cleanly.

    One handler per process (atexit; forked workers leave with os._exit
    and skip it, their parent runs it); a later call replaces the path,
    None cancels.  Never raises at exit: a failure is logged.
    """
    _exit['path'] = path
    if path is not None and not _exit['registered']:
        atexit.register(_checkpoint_at_exit)
        _exit['registered'] = True


def _online_backup(conn):
    """sqlite3.Connection.backup (Python 3.7+), or None."""
    return getattr(conn, 'backup', None)


def _copy_online(source, tmp, busy_timeout_ms):
    src = _connect(source, busy_timeout_ms)
    try:
        run = _online_backup(src)
        if run is None:
            return False
        dst = _connect(tmp, busy_timeout_ms)
        try:
            # pages=-1 (the default): one step, one read transaction on the
            # source, so the copy is one consistent snapshot.
            run(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return True


def _copy_locked(source, tmp, busy_timeout_ms):
    """Copy the file while holding sqlite's write lock (no backup API).

    BEGIN IMMEDIATE takes the write lock (waiting up to the busy timeout
    for a writer to finish), so no transaction commits until the copy is
    done; services' writers wait in their own busy timeout.  A shared lock
    alone (BEGIN; SELECT) would suffice with a rollback journal, but not
    in WAL mode, where writers commit into the WAL past a reader.  In WAL
    mode a second connection then checkpoints (PASSIVE: it needs no write
    lock) until every frame is in the file; readers on older snapshots are
    waited for.  Only then is the file copied.
    """
    holder = _connect(source, busy_timeout_ms)
    try:
        holder.execute('BEGIN IMMEDIATE')
        # A read: rolls back a hot journal a crashed writer left.
        holder.execute('SELECT COUNT(*) FROM sqlite_master').fetchone()
        if _journal_mode(holder) == 'wal':
            deadline = time.time() + busy_timeout_ms / 1000.0
            checker = _connect(source, busy_timeout_ms)
            try:
                while True:
                    busy, log, done = checker.execute(
                        'PRAGMA wal_checkpoint(PASSIVE)').fetchone()
                    if done >= log:
                        break
                    if time.time() > deadline:
                        raise BackupError(
                            'readers kept %d of %d WAL frames of %s from '
                            'being checkpointed' % (log - done, log, source))
                    time.sleep(0.05)
            finally:
                checker.close()
        # Closing this second descriptor of the file drops the process's
        # POSIX locks on it (rollback-journal mode keeps them there; WAL
        # mode's are on -shm): only once the copy is complete, and the
        # holder wrote nothing.
        shutil.copyfile(source, tmp)
    finally:
        holder.close()  # rolls the (read-only) transaction back


def _summary(tmp):
    """Make the copy one file (no WAL); its quick_check, tables, rows."""
    conn = _connect(tmp, 30000)
    try:
        conn.execute('PRAGMA journal_mode = DELETE').fetchall()
        result = [str(row[0]) for row in
                  conn.execute('PRAGMA quick_check').fetchall()]
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        rows = 0
        for name in tables:
            rows += conn.execute('SELECT COUNT(*) FROM "%s"'
                                 % name.replace('"', '""')).fetchone()[0]
    finally:
        conn.close()
    return '; '.join(result), len(tables), rows


def _same_owner_and_mode(source, copy):
    """The copy gets the file's owner (when run as root) and mode."""
    info = os.stat(source)
    try:
        os.chown(copy, info.st_uid, info.st_gid)
    except OSError:
        pass  # not root: the copy belongs to the caller
    os.chmod(copy, stat.S_IMODE(info.st_mode))


def _fsync(path, directory=False):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError:
        if not directory:  # some filesystems refuse fsync on directories
            raise
    finally:
        os.close(fd)


def _remove(paths):
    for path in paths:
        try:
            os.remove(path)
        except OSError:
            if os.path.lexists(path):
                raise


SIDE_FILES = ('-wal', '-shm', '-journal')


def backup(source, dest, force=False, busy_timeout_ms=30000):
    """Copy the sqlite file source to dest, consistently, services running.

    Writes dest + '.tmp', checks it (PRAGMA quick_check), then renames it
    to dest, with the owner (when run as root) and mode of source.  The
    copy is a single file in rollback-journal (delete) mode,
    whatever the source's mode: services set their own journal mode when
    they open it.  With force an existing dest is replaced and its -wal,
    -shm and -journal files removed (they belong to the old file).

    Returns a dict: path, size, tables, rows, integrity, method
    ('online backup API' or 'file copy under the write lock').  Raises
    BackupError with a one-line reason.
    """
    source = os.path.abspath(source)
    dest = os.path.abspath(dest)
    if not os.path.isfile(source):
        raise BackupError('no database file at %s' % source)
    if os.path.lexists(dest):
        if not force:
            raise BackupError('%s already exists (--force replaces it)'
                              % dest)
        if os.path.isdir(dest):
            raise BackupError('%s is a directory' % dest)
        if os.path.realpath(dest) == os.path.realpath(source):
            raise BackupError('%s is the database itself' % dest)
    if not os.path.isdir(os.path.dirname(dest)):
        raise BackupError('no directory %s' % os.path.dirname(dest))
    tmp = dest + '.tmp'
    temporaries = [tmp] + [tmp + suffix for suffix in SIDE_FILES]
    try:
        _remove(temporaries)  # a previous, interrupted run's
        if _copy_online(source, tmp, busy_timeout_ms):
            method = 'online backup API'
        else:
            _copy_locked(source, tmp, busy_timeout_ms)
            method = 'file copy under the write lock'
        integrity, tables, rows = _summary(tmp)
        if integrity != 'ok':
            raise BackupError('the copy %s failed PRAGMA quick_check: %s'
                              % (tmp, integrity))
        _same_owner_and_mode(source, tmp)
        _fsync(tmp)
        if force:
            _remove([dest + suffix for suffix in SIDE_FILES])
        os.rename(tmp, dest)
        _fsync(os.path.dirname(dest), directory=True)
    except BackupError:
        _remove_quietly(temporaries)
        raise
    except (sqlite3.Error, IOError, OSError) as exc:
        _remove_quietly(temporaries)
        raise BackupError('copying %s: %s' % (
            source, (str(exc).splitlines() or [repr(exc)])[0]))
    return {'path': dest, 'size': os.path.getsize(dest), 'tables': tables,
            'rows': rows, 'integrity': integrity, 'method': method}


def _remove_quietly(paths):
    try:
        _remove(paths)
    except OSError:
        pass
