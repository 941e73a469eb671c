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

import configparser
import os
import subprocess
from unittest import mock

import ddt
import fixtures
from oslo_config import cfg
from tests.unit import base

from cinder_ksvd.cmd import all as all_cmd
from cinder_ksvd.cmd import embedded

MIB = 1024 ** 2
GIB = 1024 ** 3


@ddt.ddt
class ParseSizeTestCase(base.TestCase):

    @ddt.data(('20G', 20 * GIB),
              ('512M', 512 * MIB),
              ('1T', 1024 * GIB),
              ('64m', 64 * MIB),
              ('20GiB', 20 * GIB),
              ('20gb', 20 * GIB),
              (' 1.5G ', int(1.5 * GIB)),
              ('65536K', 64 * MIB),
              (str(64 * MIB), 64 * MIB))
    @ddt.unpack
    def test_sizes(self, text, size):
        self.assertEqual(size, embedded.parse_size(text))

    @ddt.data('twenty', '', 'G', '20X', '20 G B', 'nan')
    def test_not_a_size(self, text):
        exc = self.assertRaises(embedded.SetupError,
                                embedded.parse_size, text)
        self.assertIn('is not a size', str(exc))
        self.assertIn('--lvm-loop', str(exc))

    @ddt.data('63M', '1K', '0', '-20G', str(64 * MIB - 1))
    def test_too_small(self, text):
        exc = self.assertRaises(embedded.SetupError,
                                embedded.parse_size, text)
        self.assertIn('is too small (at least 64M)', str(exc))

    @ddt.data('inf', '1e400G')
    def test_infinite_is_not_a_size(self, text):
        # A SetupError (one line, exit 78), not an OverflowError traceback.
        exc = self.assertRaises(embedded.SetupError,
                                embedded.parse_size, text)
        self.assertNotIn('\n', str(exc))


class PrepareTestCase(base.TestCase):

    def setUp(self):
        super(PrepareTestCase, self).setUp()
        self.state = self.make_tempdir()
        self.setup_lvm = self.useFixture(fixtures.MockPatchObject(
            embedded, 'setup_lvm_loop', return_value='/dev/loop9')).mock

    def new_conf(self, enabled_backends=None):
        """The options prepare() reads, as ksvd-cinder-all registers them.

        :param enabled_backends: the ListOpt to register; by default one
            with default [] (cinder's own has no default, see
            test_no_backend_with_cinder_option).
        """
        conf = super(PrepareTestCase, self).new_conf()
        conf.register_opts([
            cfg.StrOpt('state_path', default='/var/lib/cinder'),
            enabled_backends or cfg.ListOpt('enabled_backends', default=[]),
        ])
        conf.register_cli_opts(all_cmd.cli_opts)
        return conf

    def argv(self, *extra, **kwargs):
        text = '[DEFAULT]\nstate_path = %s\n' % self.state
        text += kwargs.get('text', '')
        path = self.write_file(self.make_tempdir(), 'cinder.conf', text)
        return ['--config-file', path] + list(extra)

    def read_overlay(self, path):
        parser = configparser.ConfigParser(interpolation=None)
        self.assertEqual([path], parser.read(path))
        return parser

    def test_demo(self):
        conf = self.new_conf()
        path = embedded.prepare(conf, self.argv('--demo'))
        self.assertEqual(os.path.join(self.state, embedded.OVERLAY), path)
        with open(path) as handle:
            text = handle.read()
        self.assertIn('transport_url = fake://\n', text)
        self.assertIn('enabled_backends = demo\n', text)
        self.assertIn('[demo]\n', text)
        self.assertIn('volume_driver = cinder.tests.fake_driver.'
                      'FakeLoggingVolumeDriver\n', text)
        overlay = self.read_overlay(path)
        self.assertEqual('fake://', overlay['DEFAULT']['transport_url'])
        self.assertEqual('1', overlay['DEFAULT']['osapi_volume_workers'])
        self.assertEqual('noop',
                         overlay['oslo_messaging_notifications']['driver'])
        self.assertEqual(embedded.FAKE_DRIVER,
                         overlay['demo']['volume_driver'])
        # cinder's fake driver reports 'fake' whatever is configured.
        self.assertEqual('fake', overlay['demo']['volume_backend_name'])
        self.assertEqual('fake', overlay['demo']['target_helper'])
        self.assertEqual([embedded.OVERLAY], os.listdir(self.state))
        self.setup_lvm.assert_not_called()

    def test_demo_overlay_wins_when_read_last(self):
        conf = self.new_conf()
        argv = self.argv('--demo', text='enabled_backends = lvm1\n')
        overlay = embedded.prepare(conf, argv)
        check = self.new_conf()
        check(argv + ['--config-file', overlay], default_config_files=[],
              default_config_dirs=[])
        self.assertEqual(['demo'], check.enabled_backends)

    def test_overlay_regenerated(self):
        stale = self.write_file(self.state, embedded.OVERLAY,
                                '[DEFAULT]\nenabled_backends = old\n')
        embedded.prepare(self.new_conf(), self.argv('--demo'))
        self.assertEqual('demo', self.read_overlay(stale)['DEFAULT'][
            'enabled_backends'])

    def test_lvm_loop(self):
        conf = self.new_conf()
        path = embedded.prepare(conf, self.argv('--lvm-loop', '20G'))
        self.setup_lvm.assert_called_once_with(self.state, '20G')
        overlay = self.read_overlay(path)
        self.assertEqual('lvm-loop', overlay['DEFAULT']['enabled_backends'])
        section = overlay['lvm-loop']
        self.assertEqual(embedded.LVM_DRIVER, section['volume_driver'])
        self.assertEqual(embedded.LOOP_VG, section['volume_group'])
        self.assertEqual('lvm-loop', section['volume_backend_name'])

    def test_configured_backend(self):
        conf = self.new_conf()
        path = embedded.prepare(conf, self.argv(
            text='enabled_backends = lvm1\n[lvm1]\nvolume_driver = x.Y\n'))
        overlay = self.read_overlay(path)
        self.assertEqual('fake://', overlay['DEFAULT']['transport_url'])
        self.assertNotIn('enabled_backends', overlay['DEFAULT'])
        self.assertEqual(['oslo_messaging_notifications'],
                         overlay.sections())
        self.setup_lvm.assert_not_called()

    def test_no_backend(self):
        exc = self.assertRaises(embedded.SetupError, embedded.prepare,
                                self.new_conf(), self.argv())
        self.assertIn('--demo', str(exc))
        self.assertIn('--lvm-loop', str(exc))
        self.assertIn('enabled_backends', str(exc))
        self.assertNotIn('\n', str(exc))
        self.assertFalse(os.path.exists(
            os.path.join(self.state, embedded.OVERLAY)))

    def test_empty_backend_list(self):
        exc = self.assertRaises(embedded.SetupError, embedded.prepare,
                                self.new_conf(),
                                self.argv(text='enabled_backends = ,\n'))
        self.assertIn('--demo', str(exc))

    def test_no_backend_with_cinder_option(self):
        # ksvd-cinder-all passes the global CONF, where cinder registers
        # enabled_backends without a default (None when unset).
        from cinder.common import config as cinder_config
        opt = [o for o in cinder_config.global_opts
               if o.name == 'enabled_backends'][0]
        conf = self.new_conf(enabled_backends=opt)
        exc = self.assertRaises(embedded.SetupError, embedded.prepare,
                                conf, self.argv())
        self.assertIn('--demo', str(exc))

    def test_demo_and_lvm_loop_exclude_each_other(self):
        exc = self.assertRaises(embedded.SetupError, embedded.prepare,
                                self.new_conf(),
                                self.argv('--demo', '--lvm-loop', '20G'))
        self.assertIn('--demo and --lvm-loop', str(exc))
        self.setup_lvm.assert_not_called()

    def test_missing_state_path(self):
        missing = os.path.join(self.state, 'missing')
        argv = self.argv('--demo', text='state_path = %s\n' % missing)
        exc = self.assertRaises(embedded.SetupError, embedded.prepare,
                                self.new_conf(), argv)
        self.assertEqual('state_path %s does not exist' % missing, str(exc))


class SetupLvmLoopTestCase(base.TestCase):

    def setUp(self):
        super(SetupLvmLoopTestCase, self).setUp()
        self.state = self.make_tempdir()
        self.geteuid = self.useFixture(fixtures.MockPatchObject(
            os, 'geteuid', return_value=0)).mock
        self.has_dm = True
        real_exists = os.path.exists

        def exists(path):
            if path == '/dev/mapper/control':
                return self.has_dm
            return real_exists(path)
        self.useFixture(fixtures.MockPatchObject(os.path, 'exists', exists))
        self.run = self.useFixture(fixtures.MockPatchObject(
            embedded, '_run')).mock
        self.image = os.path.join(self.state, 'lvm-loop.img')

    def test_needs_device_mapper(self):
        self.has_dm = False
        exc = self.assertRaises(embedded.SetupError, embedded.setup_lvm_loop,
                                self.state, '20G')
        self.assertIn('device-mapper', str(exc))
        self.assertIn('/dev/mapper/control', str(exc))
        self.run.assert_not_called()
        self.assertFalse(os.path.exists(self.image))

    def test_needs_root(self):
        self.geteuid.return_value = 1000
        exc = self.assertRaises(embedded.SetupError, embedded.setup_lvm_loop,
                                self.state, '20G')
        self.assertIn('needs root', str(exc))
        self.run.assert_not_called()
        self.assertFalse(os.path.exists(self.image))

    def test_bad_size_checked_first(self):
        self.geteuid.return_value = 1000
        exc = self.assertRaises(embedded.SetupError, embedded.setup_lvm_loop,
                                self.state, 'lots')
        self.assertIn('is not a size', str(exc))

    def test_new_image_and_volume_group(self):
        outputs = {'--associated': '', '--find': '/dev/loop7',
                   'vg_name': 'othervg'}

        def run(cmd):
            for key, value in outputs.items():
                if key in cmd:
                    return value
            return ''
        self.run.side_effect = run
        self.assertEqual('/dev/loop7',
                         embedded.setup_lvm_loop(self.state, '64M'))
        self.assertEqual(64 * MIB, os.path.getsize(self.image))
        self.assertEqual([
            mock.call(['losetup', '--associated', self.image]),
            mock.call(['losetup', '--find', '--show', self.image]),
            mock.call(['vgs', '--noheadings', '-o', 'vg_name']),
            mock.call(['pvcreate', '-y', '/dev/loop7']),
            mock.call(['vgcreate', embedded.LOOP_VG, '/dev/loop7']),
        ], self.run.mock_calls)

    def test_reuses_attached_image_and_group(self):
        with open(self.image, 'wb') as handle:
            handle.write(b'data')
        self.run.side_effect = [
            '/dev/loop3: [2049]:1234 (%s)' % self.image,
            '  othervg\n  %s' % embedded.LOOP_VG,
        ]
        self.assertEqual('/dev/loop3',
                         embedded.setup_lvm_loop(self.state, '20G'))
        # An existing image is never truncated or extended.
        self.assertEqual(4, os.path.getsize(self.image))
        self.assertEqual(2, self.run.call_count)


class RunCommandTestCase(base.TestCase):

    @mock.patch.object(subprocess, 'check_output',
                       return_value=b'  /dev/loop1\n')
    def test_output_stripped(self, check_output):
        self.assertEqual('/dev/loop1', embedded._run(['losetup', '-f']))
        check_output.assert_called_once_with(['losetup', '-f'],
                                             stderr=subprocess.STDOUT)

    @mock.patch.object(subprocess, 'check_output')
    def test_failure_last_line(self, check_output):
        check_output.side_effect = subprocess.CalledProcessError(
            5, ['vgcreate', 'vg'], output=b'warning\nreal reason\n')
        exc = self.assertRaises(embedded.SetupError, embedded._run,
                                ['vgcreate', 'vg'])
        self.assertEqual('vgcreate vg failed: real reason', str(exc))

    @mock.patch.object(subprocess, 'check_output')
    def test_missing_command(self, check_output):
        check_output.side_effect = base.FileNotFoundError(2, 'No such file')
        exc = self.assertRaises(embedded.SetupError, embedded._run,
                                ['losetup', '-f'])
        self.assertTrue(str(exc).startswith('losetup: '), str(exc))
        self.assertNotIn('\n', str(exc))


class EmbeddedServiceTestCase(base.TestCase):
    """report_state heartbeats the row of its own service."""

    def setUp(self):
        super(EmbeddedServiceTestCase, self).setUp()
        from cinder import exception
        self.exception = exception

        class Service(object):
            def __init__(self, service_id, working=True):
                self.origin_service_id = service_id
                self.manager = mock.Mock()
                self.manager.is_working.return_value = working
                self.binary = 'cinder-volume'
                self.host = 'h@b%d' % service_id
                self.availability_zone = 'ksvd'
                self._create_service_ref = mock.Mock()

        self.service_module = mock.Mock(Service=Service)
        self.objects = mock.Mock()
        self.context = mock.Mock()
        self.log = mock.Mock()
        self.cls = embedded._embedded_service_class(
            self.service_module, self.objects, self.context, self.log)

    def row(self, count=0, zone='ksvd'):
        return mock.Mock(report_count=count, availability_zone=zone)

    def test_heartbeat_own_row(self):
        rows = {1: self.row(), 2: self.row(5)}
        self.objects.Service.get_by_id.side_effect = (
            lambda ctxt, service_id: rows[service_id])
        self.cls(2).report_state()
        self.assertEqual(6, rows[2].report_count)
        self.assertEqual(0, rows[1].report_count)
        rows[2].save.assert_called_once_with()
        self.objects.Service.get_by_id.assert_called_once_with(
            self.context.get_admin_context.return_value, 2)

    def test_zone_updated(self):
        row = self.row(zone='other')
        self.objects.Service.get_by_id.return_value = row
        self.cls(1).report_state()
        self.assertEqual('ksvd', row.availability_zone)

    def test_row_recreated(self):
        row = self.row()
        self.objects.Service.get_by_id.side_effect = [
            self.exception.NotFound(), row]
        service = self.cls(3)
        service.report_state()
        service._create_service_ref.assert_called_once_with(
            self.context.get_admin_context.return_value)
        self.assertEqual(1, row.report_count)
        row.save.assert_called_once_with()

    def test_manager_not_working(self):
        self.cls(1, working=False).report_state()
        self.objects.Service.get_by_id.assert_not_called()
        self.assertEqual(1, self.log.error.call_count)

    def test_failure_and_recovery(self):
        service = self.cls(1)
        self.objects.Service.get_by_id.side_effect = RuntimeError('db down')
        service.report_state()
        service.report_state()
        self.assertTrue(service.model_disconnected)
        self.assertEqual(1, self.log.exception.call_count)
        self.objects.Service.get_by_id.side_effect = None
        self.objects.Service.get_by_id.return_value = self.row()
        service.report_state()
        self.assertFalse(service.model_disconnected)
        self.log.error.assert_called_once_with(
            'Recovered database connection (%s).', 'cinder-volume')
