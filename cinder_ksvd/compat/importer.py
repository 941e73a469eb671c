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

"""The sys.meta_path finder of the compat shims.

It serves three kinds of module names, and no other:

- listed driver modules (the prefixes in [ksvd_compat] modules, and every
  package mapped by driver_locations): their source is found as usual (or
  in the mapped directory), checked for Python-2-only constructs
  (py2check), and run with their own __builtins__ whose __import__ hands
  out the other Python's module names (py2names) and the compat view of
  moved cinder names (release.overlays); known-driver fixups run after;
- mapped packages (driver_locations): a package name such as
  cinder.volume.drivers.ixsystems served from a directory or from an
  installed Python package, without copying files into cinder;
- cinder module names that moved (release.MODULE_ALIASES), only when no
  real module of that name exists.

Works with find_spec/exec_module (Python 3) and find_module/load_module
(Python 2, checked statically).
"""

import os
import sys
import threading

from cinder_ksvd.compat import py2check
from cinder_ksvd.compat import py2names
from cinder_ksvd.compat import release

# Python 2 first: python-future (RDO Train installs it) adds a "builtins"
# package there that is not the interpreter's builtins (no __import__).
if py2names.PY2:
    import __builtin__ as _builtins_module  # noqa  # novermin
else:
    import builtins as _builtins_module  # novermin

try:
    from importlib import machinery as _machinery  # novermin
    from importlib import util as _util  # novermin
except ImportError:  # Python 2
    _machinery = _util = None


class DriverLoadRefused(ImportError):
    """A listed module has Python-2-only constructs; str() is one line."""

    def __init__(self, name, findings):
        self.findings = findings
        self.module = name
        first = findings[0]
        more = len(findings) - 1
        message = ('%s cannot run on Python %d.%d: %s%s; fix the driver'
                   % (name, sys.version_info[0], sys.version_info[1], first,
                      ' (and %d more)' % more if more else ''))
        if not first.syntax:
            message += ' (or set [ksvd_compat] py2_idioms = warn)'
        super(DriverLoadRefused, self).__init__(message)


class ModuleReport(object):
    """What the shims did for one listed module (ksvd-cinder-manage)."""

    def __init__(self, name, filename):
        self.name = name
        self.filename = filename
        self.py_names = set()       # other-Python module names it imported
        self.builtins = set()       # other-Python builtins it uses
        self.aliases = set()        # moved cinder modules it imported
        self.overlays = set()       # cinder names seen in their compat form
        self.findings = []          # py2check findings (warn mode)
        self.refused = []           # findings refuse mode stops at (check)
        self.fixups = []            # known-driver fixups applied
        self.mapped_from = None     # directory of a driver_locations entry


def _split_location(entry):
    package, sep, location = entry.partition('=')
    package, location = package.strip(), location.strip()
    if not sep or not package or not location:
        raise ValueError('[ksvd_compat] driver_locations entry %r is not '
                         '<package>=<directory or installed package>'
                         % entry)
    return package, location


def resolve_location(location):
    """The directory of a driver_locations target.

    An absolute path is a directory; anything else names an installed
    Python package (pip install) whose directory is used, without running
    its __init__.
    """
    if os.path.isabs(location):
        return location
    top = location.split('.')[0]
    for entry in sys.path:
        candidate = os.path.join(entry or os.curdir, *location.split('.'))
        if os.path.isdir(candidate) and os.path.isdir(
                os.path.join(entry or os.curdir, top)):
            return os.path.abspath(candidate)
    raise ValueError('[ksvd_compat] driver_locations: no installed Python '
                     'package %s on sys.path: pip install it or give a '
                     'directory' % location)


class CompatFinder(object):
    """Meta path finder for listed modules, mapped packages and aliases."""

    def __init__(self, prefixes=(), locations=None, py2_idioms='refuse',
                 fixups=None, conf=None, aliases=True):
        self.aliases = aliases
        self.locations = dict(locations or {})
        self.prefixes = tuple(sorted(set(prefixes) | set(self.locations)))
        self.py2_idioms = py2_idioms
        self.fixups = fixups
        self.conf = conf
        self.reports = {}
        # driver check: run modules refuse mode would stop at, and keep
        # their findings in report.refused, to report every one at once.
        self.collect = False
        self._lock = threading.RLock()

    # -- which names ----------------------------------------------------

    def listed(self, fullname):
        for prefix in self.prefixes:
            if fullname == prefix or fullname.startswith(prefix + '.'):
                return True
        return False

    def _locate(self, fullname, path):
        """(filename, is_package, mapped_dir) of listed source, or None."""
        if fullname in self.locations:
            directory = self.locations[fullname]
            init = os.path.join(directory, '__init__.py')
            return (init if os.path.isfile(init) else None, True, directory)
        last = fullname.rsplit('.', 1)[-1]
        if path is None:
            if '.' in fullname:
                parent = sys.modules.get(fullname.rsplit('.', 1)[0])
                path = getattr(parent, '__path__', None)
            if path is None:
                path = sys.path
        for entry in path:
            base = os.path.join(entry or os.curdir, last)
            init = os.path.join(base, '__init__.py')
            if os.path.isfile(init):
                return init, True, None
            if os.path.isfile(base + '.py'):
                return base + '.py', False, None
        return None

    def _real_exists(self, fullname, path):
        """Whether another finder has a real module of this name."""
        for finder in sys.meta_path:
            if isinstance(finder, CompatFinder):
                continue  # (another one would ask us back: recursion)
            find_spec = getattr(finder, 'find_spec', None)
            try:
                if find_spec is not None:
                    if find_spec(fullname, path) is not None:
                        return True
                elif finder.find_module(fullname, path) is not None:
                    return True
            except (ImportError, AttributeError, ValueError):
                continue
        if _machinery is None:
            import imp  # Python 2 only
            try:
                imp.find_module(fullname.rsplit('.', 1)[-1], path)
                return True
            except ImportError:
                return False
        return False

    # -- Python 3 protocol ----------------------------------------------

    def find_spec(self, fullname, path=None, target=None):
        found = self._find(fullname, path)
        if found is None:
            return None
        kind, data = found
        if kind == 'alias':
            return _util.spec_from_loader(
                fullname, _AliasLoader(self, data),
                is_package=data is None or fullname in _alias_packages())
        filename, is_package, mapped = data
        loader = _ShimLoader(self, fullname, filename, is_package, mapped)
        locations = [os.path.dirname(filename) if filename else mapped] \
            if is_package else None
        if filename is None:
            spec = _machinery.ModuleSpec(fullname, loader, is_package=True)
            spec.submodule_search_locations = [mapped]
            return spec
        spec = _util.spec_from_file_location(
            fullname, filename, loader=loader,
            submodule_search_locations=locations)
        return spec

    # -- Python 2 protocol (checked statically) ---------------------------

    def find_module(self, fullname, path=None):
        if _machinery is not None:
            return None  # Python 3 uses find_spec
        found = self._find(fullname, path)
        if found is None:
            return None
        kind, data = found
        if kind == 'alias':
            return _AliasLoader(self, data)
        filename, is_package, mapped = data
        return _ShimLoader(self, fullname, filename, is_package, mapped)

    def _find(self, fullname, path):
        if self.listed(fullname):
            located = self._locate(fullname, path)
            if located is not None:
                return 'module', located
            return None
        if self.aliases and fullname in release.MODULE_ALIASES:
            with self._lock:
                if self._real_exists(fullname, path):
                    return None
            target = release.MODULE_ALIASES[fullname]
            if target is not None:
                parent = target.rsplit('.', 1)[0]
                if (target not in sys.modules
                        and not self._real_exists(target, getattr(
                            sys.modules.get(parent), '__path__', None))):
                    return None
            return 'alias', target
        return None

    # -- running a listed module -----------------------------------------

    def report_for(self, name, filename):
        report = self.reports.get(name)
        if report is None:
            report = self.reports[name] = ModuleReport(name, filename)
        return report

    def run(self, module, fullname, filename, mapped):
        report = self.report_for(fullname, filename)
        report.mapped_from = mapped
        source = ''
        if filename:
            with open(filename, 'rb') as handle:
                raw = handle.read()
            source = raw.decode('utf-8') if not py2names.PY2 else raw
        findings, used = py2check.scan(source, filename or fullname)
        report.builtins |= used
        if findings:
            if findings[0].syntax:
                raise DriverLoadRefused(fullname, findings)
            if self.py2_idioms == 'refuse' and self.collect:
                report.refused.extend(findings)
            elif self.py2_idioms == 'refuse':
                raise DriverLoadRefused(fullname, findings)
            else:
                report.findings.extend(findings)
                _log().warning('%s: %d Python 2 construct(s) left as they '
                               'are ([ksvd_compat] py2_idioms = warn): %s',
                               fullname, len(findings),
                               '; '.join(str(f) for f in findings))
        release.apply()
        namespace = module.__dict__
        namespace['__builtins__'] = self.builtins_for(report)
        code = compile(source, filename or '<%s>' % fullname, 'exec',
                       dont_inherit=True)
        exec(code, namespace)
        if self.fixups is not None:
            report.fixups.extend(self.fixups(module, self.conf))

    def builtins_for(self, report):
        mapping = dict(vars(_builtins_module))
        mapping.update(py2names.builtins())
        mapping['__import__'] = _ScopedImport(self, report,
                                              mapping['__import__'])
        return mapping


def _log():
    from oslo_log import log as logging
    return logging.getLogger(__name__)


def _alias_packages():
    return set(name for name, target in release.MODULE_ALIASES.items()
               if target is None)


class _ScopedImport(object):
    """The __import__ of a listed module."""

    def __init__(self, finder, report, real_import):
        self.finder = finder
        self.report = report
        self.real_import = real_import
        self.overlays = release.overlays()

    def __call__(self, name, globals=None, locals=None, fromlist=(),
                 level=0):
        if level == 0:
            shim = self._shim(name, fromlist)
            if shim is not None:
                return shim
        result = self.real_import(name, globals, locals, fromlist, level)
        if level == 0:
            for full in [name] + ['%s.%s' % (name, item)
                                  for item in fromlist or ()]:
                module = sys.modules.get(full)
                if getattr(module, release.ALIAS_MARK, False):
                    self.report.aliases.add('%s -> %s' % (
                        full, getattr(module, release.ALIAS_MARK)))
        if level == 0 and name in py2names.augmented() and fromlist:
            return py2names.augmented()[name]
        return self._overlay(result, name if fromlist else
                             name.split('.')[0], fromlist)

    def _shim(self, name, fromlist):
        table = py2names.names()
        if name in table:
            self.report.py_names.add(name)
            top = name.split('.')[0]
            if fromlist or top == name:
                return table[name]
            return py2names.augmented().get(top, table[name])
        if py2names.PY2 and name in py2names.augmented():
            wanted = ['%s.%s' % (name, item) for item in fromlist or ()]
            if any(item in table for item in wanted):
                self.report.py_names.update(w for w in wanted if w in table)
                return py2names.augmented()[name]
        if not py2names.PY2 and name.split('.')[0] in py2names.augmented() \
                and not fromlist:
            # "import urllib" / "import urllib.parse": the augmented package
            self.real_import(name)
            return py2names.augmented()[name.split('.')[0]]
        return None

    def _overlay(self, module, module_name, fromlist):
        """module, or a proxy showing the compat form of moved names."""
        names = [key for key in self.overlays
                 if key == module_name or key.startswith(module_name + '.')]
        if not names or not isinstance(module, py2names.types.ModuleType):
            return module
        return _overlay_proxy(module, module_name, self.overlays,
                              self.report)


def _overlay_proxy(module, module_name, overlays, report):
    extra = {}
    for attr, make in overlays.get(module_name, {}).items():
        if hasattr(module, attr):
            extra[attr] = make(module, lambda what, a=attr: report.overlays
                               .add('%s.%s (%s)' % (module_name, a, what)))
    children = {}
    for key in overlays:
        if key.startswith(module_name + '.'):
            child = key[len(module_name) + 1:].split('.')[0]
            full = '%s.%s' % (module_name, child)
            children[child] = (
                lambda c=child, f=full: _overlay_proxy(
                    getattr(module, c), f, overlays, report)
                if hasattr(module, c) else None)
    return py2names.ProxyModule(module.__name__, module, extra, children)


class _ShimLoader(object):
    """Loads a listed module through CompatFinder.run()."""

    def __init__(self, finder, fullname, filename, is_package, mapped):
        self.finder = finder
        self.fullname = fullname
        self.filename = filename
        self.is_package = is_package
        self.mapped = mapped

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        self.finder.run(module, self.fullname, self.filename, self.mapped)

    def get_filename(self, fullname=None):
        return self.filename

    def get_source(self, fullname=None):
        if not self.filename:
            return ''
        with open(self.filename) as handle:
            return handle.read()

    def load_module(self, fullname):  # Python 2
        module = sys.modules.get(fullname)
        if module is None:
            module = py2names.types.ModuleType(fullname)
            sys.modules[fullname] = module
        module.__file__ = self.filename or '<%s>' % fullname
        module.__loader__ = self
        if self.is_package:
            module.__path__ = [os.path.dirname(self.filename)
                               if self.filename else self.mapped]
            module.__package__ = fullname
        else:
            module.__package__ = fullname.rpartition('.')[0]
        try:
            self.exec_module(module)
        except BaseException:
            sys.modules.pop(fullname, None)
            raise
        return module


class _AliasLoader(object):
    """A moved cinder module under its other name (never replaces one)."""

    def __init__(self, finder, target):
        self.finder = finder
        self.target = target

    def create_module(self, spec):
        return self._make(spec.name)

    def _make(self, name):
        target = None
        if self.target is not None:
            __import__(self.target)
            target = sys.modules[self.target]
        module = py2names.ProxyModule(name, target)
        module.__dict__.pop('__file__', None)
        setattr(module, release.ALIAS_MARK, self.target or '(package)')
        if target is None:
            module.__path__ = []
        return module

    def exec_module(self, module):
        _log().debug('cinder module %s is served as an alias of %s',
                     module.__name__, self.target or 'an empty package')

    def load_module(self, fullname):  # Python 2
        module = sys.modules.get(fullname) or self._make(fullname)
        sys.modules[fullname] = module
        return module


_installed = {'finder': None}


def install(finder):
    """Put finder first on sys.meta_path (replacing any previous one)."""
    uninstall()
    sys.meta_path[:] = [f for f in sys.meta_path
                        if not isinstance(f, CompatFinder)]
    sys.meta_path.insert(0, finder)
    _installed['finder'] = finder
    return finder


def uninstall():
    finder = _installed['finder']
    if finder is not None and finder in sys.meta_path:
        sys.meta_path.remove(finder)
    _installed['finder'] = None


def current():
    return _installed['finder']
