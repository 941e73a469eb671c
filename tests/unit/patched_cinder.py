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

"""Modules of the installed cinder, stock or with patches/ applied.

A test loads a private copy of one cinder module (under its own name, with
the module's options registered on a private ConfigOpts), either as
released or with the hunks of patches/<line>/ for that file applied by
patch(1) with no fuzz: the hooks can then be shown to act on a stock cinder
and to step aside on a patched one, in the same process.
"""

import importlib.util
import os
import re
import shutil
import subprocess
from unittest import mock

from oslo_config import cfg

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PATCHES = os.path.join(TOP, 'patches')


def installed_root():
    """The directory holding the installed cinder package."""
    spec = importlib.util.find_spec('cinder')
    return os.path.dirname(os.path.dirname(os.path.abspath(spec.origin)))


def installed_version():
    from importlib import metadata
    return metadata.version('cinder')


def line_for(version):
    """The patches/ line whose series is checked on version, or None."""
    with open(os.path.join(PATCHES, 'releases')) as handle:
        for raw in handle:
            fields = raw.split('#', 1)[0].split()
            if len(fields) >= 2 and fields[1] == version:
                return fields[0]
    return None


def file_hunks(patch_text, relpath):
    """The part of a unified diff that changes relpath ('' if none)."""
    out, keep = [], False
    lines = patch_text.splitlines(True)
    for index, raw in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ''
        if raw.startswith('--- ') and following.startswith('+++ '):
            target = following[4:].split('\t', 1)[0].strip()
            keep = target.split('/', 1)[-1] == relpath
        if keep:
            out.append(raw)
    return ''.join(out)


def series(line):
    with open(os.path.join(PATCHES, line, 'series')) as handle:
        return [raw.split('#', 1)[0].strip() for raw in handle
                if raw.split('#', 1)[0].strip()]


def load(test, relpath, conf, patched):
    """Load a private copy of cinder's relpath; returns the module.

    :param test: the running TestCase (temp dir, failures).
    :param relpath: e.g. 'cinder/image/glance.py'.
    :param conf: the ConfigOpts the module's cfg.CONF refers to.
    :param patched: apply patches/<line>/ for the installed release.
    """
    version = installed_version()
    line = line_for(version)
    if line is None:
        test.fail('installed cinder %s has no series in patches/releases'
                  % version)
    tree = test.make_tempdir()
    target = os.path.join(tree, relpath)
    os.makedirs(os.path.dirname(target))
    shutil.copy(os.path.join(installed_root(), relpath), target)
    if patched and not shutil.which('patch'):
        test.fail('patch(1) is not installed: apt-get install patch (as '
                  'root, tools/setup-test-machine py3 installs it)')
    applied = 0
    for name in series(line) if patched else ():
        with open(os.path.join(PATCHES, line, name)) as handle:
            hunks = file_hunks(handle.read(), relpath)
        if not hunks:
            continue
        proc = subprocess.run(
            ['patch', '-p1', '--fuzz=0', '--forward',
             '--no-backup-if-mismatch'], input=hunks.encode(), cwd=tree,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        out = proc.stdout.decode('utf-8', 'replace')
        if proc.returncode or re.search(r'offset|fuzz', out, re.I):
            test.fail('%s of patches/%s does not apply cleanly to the '
                      'installed %s: %s' % (name, line, relpath, out))
        applied += 1
    if patched and not applied:
        test.fail('patches/%s changes nothing in %s' % (line, relpath))
    name = 'ksvd_test_%s_%s' % ('patched' if patched else 'stock',
                                relpath[:-3].replace('/', '_'))
    spec = importlib.util.spec_from_file_location(name, target)
    module = importlib.util.module_from_spec(spec)
    with mock.patch.object(cfg, 'CONF', conf):
        spec.loader.exec_module(module)
    return module
