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


class _OperatorContext(object):
    """The request context an image command acts with (no project)."""
    project_id = None
    user_id = None
    is_admin = True


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
    full = common.config_argv(config)
    if full is None:
        return common.fail(PROG, 'no configuration found: pass --config-file')
    try:
        conf = preflight.load(full)
    except preflight.ConfigProblem as exc:
        return common.fail(PROG, str(exc))
    from cinder import exception
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
    except (exception.CinderException, IOError, OSError) as exc:
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


def main():
    """Entry point of the ksvd-cinder-manage console script."""
    argv = sys.argv[1:]
    if not argv or argv[0] in ('-h', '--help'):
        # Let cinder-manage print its own usage, without touching config.
        sys.exit(common.run('manage', argv))
    if _positionals(argv)[:2] == ['db', 'check']:
        common.quiet_imports()
        sys.exit(db_check(argv))
    if _positionals(argv)[:1] == ['image']:
        common.quiet_imports()
        sys.exit(image_command(argv))
    sys.exit(common.run('manage', argv, check='manage'))
