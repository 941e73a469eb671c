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
"""ksvd-cinder-all: api, scheduler and volume in one process (embedded mode).

For a single host and for demos: one process, sqlite, in-process messaging
(oslo.messaging fake://, so no broker), one ServiceLauncher (ProcessLauncher
would fork and fake:// does not cross processes).  The backend is the
configured one; --lvm-loop SIZE builds an LVM volume group on a loop file;
--demo uses cinder's fake driver and stores no data.  Cinder 29 has no
cinder.cmd.all, so this module assembles the services itself.

What it adds to the config is written to <state_path>/ksvd-cinder-all.conf
(regenerated at each start) and read last, so the operator can see it.
"""

import importlib
import sys

from oslo_config import cfg

from cinder_ksvd.cmd import common
from cinder_ksvd.cmd import embedded
from cinder_ksvd.cmd import preflight

CONF = cfg.CONF
PROG = 'ksvd-cinder-all'

cli_opts = [
    cfg.BoolOpt('demo', default=False,
                help='Use cinder\'s fake volume driver as the only backend. '
                     'Nothing is stored: for demonstrations and tests only.'),
    cfg.StrOpt('lvm-loop', metavar='SIZE',
               help='Create (or reuse) an LVM volume group on a loop file '
                    'of SIZE (e.g. 20G) under state_path and use it as the '
                    'only backend. Needs root and device-mapper.'),
]


def _import_stock():
    # Eventlet monkey patching and cinder's options, as in the services.
    for name in ('api', 'scheduler', 'volume'):
        importlib.import_module('cinder.cmd.%s' % name)


def main(argv=None):
    """Entry point of the ksvd-cinder-all console script."""
    sys.exit(run(sys.argv[1:] if argv is None else argv))


def run(argv):
    """Start the embedded service; return the exit code."""
    common.quiet_imports()
    _import_stock()
    from cinder_ksvd import hooks
    hooks.install()
    CONF.register_cli_opts(cli_opts)
    full = common.config_argv(argv)
    if full is None:
        return common.fail(PROG, 'no configuration found: pass --config-file')
    try:
        preflight.check(full, 'api')
        overlay = embedded.prepare(CONF, full)
        if overlay:
            full = full + ['--config-file', overlay]
        preflight.check(full, 'all')
    except (preflight.ConfigProblem, embedded.SetupError) as exc:
        return common.fail(PROG, str(exc))
    except cfg.Error as exc:
        return common.fail(PROG, str(exc).strip().splitlines()[0])
    return embedded.serve(CONF, full, PROG)
