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

"""ksvd-cinder-all: the embedded single-process mode."""

import os

from tests.functional import base
from tests.functional import services


class EmbeddedTest(base.FunctionalTestCase):

    def _conf(self):
        return services.write_conf(
            os.path.join(self.workdir, 'cinder.conf'),
            dict({'DEFAULT': {'state_path': self.workdir,
                              'osapi_volume_listen_port': '0',
                              'report_interval': '2'}},
                 **services.auth_conf(self.workdir)))

    def test_demo_lifecycle(self):
        conf = self._conf()
        proc = self.start('ksvd-cinder-all',
                          ['--config-file', services.DIST_CONF,
                           '--config-file', conf, '--demo'], 'all')
        cinder = self.client(self.wait_api(proc))
        self.wait_services_up(cinder)
        self.run_lifecycle(cinder, backend='demo')
        output = proc.output()
        self.assertIn('NO DATA IS STORED', output)
        self.assertIn('ksvd-cinder hooks active: config_defaults', output)
        overlay = os.path.join(self.workdir, 'ksvd-cinder-all.conf')
        with open(overlay) as handle:
            self.assertIn('transport_url = fake://', handle.read())
        # Clean stop on SIGTERM.
        self.assertEqual(0, proc.stop())

    def test_refuses_without_backend(self):
        conf = self._conf()
        rc, out, err = services.run_command(
            'ksvd-cinder-all', ['--config-file', services.DIST_CONF,
                                '--config-file', conf], self.workdir)
        self.assertEqual(78, rc, out + err)
        lines = err.strip().splitlines()
        self.assertEqual(1, len(lines), err)
        self.assertIn('--demo', lines[0])
        self.assertIn('--lvm-loop', lines[0])
