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

"""Private, restartable MariaDB and RabbitMQ servers for the fault tests.

Each test stops and starts its own server (own data directory, own
loopback ports), so the machine's shared MariaDB and RabbitMQ, which other
tests use at the same time, are never disturbed.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import fixtures
from tests.functional import services


def _user():
    return pwd.getpwuid(os.getuid()).pw_name


def _wait_port(port, proc, what, timeout=90):
    deadline = time.time() + timeout
    while not services._port_open('127.0.0.1', port, 1):
        if proc.poll() is not None or time.time() > deadline:
            raise services.Unavailable('private %s did not start (exit '
                                       'status %s)' % (what, proc.poll()))
        time.sleep(0.2)


def _terminate(proc, timeout=60):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


class PrivateMariaDB(fixtures.Fixture):
    """A mariadbd of our own, restartable; database ``cinder``."""

    def _setUp(self):
        self.binary = shutil.which('mariadbd') or '/usr/sbin/mariadbd'
        installer = shutil.which('mariadb-install-db')
        if not os.path.exists(self.binary) or not installer:
            raise services.Unavailable('mariadbd/mariadb-install-db not '
                                       'installed (mariadb-server)')
        self.dir = tempfile.mkdtemp(prefix='ksvd-mariadb-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.port = services.free_port()
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
        with open(os.path.join(self.dir, 'mariadbd.log'), 'ab') as log:
            self.proc = subprocess.Popen(
                [self.binary, '--no-defaults', '--datadir=%s/data' % self.dir,
                 '--user=%s' % _user(), '--port=%d' % self.port,
                 '--bind-address=127.0.0.1', '--socket=%s/sock' % self.dir,
                 '--pid-file=%s/pid' % self.dir, '--skip-log-bin',
                 '--max-connections=300'],
                stdout=log, stderr=subprocess.STDOUT)
        _wait_port(self.port, self.proc, 'mariadbd')

    def stop(self):
        _terminate(self.proc)


class PrivateRabbitMQ(fixtures.Fixture):
    """A rabbitmq-server node of our own on loopback ports, restartable.

    Debian's rabbitmq-server runs the broker as the rabbitmq user, so its
    directory belongs to that user; the node name is unique per test and
    the shared epmd of the machine's broker is reused.
    """

    def _setUp(self):
        server = shutil.which('rabbitmq-server')
        if not server:
            raise services.Unavailable('rabbitmq-server is not installed')
        self.server = server
        self.dir = tempfile.mkdtemp(prefix='ksvd-rabbit-')
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.port = services.free_port()
        dist_port = services.free_port()
        for sub in ('mnesia', 'log'):
            os.mkdir(os.path.join(self.dir, sub))
        with open(os.path.join(self.dir, 'enabled_plugins'), 'w') as f:
            f.write('[].\n')
        with open(os.path.join(self.dir, 'rabbitmq.conf'), 'w') as f:
            f.write('listeners.tcp.local = 127.0.0.1:%d\n' % self.port)
        if os.getuid() == 0:
            subprocess.run(['chown', '-R', 'rabbitmq:rabbitmq', self.dir],
                           check=False)
        self.node = 'ksvdfault%s@localhost' % uuid.uuid4().hex[:8]
        self.env = dict(
            os.environ,
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_DIST_PORT=str(dist_port),
            RABBITMQ_CONFIG_FILE=os.path.join(self.dir, 'rabbitmq.conf'),
            RABBITMQ_MNESIA_BASE=os.path.join(self.dir, 'mnesia'),
            RABBITMQ_LOG_BASE=os.path.join(self.dir, 'log'),
            RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.dir,
                                                       'enabled_plugins'),
            RABBITMQ_FEATURE_FLAGS_FILE=os.path.join(self.dir,
                                                     'feature_flags'),
            RABBITMQ_PID_FILE=os.path.join(self.dir, 'pid'))
        self.proc = None
        self.start()
        self.addCleanup(self.stop)
        self.url = 'rabbit://guest:guest@127.0.0.1:%d/' % self.port

    def start(self):
        with open(os.path.join(self.dir, 'server.out'), 'ab') as out:
            self.proc = subprocess.Popen([self.server], env=self.env,
                                         stdout=out, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        _wait_port(self.port, self.proc, 'RabbitMQ (%s, log in %s)'
                   % (self.node, self.dir))

    def stop(self):
        """Stop the node (rabbitmqctl), then reap the wrapper process."""
        if self.proc is None or self.proc.poll() is not None:
            return
        subprocess.run(['rabbitmqctl', '-n', self.node, 'stop'],
                       env=self.env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.STDOUT, timeout=60, check=False)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        deadline = time.time() + 30
        while (services._port_open('127.0.0.1', self.port, 1)
               and time.time() < deadline):
            time.sleep(0.2)
