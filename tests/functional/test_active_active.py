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

"""Two ksvd-cinder-volume processes in one cluster, one killed mid-load.

Real api, scheduler and two volume processes (hosts node-a and node-b,
[DEFAULT] cluster = ksvd-aa) on MariaDB and RabbitMQ, locks in tooz on
Redis or etcd.  The backend is cinder's HA fake driver (the only fake
that declares SUPPORTS_ACTIVE_ACTIVE) with a 1 s create, so creates are
in flight when node-a gets SIGKILL during 50 creates.  Afterwards every
volume is available, or error with a user message; nothing stays in
creating or deleting longer than STUCK_BOUND after the kill; node-b
keeps serving.  node-a claims each request CLAIM_DELAY seconds after
receiving it, so it dies holding requests it has received but not
started (in production that window is short but real: the flake this
reproduces left one volume in creating now and then).
"""

import concurrent.futures
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import fixtures
from tests.functional import base
from tests.functional import services
from testtools import content

DOWN_TIME = 10        # [DEFAULT] service_down_time
CLEANUP_INTERVAL = 5  # [ksvd_cluster] cleanup_interval
REPORT_INTERVAL = 2   # [DEFAULT] report_interval
# A dead member's work is cleaned at most DOWN_TIME + CLEANUP_INTERVAL
# after its last heartbeat (which may be REPORT_INTERVAL old when it
# dies); 20 s more for the cleanup and the client's polling on 2 cores.
STUCK_BOUND = REPORT_INTERVAL + DOWN_TIME + CLEANUP_INTERVAL + 20
# The API and scheduler work through the 50 creates at their own pace (on
# a loaded 2-core machine: one API worker, about 1 s per create); the
# bound runs from the last accepted create plus this allowance.
LOAD_ALLOWANCE = 180
CREATES = 50
KILL_AFTER = 12
TRANSITIONAL = ('creating', 'deleting', 'downloading')
# node-a (the member killed) claims each request this long after it
# received it, so that it dies holding received but unstarted requests.
CLAIM_DELAY = 3

SLOW_DRIVER = '''
import os
import time

from cinder.objects import cleanable
from cinder.tests import fake_driver


def _claim_late(set_worker, seconds):
    def set_worker_late(self):
        time.sleep(seconds)
        return set_worker(self)
    return set_worker_late


class SlowHADriver(fake_driver.FakeHAReplicatedLoggingVolumeDriver):
    """cinder's active-active fake, with a create that takes a second.

    On the host named by KSVD_TEST_LATE_CLAIM_HOST the volume manager
    also claims each request CLAIM_DELAY seconds after oslo.messaging
    has acknowledged it to the broker (the window in which a member that
    dies leaves a request nobody will carry out; seconds in production).
    """

    def __init__(self, *args, **kwargs):
        super(SlowHADriver, self).__init__(*args, **kwargs)
        late = os.environ.get('KSVD_TEST_LATE_CLAIM_HOST')
        if late and (kwargs.get('host') or '').split('@')[0] == late:
            cls = cleanable.CinderCleanableObject
            cls.set_worker = _claim_late(cls.set_worker, %(delay)d)

    def create_volume(self, volume):
        time.sleep(1)
        return super(SlowHADriver, self).create_volume(volume)
''' % {'delay': CLAIM_DELAY}


class Redis(fixtures.Fixture):
    """The machine's Redis (tooz keys of cinder locks are per resource)."""

    def _setUp(self):
        host = os.environ.get('KSVD_TEST_REDIS_HOST', '127.0.0.1')
        port = int(os.environ.get('KSVD_TEST_REDIS_PORT', '6379'))
        if not services._port_open(host, port):
            raise services.Unavailable('Redis is not listening on %s:%d'
                                       % (host, port))
        self.url = 'redis://%s:%d' % (host, port)


class Etcd(fixtures.Fixture):
    """A private etcd (Debian's etcd-server) on free loopback ports."""

    def _setUp(self):
        binary = shutil.which('etcd')
        if not binary:
            raise services.Unavailable('etcd is not installed (Debian '
                                       'package etcd-server; '
                                       'tools/setup-test-machine installs '
                                       'it)')
        data = tempfile.mkdtemp(prefix='ksvd-etcd-')
        self.addCleanup(shutil.rmtree, data, True)
        client, peer = services.free_port(), services.free_port()
        log = open(os.path.join(data, 'etcd.log'), 'wb')
        self.addCleanup(log.close)
        proc = subprocess.Popen(
            [binary, '--name', 'ksvd-test', '--data-dir',
             os.path.join(data, 'member'),
             '--listen-client-urls', 'http://127.0.0.1:%d' % client,
             '--advertise-client-urls', 'http://127.0.0.1:%d' % client,
             '--listen-peer-urls', 'http://127.0.0.1:%d' % peer,
             '--initial-advertise-peer-urls', 'http://127.0.0.1:%d' % peer,
             '--initial-cluster', 'ksvd-test=http://127.0.0.1:%d' % peer],
            stdout=log, stderr=subprocess.STDOUT)

        def stop():
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        self.addCleanup(stop)
        deadline = time.time() + 60
        while not services._port_open('127.0.0.1', client):
            if proc.poll() is not None or time.time() > deadline:
                raise services.Unavailable('etcd did not start')
            time.sleep(0.2)
        self.url = 'etcd3+http://127.0.0.1:%d?api_version=v3' % client


class ActiveActiveTest(base.FunctionalTestCase):

    def _deploy(self, backend_url):
        rabbit = self.need(services.RabbitVhost())
        db = self.need(services.MysqlDatabase())
        pylib = os.path.join(self.workdir, 'pylib')
        os.mkdir(pylib)
        with open(os.path.join(pylib, 'ksvd_test_slow.py'), 'w') as handle:
            handle.write(SLOW_DRIVER)
        self.useFixture(fixtures.EnvironmentVariable('PYTHONPATH', pylib))
        self.useFixture(fixtures.EnvironmentVariable(
            'KSVD_TEST_LATE_CLAIM_HOST', 'node-a'))
        extra = {
            'DEFAULT': {'cluster': 'ksvd-aa',
                        'service_down_time': str(DOWN_TIME),
                        'report_interval': str(REPORT_INTERVAL)},
            'fake': {'volume_driver': 'ksvd_test_slow.SlowHADriver'},
            'coordination': {'backend_url': backend_url},
            'ksvd_cluster': {'cleanup_interval': str(CLEANUP_INTERVAL)},
            # Five services share MariaDB with other tests.
            'database': {'max_pool_size': '5', 'max_overflow': '10'},
        }
        conf = services.service_conf(self.workdir, rabbit.url, db.url, extra)
        self.args = ['--config-file', services.DIST_CONF, '--config-file',
                     conf]
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', self.args + ['db', 'sync'], self.workdir)
        self.assertEqual(0, rc, err)
        api = self.start('ksvd-cinder-api', self.args, 'api')
        self.start('ksvd-cinder-scheduler', self.args, 'scheduler')
        self.volumes = {}
        for node in ('node-a', 'node-b'):
            node_conf = services.write_conf(
                os.path.join(self.workdir, '%s.conf' % node),
                {'DEFAULT': {'host': node}})
            self.volumes[node] = self.start(
                'ksvd-cinder-volume', self.args + ['--config-file',
                                                   node_conf], node)
        cinder = self.client(self.wait_api(api))
        self.wait_for('both volume services up', lambda: len([
            s for s in cinder.services.list(binary='cinder-volume')
            if s.state == 'up']) == 2, 120)
        self.wait_for('scheduler knows the pool',
                      lambda: cinder.pools.list(detailed=False), 120)
        return cinder

    def _cluster(self, cinder):
        clusters = cinder.clusters.list(detailed=True)
        self.assertEqual(['ksvd-aa@fake'], [c.name for c in clusters])
        return clusters[0]

    def _kill_during_creates(self, backend_url):
        cinder = self._deploy(backend_url)
        cluster = self._cluster(cinder)
        self.assertEqual((2, 0), (cluster.num_hosts, cluster.num_down_hosts))
        for proc in self.volumes.values():
            proc.wait_for_log(r'Cluster ksvd-aa@fake: cleaning the work of '
                              r'members whose heartbeat is older than 10s')

        submitted, errors, ids = [], [], []
        half = threading.Event()
        lock = threading.Lock()

        def create(index):
            client = self.client(self._endpoint)
            try:
                vol = client.volumes.create(1, name='aa-%02d' % index)
            except Exception as exc:
                errors.append('create %d: %r' % (index, exc))
                return
            with lock:
                ids.append(vol.id)
                submitted.append(index)
                if len(submitted) >= KILL_AFTER:
                    half.set()

        victim = self.volumes['node-a']
        with concurrent.futures.ThreadPoolExecutor(5) as pool:
            futures = [pool.submit(create, i) for i in range(CREATES)]
            self.assertTrue(half.wait(120), 'creates did not start')
            os.killpg(victim.proc.pid, signal.SIGKILL)
            killed_at = time.time()
            for future in futures:
                future.result()
        last_submit = time.time()
        victim.proc.wait(10)
        self.assertEqual([], errors)
        self.assertEqual(CREATES, len(ids))

        def settled():
            vols = [cinder.volumes.get(i) for i in ids]
            busy = [v for v in vols if v.status in TRANSITIONAL]
            return None if busy else vols
        deadline = max(killed_at + STUCK_BOUND,
                       last_submit + LOAD_ALLOWANCE)
        vols = None
        while time.time() < deadline:
            vols = settled()
            if vols:
                break
            time.sleep(1)
        settled_at = time.time()
        settle_seconds = settled_at - killed_at
        if not vols:
            stuck = ['%s %s %s' % (v.id, v.status,
                                   getattr(v, 'os-vol-host-attr:host'))
                     for v in (cinder.volumes.get(i) for i in ids)
                     if v.status in TRANSITIONAL]
            self.fail('%d volumes still transitional %ds after the kill: %s'
                      % (len(stuck), time.time() - killed_at, stuck))
        statuses = dict((v.id, v.status) for v in vols)
        self.assertEqual(set(), set(statuses.values()) -
                         set(['available', 'error']))
        failed = [i for i, s in statuses.items() if s == 'error']
        messages = cinder.messages.list()
        told = set(m.resource_uuid for m in messages)
        self.assertEqual([], [i for i in failed if i not in told],
                         'error volumes without a user message')
        hosts = dict((v.id, getattr(v, 'os-vol-host-attr:host'))
                     for v in vols)
        on_a = [i for i in ids if (hosts[i] or '').startswith('node-a')]
        unstarted = len(set(re.findall(
            r'Volume ([0-9a-f-]{36}) \(creating\) was sent to the cluster '
            r'before', self.volumes['node-b'].output())))
        figures = (
            'backend %s: %d creates, node-a killed after %d submitted; '
            '%d available, %d error (all with a message), %d stuck; '
            'settled %.1fs after the kill, %.1fs after the last create was '
            'accepted (bound for a dead member\'s work: %ds); %d placed on '
            'node-a; %d received by node-a but not started, cleaned by '
            'node-b'
            % (backend_url.split(':')[0], CREATES, KILL_AFTER,
               len(ids) - len(failed), len(failed), 0, settle_seconds,
               settled_at - last_submit, STUCK_BOUND, len(on_a),
               unstarted))
        self.addDetail('aa-figures', content.text_content(figures))
        # Kept for the report on success too.
        os.makedirs(base.LOG_DIR, exist_ok=True)
        with open(os.path.join(base.LOG_DIR, 'active-active-figures.txt'),
                  'a') as handle:
            handle.write(figures + '\n')
        # An error may come from the cleanup of node-a's work or from the
        # scheduler (no backend up while node-b's heartbeat lags on a
        # loaded machine); either way it has a user message (above).

        # The survivor serves new work and the dead member's volumes.
        self.wait_for('node-a reported down', lambda: self._cluster(
            cinder).num_down_hosts == 1, DOWN_TIME * 4)
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', self.args + ['cluster', 'status'],
            self.workdir)
        self.assertEqual(0, rc, err)
        self.assertIn('cluster ksvd-aa@fake: 2 members, 1 down', out)
        self.assertRegex(out, r'node-a@fake +cinder-volume +down ')
        self.assertRegex(out, r'node-b@fake +cinder-volume +up ')
        # Nothing of node-a's is left to clean once everything settled.
        self.assertRegex(out, r'node-a@fake +cinder-volume +down .* '
                              r'holds 0')
        self.addDetail('cluster-status', content.text_content(out))
        new = [cinder.volumes.create(1, name='after-%d' % i)
               for i in range(3)]
        for vol in new:
            self.wait_status(cinder.volumes, vol.id, 'available')
        for vol_id in ids + [v.id for v in new]:
            cinder.volumes.delete(vol_id)
        for vol_id in ids + [v.id for v in new]:
            self.wait_gone(cinder.volumes, vol_id, 120)
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', self.args + ['cluster', 'list'],
            self.workdir)
        self.assertEqual(0, rc, err)
        self.assertIn('ksvd-aa@fake', out)

    def wait_api(self, proc):
        self._endpoint = super(ActiveActiveTest, self).wait_api(proc)
        return self._endpoint

    def test_sigkill_one_member_redis(self):
        redis = self.need(Redis())
        self._kill_during_creates(redis.url)

    def test_sigkill_one_member_etcd(self):
        etcd = self.need(Etcd())
        self._kill_during_creates(etcd.url)

    def test_bad_coordination_url_refused(self):
        conf = services.write_conf(
            os.path.join(self.workdir, 'bad.conf'),
            {'DEFAULT': {'state_path': self.workdir,
                         'enabled_backends': 'fake', 'cluster': 'c1'},
             'database': {'connection': 'sqlite:///%s/c.sqlite'
                          % self.workdir},
             'fake': {'volume_driver': 'cinder.tests.fake_driver.'
                      'FakeHAReplicatedLoggingVolumeDriver'},
             'coordination': {'backend_url': 'x'}})
        cases = [('not a url', 'is not a URL'),
                 ('nosuch://127.0.0.1:1', 'tooz cannot load a driver'),
                 ('redis://:pw@127.0.0.1:%d' % services.free_port(),
                  'cannot reach the coordinator at 127.0.0.1')]
        for url, expect in cases:
            with open(conf) as handle:
                text = handle.read()
            text = re.sub(r'backend_url = .*', 'backend_url = %s' % url, text)
            with open(conf, 'w') as handle:
                handle.write(text)
            started = time.time()
            rc, out, err = services.run_command(
                'ksvd-cinder-volume', ['--config-file', services.DIST_CONF,
                                       '--config-file', conf],
                self.workdir, timeout=120)
            self.assertEqual(78, rc, 'exit %s\n%s\n%s' % (rc, out, err))
            lines = err.strip().splitlines()
            self.assertEqual(1, len(lines), err)
            self.assertIn(expect, lines[0])
            self.assertNotIn('pw', lines[0])
            self.addDetail('refused-%s' % url.split(':')[0],
                           content.text_content('%.1fs: %s' % (
                               time.time() - started, lines[0])))
