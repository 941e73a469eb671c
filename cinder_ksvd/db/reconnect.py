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

"""Wait for a database server that is restarting, instead of failing.

When MariaDB (or a Galera node) restarts, cinder's pooled connections die
and every new connection is refused until the server is back.  oslo.db
notices the dead connections and reconnects, but a refused reconnect fails
the call, and cinder-volume then leaves the volume it was working on in
``creating`` or ``deleting`` for good (measured: tests/fault).

This waits, with backoff, while a *new* connection cannot be opened, for
at most ``[ksvd_database] reconnect_wait`` seconds.  Opening a connection
happens before any statement of the transaction that needs it, so waiting
and trying again can never repeat or lose a write, whatever the caller
does.  A transaction whose connection breaks in the middle is not retried
here: its outcome may be unknown.  Refusals that waiting cannot cure
(wrong password, unknown database) fail at once.  sqlite is left alone.

A connection can also break in the middle of a transaction: the server
went down while a statement ran (measured: a read at the start of
cinder-volume's delete, which then leaves the volume in ``deleting``).  The
server rolls back a transaction whose connection is lost before COMMIT, so
repeating the DB API call is then safe.  wrap_api() retries a cinder DB API
call on DBConnectionError when no COMMIT was sent during the call, the
call is not part of a caller's transaction, and less than reconnect_wait
has passed; after a COMMIT was sent the outcome is unknown and the error
goes to the caller, as in stock cinder.  One exception, worker_create
(measured: a lost COMMIT of the worker row cinder's API writes before it
sends a delete left the volume in ``deleting``): what it wrote is read
back; the row is there, so the call is done, or it is not, so the call is
repeated.
"""

import copy
import functools
import inspect
import random
import threading
import time

from oslo_db import exception as db_exc
from oslo_log import log as logging
from sqlalchemy.engine import Engine
from sqlalchemy import event

LOG = logging.getLogger(__name__)

# MySQL/MariaDB client errors that mean "server not there (yet)":
# 2002/2003 cannot connect (socket, TCP), 2006 gone away, 2013 lost during
# the handshake, 1040 too many connections, 1053 server shutting down.
MYSQL_TRANSIENT = frozenset((1040, 1053, 2002, 2003, 2006, 2013))

_settings = {'wait': 0.0, 'interval': 0.5, 'max_interval': 5.0}
_outage = {'since': None, 'attempts': 0}
_lock = threading.Lock()
_installed = []


def configure(wait, interval=0.5, max_interval=5.0):
    _settings.update(wait=float(wait), interval=float(interval),
                     max_interval=float(max_interval))
    _outage.update(since=None, attempts=0)
    return dict(_settings)


def transient(dialect, exc):
    """True when exc, raised while connecting, may pass by waiting."""
    if dialect.name == 'mysql':
        code = exc.args[0] if getattr(exc, 'args', None) else None
        return code in MYSQL_TRANSIENT
    if dialect.name == 'postgresql':
        text = str(exc).lower()
        return ('could not connect' in text or 'connection refused' in text
                or 'the database system is starting up' in text
                or 'the database system is shutting down' in text)
    return False


def _where(cparams):
    host = cparams.get('host') or cparams.get('unix_socket') or 'localhost'
    port = cparams.get('port')
    return '%s:%s' % (host, port) if port else str(host)


def on_do_connect(dialect, conn_rec, cargs, cparams):
    """Open the DBAPI connection ourselves, waiting out refusals."""
    wait = _settings['wait']
    if wait <= 0 or dialect.name == 'sqlite':
        return None  # SQLAlchemy connects as usual
    deadline = time.time() + wait
    delay = _settings['interval']
    first = None
    while True:
        try:
            conn = dialect.connect(*cargs, **cparams)
        except dialect.dbapi.Error as exc:
            if not transient(dialect, exc) or time.time() >= deadline:
                if first is not None:
                    LOG.error('Database at %s still unreachable after '
                              '%.1f s ([ksvd_database] reconnect_wait = '
                              '%g): %s', _where(cparams),
                              time.time() - first, wait, exc)
                raise
            if first is None:
                first = time.time()
                _note_failure(cparams, exc, wait)
            time.sleep(min(delay, max(deadline - time.time(), 0))
                       * random.uniform(0.8, 1.0))
            delay = min(delay * 2, _settings['max_interval'])
            continue
        _note_success(cparams)
        return conn


def _note_failure(cparams, exc, wait):
    with _lock:
        _outage['attempts'] += 1
        if _outage['since'] is None:
            _outage['since'] = time.time()
            LOG.warning('Database at %s refuses connections (%s); waiting '
                        'up to %g s for it before failing the call',
                        _where(cparams), exc, wait)


def _note_success(cparams):
    with _lock:
        since = _outage['since']
        if since is None:
            return
        LOG.warning('Database at %s reachable again after %.1f s',
                    _where(cparams), time.time() - since)
        _outage.update(since=None, attempts=0)


# Per thread (greenthread under eventlet): is a wrapped call running, and
# did it send a COMMIT.
_call = threading.local()
_wrapped = {}


def on_commit(conn):
    """Engine 'commit', before the DBAPI commit: from now on unknown."""
    if getattr(_call, 'active', False):
        _call.commit_sent = True


def _in_transaction(context):
    try:
        return getattr(context, 'transaction_ctx', None) is not None
    except Exception:  # no enginefacade state on this context
        return False


def _snapshot(args, kwargs):
    """Copies of the container arguments, for a repeat of the call.

    cinder's DB functions may consume their arguments (volume_update pops
    'metadata'); a repeat must see what the caller passed.
    """
    def one(value):
        if isinstance(value, (dict, list)):
            try:
                return copy.deepcopy(value)
            except Exception:  # not copyable: one level
                return type(value)(value)
        return value
    return [one(a) for a in args], dict((k, one(v))
                                        for k, v in kwargs.items())


def _settle_worker_create(api, context, args, kwargs):
    """After a lost COMMIT: (True, row) written, (False, None) not, or None.

    The row is (resource_type, resource_id)'s (unique in cinder's schema);
    it counts as written only with the status and service_id asked for.
    """
    if args or 'resource_type' not in kwargs or 'resource_id' not in kwargs:
        return None
    try:
        row = api.worker_get(context, resource_type=kwargs['resource_type'],
                             resource_id=kwargs['resource_id'])
    except Exception as exc:
        if type(exc).__name__ == 'WorkerNotFound':
            return False, None
        return None
    if (row.status == kwargs.get('status')
            and row.service_id == kwargs.get('service_id')):
        return True, row
    return None


# DB API calls whose outcome after a lost COMMIT can be read back.
SETTLE = {'worker_create': _settle_worker_create}


def wrap_api(fn, api=None):
    """fn repeated when its connection broke before any COMMIT.

    :param api: the DB API module fn belongs to: SETTLE's read-backs use it.
    """
    settle = SETTLE.get(fn.__name__) if api is not None else None

    @functools.wraps(fn)
    def repeated(context, *args, **kwargs):
        if (_settings['wait'] <= 0 or getattr(_call, 'active', False)
                or _in_transaction(context)):
            return fn(context, *args, **kwargs)
        saved = _snapshot(args, kwargs)
        started = time.time()
        attempt = 0
        _call.active = True
        try:
            while True:
                _call.commit_sent = False
                try:
                    return fn(context, *args, **kwargs)
                except db_exc.DBConnectionError as exc:
                    attempt += 1
                    if (attempt > 3
                            or time.time() - started > _settings['wait']):
                        raise
                    if _call.commit_sent:
                        if settle is None:
                            raise
                        _call.commit_sent = False
                        outcome = settle(api, context, *_snapshot(*saved))
                        if outcome is None:
                            raise exc
                        if outcome[0]:
                            LOG.warning('%s lost its database connection '
                                        'during COMMIT (%s); what it wrote '
                                        'is there: done', fn.__name__, exc)
                            return outcome[1]
                        LOG.warning('%s lost its database connection '
                                    'during COMMIT (%s); nothing was '
                                    'written: repeating it (attempt %d)',
                                    fn.__name__, exc, attempt + 1)
                    else:
                        LOG.warning('%s lost its database connection before '
                                    'any commit (%s); repeating it (attempt '
                                    '%d)', fn.__name__, exc, attempt + 1)
                    args, kwargs = _snapshot(*saved)
                    time.sleep(_settings['interval'])
        finally:
            _call.active = False
            _call.commit_sent = False

    repeated.ksvd_reconnect = True
    return repeated


def _takes_context(fn):
    signature = getattr(inspect, 'signature', None)
    try:
        if signature is not None:  # follows functools.wraps' __wrapped__
            params = list(signature(fn).parameters)
        else:  # Python 2: cinder 15's API functions are undecorated
            params = inspect.getargspec(fn).args
    except (TypeError, ValueError):
        return False
    return bool(params) and params[0] in ('context', 'ctxt')


def install_api(modules):
    """Wrap the public functions of cinder's DB API modules; idempotent.

    A name is wrapped where it is the same function in every module given
    (cinder.db is cinder.db.api's package before cinder 29).
    """
    done = 0
    for module in modules:
        for name, fn in sorted(vars(module).items()):
            if (name.startswith('_') or not inspect.isfunction(fn)
                    or getattr(fn, 'ksvd_reconnect', False)
                    or not _takes_context(fn)):
                continue
            if fn.__module__ not in [m.__name__ for m in modules]:
                continue  # imported helpers
            wrapped = _wrapped.get(id(fn))
            if wrapped is None:
                wrapped = _wrapped[id(fn)] = wrap_api(fn, module)
            setattr(module, name, wrapped)
            done += 1
    return done


def install():
    """Attach the class-level listeners once (every engine, any backend)."""
    if _installed:
        return False
    event.listen(Engine, 'do_connect', on_do_connect)
    event.listen(Engine, 'commit', on_commit)
    _installed.append(True)
    return True
