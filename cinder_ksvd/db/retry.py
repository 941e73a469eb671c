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

"""Retries for the database writes cinder leaves unprotected.

cinder retries about 27 DB API functions on DBDeadlock; most updates are
never retried, so a transient sqlite error there leaves a volume stuck in a
transitional state.  The functions below are plain updates of rows the
caller names (setting the same values twice gives the same result) and each
runs in its own transaction, so repeating one after its transaction rolled
back is safe.  Functions cinder already retries are detected and skipped
(no nested retry loops), except where cinder retries inside the function
body (cinder 29's service_update with retry=True); that one is wrapped
anyway because heartbeats call it with retry=False.  A call made inside a
caller's open transaction is not retried, since that transaction is lost.

The list is per cinder release line; a name missing from a release is
skipped.  Policy comes from [ksvd_database] retry_*.

A cinder built with patches/ (0002-db-retry-unprotected-writes.patch)
carries cinder's own retry decorator on PATCHED; the same detection leaves
those to cinder, and retried_by_cinder() names them for the log.
"""

import copy
import functools
import types

from oslo_db import api as oslo_db_api
from oslo_db import exception as db_exc

# Unprotected, idempotent single-transaction writes (cinder 15 .. 29).
# cinder 29 retries quota reserve/commit/rollback itself (detected below).
CANDIDATES = (
    'volume_update',
    'volume_attachment_update',
    'volume_attached',
    'volume_admin_metadata_update',
    'snapshot_update',
    'service_update',
    'backup_update',
    'cluster_update',
    'group_update',
    'quota_reserve',
    'reservation_commit',
    'reservation_rollback',
)

# Never retried by stock cinder 15 .. 29; retried by a patched cinder.
PATCHED = (
    'volume_update',
    'volume_attachment_update',
    'volume_attached',
    'snapshot_update',
    'backup_update',
    'group_update',
)

_policy = {'enabled': True, 'max_retries': 10, 'interval': 0.05,
           'max_interval': 2.0}
_wrapped = {}
_by_cinder = []


def configure(conf, enabled):
    group = conf.ksvd_database
    _policy.update(enabled=bool(enabled), max_retries=group.retry_max,
                   interval=group.retry_interval,
                   max_interval=group.retry_max_interval)
    return dict(_policy)


def _retries_itself(fn, depth=8):
    """True if fn (or a function it wraps) is an oslo.db retry wrapper.

    Follows __wrapped__ and functions held in closures, since not every
    decorator of cinder uses functools.wraps (cinder 15's
    handle_db_data_error does not).
    """
    seen = set()
    todo = [(fn, 0)]
    while todo:
        fn, level = todo.pop()
        if fn is None or id(fn) in seen or level > depth:
            continue
        seen.add(id(fn))
        for cell in getattr(fn, '__closure__', None) or ():
            try:
                value = cell.cell_contents
            except ValueError:  # empty cell
                continue
            if isinstance(value, oslo_db_api.wrap_db_retry):
                return True
            if isinstance(value, types.FunctionType):
                todo.append((value, level + 1))
        todo.append((getattr(fn, '__wrapped__', None), level + 1))
    return False


def _in_transaction(context):
    """True when context already has an enginefacade transaction open."""
    try:
        return getattr(context, 'transaction_ctx', None) is not None
    except db_exc.NoEngineContextEstablished:
        return False
    except Exception:  # a context class without enginefacade support
        return False


def _is_transient(exc):
    # Imported here: exc_filters imports oslo.db's private registry.
    from cinder_ksvd.db import exc_filters
    return isinstance(exc, exc_filters.SqliteTransientError)


def _fresh(value):
    """A copy of an argument for one attempt.

    cinder's DB functions consume their arguments (volume_update pops
    'metadata' out of values), so a retry with the caller's objects would
    silently write less than the caller asked for.
    """
    try:
        return copy.deepcopy(value)
    except Exception:  # not copyable: a shallow copy of containers
        if isinstance(value, dict):
            return dict(value)
        if isinstance(value, list):
            return list(value)
        return value


def wrap(fn):
    """Return fn retried on transient sqlite errors, same signature."""

    @functools.wraps(fn)
    def retried(context, *args, **kwargs):
        if (not _policy['enabled'] or _policy['max_retries'] <= 0
                or _in_transaction(context)):
            return fn(context, *args, **kwargs)
        # The caller's own objects are never handed to fn (the caller is
        # blocked here, so they stay as given): each attempt gets copies.

        def attempt(ctx):
            return fn(ctx, *[_fresh(a) for a in args],
                      **dict((k, _fresh(v)) for k, v in kwargs.items()))

        policy = oslo_db_api.wrap_db_retry(
            max_retries=_policy['max_retries'],
            retry_interval=_policy['interval'],
            inc_retry_interval=True,
            max_retry_interval=_policy['max_interval'],
            exception_checker=_is_transient)
        return policy(attempt)(context)

    retried.ksvd_retry = True
    retried.__wrapped__ = fn  # functools.wraps does it on py3 only
    return retried


def install(modules, impls=()):
    """Wrap the candidates in each module of modules; idempotent.

    :param modules: the modules through which cinder calls its DB API
        (cinder.db.api, and cinder.db before cinder 29). A name is replaced
        only where it is the same function.
    :param impls: modules the API forwards to (cinder.db.sqlalchemy.api
        before cinder 29), where cinder's own retry decorators sit.
    :returns: the names wrapped now.
    """
    done = []
    for name in CANDIDATES:
        original = None
        for module in modules:
            current = getattr(module, name, None)
            if current is None or getattr(current, 'ksvd_retry', False):
                continue
            if original is None:
                if _retries_itself(current) or any(
                        _retries_itself(getattr(impl, name, None))
                        for impl in impls):
                    if name not in _by_cinder:
                        _by_cinder.append(name)
                    break
                original = current
                _wrapped[name] = wrap(current)
            if current is original:
                setattr(module, name, _wrapped[name])
                if name not in done:
                    done.append(name)
    return done


def wrapped_names():
    return sorted(_wrapped)


def retried_by_cinder():
    """Candidates cinder retries itself (found by install()), sorted."""
    return sorted(_by_cinder)


def patched_names():
    """Names only a patched cinder retries itself (see PATCHED)."""
    return sorted(name for name in _by_cinder if name in PATCHED)
