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

"""oslo.db exception filters that make transient sqlite errors retriable.

oslo.db leaves "database is locked" and "disk I/O error" as raw
OperationalErrors and maps "unable to open database file" to
DBNonExistentDatabase; cinder retries only DBDeadlock.  These filters are
put in front of oslo.db's own sqlite filters (oslo.db's registry tries them
in list order, and its decorator appends) and raise SqliteTransientError, a
DBDeadlock, so cinder's retry decorators and ours retry them.  Deliberately
not a DBConnectionError: that invalidates the connection inside cinder's
nested retries (measured: PendingRollbackError, no retry).

"database disk image is malformed" is never transient: it arrives as a
sqlite DatabaseError, which no filter here matches.
"""

import re

from oslo_db import exception as db_exc
from oslo_db.sqlalchemy import exc_filters
from sqlalchemy import exc as sqla_exc

# The messages sqlite3 (and the kernel, through it) reports for conditions
# that pass: another writer holds the lock, or a network filesystem briefly
# lost the file (GlusterFS/NFS: stale file handle, EIO).
TRANSIENT_PATTERNS = (
    r'.*database is locked',
    r'.*database table is locked',
    r'.*disk I/O error',
    r'.*unable to open database file',
    r'.*[Ss]tale (NFS )?file handle',
)


class SqliteTransientError(db_exc.DBDeadlock):
    """A sqlite error that goes away when the operation is repeated."""


def _sqlite_transient_error(error, match, engine_name, is_disconnect):
    """Raise SqliteTransientError for a transient sqlite OperationalError.

    Real messages: "(sqlite3.OperationalError) database is locked",
    "... database table is locked: volumes", "... disk I/O error",
    "... unable to open database file".
    """
    if not enabled():
        return
    raise SqliteTransientError(error)


_state = {'enabled': None}


def enabled():
    """Whether the [ksvd] database switch is on (True before config)."""
    if _state['enabled'] is not None:
        return _state['enabled']
    return True


def set_enabled(value):
    _state['enabled'] = bool(value)


def registry():
    """oslo.db's private filter list for sqlite OperationalError.

    oslo.db keeps it in exc_filters._registry[dialect][exception class] as
    (function, compiled regex) pairs.  test_exc_filters checks that shape
    for each supported oslo.db release, so a change fails loudly there.
    """
    return exc_filters._registry['sqlite'][sqla_exc.OperationalError]


def install():
    """Put our filters first in oslo.db's sqlite list; idempotent."""
    entries = registry()
    if any(fn is _sqlite_transient_error for fn, _regex in entries):
        return False
    ours = [(_sqlite_transient_error, re.compile(pattern, re.DOTALL))
            for pattern in TRANSIENT_PATTERNS]
    entries[0:0] = ours
    return True
