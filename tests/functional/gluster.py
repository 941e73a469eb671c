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
"""A GlusterFS replica-2 volume on loopback, FUSE-mounted twice.

The two mounts are two separate glusterfs client processes, standing in for
two hosts sharing one volume. Both bricks live under a temporary directory on
this host; everything talks to 127.0.0.1 only.

Needs root, /dev/fuse and the glusterfs-server package (glusterd, gluster,
mount.glusterfs). When glusterd is not running the fixture starts it bound to
127.0.0.1 and stops it again once the last volume is gone; a glusterd that
was already running is left alone. A lock file serialises volume operations
and the start/stop decision between fixtures in parallel test workers.
"""

import contextlib
import errno
import fcntl
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import fixtures
from tests.functional import services

# The CLI refuses the literal brick hosts "localhost" and "127.0.0.1"
# (a string comparison in cli_cmd_bricks_parse); "127.1" is the inet_aton
# short form of the same address, needs no resolver and passes.
BRICK_HOST = '127.1'
BIND_ADDRESS = '127.0.0.1'
# Mount options that bypass the kernel page, attribute and entry caches:
# the only GlusterFS client setting that kept sqlite intact with two
# clients (shared/reference/sqlite-gluster.md).
COHERENT_OPTIONS = ('direct-io-mode=enable', 'attribute-timeout=0',
                    'entry-timeout=0', 'negative-timeout=0')
GLUSTERD_PIDFILE = '/var/run/glusterd.pid'
_LOCK_DIR = '/run/lock' if os.path.isdir('/run/lock') else '/tmp'
LOCK_PATH = os.path.join(_LOCK_DIR, 'ksvd-test-gluster.lock')
# Holds the pid of a glusterd this rig started (absent: not ours).
OWNER_PATH = os.path.join(_LOCK_DIR, 'ksvd-test-glusterd.pid')
CLI_TIMEOUT = 120
START_TIMEOUT = 60
_SBIN_PATH = os.pathsep.join([os.environ.get('PATH', ''), '/usr/sbin',
                              '/sbin', '/usr/bin', '/bin'])
_BUSY = re.compile(r'Another transaction is in progress|Locking failed|'
                   r'try again', re.I)
_CAP_SYS_ADMIN = 21


class GlusterError(Exception):
    """A gluster, mount or umount command failed."""


def _find(name):
    return shutil.which(name, path=_SBIN_PATH)


def _unescape(field):
    return re.sub(r'\\([0-7]{3})', lambda m: chr(int(m.group(1), 8)), field)


def _proc_mounts():
    """[(source, mountpoint, fstype, options)] from /proc/mounts."""
    entries = []
    with open('/proc/mounts') as handle:
        for line in handle:
            fields = line.split()
            if len(fields) < 4:
                continue
            entries.append((_unescape(fields[0]), _unescape(fields[1]),
                            fields[2], fields[3]))
    return entries


def _is_mounted(mountpoint):
    return any(entry[1] == mountpoint for entry in _proc_mounts())


def _cmdline(pid):
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            raw = handle.read()
    except OSError:
        return []
    return [arg.decode('utf-8', 'replace') for arg in raw.split(b'\0')
            if arg]


def _pids():
    return [int(name) for name in os.listdir('/proc') if name.isdigit()]


def _comm(pid):
    try:
        with open('/proc/%d/comm' % pid) as handle:
            return handle.read().strip()
    except OSError:
        return None


def _client_pids(mountpoint):
    """glusterfs client processes serving mountpoint (last argument)."""
    found = []
    for pid in _pids():
        args = _cmdline(pid)
        if (len(args) > 1 and os.path.basename(args[0]) == 'glusterfs'
                and args[-1] == mountpoint):
            found.append(pid)
    return found


def _alive(pid, comm=None):
    name = _comm(pid)
    return name is not None and (comm is None or name == comm)


def mount_options(path):
    """(fstype, frozenset of options) of the mount that holds path.

    Reads /proc/mounts and picks the longest mount point containing path.
    For fuse.glusterfs the kernel shows none of the glusterfs client's own
    options (direct-io-mode, *-timeout): those are arguments of the client
    process, so they are added from its command line in the same spelling
    as the mount options (``--entry-timeout=0`` -> ``entry-timeout=0``).
    """
    target = os.path.realpath(path)
    best = None
    for entry in _proc_mounts():
        mountpoint = entry[1]
        if (target == mountpoint or mountpoint == '/' or
                target.startswith(mountpoint.rstrip('/') + '/')):
            # The last entry for a mount point is the one on top.
            if best is None or len(mountpoint) >= len(best[1]):
                best = entry
    if best is None:
        raise ValueError('no mount holds %s' % path)
    options = set(best[3].split(','))
    if best[2] == 'fuse.glusterfs':
        for pid in _client_pids(best[1]):
            for arg in _cmdline(pid)[1:-1]:
                if arg.startswith('--') and '=' in arg:
                    options.add(arg[2:])
    return best[2], frozenset(options)


@contextlib.contextmanager
def _rig_lock(timeout=300):
    """Serialise volume operations and glusterd start/stop across workers."""
    fd = os.open(LOCK_PATH, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.time() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.time() > deadline:
                    raise GlusterError('%s still locked after %ss'
                                       % (LOCK_PATH, timeout))
                time.sleep(0.2)
        yield
    finally:
        os.close(fd)


def _run(args, timeout):
    """Run a command; return (returncode, output). Bounded."""
    try:
        proc = subprocess.run(args, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise GlusterError('%s timed out after %ss'
                           % (' '.join(args), timeout))
    return proc.returncode, proc.stdout.decode('utf-8', 'replace').strip()


def gluster(*args, **kwargs):
    """Run ``gluster --mode=script args``; return its output.

    Retries while glusterd reports another transaction in progress, up to
    timeout. check=False returns (returncode, output) instead of raising.
    """
    timeout = kwargs.pop('timeout', CLI_TIMEOUT)
    check = kwargs.pop('check', True)
    cmd = [_find('gluster') or 'gluster', '--mode=script'] + list(args)
    deadline = time.time() + timeout
    while True:
        rc, out = _run(cmd, max(1, deadline - time.time()))
        if rc == 0 and check:
            return out
        if not check:
            return rc, out
        if _BUSY.search(out) and time.time() + 2 < deadline:
            time.sleep(1)
            continue
        raise GlusterError('gluster %s failed (rc %d): %s'
                           % (' '.join(args), rc, out[-500:]))


def list_volumes():
    """Volume names, or None when glusterd does not answer."""
    rc, out = gluster('volume', 'list', timeout=15, check=False)
    if rc != 0:
        return None
    if 'No volumes present' in out:
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def _has_cap_sys_admin():
    try:
        with open('/proc/self/status') as handle:
            for line in handle:
                if line.startswith('CapEff:'):
                    return bool(int(line.split()[1], 16) &
                                (1 << _CAP_SYS_ADMIN))
    except (OSError, ValueError):
        pass
    return False


def check_prerequisites():
    """Raise services.Unavailable with a one-line reason if unusable."""
    missing = [name for name in ('glusterd', 'gluster', 'mount.glusterfs')
               if not _find(name)]
    if missing:
        raise services.Unavailable(
            'GlusterFS is not installed (%s not found; apt-get install '
            'glusterfs-server)' % ', '.join(missing))
    if not os.path.exists('/dev/fuse'):
        raise services.Unavailable('/dev/fuse does not exist (no FUSE in '
                                   'this kernel or container)')
    with open('/proc/filesystems') as handle:
        if not re.search(r'\bfuse$', handle.read(), re.M):
            raise services.Unavailable('the kernel has no fuse filesystem '
                                       '(modprobe fuse)')
    if os.geteuid() != 0 or not _has_cap_sys_admin():
        raise services.Unavailable('GlusterFS mounts need root with '
                                   'CAP_SYS_ADMIN')
    if not os.access('/dev/fuse', os.R_OK | os.W_OK):
        raise services.Unavailable('/dev/fuse is not readable and writable')


# Volume options of the configuration the reference measurement found safe
# for a shared sqlite file (shared/reference/sqlite-gluster.md, row 5 is
# cumulative): client-side caches and write-behind off, O_DIRECT honoured.
SQLITE_VOLUME_OPTIONS = {
    'performance.write-behind': 'off',
    'performance.read-ahead': 'off',
    'performance.readdir-ahead': 'off',
    'performance.io-cache': 'off',
    'performance.quick-read': 'off',
    'performance.stat-prefetch': 'off',
    'performance.open-behind': 'off',
    'performance.strict-o-direct': 'on',
}


class GlusterVolume(fixtures.Fixture):
    """A replica-2 volume on 127.0.0.1 mounted twice: ``self.mounts``.

    :param coherent: mount with COHERENT_OPTIONS (default); False mounts
        with glusterfs defaults (kernel caches on: unsafe for sqlite).
    :param volume_options: {option: value} set with ``volume set`` before
        the volume starts; default SQLITE_VOLUME_OPTIONS when coherent,
        none otherwise.
    :param base_dir: where the temporary bricks/mounts directory is made.
    :param log_dir: where the two clients write their logs (default: the
        temporary directory, removed at cleanup).

    Attributes after setUp: name, root, bricks, mounts, client_logs,
    mount_opts, timings ({'setup': seconds}). cleanUp() may be called early
    (and then again by the test's cleanup: the second call does nothing).
    """

    def __init__(self, coherent=True, volume_options=None, base_dir=None,
                 log_dir=None):
        super(GlusterVolume, self).__init__()
        self.coherent = coherent
        if volume_options is None:
            volume_options = SQLITE_VOLUME_OPTIONS if coherent else {}
        self.volume_options = dict(volume_options)
        self.base_dir = base_dir
        self.log_dir = log_dir
        self._active = False

    def _setUp(self):
        self._active = True
        started = time.time()
        check_prerequisites()
        self.name = 'ksvdtest%s' % uuid.uuid4().hex[:12]
        self.root = tempfile.mkdtemp(prefix='ksvd-gluster-',
                                     dir=self.base_dir)
        self.addCleanup(self._remove_root)
        self.bricks = [os.path.join(self.root, 'brick%d' % i)
                       for i in range(2)]
        self.mounts = [os.path.join(self.root, 'mnt%d' % i)
                       for i in range(2)]
        for path in self.bricks + self.mounts:
            os.mkdir(path)
        log_dir = self.log_dir or os.path.join(self.root, 'logs')
        os.makedirs(log_dir, exist_ok=True)
        self.client_logs = [os.path.join(log_dir, 'gluster-mnt%d.log' % i)
                            for i in range(2)]

        with _rig_lock():
            self.addCleanup(self._maybe_stop_glusterd)
            self._ensure_glusterd()
            # Registered before each step: a step that fails half-way
            # (e.g. times out) still gets undone; the undo is idempotent.
            self.addCleanup(self._delete_volume)
            gluster('volume', 'create', self.name, 'replica', '2',
                    'transport', 'tcp',
                    *['%s:%s' % (BRICK_HOST, brick) for brick in self.bricks]
                    + ['force'])
            for key, value in sorted(self.volume_options.items()):
                gluster('volume', 'set', self.name, key, str(value))
            self.addCleanup(self._stop_volume)
            gluster('volume', 'start', self.name)

        options = list(COHERENT_OPTIONS) if self.coherent else []
        self.mount_opts = []
        self.addCleanup(self._unmount_all)
        for mountpoint, log in zip(self.mounts, self.client_logs):
            opts = ','.join(options + ['log-file=%s' % log])
            self.mount_opts.append(opts)
            rc, out = _run(['mount', '-t', 'glusterfs', '-o', opts,
                            '%s:/%s' % (BRICK_HOST, self.name), mountpoint],
                           START_TIMEOUT)
            if rc != 0 or not _is_mounted(mountpoint):
                raise GlusterError('mounting %s on %s failed (rc %d): %s; '
                                   'client log %s' % (self.name, mountpoint,
                                                      rc, out[-500:], log))
        self._check_shared()
        self.timings = {'setup': time.time() - started}

    def cleanUp(self, raise_first=True):
        if not self._active:
            return None
        self._active = False
        return super(GlusterVolume, self).cleanUp(raise_first)

    # -- setup steps -------------------------------------------------------

    def _ensure_glusterd(self):
        if list_volumes() is not None:
            return
        if not any(_comm(pid) == 'glusterd' for pid in _pids()):
            out_path = os.path.join(self.root, 'glusterd-start.out')
            with open(out_path, 'wb') as out:
                try:
                    rc = subprocess.call(
                        [_find('glusterd'), '-p', GLUSTERD_PIDFILE,
                         '--log-level', 'INFO', '--xlator-option',
                         'management.transport.socket.bind-address=%s'
                         % BIND_ADDRESS],
                        stdin=subprocess.DEVNULL, stdout=out,
                        stderr=subprocess.STDOUT, start_new_session=True,
                        timeout=START_TIMEOUT)
                except subprocess.TimeoutExpired:
                    rc = 'timeout'
            if rc != 0:
                with open(out_path, 'rb') as out:
                    text = out.read().decode('utf-8', 'replace')
                raise services.Unavailable('glusterd did not start (rc %s): '
                                           '%s' % (rc, text.strip()[-300:]))
            pid = self._glusterd_pid()
            if pid:
                with open(OWNER_PATH, 'w') as handle:
                    handle.write('%d\n' % pid)
        self._wait_glusterd()

    def _wait_glusterd(self):
        deadline = time.time() + START_TIMEOUT
        while list_volumes() is None:
            if time.time() > deadline:
                raise services.Unavailable(
                    'glusterd runs but `gluster volume list` did not answer '
                    'within %ss (see /var/log/glusterfs/glusterd.log)'
                    % START_TIMEOUT)
            time.sleep(0.5)

    @staticmethod
    def _glusterd_pid():
        try:
            with open(GLUSTERD_PIDFILE) as handle:
                pid = int(handle.read().strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid, 'glusterd') else None

    def _check_shared(self):
        """A file written through mount 0 is read through mount 1."""
        if os.stat(self.mounts[0]).st_dev == os.stat(self.mounts[1]).st_dev:
            raise GlusterError('%s and %s are the same filesystem instance'
                               % tuple(self.mounts))
        name = '.ksvd-rig-check-%s' % uuid.uuid4().hex
        token = random.getrandbits(128).to_bytes(16, 'big')
        with open(os.path.join(self.mounts[0], name), 'wb') as handle:
            handle.write(token)
            handle.flush()
            os.fsync(handle.fileno())
        with open(os.path.join(self.mounts[1], name), 'rb') as handle:
            seen = handle.read()
        os.unlink(os.path.join(self.mounts[1], name))
        if seen != token:
            raise GlusterError('mount 1 read %r, mount 0 wrote %r'
                               % (seen, token))

    # -- cleanups (reverse order) ------------------------------------------

    def _unmount_all(self):
        """Unmount both (lazily if busy); wait for their clients to exit."""
        pids = {}
        stuck = []
        for mountpoint in self.mounts:
            pids[mountpoint] = _client_pids(mountpoint)
            if not _is_mounted(mountpoint):
                continue
            rc, out = _run(['umount', mountpoint], 60)
            if _is_mounted(mountpoint):
                # Busy (a process still inside): detach it anyway.
                _run(['umount', '-l', mountpoint], 60)
            if _is_mounted(mountpoint):
                stuck.append('%s (%s)' % (mountpoint, out))
        # A client exits about 2 s after the kernel lets go of it.
        deadline = time.time() + 20
        while time.time() < deadline and any(
                _alive(pid, 'glusterfs') for group in pids.values()
                for pid in group):
            time.sleep(0.1)
        for mountpoint, group in pids.items():
            for pid in group:
                if (_alive(pid, 'glusterfs') and
                        _cmdline(pid)[-1:] == [mountpoint]):
                    os.kill(pid, signal.SIGKILL)
        if stuck:
            raise GlusterError('cannot unmount %s' % ', '.join(stuck))

    def _stop_volume(self):
        with _rig_lock():
            rc, out = gluster('volume', 'info', self.name, check=False)
            if rc == 0 and re.search(r'^Status: Started', out, re.M):
                gluster('volume', 'stop', self.name, 'force')

    def _delete_volume(self):
        with _rig_lock():
            rc, out = gluster('volume', 'info', self.name, check=False)
            if rc == 0:
                gluster('volume', 'delete', self.name)

    def _maybe_stop_glusterd(self):
        """Stop glusterd if this rig started it and no volume is left."""
        with _rig_lock():
            try:
                with open(OWNER_PATH) as handle:
                    owned = int(handle.read().strip())
            except (OSError, ValueError):
                return
            if not _alive(owned, 'glusterd'):
                os.unlink(OWNER_PATH)
                return
            if list_volumes():
                return
            os.kill(owned, signal.SIGTERM)
            deadline = time.time() + 30
            while _alive(owned, 'glusterd') and time.time() < deadline:
                time.sleep(0.1)
            if _alive(owned, 'glusterd'):
                os.kill(owned, signal.SIGKILL)
            os.unlink(OWNER_PATH)

    def _remove_root(self):
        # Never recurse into a mount that an earlier cleanup left behind.
        for entry in _proc_mounts():
            if entry[1].startswith(self.root + '/'):
                _run(['umount', '-l', entry[1]], 60)
        shutil.rmtree(self.root, ignore_errors=True)
        if os.path.exists(self.root):
            raise GlusterError('could not remove %s' % self.root)
