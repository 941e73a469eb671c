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

"""A durable spool directory of events waiting for delivery.

cinder's call into the compute API must not return before its event is on
disk, and a table in cinder's schema is out (db sync and migrations own
it), so events are files: written to a temporary name, fsynced, renamed and
the directory fsynced.  A file is an envelope {"event", "attempts",
"next_try", "delivered"} so retry state survives restarts without changing
the event itself.

Names (all in one directory):
  <YYYYmmddTHHMMSS.ffffffZ>-<event_id>.json        pending, in time order
  <pending name>.claimed.<epoch>.<token>             taken by one worker
  .<pending name>.<token>.tmp                        being written
  <pending name>.invalid                             unreadable, kept aside
A claim is a rename, which only one process can win; a claim older than
claim_timeout belongs to a worker that died and is put back by recover().
"""

import datetime
import errno
import json
import os
import re
import time
import uuid

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

DEFAULT_DIRNAME = 'ksvd-compute-outbox'

_PENDING = re.compile(r'^[0-9]{8}T[0-9]{6}\.[0-9]{6}Z-[0-9a-f-]{36}\.json$')
_CLAIMED = re.compile(r'^(?P<name>.+\.json)\.claimed\.(?P<at>[0-9]+)'
                      r'\.[0-9a-f]+$')
_TEMP = re.compile(r'^\.(?P<name>.+\.json)\.[0-9a-f]+\.tmp$')


def path_from_conf(conf):
    """[ksvd_compute] outbox_dir, or <state_path>/ksvd-compute-outbox."""
    configured = conf.ksvd_compute.outbox_dir
    if configured:
        return configured
    return os.path.join(conf.state_path, DEFAULT_DIRNAME)


def _fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ignore_missing(func, *args):
    """Run func; False if its file vanished (another worker took it)."""
    try:
        func(*args)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
        return False
    return True


class Outbox(object):
    """One spool directory; any number of Outbox objects may share it."""

    def __init__(self, path, claim_timeout=300.0):
        self.path = path
        self.claim_timeout = claim_timeout
        try:
            os.makedirs(path, 0o750)
        except OSError as exc:
            if exc.errno != errno.EEXIST or not os.path.isdir(path):
                raise

    def _join(self, name):
        return os.path.join(self.path, name)

    def _write(self, name, envelope):
        """Write envelope to name atomically and durably."""
        data = json.dumps(envelope, sort_keys=True).encode('utf-8')
        temp = self._join('.%s.%s.tmp' % (name, uuid.uuid4().hex))
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
        try:
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temp, self._join(name))
        _fsync_dir(self.path)

    def put(self, event):
        """Store event durably; returns its pending name."""
        now = datetime.datetime.utcnow()
        name = '%s-%s.json' % (now.strftime('%Y%m%dT%H%M%S.%fZ'),
                               event['event_id'])
        self._write(name, {'event': event, 'attempts': 0, 'next_try': 0,
                           'delivered': []})
        return name

    def pending(self):
        """Pending names, oldest first (claimed ones are not listed)."""
        return sorted(name for name in os.listdir(self.path)
                      if _PENDING.match(name))

    def claimed(self):
        return sorted(name for name in os.listdir(self.path)
                      if _CLAIMED.match(name))

    def read(self, name):
        """The envelope stored under name (pending or claimed)."""
        with open(self._join(name), 'rb') as handle:
            return json.loads(handle.read().decode('utf-8'))

    def claim(self, name, now=None):
        """Take name for delivery; the claimed name, or None if lost."""
        now = time.time() if now is None else now
        claimed = '%s.claimed.%d.%s' % (name, int(now), uuid.uuid4().hex)
        if not _ignore_missing(os.rename, self._join(name),
                               self._join(claimed)):
            return None
        return claimed

    @staticmethod
    def pending_name(claimed):
        match = _CLAIMED.match(claimed)
        if not match:
            raise ValueError('not a claimed outbox name: %s' % claimed)
        return match.group('name')

    def done(self, claimed):
        """Remove a delivered event; False if the claim was taken back."""
        removed = _ignore_missing(os.unlink, self._join(claimed))
        _fsync_dir(self.path)
        return removed

    def release(self, claimed, envelope=None):
        """Put a claimed event back, with updated retry state if given."""
        name = self.pending_name(claimed)
        if envelope is None:
            released = _ignore_missing(os.rename, self._join(claimed),
                                       self._join(name))
        else:
            if not os.path.exists(self._join(claimed)):
                return False
            self._write(name, envelope)
            released = _ignore_missing(os.unlink, self._join(claimed))
        _fsync_dir(self.path)
        return released

    def quarantine(self, claimed):
        """Set an unreadable event aside (kept for the operator)."""
        name = self.pending_name(claimed) + '.invalid'
        moved = _ignore_missing(os.rename, self._join(claimed),
                                self._join(name))
        _fsync_dir(self.path)
        return moved

    def recover(self, now=None):
        """Return claims of dead workers and finish interrupted writes.

        A claim older than claim_timeout goes back to pending.  A temporary
        file that old is renamed into place when it holds a whole envelope
        (the writer died between fsync and rename) and removed otherwise.
        Returns the pending names recovered.
        """
        now = time.time() if now is None else now
        recovered = []
        for entry in sorted(os.listdir(self.path)):
            claim = _CLAIMED.match(entry)
            if claim and now - int(claim.group('at')) >= self.claim_timeout:
                if _ignore_missing(os.rename, self._join(entry),
                                   self._join(claim.group('name'))):
                    LOG.warning('Compute event %s: claim expired, queued '
                                'again.', claim.group('name'))
                    recovered.append(claim.group('name'))
                continue
            temp = _TEMP.match(entry)
            if temp:
                recovered.extend(self._recover_temp(entry,
                                                    temp.group('name'), now))
        if recovered:
            _fsync_dir(self.path)
        return recovered

    def _recover_temp(self, entry, name, now):
        try:
            age = now - os.path.getmtime(self._join(entry))
        except OSError:
            return []
        if age < self.claim_timeout:
            return []
        try:
            envelope = self.read(entry)
            whole = isinstance(envelope, dict) and 'event' in envelope
        except (OSError, IOError, ValueError):
            whole = False
        if whole and not os.path.exists(self._join(name)):
            if _ignore_missing(os.rename, self._join(entry),
                               self._join(name)):
                LOG.warning('Compute event %s: interrupted write '
                            'completed.', name)
                return [name]
            return []
        _ignore_missing(os.unlink, self._join(entry))
        return []
