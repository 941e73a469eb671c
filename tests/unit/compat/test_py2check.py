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

from tests.unit import base

from cinder_ksvd.compat import py2check


class ScanTestCase(base.TestCase):

    def scan(self, source):
        return py2check.scan(source, 'drv.py')

    def test_clean_source(self):
        self.assertEqual(([], set()), self.scan('import os\nx = {}.items()\n'))

    def test_print_statement_is_syntax_with_line(self):
        findings, _used = self.scan('x = 1\nprint "a"\n')
        self.assertEqual(['drv.py:2: Python 2 syntax: print statement: use '
                          'print(...)'], [str(f) for f in findings])
        self.assertTrue(findings[0].syntax)

    def test_except_comma(self):
        findings, _used = self.scan(
            'try:\n    pass\nexcept ValueError, e:\n    pass\n')
        self.assertEqual(3, findings[0].line)
        self.assertIn('except X as e', findings[0].message)

    def test_other_syntax_error(self):
        findings, _used = self.scan('def f(:\n')
        self.assertTrue(findings[0].syntax)
        self.assertIn('syntax error', findings[0].message)

    def test_idioms(self):
        source = '\n'.join([
            'd = {}',
            'for k, v in d.iteritems(): pass',
            'd.has_key(1)',
            'it.next()',
            '"a".encode("base64")',
            'b.decode("hex")',
            'import sys',
            'sys.maxint',
            'raw_input()',
            'next(it)',
            'obj.next(1)',
            '"a".encode("utf-8")',
        ])
        findings, _used = self.scan(source)
        self.assertEqual([2, 3, 4, 5, 6, 8, 9], [f.line for f in findings])
        self.assertFalse(any(f.syntax for f in findings))
        self.assertIn('.items()', findings[0].message)

    def test_builtins_used_unless_defined(self):
        _f, used = self.scan('x = unicode("a") + long(1)\nxrange(3)\n')
        self.assertEqual({'unicode', 'long', 'xrange'}, used)
        _f, used = self.scan('unicode = str\nx = unicode("a")\n')
        self.assertEqual(set(), used)
        findings, _used = self.scan('def raw_input():\n    pass\n'
                                    'raw_input()\n')
        self.assertEqual([], findings)
