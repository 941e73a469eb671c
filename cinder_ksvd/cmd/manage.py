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

"""ksvd-cinder-manage: cinder-manage with ksvd-cinder's hooks and config.

Runs ``db sync`` and the other cinder-manage commands against the
ksvd-cinder config layering, with the hooks installed (DDL runs through the
same database layer as the services).  Adds ``db check``, which reports
where the sqlite file lives and whether that placement is safe.
"""

import sys

from cinder_ksvd.cmd import common

PROG = 'ksvd-cinder-manage'


def _positionals(argv):
    """Non-option words of argv (skipping the values of config options)."""
    words, skip = [], False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ('--config-file', '--config-dir', '--log-file',
                   '--log-dir', '--log-config-append'):
            skip = True
            continue
        if not arg.startswith('-'):
            words.append(arg)
    return words


def db_check(argv):
    """Print the sqlite placement report; exit 0 when safe, 1 when not."""
    from cinder_ksvd.cmd import preflight
    from cinder_ksvd.db import placement
    from cinder_ksvd import opts

    full = common.config_argv([a for a in argv if a not in ('db', 'check')])
    if full is None:
        return common.fail(PROG, 'no configuration found: pass --config-file')
    try:
        conf = preflight.load(full)
    except preflight.ConfigProblem as exc:
        return common.fail(PROG, str(exc))
    opts.register_opts(conf)
    url = conf.database.connection
    if not url:
        return common.fail(PROG, '[database] connection is not set')
    result = placement.report(url, conf.ksvd_database.journal_mode)
    order = ('database', 'file', 'exists', 'filesystem', 'mount_point',
             'mount_options', 'glusterfs_client_options',
             'glusterfs_client_graph', 'journal_mode_of_services',
             'journal_mode',
             'integrity', 'safe')
    for key in order:
        if key in result:
            label = {'journal_mode': 'journal mode (file)'}.get(
                key, key.replace('_', ' '))
            print('%-26s %s' % (label + ':', result[key]))
    for problem in result.get('problems', []):
        print('%-26s %s' % ('problem:', problem))
    integrity_ok = result.get('integrity', 'ok') == 'ok'
    return 0 if result['safe'] and integrity_ok else 1


def main():
    """Entry point of the ksvd-cinder-manage console script."""
    argv = sys.argv[1:]
    if not argv or argv[0] in ('-h', '--help'):
        # Let cinder-manage print its own usage, without touching config.
        sys.exit(common.run('manage', argv))
    if _positionals(argv)[:2] == ['db', 'check']:
        common.quiet_imports()
        sys.exit(db_check(argv))
    sys.exit(common.run('manage', argv, check='manage'))
