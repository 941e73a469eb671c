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

"""The side-file write lock on real sqlite files and real processes.

Who holds or waits for the fcntl lock is read from /proc/locks, where the
kernel lists every POSIX lock with its owner's pid, and blocked waiters
with "->".
"""

import multiprocessing
import os
import signal
import sqlite3
import threading
import time
from unittest import mock

import fixtures
from oslo_db.sqlalchemy import enginefacade
from oslo_db.sqlalchemy import engines
import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import pool as sa_pool
from tests.unit import base

from cinder_ksvd.db import connection
from cinder_ksvd.db import placement
from cinder_ksvd.db import readers
from cinder_ksvd.db import writelock

FORK = multiprocessing.get_context('fork')
BOUND = 60  # seconds: a bound on waits for other processes, not a timing


def posix_locks(path):
    """{'held': set of pids, 'waiting': set of pids} of path's fcntl locks."""
    inode = os.stat(path).st_ino
    found = {'held': set(), 'waiting': set()}
    with open('/proc/locks') as handle:
        for line in handle:
            fields = line.split()[1:]
            waiting = fields[0] == '->'
            if waiting:
                fields = fields[1:]
            if fields[0] != 'POSIX':
                continue
            if int(fields[4].split(':')[-1]) != inode:
                continue
            found['waiting' if waiting else 'held'].add(int(fields[3]))
    return found


def wait_for(predicate, what):
    deadline = time.time() + BOUND
    while not predicate():
        if time.time() > deadline:
            raise AssertionError('gave up waiting for %s' % what)
        time.sleep(0.01)


def _hold(url, inside, leave):
    """Child: a writer transaction that stays open until told to leave."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        base.sql(conn, "INSERT INTO volumes (status) VALUES ('held')")
        inside.set()
        leave.wait(BOUND)
    engine.dispose()


def _write(url, status, done):
    """Child: one writer transaction."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        base.sql(conn, "INSERT INTO volumes (status) VALUES ('%s')"
                       % status)
    engine.dispose()
    done.set()


def _count(url, times):
    """Child: read-modify-write a counter, times times."""
    engine = sa.create_engine(url)
    for _ in range(times):
        with engine.begin() as conn:
            value = base.sql(
                conn,
                'SELECT n FROM counter').scalar()
            base.sql(conn, 'UPDATE counter SET n = %d' % (value + 1))
    engine.dispose()


class WriteLockTestCase(base.TestCase):

    def setUp(self):
        super(WriteLockTestCase, self).setUp()
        connection.install()
        patcher = mock.patch.dict(connection._settings)
        patcher.start()
        self.addCleanup(patcher.stop)
        connection._settings.update(connection.DEFAULTS,
                                    journal_mode='wal')
        self.useFixture(fixtures.MockPatchObject(connection, '_factories',
                                                 []))
        self.useFixture(fixtures.MockPatchObject(readers, '_state',
                                                 {'url': None}))
        self.useFixture(fixtures.MockPatchObject(
            writelock, '_state',
            {'paths': frozenset(), 'pid': None, 'locks': {}}))
        self.dir = self.make_tempdir()
        self.path = os.path.join(self.dir, 'cinder.sqlite')
        self.lockfile = self.path + writelock.SUFFIX
        self.url = 'sqlite:///%s' % self.path
        db = sqlite3.connect(self.path)
        db.execute('CREATE TABLE volumes (id INTEGER PRIMARY KEY, '
                   'status VARCHAR(32))')
        db.execute('CREATE TABLE counter (n INTEGER)')
        db.execute('INSERT INTO counter VALUES (0)')
        db.commit()
        db.execute('PRAGMA journal_mode = wal')
        db.close()
        writelock.configure([self.path])
        # At each BEGIN: the statement and whether this process then held
        # the fcntl lock.
        self.begins = []
        self.ends = []
        event.listen(sa_pool.Pool, 'connect', self._trace, insert=True)
        self.addCleanup(event.remove, sa_pool.Pool, 'connect', self._trace)

    def _trace(self, dbapi_connection, connection_record):
        if isinstance(dbapi_connection, sqlite3.Connection):
            dbapi_connection.set_trace_callback(self._statement)

    def _statement(self, sql):
        word = sql.upper().split(' ')[0]
        if word in ('BEGIN', 'COMMIT', 'ROLLBACK'):
            held = (os.path.exists(self.lockfile)
                    and os.getpid() in posix_locks(self.lockfile)['held'])
            (self.begins if word == 'BEGIN' else self.ends).append(
                (sql, held))

    def engine(self):
        engine = engines.create_engine(self.url)
        self.addCleanup(engine.dispose)
        return engine

    def held_here(self):
        return os.getpid() in posix_locks(self.lockfile)['held']

    def statuses(self):
        db = sqlite3.connect(self.path)
        try:
            return [r[0] for r in db.execute(
                'SELECT status FROM volumes ORDER BY id')]
        finally:
            db.close()

    def test_taken_before_begin_immediate_released_after_commit(self):
        engine = self.engine()
        with engine.begin() as conn:
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('creating')")
            self.assertTrue(self.held_here())
        self.assertEqual([('BEGIN IMMEDIATE', True)], self.begins)
        self.assertFalse(self.held_here())
        self.assertEqual(['creating'], self.statuses())

    def test_released_after_rollback(self):
        engine = self.engine()
        with engine.connect() as conn:
            trans = conn.begin()
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('creating')")
            self.assertTrue(self.held_here())
            trans.rollback()
            self.assertEqual([('ROLLBACK', True)], self.ends)
            self.assertFalse(self.held_here())
            self.assertNotIn(writelock.HELD, conn.info)
        self.assertEqual([], self.statuses())

    def test_released_after_an_exception_in_the_transaction(self):
        engine = self.engine()

        def fail():
            with engine.begin() as conn:
                base.sql(conn, "INSERT INTO volumes (status) VALUES "
                               "('creating')")
                raise ValueError('boom')

        self.assertRaises(ValueError, fail)
        self.assertFalse(self.held_here())
        self.assertEqual([], self.statuses())
        # The next transaction of this process is not blocked.
        with engine.begin() as conn:
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('available')")
        self.assertEqual(['available'], self.statuses())

    def test_released_when_begin_immediate_fails(self):
        connection._settings['busy_timeout'] = 0
        engine = sa.create_engine(self.url)
        self.addCleanup(engine.dispose)
        conn = engine.connect()
        other = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(other.close)
        other.execute('BEGIN IMMEDIATE')  # sqlite's lock, not ours
        self.assertRaisesRegex(sa.exc.OperationalError, 'database is locked',
                               conn.begin)
        self.assertNotIn(writelock.HELD, conn.info)
        self.assertFalse(self.held_here())
        conn.close()
        other.execute('ROLLBACK')
        with engine.begin() as conn:
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('creating')")
        self.assertEqual(['creating'], self.statuses())

    def test_released_when_the_connection_is_invalidated(self):
        # Plain SQLAlchemy: oslo.db's own sqlite rollback listener fails
        # on a rollback after invalidation (it reads conn.info).
        engine = sa.create_engine(self.url)
        self.addCleanup(engine.dispose)
        conn = engine.connect()
        trans = conn.begin()
        record_info = conn.info
        self.assertTrue(self.held_here())
        conn.invalidate()
        self.assertNotIn(writelock.HELD, record_info)
        self.assertFalse(self.held_here())
        trans.rollback()
        conn.close()
        with engine.begin() as conn:
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('creating')")
        self.assertEqual(['creating'], self.statuses())

    def test_released_when_the_pool_takes_the_connection_back(self):
        engine = self.engine()
        conn = engine.connect()
        conn.begin()
        record_info = conn.info
        self.assertIn(writelock.HELD, record_info)
        # What a checkin does with a connection whose transaction was not
        # ended through SQLAlchemy (e.g. a connection record returned by
        # a dying green thread).
        writelock.on_pool_event(None, conn.connection._connection_record)
        self.assertNotIn(writelock.HELD, record_info)
        self.assertFalse(self.held_here())
        conn.close()

    def test_reader_engine_does_not_take_it(self):
        manager = enginefacade.transaction_context()
        manager.configure(connection=self.url, slave_connection=None,
                          max_retries=0)
        self.assertTrue(readers.apply(manager, self.url))
        self.addCleanup(lambda: (manager._factory.get_writer_engine()
                                 .dispose(),
                                 manager._factory.get_reader_engine()
                                 .dispose()))

        @enginefacade.transaction_context_provider
        class Context(object):
            pass

        with manager.writer.using(Context()) as session:
            session.execute(sa.text("INSERT INTO volumes (status) VALUES "
                                    "('creating')"))
        with manager.reader.using(Context()) as session:
            self.assertEqual(1, session.execute(
                sa.text('SELECT count(*) FROM volumes')).scalar())
            self.assertFalse(self.held_here())
        self.assertEqual([('BEGIN IMMEDIATE', True), ('BEGIN', False)],
                         self.begins)

    def test_other_files_and_disabled(self):
        writelock.configure([])
        engine = self.engine()
        self.insert_one(engine)
        self.assertEqual([('BEGIN IMMEDIATE', False)], self.begins)
        self.assertFalse(os.path.exists(self.lockfile))

    def insert_one(self, engine):
        with engine.begin() as conn:
            base.sql(conn, "INSERT INTO volumes (status) VALUES "
                           "('creating')")

    def test_threads_of_one_process_queue(self):
        engine = self.engine()
        conn = engine.connect()
        trans = conn.begin()
        lock = writelock.lock_for(engine)
        # Note when the other thread reaches the (real) thread lock.
        real, reached = lock._lock, threading.Event()

        class Observed(object):
            def acquire(self, *args):
                reached.set()
                return real.acquire(*args)

            def release(self):
                return real.release()

        lock._lock = Observed()
        done = threading.Event()

        def other_thread():
            self.insert_one(engine)
            done.set()

        thread = threading.Thread(target=other_thread)
        thread.start()
        self.addCleanup(thread.join, BOUND)
        # It queues on the thread lock, not in sqlite's busy handler.
        wait_for(reached.is_set, 'the thread to queue on the lock')
        self.assertFalse(done.is_set())
        self.assertTrue(real.locked())
        trans.commit()
        conn.close()
        thread.join(BOUND)
        self.assertTrue(done.is_set())
        self.assertEqual(['creating'], self.statuses())

    def test_two_processes_serialize_on_the_lock(self):
        inside, leave, done = FORK.Event(), FORK.Event(), FORK.Event()
        holder = FORK.Process(target=_hold, args=(self.url, inside, leave))
        holder.start()
        self.addCleanup(holder.join, BOUND)
        self.addCleanup(leave.set)
        self.assertTrue(inside.wait(BOUND))
        self.assertEqual({holder.pid}, posix_locks(self.lockfile)['held'])
        writer = FORK.Process(target=_write,
                              args=(self.url, 'second', done))
        writer.start()
        self.addCleanup(writer.join, BOUND)
        # The second writer sleeps in the kernel's lock queue, where it
        # is woken on release (not in sqlite's polling busy handler).
        wait_for(lambda: writer.pid in posix_locks(self.lockfile)['waiting'],
                 'the second writer to queue on the lock')
        self.assertFalse(done.is_set())
        leave.set()
        holder.join(BOUND)
        self.assertTrue(done.wait(BOUND))
        writer.join(BOUND)
        self.assertEqual((0, 0), (holder.exitcode, writer.exitcode))
        self.assertEqual(['held', 'second'], self.statuses())

    def test_processes_and_threads_count_without_deadlock(self):
        procs = [FORK.Process(target=_count, args=(self.url, 40))
                 for _ in range(3)]
        for proc in procs:
            proc.start()
        engine = self.engine()
        for _ in range(40):
            with engine.begin() as conn:
                value = base.sql(conn, 'SELECT n FROM counter').scalar()
                base.sql(conn, 'UPDATE counter SET n = %d'
                               % (value + 1))
        for proc in procs:
            proc.join(BOUND)
        self.assertEqual([0, 0, 0], [p.exitcode for p in procs])
        db = sqlite3.connect(self.path)
        self.addCleanup(db.close)
        self.assertEqual(160,
                         db.execute('SELECT n FROM counter').fetchone()[0])

    def test_a_dead_holder_releases(self):
        inside, leave = FORK.Event(), FORK.Event()
        holder = FORK.Process(target=_hold, args=(self.url, inside, leave))
        holder.start()
        self.assertTrue(inside.wait(BOUND))
        self.assertEqual({holder.pid}, posix_locks(self.lockfile)['held'])
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(BOUND)
        self.assertEqual(-signal.SIGKILL, holder.exitcode)
        self.assertEqual(set(), posix_locks(self.lockfile)['held'])
        self.insert_one(self.engine())
        # The killed transaction never committed.
        self.assertEqual(['creating'], self.statuses())

    def test_a_forked_child_gets_its_own_lock(self):
        # A child forked while this thread holds the lock must wait for
        # it in the kernel (fcntl locks are not inherited), not take the
        # copied thread lock for its own.  (No sqlite transaction is open
        # across the fork: sqlite connections must not cross a fork.)
        lock = writelock.lock_for(self.engine())
        lock.acquire()
        done = FORK.Event()
        child = FORK.Process(target=_write, args=(self.url, 'child', done))
        child.start()
        self.addCleanup(child.join, BOUND)
        wait_for(lambda: child.pid in posix_locks(self.lockfile)['waiting'],
                 'the child to queue on the lock')
        self.assertFalse(done.is_set())
        lock.release()
        self.assertTrue(done.wait(BOUND))
        child.join(BOUND)
        self.assertEqual(0, child.exitcode)
        self.assertEqual(['child'], self.statuses())

    def test_released_after_the_commit_itself(self):
        # A writer woken by the release must find sqlite's lock free: the
        # lock is released after COMMIT ran, not at SQLAlchemy's commit
        # event (which fires before it).
        engine = self.engine()
        self.insert_one(engine)
        self.assertEqual([('COMMIT', True)], self.ends)
        self.assertFalse(self.held_here())


class ResolveTestCase(base.TestCase):

    def mount(self, fstype):
        return placement.Mount('/dev/x', '/', fstype, ['rw'])

    def resolve(self, mode, journal, fstype):
        mount = self.mount(fstype) if fstype else None
        return writelock.resolve(mode, journal, mount, placement.NETWORK_FS)

    def test_auto(self):
        self.assertTrue(self.resolve('auto', 'wal', 'ext4'))
        self.assertFalse(self.resolve('auto', 'persist', 'ext4'))
        self.assertFalse(self.resolve('auto', 'wal', None))

    def test_on_only_on_local_filesystems(self):
        self.assertTrue(self.resolve('on', 'persist', 'xfs'))
        self.assertFalse(self.resolve('on', 'persist', 'fuse.glusterfs'))
        self.assertFalse(self.resolve('on', 'persist', 'nfs4'))
        self.assertFalse(self.resolve('on', 'wal', None))

    def test_off(self):
        self.assertFalse(self.resolve('off', 'wal', 'ext4'))
