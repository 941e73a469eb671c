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

import os
import sqlite3
from unittest import mock

import fixtures
from tests.unit import base

from cinder_ksvd.db import placement

# Lines as the kernel writes them to /proc/mounts.
PROC_MOUNTS = (
    '/dev/vda1 / ext4 rw,relatime,errors=remount-ro 0 0\n'
    'proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n'
    'gluster1:/cinder /var/lib/cinder fuse.glusterfs rw,relatime,user_id=0,'
    'group_id=0,default_permissions,allow_other,max_read=131072 0 0\n'
    '/dev/vdb1 /srv/my\\040data ext4 rw,relatime 0 0\n'
    'nas:/export /mnt/tab\\011and\\134back nfs4 rw,relatime,vers=4.2,'
    'noac,local_lock=none 0 0\n'
    'broken line\n'
    '\n')

NFS_NOAC = ('rw,sync,relatime,vers=4.2,rsize=1048576,wsize=1048576,'
            'namlen=255,acregmin=0,acregmax=0,acdirmin=0,acdirmax=0,hard,'
            'noac,proto=tcp,timeo=600,retrans=2,sec=sys,clientaddr=127.0.0.12,'
            'local_lock=none,addr=127.0.0.11')
# mount -o actimeo=0: the kernel shows the four ac* values, never actimeo.
NFS_ACTIMEO_0 = ('rw,relatime,vers=4.2,rsize=1048576,wsize=1048576,'
                 'namlen=255,acregmin=0,acregmax=0,acdirmin=0,acdirmax=0,'
                 'hard,proto=tcp,timeo=600,retrans=2,sec=sys,'
                 'clientaddr=127.0.0.12,local_lock=none,addr=127.0.0.11')
NFS_DEFAULT = ('rw,relatime,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,'
               'hard,proto=tcp,timeo=600,retrans=2,sec=sys,'
               'clientaddr=127.0.0.12,local_lock=none,addr=127.0.0.11')
CIFS_DEFAULT = ('rw,relatime,vers=3.1.1,cache=strict,username=cinder,uid=0,'
                'noforceuid,gid=0,noforcegid,addr=127.0.0.11,file_mode=0755,'
                'dir_mode=0755,soft,nounix,serverino,mapposix,rsize=4194304,'
                'wsize=4194304,bsize=1048576,echo_interval=60,actimeo=1')
GLUSTER_SAFE = {'direct-io-mode': 'enable', 'attribute-timeout': '0',
                'entry-timeout': '0', 'negative-timeout': '0',
                'volfile-server': 'gluster1', 'volfile-id': '/cinder'}


def mount(fstype, options='rw', target='/var/lib/cinder'):
    return placement.Mount('server:/export', target, fstype,
                           options.split(','))


class ParseMountsTestCase(base.TestCase):

    def test_parse(self):
        mounts = placement.parse_mounts(PROC_MOUNTS)
        self.assertEqual(['/', '/proc', '/var/lib/cinder', '/srv/my data',
                          '/mnt/tab\tand\\back'],
                         [m.target for m in mounts])
        self.assertEqual(['ext4', 'proc', 'fuse.glusterfs', 'ext4', 'nfs4'],
                         [m.fstype for m in mounts])
        gluster = mounts[2]
        self.assertEqual('gluster1:/cinder', gluster.source)
        self.assertIn('allow_other', gluster.options)
        self.assertEqual('rw', gluster.options[0])
        self.assertIn('fuse.glusterfs', repr(gluster))

    def test_escapes(self):
        (parsed,) = placement.parse_mounts(
            'a\\040b /x\\040y\\012z\\134\\040 ext4 rw 0 0\n')
        self.assertEqual('a b', parsed.source)
        self.assertEqual('/x y\nz\\ ', parsed.target)

    def test_read_mounts(self):
        path = self.write_file(self.make_tempdir(), 'mounts', PROC_MOUNTS)
        self.assertEqual(5, len(placement.read_mounts(path)))

    def test_read_real_proc_mounts(self):
        mounts = placement.read_mounts()
        self.assertIn('/', [m.target for m in mounts])


class MountOfTestCase(base.TestCase):

    def setUp(self):
        super(MountOfTestCase, self).setUp()
        self.mounts = [placement.Mount(source, target, 'ext4', ['rw'])
                       for source, target in (
                           ('root', '/'),
                           ('data', '/ksvd-test/data'),
                           ('deep', '/ksvd-test/data/deep/'),
                           ('data2', '/ksvd-test/data2'),
                           ('top', '/ksvd-test'))]

    def of(self, path, mounts=None):
        found = placement.mount_of(path, self.mounts if mounts is None
                                   else mounts)
        return found.source if found else None

    def test_longest_prefix(self):
        self.assertEqual('data', self.of('/ksvd-test/data/cinder.sqlite'))
        self.assertEqual('deep', self.of('/ksvd-test/data/deep/c.sqlite'))
        self.assertEqual('data2', self.of('/ksvd-test/data2/c.sqlite'))
        self.assertEqual('top', self.of('/ksvd-test/database/c.sqlite'))
        self.assertEqual('root', self.of('/ksvd-other/c.sqlite'))

    def test_mount_point_itself(self):
        self.assertEqual('data', self.of('/ksvd-test/data'))
        self.assertEqual('deep', self.of('/ksvd-test/data/deep'))
        self.assertEqual('root', self.of('/'))

    def test_order_does_not_matter(self):
        self.assertEqual('data', self.of('/ksvd-test/data/c.sqlite',
                                         list(reversed(self.mounts))))

    def test_later_mount_on_same_point_wins(self):
        over = placement.Mount('over', '/ksvd-test/data', 'nfs', ['rw'])
        self.assertEqual('over', self.of('/ksvd-test/data/c.sqlite',
                                         self.mounts + [over]))

    def test_symlinks_resolved(self):
        tmp = os.path.realpath(self.make_tempdir())
        real = os.path.join(tmp, 'real')
        os.mkdir(real)
        os.symlink(real, os.path.join(tmp, 'link'))
        mounts = self.mounts + [placement.Mount('tmp', real, 'nfs', ['rw'])]
        self.assertEqual('tmp', self.of(os.path.join(tmp, 'link', 'c.sqlite'),
                                        mounts))

    def test_no_mounts(self):
        self.assertIsNone(self.of('/x', []))


class GlusterClientOptionsTestCase(base.TestCase):

    def setUp(self):
        super(GlusterClientOptionsTestCase, self).setUp()
        self.proc = self.make_tempdir()

    def process(self, pid, *argv):
        os.mkdir(os.path.join(self.proc, str(pid)))
        if argv is not None:
            path = os.path.join(self.proc, str(pid), 'cmdline')
            with open(path, 'wb') as handle:
                handle.write(b''.join(a.encode() + b'\0' for a in argv))

    def test_finds_the_client_of_the_mount(self):
        self.process(1, '/sbin/init', 'splash')
        self.process(2)  # a kernel thread: empty cmdline
        self.process(40, '/usr/sbin/glusterfs', '--direct-io-mode=disable',
                     '--volfile-server=127.0.0.1', '--volfile-id=other',
                     '/mnt/other')
        self.process(41, '/usr/sbin/glusterfsd', '-s', 'host',
                     '--volfile-id', 'v.host.brick', '/mnt/x-brick')
        self.process(42, '/usr/sbin/glusterfs', '--process-name', 'fuse',
                     '--direct-io-mode=enable', '--attribute-timeout=0',
                     '--volfile-server=127.0.0.1', '--volfile-id=v',
                     '/mnt/x')
        os.mkdir(os.path.join(self.proc, 'self'))
        os.mkdir(os.path.join(self.proc, '43'))  # no cmdline (raced exit)
        self.assertEqual({'direct-io-mode': 'enable',
                          'attribute-timeout': '0',
                          'volfile-server': '127.0.0.1',
                          'volfile-id': 'v'},
                         placement.gluster_client_options('/mnt/x',
                                                          self.proc))
        self.assertEqual('disable', placement.gluster_client_options(
            '/mnt/other/', self.proc)['direct-io-mode'])

    def test_no_client(self):
        self.process(1, '/sbin/init')
        self.process(42, '/usr/bin/sshfs', '--direct-io-mode=enable',
                     '/mnt/x')
        self.assertIsNone(placement.gluster_client_options('/mnt/x',
                                                           self.proc))

    def test_no_proc(self):
        self.assertIsNone(placement.gluster_client_options(
            '/mnt/x', os.path.join(self.proc, 'missing')))

    def test_bind_mount_follows_the_device_to_its_client(self):
        # A bind mount of a GlusterFS mount has no client of its own: the
        # client whose mount point has the same device number serves it.
        top = self.make_tempdir()
        client_mount = os.path.join(top, 'gluster')
        bind = os.path.join(top, 'bind')
        os.mkdir(client_mount)
        os.mkdir(bind)
        self.process(40, '/usr/sbin/glusterfs', '--direct-io-mode=enable',
                     '--volfile-id=v', client_mount)
        self.assertEqual(
            (client_mount, {'direct-io-mode': 'enable', 'volfile-id': 'v'}),
            placement.gluster_client(bind, self.proc))
        # /proc is another filesystem (device): no client serves it.
        self.assertEqual((None, None),
                         placement.gluster_client('/proc', self.proc))


class GlusterVolumeTestCase(base.TestCase):
    """The volume a mount names, the commands we print, glusterd's view."""

    def test_volume_name_from_the_mount_source(self):
        for source, volume in (('server:/cinder', 'cinder'),
                               ('server:cinder', 'cinder'),
                               ('s1,s2:/cinder/sub', 'cinder'),
                               ('127.1:/ksvdtest1', 'ksvdtest1'),
                               ('/dev/sda1', None), ('server:/', None)):
            mount = placement.Mount(source, '/m', 'fuse.glusterfs', ['rw'])
            self.assertEqual(volume, placement.gluster_volume_name(mount),
                             source)

    def test_set_command(self):
        self.assertEqual(
            'gluster volume set cinder performance.io-cache off && '
            'gluster volume set cinder performance.strict-o-direct on',
            placement.gluster_set_command(
                'cinder', [('performance.io-cache', 'off'),
                           ('performance.strict-o-direct', 'on')]))

    def fake_cli(self, script):
        bin_dir = self.make_tempdir()
        cli = os.path.join(bin_dir, 'gluster')
        with open(cli, 'w') as handle:
            handle.write('#!/bin/sh\n' + script)
        os.chmod(cli, 0o755)
        socket_file = os.path.join(bin_dir, 'glusterd.socket')
        open(socket_file, 'w').close()
        self.useFixture(fixtures.EnvironmentVariable('PATH', bin_dir))
        self.useFixture(fixtures.MockPatchObject(
            placement, 'GLUSTERD_SOCKETS', (socket_file,)))
        return socket_file

    def test_volume_option_from_glusterd(self):
        # The table "gluster volume get" prints (gluster 10.3).
        self.fake_cli(
            'echo "$@" > "$(dirname "$0")/args"\n'
            'echo "Option                                   Value"\n'
            'echo "------                                   -----"\n'
            'echo "performance.strict-o-direct              off"\n')
        self.assertEqual('off', placement.gluster_volume_option(
            'cinder', 'performance.strict-o-direct'))

    def test_volume_option_unknown(self):
        socket_file = self.fake_cli('echo "volume get: failed" >&2\n'
                                    'exit 1\n')
        self.assertIsNone(placement.gluster_volume_option(
            'cinder', 'performance.strict-o-direct'))
        os.unlink(socket_file)  # no glusterd here: the CLI is not run
        self.assertIsNone(placement.gluster_volume_option(
            'cinder', 'performance.strict-o-direct'))
        self.assertIsNone(placement.gluster_volume_option(
            None, 'performance.strict-o-direct'))

    def test_strict_o_direct_off_is_a_problem(self):
        mount = placement.Mount('g:/v', '/mnt/v', 'fuse.glusterfs', ['rw'])
        options = dict(placement.GLUSTER_REQUIRED)
        graph = {'client': {}, 'replicate': {}}
        self.assertEqual([], placement.problems(
            mount, options, 'persist', graph, strict_o_direct='on'))
        found = placement.problems(mount, options, 'persist', graph,
                                   strict_o_direct='off')
        self.assertEqual(['GlusterFS volume v has performance.strict-o-'
                          'direct off; run: gluster volume set v '
                          'performance.strict-o-direct on'], found)
        # Loaded write-behind with strict-O_DIRECT on: only turned off.
        graph['write-behind'] = {'strict-O_DIRECT': 'on'}
        (found,) = placement.problems(mount, options, 'persist', graph)
        self.assertTrue(found.endswith(
            'run: gluster volume set v performance.write-behind off'), found)

    def test_bind_mount_named_in_the_problems(self):
        mount = placement.Mount('g:/v', '/srv/bind', 'fuse.glusterfs', ['rw'])
        found = placement.problems(mount, {}, 'persist',
                                   client_mount='/mnt/v')
        self.assertIn('GlusterFS mount /srv/bind (bind mount of /mnt/v) '
                      'lacks direct-io-mode=enable', found)


class EffectiveJournalModeTestCase(base.TestCase):

    def test_auto(self):
        for fstype in ('ext4', 'xfs', 'btrfs', 'tmpfs'):
            self.assertEqual('wal', placement.effective_journal_mode(
                'auto', mount(fstype)), fstype)
        for fstype in ('fuse.glusterfs', 'glusterfs', 'nfs', 'nfs4', 'cifs'):
            self.assertEqual('persist', placement.effective_journal_mode(
                'auto', mount(fstype)), fstype)
        # Mount not found: not known to be local.
        self.assertEqual('persist',
                         placement.effective_journal_mode('auto', None))

    def test_explicit_modes_kept(self):
        for mode in ('persist', 'delete', 'truncate', 'wal'):
            self.assertEqual(mode, placement.effective_journal_mode(
                mode, mount('fuse.glusterfs')))
            self.assertEqual(mode, placement.effective_journal_mode(
                mode, mount('ext4')))

    def test_auto_never_refused_for_wal(self):
        found = placement.problems(
            mount('fuse.glusterfs'), dict(GLUSTER_SAFE),
            placement.effective_journal_mode('auto', mount('fuse.glusterfs')))
        self.assertEqual([], found)


class ProblemsTestCase(base.TestCase):

    def test_local_and_unknown(self):
        self.assertEqual([], placement.problems(None))
        self.assertEqual([], placement.problems(mount('ext4')))
        self.assertEqual([], placement.problems(mount('xfs'), None, 'wal'))
        self.assertEqual([], placement.problems(mount('tmpfs')))

    def test_gluster_safe(self):
        for fstype in ('fuse.glusterfs', 'glusterfs'):
            self.assertEqual([], placement.problems(mount(fstype),
                                                    dict(GLUSTER_SAFE)))

    def test_gluster_missing_option(self):
        for key, value in sorted(placement.GLUSTER_REQUIRED.items()):
            options = dict(GLUSTER_SAFE)
            del options[key]
            found = placement.problems(mount('fuse.glusterfs'), options)
            self.assertEqual(['GlusterFS mount /var/lib/cinder lacks %s=%s'
                              % (key, value)], found)

    def test_gluster_wrong_value(self):
        options = dict(GLUSTER_SAFE, **{'direct-io-mode': 'disable',
                                        'entry-timeout': '1'})
        found = placement.problems(mount('fuse.glusterfs'), options)
        self.assertEqual(2, len(found), found)
        self.assertIn('direct-io-mode=enable', found[0])
        self.assertIn('entry-timeout=0', found[1])

    def test_gluster_default_mount(self):
        found = placement.problems(mount('fuse.glusterfs'), {})
        self.assertEqual(4, len(found), found)

    def test_gluster_options_unreadable(self):
        found = placement.problems(mount('fuse.glusterfs'), None)
        self.assertEqual(1, len(found), found)
        self.assertTrue(found[0].startswith(
            'no glusterfs client process serving /var/lib/cinder is '
            'visible here'), found[0])

    def test_nfs_without_noac(self):
        for fstype in ('nfs', 'nfs4'):
            found = placement.problems(mount(fstype, NFS_DEFAULT))
            self.assertEqual(['NFS mount /var/lib/cinder lacks noac (or '
                              'actimeo=0)'], found)

    def test_nfs_noac(self):
        self.assertEqual([], placement.problems(mount('nfs4', NFS_NOAC)))
        self.assertEqual([], placement.problems(mount('nfs', 'rw,noac')))

    def test_nfs_actimeo_0(self):
        # What mount -o actimeo=0 looks like in /proc/mounts.
        self.assertEqual([], placement.problems(mount('nfs4',
                                                      NFS_ACTIMEO_0)))

    def test_nfs_without_server_locking(self):
        found = placement.problems(mount('nfs', 'rw,noac,nolock,'
                                         'local_lock=all'))
        self.assertEqual(['NFS mount /var/lib/cinder has no server-side '
                          'locking (nolock or local_lock)'], found)
        found = placement.problems(mount('nfs', 'rw,noac,nolock'))
        self.assertEqual(1, len(found), found)
        self.assertIn('nolock', found[0])
        found = placement.problems(mount('nfs4', 'rw,noac,'
                                         'local_lock=posix'))
        self.assertEqual(1, len(found), found)
        self.assertIn('local_lock', found[0])

    def test_cifs(self):
        found = placement.problems(mount('cifs', CIFS_DEFAULT))
        self.assertEqual(['CIFS mount /var/lib/cinder lacks cache=none'],
                         found)
        self.assertEqual([], placement.problems(mount(
            'cifs', CIFS_DEFAULT.replace('cache=strict', 'cache=none'))))
        found = placement.problems(mount('smb3', 'rw,cache=none,nobrl'))
        self.assertEqual(['CIFS mount /var/lib/cinder has nobrl (no '
                          'byte-range locks)'], found)

    def test_wal_on_network_filesystem(self):
        for fs, extra in (('fuse.glusterfs', dict(GLUSTER_SAFE)),
                          ('nfs4', None), ('cifs', None)):
            options = {'nfs4': NFS_NOAC,
                       'cifs': 'rw,cache=none'}.get(fs, 'rw')
            found = placement.problems(mount(fs, options), extra, 'wal')
            self.assertEqual(1, len(found), found)
            self.assertIn('journal_mode = wal', found[0])
            self.assertIn(fs, found[0])
            self.assertEqual([], placement.problems(mount(fs, options),
                                                    extra, 'persist'))

    def test_other_network_filesystems(self):
        for fstype in ('ceph', 'fuse.sshfs', '9p'):
            found = placement.problems(mount(fstype))
            self.assertEqual(['/var/lib/cinder is a network filesystem (%s) '
                              'with no known safe options for sqlite'
                              % fstype], found)

    def test_fix_hint(self):
        self.assertIn('direct-io-mode=enable,attribute-timeout=0,'
                      'entry-timeout=0,negative-timeout=0',
                      placement.fix_hint(mount('fuse.glusterfs')))
        self.assertIn('noac', placement.fix_hint(mount('nfs4')))
        self.assertIn('cache=none', placement.fix_hint(mount('smb3')))
        self.assertIn('MariaDB', placement.fix_hint(mount('ceph')))
        self.assertIn('MariaDB', placement.fix_hint(None))


class SqliteFileTestCase(base.TestCase):

    def setUp(self):
        super(SqliteFileTestCase, self).setUp()
        self.dir = os.path.realpath(self.make_tempdir())
        self.path = os.path.join(self.dir, 'cinder.sqlite')

    def make_db(self, rows=200):
        db = sqlite3.connect(self.path)
        db.execute('CREATE TABLE volumes (id INTEGER PRIMARY KEY, '
                   'status TEXT)')
        db.execute('CREATE INDEX volumes_status ON volumes (status)')
        db.executemany('INSERT INTO volumes (status) VALUES (?)',
                       [('status-%d' % i * 20,) for i in range(rows)])
        db.commit()
        db.close()

    def overwrite(self, offset, data):
        with open(self.path, 'r+b') as handle:
            handle.seek(offset)
            handle.write(data)

    def test_sqlite_path(self):
        self.assertEqual('/var/lib/cinder/cinder.sqlite',
                         placement.sqlite_path(
                             'sqlite:////var/lib/cinder/cinder.sqlite'))
        self.assertEqual(os.path.abspath('rel.sqlite'),
                         placement.sqlite_path('sqlite:///rel.sqlite'))
        self.assertEqual('/x.db', placement.sqlite_path('sqlite+pysqlite:'
                                                        '////x.db'))
        for url in ('sqlite://', 'sqlite:///:memory:',
                    'mysql+pymysql://cinder:secret@db/cinder',
                    'postgresql://db/cinder'):
            self.assertIsNone(placement.sqlite_path(url), url)

    def test_quick_check_ok(self):
        self.make_db()
        self.assertEqual('ok', placement.quick_check(self.path))

    def test_quick_check_garbage_page(self):
        self.make_db()
        page = sqlite3.connect(self.path).execute(
            'PRAGMA page_size').fetchone()[0]
        self.overwrite(page, b'\xff' * page)  # page 2
        result = placement.quick_check(self.path)
        self.assertNotEqual('ok', result)
        self.assertIn('malformed', result)

    def test_quick_check_broken_tree(self):
        self.make_db()
        self.overwrite(9 * 4096 + 100, b'\0' * 200)  # inside page 10
        result = placement.quick_check(self.path)
        self.assertNotEqual('ok', result)
        self.assertIn('page 10', result)

    def test_quick_check_header(self):
        self.make_db()
        self.overwrite(0, b'not a sqlite file' * 6)
        self.assertEqual('file is not a database',
                         placement.quick_check(self.path))

    def test_journal_mode(self):
        self.make_db()
        self.assertEqual('delete', placement.journal_mode(self.path))
        db = sqlite3.connect(self.path)
        db.execute('PRAGMA journal_mode = wal')
        db.close()
        self.assertEqual('wal', placement.journal_mode(self.path))

    def local(self):
        return [placement.Mount('/dev/vda1', '/', 'ext4',
                                ['rw', 'relatime'])]

    def test_report_local_file(self):
        self.make_db()
        report = placement.report('sqlite:///%s' % self.path,
                                  mounts=self.local())
        self.assertEqual({'file': self.path, 'exists': True,
                          'filesystem': 'ext4', 'mount_point': '/',
                          'mount_source': '/dev/vda1',
                          'mount_options': 'rw,relatime', 'problems': [],
                          'safe': True, 'journal_mode': 'delete',
                          'journal_mode_of_services': 'persist',
                          'integrity': 'ok'}, report)

    def test_report_auto_journal_mode(self):
        local = placement.report('sqlite:///%s' % self.path, 'auto',
                                 mounts=self.local())
        self.assertEqual('wal', local['journal_mode_of_services'])
        gluster = placement.report('sqlite:///%s' % self.path, 'auto',
                                   mounts=self.gluster(self.dir))
        self.assertEqual('persist', gluster['journal_mode_of_services'])

    def test_report_missing_file(self):
        report = placement.report('sqlite:///%s' % self.path,
                                  mounts=self.local())
        self.assertIs(False, report['exists'])
        self.assertTrue(report['safe'])
        self.assertNotIn('integrity', report)
        self.assertNotIn('journal_mode', report)
        # Looking must not create the file.
        self.assertFalse(os.path.exists(self.path))

    def test_report_corrupt_file(self):
        self.make_db()
        self.overwrite(0, b'not a sqlite file' * 6)
        report = placement.report('sqlite:///%s' % self.path,
                                  mounts=self.local())
        self.assertEqual('file is not a database', report['integrity'])

    def test_report_not_sqlite(self):
        self.assertEqual({'database': 'not a sqlite file', 'safe': True},
                         placement.report('mysql+pymysql://u:p@h/cinder'))

    def test_report_reads_proc_mounts(self):
        with mock.patch.object(placement, 'read_mounts',
                               return_value=self.local()) as read:
            report = placement.report('sqlite:///%s' % self.path)
        read.assert_called_once_with()
        self.assertEqual('ext4', report['filesystem'])

    def gluster(self, target):
        return self.local() + [placement.Mount(
            'gluster1:/cinder', target, 'fuse.glusterfs',
            ['rw', 'relatime', 'user_id=0'])]

    def test_report_gluster(self):
        self.make_db()
        with mock.patch.object(placement, 'gluster_client',
                               return_value=(self.dir, {
                                   'direct-io-mode': 'enable',
                                   'attribute-timeout': '0'})) as g, \
                mock.patch.object(placement, 'gluster_graph_options',
                                  return_value={'client': {},
                                                'replicate': {}}), \
                mock.patch.object(placement, 'gluster_volume_option',
                                  return_value=None):
            report = placement.report('sqlite:///%s' % self.path,
                                      'wal', mounts=self.gluster(self.dir))
        self.assertEqual('client,replicate',
                         report['glusterfs_client_graph'])
        g.assert_called_once_with(self.dir)
        self.assertEqual('fuse.glusterfs', report['filesystem'])
        self.assertEqual(self.dir, report['mount_point'])
        self.assertEqual('attribute-timeout=0,direct-io-mode=enable',
                         report['glusterfs_client_options'])
        self.assertIs(False, report['safe'])
        self.assertEqual(3, len(report['problems']), report['problems'])
        self.assertIn('journal_mode = wal', report['problems'][0])
        self.assertIn('lacks entry-timeout=0', report['problems'][1])
        self.assertIn('lacks negative-timeout=0', report['problems'][2])

    def test_report_symlinked_file(self):
        # The file is a symlink into the GlusterFS mount: db check must
        # judge the filesystem the data is on, as preflight does.
        shared = os.path.join(self.dir, 'shared')
        local = os.path.join(self.dir, 'local')
        os.mkdir(shared)
        os.mkdir(local)
        os.symlink(os.path.join(shared, 'cinder.sqlite'),
                   os.path.join(local, 'cinder.sqlite'))
        with mock.patch.object(placement, 'gluster_client',
                               return_value=(shared, {})), \
                mock.patch.object(placement, 'gluster_volume_option',
                                  return_value=None):
            report = placement.report('sqlite:///%s/cinder.sqlite' % local,
                                      mounts=self.gluster(shared))
        self.assertEqual('fuse.glusterfs', report['filesystem'])
        self.assertIs(False, report['safe'])


class GlusterGraphTestCase(base.TestCase):
    """The client graph a GlusterFS mount exposes under .meta."""

    def graph_dir(self, types):
        mount = self.make_tempdir()
        active = os.path.join(mount, '.meta', 'graphs', 'active')
        for name, kind in types.items():
            os.makedirs(os.path.join(active, name))
            with open(os.path.join(active, name, 'type'), 'w') as handle:
                handle.write(kind + '\n')
        # Entries without a type file (meta-autoload, volfile) are skipped.
        os.makedirs(os.path.join(active, 'volfile'))
        return mount

    def test_reads_translator_types(self):
        mount = self.graph_dir({'v-client-0': 'protocol/client',
                                'v-client-1': 'protocol/client',
                                'v-write-behind': 'performance/write-behind',
                                'v-replicate-0': 'cluster/replicate'})
        self.assertEqual(['client', 'replicate', 'write-behind'],
                         placement.gluster_graph(mount))

    def test_unreadable(self):
        self.assertIsNone(placement.gluster_graph(self.make_tempdir()))
        self.assertIsNone(placement.gluster_graph_options(
            self.make_tempdir()))

    def test_reads_translator_options(self):
        mount = self.graph_dir({'v-write-behind': 'performance/write-behind',
                                'v-replicate-0': 'cluster/replicate'})
        options = os.path.join(mount, '.meta', 'graphs', 'active',
                               'v-write-behind', 'options')
        os.makedirs(options)
        with open(os.path.join(options, 'strict-O_DIRECT'), 'w') as handle:
            handle.write('off\n')
        self.assertEqual({'write-behind': {'strict-O_DIRECT': 'off'},
                          'replicate': {}},
                         placement.gluster_graph_options(mount))

    def test_problems_from_graph(self):
        mount = placement.Mount('g:/v', '/mnt/v', 'fuse.glusterfs', ['rw'])
        options = dict(placement.GLUSTER_REQUIRED)
        self.assertEqual([], placement.problems(
            mount, options, 'persist', ['client', 'replicate']))
        found = placement.problems(mount, options, 'persist',
                                   ['client', 'io-cache', 'open-behind'])
        self.assertEqual(1, len(found), found)
        self.assertIn('on a GlusterFS server run: gluster volume set v '
                      'performance.io-cache off && gluster volume set v '
                      'performance.open-behind off', found[0])
        self.assertNotIn('strict-o-direct', found[0])
        found = placement.problems(mount, options, 'persist', None)
        self.assertEqual(['cannot read the client graph of /mnt/v (.meta)'],
                         found)
