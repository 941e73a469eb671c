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
import sys
from unittest import mock

import fixtures
from oslo_config import cfg
from tests.unit import base

from cinder_ksvd.cmd import preflight

FAKE_DRIVER = 'cinder.tests.fake_driver.FakeLoggingVolumeDriver'


class PreflightTestCase(base.TestCase):

    def setUp(self):
        super(PreflightTestCase, self).setUp()
        self.dir = self.make_tempdir()
        self.db = 'sqlite:///%s' % os.path.join(self.dir, 'cinder.sqlite')

    def config(self, text, name='cinder.conf'):
        return self.write_file(self.dir, name, text)

    def good_text(self, backends='b1'):
        text = ('[DEFAULT]\nenabled_backends = %s\n'
                '[database]\nconnection = %s\n' % (backends, self.db))
        for backend in [b for b in backends.split(',') if b]:
            text += '[%s]\nvolume_driver = %s\n' % (backend, FAKE_DRIVER)
        return text

    def assertProblem(self, argv, service, *fragments):
        exc = self.assertRaises(preflight.ConfigProblem,
                                preflight.check, argv, service)
        message = str(exc)
        self.assertNotIn('\n', message)
        self.assertTrue(message.strip())
        for fragment in fragments:
            self.assertIn(fragment, message)
        return message


class ConfigFilesTestCase(PreflightTestCase):

    def test_missing_config_file(self):
        path = os.path.join(self.dir, 'missing.conf')
        self.assertProblem(['--config-file', path], 'api',
                           'config file %s does not exist' % path)

    def test_config_file_is_a_directory(self):
        self.assertProblem(['--config-file', self.dir], 'api',
                           'config file %s is not a file' % self.dir)

    def test_unreadable_config_file(self):
        path = self.config(self.good_text())
        os.chmod(path, 0)
        if os.geteuid() == 0:
            # root reads any file: make access() answer as for anyone else.
            real_access = os.access

            def access(target, mode, *args, **kwargs):
                if target == path:
                    return False
                return real_access(target, mode, *args, **kwargs)
            self.useFixture(fixtures.MockPatchObject(os, 'access', access))
        self.assertProblem(['--config-file', path], 'volume',
                           'config file %s is not readable by this user '
                           '(uid %d)' % (path, os.getuid()))

    def test_access_checked_for_read(self):
        path = self.config(self.good_text())
        with mock.patch.object(os, 'access', return_value=False) as access:
            self.assertProblem(['--config-file', path], 'api',
                               'not readable')
        access.assert_called_once_with(path, os.R_OK)

    def test_unparsable_config_file(self):
        path = self.config('[DEFAULT]\nthis is not ini\n')
        self.assertProblem(['--config-file', path], 'api',
                           'cannot parse config file %s' % path,
                           'this is not ini')

    def test_unterminated_section(self):
        path = self.config('[DEFAULT\ndebug = true\n')
        self.assertProblem(['--config-file', path], 'api',
                           'cannot parse config file %s' % path)

    def test_missing_config_dir(self):
        path = os.path.join(self.dir, 'missing.d')
        self.assertProblem(['--config-dir', path], 'api',
                           'config dir %s does not exist' % path)

    def test_equals_form(self):
        path = os.path.join(self.dir, 'missing.conf')
        self.assertProblem(['--config-file=%s' % path], 'api', path)

    def test_config_dir_read(self):
        conf_d = os.path.join(self.dir, 'cinder.conf.d')
        os.mkdir(conf_d)
        self.write_file(conf_d, 'db.conf',
                        '[database]\nconnection = nosuchdb://x\n')
        main = self.config(self.good_text())
        self.assertProblem(['--config-file', main, '--config-dir', conf_d],
                           'api', 'nosuchdb')

    def test_keeps_command_line_order(self):
        # oslo.config reads files and dirs in command line order, later
        # ones win; ksvd-cinder-all appends its overlay after the
        # --config-dir of the default layering.  The checks must see what
        # cinder will see.
        base_file = self.config('[DEFAULT]\nenabled_backends = base\n',
                                'base.conf')
        conf_d = os.path.join(self.dir, 'cinder.conf.d')
        os.mkdir(conf_d)
        self.write_file(conf_d, 'b.conf',
                        '[DEFAULT]\nenabled_backends = fromdir\n')
        overlay = self.config('[DEFAULT]\nenabled_backends = overlay\n',
                              'overlay.conf')
        argv = ['--config-file', base_file, '--config-dir', conf_d,
                '--config-file', overlay]
        stock = self.new_conf()
        stock.register_opt(cfg.ListOpt('enabled_backends'))
        stock(argv, default_config_files=[], default_config_dirs=[])
        self.assertEqual(['overlay'], stock.enabled_backends)
        self.assertEqual(stock.enabled_backends,
                         preflight.load(argv).enabled_backends)

    def test_ignores_other_arguments(self):
        path = self.config(self.good_text(backends=''))
        conf = preflight.check(['db', 'sync', '--config-file', path,
                                '--debug'], 'manage')
        self.assertEqual(self.db, conf.database.connection)

    def test_private_conf_each_time(self):
        path = self.config(self.good_text())
        first = preflight.check(['--config-file', path], 'volume')
        second = preflight.check(['--config-file', path], 'volume')
        self.assertIsNot(cfg.CONF, first)
        self.assertIsNot(first, second)
        self.assertEqual([path], first.config_file)


class DatabaseTestCase(PreflightTestCase):

    def check_db(self, connection, service='api'):
        path = self.config('[database]\nconnection = %s\n' % connection)
        return self.assertProblem(['--config-file', path], service,
                                  '[database] connection')

    def test_not_set(self):
        path = self.config('[DEFAULT]\ndebug = true\n')
        self.assertProblem(['--config-file', path], 'api',
                           '[database] connection is not set')

    def test_not_a_url(self):
        message = self.check_db('not a url')
        self.assertIn('is not a database URL', message)

    def test_unknown_dialect(self):
        message = self.check_db('nosuchdb://x')
        self.assertIn("unknown database type 'nosuchdb'", message)

    def test_sqlite_directory_missing(self):
        missing = os.path.join(self.dir, 'missing')
        message = self.check_db('sqlite:///%s/cinder.sqlite' % missing)
        self.assertIn('directory %s does not exist' % missing, message)

    def test_sqlite_directory_not_writable(self):
        with mock.patch.object(os, 'access', side_effect=lambda p, m:
                               m == os.R_OK):
            message = self.check_db(self.db)
        self.assertIn('directory %s is not writable' % self.dir, message)

    def test_python_driver_missing(self):
        # A dialect whose DB-API module cannot be imported.
        with mock.patch.dict(sys.modules, {'psycopg2': None}):
            message = self.check_db('postgresql+psycopg2://u:secret@h/db')
        self.assertIn("the Python driver for 'postgresql+psycopg2' is not "
                      "installed", message)
        self.assertNotIn('secret', message)

    def test_bad_interpolation(self):
        message = self.check_db('sqlite:///$nosuch_option/c.sqlite')
        self.assertIn('[database] connection:', message)

    def test_state_path_interpolation(self):
        path = self.config('[DEFAULT]\nstate_path = %s\n[database]\n'
                           'connection = sqlite:///$state_path/c.sqlite\n'
                           % self.dir)
        conf = preflight.check(['--config-file', path], 'api')
        self.assertEqual('sqlite:///%s/c.sqlite' % self.dir,
                         conf.database.connection)

    def test_memory_sqlite(self):
        path = self.config('[database]\nconnection = sqlite://\n')
        preflight.check(['--config-file', path], 'api')
        path = self.config('[database]\nconnection = sqlite:///:memory:\n')
        preflight.check(['--config-file', path], 'api')


class BackendsTestCase(PreflightTestCase):

    def test_good_config_passes_volume(self):
        path = self.config(self.good_text())
        conf = preflight.check(['--config-file', path], 'volume')
        self.assertEqual(['b1'], conf.enabled_backends)
        self.assertEqual(['b1'], preflight.check_backends(conf))

    def test_volume_needs_a_backend(self):
        path = self.config(self.good_text(backends=''))
        self.assertProblem(['--config-file', path], 'volume',
                           '[DEFAULT] enabled_backends is empty')

    def test_api_passes_without_backends(self):
        path = self.config(self.good_text(backends=''))
        conf = preflight.check(['--config-file', path], 'api')
        self.assertEqual([], conf.enabled_backends)

    def test_api_does_not_check_backends(self):
        path = self.config(self.good_text() + '[b1]\nvolume_driver = '
                           'no.such.Driver\n')
        preflight.check(['--config-file', path], 'api')

    def test_backend_without_section(self):
        path = self.config('[DEFAULT]\nenabled_backends = b1,b2\n'
                           '[database]\nconnection = %s\n'
                           '[b1]\nvolume_driver = %s\n'
                           % (self.db, FAKE_DRIVER))
        for service in ('volume', 'all'):
            self.assertProblem(['--config-file', path], service,
                               "enabled_backends names 'b2' but no config "
                               "file has a [b2] section")

    def test_driver_module_missing(self):
        path = self.config(self.good_text() + '[b1]\nvolume_driver = '
                           'ksvd_no_such_module.Driver\n')
        # ImportError's py3.6+ subclass; Python 2 raises ImportError itself.
        error = ('ImportError' if sys.version_info[0] == 2
                 else 'ModuleNotFoundError')
        self.assertProblem(['--config-file', path], 'volume',
                           '[b1] volume_driver ksvd_no_such_module.Driver '
                           'cannot be loaded: %s' % error)

    def test_driver_class_missing(self):
        path = self.config(self.good_text() + '[b1]\nvolume_driver = '
                           'cinder.tests.fake_driver.NoSuchDriver\n')
        self.assertProblem(['--config-file', path], 'volume',
                           'cinder.tests.fake_driver.NoSuchDriver cannot '
                           'be loaded')

    def test_driver_import_raises(self):
        package = self.make_tempdir()
        self.write_file(package, 'ksvd_broken_driver.py',
                        "raise RuntimeError('first line\\nsecond line')\n")
        self.useFixture(fixtures.PythonPathEntry(package))
        patcher = mock.patch.dict(sys.modules)
        patcher.start()
        self.addCleanup(patcher.stop)
        path = self.config(self.good_text() + '[b1]\nvolume_driver = '
                           'ksvd_broken_driver.Driver\n')
        message = self.assertProblem(['--config-file', path], 'volume',
                                     'RuntimeError: first line')
        self.assertNotIn('second line', message)

    def test_backend_defaults_driver(self):
        path = self.config('[DEFAULT]\nenabled_backends = b1\n'
                           '[database]\nconnection = %s\n'
                           '[backend_defaults]\nvolume_driver = '
                           'ksvd_no_such_module.Driver\n[b1]\n'
                           'volume_backend_name = b1\n' % self.db)
        self.assertProblem(['--config-file', path], 'volume',
                           '[b1] volume_driver ksvd_no_such_module.Driver')

    def test_stock_default_driver(self):
        path = self.config('[DEFAULT]\nenabled_backends = b1\n'
                           '[database]\nconnection = %s\n'
                           '[b1]\nvolume_backend_name = b1\n' % self.db)
        with mock.patch('oslo_utils.importutils.import_class') as imp:
            preflight.check(['--config-file', path], 'volume')
        imp.assert_called_once_with(preflight.DEFAULT_VOLUME_DRIVER)

    def test_objects_registered_before_driver_import(self):
        # cinder 21's NFS driver needs cinder.objects.Volume when imported.
        path = self.config(self.good_text())
        calls = []
        with mock.patch('cinder.objects.register_all',
                        side_effect=lambda: calls.append('register')), \
                mock.patch('oslo_utils.importutils.import_class',
                           side_effect=lambda name: calls.append(name)):
            preflight.check(['--config-file', path], 'volume')
        self.assertEqual(['register', FAKE_DRIVER], calls)

    def test_all_allows_no_backend(self):
        path = self.config(self.good_text(backends=''))
        conf = preflight.check(['--config-file', path], 'all')
        self.assertEqual([], conf.enabled_backends)


class ToolsTestCase(PreflightTestCase):
    """The tools a backend's driver runs must be there at start."""

    NFS = 'cinder.volume.drivers.nfs.NfsDriver'

    def nfs_text(self):
        return ('[DEFAULT]\nenabled_backends = nfs1,fake1\n'
                '[database]\nconnection = %s\n[nfs1]\nvolume_driver = %s\n'
                '[fake1]\nvolume_driver = %s\n'
                % (self.db, self.NFS, FAKE_DRIVER))

    def tools(self, *present):
        """Only the named tools exist: a bin dir with them on PATH."""
        bin_dir = self.make_tempdir()
        for name in present:
            path = self.write_file(bin_dir, name, '#!/bin/sh\nexit 0\n')
            os.chmod(path, 0o755)
        self.useFixture(fixtures.EnvironmentVariable('PATH', bin_dir))
        self.useFixture(fixtures.MockPatchObject(preflight, 'SBIN_DIRS',
                                                 ()))

    def test_every_missing_tool_in_one_line(self):
        self.tools()
        path = self.config(self.nfs_text())
        for service in ('volume', 'all'):
            message = self.assertProblem(
                ['--config-file', path], service,
                'missing tools, not found in PATH',
                '[nfs1] NfsDriver needs qemu-img for images, clones, extend '
                'and snapshots (Debian/Ubuntu: qemu-utils, EL: qemu-img)',
                '[nfs1] NfsDriver needs mount.nfs for mounting its shares '
                '(Debian/Ubuntu: nfs-common, EL: nfs-utils)')
            self.assertNotIn('fake1', message)

    def test_one_missing(self):
        self.tools('qemu-img')
        path = self.config(self.nfs_text())
        message = self.assertProblem(['--config-file', path], 'volume',
                                     'needs mount.nfs')
        self.assertNotIn('qemu-img', message)

    def test_all_present(self):
        self.tools('qemu-img', 'mount.nfs')
        path = self.config(self.nfs_text())
        conf = preflight.check(['--config-file', path], 'volume')
        self.assertEqual(['nfs1', 'fake1'], conf.enabled_backends)

    def test_not_executable_is_missing(self):
        self.tools('mount.nfs')
        os.chmod(os.path.join(os.environ['PATH'], 'mount.nfs'), 0o644)
        self.assertIsNone(preflight.find_tool('mount.nfs'))

    def test_needed_tools(self):
        from cinder import objects
        objects.register_all()  # cinder 21's NFS driver needs them
        from cinder.volume.drivers import lvm
        from cinder.volume.drivers import nfs
        self.assertEqual(['qemu-img'], [t[0] for t in preflight.needed_tools(
            lvm.LVMVolumeDriver)])
        self.assertEqual(['qemu-img', 'mount.nfs'], [
            t[0] for t in preflight.needed_tools(nfs.NfsDriver)])
        from cinder.tests import fake_driver
        self.assertEqual([], preflight.needed_tools(
            fake_driver.FakeLoggingVolumeDriver))

    def test_api_does_not_check_tools(self):
        self.tools()
        path = self.config(self.nfs_text())
        preflight.check(['--config-file', path], 'api')


class CoordinationTestCase(PreflightTestCase):
    """[coordination] backend_url is checked where cinder starts tooz."""

    def text(self, url, extra=''):
        return (self.good_text() + '[coordination]\nbackend_url = %s\n'
                % url + extra)

    def test_volume_and_backup_refuse_garbage(self):
        path = self.config(self.text('not a url'))
        for service in ('volume', 'backup', 'all'):
            self.assertProblem(['--config-file', path], service,
                               '[coordination] backend_url not a url is '
                               'not a URL')

    def test_api_and_scheduler_do_not_check(self):
        path = self.config(self.text('not a url'))
        for service in ('api', 'scheduler'):
            preflight.check(['--config-file', path], service)

    def test_file_default_passes(self):
        path = self.config(self.text('file://%s' % self.dir))
        preflight.check(['--config-file', path], 'volume')

    def test_switched_off(self):
        path = self.config(self.text('not a url',
                                     '[ksvd]\ncluster = false\n'))
        preflight.check(['--config-file', path], 'volume')
