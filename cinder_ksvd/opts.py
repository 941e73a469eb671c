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

"""Options of every cinder_ksvd module, and list_opts() for the generator.

Options live here, at the bottom of the package, so every integration can
register and read them without importing another integration.  Nothing is
registered at import time: callers use register_opts(), which is idempotent.
"""

from oslo_config import cfg

KSVD_GROUP = 'ksvd'

# One switch per runtime hook (see cinder_ksvd/hooks.py); the option name is
# the hook name.  A hook whose switch is off is installed but steps aside.
hook_opts = [
    cfg.BoolOpt('config_defaults',
                default=True,
                help='Point cinder at the files ksvd-cinder ships when '
                     'cinder.conf does not name them: the api-paste.ini '
                     'with the ksvd pipeline (api_paste_config) and '
                     'the resource filter file (resource_query_filters_file). '
                     'Files are looked up in /etc/ksvd-cinder, '
                     '/usr/share/ksvd-cinder and the share/ksvd-cinder '
                     'folder of the Python prefix, in that order. Switch '
                     'off to use stock cinder defaults.'),
    cfg.BoolOpt('database',
                default=True,
                help='Make cinder safe and fast on sqlite (see '
                     '[ksvd_database]): transient sqlite errors become '
                     'retriable deadlocks, connections get busy timeout, '
                     'journal and synchronous pragmas and BEGIN IMMEDIATE, '
                     'the writes cinder never retries are retried, and the '
                     'placement of the sqlite file is checked at start. '
                     'Other databases are left alone.'),
]

DATABASE_GROUP = 'ksvd_database'

database_opts = [
    cfg.IntOpt('busy_timeout',
               default=30000, min=0,
               help='Milliseconds a sqlite connection waits for another '
                    'writer\'s lock before it reports "database is locked" '
                    '(PRAGMA busy_timeout). 0 fails at once.'),
    cfg.StrOpt('journal_mode',
               default='persist',
               choices=[('persist', 'keep the rollback journal file between '
                         'transactions; safe on every filesystem, and no '
                         'journal re-creation on network filesystems'),
                        ('delete', 'sqlite\'s default rollback journal'),
                        ('truncate', 'rollback journal truncated after use'),
                        ('wal', 'write-ahead log; local disk only, refused '
                         'on network filesystems')],
               help='sqlite journal mode (PRAGMA journal_mode).'),
    cfg.StrOpt('synchronous',
               default='full',
               choices=['full', 'normal', 'extra'],
               help='sqlite durability (PRAGMA synchronous). "full" syncs '
                    'every commit; "normal" is only safe with '
                    'journal_mode = wal.'),
    cfg.BoolOpt('begin_immediate',
                default=True,
                help='Start every sqlite transaction with BEGIN IMMEDIATE, '
                     'taking the write lock up front, instead of a deferred '
                     'BEGIN whose later lock upgrade fails without waiting. '
                     'Measured: deferred BEGIN under contention drops to a '
                     'few operations per second.'),
    cfg.IntOpt('retry_max',
               default=10, min=0,
               help='How many times a write that hit a transient sqlite '
                    'error is retried (cinder\'s own retried functions keep '
                    'their own limit). 0 disables the added retries.'),
    cfg.FloatOpt('retry_interval',
                 default=0.05, min=0,
                 help='Seconds before the first retry; doubles each time up '
                      'to retry_max_interval, with jitter.'),
    cfg.FloatOpt('retry_max_interval',
                 default=2.0, min=0,
                 help='Longest wait in seconds between two retries.'),
    cfg.BoolOpt('allow_unsafe_placement',
                default=False,
                help='Start even when the sqlite file is on a network '
                     'filesystem mounted without the cache-coherent options '
                     'that keep it intact (GlusterFS: direct-io-mode=enable '
                     'and attribute, entry and negative timeouts of 0; NFS: '
                     'noac or actimeo=0, locking on; CIFS: cache=none, byte '
                     'range locks on). Measured: two GlusterFS clients with '
                     'default options corrupt the file within seconds. '
                     'Logged as an error at every start.'),
    cfg.BoolOpt('check_integrity_on_start',
                default=True,
                help='Run PRAGMA quick_check on the sqlite file before a '
                     'service starts and refuse a corrupt file.'),
]


def register_opts(conf):
    """Register every cinder_ksvd option on conf; safe to call twice."""
    for group, opts in list_opts():
        for opt in opts:
            # NOTE: register_opt returns False when the same option is
            # already registered, and raises only on a conflicting one.
            conf.register_opt(opt, group=group)


def list_opts():
    """Return (group, options) pairs for oslo-config-generator.

    Registered under the oslo.config.opts entry point as ksvd-cinder.
    """
    return [
        (KSVD_GROUP, list(hook_opts)),
        (DATABASE_GROUP, list(database_opts)),
    ]
