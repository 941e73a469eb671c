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

from tests.unit.compat import fakes

from cinder_ksvd.compat import check


class DriverCheckTestCase(fakes.CompatTestCase):

    def check(self, driver):
        return check.check(self.conf, driver)

    def test_py2_style_out_of_tree_driver(self):
        self.map_ixsystems()
        result = self.check(fakes.IX_DRIVER)
        self.assertTrue(result.ok, result.lines())
        lines = result.lines()
        self.assertEqual('driver:     %s' % fakes.IX_DRIVER, lines[0])
        self.assertEqual('loaded:     yes', lines[1])
        api = fakes.IXSYSTEMS + '.freenasapi'
        iscsi = fakes.IXSYSTEMS + '.iscsi'
        for text in (
                '%s served from %s/ixsystems (driver_locations)'
                % (fakes.IXSYSTEMS, fakes.DRIVERS),
                '%s imports urllib2, urlparse (Python 2 names)' % api,
                '%s uses builtins basestring, long' % iscsi,
                '%s imports moved cinder module cinder.volume.utils -> '
                'cinder.volume.volume_utils' % iscsi,
                '%s fixup ixsystems-keystone: FreeNASISCSIDriver.'
                '_is_service_project answers from [DEFAULT] '
                'cinder_internal_tenant_project_id (no Keystone)' % iscsi):
            self.assertIn('shim:       ' + text, lines)
        # The retry keyword moved in cinder 17: translated only after.
        retry = ('shim:       %s calls cinder.utils.retry (exceptions= '
                 'given as retry_param=)' % iscsi)
        if fakes.retry_first_param() == 'exceptions':
            self.assertNotIn(retry, lines)
        else:
            self.assertIn(retry, lines)
        self.assertEqual('result:     ok: cinder can load this driver',
                         lines[-1])

    def test_refused_driver_reports_file_and_line(self):
        self.set(modules=['py2bad'])
        result = self.check('py2bad.idioms.IdiomDriver')
        self.assertFalse(result.ok)
        self.assertFalse(result.loaded)
        self.assertEqual(3, len(result.missing))
        self.assertIn('py2bad/idioms.py:6: .iteritems()', result.missing[0])
        self.assertTrue(result.lines()[-1].startswith('result:     NOT'))

    def test_every_problem_in_one_run(self):
        """Two refused modules, one never reached, a missing package."""
        self.set(modules=['py2many'])
        result = self.check('py2many.driver.ManyDriver')
        self.assertFalse(result.ok)
        self.assertFalse(result.loaded)
        missing = '\n'.join(result.missing)
        for fragment in ('py2many/api.py:3: .iteritems()',
                         'py2many/helpers.py:3: .has_key(k)',
                         'py2many/helpers.py:7: .next()',
                         'py2many/tools/report.py:3: Python 2 syntax: '
                         'print statement',
                         '(py2many.tools.report, not reached: the import '
                         'stopped earlier)',
                         'module py2many_vendor_sdk: install it (pip or '
                         'distribution package), or map the directory of a '
                         'driver checked out elsewhere: [ksvd_compat] '
                         'driver_locations = py2many_vendor_sdk=<directory>'):
            self.assertIn(fragment, missing)
        errors = '\n'.join(result.errors)
        self.assertIn('py2many.api cannot run on Python', errors)
        self.assertIn('py2many.helpers cannot run on Python', errors)
        self.assertIn('cannot import py2many.driver: No module named '
                      '\'py2many_vendor_sdk\'', errors)
        self.assertEqual(3, len(result.errors), result.errors)
        self.assertTrue(result.lines()[-1].startswith('result:     NOT'))

    def test_refused_modules_and_interface_both_reported(self):
        top = self.make_tempdir()
        package = os.path.join(top, 'acme')
        os.mkdir(package)
        self.write_file(package, '__init__.py', '')
        self.write_file(package, 'util.py', 'def f(d):\n'
                        '    return d.iteritems()\n')
        self.write_file(package, 'drv.py',
                        'from cinder.volume import driver\n'
                        'from acme import util  # noqa\n'
                        'class D(driver.VolumeDriver):\n    pass\n')
        fakes.sys.path.insert(0, top)
        self.addCleanup(fakes.sys.path.remove, top)
        self.set(modules=['acme'])
        result = self.check('acme.drv.D')
        self.assertFalse(result.loaded)
        self.assertIn('acme/util.py:2: .iteritems()', result.missing[0])
        self.assertIn('acme.util cannot run on Python', result.errors[0])
        self.assertIn('create_volume', result.interface[0])
        # refuse mode is unchanged for the services themselves.
        finder = fakes.importer.current()
        finder.collect = False
        for name in ('acme', 'acme.util', 'acme.drv'):
            fakes.sys.modules.pop(name, None)
        finder.reports.clear()
        self.assertRaises(fakes.importer.DriverLoadRefused,
                          __import__, 'acme.drv')

    def test_unlisted_py2_driver_gets_a_hint(self):
        result = self.check('py2bad.printer.Printer')
        self.assertFalse(result.ok)
        self.assertIn('print statement', result.warnings[0])
        self.assertIn('list its package in [ksvd_compat] modules',
                      result.warnings[0])

    def test_missing_module_named(self):
        self.set(modules=['acme'])
        result = self.check('acme_not_there.driver.Driver')
        self.assertEqual(['module acme_not_there: install it (pip or '
                          'distribution package), or map the directory of '
                          'a driver checked out elsewhere: [ksvd_compat] '
                          'driver_locations = acme_not_there=<directory>'],
                         result.missing)

    def test_missing_py2_name_says_list_it(self):
        top = self.make_tempdir()
        self.write_file(top, 'acme_unlisted.py', 'import urllib2\n')
        fakes.sys.path.insert(0, top)
        self.addCleanup(fakes.sys.path.remove, top)
        result = self.check('acme_unlisted.Driver')
        self.assertIn('module urllib2 is a Python 2 name: list the '
                      'driver\'s package in [ksvd_compat] modules',
                      result.missing)
        fakes.sys.modules.pop('acme_unlisted', None)

    def test_interface(self):
        self.set(modules=['legacy'])
        result = self.check('legacy.driver.LegacyDriver')
        self.assertTrue(result.loaded)
        self.assertFalse(result.ok)
        self.assertIn('create_volume', result.interface[0])
        self.assertIn('NotImplementedError', result.interface[0])
        moved = ('shim:       legacy.driver imports moved cinder module '
                 'cinder.db.sqlalchemy.api -> cinder.db.api')
        if fakes.native_cinder_module('cinder.db.sqlalchemy.api'):
            self.assertNotIn(moved, result.lines())  # cinder 15-28
        else:
            self.assertIn(moved, result.lines())

    def test_stock_driver_and_non_driver(self):
        result = self.check('cinder.volume.drivers.lvm.LVMVolumeDriver')
        self.assertTrue(result.ok, result.lines())
        result = self.check('cinder.utils.DoNotExist')
        self.assertEqual(['class DoNotExist in cinder.utils'],
                         result.missing)
        result = self.check('oslo_config.cfg.ConfigOpts')
        self.assertIn('not a cinder volume driver', result.interface[0])
        self.assertEqual(['LVMVolumeDriver is not a module.Class path'],
                         self.check('LVMVolumeDriver').errors)

    def test_switched_off(self):
        self.map_ixsystems()
        self.conf.set_override('compat', False, 'ksvd')
        result = self.check(fakes.IX_DRIVER)
        self.assertFalse(result.ok)
        self.assertEqual('[ksvd] compat is off: loaded the way the services '
                         'will, without any shim', result.warnings[0])
        self.assertIn('cannot import cinder.volume.drivers.ixsystems.iscsi',
                      result.errors[0])
