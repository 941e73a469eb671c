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

"""The create/delete load of the fault tests, and how it is counted.

CLIENTS clients each create a volume, wait for it, delete it and wait until
it is gone, ROUNDS times (KSVD_FAULT_ROUNDS; CI runs the default, more is a
longer run).  After RESTART_AFTER API calls the test is told to break
something.  Every pair ends as completed, failed with a message (an API
error with a text, or a volume in an error state) or failed without one;
volumes still in a transitional state STUCK_AFTER seconds after the load
are stuck.  Stuck and failed-without-message must both be 0.
"""

import os
import threading
import time

CLIENTS = 4
ROUNDS = int(os.environ.get('KSVD_FAULT_ROUNDS', '5'))
RESTART_AFTER = 8
STUCK_AFTER = 120
TRANSITIONAL = ('creating', 'deleting', 'attaching', 'detaching')


class Load(object):
    """CLIENTS clients creating, waiting, deleting, waiting; counted."""

    def __init__(self, client_factory):
        self.client_factory = client_factory
        self.lock = threading.Lock()
        self.counts = {'completed': 0, 'failed_with_message': 0,
                       'failed_without_message': 0, 'ops': 0}
        self.examples = []
        self.restart_now = threading.Event()
        self.threads = []

    def note(self, kind, text=None):
        with self.lock:
            self.counts[kind] += 1
            if text and len(self.examples) < 10:
                self.examples.append(text)

    def failed(self, what, exc):
        self.note('failed_with_message' if str(exc).strip()
                  else 'failed_without_message', '%s: %s' % (what, exc))

    def step(self):
        with self.lock:
            self.counts['ops'] += 1
            if self.counts['ops'] >= RESTART_AFTER:
                self.restart_now.set()

    @staticmethod
    def settle(client, vol_id):
        """The volume's first non-transitional status, 'gone' or 'stuck'."""
        from cinderclient import exceptions
        deadline = time.time() + STUCK_AFTER
        while time.time() < deadline:
            try:
                vol = client.volumes.get(vol_id)
            except exceptions.NotFound:
                return 'gone'
            except Exception:  # API, DB or broker down: ask again
                time.sleep(1)
                continue
            if vol.status not in TRANSITIONAL:
                return vol.status
            time.sleep(0.5)
        return 'stuck'

    def worker(self, index):
        client = self.client_factory()
        for rnd in range(ROUNDS):
            try:
                vol = client.volumes.create(1, name='f-%d-%d' % (index, rnd))
            except Exception as exc:
                self.failed('create', exc)
                self.step()
                continue
            self.step()
            status = self.settle(client, vol.id)
            if status != 'available':
                self.note('failed_with_message', 'create %s: %s'
                          % (vol.id, status))
                continue
            try:
                client.volumes.delete(vol.id)
            except Exception as exc:
                self.failed('delete', exc)
                self.step()
                continue
            self.step()
            status = self.settle(client, vol.id)
            if status == 'gone':
                self.note('completed')
            else:
                self.note('failed_with_message', 'delete %s: %s'
                          % (vol.id, status))

    def start(self):
        self.threads = [threading.Thread(target=self.worker, args=(i,))
                        for i in range(CLIENTS)]
        for thread in self.threads:
            thread.start()

    def join(self):
        for thread in self.threads:
            thread.join(STUCK_AFTER * 2 * ROUNDS)


def stuck_volumes(cinder):
    """Volumes still transitional STUCK_AFTER s from now (polled)."""
    deadline = time.time() + STUCK_AFTER
    stuck = []
    while time.time() < deadline:
        try:
            stuck = [v for v in cinder.volumes.list()
                     if v.status in TRANSITIONAL]
        except Exception:  # the API may still be reconnecting
            time.sleep(2)
            continue
        if not stuck:
            break
        time.sleep(2)
    return stuck


def figures(load, stuck, what):
    return ('%d create/delete pairs planned; completed %d, failed with a '
            'message %d, failed without a message %d, stuck %d; %s; '
            'examples: %s'
            % (CLIENTS * ROUNDS, load.counts['completed'],
               load.counts['failed_with_message'],
               load.counts['failed_without_message'], len(stuck), what,
               load.examples))
