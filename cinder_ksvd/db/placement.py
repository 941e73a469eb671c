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

"""Where the sqlite file lives, and whether it is safe there.

Measured (shared/reference/sqlite-gluster.md): two GlusterFS clients with
default mount options corrupt a shared sqlite file within seconds whatever
the retries do; only mounts that bypass the kernel's page and attribute
caches kept it intact.  So before a service starts we look the file's
filesystem up in /proc/mounts and, on a network filesystem, require the
cache-coherent options.  FUSE mounts do not show GlusterFS's client options
in /proc/mounts: they are read from the glusterfs client's command line.
"""

import os

NETWORK_FS = ('fuse.glusterfs', 'glusterfs', 'nfs', 'nfs4', 'cifs', 'smb3',
              'ceph', 'fuse.ceph', 'fuse.sshfs', '9p')

# GlusterFS client options that make every read and stat go to the bricks.
GLUSTER_REQUIRED = {
    'direct-io-mode': 'enable',
    'attribute-timeout': '0',
    'entry-timeout': '0',
    'negative-timeout': '0',
}


# Client-side translators that cache or delay I/O. The measured safe volume
# had all performance.* options off, so none of these was in the client's
# graph (performance.write-behind, read-ahead, readdir-ahead, io-cache,
# quick-read, stat-prefetch (md-cache) and open-behind).
GLUSTER_CACHING_XLATORS = ('write-behind', 'read-ahead', 'readdir-ahead',
                           'io-cache', 'quick-read', 'md-cache',
                           'open-behind', 'nl-cache')
GLUSTER_XLATOR_OPTIONS = {
    'write-behind': 'performance.write-behind',
    'read-ahead': 'performance.read-ahead',
    'readdir-ahead': 'performance.readdir-ahead',
    'io-cache': 'performance.io-cache',
    'quick-read': 'performance.quick-read',
    'md-cache': 'performance.stat-prefetch',
    'open-behind': 'performance.open-behind',
    'nl-cache': 'performance.nl-cache',
}
_UNSET = object()


class Mount(object):
    """One /proc/mounts entry."""

    def __init__(self, source, target, fstype, options):
        self.source = source
        self.target = target
        self.fstype = fstype
        self.options = options

    def __repr__(self):
        return '%s on %s type %s (%s)' % (self.source, self.target,
                                          self.fstype, ','.join(self.options))


def _unescape(field):
    # /proc/mounts escapes space, tab, newline and backslash as octal.
    for code, char in (('\\040', ' '), ('\\011', '\t'), ('\\012', '\n'),
                       ('\\134', '\\')):
        field = field.replace(code, char)
    return field


def parse_mounts(text):
    mounts = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 4:
            continue
        mounts.append(Mount(_unescape(fields[0]), _unescape(fields[1]),
                            fields[2], fields[3].split(',')))
    return mounts


def read_mounts(path='/proc/mounts'):
    with open(path) as handle:
        return parse_mounts(handle.read())


def mount_of(path, mounts):
    """The mount holding path: the longest mount point that prefixes it."""
    path = os.path.realpath(path)
    best = None
    for mount in mounts:
        target = mount.target.rstrip('/') or '/'
        if (path == target or path.startswith(target + '/')
                or target == '/'):
            if best is None or len(target) >= len(best.target.rstrip('/')):
                best = mount
    return best


def _glusterfs_clients(proc='/proc'):
    """(mount point, {option: value}) of every glusterfs client process."""
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return
    for pid in pids:
        try:
            with open(os.path.join(proc, pid, 'cmdline'), 'rb') as handle:
                argv = handle.read().decode('utf-8', 'replace').split('\0')
        except (IOError, OSError):
            continue
        argv = [a for a in argv if a]
        if not argv or not os.path.basename(argv[0]).startswith('glusterfs'):
            continue
        options = {}
        for arg in argv[1:-1]:
            if arg.startswith('--') and '=' in arg:
                key, value = arg[2:].split('=', 1)
                options[key] = value
        yield argv[-1], options


def _device(path):
    try:
        return os.stat(path).st_dev
    except OSError:
        return None


def gluster_client(mount_point, proc='/proc'):
    """(client mount point, options) of the glusterfs client serving it.

    A bind mount of a GlusterFS mount (a container volume, a second mount
    point) has no client process of its own: the client whose mount point
    has the same device number serves it, and its options and .meta are
    the ones that count.  (None, None) when no client is visible (e.g. it
    runs in another mount namespace).
    """
    target = os.path.realpath(mount_point)
    device = None
    for client_mount, options in _glusterfs_clients(proc):
        if os.path.realpath(client_mount) == target:
            return client_mount, options
        if device is None:
            device = _device(target)
        if device is not None and _device(client_mount) == device:
            return client_mount, options
    return None, None


def gluster_client_options(mount_point, proc='/proc'):
    """--option=value pairs of the glusterfs client serving mount_point."""
    return gluster_client(mount_point, proc)[1]


def gluster_volume_name(mount):
    """The GlusterFS volume a mount's source names (host:/vol[/subdir])."""
    if mount is None or ':' not in mount.source:
        return None
    volume = mount.source.split(':', 1)[1].lstrip('/').split('/')[0]
    return volume or None


def gluster_set_command(volume, settings):
    """A shell line that sets settings [(option, value)] on volume.

    One "gluster volume set" per option, joined with &&: a comma list is
    refused by the gluster CLI ("Validation Failed" on 10.3).
    """
    return ' && '.join('gluster volume set %s %s %s'
                       % (volume or 'VOLUME', key, value)
                       for key, value in settings)


def gluster_graph(mount_point):
    """Translator types in the active client graph of a GlusterFS mount.

    Every GlusterFS client exposes its graph under <mount>/.meta (the meta
    translator is always loaded): one directory per translator, named
    <volume>-<type>.  Returns None when it cannot be read.
    """
    found = gluster_graph_options(mount_point)
    return None if found is None else sorted(found)


def gluster_graph_options(mount_point):
    """{translator type: {option: value}} of the active client graph.

    The options are what the client runs with (.meta/graphs/active/<name>/
    options/<option>), e.g. write-behind's strict-O_DIRECT, which is where
    the volume option performance.strict-o-direct takes effect.
    """
    graph = os.path.join(mount_point, '.meta', 'graphs', 'active')
    try:
        names = os.listdir(graph)
    except OSError:
        return None
    found = {}
    for name in names:
        try:
            with open(os.path.join(graph, name, 'type')) as handle:
                kind = handle.read().strip().split('/')[-1]
        except (IOError, OSError):
            continue
        options = found.setdefault(kind, {})
        opt_dir = os.path.join(graph, name, 'options')
        try:
            opt_names = os.listdir(opt_dir)
        except OSError:
            continue
        for opt in opt_names:
            try:
                with open(os.path.join(opt_dir, opt)) as handle:
                    options[opt] = handle.read().strip()
            except (IOError, OSError):
                continue
    return found


# The CLI's socket (gluster 10: /var/run/glusterd.socket; some builds put it
# under /var/run/gluster).
GLUSTERD_SOCKETS = ('/run/glusterd.socket', '/var/run/glusterd.socket',
                    '/run/gluster/glusterd.socket',
                    '/var/run/gluster/glusterd.socket')


def gluster_volume_option(volume, option, timeout=10):
    """The value glusterd holds for a volume option; None when it cannot say.

    Only where this host runs glusterd (its CLI socket exists): a pure
    client host cannot ask, and the client graph is then all there is.
    """
    import subprocess

    from cinder_ksvd.cmd import preflight
    cli = preflight.find_tool('gluster')
    if (volume is None or cli is None
            or not any(os.path.exists(s) for s in GLUSTERD_SOCKETS)):
        return None
    try:
        proc = subprocess.Popen(
            [cli, '--mode=script', '--timeout=%d' % timeout, 'volume', 'get',
             volume, option], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        out, _err = proc.communicate()
    except OSError:
        return None
    if proc.returncode != 0:
        return None
    for line in out.decode('utf-8', 'replace').splitlines():
        fields = line.split()
        if len(fields) >= 2 and fields[0] == option:
            return fields[1]
    return None


def _option_values(options):
    values = {}
    for option in options:
        key, _sep, value = option.partition('=')
        values[key] = value
    return values


def effective_journal_mode(configured, mount):
    """journal_mode "auto": wal on a local filesystem, else persist.

    WAL needs shared memory between every process using the file, so only
    a filesystem known to be local gets it; an unknown mount gets persist.
    """
    if configured != 'auto':
        return configured
    if mount is None or mount.fstype in NETWORK_FS:
        return 'persist'
    return 'wal'


def problems(mount, gluster_options=None, journal_mode='persist',
             gluster_xlators=_UNSET, strict_o_direct=None, client_mount=None):
    """Reasons the sqlite file on mount is unsafe; empty when it is safe.

    :param gluster_xlators: translator types of the client graph
        (gluster_graph()), or {type: {option: value}}
        (gluster_graph_options()); None when unreadable; left out: not
        examined.
    :param strict_o_direct: the volume's performance.strict-o-direct as
        glusterd answers it (gluster_volume_option()); None: not known.
    :param client_mount: the glusterfs client's own mount point when mount
        is a bind mount of it (named in the messages).
    """
    if mount is None or mount.fstype not in NETWORK_FS:
        return []
    found = []
    if journal_mode == 'wal':
        found.append('journal_mode = wal needs shared memory and is unsafe '
                     'on a network filesystem (%s); use persist'
                     % mount.fstype)
    opts = _option_values(mount.options)
    if mount.fstype in ('fuse.glusterfs', 'glusterfs'):
        volume = gluster_volume_name(mount)
        where = mount.target
        if client_mount and os.path.realpath(client_mount) != \
                os.path.realpath(mount.target):
            where = '%s (bind mount of %s)' % (mount.target, client_mount)
        if gluster_options is None:
            found.append('no glusterfs client process serving %s is '
                         'visible here (none has it, or a mount it is a '
                         'bind mount of, as its mount point; a client in '
                         'another mount namespace cannot be examined), so '
                         'its client options cannot be read' % mount.target)
        else:
            for key, value in sorted(GLUSTER_REQUIRED.items()):
                if gluster_options.get(key) != value:
                    found.append('GlusterFS mount %s lacks %s=%s'
                                 % (where, key, value))
        if gluster_xlators is None:
            found.append('cannot read the client graph of %s (.meta)'
                         % where)
        elif gluster_xlators is not _UNSET:
            caching = [x for x in GLUSTER_CACHING_XLATORS
                       if x in gluster_xlators]
            settings = [(GLUSTER_XLATOR_OPTIONS[x], 'off') for x in caching]
            write_behind = (gluster_xlators.get('write-behind')
                            if isinstance(gluster_xlators, dict) else None)
            if write_behind is not None and \
                    write_behind.get('strict-O_DIRECT') != 'on':
                settings.append(('performance.strict-o-direct', 'on'))
            if caching:
                found.append('GlusterFS volume %s of %s caches on the client '
                             '(%s); on a GlusterFS server run: %s'
                             % (volume or '?', where, ', '.join(caching),
                                gluster_set_command(volume, settings)))
        if strict_o_direct is not None and strict_o_direct != 'on':
            found.append('GlusterFS volume %s has performance.strict-o-'
                         'direct %s; run: %s' % (
                             volume, strict_o_direct, gluster_set_command(
                                 volume,
                                 [('performance.strict-o-direct', 'on')])))
    elif mount.fstype in ('nfs', 'nfs4'):
        # The kernel shows actimeo=0 as the four ac*=0 values.
        zero_ac = all(opts.get(key) == '0' for key in
                      ('acregmin', 'acregmax', 'acdirmin', 'acdirmax'))
        if 'noac' not in opts and not zero_ac:
            found.append('NFS mount %s lacks noac (or actimeo=0)'
                         % mount.target)
        if 'nolock' in opts or opts.get('local_lock', 'none') != 'none':
            found.append('NFS mount %s has no server-side locking (nolock '
                         'or local_lock)' % mount.target)
    elif mount.fstype in ('cifs', 'smb3'):
        if opts.get('cache') != 'none':
            found.append('CIFS mount %s lacks cache=none' % mount.target)
        if 'nobrl' in opts:
            found.append('CIFS mount %s has nobrl (no byte-range locks)'
                         % mount.target)
    else:
        found.append('%s is a network filesystem (%s) with no known safe '
                     'options for sqlite' % (mount.target, mount.fstype))
    return found


def gluster_facts(mount):
    """problems() keyword arguments for a GlusterFS mount ({} otherwise).

    Reads the serving client (following a bind mount), its graph with the
    translators' options, and, where this host runs glusterd, the volume's
    performance.strict-o-direct.
    """
    if mount is None or mount.fstype not in ('fuse.glusterfs', 'glusterfs'):
        return {}
    client_mount, options = gluster_client(mount.target)
    graph_at = client_mount or mount.target
    return {
        'gluster_options': options,
        'client_mount': client_mount,
        'gluster_xlators': gluster_graph_options(graph_at),
        'strict_o_direct': gluster_volume_option(
            gluster_volume_name(mount), 'performance.strict-o-direct'),
    }


def fix_hint(mount):
    if mount is not None and mount.fstype in ('fuse.glusterfs', 'glusterfs'):
        return ('mount it with -o direct-io-mode=enable,attribute-timeout=0,'
                'entry-timeout=0,negative-timeout=0 from a volume with the '
                'performance translators off (see doc/database.md)')
    if mount is not None and mount.fstype in ('nfs', 'nfs4'):
        return 'mount it with -o noac and with locking'
    if mount is not None and mount.fstype in ('cifs', 'smb3'):
        return 'mount it with -o cache=none and without nobrl'
    return 'use MariaDB for several hosts'


def sqlite_path(url):
    """Filesystem path of a sqlite URL, or None (memory, other dialects)."""
    from sqlalchemy.engine import url as sa_url
    parsed = sa_url.make_url(url)
    if not parsed.drivername.startswith('sqlite'):
        return None
    if not parsed.database or parsed.database == ':memory:':
        return None
    return os.path.abspath(parsed.database)


def quick_check(path):
    """PRAGMA quick_check of an existing sqlite file: 'ok' or the problem."""
    import sqlite3
    conn = sqlite3.connect(path, timeout=30)
    try:
        rows = conn.execute('PRAGMA quick_check').fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    # quick_check returns 'ok', or lines led by '*** in database main ***'.
    lines = [line for row in rows for line in str(row[0]).splitlines()
             if line.strip() and not line.startswith('***')]
    return '; '.join(lines[:3]) or 'ok'


def journal_mode(path):
    import sqlite3
    conn = sqlite3.connect(path, timeout=30)
    try:
        return conn.execute('PRAGMA journal_mode').fetchone()[0]
    except sqlite3.DatabaseError as exc:
        return 'unreadable (%s)' % exc
    finally:
        conn.close()


def report(url, journal='persist', mounts=None):
    """Everything `ksvd-cinder-manage db check` prints, as a dict."""
    path = sqlite_path(url)
    if path is None:
        return {'database': 'not a sqlite file', 'safe': True}
    mounts = read_mounts() if mounts is None else mounts
    # The file itself: a symlink may lead onto another filesystem.
    mount = mount_of(path, mounts)
    facts = gluster_facts(mount)
    gluster = facts.get('gluster_options')
    xlators = facts.get('gluster_xlators', _UNSET)
    journal = effective_journal_mode(journal, mount)
    found = problems(mount, journal_mode=journal, **facts)
    result = {
        'file': path,
        'exists': os.path.exists(path),
        'filesystem': mount.fstype if mount else 'unknown',
        'mount_point': mount.target if mount else 'unknown',
        'mount_source': mount.source if mount else 'unknown',
        'mount_options': ','.join(mount.options) if mount else '',
        'problems': found,
        'safe': not found,
    }
    if facts:
        result['glusterfs_volume'] = gluster_volume_name(mount) or 'unknown'
        result['glusterfs_client_mount'] = (facts.get('client_mount')
                                            or 'not visible')
    if gluster is not None:
        result['glusterfs_client_options'] = ','.join(
            '%s=%s' % item for item in sorted(gluster.items()))
    if xlators is not _UNSET:
        result['glusterfs_client_graph'] = ','.join(
            sorted(xlators) if xlators is not None else ['unreadable'])
    if facts:
        strict = facts.get('strict_o_direct')
        result['glusterfs_strict_o_direct'] = strict or (
            'not asked (no glusterd on this host; it acts only inside '
            'write-behind, which must not be loaded)')
    # Rollback journal modes are per connection (only wal is stored in the
    # file): show both what a plain connection sees and what ours use.
    result['journal_mode_of_services'] = journal
    if result['exists']:
        result['journal_mode'] = journal_mode(path)
        result['integrity'] = quick_check(path)
    return result
