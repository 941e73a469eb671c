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

"""volume list/show/create/delete/extend/connection.

Commands that change a volume wait until cinder has finished (available,
deleted, extended) unless --no-wait is given, so a script can use the
volume on the next line; bulk create and delete show a progress bar on
stderr.
"""

import argparse

from cinderclient import exceptions as c_exc

from cinder_ksvd.client import common
from cinder_ksvd.client import progress

LIST_COLUMNS = ('id', 'name', 'status', 'size', 'volume_type', 'attached_to')
DEFAULT_TIMEOUT = 600


def attached_to(volume):
    return ', '.join(a.get('host_name') or a.get('server_id') or '?'
                     for a in getattr(volume, 'attachments', None) or ())


def summary(volume):
    return (volume.id, volume.name, volume.status, volume.size,
            getattr(volume, 'volume_type', None), attached_to(volume))


def details(volume):
    info = dict(volume._info)
    info.pop('links', None)
    return info


def _add_wait_args(parser):
    parser.add_argument('--no-wait', dest='wait', action='store_false',
                        help='return once cinder accepted the request')
    parser.add_argument('--timeout', type=int, default=DEFAULT_TIMEOUT,
                        help='seconds to wait (default %(default)s)')
    parser.add_argument('--poll-interval', type=float, default=1.0,
                        help=argparse.SUPPRESS)


class ListVolume(common.Lister):
    """List volumes."""

    def get_parser(self, prog_name):
        parser = super(ListVolume, self).get_parser(prog_name)
        parser.add_argument('--all-projects', action='store_true',
                            help='volumes of every project (admin)')
        parser.add_argument('--status', help='only volumes in this status')
        parser.add_argument('--name', help='only volumes of this name')
        return parser

    def take_action(self, parsed_args):
        search = {'all_tenants': 1} if parsed_args.all_projects else {}
        if parsed_args.status:
            search['status'] = parsed_args.status
        if parsed_args.name:
            search['name'] = parsed_args.name
        volumes = self.cinder.volumes.list(search_opts=search)
        return LIST_COLUMNS, [summary(v) for v in volumes]


class ShowVolume(common.ShowOne):
    """Show one volume (name or ID)."""

    def get_parser(self, prog_name):
        parser = super(ShowVolume, self).get_parser(prog_name)
        parser.add_argument('volume', metavar='VOLUME', help='name or ID')
        return parser

    def take_action(self, parsed_args):
        volume = common.find_volume(self.cinder, parsed_args.volume)
        return common.show_columns(details(volume))


class CreateVolume(common.Lister):
    """Create one or --count volumes and wait until they are available.

    With --count N and --name NAME the volumes are named NAME-1 .. NAME-N.
    """

    def get_parser(self, prog_name):
        parser = super(CreateVolume, self).get_parser(prog_name)
        parser.add_argument('--size', type=int, required=True,
                            help='size in GiB')
        parser.add_argument('--count', type=int, default=1,
                            help='how many volumes (default 1)')
        parser.add_argument('--name')
        parser.add_argument('--type', help='volume type name or ID')
        parser.add_argument('--description')
        parser.add_argument('--availability-zone')
        parser.add_argument('--property', metavar='KEY=VALUE',
                            action='append', default=[],
                            help='volume metadata (repeatable)')
        _add_wait_args(parser)
        return parser

    @staticmethod
    def names(name, count):
        if count == 1 or not name:
            return [name] * count
        return ['%s-%d' % (name, i) for i in range(1, count + 1)]

    def take_action(self, parsed_args):
        if parsed_args.count < 1 or parsed_args.size < 1:
            raise common.CommandError('--size and --count must be >= 1')
        metadata = common.parse_properties(parsed_args.property)
        vtype = None
        if parsed_args.type:
            vtype = common.find_type(self.cinder, parsed_args.type).name
        names = self.names(parsed_args.name, parsed_args.count)
        bar = progress.Bar(self.app.stderr, len(names), 'created  ')
        created = []
        for name in names:
            created.append(self.cinder.volumes.create(
                parsed_args.size, name=name, volume_type=vtype,
                description=parsed_args.description, metadata=metadata,
                availability_zone=parsed_args.availability_zone))
            bar.update(len(created))
        bar.finish()
        if parsed_args.wait:
            created = self._wait_available(created, parsed_args)
        return LIST_COLUMNS, [summary(v) for v in created]

    def _wait_available(self, volumes, parsed_args):
        bar = progress.Bar(self.app.stderr, len(volumes), 'available')
        done = {}
        pending = [v.id for v in volumes]

        def probe():
            for vol_id in list(pending):
                vol = self.cinder.volumes.get(vol_id)
                if vol.status == 'available' or vol.status in \
                        common.ERROR_STATES:
                    done[vol_id] = vol
                    pending.remove(vol_id)
            failed = sum(1 for v in done.values() if v.status != 'available')
            bar.update(len(done), '(%d failed)' % failed if failed else '')
            return not pending

        try:
            common.wait('%d volume(s) to become available' % len(pending),
                        probe, parsed_args.timeout,
                        parsed_args.poll_interval)
        finally:
            bar.finish()
        failed = [v for v in done.values() if v.status != 'available']
        if failed:
            self.exit_code = 1
            self.app.stderr.write('%d of %d volumes went to error: %s\n' % (
                len(failed), len(volumes), ' '.join(v.id for v in failed)))
        return [done[v.id] for v in volumes]


class DeleteVolume(common.Command):
    """Delete volumes (names or IDs) and wait until they are gone."""

    def get_parser(self, prog_name):
        parser = super(DeleteVolume, self).get_parser(prog_name)
        parser.add_argument('volumes', metavar='VOLUME', nargs='+',
                            help='name or ID')
        parser.add_argument('--cascade', action='store_true',
                            help='delete its snapshots too')
        parser.add_argument('--force', action='store_true',
                            help='delete whatever the state (admin)')
        _add_wait_args(parser)
        return parser

    def take_action(self, parsed_args):
        volumes = [common.find_volume(self.cinder, v)
                   for v in parsed_args.volumes]
        for volume in volumes:
            if parsed_args.force:
                self.cinder.volumes.force_delete(volume)
            else:
                self.cinder.volumes.delete(volume,
                                           cascade=parsed_args.cascade)
        if not parsed_args.wait:
            return
        bar = progress.Bar(self.app.stderr, len(volumes), 'deleted  ')
        pending = [v.id for v in volumes]

        def probe():
            for vol_id in list(pending):
                try:
                    vol = self.cinder.volumes.get(vol_id)
                except c_exc.NotFound:
                    pending.remove(vol_id)
                    continue
                if vol.status in common.ERROR_STATES:
                    raise common.CommandError('volume %s went to %s'
                                              % (vol_id, vol.status))
            bar.update(len(volumes) - len(pending))
            return not pending

        try:
            common.wait('%d volume(s) to be deleted' % len(pending), probe,
                        parsed_args.timeout, parsed_args.poll_interval)
        finally:
            bar.finish()


class ExtendVolume(common.ShowOne):
    """Grow a volume to SIZE GiB and wait until it has that size."""

    def get_parser(self, prog_name):
        parser = super(ExtendVolume, self).get_parser(prog_name)
        parser.add_argument('volume', metavar='VOLUME', help='name or ID')
        parser.add_argument('size', metavar='SIZE', type=int,
                            help='new size in GiB')
        _add_wait_args(parser)
        return parser

    def take_action(self, parsed_args):
        volume = common.find_volume(self.cinder, parsed_args.volume)
        self.cinder.volumes.extend(volume, parsed_args.size)
        if parsed_args.wait:
            def probe():
                vol = self.cinder.volumes.get(volume.id)
                if vol.status in common.ERROR_STATES:
                    raise common.CommandError('volume %s went to %s'
                                              % (vol.id, vol.status))
                done = (vol.size == parsed_args.size and
                        vol.status in ('available', 'in-use'))
                return vol if done else None
            volume = common.wait('volume %s to reach %s GiB'
                                 % (volume.id, parsed_args.size), probe,
                                 parsed_args.timeout,
                                 parsed_args.poll_interval)
        else:
            volume = self.cinder.volumes.get(volume.id)
        return common.show_columns(details(volume))


class VolumeConnection(common.Lister):
    """Connection info of a volume's attachments (what os-brick needs)."""

    COLUMNS = ('attachment_id', 'host', 'instance', 'status', 'attach_mode',
               'driver_volume_type', 'connection_info')

    def get_parser(self, prog_name):
        parser = super(VolumeConnection, self).get_parser(prog_name)
        parser.add_argument('volume', metavar='VOLUME', help='name or ID')
        return parser

    def take_action(self, parsed_args):
        volume = common.find_volume(self.cinder, parsed_args.volume)
        rows = []
        for att in getattr(volume, 'attachments', None) or ():
            full = self.cinder.attachments.show(att['attachment_id'])
            info = full.connection_info or {}
            rows.append((full.id, att.get('host_name'), full.instance,
                         full.status, full.attach_mode,
                         info.get('driver_volume_type'),
                         common.DictColumn(info)))
        return self.COLUMNS, rows
