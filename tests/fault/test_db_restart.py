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

"""MariaDB restarts under a create/delete load (on demand: tox -e faults).

The services run on a private mariadbd (its own data directory and port,
started and restarted by the test), so restarting it disturbs no other
test; RabbitMQ is the shared one (own vhost).  Four clients create a
volume, wait for it, delete it and wait until it is gone, ten times each;
after the first eight operations the database is stopped for 5 s and
started again.  Counted: completed pairs, operations that failed with a
message (an API error or a volume in error), and volumes stuck in a
transitional state 120 s after the load ended (must be 0).
"""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import fixtures
from tests.functional import base
from tests.functional import services
from testtools import content

CLIENTS = 4
ROUNDS = 10
RESTART_AFTER = 8
DOWN_SECONDS = 5
STUCK_AFTER = 120
TRANSITIONAL = ('creating', 'deleting', 'attaching', 'detaching')


def _free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class PrivateMariaDB(fixtures.Fixture):
    """A mariadbd of our own, restartable."""

    def _setUp(self):
        self.binary = shutil.which('mariadbd') or '/usr/sbin/mariadbd'
        installer = shutil.which('mariadb-install-db')
        if not os.path.exists(self.binary) or not installer:
            raise services.Unavailable('mariadbd/mariadb-install-db not '
                                       'installed (mariadb-server)')
        self.dir = tempfile.mkdtemp(prefix='ksvd-mariadb-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.port = _free_port()
        subprocess.run([installer, '--no-defaults', '--datadir=%s/data'
                        % self.dir, '--user=%s' % _user(),
                        '--auth-root-authentication-method=normal',
                        '--skip-test-db'], check=True, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        self.proc = None
        self.start()
        self.addCleanup(self.stop)
        import pymysql
        conn = pymysql.connect(host='127.0.0.1', port=self.port,
                               user='root', password='')
        with conn.cursor() as cur:
            cur.execute('CREATE DATABASE cinder CHARACTER SET utf8mb4')
        conn.close()
        self.url = ('mysql+pymysql://root@127.0.0.1:%d/cinder?charset=utf8mb4'
                    % self.port)

    def start(self):
        log = open(os.path.join(self.dir, 'mariadbd.log'), 'ab')
        self.proc = subprocess.Popen(
            [self.binary, '--no-defaults', '--datadir=%s/data' % self.dir,
             '--user=%s' % _user(), '--port=%d' % self.port,
             '--bind-address=127.0.0.1', '--socket=%s/sock' % self.dir,
             '--pid-file=%s/pid' % self.dir, '--skip-log-bin',
             '--max-connections=300'],
            stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.time() + 60
        while not services._port_open('127.0.0.1', self.port, 1):
            if self.proc.poll() is not None or time.time() > deadline:
                raise services.Unavailable('private mariadbd did not start')
            time.sleep(0.2)

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def _user():
    import pwd
    return pwd.getpwuid(os.getuid()).pw_name


class _Load(object):
    """CLIENTS clients creating, waiting, deleting, waiting; counted."""

    def __init__(self, test, endpoint):
        self.test = test
        self.endpoint = endpoint
        self.lock = threading.Lock()
        self.counts = {'completed': 0, 'failed_with_message': 0,
                       'failed_without_message': 0, 'ops': 0}
        self.examples = []
        self.restart_now = threading.Event()

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
            except Exception:  # API/DB down: ask again
                time.sleep(1)
                continue
            if vol.status not in TRANSITIONAL:
                return vol.status
            time.sleep(0.5)
        return 'stuck'

    def worker(self, index):
        client = self.test.client(self.endpoint)
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


class DbRestartTest(base.FunctionalTestCase):

    def test_mariadb_restart_during_load(self):
        rabbit = self.need(services.RabbitVhost())
        db = self.need(PrivateMariaDB())
        conf = services.service_conf(self.workdir, rabbit.url, db.url)
        args = ['--config-file', services.DIST_CONF, '--config-file', conf]
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', args + ['db', 'sync'], self.workdir)
        self.assertEqual(0, rc, err)
        api = self.start('ksvd-cinder-api', args, 'api')
        self.start('ksvd-cinder-scheduler', args, 'scheduler')
        self.start('ksvd-cinder-volume', args, 'volume')
        endpoint = self.wait_api(api)
        cinder = self.client(endpoint)
        self.wait_services_up(cinder)

        load = _Load(self, endpoint)
        threads = [threading.Thread(target=load.worker, args=(i,))
                   for i in range(CLIENTS)]
        for thread in threads:
            thread.start()
        self.assertTrue(load.restart_now.wait(300), 'load did not start')
        db.stop()
        time.sleep(DOWN_SECONDS)
        db.start()
        for thread in threads:
            thread.join(STUCK_AFTER * ROUNDS)

        # Stuck: anything still transitional STUCK_AFTER after the load.
        deadline = time.time() + STUCK_AFTER
        stuck = []
        while time.time() < deadline:
            stuck = [v for v in cinder.volumes.list()
                     if v.status in TRANSITIONAL]
            if not stuck:
                break
            time.sleep(2)
        figures = ('%d create/delete pairs planned; completed %d, failed '
                   'with a message %d, failed without a message %d, stuck '
                   '%d; MariaDB down %ds after %d operations; examples: %s'
                   % (CLIENTS * ROUNDS, load.counts['completed'],
                      load.counts['failed_with_message'],
                      load.counts['failed_without_message'], len(stuck),
                      DOWN_SECONDS, RESTART_AFTER, load.examples))
        self.addDetail('fault-figures', content.text_content(figures))
        os.makedirs(base.LOG_DIR, exist_ok=True)
        with open(os.path.join(base.LOG_DIR, 'fault-figures.txt'),
                  'a') as handle:
            handle.write(figures + '\n')
        self.assertEqual([], ['%s %s' % (v.id, v.status) for v in stuck])
        self.assertEqual(0, load.counts['failed_without_message'])
        counts = load.counts
        self.assertEqual(CLIENTS * ROUNDS, counts['completed']
                         + counts['failed_with_message']
                         + counts['failed_without_message'])
        # The services reconnected: a new volume works end to end.
        vol = cinder.volumes.create(1, name='after-restart')
        self.wait_status(cinder.volumes, vol.id, 'available', 120)
        cinder.volumes.delete(vol.id)
        self.wait_gone(cinder.volumes, vol.id, 120)
