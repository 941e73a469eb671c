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

"""Helpers of the compat tests: the sample drivers and a clean state."""

import os
import sys

import fixtures
from tests.unit import base

from cinder_ksvd.compat import importer
from cinder_ksvd.compat import release
from cinder_ksvd import opts

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
DRIVERS = os.path.join(REPO, 'tests', 'fixtures', 'drivers')
IXSYSTEMS = 'cinder.volume.drivers.ixsystems'
IX_DRIVER = IXSYSTEMS + '.iscsi.FreeNASISCSIDriver'
# Module names the sample drivers load under.
SAMPLE_PREFIXES = (IXSYSTEMS, 'cinder.volume.drivers.acme', 'legacy',
                   'py2bad', 'py2many', 'acme', 'mapped_pkg')


def native_cinder_module(name):
    """Whether the installed cinder ships module name itself (no alias).

    Looks at the files, so a compat alias cannot answer for it: the tests
    run on cinder 15/16 (legacy tier) as well as 21/29, and which names
    moved depends on the release.
    """
    import cinder
    parts = name.split('.')[1:]
    base_path = os.path.join(os.path.dirname(cinder.__file__), *parts)
    return (os.path.exists(base_path + '.py')
            or os.path.exists(os.path.join(base_path, '__init__.py')))


def retry_first_param():
    """The installed cinder.utils.retry's first parameter's name."""
    from cinder import utils
    return utils.retry.__code__.co_varnames[0]


class CompatTestCase(base.TestCase):
    """Leaves sys.meta_path, sys.modules and cinder as it found them."""

    def setUp(self):
        super(CompatTestCase, self).setUp()
        self.addCleanup(self._restore, list(sys.meta_path),
                        self._cinder_names())
        self.useFixture(fixtures.MockPatchObject(release, '_added', []))
        self.useFixture(fixtures.MockPatchObject(
            importer, '_installed', {'finder': None}))
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf([], default_config_files=[], default_config_dirs=[])
        self.useFixture(fixtures.MonkeyPatch('sys.path',
                                             [DRIVERS] + sys.path))

    @staticmethod
    def _cinder_names():
        names = {}
        for module_name, _name, _src in release.SYMBOLS:
            module = sys.modules.get(module_name)
            if module is not None:
                names[module_name] = set(vars(module))
        return names

    def _restore(self, meta_path, names):
        sys.meta_path[:] = meta_path
        for module_name, before in names.items():
            module = sys.modules[module_name]
            for name in set(vars(module)) - before:
                delattr(module, name)
        for name in list(sys.modules):
            if (any(name == p or name.startswith(p + '.')
                    for p in SAMPLE_PREFIXES)
                    or getattr(sys.modules[name], release.ALIAS_MARK,
                               False)):
                del sys.modules[name]
                parent, _dot, child = name.rpartition('.')
                if parent in sys.modules and getattr(
                        sys.modules[parent], child, None) is not None:
                    try:
                        delattr(sys.modules[parent], child)
                    except AttributeError:
                        pass

    def set(self, **values):
        for name, value in values.items():
            self.conf.set_override(name, value, opts.COMPAT_GROUP)

    def map_ixsystems(self):
        self.set(driver_locations=['%s=%s' % (
            IXSYSTEMS, os.path.join(DRIVERS, 'ixsystems'))])
