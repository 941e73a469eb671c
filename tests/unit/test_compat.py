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

import sys

from tests.unit.compat import fakes

from cinder_ksvd import compat
from cinder_ksvd.compat import importer
from cinder_ksvd import hooks


class CompatHookTestCase(fakes.CompatTestCase):

    def test_is_a_hook_after_the_others(self):
        names = [name for name, _path in hooks.HOOKS]
        self.assertIn(('compat', 'cinder_ksvd.compat'), hooks.HOOKS)
        for earlier in ('config_defaults', 'database', 'compute', 'image'):
            self.assertLess(names.index(earlier), names.index('compat'))
        self.assertIs(True, self.conf.ksvd.compat)

    def test_install_reads_no_config(self):
        before = list(sys.meta_path)
        self.assertFalse(hasattr(compat, 'install'))
        self.assertEqual(before, sys.meta_path)

    def test_configured_installs_and_logs(self):
        self.map_ixsystems()
        self.set(modules=['legacy'])
        logger = self.useFixture(fakes.fixtures.FakeLogger(
            name='cinder_ksvd.compat'))
        compat.configured(self.conf)
        finder = importer.current()
        self.assertIs(finder, sys.meta_path[0])
        self.assertEqual((fakes.IXSYSTEMS, 'legacy'), finder.prefixes)
        self.assertIn('Driver compat: shimmed modules: %s, legacy; mapped '
                      'packages: %s=%s/ixsystems' % (
                          fakes.IXSYSTEMS, fakes.IXSYSTEMS, fakes.DRIVERS),
                      logger.output)

    def test_preflight_loads_drivers_through_shims(self):
        self.map_ixsystems()
        compat.preflight(self.conf)
        from oslo_utils import importutils
        cls = importutils.import_class(fakes.IX_DRIVER)
        self.assertEqual('FreeNASISCSIDriver', cls.__name__)

    def test_disable(self):
        compat.preflight(self.conf)
        compat.disable(self.conf)
        self.assertIsNone(importer.current())
        compat.disable(self.conf)  # twice is fine
