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
from cinder_ksvd.compat import release


class ReleaseTestCase(fakes.CompatTestCase):

    def test_moved_names_added_never_replaced(self):
        from cinder import utils
        from cinder.volume import volume_utils
        stock_retry = utils.retry
        had_trace = 'trace' in vars(utils)
        added = release.apply()
        self.assertIs(volume_utils.trace, utils.trace)
        self.assertIs(volume_utils.brick_get_connector_properties,
                      utils.brick_get_connector_properties)
        self.assertIs(stock_retry, utils.retry)
        if not had_trace:
            self.assertIn('cinder.utils.trace <- cinder.volume.volume_utils',
                          added)
        # Existing names in volume_utils were not touched.
        self.assertFalse([a for a in added
                          if a.startswith('cinder.volume.volume_utils.')])
        self.assertEqual(added, release.apply())  # idempotent

    def test_calculate_virtual_free_capacity_both_places(self):
        release.apply()
        from cinder.scheduler import sched_utils
        from cinder import utils
        self.assertIs(sched_utils.calculate_virtual_free_capacity,
                      utils.calculate_virtual_free_capacity)

    def test_module_aliases_only_when_missing(self):
        compat.activate(self.conf)
        import cinder.db.api as db_api
        from cinder.db.sqlalchemy import api as sqlapi
        if fakes.native_cinder_module('cinder.db.sqlalchemy.api'):
            # cinder 15-28: the real module, untouched.
            self.assertFalse(hasattr(sqlapi, release.ALIAS_MARK))
            self.assertEqual('cinder.db.sqlalchemy.api', sqlapi.__name__)
        else:
            self.assertIs(db_api.volume_get, sqlapi.volume_get)
            self.assertEqual('cinder.db.api',
                             getattr(sqlapi, release.ALIAS_MARK))
        from cinder.volume import utils as old_utils
        from cinder.volume import volume_utils
        self.assertIs(volume_utils.extract_host, old_utils.extract_host)
        # The real module keeps its own identity; the alias is marked.
        real, alias = volume_utils, old_utils
        if not fakes.native_cinder_module('cinder.volume.volume_utils'):
            real, alias = old_utils, volume_utils
        self.assertFalse(hasattr(real, release.ALIAS_MARK))
        self.assertEqual(real.__name__, getattr(alias, release.ALIAS_MARK))

    def test_aliases_off(self):
        self.set(release_shims=False)
        finder, added = compat.activate(self.conf)
        self.assertEqual([], added)
        sys.modules.pop('cinder.volume.utils', None)
        self.assertRaises(ImportError, __import__, 'cinder.volume.utils')

    def test_retry_keyword_both_names(self):
        from cinder import utils
        calls = []
        compat_retry = release.retry_compat(utils.retry, calls.append)

        @compat_retry(exceptions=ValueError, retries=2, interval=0)
        def flaky(box=[]):
            box.append(1)
            if len(box) < 2:
                raise ValueError()
            return len(box)

        self.assertEqual(2, flaky())
        # Translated only where cinder's retry names it retry_param (17+).
        expected = ([] if fakes.retry_first_param() == 'exceptions'
                    else ['exceptions= given as retry_param='])
        self.assertEqual(expected, calls)

        @compat_retry(ValueError, retries=1)
        def plain():
            return 'ok'
        self.assertEqual('ok', plain())
