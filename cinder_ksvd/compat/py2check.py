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

"""Find Python-2-only syntax and idioms in a driver's source, with lines.

Aliases (cinder_ksvd.compat.py2names) cover the modules and builtins that
were renamed; what they cannot cover is reported here before the module
runs, so a driver fails at load with file:line instead of in the middle of
an operation.  Nothing is rewritten: the code that runs is the file on disk.

On Python 2 nothing is Python-2-only, so scan() reports nothing there.
"""

import ast
import sys

PY2 = sys.version_info[0] == 2

# dict methods that are gone in Python 3 (called with no argument).
_DICT_METHODS = {
    'iteritems': 'items()', 'iterkeys': 'keys()', 'itervalues': 'values()',
    'viewitems': 'items()', 'viewkeys': 'keys()', 'viewvalues': 'values()',
}
# str.encode/decode codecs that only exist on Python 2 byte strings.
_PY2_CODECS = ('base64', 'base_64', 'hex', 'zlib', 'zip', 'rot13',
               'rot_13', 'string_escape', 'string-escape', 'bz2', 'uu',
               'quopri')
# Module-level functions removed in Python 3 (module, name, replacement).
_REMOVED = {
    ('string', 'letters'): 'string.ascii_letters',
    ('string', 'maketrans'): 'str.maketrans()',
    ('os', 'getcwdu'): 'os.getcwd()',
    ('sys', 'maxint'): 'sys.maxsize',
}
# Builtins the import shim provides to listed modules.
SHIMMED_BUILTINS = ('unicode', 'basestring', 'long', 'xrange', 'unichr')
# Builtins gone in Python 3 that no shim provides.
_REMOVED_BUILTINS = {
    'raw_input': 'input()', 'execfile': 'exec(open(...).read())',
    'reload': 'importlib.reload()', 'cmp': 'a custom key function',
    'file': 'open()', 'apply': 'f(*args, **kwargs)',
}


class Finding(object):
    """One Python-2-only construct: file, line and what to change."""

    def __init__(self, filename, line, message, syntax=False):
        self.filename = filename
        self.line = line
        self.message = message
        self.syntax = syntax

    def __str__(self):
        return '%s:%s: %s' % (self.filename, self.line, self.message)

    def __repr__(self):
        return 'Finding(%r)' % str(self)


def _const_str(node):
    """The value of a string literal node, else None."""
    value = getattr(node, 'value', getattr(node, 's', None))
    if isinstance(value, str):
        return value
    return None


class _Scanner(ast.NodeVisitor):

    def __init__(self, filename):
        self.filename = filename
        self.findings = []
        self.builtins_used = set()
        self.assigned = set()

    def add(self, node, message):
        self.findings.append(Finding(self.filename, node.lineno, message))

    def visit_Call(self, node):
        func = node.func
        if isinstance(func, ast.Attribute):
            if func.attr in _DICT_METHODS and not node.args:
                self.add(node, '.%s() does not exist on Python 3: use .%s'
                         % (func.attr, _DICT_METHODS[func.attr]))
            elif func.attr == 'has_key' and len(node.args) == 1:
                self.add(node, '.has_key(k) does not exist on Python 3: use '
                         '"k in d"')
            elif (func.attr == 'next' and not node.args
                  and not node.keywords):
                self.add(node, '.next() is Python 2 iterator protocol: use '
                         'next(it)')
            elif func.attr in ('encode', 'decode') and node.args:
                codec = _const_str(node.args[0])
                if codec and codec.lower() in _PY2_CODECS:
                    self.add(node, '.%s(%r) works on Python 2 strings only: '
                             'use the base64/binascii/codecs module on '
                             'bytes' % (func.attr, codec))
        elif isinstance(func, ast.Name) and func.id in _REMOVED_BUILTINS:
            if func.id not in self.assigned:
                self.add(node, '%s() is not a builtin on Python 3: use %s'
                         % (func.id, _REMOVED_BUILTINS[func.id]))
        self.generic_visit(node)

    def visit_Attribute(self, node):
        if isinstance(node.value, ast.Name):
            key = (node.value.id, node.attr)
            if key in _REMOVED:
                self.add(node, '%s.%s is gone on Python 3: use %s'
                         % (key[0], key[1], _REMOVED[key]))
        self.generic_visit(node)

    def visit_Name(self, node):
        if (isinstance(node.ctx, ast.Load)
                and node.id in SHIMMED_BUILTINS):
            self.builtins_used.add(node.id)
        self.generic_visit(node)


def _assigned_names(tree):
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and not isinstance(node.ctx,
                                                           ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split('.')[0])
    return names


def _syntax_hint(source, lineno):
    lines = source.splitlines()
    text = lines[lineno - 1].strip() if 0 < lineno <= len(lines) else ''
    word = text.split(' ', 1)[0].split('(', 1)[0]
    if word == 'print':
        return 'print statement: use print(...)'
    if word == 'exec':
        return 'exec statement: use exec(...)'
    if text.startswith('except ') and ',' in text and ' as ' not in text:
        return '"except X, e" is Python 2 syntax: use "except X as e"'
    if text.startswith('raise ') and ',' in text:
        return '"raise X, msg" is Python 2 syntax: use "raise X(msg)"'
    if '`' in text:
        return 'backquotes are Python 2 repr: use repr()'
    if '<>' in text:
        return '"<>" is Python 2 syntax: use "!="'
    return None


def scan(source, filename):
    """Return (findings, builtins_used) for the source of one module.

    A syntax error is one finding (compilation stops there); idioms are
    found only in source that compiles.
    """
    if PY2:
        return [], set()
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        lineno = exc.lineno or 0
        hint = _syntax_hint(source, lineno)
        message = 'Python 2 syntax: %s' % hint if hint else (
            'syntax error: %s' % exc.msg)
        return [Finding(filename, lineno, message, syntax=True)], set()
    scanner = _Scanner(filename)
    scanner.assigned = _assigned_names(tree)
    scanner.visit(tree)
    used = set(name for name in scanner.builtins_used
               if name not in scanner.assigned)
    return scanner.findings, used
