#!/usr/bin/env python3
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
"""Multi-process stress of cinder's real DB API on one sqlite file.

Writer processes do what cinder services do to the database: heartbeats
exactly like Service.report_state (read the service row, report_count + 1,
service_update(..., retry=False)), volume_create, volume_update with and
without metadata, and quota reserve + reservation_commit on a shared
project.  Reader processes list volumes and services.  Processes alternate
between several paths to the same file (e.g. two GlusterFS FUSE mounts); on
local disk they all use one path.

"stock" workers run cinder untouched; "ksvd" workers first call
cinder_ksvd.hooks.install() and, once config is parsed,
hooks.configured(CONF), as the ksvd-cinder wrappers do.

Every write is logged by its worker before the call (the attempt) and after
it (acknowledged, or the error surfaced to the caller).  verify() then
re-reads the file through another path and reports acknowledged writes that
are missing (lost), runs PRAGMA integrity_check, and counts the retries
oslo.db performed inside calls (its "Performing DB retry" debug records).

Library use (a test, tools/bench-db)::

    result = dbstress.run('ksvd', ['/tmp/x/cinder.sqlite'], duration=10)

Command line::

    python3 tools/dbstress.py --mode ksvd --duration 10 [--path P ...]

KSVD_DBSTRESS_PROFILE=DIR in the environment: each worker runs its
measured part under cProfile and writes DIR/<mode>-worker-<n>.prof.

Every process runs with the interpreter that runs this module (a virtualenv
with cinder, and cinder_ksvd for ksvd mode).  Nothing here uses the network.
"""

import argparse
import collections
import json
import logging
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import uuid

MODES = ('stock', 'ksvd')
HERE = os.path.abspath(__file__)
# Each writer chooses an operation with these weights.
WRITE_MIX = (
    ('heartbeat', 2),
    ('volume_create', 2),
    ('volume_update', 3),
    ('volume_update_metadata', 3),
    ('quota', 2),
)
VOLUME_PROJECT = 'dbstress-volumes'
QUOTA_PROJECT = 'dbstress-quota'  # holds no volumes: its usage starts at 0
USER = 'dbstress'
# oslo_db's wrap_db_retry logs this (DEBUG) once per retry it performs.
RETRY_PREFIX = 'Performing DB retry'
RETRY_LOGGERS = ('oslo_db.api',)
READY_TIMEOUT = 120     # seconds workers get to import cinder and set up
KILL_GRACE = 30         # seconds after the deadline before SIGKILL
SETUP_TIMEOUT = 60      # seconds a worker retries its own setup writes
COUNTER_FIELDS = ('report_count',)
DB_API_MODULE = 'cinder.db.api'
# The DB API functions the writers' operations write through.
WRITE_CALLS = ('service_update', 'volume_create', 'volume_update',
               'quota_reserve', 'reservation_commit')
_UUID = re.compile(r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                   r'[0-9a-f]{12}|[0-9a-f]{32}', re.I)


# -- helpers shared by parent and children ---------------------------------

def _write_conf(path, db_path, state_dir, extra=None):
    sections = collections.OrderedDict()
    sections['DEFAULT'] = collections.OrderedDict([
        ('state_path', state_dir),
        ('host', 'dbstress'),
        # Unlimited quotas: reservations never fail for being over quota.
        ('quota_volumes', '-1'),
        ('quota_gigabytes', '-1'),
        ('quota_snapshots', '-1'),
    ])
    sections['database'] = {'connection': 'sqlite:///%s'
                            % os.path.abspath(db_path)}
    sections['oslo_concurrency'] = {'lock_path': state_dir}
    for section, values in (extra or {}).items():
        sections.setdefault(section, collections.OrderedDict()).update(values)
    with open(path, 'w') as handle:
        for section, values in sections.items():
            handle.write('[%s]\n' % section)
            for key, value in values.items():
                handle.write('%s = %s\n' % (key, value))
            handle.write('\n')
    return path


def error_kind(exc_class, message):
    """'Class: first line of message', ids replaced, for counting."""
    first = (message or '').strip().splitlines()
    first = first[0] if first else ''
    first = _UUID.sub('<id>', first)
    if not first:
        return str(exc_class)
    return '%s: %s' % (exc_class, first[:160])


def first_line(exc):
    """The first line of str(exc) that says what went wrong.

    SQLAlchemy puts "(raised as a result of Query-invoked autoflush; ...)"
    before the database's message when a flush fails inside a query.
    """
    lines = [line.strip() for line in str(exc).strip().splitlines()]
    lines = [line for line in lines if line]
    if lines and lines[0].startswith('(raised as a result of'):
        rest = lines[1:2]
        return 'autoflush: %s' % (rest[0] if rest else lines[0])
    return lines[0] if lines else ''


def failed_db_call(exc):
    """Name of the outermost cinder.db.api function the error came from.

    Tells a failed read (service_get inside a heartbeat, the quota reads
    inside QUOTAS.reserve) from a failed write.
    """
    for frame, _lineno in traceback.walk_tb(exc.__traceback__):
        code = frame.f_code
        if (frame.f_globals.get('__name__') == DB_API_MODULE
                and not code.co_name.startswith('_')
                and code.co_name != 'wrapper'):
            return code.co_name
    return None


class RetryCounter(logging.Handler):
    """Counts the retries oslo.db's wrap_db_retry performs in a process."""

    def __init__(self):
        super(RetryCounter, self).__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record):
        try:
            message = record.getMessage()
        except Exception:  # a broken record must not break the worker
            return
        if message.startswith(RETRY_PREFIX):
            self.count += 1

    def attach(self):
        for name in RETRY_LOGGERS:
            logger = logging.getLogger(name)
            logger.setLevel(logging.DEBUG)
            logger.addHandler(self)
        return self


def _setup_child_logging():
    """WARNING and above to stderr (the worker's log file)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter(
        '%(asctime)s %(process)d %(levelname)s %(name)s %(message)s'))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)


def _load_cinder(mode, conf_path):
    """Import cinder the way the mode's services do; parse config."""
    if mode == 'ksvd':
        from cinder_ksvd import hooks
        hooks.install()
    from oslo_config import cfg

    from cinder.common import config  # noqa: F401  registers options
    from cinder import context
    from cinder.db import api as db_api
    from cinder import quota
    cfg.CONF([], project='cinder', default_config_files=[conf_path])
    if mode == 'ksvd':
        # As the ksvd-cinder wrappers do: start-up checks on a private
        # ConfigOpts (they may refuse the file, e.g. on an unsafe mount;
        # some hooks register options there that cinder registers on
        # cfg.CONF), then the post-config part.
        from cinder_ksvd.cmd import preflight as wrapper_preflight
        hooks.preflight(wrapper_preflight.load(['--config-file', conf_path]))
        hooks.configured(cfg.CONF)
    return context, db_api, quota


# -- child: prepare ----------------------------------------------------------

def _child_prepare(conf_path):
    _setup_child_logging()
    from oslo_config import cfg

    from cinder.common import config  # noqa: F401
    from cinder.db import migration
    cfg.CONF([], project='cinder', default_config_files=[conf_path])
    migration.db_sync()
    return 0


# -- child: worker -----------------------------------------------------------

class Worker(object):
    """One writer or reader process; appends JSON lines to its output."""

    def __init__(self, spec):
        self.spec = spec
        self.index = spec['index']
        self.role = spec['role']
        self.rng = random.Random(spec.get('seed', 0) * 1000 + self.index)
        self.out = open(spec['output'], 'a')
        self.seq = 0
        self.retries = RetryCounter().attach()
        self.volumes = []           # ids of this worker's acked volumes
        self.names = 0
        self.service_id = None
        self.ok = collections.Counter()
        self.failed = collections.Counter()

    def emit(self, record):
        record['w'] = self.index
        self.out.write(json.dumps(record, sort_keys=True) + '\n')
        self.out.flush()

    def call(self, op, key, func, attempt=None, known=None):
        """Run func(); log the attempt first and the outcome after.

        :param attempt: {field: value} a write tries to set (None: a read).
        :param known: callable returning {field: value} of values known
            only once the call returned (a heartbeat's new count).
        """
        self.seq += 1
        seq = self.seq
        if attempt is not None:
            self.emit({'seq': seq, 'phase': 'try', 'op': op, 'key': key,
                       'attempt': attempt, 't': time.time()})
        before = self.retries.count
        start = time.time()
        try:
            result = func()
        except Exception as exc:  # every error a caller would see
            record = {'seq': seq, 'phase': 'done', 'op': op, 'key': key,
                      'ok': False, 'error': type(exc).__name__,
                      'message': first_line(exc),
                      'call': failed_db_call(exc),
                      't': time.time(), 'dt': time.time() - start,
                      'retries': self.retries.count - before}
            self.failed[op] += 1
            self.emit(record)
            return False, exc
        self.ok[op] += 1
        record = {'seq': seq, 'phase': 'done', 'op': op, 'key': key,
                  'ok': True, 'write': attempt is not None,
                  't': time.time(), 'dt': time.time() - start,
                  'retries': self.retries.count - before}
        if known is not None:
            record['expect'] = known()
        self.emit(record)
        return True, result

    # -- setup (not measured) --

    def _setup_call(self, func):
        deadline = time.time() + SETUP_TIMEOUT
        while True:
            try:
                return func()
            except Exception:
                if time.time() > deadline:
                    raise
                time.sleep(self.rng.uniform(0.05, 0.3))

    def setup(self, context, db_api, quota):
        self.db = db_api
        self.quotas = quota.QUOTAS
        self.ctxt = context.get_admin_context()
        if self.role != 'writer':
            return
        vtype = self._setup_call(lambda: db_api.volume_type_get_by_name(
            self.ctxt, '__DEFAULT__'))
        self.volume_type_id = vtype['id']
        service = self._setup_call(lambda: db_api.service_create(
            self.ctxt, {'host': 'dbstress-w%d@fake' % self.index,
                        'binary': 'cinder-volume', 'topic': 'cinder-volume',
                        'report_count': 0, 'availability_zone': 'nova',
                        'uuid': str(uuid.uuid4())}))
        self.service_id = service['id']
        self.report_count = 0

    # -- writer operations --

    def heartbeat(self):
        """Service.report_state: get the row, count + 1, save(retry=False)."""
        state = {}

        def beat():
            row = self.db.service_get(self.ctxt, self.service_id)
            state['count'] = row['report_count'] + 1
            self.db.service_update(self.ctxt, self.service_id,
                                   {'report_count': state['count']},
                                   retry=False)
        # The new count is known only inside the call: the ack carries it.
        self.call('heartbeat', self.service_id, beat,
                  attempt={'report_count': None},
                  known=lambda: {'report_count': state['count']})

    def _name(self):
        self.names += 1
        return 'w%d-n%d' % (self.index, self.names)

    def volume_create(self):
        volume_id = str(uuid.uuid4())
        name = self._name()
        metadata = {'owner': 'w%d' % self.index, 'gen': '0'}
        values = {'id': volume_id, 'size': 1, 'user_id': USER,
                  'project_id': VOLUME_PROJECT, 'status': 'creating',
                  'attach_status': 'detached', 'display_name': name,
                  'availability_zone': 'nova',
                  'host': 'dbstress-w%d@fake#fake' % self.index,
                  'volume_type_id': self.volume_type_id,
                  'metadata': dict(metadata)}
        attempt = {'exists': True, 'display_name': name,
                   'status': 'creating', 'metadata': metadata}
        ok, _ = self.call('volume_create', volume_id,
                          lambda: self.db.volume_create(self.ctxt, values),
                          attempt=attempt)
        if ok:
            self.volumes.append(volume_id)

    def volume_update(self, with_metadata):
        if not self.volumes:
            return self.volume_create()
        volume_id = self.rng.choice(self.volumes)
        name = self._name()
        status = self.rng.choice(('available', 'in-use', 'extending'))
        values = {'display_name': name, 'status': status}
        attempt = {'display_name': name, 'status': status}
        op = 'volume_update'
        if with_metadata:
            metadata = {'owner': 'w%d' % self.index, 'gen': name}
            if self.rng.random() < 0.5:
                metadata['extra'] = name
            values['metadata'] = dict(metadata)
            attempt['metadata'] = metadata
            op = 'volume_update_metadata'
        self.call(op, volume_id,
                  lambda: self.db.volume_update(self.ctxt, volume_id,
                                                dict(values)),
                  attempt=attempt)

    def quota(self):
        """QUOTAS.reserve, then db reservation_commit (as the driver does).

        QUOTAS.commit() logs and swallows every error, so a caller would
        never see a failed commit; the DB call shows what happened.
        """
        ok, reservations = self.call(
            'quota_reserve', QUOTA_PROJECT,
            lambda: self.quotas.reserve(self.ctxt, project_id=QUOTA_PROJECT,
                                        volumes=1, gigabytes=1))
        if not ok:
            return
        self.call('quota_commit', QUOTA_PROJECT,
                  lambda: self.db.reservation_commit(
                      self.ctxt, reservations, project_id=QUOTA_PROJECT),
                  attempt={'volumes_in_use': 1})

    def write_once(self):
        ops = [name for name, weight in WRITE_MIX for _ in range(weight)]
        op = self.rng.choice(ops)
        if op == 'heartbeat':
            self.heartbeat()
        elif op == 'volume_create':
            self.volume_create()
        elif op == 'volume_update':
            self.volume_update(False)
        elif op == 'volume_update_metadata':
            self.volume_update(True)
        else:
            self.quota()

    def read_once(self):
        if self.rng.random() < 0.5:
            self.call('volume_get_all', None,
                      lambda: self.db.volume_get_all(self.ctxt, limit=100))
        else:
            self.call('service_get_all', None,
                      lambda: self.db.service_get_all(self.ctxt))

    def run(self, deadline):
        step = self.write_once if self.role == 'writer' else self.read_once
        while time.time() < deadline:
            step()
        self.emit({'phase': 'summary', 'retries': self.retries.count,
                   'ok': dict(self.ok), 'failed': dict(self.failed),
                   'service_id': self.service_id})


def _wait_for_go(go_file, timeout):
    end = time.time() + timeout
    while time.time() < end:
        try:
            with open(go_file) as handle:
                text = handle.read()
            if text.endswith('\n'):
                return json.loads(text)
        except (OSError, ValueError):
            pass
        time.sleep(0.02)
    return None


def _child_worker(spec_path):
    with open(spec_path) as handle:
        spec = json.load(handle)
    _setup_child_logging()
    worker = Worker(spec)
    try:
        modules = _load_cinder(spec['mode'], spec['conf'])
        worker.setup(*modules)
    except Exception as exc:
        worker.emit({'phase': 'startup_failed', 'error': type(exc).__name__,
                     'message': str(exc)[:2000]})
        raise
    with open(spec['ready'], 'w') as handle:
        handle.write('ready\n')
    go = _wait_for_go(spec['go'], READY_TIMEOUT + 30)
    if go is None:
        worker.emit({'phase': 'startup_failed', 'error': 'NoGo',
                     'message': 'the parent never said go'})
        return 3
    worker.emit({'phase': 'start', 't': time.time()})
    profile_dir = os.environ.get('KSVD_DBSTRESS_PROFILE')
    if profile_dir:
        # cProfile of the measured part: where a worker's time goes.
        import cProfile
        profiler = cProfile.Profile()
        profiler.runcall(worker.run, go['deadline'])
        profiler.dump_stats(os.path.join(profile_dir, '%s-worker-%d.prof' % (
            spec['mode'], spec['index'])))
    else:
        worker.run(go['deadline'])
    return 0


# -- child: snapshot (verify's re-read) --------------------------------------

def _child_snapshot(spec_path):
    with open(spec_path) as handle:
        spec = json.load(handle)
    _setup_child_logging()
    result = {'volumes': {}, 'services': {}, 'quota': None,
              'read_errors': {}}
    try:
        context, db_api, _quota = _load_cinder('stock', spec['conf'])
        ctxt = context.get_admin_context()
    except Exception as exc:
        result['read_errors'][error_kind(type(exc).__name__, str(exc))] = 1
        ctxt = None
    if ctxt is not None:
        _snapshot_rows(db_api, ctxt, spec, result)
    result['integrity'] = _integrity(spec['db_path'])
    with open(spec['result'], 'w') as handle:
        json.dump(result, handle)
    return 0


def _volume_state(row):
    return {'display_name': row['display_name'], 'status': row['status'],
            'metadata': dict((m['key'], m['value'])
                             for m in row.get('volume_metadata') or [])}


def _snapshot_rows(db_api, ctxt, spec, result):
    def guarded(what, func):
        try:
            return func()
        except Exception as exc:  # counted: a corrupt file fails often
            kind = '%s: %s' % (what, error_kind(type(exc).__name__,
                                                str(exc)))
            errors = result['read_errors']
            errors[kind] = errors.get(kind, 0) + 1
            return None

    rows = guarded('volume_get_all', lambda: db_api.volume_get_all(ctxt))
    if rows is not None:
        for row in rows:
            result['volumes'][row['id']] = _volume_state(row)
    else:
        for volume_id in spec['volumes']:
            row = guarded('volume_get',
                          lambda: db_api.volume_get(ctxt, volume_id))
            if row is not None:
                result['volumes'][volume_id] = _volume_state(row)
    for service_id in spec['services']:
        row = guarded('service_get',
                      lambda: db_api.service_get(ctxt, service_id))
        if row is not None:
            result['services'][str(service_id)] = {
                'report_count': row['report_count']}
    usage = guarded('quota_usage', lambda: (
        db_api.quota_usage_get_all_by_project(ctxt, QUOTA_PROJECT)))
    if usage is not None:
        result['quota'] = (usage.get('volumes') or {}).get('in_use', 0)


def _integrity(db_path):
    import sqlite3
    try:
        conn = sqlite3.connect(db_path, timeout=30)
        try:
            rows = conn.execute('PRAGMA integrity_check').fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return 'error: %s' % exc
    text = '; '.join(str(row[0]) for row in rows)
    return 'ok' if text == 'ok' else text[:500]


# -- parent side ------------------------------------------------------------

def _python():
    return sys.executable


def _child_env():
    env = dict(os.environ)
    env.pop('PYTHONWARNINGS', None)
    return env


def _run_child(args, log_path, timeout):
    with open(log_path, 'ab') as log:
        proc = subprocess.Popen([_python(), HERE] + list(args),
                                stdout=log, stderr=subprocess.STDOUT,
                                env=_child_env(), start_new_session=True)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return 'killed after %ss' % timeout


def _tail(path, size=2000):
    try:
        with open(path, 'rb') as handle:
            data = handle.read()
    except OSError:
        return ''
    return data[-size:].decode('utf-8', 'replace')


def prepare(db_path, workdir=None, extra_conf=None):
    """Create cinder's schema in db_path (a new file) in a subprocess."""
    workdir = workdir or tempfile.mkdtemp(prefix='dbstress-')
    directory = os.path.dirname(os.path.abspath(db_path))
    if not os.path.isdir(directory):
        os.makedirs(directory)
    conf = _write_conf(os.path.join(workdir, 'prepare.conf'), db_path,
                       workdir, extra_conf)
    log = os.path.join(workdir, 'prepare.log')
    code = _run_child(['_prepare', conf], log, 300)
    if code != 0:
        raise RuntimeError('db sync of %s failed (%s): %s'
                           % (db_path, code, _tail(log)))


def _read_records(path):
    records = []
    try:
        handle = open(path)
    except OSError:
        return records
    with handle:
        for line in handle:
            if not line.endswith('\n'):
                break  # a line cut short by a kill
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


class _Expect(object):
    """History of one (key, field): attempts and acks in worker order."""

    def __init__(self):
        self.history = []   # [seq, value, state]: 'try', 'ok', 'failed'

    def last_acked(self):
        for index in range(len(self.history) - 1, -1, -1):
            if self.history[index][2] == 'ok':
                return index
        return None


def _collect(outputs):
    """Fold worker outputs into counters and per-key write histories."""
    acc = {
        'ok_ops': 0, 'ok_writes': 0, 'ok_reads': 0,
        'errors_by_kind': collections.Counter(),
        'errors_by_op': collections.Counter(),
        'errors_by_call': collections.Counter(),
        'ok_by_op': collections.Counter(),
        'retries_by_op': collections.Counter(),
        'retries_seen': 0, 'latencies': [],
        'start': None, 'end': None, 'startup_failures': [],
        'quota_acked': 0, 'quota_unsure': 0,
        'expect': collections.OrderedDict(),   # (kind, key) -> {field: E}
        'volumes': set(), 'services': set(), 'summaries': 0,
    }
    for path in outputs:
        _collect_one(_read_records(path), acc)
    return acc


def _expect(acc, kind, key, field):
    fields = acc['expect'].setdefault((kind, key), {})
    return fields.setdefault(field, _Expect())


def _collect_one(records, acc):
    pending = {}   # seq -> (op, key, attempt)
    for rec in records:
        phase = rec.get('phase')
        if phase == 'start':
            acc['start'] = min(acc['start'] or rec['t'], rec['t'])
        elif phase == 'startup_failed':
            acc['startup_failures'].append(
                'worker %s: %s' % (rec.get('w'), error_kind(
                    rec.get('error'), rec.get('message'))))
        elif phase == 'summary':
            acc['retries_seen'] += rec.get('retries', 0)
            acc['summaries'] += 1
        elif phase == 'try':
            pending[rec['seq']] = rec
            _note_attempt(acc, rec)
        elif phase == 'done':
            _note_done(acc, rec, pending.pop(rec['seq'], None))
    # Attempts never answered (worker killed mid-call) stay 'try': they
    # may or may not have been applied, like failed ones.


def _kind_of(op):
    if op == 'heartbeat':
        return 'service'
    if op == 'quota_commit':
        return 'quota'
    return 'volume'


def _note_attempt(acc, rec):
    kind = _kind_of(rec['op'])
    if kind == 'volume':
        acc['volumes'].add(rec['key'])
    elif kind == 'service':
        acc['services'].add(rec['key'])
    if kind == 'quota':
        return
    for field, value in rec['attempt'].items():
        _expect(acc, kind, rec['key'], field).history.append(
            [rec['seq'], value, 'try'])


def _note_done(acc, rec, attempt):
    op = rec['op']
    acc['end'] = max(acc['end'] or rec['t'], rec['t'])
    acc['retries_by_op'][op] += rec.get('retries', 0)
    if not rec['ok']:
        kind = error_kind(rec['error'], rec['message'])
        acc['errors_by_kind'][kind] += 1
        acc['errors_by_op'][op] += 1
        acc['errors_by_call'][rec.get('call') or 'outside the DB API'] += 1
        if op == 'quota_commit':
            acc['quota_unsure'] += 1
        state = 'failed'
    else:
        acc['ok_ops'] += 1
        acc['ok_by_op'][op] += 1
        acc['latencies'].append(rec.get('dt', 0.0))
        if rec.get('write'):
            acc['ok_writes'] += 1
        else:
            acc['ok_reads'] += 1
        if op == 'quota_commit':
            acc['quota_acked'] += 1
        state = 'ok'
    if attempt is None or _kind_of(op) == 'quota':
        return
    kind = _kind_of(op)
    known = rec.get('expect') or {}
    for field in attempt['attempt']:
        hist = _expect(acc, kind, rec['key'], field).history
        for item in reversed(hist):
            if item[0] == rec['seq']:
                item[2] = state
                if field in known:
                    item[1] = known[field]
                break


def _check_field(field, exp, actual):
    """Seqs of acked writes to one field that the final state lost."""
    last = exp.last_acked()
    if last is None:
        return set()
    acked = [item for item in exp.history if item[2] == 'ok']
    if field in COUNTER_FIELDS:
        # A later write can only raise a counter: >= the last ack is fine.
        if actual is not None and actual >= exp.history[last][1]:
            return set()
        return set(item[0] for item in acked
                   if actual is None or item[1] > actual)
    allowed = [exp.history[last][1]] + [
        item[1] for item in exp.history[last + 1:]]
    if actual in allowed:
        return set()
    # The acked writes after the newest write whose value is visible.
    seen_at = -1
    for index, item in enumerate(exp.history):
        if item[1] == actual:
            seen_at = index
    return set(item[0] for item in exp.history[seen_at + 1:]
               if item[2] == 'ok')


def _compare(acc, snapshot):
    lost, examples = set(), []
    for (kind, key), fields in acc['expect'].items():
        if kind == 'volume':
            row = snapshot['volumes'].get(key)
        else:
            row = snapshot['services'].get(str(key))
        for field, exp in fields.items():
            if field == 'exists':
                actual = row is not None
            else:
                actual = None if row is None else row.get(field)
            missing = _check_field(field, exp, actual)
            if missing:
                worker_lost = set((key, seq) for seq in missing)
                lost |= worker_lost
                if len(examples) < 20:
                    last = exp.last_acked()
                    examples.append({'key': key, 'field': field,
                                     'acked': exp.history[last][1],
                                     'found': actual})
    quota = {'acked_commits': acc['quota_acked'],
             'failed_commits': acc['quota_unsure'],
             'in_use': snapshot.get('quota')}
    quota_lost = 0
    if snapshot.get('quota') is not None:
        quota_lost = max(0, acc['quota_acked'] - snapshot['quota'])
    else:
        quota_lost = acc['quota_acked']
    quota['lost'] = quota_lost
    quota['unexplained_extra'] = max(
        0, (snapshot.get('quota') or 0)
        - acc['quota_acked'] - acc['quota_unsure'])
    return len(lost) + quota_lost, examples, quota


def _percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))
    return round(ordered[index], 4)


def verify(db_path, outputs, workdir=None, duration=None, extra_conf=None):
    """Re-read db_path in a subprocess; compare with the workers' acks.

    :param db_path: the file, best through a path (mount) other than the
        one most workers wrote through.
    :param outputs: the workers' JSON-lines files.
    :param duration: the run's nominal length, for ops/s.
    """
    workdir = workdir or tempfile.mkdtemp(prefix='dbstress-')
    acc = _collect(outputs)
    spec_path = os.path.join(workdir, 'snapshot.json')
    result_path = os.path.join(workdir, 'snapshot-result.json')
    conf = _write_conf(os.path.join(workdir, 'verify.conf'), db_path,
                       workdir, extra_conf)
    with open(spec_path, 'w') as handle:
        json.dump({'conf': conf, 'db_path': db_path, 'result': result_path,
                   'volumes': sorted(acc['volumes']),
                   'services': sorted(acc['services'])}, handle)
    log = os.path.join(workdir, 'verify.log')
    code = _run_child(['_snapshot', spec_path], log, 600)
    try:
        with open(result_path) as handle:
            snapshot = json.load(handle)
    except (OSError, ValueError):
        raise RuntimeError('re-reading %s failed (%s): %s'
                           % (db_path, code, _tail(log)))
    lost, examples, quota = _compare(acc, snapshot)
    window = duration or 0
    if acc['start'] and acc['end']:
        window = max(window, acc['end'] - acc['start'])
    return {
        'ok_ops': acc['ok_ops'],
        'ok_writes': acc['ok_writes'],
        'ok_reads': acc['ok_reads'],
        'ops_per_s': round(acc['ok_ops'] / window, 2) if window else None,
        'write_ops_per_s': (round(acc['ok_writes'] / window, 2)
                            if window else None),
        'window_s': round(window, 2),
        'errors': sum(acc['errors_by_kind'].values()),
        'errors_by_kind': dict(acc['errors_by_kind'].most_common()),
        'errors_by_op': dict(acc['errors_by_op']),
        'errors_by_call': dict(acc['errors_by_call']),
        'write_errors': sum(n for call, n in acc['errors_by_call'].items()
                            if call in WRITE_CALLS),
        'ok_by_op': dict(acc['ok_by_op']),
        'retries_by_op': dict((op, n) for op, n in
                              acc['retries_by_op'].items() if n),
        'lost': lost,
        'lost_examples': examples,
        'quota': quota,
        'retries_seen': acc['retries_seen'],
        'latency_s': {'p50': _percentile(acc['latencies'], 0.5),
                      'p95': _percentile(acc['latencies'], 0.95),
                      'max': _percentile(acc['latencies'], 1.0)},
        'integrity': snapshot.get('integrity'),
        'read_errors': snapshot.get('read_errors'),
        'startup_failures': acc['startup_failures'],
        'workers_reported': acc['summaries'],
    }


def _start_worker(spec, workdir):
    spec_path = os.path.join(workdir, 'worker-%d.json' % spec['index'])
    with open(spec_path, 'w') as handle:
        json.dump(spec, handle)
    log = open(os.path.join(workdir, 'worker-%d.log' % spec['index']), 'ab')
    try:
        return subprocess.Popen([_python(), HERE, '_worker', spec_path],
                                stdout=log, stderr=subprocess.STDOUT,
                                env=_child_env(), start_new_session=True)
    finally:
        log.close()


def _wait_ready(procs, specs, timeout):
    end = time.time() + timeout
    while time.time() < end:
        waiting = [spec for proc, spec in zip(procs, specs)
                   if proc.poll() is None and not os.path.exists(
                       spec['ready'])]
        if not waiting:
            return
        time.sleep(0.05)


def _reap(procs, specs, deadline, workdir):
    """Wait for every worker; SIGKILL the ones past deadline + grace."""
    failures = []
    for proc, spec in zip(procs, specs):
        timeout = max(0.1, deadline + KILL_GRACE - time.time())
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code = 'killed %ss after the deadline' % KILL_GRACE
        if code != 0:
            failures.append('worker %d (%s): exit %s: %s' % (
                spec['index'], spec['role'], code,
                _tail(os.path.join(workdir, 'worker-%d.log'
                                   % spec['index']), 600)))
    return failures


def _progress(message):
    sys.stderr.write('dbstress: %s\n' % message)
    sys.stderr.flush()


def run(mode, paths, writers=4, readers=2, duration=10.0, workdir=None,
        extra_conf=None, seed=None, progress=None):
    """prepare + workers + verify; returns verify()'s dict plus the setup.

    :param mode: 'stock' or 'ksvd'.
    :param paths: paths of ONE new sqlite file (e.g. through two mounts);
        worker i uses paths[i % len(paths)]; the schema is created through
        paths[0] and verify re-reads through paths[-1].
    :param workdir: where configs, outputs and logs go (a temp dir if None).
    :param extra_conf: {section: {option: value}} added to every config.
    :param progress: callable(str) for progress lines (None: quiet).
    """
    if mode not in MODES:
        raise ValueError('mode must be one of %s' % ', '.join(MODES))
    if not paths:
        raise ValueError('at least one path is needed')
    say = progress or (lambda message: None)
    workdir = workdir or tempfile.mkdtemp(prefix='dbstress-%s-' % mode)
    if not os.path.isdir(workdir):
        os.makedirs(workdir)
    seed = int(time.time()) if seed is None else seed
    say('%s: creating the schema in %s' % (mode, paths[0]))
    prepare(paths[0], workdir, extra_conf)
    specs = []
    go_file = os.path.join(workdir, 'go')
    roles = ['writer'] * writers + ['reader'] * readers
    for index, role in enumerate(roles):
        state = os.path.join(workdir, 'worker-%d' % index)
        os.makedirs(state)
        path = paths[index % len(paths)]
        specs.append({
            'index': index, 'role': role, 'mode': mode, 'db_path': path,
            'seed': seed, 'go': go_file,
            'ready': os.path.join(workdir, 'worker-%d.ready' % index),
            'output': os.path.join(workdir, 'worker-%d.jsonl' % index),
            'conf': _write_conf(os.path.join(state, 'cinder.conf'), path,
                                state, extra_conf),
        })
    say('%s: starting %d writers and %d readers' % (mode, writers, readers))
    procs = [_start_worker(spec, workdir) for spec in specs]
    try:
        _wait_ready(procs, specs, READY_TIMEOUT)
        start = time.time()
        deadline = start + duration
        with open(go_file + '.tmp', 'w') as handle:
            handle.write(json.dumps({'start': start,
                                     'deadline': deadline}) + '\n')
        os.rename(go_file + '.tmp', go_file)
        say('%s: running for %ss' % (mode, duration))
        failures = _reap(procs, specs, deadline, workdir)
    except BaseException:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        raise
    say('%s: verifying through %s' % (mode, paths[-1]))
    result = verify(paths[-1], [spec['output'] for spec in specs],
                    workdir, duration, extra_conf)
    result.update({'mode': mode, 'paths': list(paths), 'writers': writers,
                   'readers': readers, 'duration_s': duration,
                   'worker_failures': failures, 'workdir': workdir})
    return result


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    internal = {'_prepare': _child_prepare, '_worker': _child_worker,
                '_snapshot': _child_snapshot}
    if argv and argv[0] in internal:
        return internal[argv[0]](*argv[1:])
    parser = argparse.ArgumentParser(
        description='Stress cinder\'s DB API on one sqlite file from several '
                    'processes, then check that no acknowledged write was '
                    'lost. Prints the result as JSON.')
    parser.add_argument('--mode', choices=MODES, default='ksvd')
    parser.add_argument('--path', action='append', dest='paths',
                        metavar='DB_FILE',
                        help='path of the (new) sqlite file; repeat it with '
                             'the same file seen through other mounts. '
                             'Default: a file in a new temp dir.')
    parser.add_argument('--writers', type=int, default=4)
    parser.add_argument('--readers', type=int, default=2)
    parser.add_argument('--duration', type=float, default=10.0,
                        help='seconds of load (default 10)')
    parser.add_argument('--workdir', help='configs, outputs and logs '
                                          '(default: a new temp dir)')
    parser.add_argument('--seed', type=int)
    args = parser.parse_args(argv)
    paths = args.paths
    if not paths:
        paths = [os.path.join(tempfile.mkdtemp(prefix='dbstress-db-'),
                              'cinder.sqlite')]
    for path in paths:
        if os.path.exists(path):
            parser.error('%s exists: the harness needs a new file' % path)
    result = run(args.mode, paths, args.writers, args.readers,
                 args.duration, args.workdir, seed=args.seed,
                 progress=_progress)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
