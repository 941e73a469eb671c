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


def gluster_client_options(mount_point, proc='/proc'):
    """--option=value pairs of the glusterfs client serving mount_point."""
    try:
        pids = [p for p in os.listdir(proc) if p.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            with open(os.path.join(proc, pid, 'cmdline'), 'rb') as handle:
                argv = handle.read().decode('utf-8', 'replace').split('\0')
        except (IOError, OSError):
            continue
        argv = [a for a in argv if a]
        if not argv or not os.path.basename(argv[0]).startswith('glusterfs'):
            continue
        if os.path.realpath(argv[-1]) != os.path.realpath(mount_point):
            continue
        options = {}
        for arg in argv[1:-1]:
            if arg.startswith('--') and '=' in arg:
                key, value = arg[2:].split('=', 1)
                options[key] = value
        return options
    return None


def gluster_graph(mount_point):
    """Translator types in the active client graph of a GlusterFS mount.

    Every GlusterFS client exposes its graph under <mount>/.meta (the meta
    translator is always loaded): one directory per translator, named
    <volume>-<type>.  Returns None when it cannot be read.
    """
    graph = os.path.join(mount_point, '.meta', 'graphs', 'active')
    try:
        names = os.listdir(graph)
    except OSError:
        return None
    types = []
    for name in names:
        try:
            with open(os.path.join(graph, name, 'type')) as handle:
                kind = handle.read().strip()
        except (IOError, OSError):
            continue
        types.append(kind.split('/')[-1])
    return sorted(set(types))


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
             gluster_xlators=_UNSET):
    """Reasons the sqlite file on mount is unsafe; empty when it is safe.

    :param gluster_xlators: translator types of the client graph
        (gluster_graph()); None when unreadable; left out: not examined.
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
        if gluster_options is None:
            found.append('cannot read the glusterfs client options of %s'
                         % mount.target)
        else:
            for key, value in sorted(GLUSTER_REQUIRED.items()):
                if gluster_options.get(key) != value:
                    found.append('GlusterFS mount %s lacks %s=%s'
                                 % (mount.target, key, value))
        if gluster_xlators is None:
            found.append('cannot read the client graph of %s (.meta)'
                         % mount.target)
        elif gluster_xlators is not _UNSET:
            caching = [x for x in GLUSTER_CACHING_XLATORS
                       if x in gluster_xlators]
            if caching:
                found.append('GlusterFS volume of %s caches on the client '
                             '(%s): gluster volume set VOLUME %s'
                             % (mount.target, ', '.join(caching),
                                ' off, '.join(GLUSTER_XLATOR_OPTIONS[x]
                                              for x in caching) + ' off'))
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
    gluster = None
    xlators = _UNSET
    if mount is not None and mount.fstype in ('fuse.glusterfs', 'glusterfs'):
        gluster = gluster_client_options(mount.target)
        xlators = gluster_graph(mount.target)
    journal = effective_journal_mode(journal, mount)
    found = problems(mount, gluster, journal, xlators)
    result = {
        'file': path,
        'exists': os.path.exists(path),
        'filesystem': mount.fstype if mount else 'unknown',
        'mount_point': mount.target if mount else 'unknown',
        'mount_options': ','.join(mount.options) if mount else '',
        'problems': found,
        'safe': not found,
    }
    if gluster is not None:
        result['glusterfs_client_options'] = ','.join(
            '%s=%s' % item for item in sorted(gluster.items()))
    if xlators is not _UNSET:
        result['glusterfs_client_graph'] = ','.join(xlators or ['unreadable'])
    # Rollback journal modes are per connection (only wal is stored in the
    # file): show both what a plain connection sees and what ours use.
    result['journal_mode_of_services'] = journal
    if result['exists']:
        result['journal_mode'] = journal_mode(path)
        result['integrity'] = quick_check(path)
    return result
