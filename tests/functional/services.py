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
"""Real services for functional tests: broker vhost, database, processes.

Each test gets its own RabbitMQ vhost (queue names such as cinder-volume
would collide between runs otherwise) and its own database; processes are
the installed ksvd-cinder-* wrappers, started from this virtualenv's bin
directory, stopped with SIGTERM, a bounded wait, then SIGKILL.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid

import fixtures
from tests.ports import free_port  # noqa: F401  (services.free_port)

BIN_DIR = os.path.dirname(os.path.abspath(sys.executable))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
DIST_CONF = os.path.join(REPO, 'etc', 'ksvd-cinder', 'cinder-dist.conf')

RABBIT_HOST = os.environ.get('KSVD_TEST_RABBIT_HOST', '127.0.0.1')
RABBIT_PORT = int(os.environ.get('KSVD_TEST_RABBIT_PORT', '5672'))
RABBIT_USER = os.environ.get('KSVD_TEST_RABBIT_USER', 'guest')
RABBIT_PASSWORD = os.environ.get('KSVD_TEST_RABBIT_PASSWORD', 'guest')
MYSQL_URL = os.environ.get(
    'KSVD_TEST_MYSQL_URL',
    'mysql+pymysql://ksvd_test:ksvd_test@127.0.0.1:3306')


class Unavailable(Exception):
    """A service the test needs is not there."""


def in_ci():
    return os.environ.get('CI', '').lower() in ('1', 'true', 'yes')


def _port_open(host, port, timeout=2.0):
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except (OSError, socket.error):
        return False
    sock.close()
    return True


class RabbitVhost(fixtures.Fixture):
    """A fresh vhost on the local RabbitMQ, deleted afterwards."""

    def _setUp(self):
        if not _port_open(RABBIT_HOST, RABBIT_PORT):
            raise Unavailable('RabbitMQ is not listening on %s:%d'
                              % (RABBIT_HOST, RABBIT_PORT))
        self.name = 'ksvd-test-%s' % uuid.uuid4().hex[:12]
        self._ctl('add_vhost', self.name)
        self.addCleanup(self._ctl, 'delete_vhost', self.name)
        self._ctl('set_permissions', '-p', self.name, RABBIT_USER,
                  '.*', '.*', '.*')
        self.url = 'rabbit://%s:%s@%s:%d/%s' % (
            RABBIT_USER, RABBIT_PASSWORD, RABBIT_HOST, RABBIT_PORT,
            self.name)

    @staticmethod
    def _ctl(*args):
        try:
            subprocess.check_output(('rabbitmqctl',) + args,
                                    stderr=subprocess.STDOUT, timeout=60)
        except (OSError, subprocess.CalledProcessError) as exc:
            out = getattr(exc, 'output', b'') or b''
            raise Unavailable('rabbitmqctl %s failed: %s %s'
                              % (args[0], exc, out.decode()[-300:]))


class MysqlDatabase(fixtures.Fixture):
    """A throwaway MariaDB database, dropped afterwards."""

    def _setUp(self):
        import pymysql
        from sqlalchemy.engine import url as sa_url
        base = sa_url.make_url(MYSQL_URL)
        if not _port_open(base.host or '127.0.0.1', base.port or 3306):
            raise Unavailable('MariaDB is not listening on %s:%s'
                              % (base.host, base.port or 3306))
        self.name = 'ksvd_test_%s' % uuid.uuid4().hex[:12]
        try:
            self._conn = pymysql.connect(
                host=base.host, port=base.port or 3306,
                user=base.username, password=base.password or '',
                autocommit=True)
        except pymysql.err.MySQLError as exc:
            raise Unavailable('cannot log in to MariaDB as %s: %s (run '
                              'tools/setup-test-machine as root once, or set '
                              'KSVD_TEST_MYSQL_URL)'
                              % (base.username, exc))
        self.addCleanup(self._conn.close)
        self._execute('CREATE DATABASE `%s` CHARACTER SET utf8mb4'
                      % self.name)
        self.addCleanup(self._execute, 'DROP DATABASE IF EXISTS `%s`'
                        % self.name)
        self.url = '%s/%s?charset=utf8mb4' % (MYSQL_URL.rstrip('/'),
                                              self.name)

    def _execute(self, sql):
        with self._conn.cursor() as cur:
            cur.execute(sql)


def write_conf(path, sections):
    """Write an ini file from {section: {key: value}} (ordered)."""
    with open(path, 'w') as handle:
        for section, values in sections.items():
            handle.write('[%s]\n' % section)
            for key, value in values.items():
                handle.write('%s = %s\n' % (key, value))
            handle.write('\n')
    return path


def service_conf(workdir, transport_url, db_url, extra=None):
    """cinder.conf for the functional services, on top of cinder-dist.conf."""
    sections = {
        'DEFAULT': {
            'state_path': workdir,
            'transport_url': transport_url,
            'osapi_volume_listen': '127.0.0.1',
            'osapi_volume_listen_port': '0',
            'osapi_volume_workers': '1',
            'enabled_backends': 'fake',
            'report_interval': '2',
            'periodic_interval': '5',
            'service_down_time': '30',
            'host': 'ksvd-func',
        },
        'database': {'connection': db_url},
        'fake': {
            'volume_driver':
                'cinder.tests.fake_driver.FakeLoggingVolumeDriver',
            'volume_backend_name': 'fake',
            'target_helper': 'fake',
        },
        'oslo_messaging_notifications': {'driver': 'noop'},
    }
    sections.update(auth_conf(workdir))
    for section, values in (extra or {}).items():
        sections.setdefault(section, {}).update(values)
    return write_conf(os.path.join(workdir, 'cinder.conf'), sections)


def token_file(workdir):
    """The [ksvd_auth] token_file of the services a test starts."""
    return os.path.join(workdir, 'tokens.json')


def auth_conf(workdir):
    """The cinder.conf section that points the API at the test's tokens."""
    return {'ksvd_auth': {'token_file': token_file(workdir)}}


class Process(fixtures.Fixture):
    """One ksvd-cinder-* wrapper process; output kept in workdir."""

    def __init__(self, binary, args, workdir, name=None):
        super(Process, self).__init__()
        self.binary = binary
        self.args = list(args)
        self.workdir = workdir
        self.name = name or binary
        self.log_path = os.path.join(workdir, '%s.log' % self.name)

    def _setUp(self):
        self._log = open(self.log_path, 'wb')
        self.addCleanup(self._log.close)
        self.proc = subprocess.Popen(
            [os.path.join(BIN_DIR, self.binary)] + self.args,
            stdout=self._log, stderr=subprocess.STDOUT, cwd=self.workdir,
            env=service_env(), start_new_session=True)
        self.addCleanup(self.stop)

    def stop(self, timeout=20):
        if self.proc.poll() is not None:
            return self.proc.returncode
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            return self.proc.wait(10)

    def output(self):
        with open(self.log_path, 'rb') as handle:
            return handle.read().decode('utf-8', 'replace')

    def wait_for_log(self, pattern, timeout=90):
        """Return the first match of regex pattern in the output."""
        deadline = time.time() + timeout
        regex = re.compile(pattern)
        while time.time() < deadline:
            match = regex.search(self.output())
            if match:
                return match
            if self.proc.poll() is not None:
                raise AssertionError('%s exited with %s before logging %r'
                                     % (self.name, self.proc.returncode,
                                        pattern))
            time.sleep(0.2)
        raise AssertionError('%s did not log %r within %ss'
                             % (self.name, pattern, timeout))


def service_env():
    """The environment an operator's shell or systemd would give."""
    env = dict(os.environ)
    for name in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY',
                 'PYTHONWARNINGS'):
        env.pop(name, None)
    env['NO_PROXY'] = '127.0.0.1,localhost'
    return env


def run_command(binary, args, cwd, timeout=180, env=None):
    """Run a wrapper to completion; return (returncode, stdout, stderr).

    env: variables set on top of service_env().
    """
    environ = service_env()
    environ.update(env or {})
    proc = subprocess.run([os.path.join(BIN_DIR, binary)] + list(args),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          cwd=cwd, timeout=timeout, env=environ)
    return (proc.returncode, proc.stdout.decode('utf-8', 'replace'),
            proc.stderr.decode('utf-8', 'replace'))
