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

"""ksvd-cinder-manage driver check: load a driver through the shims, say
what it needed, what is missing and whether cinder can use it.
"""

import importlib
import inspect
import os
import sys

from cinder_ksvd.compat import importer
from cinder_ksvd.compat import py2check

# Operations every volume backend must really implement.
ESSENTIAL = ('do_setup', 'check_for_setup_error', 'create_volume',
             'delete_volume', 'create_export', 'ensure_export',
             'remove_export', 'initialize_connection',
             'terminate_connection', 'get_volume_stats')


class Result(object):
    """The outcome of one check; lines() is what the command prints."""

    def __init__(self, driver):
        self.driver = driver
        self.loaded = False
        self.errors = []        # why it cannot be used (one line each)
        self.missing = []       # modules / names the driver lacks
        self.shims = []         # what the shims did, one line each
        self.interface = []     # driver interface problems
        self.warnings = []

    @property
    def ok(self):
        return self.loaded and not self.errors and not self.interface

    def lines(self):
        out = ['driver:     %s' % self.driver,
               'loaded:     %s' % ('yes' if self.loaded else 'no')]
        out += ['shim:       %s' % line for line in self.shims]
        out += ['missing:    %s' % line for line in self.missing]
        out += ['warning:    %s' % line for line in self.warnings]
        out += ['error:      %s' % line for line in self.errors]
        out += ['interface:  %s' % line for line in self.interface]
        out.append('result:     %s' % (
            'ok: cinder can load this driver' if self.ok else
            'NOT usable: fix the lines above'))
        return out


def _missing_module(exc):
    name = getattr(exc, 'name', None)
    if name:
        return name
    text = str(exc)
    if text.startswith('No module named '):
        return text[len('No module named '):].strip('\'"')
    return None


def _scan_unlisted(module_name, result):
    """A driver outside [ksvd_compat] modules: say if it needs the shims."""
    try:
        from importlib import util as import_util  # novermin
        spec = import_util.find_spec(module_name)
    except (ImportError, AttributeError, ValueError):
        return
    origin = getattr(spec, 'origin', None) if spec else None
    if not origin or not origin.endswith('.py'):
        return
    with open(origin, 'rb') as handle:
        source = handle.read().decode('utf-8', 'replace')
    findings, used = py2check.scan(source, origin)
    hint = 'list its package in [ksvd_compat] modules to load it through ' \
           'the shims'
    for finding in findings:
        result.warnings.append('%s (%s)' % (finding, hint))
    if used:
        result.warnings.append('%s uses the Python 2 builtins %s (%s)'
                               % (origin, ', '.join(sorted(used)), hint))


def _py2_lines(result, name, findings):
    """A refused module: one error, one missing line per finding."""
    result.errors.append(str(importer.DriverLoadRefused(name, findings)))
    for finding in findings:
        result.missing.append('Python %d code: %s'
                              % (sys.version_info[0], finding))


def _package_dir(finder, prefix):
    if prefix in finder.locations:
        return finder.locations[prefix]
    package = sys.modules.get(prefix)
    path = list(getattr(package, '__path__', None) or ())
    return path[0] if path else None


def _scan_rest(finder, module_name, result):
    """After a failed import: scan the driver package's other modules.

    The import stopped at the first module it could not run; the modules
    it never reached are scanned (not run), so one check names every
    Python 2 construct of the package.
    """
    prefixes = [p for p in finder.prefixes
                if module_name == p or module_name.startswith(p + '.')]
    if not prefixes:
        return
    prefix = max(prefixes, key=len)
    top = _package_dir(finder, prefix)
    if not top or not os.path.isdir(top):
        return
    for directory, dirs, files in sorted(os.walk(top)):
        dirs[:] = sorted(d for d in dirs if not d.startswith(('.', '_')))
        for filename in sorted(files):
            if not filename.endswith('.py'):
                continue
            relative = os.path.relpath(os.path.join(directory, filename),
                                       top)[:-3].split(os.sep)
            if relative[-1] == '__init__':
                relative = relative[:-1]
            name = '.'.join([prefix] + relative)
            if name in finder.reports:
                continue  # imported (and reported) already
            path = os.path.join(directory, filename)
            with open(path, 'rb') as handle:
                source = handle.read().decode('utf-8', 'replace')
            findings, _used = py2check.scan(source, path)
            for finding in findings:
                result.missing.append('Python %d code: %s (%s, not reached: '
                                      'the import stopped earlier)'
                                      % (sys.version_info[0], finding, name))


def _describe(report, result):
    where = report.name
    if report.mapped_from:
        result.shims.append('%s served from %s (driver_locations)'
                            % (where, report.mapped_from))
    if report.py_names:
        result.shims.append('%s imports %s (Python %d names)' % (
            where, ', '.join(sorted(report.py_names)),
            3 - sys.version_info[0] + 2))
    if report.builtins:
        result.shims.append('%s uses builtins %s' % (
            where, ', '.join(sorted(report.builtins))))
    for alias in sorted(report.aliases):
        result.shims.append('%s imports moved cinder module %s'
                            % (where, alias))
    for overlay in sorted(report.overlays):
        result.shims.append('%s calls %s' % (where, overlay))
    for fixup in report.fixups:
        result.shims.append('%s fixup %s' % (where, fixup))
    for finding in report.findings:
        result.warnings.append('%s (loaded anyway: py2_idioms = warn)'
                               % finding)


def _not_implemented(cls, name):
    """Whether cls.name is cinder's base stub raising NotImplementedError."""
    for klass in inspect.getmro(cls):
        if name in vars(klass):
            func = vars(klass)[name]
            if not klass.__module__.startswith('cinder.volume.driver'):
                return False
            if getattr(func, '__isabstractmethod__', False):
                return True
            try:
                source = inspect.getsource(func)
            except (IOError, OSError, TypeError):
                return False
            body = [line.strip() for line in source.splitlines()[1:]
                    if line.strip() and not line.strip().startswith('#')]
            return bool(body) and body[-1].startswith(
                'raise NotImplementedError')
    return True


def check_interface(cls, result):
    from cinder.volume import driver as base
    if not (isinstance(cls, type) and issubclass(cls, base.BaseVD)):
        result.interface.append('%s is not a cinder volume driver (not a '
                                'subclass of cinder.volume.driver.BaseVD)'
                                % result.driver)
        return
    abstract = sorted(getattr(cls, '__abstractmethods__', ()) or ())
    if abstract:
        result.interface.append('abstract methods not implemented (cinder '
                                'cannot instantiate it): %s'
                                % ', '.join(abstract))
    stubs = [name for name in ESSENTIAL
             if name not in abstract and _not_implemented(cls, name)]
    if stubs:
        result.interface.append('not implemented (cinder\'s base raises '
                                'NotImplementedError): %s' % ', '.join(stubs))
    try:
        from cinder.interface import volume_driver
    except ImportError:
        return
    core = volume_driver.VolumeDriverCore
    wanted = sorted(name for name, value in vars(core).items()
                    if callable(value) and not name.startswith('__'))
    lacking = [name for name in wanted if not hasattr(cls, name)]
    if lacking:
        result.interface.append('lacks methods of cinder.interface.'
                                'volume_driver.VolumeDriverCore: %s'
                                % ', '.join(lacking))


def check(conf, driver):
    """Load driver (a volume_driver class path) through the shims."""
    from cinder_ksvd import compat
    result = Result(driver)
    module_name, _sep, class_name = driver.rpartition('.')
    if not module_name:
        result.errors.append('%s is not a module.Class path' % driver)
        return result
    if conf.ksvd.compat:
        finder, added = compat.activate(conf)
    else:
        importer.uninstall()
        finder, added = importer.CompatFinder(aliases=False), []
        result.warnings.append('[ksvd] compat is off: loaded the way the '
                               'services will, without any shim')
    # Report every module refuse mode stops at, not the first only (this
    # command exits after the check: the services never see the flag).
    finder.collect = True
    try:
        from cinder import objects
        objects.register_all()  # as every cinder service does first
    except ImportError:
        pass
    if not finder.listed(module_name):
        _scan_unlisted(module_name, result)
    module = None
    try:
        module = importlib.import_module(module_name)
    except importer.DriverLoadRefused as exc:
        _py2_lines(result, exc.module, exc.findings)
    except ImportError as exc:
        missing = _missing_module(exc)
        if missing:
            from cinder_ksvd.compat import py2names
            if (missing in py2names.PY2_ON_PY3
                    or missing in py2names.PY3_ON_PY2):
                result.missing.append(
                    'module %s is a Python %d name: list the driver\'s '
                    'package in [ksvd_compat] modules'
                    % (missing, 3 - sys.version_info[0] + 2))
            else:
                result.missing.append(
                    'module %s: install it (pip or distribution package), '
                    'or map the directory of a driver checked out '
                    'elsewhere: [ksvd_compat] driver_locations = '
                    '%s=<directory>' % (missing, missing))
        result.errors.append('cannot import %s: %s' % (
            module_name, str(exc).splitlines()[0] if str(exc) else
            type(exc).__name__))
    except Exception as exc:  # the driver's own import-time code failed
        result.errors.append('importing %s raised %s: %s' % (
            module_name, type(exc).__name__,
            str(exc).splitlines()[0] if str(exc) else ''))
    for name in sorted(finder.reports):
        _describe(finder.reports[name], result)
    refused = [(name, finder.reports[name].refused)
               for name in sorted(finder.reports)
               if finder.reports[name].refused]
    for name, findings in refused:
        _py2_lines(result, name, findings)
    if module is None:
        _scan_rest(finder, module_name, result)
    if added:
        grouped = {}
        for entry in added:
            target, _arrow, source = entry.partition(' <- ')
            target_module, _dot, name = target.rpartition('.')
            grouped.setdefault((target_module, source), []).append(name)
        for (target, source), names in sorted(grouped.items()):
            result.shims.append('cinder names added to %s from %s: %s'
                                % (target, source, ', '.join(names)))
    if module is None:
        return result
    cls = getattr(module, class_name, None)
    if cls is None:
        result.missing.append('class %s in %s' % (class_name, module_name))
        result.errors.append('%s has no %s' % (module_name, class_name))
        return result
    # With modules refuse mode stops at, the services would not load it;
    # its interface is checked all the same, to report everything at once.
    result.loaded = not refused
    check_interface(cls, result)
    return result
