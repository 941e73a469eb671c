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

"""A broken config: one line on stderr, exit status 78, nothing started."""

import os

from tests.functional import base
from tests.functional import services


class BadConfigTest(base.FunctionalTestCase):

    def _conf(self, **sections):
        values = {
            'DEFAULT': {'state_path': self.workdir,
                        'enabled_backends': 'fake',
                        'transport_url': 'rabbit://guest:guest@127.0.0.1:1/'},
            'database': {'connection':
                         'sqlite:///%s/cinder.sqlite' % self.workdir},
            'fake': {'volume_driver':
                     'cinder.tests.fake_driver.FakeLoggingVolumeDriver'},
        }
        for name, updates in sections.items():
            values.setdefault(name, {}).update(updates)
        for name in [n for n, v in values.items() if v is None]:
            del values[name]
        return services.write_conf(
            os.path.join(self.workdir, 'cinder.conf'), values)

    def _assert_refused(self, binary, conf, expect, env=None):
        extra = ['db', 'sync'] if binary == 'ksvd-cinder-manage' else []
        rc, out, err = services.run_command(
            binary, ['--config-file', services.DIST_CONF,
                     '--config-file', conf] + extra, self.workdir,
            timeout=120, env=env)
        self.assertEqual(78, rc, 'exit %s\nstdout: %s\nstderr: %s'
                         % (rc, out, err))
        lines = err.strip().splitlines()
        self.assertEqual(1, len(lines), 'stderr is not one line:\n' + err)
        self.assertTrue(lines[0].startswith('%s: error: ' % binary),
                        lines[0])
        self.assertIn(expect, lines[0])
        self.assertNotIn('Traceback', out + err)
        return lines[0]

    def test_unreadable_config_file(self):
        missing = os.path.join(self.workdir, 'missing.conf')
        for binary in ('ksvd-cinder-api', 'ksvd-cinder-volume'):
            self._assert_refused(binary, missing, missing)
        garbled = os.path.join(self.workdir, 'garbled.conf')
        with open(garbled, 'w') as handle:
            handle.write('[DEFAULT\nstate_path = /tmp\n')
        self._assert_refused('ksvd-cinder-scheduler', garbled,
                             'cannot parse config file')

    def test_bad_database_url(self):
        conf = self._conf(database={'connection': 'nosuchdb://x/y'})
        self._assert_refused('ksvd-cinder-api', conf, 'unknown database')
        conf = self._conf(database={'connection': 'not a url'})
        self._assert_refused('ksvd-cinder-manage', conf,
                             'not a database URL')

    def test_unknown_driver(self):
        conf = self._conf(fake={'volume_driver': 'cinder.nope.NoDriver'})
        self._assert_refused('ksvd-cinder-volume', conf,
                             '[fake] volume_driver cinder.nope.NoDriver')

    def test_backend_without_section(self):
        conf = self._conf(DEFAULT={'enabled_backends': 'fake,ghost'})
        self._assert_refused('ksvd-cinder-volume', conf, "'ghost'")

    def test_compat_location_missing_and_py2_driver(self):
        conf = self._conf(ksvd_compat={
            'driver_locations': 'cinder.volume.drivers.acme=%s/nowhere'
                                % self.workdir})
        self._assert_refused('ksvd-cinder-volume', conf,
                             '[ksvd_compat] driver_locations: %s/nowhere is '
                             'not a directory' % self.workdir)
        fixtures = os.path.join(services.REPO, 'tests', 'fixtures',
                                'drivers', 'py2bad')
        conf = self._conf(
            ksvd_compat={'driver_locations':
                         'cinder.volume.drivers.py2bad=%s' % fixtures},
            fake={'volume_driver':
                  'cinder.volume.drivers.py2bad.printer.Printer'})
        self._assert_refused('ksvd-cinder-volume', conf,
                             '%s/printer.py:3: Python 2 syntax: print '
                             'statement' % fixtures)

    def test_missing_tools_of_the_nfs_backend(self):
        """No qemu-img on PATH: the volume service says so and stops.

        Stock cinder starts and fails each extend, clone or volume from an
        image later ('No valid backend').  mount.nfs is in /usr/sbin, where
        rootwrap finds it, so only qemu-img is named.
        """
        if not os.path.exists('/usr/sbin/mount.nfs'):
            self.fail('mount.nfs is not in /usr/sbin (Debian: nfs-common)')
        shares = os.path.join(self.workdir, 'shares')
        with open(shares, 'w') as handle:
            handle.write('127.0.0.1:/srv/ksvd-tools-test\n')
        conf = self._conf(
            DEFAULT={'enabled_backends': 'nfs,fake'},
            nfs={'volume_driver': 'cinder.volume.drivers.nfs.NfsDriver',
                 'nfs_shares_config': shares})
        # PATH: the machine's /usr/bin without qemu-img (os-brick and the
        # checks run other tools at import).
        no_qemu = os.path.join(self.workdir, 'bin')
        os.makedirs(no_qemu)
        for name in os.listdir('/usr/bin'):
            if not name.startswith('qemu-img'):
                os.symlink(os.path.join('/usr/bin', name),
                           os.path.join(no_qemu, name))
        for binary in ('ksvd-cinder-volume', 'ksvd-cinder-all'):
            line = self._assert_refused(
                binary, conf, 'missing tools', env={'PATH': no_qemu})
            self.assertIn('[nfs] NfsDriver needs qemu-img for images, '
                          'clones, extend and snapshots (Debian/Ubuntu: '
                          'qemu-utils, EL: qemu-img)', line)
            self.assertNotIn('mount.nfs', line)
            self.assertNotIn('[fake]', line)
