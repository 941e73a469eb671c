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
"""What every ksvd-cinder-<service> wrapper does around stock main().

Order matters (DESIGN.md section 4): import cinder.cmd.<service> first (it
applies eventlet monkey patching and registers cinder's options), then
install the hooks, then check the config, then call the stock main(), which
parses config, sets up logging and forks workers; children inherit hooks.
"""

import importlib
import sys
import warnings

from oslo_config import cfg

from cinder_ksvd.cmd import preflight
from cinder_ksvd import paths


def fail(prog, message):
    sys.stderr.write('%s: error: %s\n' % (prog, message))
    return preflight.EX_CONFIG


def quiet_imports():
    """Silence import-time notices an operator cannot act on.

    eventlet >= 0.40 prints a multi-line deprecation notice when cinder
    imports it; on stderr it would bury our one-line errors.
    """
    warnings.filterwarnings('ignore', message=r'\s*Eventlet is deprecated')


def config_argv(argv):
    """argv with ksvd-cinder's config layering added when it names none."""
    if paths.has_config_args(argv):
        return list(argv)
    extra = paths.default_config_args()
    if not extra:
        return None
    # In front: cinder-manage's sub-commands would swallow later options.
    return extra + list(argv)


def run(service, argv=None, prog=None, check=None):
    """Run stock cinder.cmd.<service>.main() with hooks; return exit code.

    :param service: api, scheduler, volume, backup or manage.
    :param check: preflight service name (None skips the config checks).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = prog or 'ksvd-cinder-%s' % service
    quiet_imports()
    stock = importlib.import_module('cinder.cmd.%s' % service)
    # Imported after the stock module so eventlet patching comes first.
    from cinder_ksvd import hooks
    hooks.install()
    full = config_argv(argv)
    if full is None:
        return fail(prog, 'no configuration found: install %s/%s or '
                    'pass --config-file' % (paths.SHARE_DIR, paths.DIST_CONF))
    if check:
        try:
            preflight.check(full, check)
        except preflight.ConfigProblem as exc:
            return fail(prog, str(exc))
    sys.argv = [prog] + full
    try:
        result = stock.main()
    except cfg.Error as exc:
        return fail(prog, str(exc).strip().splitlines()[0])
    return result or 0
