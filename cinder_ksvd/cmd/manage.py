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
where the sqlite file lives and whether that placement is safe, ``db
migrate --to URL``, which copies the database into an empty MariaDB one,
and
``token create|list|revoke``, which manage the API tokens of [ksvd_auth]
token_file (the API re-reads the file, no restart), and ``driver check``,
which loads a volume driver through the compat shims and reports what it
needed and whether cinder can use it.
"""

import argparse
import sys
import time

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
                   '--log-dir', '--log-config-append', '--token-file'):
            skip = True
            continue
        if not arg.startswith('-'):
            words.append(arg)
    return words


def _load_conf(config_args, hint='--config-file'):
    """Parse the config files config_args names (or the layering).

    Raises preflight.ConfigProblem with a one-line reason.
    """
    from cinder_ksvd.cmd import preflight
    full = common.config_argv(config_args)
    if full is None:
        raise preflight.ConfigProblem('no configuration found: pass %s'
                                      % hint)
    return preflight.load(full)


def _database(config_args):
    """([database] connection, service_down_time) of config_args.

    Raises preflight.ConfigProblem with a one-line reason, also when the
    connection is not set.
    """
    from oslo_config import cfg

    from cinder_ksvd.cmd import preflight
    conf = _load_conf(config_args)
    conf.register_opt(cfg.IntOpt('service_down_time', default=60))
    if not conf.database.connection:
        raise preflight.ConfigProblem('[database] connection is not set')
    return conf.database.connection, conf.service_down_time


def _database_conf(config_args):
    """(conf, [database] connection), or (None, exit status) after one line.

    The config of db check and db backup: our options registered, a bad
    config or no connection refused the way the services refuse it.
    """
    from cinder_ksvd.cmd import preflight
    from cinder_ksvd import opts

    try:
        conf = _load_conf(config_args)
    except preflight.ConfigProblem as exc:
        return None, common.fail(PROG, str(exc))
    opts.register_opts(conf)
    url = conf.database.connection
    if not url:
        return None, common.fail(PROG, '[database] connection is not set')
    return conf, url


def db_check(argv):
    """Print the sqlite placement report; exit 0 when safe, 1 when not."""
    from cinder_ksvd.db import placement

    conf, url = _database_conf([a for a in argv
                                if a not in ('db', 'check')])
    if conf is None:
        return url
    result = placement.report(url, conf.ksvd_database.journal_mode)
    order = ('database', 'file', 'exists', 'filesystem', 'mount_point',
             'mount_options', 'glusterfs_volume', 'glusterfs_client_mount',
             'glusterfs_client_options', 'glusterfs_client_graph',
             'glusterfs_strict_o_direct', 'journal_mode_of_services',
             'journal_mode',
             'integrity', 'safe')
    for key in order:
        if key in result:
            label = {'journal_mode': 'journal mode (file)',
                     'glusterfs_strict_o_direct':
                     'glusterfs strict-o-direct'}.get(
                key, key.replace('_', ' '))
            print('%-26s %s' % (label + ':', result[key]))
    for problem in result.get('problems', []):
        print('%-26s %s' % ('problem:', problem))
    integrity_ok = result.get('integrity', 'ok') == 'ok'
    others_ok = _report_hosts(result)
    return 0 if result['safe'] and integrity_ok and others_ok else 1


def _report_hosts(result):
    """Record this host's verdict; print every host's. False: one unsafe."""
    from cinder_ksvd.db import placement
    from cinder_ksvd.db import verdicts

    if result.get('filesystem') not in placement.NETWORK_FS:
        return True
    mount = placement.Mount(result.get('mount_source', '?'),
                            result['mount_point'], result['filesystem'], [])
    try:
        verdicts.record(result['file'], mount, result['problems'],
                        'db check')
    except (IOError, OSError) as exc:
        print('%-26s %s' % ('problem:', 'cannot record this host\'s '
                            'verdict next to the file (%s)' % exc))
        return False
    found = verdicts.read_all(result['file'])
    print('%-26s %s' % ('hosts sharing the file:', '%d (verdicts in %s; '
                        'remove a file to forget a host)'
                        % (len(found), verdicts.directory(result['file']))))
    ok = True
    for verdict in found:
        state = 'safe' if verdict['safe'] else 'UNSAFE'
        print('%-26s %s: %s (checked %s by %s)' % (
            'host:', verdict.get('host'), state, verdict.get('checked_at'),
            verdict.get('service')))
        for problem in verdict['problems']:
            print('%-26s %s: %s' % ('host problem:', verdict.get('host'),
                                    problem))
        ok = ok and verdict['safe']
    return ok


def _say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def db_migrate(argv):
    """Copy the configured database into --to URL; exit status."""
    from cinder_ksvd.cmd import preflight
    from cinder_ksvd.db import migrate

    parser = argparse.ArgumentParser(
        prog=PROG + ' db migrate',
        description='Copy the cinder database of [database] connection '
                    '(sqlite) into an empty MariaDB/MySQL database at the '
                    'same schema revision, then verify row counts and '
                    'checksums. Stop every service first.')
    parser.add_argument('--to', required=True, metavar='URL',
                        help='target, e.g. mysql+pymysql://cinder:PASS@'
                             'db-host/cinder?charset=utf8mb4')
    index = argv.index('migrate')
    config = [a for a in argv[:index] if a != 'db']
    args = parser.parse_args(argv[index + 1:])
    try:
        url, down_time = _database(config)
    except preflight.ConfigProblem as exc:
        return common.fail(PROG, str(exc))
    print('source: %s' % migrate.shown(url))
    print('target: %s' % migrate.shown(args.to))
    try:
        result = migrate.migrate(url, args.to, service_down_time=down_time,
                                 report=_say)
    except migrate.MigrateError as exc:
        sys.stderr.write('%s: error: db migrate: %s\n' % (PROG, exc))
        return 1
    print('migrated %d tables, %d rows at revision %s; now set [database] '
          'connection = %s on every node and start the services'
          % (len(result['tables']), result['rows'], result['revision'],
             migrate.shown(args.to)))
    return 0


def cluster_status(argv):
    """Print each cluster's members and the work they hold; exit status."""
    from cinder_ksvd.cluster import status
    from cinder_ksvd.cmd import preflight

    words = ('cluster', 'status')
    try:
        url, down_time = _database([a for a in argv if a not in words])
    except preflight.ConfigProblem as exc:
        return common.fail(PROG, str(exc))
    try:
        clusters, unowned = status.collect(url, down_time)
    except Exception as exc:  # one line, not a traceback
        return common.fail(PROG, 'cluster status: cannot read the '
                           'database: %s' % str(exc).splitlines()[0])
    for line in status.lines(clusters, unowned):
        print(line)
    return 0


def db_sync(argv):
    """cinder-manage db sync, then the WAL checkpointed into the file.

    Right after the sync the whole schema may sit in cinder.sqlite-wal;
    a copy of cinder.sqlite alone would be an empty database.
    """
    result = common.run('manage', argv, check='manage')
    if result:
        return result
    from oslo_config import cfg

    from cinder_ksvd.db import placement
    from cinder_ksvd.db import sqlitefile
    try:
        url = cfg.CONF.database.connection or ''
        busy_timeout = cfg.CONF.ksvd_database.busy_timeout
    except cfg.Error:  # config not parsed (nothing was synced)
        return 0
    path = placement.sqlite_path(url) if url.startswith('sqlite') else None
    if path is None:
        return 0
    try:
        sqlitefile.checkpoint(path, busy_timeout)
    except (sqlitefile.CheckpointIncomplete, sqlitefile.sqlite3.Error) as exc:
        sys.stderr.write(
            '%s: error: db sync: the schema is written, but the WAL '
            'checkpoint of %s failed (%s); copy the file only with db '
            'backup\n' % (PROG, path, str(exc).splitlines()[0]))
        return 1
    return 0


def _backup_parser():
    parser = argparse.ArgumentParser(
        prog=PROG + ' db backup',
        usage='%(prog)s DEST [--force] [--config-file FILE] '
              '[--config-dir DIR]',
        description='Copy the sqlite database of [database] connection to '
                    'DEST consistently, also while services run (sqlite\'s '
                    'online backup API), and check the copy. The way to '
                    'copy or move the file: never cp a live WAL database.')
    parser.add_argument('category', choices=['db'], help=argparse.SUPPRESS)
    parser.add_argument('action', choices=['backup'],
                        help=argparse.SUPPRESS)
    parser.add_argument('dest', metavar='DEST', help='the new file')
    parser.add_argument('--force', action='store_true',
                        help='replace DEST if it exists')
    parser.add_argument('--config-file', action='append', default=[])
    parser.add_argument('--config-dir', action='append', default=[])
    return parser


def db_backup(argv):
    """ksvd-cinder-manage db backup DEST [--force]; exit status."""
    from cinder_ksvd.db import placement
    from cinder_ksvd.db import sqlitefile

    args = _backup_parser().parse_args(argv)
    config = []
    for path in args.config_file:
        config += ['--config-file', path]
    for path in args.config_dir:
        config += ['--config-dir', path]
    conf, url = _database_conf(config)
    if conf is None:
        return url
    path = placement.sqlite_path(url) if url.startswith('sqlite') else None
    if path is None:
        sys.stderr.write('%s: error: db backup: [database] connection is '
                         'not a sqlite file; back a server database up with '
                         'its own tools\n' % PROG)
        return 1
    try:
        result = sqlitefile.backup(path, args.dest, force=args.force,
                                   busy_timeout_ms=conf.ksvd_database.
                                   busy_timeout)
    except sqlitefile.BackupError as exc:
        sys.stderr.write('%s: error: db backup: %s\n' % (PROG, exc))
        return 1
    print('backup of %s: %s, %d bytes, %d tables, %d rows, quick_check %s'
          % (path, result['path'], result['size'], result['tables'],
             result['rows'], result['integrity']))
    return 0


def db_sync_or_backup(argv):
    """db sync (checkpointed afterwards) or db backup; exit status."""
    if _positionals(argv)[:2] == ['db', 'backup']:
        common.quiet_imports()
        return db_backup(argv)
    return db_sync(argv)


class _OperatorContext(object):
    """The request context an image command acts with (no project)."""
    project_id = None
    user_id = None
    is_admin = True
    roles = ['admin']
    # The operator at the console: [ksvd_image] url_roles do not apply
    # (the URL rules of url_allowed_prefixes still do).
    ksvd_operator = True


def _image_parser():
    import argparse
    parser = argparse.ArgumentParser(prog=PROG + ' image')
    sub = parser.add_subparsers(dest='action')
    imp = sub.add_parser('import', help='copy a file into the store, or '
                         'register an http(s) URL')
    imp.add_argument('source', help='a file, or an http(s) URL')
    imp.add_argument('--name', help='image name (default: file name)')
    imp.add_argument('--disk-format', help='raw, qcow2, ... (default: '
                     'qcow2 if the file is qcow2, else raw)')
    imp.add_argument('--container-format', default='bare')
    imp.add_argument('--id', help='image id (UUID); default: a new one')
    imp.add_argument('--visibility', default='public',
                     choices=('public', 'private', 'shared', 'community'))
    imp.add_argument('--property', action='append', default=[],
                     metavar='KEY=VALUE', help='custom property')
    sub.add_parser('list', help='list the images')
    for name in ('show', 'delete'):
        one = sub.add_parser(name, help='%s one image' % name)
        one.add_argument('image_id')
    return parser


def _print_image(image):
    for key in ('id', 'name', 'status', 'disk_format', 'container_format',
                'size', 'virtual_size', 'checksum', 'os_hash_algo',
                'os_hash_value', 'visibility', 'owner', 'created_at',
                'updated_at'):
        print('%-18s %s' % (key + ':', image.get(key)))
    for key, value in sorted((image.get('properties') or {}).items()):
        print('%-18s %s=%s' % ('property:', key, value))


def image_command(argv):
    """ksvd-cinder-manage image import|list|show|delete; exit status."""
    from cinder_ksvd.cmd import preflight

    words = _positionals(argv)
    rest = argv[argv.index('image') + 1:]
    config = [a for a in argv[:argv.index('image')]]
    if words[:1] != ['image']:
        return common.fail(PROG, 'usage: image import|list|show|delete')
    args = _image_parser().parse_args(rest)
    if not args.action:
        return common.fail(PROG, 'image: name an action: import, list, '
                           'show or delete')
    try:
        conf = _load_conf(config)
    except preflight.ConfigProblem as exc:
        return common.fail(PROG, str(exc))
    from cinder import exception
    from cinder_ksvd.image import httpstore
    from cinder_ksvd.image import service
    images = service.ImageService(conf=conf)
    ctx = _OperatorContext()
    try:
        if args.action == 'list':
            print('%-36s  %-8s  %-7s  %12s  %s'
                  % ('id', 'status', 'format', 'size', 'name'))
            for image in images.detail(ctx, sort_dir='asc'):
                print('%-36s  %-8s  %-7s  %12s  %s'
                      % (image['id'], image['status'],
                         image['disk_format'], image['size'], image['name']))
            return 0
        if args.action == 'show':
            _print_image(images.show(ctx, args.image_id))
            return 0
        if args.action == 'delete':
            images.delete(ctx, args.image_id)
            print('deleted %s' % args.image_id)
            return 0
        _print_image(_image_import(images, ctx, args))
        return 0
    except (exception.CinderException, IOError, OSError,
            httpstore.HttpImageError) as exc:
        sys.stderr.write('%s: error: image %s: %s\n' % (
            PROG, args.action, str(exc).strip().splitlines()[0]))
        return 1


def _image_import(images, ctx, args):
    import os

    from cinder_ksvd.image import httpstore
    props = {}
    for item in args.property:
        key, _sep, value = item.partition('=')
        props[key] = value
    if httpstore.is_url(args.source):
        if not images.url_images_on():
            raise httpstore.HttpImageError(
                '[ksvd_image] url_images is off: volumes could not be made '
                'from a URL image; switch it on first')
        image = images.register_url(ctx, args.source)
        changes = dict(properties=props, visibility=args.visibility)
        if args.name:
            changes['name'] = args.name
        return images.update(ctx, image['id'], changes, purge_props=False)
    image_meta = {'name': args.name or os.path.basename(args.source),
                  'container_format': args.container_format,
                  'disk_format': args.disk_format,
                  'visibility': args.visibility, 'properties': props}
    if args.id:
        image_meta['id'] = args.id
    with open(args.source, 'rb') as handle:
        image = images.create(ctx, image_meta)
        try:
            return images.update(ctx, image['id'], {}, handle)
        except BaseException:
            images.delete(ctx, image['id'])
            raise


def _token_parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description='Manage the API tokens in [ksvd_auth] token_file. The '
                    'API re-reads the file when it changes.')
    parser.add_argument('--config-file', action='append', default=[])
    parser.add_argument('--config-dir', action='append', default=[])
    parser.add_argument('--token-file',
                        help='use this file instead of [ksvd_auth] '
                             'token_file')
    parser.add_argument('category', choices=['token'])
    sub = parser.add_subparsers(dest='action')
    create = sub.add_parser('create', help='add a token; prints its secret '
                                           'once')
    create.add_argument('--user', required=True)
    create.add_argument('--project', required=True)
    create.add_argument('--role', action='append', required=True,
                        dest='roles', help='admin, member, reader or '
                        'service (the MC: e.g. --role admin --role '
                        'service); repeat for several')
    when = create.add_mutually_exclusive_group()
    when.add_argument('--expires', help='UTC expiry, YYYY-MM-DDTHH:MM:SSZ')
    when.add_argument('--ttl', help='lifetime: 3600s, 90m, 12h or 30d')
    create.add_argument('--description', default='')
    create.add_argument('--quiet', '-q', action='store_true',
                        help='print only the token')
    sub.add_parser('list', help='show the tokens (never their secrets)')
    revoke = sub.add_parser('revoke', help='remove a token')
    revoke.add_argument('token_id')
    return parser


def _token_file(args):
    if args.token_file:
        return args.token_file
    from cinder_ksvd import opts
    config = []
    for path in args.config_file:
        config += ['--config-file', path]
    for path in args.config_dir:
        config += ['--config-dir', path]
    conf = _load_conf(config, '--config-file or --token-file')
    opts.register_opts(conf)
    return conf[opts.AUTH_GROUP].token_file


def token_command(argv):
    """ksvd-cinder-manage token create|list|revoke; return exit status."""
    from cinder_ksvd.api import tokens
    from cinder_ksvd.cmd import preflight

    args = _token_parser().parse_args(argv)
    if not args.action:
        return common.fail(PROG, 'token: say create, list or revoke')
    try:
        path = _token_file(args)
        if args.action == 'create':
            expires = None
            if args.expires:
                expires = tokens.parse_time(args.expires)
                if expires <= time.time():
                    raise ValueError('--expires %s is in the past'
                                     % args.expires)
            elif args.ttl:
                expires = int(time.time()) + tokens.parse_duration(args.ttl)
            token, secret = tokens.create(path, args.user, args.project,
                                          args.roles, expires=expires,
                                          description=args.description)
            if args.quiet:
                print(secret)
                return 0
            print('token id:    %s' % token.id)
            print('user:        %s' % token.user)
            print('project:     %s' % token.project)
            print('roles:       %s' % ','.join(token.roles))
            print('expires:     %s' % (tokens.format_time(token.expires)
                                       if token.expires else 'never'))
            print('token file:  %s' % path)
            print('token:       %s' % secret)
            print('The secret is shown only now; store it where the client '
                  'reads it.')
            return 0
        if args.action == 'list':
            found = tokens.read(path)
            print('%-16s  %-16s  %-16s  %-24s  %-20s  %-7s  %s' % (
                'id', 'user', 'project', 'roles', 'expires', 'state',
                'description'))
            for token in sorted(found.values(),
                                key=lambda t: (t.project, t.user, t.id)):
                print('%-16s  %-16s  %-16s  %-24s  %-20s  %-7s  %s' % (
                    token.id, token.user, token.project,
                    ','.join(token.roles),
                    tokens.format_time(token.expires)
                    if token.expires else 'never',
                    'expired' if token.expired() else 'active',
                    token.description))
            return 0
        token = tokens.revoke(path, args.token_id)
        if token is None:
            sys.stderr.write('%s: error: no token %s in %s\n'
                             % (PROG, args.token_id, path))
            return 1
        print('revoked token %s (user %s, project %s)'
              % (token.id, token.user, token.project))
        return 0
    except (ValueError, tokens.TokenFileError,
            preflight.ConfigProblem) as exc:
        return common.fail(PROG, str(exc).splitlines()[0])
    except (IOError, OSError) as exc:
        return common.fail(PROG, 'token file: %s' % exc)


def driver_command(argv):
    """ksvd-cinder-manage driver check <volume_driver>; exit status.

    0: the driver loads and satisfies cinder's driver interface; 1: it
    does not (the report says why); 78: bad configuration.
    """
    from cinder_ksvd.cmd import preflight

    words = _positionals(argv)
    if words[:2] != ['driver', 'check'] or len(words) != 3:
        return common.fail(PROG, 'usage: driver check <volume_driver class '
                           'path, e.g. cinder.volume.drivers.lvm.'
                           'LVMVolumeDriver>')
    driver = words[2]
    config = [a for a in argv if a not in words]
    try:
        conf = _load_conf(config)
    except preflight.ConfigProblem as exc:
        return common.fail(PROG, str(exc))
    from cinder_ksvd.compat import check
    from cinder_ksvd import exception
    from cinder_ksvd import opts
    opts.register_opts(conf)
    try:
        result = check.check(conf, driver)
    except exception.StartupRefused as exc:
        return common.fail(PROG, str(exc))
    for line in result.lines():
        print(line)
    return 0 if result.ok else 1


def main():
    """Entry point of the ksvd-cinder-manage console script."""
    argv = sys.argv[1:]
    if not argv or argv[0] in ('-h', '--help'):
        # Let cinder-manage print its own usage, without touching config.
        sys.exit(common.run('manage', argv))
    if _positionals(argv)[:1] == ['token']:
        common.quiet_imports()
        sys.exit(token_command(argv))
    if _positionals(argv)[:2] == ['db', 'check']:
        common.quiet_imports()
        sys.exit(db_check(argv))
    if _positionals(argv)[:1] == ['driver']:
        common.quiet_imports()
        sys.exit(driver_command(argv))
    if _positionals(argv)[:2] == ['db', 'migrate']:
        common.quiet_imports()
        sys.exit(db_migrate(argv))
    if _positionals(argv)[:2] == ['cluster', 'status']:
        common.quiet_imports()
        sys.exit(cluster_status(argv))
    if _positionals(argv)[:1] == ['image']:
        common.quiet_imports()
        sys.exit(image_command(argv))
    if _positionals(argv)[:2] in (['db', 'sync'], ['db', 'backup']):
        sys.exit(db_sync_or_backup(argv))
    sys.exit(common.run('manage', argv, check='manage'))
