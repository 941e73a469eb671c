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
from oslo_config import types

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
    cfg.BoolOpt('compute',
                default=True,
                help='Run the compute notifier (see [ksvd_compute]) that '
                     'replaces Nova: check its options at start and run '
                     'the worker that delivers compute events to KSVD in '
                     'every cinder-volume process. cinder calls it only '
                     'while [DEFAULT] compute_api_class is '
                     'cinder_ksvd.compute.api.API, as cinder-dist.conf '
                     'sets.'),
    cfg.BoolOpt('image',
                default=True,
                help='Serve images to cinder from KSVD\'s image store (see '
                     '[ksvd_image]) instead of Glance: create volume from '
                     'image, upload volume to image and the image-volume '
                     'cache work without Glance. Switch off to give cinder '
                     'back its stock Glance client.'),
    cfg.BoolOpt('compat',
                default=True,
                help='Load volume drivers written for another Python or '
                     'another cinder release (see [ksvd_compat]): the '
                     'driver modules listed there get Python 2/3 module '
                     'names, are checked for Python 2 only code at load, '
                     'and get known-driver fixups; cinder names that moved '
                     'between releases are added where missing. Switch off '
                     'to load drivers as stock cinder does.'),
    cfg.BoolOpt('cluster',
                default=True,
                help='In a clustered cinder-volume ([DEFAULT] cluster set), '
                     'clean the unfinished work of members that died (see '
                     '[ksvd_cluster]), and in volume and backup services '
                     'refuse to start when [coordination] backend_url '
                     'cannot be reached. Switch off to leave dead members '
                     'to the workers cleanup API.'),
    cfg.BoolOpt('projects',
                default=True,
                help='Answer cinder\'s "does this project exist" question '
                     'from the token file ([ksvd_auth] token_file) instead '
                     'of Keystone: a project exists when a token names it '
                     '(expired tokens count) or it is the caller\'s own. '
                     'Per-project default volume types (/v3/default-types/'
                     '{project}, microversion 3.62) need it; an unknown '
                     'project answers 404. Switch off to let cinder ask '
                     'Keystone.'),
]

DATABASE_GROUP = 'ksvd_database'

database_opts = [
    cfg.IntOpt('busy_timeout',
               default=30000, min=0,
               help='Milliseconds a sqlite connection waits for another '
                    'writer\'s lock before it reports "database is locked" '
                    '(PRAGMA busy_timeout). 0 fails at once.'),
    cfg.StrOpt('journal_mode',
               default='auto',
               choices=[('auto', 'wal when the file is on a local '
                         'filesystem, persist on a network filesystem (or '
                         'when the mount cannot be found)'),
                        ('persist', 'keep the rollback journal file between '
                         'transactions; safe on every filesystem, and no '
                         'journal re-creation on network filesystems'),
                        ('delete', 'sqlite\'s default rollback journal'),
                        ('truncate', 'rollback journal truncated after use'),
                        ('wal', 'write-ahead log; local disk only, refused '
                         'on network filesystems')],
               help='sqlite journal mode (PRAGMA journal_mode). '
                    'Measured on local disk: wal with reader_engine gives '
                    'the highest throughput (doc/database.md). In wal mode '
                    'recent commits live in the -wal file next to the '
                    'database: back it up with sqlite3 .backup, not '
                    'by copying the file alone.'),
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
    cfg.BoolOpt('reader_engine',
                default=True,
                help='Give cinder\'s read-only (reader) transactions their '
                     'own engine on the same sqlite file, started with a '
                     'deferred BEGIN, so readers do not queue for the write '
                     'lock; writers keep BEGIN IMMEDIATE. Readers still see '
                     'every committed write. Off: every transaction takes '
                     'the write lock. Ignored for other databases, for '
                     'in-memory sqlite and when [database] slave_connection '
                     'is set.'),
    cfg.StrOpt('write_lock',
               default='off',
               choices=[('auto', 'on when the file is on a local filesystem '
                         'with journal_mode wal'),
                        ('on', 'on for any local filesystem'),
                        ('off', 'writers wait in sqlite\'s busy handler')],
               help='Before BEGIN IMMEDIATE, writer transactions queue on '
                    'an fcntl lock on a side file next to the database '
                    '(<file>.ksvd-writelock), one transaction per process '
                    'at a time; the kernel wakes the next writer when the '
                    'lock is released, where sqlite\'s busy handler polls '
                    'with sleeps of up to 100 ms. Reader-engine '
                    'transactions never take it. Never used on a network '
                    'filesystem or when begin_immediate is off. Measured on '
                    'a 2-core machine: no gain over off (doc/database.md), '
                    'hence off by default.'),
    cfg.StrOpt('connection_pool',
               default='auto',
               choices=[('auto', 'on when the file is on a local '
                         'filesystem'),
                        ('on', 'on for any filesystem'),
                        ('off', 'a new connection for every transaction, '
                         'as oslo.db does for sqlite')],
               help='Keep connections to the sqlite file open between '
                    'transactions (up to [database] max_pool_size idle '
                    'ones; a burst opens more, it never waits for one). '
                    'Without it every transaction opens the file, sets '
                    'the pragmas and makes sqlite read cinder\'s schema '
                    'again, a writer while it holds the write lock. A '
                    'connection whose file was replaced or removed is '
                    'dropped and the path opened again. Measured on local '
                    'disk: about half the CPU time of a write '
                    '(doc/database.md).'),
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
    cfg.IntOpt('reconnect_wait',
               default=30, min=0,
               help='Seconds a service waits, with backoff, for a MariaDB/'
                    'MySQL or PostgreSQL server that refuses new '
                    'connections (restart, failover) before the call that '
                    'needed the connection fails; an API request waits as '
                    'long at most. Within the same time a cinder DB API '
                    'call whose connection broke before it sent any COMMIT '
                    '(rolled back by the server) is repeated, up to 3 '
                    'times; after a COMMIT the error goes to the caller. '
                    'Wrong credentials or an unknown database fail at '
                    'once. 0 turns both off, as in stock cinder. Opening '
                    'connections is not retried for sqlite.'),
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


COMPUTE_GROUP = 'ksvd_compute'

# Read by cinder_ksvd.compute, which cinder uses while [DEFAULT]
# compute_api_class = cinder_ksvd.compute.api.API (cinder-dist.conf).
compute_opts = [
    cfg.StrOpt('outbox_dir',
               help='Directory of the durable outbox: compute events '
                    '(volume extended, re-imaged) are written here, with '
                    'fsync, before cinder\'s call returns, and removed once '
                    'every sink took them. Default: '
                    '<state_path>/ksvd-compute-outbox. Must be local to '
                    'the host or shared only by hosts running the same '
                    'delivery worker.'),
    cfg.ListOpt('sinks',
                default=['log'],
                item_type=types.String(
                    choices=['webhook', 'notifications', 'log']),
                help='Where compute events are delivered, comma separated: '
                     '"webhook" (signed HTTP POST to webhook_url), '
                     '"notifications" (oslo.messaging notifications on '
                     'notification_topic) and "log" (INFO log lines). An '
                     'event stays in the outbox until every listed sink '
                     'took it.'),
    cfg.StrOpt('webhook_url',
               help='http:// or https:// URL of the KSVD management '
                    'centre that receives compute events as JSON POSTs '
                    '(see doc/compute-events.md). Required by the webhook '
                    'sink.'),
    cfg.StrOpt('webhook_secret',
               secret=True,
               help='Shared secret for the X-KSVD-Signature header '
                    '(sha256=<hex HMAC-SHA256 of the body>). Required by '
                    'the webhook sink.'),
    cfg.BoolOpt('webhook_verify',
                default=True,
                help='Verify the TLS certificate of an https webhook_url. '
                     'Switching this off lets anyone on the path read and '
                     'forge the answers; use webhook_ca_file instead.'),
    cfg.StrOpt('webhook_ca_file',
               help='CA bundle (PEM file) to verify the webhook\'s TLS '
                    'certificate with, instead of the system CA bundle.'),
    cfg.FloatOpt('webhook_timeout',
                 default=10.0, min=0.1,
                 help='Seconds to wait for the webhook to connect and, '
                      'separately, to answer; a timeout is a failed '
                      'attempt, retried later.'),
    cfg.StrOpt('notification_topic',
               default='ksvd_compute',
               help='oslo.messaging topic of the "notifications" sink '
                    '(transport and driver come from '
                    '[oslo_messaging_notifications]).'),
    cfg.FloatOpt('retry_interval',
                 default=5.0, min=0.1,
                 help='Seconds between the first failed delivery of an '
                      'event and its next attempt; doubles with each '
                      'further failure up to retry_max_interval.'),
    cfg.FloatOpt('retry_max_interval',
                 default=300.0, min=0.1,
                 help='Longest wait in seconds between two delivery '
                      'attempts of one event. Events are never dropped.'),
    cfg.FloatOpt('delivery_interval',
                 default=5.0, min=0.1,
                 help='Seconds between two scans of the outbox by the '
                      'delivery worker.'),
    cfg.BoolOpt('callback_mode',
                default=False,
                help='How cinder handles operations a hypervisor must '
                     'perform: the swap of an attached volume during a '
                     'migration or retype, and online snapshots of '
                     'attached volumes on remotefs drivers (NFS and '
                     'similar). Off: they are refused and cinder rolls '
                     'them back (the source volume stays as it was). On: '
                     'cinder sends a volume.swap_requested or '
                     'snapshot.create/delete_requested event and waits '
                     'callback_timeout seconds for KSVD to do the host '
                     'side and call cinder back (os-migrate_volume_'
                     'completion, os-update_snapshot_status); then it '
                     'rolls back and sends callback.expired. Turn on only '
                     'when the MC implements these events.'),
    cfg.FloatOpt('callback_timeout',
                 default=300.0, min=1.0, max=3600.0,
                 help='Seconds cinder waits for KSVD\'s callback in '
                      'callback mode before rolling the operation back.'),
    cfg.StrOpt('mc_api_url',
               help='http:// or https:// base URL of the MC\'s query API. '
                    'When set, before deleting an attachment that has an '
                    'instance id cinder asks GET <url>/servers/<server>/'
                    'volumes/<volume> (signed with webhook_secret) and '
                    'refuses (409) while the server still uses that '
                    'attachment, or answers 503 when the MC cannot be '
                    'asked. Unset: such attachments are deleted without '
                    'asking, as KSVD has no other inventory to check.'),
    cfg.FloatOpt('claim_timeout',
                 default=300.0, min=1.0,
                 help='Seconds after which an event taken by a delivery '
                      'worker that stopped (crashed) is queued again. Must '
                      'exceed the longest delivery attempt (see '
                      'webhook_timeout).'),
]


CLUSTER_GROUP = 'ksvd_cluster'

# Read by cinder_ksvd.cluster (the [ksvd] cluster hook).
cluster_opts = [
    cfg.IntOpt('cleanup_interval',
               default=30,
               min=0,
               help='Seconds between two checks, in each clustered '
                    'cinder-volume, for members of its cluster whose '
                    'heartbeat is older than service_down_time and that '
                    'left operations unfinished; their volumes and '
                    'snapshots in creating go to error (with a user '
                    'message), those in deleting are deleted by a survivor. '
                    'Nothing stays in a transitional state longer than '
                    'service_down_time + cleanup_interval after its member '
                    'died. 0 turns the check off (then call the workers '
                    'cleanup API).'),
]


IMAGE_GROUP = 'ksvd_image'

# Read by cinder_ksvd.image (the [ksvd] image hook).
image_opts = [
    cfg.StrOpt('store_dir',
               help='Directory of the image store: one <uuid>.json record '
                    'and one data file per image (see doc/image-store.md). '
                    'Put it on storage every ksvd-cinder host mounts at the '
                    'same path (GlusterFS, NFS) so that API and volume '
                    'services see the same images. Default: '
                    '<state_path>/ksvd-images.'),
    cfg.BoolOpt('url_images',
                default=False,
                help='Accept an http:// or https:// URL as imageRef: the '
                     'URL is registered in the store as a read-only image '
                     '(id derived from the URL) and its bytes are streamed '
                     'from the web server when a volume is created. An '
                     'optional "#sha256=<hex>" or "#md5=<hex>" at the end of '
                     'the URL is verified. Off by default: when on, the API '
                     'and volume services fetch URLs for callers, so '
                     'url_allowed_prefixes and url_roles must be set too '
                     '(the services refuse to start otherwise).'),
    cfg.ListOpt('url_allowed_prefixes',
                default=[],
                help='URL prefixes image URLs must start with, comma '
                     'separated, e.g. https://images.example.com/ksvd/. '
                     'Compared after parsing: same scheme, host and port '
                     'and a path under the prefix path (a prefix path '
                     'without a trailing / is a directory too); every '
                     'redirect target is checked again. URLs with user '
                     'information, dot segments or encoded control '
                     'characters are always refused. Required when '
                     'url_images is on.'),
    cfg.ListOpt('url_roles',
                default=[],
                help='Token roles (admin, member, reader, service) that may '
                     'use a URL as imageRef, comma separated; any one of '
                     'them is enough. Volumes are created from a URL image '
                     'only for these roles too. Required when url_images '
                     'is on.'),
    cfg.ListOpt('url_allowed_networks',
                default=[],
                help='Addresses or networks (CIDR, e.g. 127.0.0.1/32, '
                     'fd00:1::/64) image servers may have although they are '
                     'loopback, unspecified, link-local (cloud metadata), '
                     'multicast or reserved, comma separated. Such addresses '
                     'are refused otherwise, whatever the host name, unless '
                     'a prefix of url_allowed_prefixes names the address '
                     'itself. Every address a host resolves to and the '
                     'address connected to are checked.'),
    cfg.ListOpt('url_allowed_hosts',
                default=[],
                help='Host names or addresses URL images may come from, '
                     'comma separated, checked in addition to '
                     'url_allowed_prefixes; empty: the hosts of the '
                     'prefixes.'),
    cfg.BoolOpt('http_verify',
                default=True,
                help='Verify the TLS certificate of https image URLs. '
                     'Switching this off lets anyone on the path replace '
                     'image data; use http_ca_file instead.'),
    cfg.StrOpt('http_ca_file',
               help='CA bundle (PEM file) to verify https image URLs with, '
                    'instead of the system CA bundle.'),
    cfg.FloatOpt('http_timeout',
                 default=60.0, min=0.1,
                 help='Seconds to wait for an image web server to connect '
                      'and, separately, between two reads of the body.'),
    cfg.IntOpt('http_max_redirects',
               default=5, min=0,
               help='Redirects followed when fetching an image URL. A '
                    'redirect from https to http is always refused.'),
    cfg.BoolOpt('verify_on_read',
                default=False,
                help='Also check the sha256 of a stored image against its '
                     'record every time it is read (the size is always '
                     'checked), so a file damaged on shared storage fails '
                     'the volume instead of filling it with bad data. Costs '
                     'CPU: measured 0.1x the copy rate of dd on a 2-core '
                     'machine without SHA instructions; off, images are '
                     'copied by the kernel (copy_file_range).'),
    cfg.IntOpt('chunk_size',
               default=4 * 1024 * 1024, min=65536,
               help='Bytes read and written per step when images are '
                    'copied.'),
]


COMPAT_GROUP = 'ksvd_compat'

# Read by cinder_ksvd.compat (the [ksvd] compat hook).
compat_opts = [
    cfg.ListOpt('modules',
                default=[],
                help='Python module prefixes of the volume drivers to load '
                     'through the compat shims, comma separated, e.g. '
                     'cinder.volume.drivers.ixsystems. Only these modules '
                     '(and the packages of driver_locations) see the other '
                     'Python\'s module names (urllib2, urlparse, httplib, '
                     'ConfigParser, Queue, StringIO, cPickle on Python 3; '
                     'urllib.parse, urllib.request, urllib.error, '
                     'http.client on Python 2), the builtins unicode, '
                     'basestring, long, xrange and unichr, and cinder.utils.'
                     'retry with either keyword; they are checked for '
                     'Python 2 only code when loaded. Nothing else changes '
                     'for other modules.'),
    cfg.ListOpt('driver_locations',
                default=[],
                help='Out-of-tree drivers served under the package name '
                     'they expect, without copying files into cinder, '
                     'comma separated <package>=<location>: location is a '
                     'directory (absolute path) or the name of an '
                     'installed Python package (pip install), e.g. '
                     'cinder.volume.drivers.ixsystems=/opt/ixsystems-cinder'
                     '/driver/ixsystems. Mapped packages are shimmed as if '
                     'listed in modules. A missing directory or package '
                     'stops the services at start.'),
    cfg.StrOpt('py2_idioms',
               default='refuse',
               choices=[('refuse', 'a listed module with Python 2 only '
                         'code does not load; the error names file and '
                         'line'),
                        ('warn', 'load it anyway and log each finding '
                         'with file and line as a warning')],
               help='What to do when a listed driver module, loaded on '
                    'Python 3, uses Python 2 only idioms that no alias '
                    'covers (dict.iteritems(), it.next(), .has_key(), '
                    'str.encode(\'base64\'), base64.encodestring, ...). '
                    'Python 2 syntax (print statements, "except X, e") is '
                    'always refused: the module cannot compile.'),
    cfg.BoolOpt('release_shims',
                default=True,
                help='Make cinder names that moved between releases 15 and '
                     '29 available under both names when one is missing: '
                     'cinder.volume.utils / cinder.volume.volume_utils, '
                     'cinder.db.sqlalchemy.api / cinder.db.api, trace, '
                     'trace_method, trace_api, brick_get_connector(_'
                     'properties) and require_driver_initialized in '
                     'cinder.utils / cinder.volume.volume_utils, and '
                     'calculate_virtual_free_capacity in cinder.utils / '
                     'cinder.scheduler.sched_utils. Names are only added, '
                     'never replaced.'),
    cfg.BoolOpt('ixsystems_tls_verify',
                default=True,
                help='iXsystems/TrueNAS driver fixup: verify the TLS '
                     'certificate of the appliance (the driver itself '
                     'verifies nothing). Switching this off lets anyone on '
                     'the path read the API key; use ixsystems_ca_file for '
                     'a self-signed certificate instead.'),
    cfg.StrOpt('ixsystems_ca_file',
               help='iXsystems/TrueNAS driver fixup: CA bundle (PEM file) '
                    'to verify the appliance\'s certificate with, instead '
                    'of the system CA bundle.'),
    cfg.IntOpt('ixsystems_max_redirects',
               default=5, min=0,
               help='iXsystems/TrueNAS driver fixup: redirects followed by '
                    'API calls (method and body kept, e.g. when the '
                    'appliance redirects http to https). A redirect from '
                    'https to http is always refused.'),
]


AUTH_GROUP = 'ksvd_auth'

# Read by cinder_ksvd.api.auth, the paste filter of the shipped
# api-paste.ini, and by ksvd-cinder-manage token.
auth_opts = [
    cfg.StrOpt('token_file',
               default='/etc/ksvd-cinder/tokens.json',
               help='JSON file of the API tokens (salted hashes only, '
                    'never the secrets), written by ksvd-cinder-manage '
                    'token create|revoke and re-read by the API whenever '
                    'it changes. Keep it owned by root, group cinder, '
                    'mode 0640. A missing file means no tokens: the API '
                    'starts and refuses every request (401); an '
                    'unreadable, world-writable or malformed file stops '
                    'the API at start.'),
    cfg.BoolOpt('allow_noauth_header',
                default=False,
                help='Also accept the old noauth credential "X-Auth-Token: '
                     'user:project" (no secret; the caller becomes admin '
                     'of that project) besides ksvd tokens. For migrating '
                     'old clients only: anyone who reaches the API port is '
                     'then admin. Logged as a warning at start and on '
                     'every use.'),
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
        (COMPUTE_GROUP, list(compute_opts)),
        (IMAGE_GROUP, list(image_opts)),
        (AUTH_GROUP, list(auth_opts)),
        (COMPAT_GROUP, list(compat_opts)),
        (CLUSTER_GROUP, list(cluster_opts)),
    ]
