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
import shutil
import sqlite3
import sys
from unittest import mock

import fixtures
from oslo_config import cfg
from tests.unit import base

from cinder_ksvd.cmd import common
from cinder_ksvd.cmd import manage
from cinder_ksvd.cmd import preflight
from cinder_ksvd.db import placement
from cinder_ksvd.db import sqlitefile
from cinder_ksvd import opts
from cinder_ksvd import paths


class MainTestCase(base.TestCase):

    def setUp(self):
        super(MainTestCase, self).setUp()
        self.run = self.useFixture(fixtures.MockPatchObject(
            common, 'run', return_value=0)).mock

    def main(self, *args):
        with mock.patch.object(sys, 'argv', ['ksvd-cinder-manage'] +
                               list(args)):
            exc = self.assertRaises(SystemExit, manage.main)
        self.assertEqual(0, exc.code)

    def test_command_checked(self):
        self.main('db', 'sync')
        self.run.assert_called_once_with('manage', ['db', 'sync'],
                                         check='manage')

    def test_help_without_checks(self):
        for args in ([], ['-h'], ['--help']):
            self.run.reset_mock()
            self.main(*args)
            self.run.assert_called_once_with('manage', args)

    def test_db_check_dispatched(self):
        with mock.patch.object(manage, 'db_check',
                               return_value=1) as db_check, \
                mock.patch.object(sys, 'argv', ['ksvd-cinder-manage',
                                                '--config-file', 'db',
                                                'db', 'check']):
            exc = self.assertRaises(SystemExit, manage.main)
        self.assertEqual(1, exc.code)
        db_check.assert_called_once_with(['--config-file', 'db', 'db',
                                          'check'])
        self.run.assert_not_called()

    def test_other_db_commands_go_to_cinder(self):
        self.main('--config-file', '/c.conf', 'db', 'version')
        self.run.assert_called_once_with(
            'manage', ['--config-file', '/c.conf', 'db', 'version'],
            check='manage')


class DbMigrateTestCase(base.TestCase):
    """db migrate with cinder's real migrations, sqlite to sqlite."""

    def setUp(self):
        super(DbMigrateTestCase, self).setUp()
        from cinder.db import migration
        import sqlalchemy as sa

        self.dir = self.make_tempdir()
        self.source = 'sqlite:///%s/cinder.sqlite' % self.dir
        engine = sa.create_engine(self.source)
        self.addCleanup(engine.dispose)
        migration.db_sync(engine=engine)
        with engine.begin() as conn:
            base.sql(
                conn,
                "INSERT INTO volume_types (id, name, is_public, deleted, "
                "created_at) VALUES ('t1', 'gold', 1, 0, "
                "'2026-01-02 03:04:05.123456')")
            base.sql(
                conn,
                "INSERT INTO services (host, `binary`, topic, "
                "report_count, disabled, deleted, created_at, updated_at) "
                "VALUES ('n1', 'cinder-volume', 'cinder-volume', 5, 0, 0, "
                "'2026-01-02 03:04:05', '2026-01-02 03:04:05')")
        self.conf = self.write_file(
            self.dir, 'cinder.conf',
            '[DEFAULT]\nservice_down_time = 30\n'
            '[database]\nconnection = %s\n' % self.source)
        self.target = 'sqlite:///%s/target.sqlite' % self.dir

    def migrate(self):
        out, err = base.StringIO(), base.StringIO()
        with mock.patch.object(sys, 'stdout', out), \
                mock.patch.object(sys, 'stderr', err):
            rc = manage.db_migrate(['--config-file', self.conf, 'db',
                                    'migrate', '--to', self.target])
        return rc, out.getvalue(), err.getvalue()

    def test_migrate_then_refuse(self):
        rc, out, err = self.migrate()
        self.assertEqual(0, rc, err)
        self.assertRegex(out, r'(?m)^volume_types +2 rows .* ok$')
        self.assertRegex(out, r'(?m)^services +1 rows .* ok$')
        from cinder.db import migration
        # sqlalchemy-migrate's integer versions before alembic (cinder 15
        # and 16 in the legacy tier): the same command there.
        rev = (r'\d+' if hasattr(migration, 'MIGRATE_REPO_PATH')
               else r'[0-9a-f]{12}')
        self.assertRegex(out, r'migrated \d+ tables, \d+ rows at revision '
                         r'%s; now set \[database\] connection' % rev)
        import sqlite3
        conn = sqlite3.connect('%s/target.sqlite' % self.dir)
        self.addCleanup(conn.close)
        self.assertEqual([('gold',), ('__DEFAULT__',)], sorted(conn.execute(
            'SELECT name FROM volume_types').fetchall(), reverse=True))
        rc, out, err = self.migrate()
        self.assertEqual(1, rc)
        self.assertEqual(1, len(err.splitlines()))
        self.assertIn('ksvd-cinder-manage: error: db migrate: target '
                      'database sqlite:///', err)
        self.assertIn('is not empty', err)

    def test_running_service_refused(self):
        import sqlite3
        conn = sqlite3.connect('%s/cinder.sqlite' % self.dir)
        with conn:
            conn.execute("UPDATE services SET updated_at = "
                         "datetime('now', '-10 seconds')")
        conn.close()
        rc, out, err = self.migrate()
        self.assertEqual(1, rc)
        self.assertIn('still running (e.g. cinder-volume on n1, heartbeat',
                      err)
        self.assertIn('service_down_time 30s', err)
        self.assertFalse(os.path.exists('%s/target.sqlite' % self.dir))

    def test_dispatched(self):
        with mock.patch.object(manage, 'db_migrate',
                               return_value=0) as db_migrate, \
                mock.patch.object(sys, 'argv', ['ksvd-cinder-manage', 'db',
                                                'migrate', '--to', 'x']):
            exc = self.assertRaises(SystemExit, manage.main)
        self.assertEqual(0, exc.code)
        db_migrate.assert_called_once_with(['db', 'migrate', '--to', 'x'])


class PositionalsTestCase(base.TestCase):

    def test_skips_option_values(self):
        self.assertEqual(['db', 'check'], manage._positionals(
            ['--config-file', 'db', '--config-dir', 'check', 'db',
             '--debug', 'check']))
        self.assertEqual(['db', 'check'], manage._positionals(
            ['--log-file', 'x', '--log-dir', 'y', '--log-config-append',
             'z', 'db', 'check']))

    def test_equals_form_and_flags(self):
        self.assertEqual(['db', 'sync', '5'], manage._positionals(
            ['--config-file=/c.conf', '-d', 'db', 'sync', '5']))

    def test_empty(self):
        self.assertEqual([], manage._positionals([]))
        self.assertEqual([], manage._positionals(['--config-file']))


class SqliteConfTestCase(base.TestCase):
    """A sqlite file in a temp dir, a config naming it, captured output."""

    def setUp(self):
        super(SqliteConfTestCase, self).setUp()
        self.dir = os.path.realpath(self.make_tempdir())
        self.path = os.path.join(self.dir, 'cinder.sqlite')
        self.stdout = self.useFixture(fixtures.MockPatch(
            'sys.stdout', new_callable=base.StringIO)).mock
        self.stderr = self.useFixture(fixtures.MockPatch(
            'sys.stderr', new_callable=base.StringIO)).mock

    def config(self, text=None):
        if text is None:
            text = '[database]\nconnection = sqlite:///%s\n' % self.path
        return self.write_file(self.dir, 'cinder.conf', text)


class DbCheckTestCase(SqliteConfTestCase):

    def setUp(self):
        super(DbCheckTestCase, self).setUp()
        self.mounts = [placement.Mount('/dev/vda1', '/', 'ext4',
                                       ['rw', 'relatime'])]
        self.useFixture(fixtures.MockPatchObject(
            placement, 'read_mounts', return_value=self.mounts))

    def make_db(self):
        conn = sqlite3.connect(self.path)
        conn.execute('CREATE TABLE volumes (id INTEGER PRIMARY KEY)')
        conn.commit()
        conn.close()

    def check(self, path=None):
        return manage.db_check(['--config-file', path or self.config(),
                                'db', 'check'])

    def test_safe_local_file(self):
        self.make_db()
        self.assertEqual(0, self.check())
        output = self.stdout.getvalue().splitlines()
        self.assertIn('file:                      %s' % self.path, output)
        self.assertIn('exists:                    True', output)
        self.assertIn('filesystem:                ext4', output)
        self.assertIn('mount point:               /', output)
        self.assertIn('journal mode (file):       delete', output)
        # journal_mode = auto on ext4.
        self.assertIn('journal mode of services:  wal', output)
        self.assertIn('integrity:                 ok', output)
        self.assertEqual('safe:                      True', output[-1])
        self.assertFalse([line for line in output
                          if line.startswith('problem:')])
        self.assertEqual('', self.stderr.getvalue())

    def test_missing_file_is_safe(self):
        self.assertEqual(0, self.check())
        output = self.stdout.getvalue().splitlines()
        self.assertIn('exists:                    False', output)
        self.assertIn('safe:                      True', output)
        self.assertFalse(os.path.exists(self.path))

    def test_unsafe_placement(self):
        self.make_db()
        self.mounts.append(placement.Mount('gluster1:/cinder', self.dir,
                                           'fuse.glusterfs', ['rw']))
        with mock.patch.object(placement, 'gluster_client',
                               return_value=(self.dir, {
                                   'direct-io-mode': 'enable'})), \
                mock.patch.object(placement, 'gluster_graph_options',
                                  return_value={'client': {},
                                                'replicate': {}}), \
                mock.patch.object(placement, 'gluster_volume_option',
                                  return_value='off'):
            self.assertEqual(1, self.check())
        output = self.stdout.getvalue().splitlines()
        self.assertIn('filesystem:                fuse.glusterfs', output)
        self.assertIn('glusterfs client options:  direct-io-mode=enable',
                      output)
        self.assertIn('safe:                      False', output)
        self.assertIn('glusterfs volume:          cinder', output)
        self.assertIn('glusterfs strict-o-direct: off', output)
        problems = [line for line in output if line.startswith('problem:')]
        self.assertEqual(4, len(problems), output)
        self.assertIn('lacks attribute-timeout=0', problems[0])
        self.assertIn('performance.strict-o-direct off; run: gluster volume '
                      'set cinder performance.strict-o-direct on',
                      problems[3])

    def test_other_hosts_verdicts_reported(self):
        # This host's mount is safe; another host sharing the file recorded
        # an unsafe one at its last start: db check says so and fails.
        from cinder_ksvd.db import verdicts
        self.make_db()
        self.mounts.append(placement.Mount('gluster1:/cinder', self.dir,
                                           'fuse.glusterfs', ['rw']))
        other = placement.Mount('gluster1:/cinder', '/var/lib/cinder',
                                'fuse.glusterfs', ['rw'])
        verdicts.record(self.path, other, ['GlusterFS mount /var/lib/cinder '
                                           'lacks entry-timeout=0'],
                        'ksvd-cinder-volume', host='node2')
        with mock.patch.object(placement, 'gluster_client',
                               return_value=(self.dir, dict(
                                   placement.GLUSTER_REQUIRED))), \
                mock.patch.object(placement, 'gluster_graph_options',
                                  return_value={'client': {}}), \
                mock.patch.object(placement, 'gluster_volume_option',
                                  return_value='on'), \
                mock.patch.object(verdicts, 'this_host',
                                  return_value='node1'):
            self.assertEqual(1, self.check())
        output = self.stdout.getvalue().splitlines()
        self.assertIn('safe:                      True', output)
        self.assertIn('hosts sharing the file:    2 (verdicts in %s.placement;'
                      ' remove a file to forget a host)' % self.path, output)
        hosts = [line for line in output if line.startswith('host')]
        self.assertTrue(hosts[1].startswith(
            'host:                      node1: safe (checked '), hosts)
        self.assertTrue(hosts[1].endswith(' by db check)'), hosts)
        self.assertTrue(hosts[2].startswith(
            'host:                      node2: UNSAFE (checked '), hosts)
        self.assertEqual('host problem:              node2: GlusterFS mount '
                         '/var/lib/cinder lacks entry-timeout=0', hosts[3])
        # Once node2 is fixed (its next start records safe), all pass.
        verdicts.record(self.path, other, [], 'ksvd-cinder-volume',
                        host='node2')
        self.stdout.truncate(0)
        with mock.patch.object(placement, 'gluster_client',
                               return_value=(self.dir, dict(
                                   placement.GLUSTER_REQUIRED))), \
                mock.patch.object(placement, 'gluster_graph_options',
                                  return_value={'client': {}}), \
                mock.patch.object(placement, 'gluster_volume_option',
                                  return_value='on'):
            self.assertEqual(0, self.check())

    def test_journal_mode_from_config(self):
        self.mounts.append(placement.Mount('nas:/export', self.dir, 'nfs4',
                                           ['rw', 'noac']))
        path = self.config('[database]\nconnection = sqlite:///%s\n'
                           '[ksvd_database]\njournal_mode = wal\n'
                           % self.path)
        self.assertEqual(1, self.check(path))
        self.assertIn('journal_mode = wal', self.stdout.getvalue())

    def test_corrupt_file(self):
        self.make_db()
        with open(self.path, 'r+b') as handle:
            handle.write(b'this is not a sqlite file' * 4)
        self.assertEqual(1, self.check())
        output = self.stdout.getvalue().splitlines()
        self.assertIn('integrity:                 file is not a database',
                      output)

    def test_not_sqlite(self):
        path = self.config('[database]\nconnection = '
                           'mysql+pymysql://cinder:secret@db/cinder\n')
        self.assertEqual(0, self.check(path))
        self.assertEqual(['database:                  not a sqlite file',
                          'safe:                      True'],
                         self.stdout.getvalue().splitlines())

    def test_connection_not_set(self):
        path = self.config('[DEFAULT]\ndebug = true\n')
        self.assertEqual(preflight.EX_CONFIG, self.check(path))
        self.assertEqual('ksvd-cinder-manage: error: [database] connection '
                         'is not set\n', self.stderr.getvalue())
        self.assertEqual('', self.stdout.getvalue())

    def test_missing_config_file(self):
        path = os.path.join(self.dir, 'missing.conf')
        self.assertEqual(preflight.EX_CONFIG, self.check(path))
        self.assertIn('config file %s does not exist' % path,
                      self.stderr.getvalue())

    def test_no_configuration(self):
        with mock.patch.object(paths, 'default_config_args',
                               return_value=[]):
            self.assertEqual(preflight.EX_CONFIG,
                             manage.db_check(['db', 'check']))
        self.assertIn('no configuration found', self.stderr.getvalue())


class ImageCommandTestCase(base.TestCase):
    """ksvd-cinder-manage image import|list|show|delete on a temp store."""

    def setUp(self):
        super(ImageCommandTestCase, self).setUp()
        self.dir = self.make_tempdir()
        self.conf_file = self.write_file(
            self.dir, 'cinder.conf',
            '[DEFAULT]\nstate_path = %s\n[database]\nconnection = '
            'sqlite:///%s/c.sqlite\n' % (self.dir, self.dir))
        self.stdout = self.useFixture(fixtures.StringStream('stdout'))
        self.useFixture(fixtures.MonkeyPatch('sys.stdout',
                                             self.stdout.stream))

    def run_image(self, *words):
        return manage.image_command(['--config-file', self.conf_file,
                                     'image'] + list(words))

    def test_import_list_show_delete(self):
        src = self.write_file(self.dir, 'disk.img', 'x' * 70000)
        self.assertEqual(0, self.run_image('import', src, '--property',
                                           'os=linux'))
        out = self.stdout.getDetails()['stdout'].as_text()
        image_id = out.split('id:', 1)[1].split()[0]
        self.assertIn('status:            active', out)
        self.assertIn('disk_format:       raw', out)
        self.assertIn('property:          os=linux', out)
        self.assertEqual(0, self.run_image('list'))
        self.assertEqual(0, self.run_image('show', image_id))
        self.assertEqual(0, self.run_image('delete', image_id))
        self.assertEqual(1, self.run_image('show', image_id))
        self.assertEqual([], [n for n in os.listdir(
            os.path.join(self.dir, 'ksvd-images')) if n != '.tmp'])

    def test_import_missing_file(self):
        self.assertEqual(1, self.run_image('import', '/nonexistent/x.img'))
        self.assertFalse(os.path.exists(os.path.join(self.dir,
                                                     'ksvd-images')))


class TokenCommandTest(base.TestCase):

    def setUp(self):
        super(TokenCommandTest, self).setUp()
        self.dir = self.make_tempdir()
        self.path = os.path.join(self.dir, 'tokens.json')
        self.conf_file = self.write_file(
            self.dir, 'cinder.conf',
            '[ksvd_auth]\ntoken_file = %s\n' % self.path)
        self.stdout = self.useFixture(fixtures.MockPatchObject(
            sys, 'stdout', base.StringIO())).mock
        self.stderr = self.useFixture(fixtures.MockPatchObject(
            sys, 'stderr', base.StringIO())).mock

    def token(self, *args):
        self.stdout.seek(0)
        self.stdout.truncate()
        return manage.token_command(['--config-file', self.conf_file,
                                     'token'] + list(args))

    def test_create_list_revoke(self):
        from cinder_ksvd.api import tokens
        self.assertEqual(0, self.token('create', '--user', 'mc',
                                       '--project', 'ksvd', '--role',
                                       'admin', '--role', 'service',
                                       '--ttl', '30d'))
        out = self.stdout.getvalue()
        value = [line.split()[1] for line in out.splitlines()
                 if line.startswith('token:')][0]
        token_id, secret = tokens.parse(value)
        store = tokens.TokenStore(self.path)
        self.assertEqual(('admin', 'service'),
                         store.authenticate(value).roles)
        self.assertEqual(0, self.token('list'))
        listing = self.stdout.getvalue()
        self.assertIn(token_id, listing)
        self.assertIn('admin,service', listing)
        self.assertNotIn(secret, listing)
        self.assertEqual(0, self.token('revoke', token_id))
        self.assertRaises(tokens.TokenError, store.authenticate, value)
        self.assertEqual(1, self.token('revoke', token_id))
        self.assertIn('no token %s' % token_id, self.stderr.getvalue())

    def test_quiet_prints_only_the_token(self):
        from cinder_ksvd.api import tokens
        self.assertEqual(0, self.token('create', '--user', 'u', '--project',
                                       'p', '--role', 'reader', '-q'))
        self.assertIsNotNone(tokens.parse(self.stdout.getvalue().strip()))

    def test_refusals_are_one_line(self):
        for args, expect in (
                (['--role', 'root'], 'unknown role'),
                (['--role', 'admin', '--expires', '2000-01-01T00:00:00Z'],
                 'in the past'),
                (['--role', 'admin', '--ttl', 'soon'], 'not a duration'),
                (['--role', 'admin', '--project', 'a/b'], 'project')):
            base_args = ['create', '--user', 'u']
            if '--project' not in args:
                base_args += ['--project', 'p']
            self.stderr.seek(0)
            self.stderr.truncate()
            self.assertEqual(preflight.EX_CONFIG,
                             self.token(*(base_args + args)))
            lines = self.stderr.getvalue().strip().splitlines()
            self.assertEqual(1, len(lines))
            self.assertIn(expect, lines[0])
        self.assertFalse(os.path.exists(self.path))

    def test_dispatched_from_main(self):
        with mock.patch.object(manage, 'token_command',
                               return_value=0) as command, \
                mock.patch.object(sys, 'argv', ['ksvd-cinder-manage',
                                                '--token-file', 'token',
                                                'token', 'list']):
            self.assertRaises(SystemExit, manage.main)
        command.assert_called_once_with(['--token-file', 'token', 'token',
                                         'list'])


class DriverCommandTestCase(base.TestCase):

    def setUp(self):
        super(DriverCommandTestCase, self).setUp()
        self.stdout = self.useFixture(fixtures.MockPatch(
            'sys.stdout', new_callable=base.StringIO)).mock
        self.stderr = self.useFixture(fixtures.MockPatch(
            'sys.stderr', new_callable=base.StringIO)).mock
        self.dir = self.make_tempdir()

    def test_dispatched(self):
        with mock.patch.object(manage, 'driver_command',
                               return_value=1) as command, \
                mock.patch.object(sys, 'argv', ['ksvd-cinder-manage',
                                                'driver', 'check', 'a.B']):
            exc = self.assertRaises(SystemExit, manage.main)
        self.assertEqual(1, exc.code)
        command.assert_called_once_with(['driver', 'check', 'a.B'])

    def test_usage(self):
        self.assertEqual(preflight.EX_CONFIG,
                         manage.driver_command(['driver', 'check']))
        self.assertIn('usage: driver check <volume_driver class path',
                      self.stderr.getvalue())

    def test_reports_and_exit_status(self):
        from cinder_ksvd.compat import check
        conf = self.write_file(self.dir, 'c.conf', '[ksvd_compat]\n'
                               'modules = acme\n')
        result = check.Result('acme.Driver')
        with mock.patch.object(check, 'check',
                               return_value=result) as run:
            status = manage.driver_command(['--config-file', conf, 'driver',
                                            'check', 'acme.Driver'])
        self.assertEqual(1, status)
        loaded_conf, driver = run.call_args[0]
        self.assertEqual('acme.Driver', driver)
        self.assertEqual(['acme'], loaded_conf.ksvd_compat.modules)
        self.assertEqual(['driver:     acme.Driver', 'loaded:     no',
                          'result:     NOT usable: fix the lines above'],
                         self.stdout.getvalue().splitlines())
        result.loaded = True
        with mock.patch.object(check, 'check', return_value=result):
            self.assertEqual(0, manage.driver_command(
                ['--config-file', conf, 'driver', 'check', 'acme.Driver']))

    def test_bad_location_is_one_line(self):
        conf = self.write_file(self.dir, 'c.conf', '[ksvd_compat]\n'
                               'driver_locations = a.b=/nonexistent\n')
        self.addCleanup(__import__('cinder_ksvd.compat.importer').compat
                        .importer.uninstall)
        status = manage.driver_command(['--config-file', conf, 'driver',
                                        'check', 'a.b.c.D'])
        self.assertEqual(preflight.EX_CONFIG, status)
        self.assertEqual(['ksvd-cinder-manage: error: [ksvd_compat] '
                          'driver_locations: /nonexistent is not a '
                          'directory: install the driver there or correct '
                          'the entry a.b=/nonexistent'],
                         self.stderr.getvalue().splitlines())


class DbFileTestCase(SqliteConfTestCase):

    def write_in_wal(self):
        """Commit a table and rows that stay in cinder.sqlite-wal.

        Like db sync's engine: the connection stays open, so sqlite's own
        checkpoint when the last connection closes does not happen.
        """
        conn = sqlite3.connect(self.path, isolation_level=None)
        self.addCleanup(conn.close)
        conn.execute('PRAGMA journal_mode = wal')
        conn.execute('PRAGMA wal_autocheckpoint = 0')
        conn.execute('CREATE TABLE volumes (id INTEGER PRIMARY KEY)')
        conn.execute('INSERT INTO volumes VALUES (1), (2), (3)')
        return conn

    def file_alone(self, path=None):
        """The table names of a copy of the file without its -wal."""
        copy = os.path.join(self.make_tempdir(), 'copy.sqlite')
        shutil.copyfile(path or self.path, copy)
        conn = sqlite3.connect(copy)
        try:
            return [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")]
        finally:
            conn.close()

    def main(self, *args):
        with mock.patch.object(sys, 'argv', ['ksvd-cinder-manage'] +
                               list(args)):
            exc = self.assertRaises(SystemExit, manage.main)
        return exc.code


class DbSyncCheckpointTestCase(DbFileTestCase):

    def setUp(self):
        super(DbSyncCheckpointTestCase, self).setUp()
        # What stock cinder-manage leaves behind: the global config parsed.
        conf = self.new_conf()
        opts.register_opts(conf)
        conf.register_opt(cfg.StrOpt('connection'), group='database')
        conf(['--config-file', self.config()], default_config_files=[],
             default_config_dirs=[])
        self.useFixture(fixtures.MockPatchObject(cfg, 'CONF', conf))
        self.run = self.useFixture(fixtures.MockPatchObject(
            common, 'run', return_value=0)).mock

    def test_schema_in_the_file_after_db_sync(self):
        self.run.side_effect = lambda *a, **k: self.write_in_wal() and 0
        self.assertEqual(0, self.main('--config-file', self.config(), 'db',
                                      'sync'))
        self.run.assert_called_once_with(
            'manage', ['--config-file', self.config(), 'db', 'sync'],
            check='manage')
        # cp cinder.sqlite alone now gives the schema, not an empty file.
        self.assertEqual(['volumes'], self.file_alone())
        self.assertEqual(0, os.path.getsize(self.path + '-wal'))
        self.assertEqual('', self.stdout.getvalue() + self.stderr.getvalue())

    def test_failed_sync_is_not_checkpointed(self):
        self.run.return_value = 2
        with mock.patch.object(sqlitefile, 'checkpoint') as checkpoint:
            self.assertEqual(2, self.main('db', 'sync'))
        checkpoint.assert_not_called()

    def test_checkpoint_error_is_one_line(self):
        self.write_in_wal()
        with mock.patch.object(
                sqlitefile, 'checkpoint',
                side_effect=sqlite3.OperationalError('disk I/O error')):
            self.assertEqual(1, self.main('db', 'sync'))
        self.assertEqual(
            'ksvd-cinder-manage: error: db sync: the schema is written, but '
            'the WAL checkpoint of %s failed (disk I/O error); copy the file '
            'only with db backup\n' % self.path, self.stderr.getvalue())

    def test_busy_is_an_error(self):
        self.write_in_wal()
        with mock.patch.object(
                sqlitefile, 'checkpoint',
                side_effect=sqlitefile.CheckpointIncomplete('3 of 9 ...')):
            self.assertEqual(1, self.main('db', 'sync'))
        self.assertIn('failed (3 of 9 ...)', self.stderr.getvalue())

    def test_not_sqlite(self):
        cfg.CONF.set_override('connection', 'mysql+pymysql://c:p@db/cinder',
                              group='database')
        with mock.patch.object(sqlitefile, 'checkpoint') as checkpoint:
            self.assertEqual(0, self.main('db', 'sync'))
        checkpoint.assert_not_called()


class DbBackupTestCase(DbFileTestCase):

    def setUp(self):
        super(DbBackupTestCase, self).setUp()
        self.dest = os.path.join(self.dir, 'backup.sqlite')

    def backup(self, *extra, **kwargs):
        config = kwargs.get('config') or self.config()
        return manage.db_backup(['db', 'backup', self.dest, '--config-file',
                                 config] + list(extra))

    def test_backup_of_a_live_wal_database(self):
        self.write_in_wal()
        self.assertEqual(0, self.backup())
        self.assertEqual(
            'backup of %s: %s, %d bytes, 1 tables, 3 rows, quick_check ok\n'
            % (self.path, self.dest, os.path.getsize(self.dest)),
            self.stdout.getvalue())
        self.assertEqual(['volumes'], self.file_alone(self.dest))
        self.assertEqual('', self.stderr.getvalue())

    def test_existing_dest_refused_unless_force(self):
        self.write_in_wal()
        self.write_file(self.dir, 'backup.sqlite', 'keep me')
        self.assertEqual(1, self.backup())
        self.assertEqual('ksvd-cinder-manage: error: db backup: %s already '
                         'exists (--force replaces it)\n' % self.dest,
                         self.stderr.getvalue())
        self.assertEqual('', self.stdout.getvalue())
        self.assertEqual(0, self.backup('--force'))
        self.assertEqual(['volumes'], self.file_alone(self.dest))

    def test_not_sqlite(self):
        config = self.config('[database]\nconnection = '
                             'mysql+pymysql://cinder:secret@db/cinder\n')
        self.assertEqual(1, self.backup(config=config))
        self.assertEqual('ksvd-cinder-manage: error: db backup: [database] '
                         'connection is not a sqlite file; back a server '
                         'database up with its own tools\n',
                         self.stderr.getvalue())

    def test_bad_config(self):
        missing = os.path.join(self.dir, 'missing.conf')
        self.assertEqual(preflight.EX_CONFIG, self.backup(config=missing))
        self.assertIn('config file %s does not exist' % missing,
                      self.stderr.getvalue())
        self.assertEqual(1, len(self.stderr.getvalue().splitlines()))
        self.stderr.truncate(0)
        self.stderr.seek(0)
        config = self.config('[DEFAULT]\ndebug = true\n')
        self.assertEqual(preflight.EX_CONFIG, self.backup(config=config))
        self.assertEqual('ksvd-cinder-manage: error: [database] connection '
                         'is not set\n', self.stderr.getvalue())

    def test_no_configuration(self):
        with mock.patch.object(paths, 'default_config_args',
                               return_value=[]):
            self.assertEqual(preflight.EX_CONFIG,
                             manage.db_backup(['db', 'backup', self.dest]))
        self.assertIn('no configuration found', self.stderr.getvalue())

    def test_missing_database_file(self):
        self.assertEqual(1, self.backup())
        self.assertEqual('ksvd-cinder-manage: error: db backup: no database '
                         'file at %s\n' % self.path, self.stderr.getvalue())

    def test_dispatched_from_main(self):
        run = self.useFixture(fixtures.MockPatchObject(common, 'run')).mock
        with mock.patch.object(manage, 'db_backup',
                               return_value=0) as db_backup:
            self.assertEqual(0, self.main('--config-file', 'db', 'db',
                                          'backup', '/x.sqlite'))
        db_backup.assert_called_once_with(['--config-file', 'db', 'db',
                                           'backup', '/x.sqlite'])
        run.assert_not_called()

    def test_options_before_and_after(self):
        self.write_in_wal()
        self.assertEqual(0, manage.db_backup(
            ['--config-file', self.config(), 'db', 'backup', '--force',
             self.dest]))
        self.assertTrue(os.path.isfile(self.dest))
