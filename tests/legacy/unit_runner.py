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
"""Run cinder_ksvd's unit tests on a legacy interpreter (2.7 or 3.9).

Runs inside the legacy chroot's venv (Python 2.7 or 3.9, so written for
both): imports every tests/unit module, runs those that import, and prints
one JSON line with the counts. A module that cannot be imported there is a
failure unless tests/legacy/unit-exclusions.txt names it for that Python
with the reason (test code may be py3-only; the product may not).  The
file may also name single tests (module.Class.test): they still run, are
reported under excluded_tests with their reason and error, and count as
neither passed nor failed; one that passes (or does not exist) is an
unused exclusion, like a listed module that imports.
cinder_ksvd itself comes from the venv (installed), the tests from /src.

Arguments (optional): module or test name prefixes to run only those
(while iterating; the tier runs everything).
"""

import json
import os
import sys
import traceback
import unittest

SRC = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def _exclusions(python):
    found = {}
    path = os.path.join(SRC, 'tests', 'legacy', 'unit-exclusions.txt')
    with open(path) as handle:
        for line in handle:
            line = line.split('#', 1)[0].strip()
            if not line:
                continue
            pythons, module, reason = line.split(None, 2)
            if python in pythons.split(','):
                found[module] = reason
    return found


def _tests(suite):
    """The single tests of a (nested) suite."""
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            for test in _tests(item):
                yield test
        else:
            yield item


def _selected(name, prefixes):
    return not prefixes or any(
        name == p or name.startswith(p + '.') or p.startswith(name + '.')
        for p in prefixes)


def _modules():
    top = os.path.join(SRC, 'tests', 'unit')
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            if name.startswith('test_') and name.endswith('.py'):
                rel = os.path.relpath(os.path.join(dirpath, name[:-3]), SRC)
                yield rel.replace(os.sep, '.')


def main():
    python = '%d.%d' % sys.version_info[:2]
    if sys.version_info[0] == 2:
        # Test code uses unittest.mock; mock 3.0.5 is the same API on 2.7.
        import mock  # noqa: H216 (unittest.mock is py3 only)
        sys.modules['unittest.mock'] = mock
        unittest.mock = mock
    # cinder_ksvd from the venv (installed) first; then the tests from
    # SRC, ahead of a "tests" package some library installs at top level.
    try:
        import cinder_ksvd  # noqa: F401
    except ImportError:
        pass
    sys.path.insert(0, SRC)
    for name in [n for n in sys.modules if n == 'tests'
                 or n.startswith('tests.')]:
        del sys.modules[name]
    prefixes = sys.argv[1:]
    excluded = _exclusions(python)
    every = list(_modules())
    modules = [name for name in every if _selected(name, prefixes)]
    # Lines naming no module are single tests (module.Class.test); those
    # of modules not selected by the arguments are left alone.
    excluded_tests = dict(
        (name, reason) for name, reason in excluded.items()
        if name not in every and _selected(name, prefixes))
    suite = unittest.TestSuite()
    apart = unittest.TestSuite()
    report = {'python': python, 'modules': 0, 'excluded': {},
              'excluded_tests': {}, 'import_errors': {},
              'unused_exclusions': []}
    loader = unittest.TestLoader()
    for name in modules:
        try:
            __import__(name)
        except Exception:
            error = traceback.format_exc().strip().splitlines()[-1]
            if name in excluded:
                report['excluded'][name] = '%s (%s)' % (excluded[name], error)
            else:
                report['import_errors'][name] = error
            continue
        if name in excluded:
            report['unused_exclusions'].append(name)
        report['modules'] += 1
        for test in _tests(loader.loadTestsFromModule(sys.modules[name])):
            if not _selected(test.id(), prefixes):
                continue
            if test.id() in excluded_tests:
                apart.addTest(test)
            else:
                suite.addTest(test)
    result = unittest.TextTestRunner(stream=sys.stderr, verbosity=1).run(
        suite)
    # The excluded single tests still run: one that passes is unused.
    separate = unittest.TextTestRunner(stream=sys.stderr, verbosity=1).run(
        apart)
    failed = dict((test.id(), text) for test, text in
                  separate.failures + separate.errors)
    for name in sorted(excluded_tests):
        if name in failed:
            report['excluded_tests'][name] = '%s (%s)' % (
                excluded_tests[name], failed[name].strip().splitlines()[-1])
        else:  # passed, or no such test (any more)
            report['unused_exclusions'].append(name)
    report['run'] = result.testsRun
    report['failures'] = ['%s: %s' % (test.id(), text.strip().splitlines()[-1])
                          for test, text in result.failures + result.errors]
    report['skipped'] = len(result.skipped)
    report['passed'] = (result.testsRun - len(result.failures)
                        - len(result.errors) - len(result.skipped))
    sys.stdout.write(json.dumps(report, sort_keys=True) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
