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

"""Delivery of outbox events to the sinks, with retries and backoff.

An event leaves the outbox only when every sink took it; a failed attempt
puts it back with its attempt count and the time of the next try (doubling
up to a maximum), so an outage of the MC delays events and never drops
them.  A retry skips the sinks that already took the event; one that did
not may get it twice, with the same event_id.  Nothing runs at import:
Worker.start() runs the loop in a thread (a green thread under cinder's
eventlet monkey patching).
"""

import random
import threading
import time

from oslo_log import log as logging

from cinder_ksvd.compute import events

LOG = logging.getLogger(__name__)


def backoff(attempts, interval, max_interval):
    """Seconds to wait after the attempts-th failed attempt (jittered)."""
    delay = min(max_interval, interval * (2 ** min(attempts - 1, 30)))
    return delay * random.uniform(0.5, 1.0)


def _due(outbox, name, now):
    try:
        return outbox.read(name).get('next_try', 0) <= now
    except (OSError, IOError):  # taken by another worker meanwhile
        return False
    except ValueError:  # unreadable: claim it, then set it aside
        return True


def _send(sink, event, body):
    try:
        return bool(sink.send(event, body))
    except Exception:
        LOG.exception('Compute event %(id)s: sink %(sink)s failed',
                      {'id': event['event_id'], 'sink': sink.name})
        return False


def deliver_pending(outbox, sinks, now=None, interval=5.0,
                    max_interval=300.0):
    """One pass over the outbox; returns counts by outcome.

    :param now: the current time (seconds since the epoch), for tests.
    :param interval: seconds before the first retry.
    :param max_interval: longest wait between two attempts.
    """
    now = time.time() if now is None else now
    counts = {'delivered': 0, 'retry': 0, 'waiting': 0, 'invalid': 0}
    outbox.recover(now)
    for name in outbox.pending():
        if not _due(outbox, name, now):
            counts['waiting'] += 1
            continue
        claimed = outbox.claim(name, now)
        if claimed is None:
            continue
        try:
            envelope = outbox.read(claimed)
            event = events.validate(envelope['event'])
        except (OSError, IOError):
            continue
        except (ValueError, KeyError, TypeError) as exc:
            LOG.error('Compute event file %(name)s is unreadable, set '
                      'aside as %(name)s.invalid: %(error)s',
                      {'name': name, 'error': exc})
            outbox.quarantine(claimed)
            counts['invalid'] += 1
            continue
        body = events.dumps(event)
        delivered = list(envelope.get('delivered') or [])
        for sink in sinks:
            if sink.name not in delivered and _send(sink, event, body):
                delivered.append(sink.name)
        if all(sink.name in delivered for sink in sinks):
            outbox.done(claimed)
            counts['delivered'] += 1
            continue
        attempts = int(envelope.get('attempts') or 0) + 1
        envelope.update(attempts=attempts, delivered=delivered,
                        next_try=now + backoff(attempts, interval,
                                               max_interval))
        LOG.warning('Compute event %(id)s (%(type)s, volume %(volume)s) '
                    'not delivered after %(n)d attempt(s); next try in '
                    '%(wait).0f s',
                    {'id': event['event_id'], 'type': event['type'],
                     'volume': event['volume_id'], 'n': attempts,
                     'wait': envelope['next_try'] - now})
        outbox.release(claimed, envelope)
        counts['retry'] += 1
    return counts


_workers = set()
_workers_lock = threading.Lock()


def kick():
    """Wake the workers of this process: an event was just queued."""
    with _workers_lock:
        workers = list(_workers)
    for worker in workers:
        worker.wake()


class Worker(object):
    """Runs deliver_pending every interval seconds in a background thread.

    The service that owns it calls start() (lifecycle does, in
    cinder-volume); kick() wakes it early when an event is queued.
    """

    def __init__(self, outbox, sinks, interval=5.0, retry_interval=5.0,
                 retry_max_interval=300.0):
        self.outbox = outbox
        self.sinks = sinks
        self.interval = interval
        self.retry_interval = retry_interval
        self.retry_max_interval = retry_max_interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = None

    def run_once(self, now=None):
        return deliver_pending(self.outbox, self.sinks, now=now,
                               interval=self.retry_interval,
                               max_interval=self.retry_max_interval)

    def wake(self):
        self._wake.set()

    def _loop(self):
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.run_once()
            except Exception:
                LOG.exception('Compute event delivery pass failed')
            self._wake.wait(self.interval)

    def start(self):
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop,
                                            name='ksvd-compute-delivery')
            self._thread.daemon = True
            self._thread.start()
            with _workers_lock:
                _workers.add(self)
        return self._thread

    def stop(self, timeout=None):
        with _workers_lock:
            _workers.discard(self)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
