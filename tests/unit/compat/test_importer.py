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

import builtins
import os
import sys

from tests.unit.compat import fakes

from cinder_ksvd import compat
from cinder_ksvd.compat import importer


class ImporterTestCase(fakes.CompatTestCase):

    def activate(self, **values):
        self.set(**values)
        return compat.activate(self.conf)[0]

    def test_py2_style_module_loads_scoped(self):
        finder = self.activate(modules=['acme'])
        source = os.path.join(self.make_tempdir(), 'acme')
        os.mkdir(source)
        self.write_file(source, '__init__.py')
        self.write_file(source, 'old.py', '\n'.join([
            'import urllib2, urlparse, httplib, Queue, cPickle',
            'from urllib import urlencode',
            'import ConfigParser',
            'from StringIO import StringIO',
            'X = unicode(1), long(2), list(xrange(2)),'
            ' isinstance("", basestring)',
            'Q = urlencode({"a": 1})',
            'def later():',
            '    import urllib2 as u',
            '    return u',
        ]) + '\n')
        sys.path.insert(0, os.path.dirname(source))
        self.addCleanup(sys.path.remove, os.path.dirname(source))
        import acme.old as old
        self.assertEqual(('1', 2, [0, 1], True), old.X)
        self.assertEqual('a=1', old.Q)
        self.assertIs(old.urllib2, old.later())
        report = finder.reports['acme.old']
        self.assertEqual({'urllib2', 'urlparse', 'httplib', 'Queue',
                          'cPickle', 'ConfigParser', 'StringIO'},
                         report.py_names)
        self.assertEqual({'unicode', 'long', 'xrange', 'basestring'},
                         report.builtins)
        # Never global: not in sys.modules, not in builtins, and an
        # unlisted module still fails to import them.
        self.assertNotIn('urllib2', sys.modules)
        self.assertFalse(hasattr(builtins, 'unicode'))
        self.assertRaises(ImportError, __import__, 'urllib2')

    def test_unlisted_module_untouched(self):
        finder = self.activate(modules=['legacy'])
        self.assertFalse(finder.listed('py2bad.printer'))
        self.assertRaises(SyntaxError, __import__, 'py2bad.printer')
        self.assertNotIn('py2bad.printer', finder.reports)

    def test_py2_syntax_refused_with_file_and_line(self):
        self.activate(modules=['py2bad'])
        exc = self.assertRaises(importer.DriverLoadRefused, __import__,
                                'py2bad.printer')
        path = os.path.join(fakes.DRIVERS, 'py2bad', 'printer.py')
        self.assertIn('%s:3: Python 2 syntax: print statement' % path,
                      str(exc))
        self.assertEqual(1, len(str(exc).splitlines()))
        self.assertNotIn('py2_idioms = warn', str(exc))

    def test_py2_idioms_refused_or_warned(self):
        self.activate(modules=['py2bad'])
        exc = self.assertRaises(importer.DriverLoadRefused, __import__,
                                'py2bad.idioms')
        self.assertEqual([6, 11, 15], [f.line for f in exc.findings])
        self.assertIn('(and 2 more); fix the driver (or set [ksvd_compat] '
                      'py2_idioms = warn)', str(exc))
        finder = self.activate(modules=['py2bad'], py2_idioms='warn')
        import py2bad.idioms as idioms
        self.assertTrue(hasattr(idioms, 'IdiomDriver'))
        self.assertEqual(3, len(finder.reports['py2bad.idioms'].findings))

    def test_driver_locations_directory(self):
        self.map_ixsystems()
        finder = self.activate()
        from cinder.volume.drivers.ixsystems import iscsi
        self.assertEqual(os.path.join(fakes.DRIVERS, 'ixsystems',
                                      'iscsi.py'), iscsi.__file__)
        self.assertTrue(finder.listed(fakes.IXSYSTEMS + '.iscsi'))
        self.assertEqual(os.path.join(fakes.DRIVERS, 'ixsystems'),
                         finder.reports[fakes.IXSYSTEMS].mapped_from)
        import cinder.volume.drivers as drivers
        self.assertFalse(os.path.exists(os.path.join(
            os.path.dirname(drivers.__file__), 'ixsystems')))

    def test_driver_locations_installed_package(self):
        top = self.make_tempdir()
        os.mkdir(os.path.join(top, 'mapped_pkg'))
        os.mkdir(os.path.join(top, 'mapped_pkg', 'drv'))
        # No __init__.py in drv: still served as a package.
        self.write_file(os.path.join(top, 'mapped_pkg', 'drv'), 'mod.py',
                        'VALUE = unicode("x")\n')
        sys.path.insert(0, top)
        self.addCleanup(sys.path.remove, top)
        self.activate(driver_locations=[
            'cinder.volume.drivers.acme=mapped_pkg.drv'])
        from cinder.volume.drivers.acme import mod
        self.assertEqual('x', mod.VALUE)

    def test_bad_location_refused(self):
        from cinder_ksvd import exception
        for entry, text in (
                ('no-equals', 'is not <package>=<directory or installed '
                 'package>'),
                ('a.b=/nonexistent/dir', '/nonexistent/dir is not a '
                 'directory'),
                ('a.b=not_installed_pkg', 'no installed Python package '
                 'not_installed_pkg')):
            self.set(driver_locations=[entry])
            exc = self.assertRaises(exception.StartupRefused,
                                    compat.preflight, self.conf)
            self.assertIn(text, str(exc))

    def test_uninstall(self):
        finder = self.activate(modules=['legacy'])
        self.assertIs(finder, sys.meta_path[0])
        again = self.activate(modules=['legacy'])
        self.assertEqual(1, sys.meta_path.count(again))
        self.assertNotIn(finder, sys.meta_path)
        compat.disable(self.conf)
        self.assertNotIn(again, sys.meta_path)
        self.assertIsNone(importer.current())
