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
"""The legacy tier's targets: cinder 15 on Python 2.7, cinder 16 on 3.9.

Both live in the bullseye chroot that tools/legacy-chroot builds. Commands
run in it through that script (its own mounts, a clean environment, the
repository read-only at /src); files the services read and write are in a
work directory under the chroot's /tmp, seen from the host through the
chroot's path. cinder_ksvd is installed into each venv from this working
tree once per test process.
"""

import fcntl
import hashlib
import os
import subprocess
import sys
import tempfile

import fixtures
from tests.functional import services

TOOL = os.path.join(services.REPO, 'tools', 'legacy-chroot')


class Target(object):
    """One cinder release on one interpreter in the chroot."""

    def __init__(self, name, venv, python, cinder, api_version, line):
        self.name = name
        self.line = line
        self.venv = venv
        self.python = python
        self.cinder = cinder
        self.api_version = api_version

    def bin(self, name):
        return '%s/bin/%s' % (self.venv, name)


TRAIN = Target('train', '/opt/train', '2.7', '15.6.0', '3.59', '15')
USSURI = Target('ussuri', '/opt/ussuri', '3.9', '16.4.2', '3.60', '16')

_ROOT = []
_INSTALLED = set()


def root():
    """The chroot's directory on the host (built by tox's commands_pre)."""
    if not _ROOT:
        if os.geteuid() != 0:
            raise services.Unavailable('the legacy chroot needs root')
        try:
            path = subprocess.check_output(
                [TOOL, 'path'], universal_newlines=True).strip()
        except (OSError, subprocess.CalledProcessError) as exc:
            raise services.Unavailable('tools/legacy-chroot path: %s' % exc)
        if not os.path.exists(os.path.join(path, '.ksvd-legacy-stamp')):
            raise services.Unavailable('the legacy chroot is not built: run '
                                       'tools/legacy-chroot build (tox -e '
                                       'legacy does)')
        _ROOT.append(path)
    return _ROOT[0]


def host_path(path):
    """A chroot path as the host sees it."""
    return os.path.join(root(), path.lstrip('/'))


def command(argv):
    return [TOOL, 'run'] + list(argv)


def run(argv, timeout=600, env=None):
    """Run argv in the chroot; (returncode, stdout, stderr) as text."""
    if env:
        argv = ['env'] + ['%s=%s' % kv for kv in sorted(env.items())] + \
            list(argv)
    proc = subprocess.run(command(argv), stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    return (proc.returncode, proc.stdout.decode('utf-8', 'replace'),
            proc.stderr.decode('utf-8', 'replace'))


def _version():
    out = subprocess.check_output(
        [sys.executable, 'setup.py', '-q', '--version'], cwd=services.REPO,
        stderr=subprocess.DEVNULL, universal_newlines=True)
    return out.strip().splitlines()[-1]


def install(target):
    """cinder_ksvd from this working tree into the target's venv.

    Once per tree content: test processes share the venvs (a lock file),
    and a venv that has this content already is left alone.
    """
    if target.name in _INSTALLED:
        return
    files = subprocess.check_output(
        ['git', 'ls-files', '-co', '--exclude-standard', '-z', '--',
         'cinder_ksvd', 'etc', 'setup.cfg', 'setup.py', 'requirements.txt',
         'README.md', 'LICENSE'], cwd=services.REPO)
    tarball = subprocess.run(
        ['tar', '-C', services.REPO, '--null', '-T', '-', '--sort=name',
         '--mtime=@0', '--owner=0', '--group=0', '-cf', '-'], input=files,
        stdout=subprocess.PIPE, check=True).stdout
    digest = hashlib.sha256(tarball).hexdigest()
    marker = host_path('%s/.ksvd-src-sha256' % target.venv)
    with open(host_path('/tmp/.ksvd-install-%s.lock' % target.name),
              'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(marker) and open(marker).read() == digest:
            _INSTALLED.add(target.name)
            return
        workdir = tempfile.mkdtemp(prefix='ksvd-src-', dir=host_path('/tmp'))
        try:
            subprocess.run(['tar', '-C', workdir, '-xf', '-'], input=tarball,
                           check=True)
            inside = '/tmp/' + os.path.basename(workdir)
            rc, out, err = run([target.bin('pip'), 'install', '-q',
                                '--no-deps', '--no-build-isolation',
                                '--force-reinstall', inside],
                               env={'PBR_VERSION': _version()})
        finally:
            subprocess.call(['rm', '-rf', workdir])
        if rc:
            raise AssertionError('installing cinder_ksvd into %s failed:'
                                 '\n%s\n%s' % (target.venv, out, err))
        with open(marker, 'w') as handle:
            handle.write(digest)
    _INSTALLED.add(target.name)


class Workdir(fixtures.Fixture):
    """A directory under the chroot's /tmp: .path (host), .inside."""

    def _setUp(self):
        self.path = tempfile.mkdtemp(prefix='ksvd-legacy-',
                                     dir=host_path('/tmp'))
        os.chmod(self.path, 0o755)
        self.inside = '/tmp/' + os.path.basename(self.path)
        self.addCleanup(subprocess.call, ['rm', '-rf', '--one-file-system',
                                          self.path])

    def host(self, inside):
        return os.path.join(root(), inside.lstrip('/'))


class Process(services.Process):
    """A service started in the chroot (its output kept on the host)."""

    def __init__(self, argv, workdir, name):
        super(Process, self).__init__(argv[0], argv[1:], workdir, name)
        self.argv = argv

    def _setUp(self):
        self._log = open(self.log_path, 'wb')
        self.addCleanup(self._log.close)
        self.proc = subprocess.Popen(
            command(self.argv), stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True)
        self.addCleanup(self.stop)
