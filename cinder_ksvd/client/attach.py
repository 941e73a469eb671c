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

"""attach/detach a volume on this host, the way a hypervisor does.

attach: this host's connector (os-brick), an attachment in cinder (which
exports the volume to that connector and returns its connection info),
os-brick connect_volume, then "attachment complete" (volume in-use).
detach: os-brick disconnect_volume, then delete the attachment (cinder
removes the export).  A failed connect deletes the attachment again.

os-brick changes the host (iSCSI sessions, multipath, mounts), so these
commands run as root.  Run as root, os-brick's privileged helper is forked
directly; as another user, commands and the privsep helper go through
--root-helper (stock cinder's rootwrap by default).
"""

import os
import shlex
import socket

from cinder_ksvd.client import common

DEFAULT_ROOT_HELPER = 'sudo cinder-rootwrap /etc/cinder/rootwrap.conf'
# cinder-volume's lock_path on a ksvd-cinder host: os-brick's locks are
# then shared with the volume service's own attachments.
DEFAULT_LOCK_PATH = '/var/lib/cinder/tmp'
ATTACH_COLUMNS = ('volume_id', 'attachment_id', 'host', 'driver_volume_type',
                  'path')
DETACH_COLUMNS = ATTACH_COLUMNS[:-1]


def _start_forked(context, method):
    """Start a privsep CONTEXT as a forked child of this process.

    oslo.privsep's forked daemon calls os._exit() only when its loop
    returns; when the loop raises (seen: a broken pipe while it logs
    "Socket closed" after this process was terminated), the child unwinds
    through a copy of this process's stack and goes on running the
    caller's code as root (e.g. the HTTP server of "events listen"). End
    it here instead.
    """
    parent = os.getpid()
    try:
        context.start(method)
    finally:
        if os.getpid() != parent:
            os._exit(1)


class LocalHost(object):
    """os-brick on this host: connector properties, connect, disconnect."""

    _privsep_ready = False

    def __init__(self, root_helper=DEFAULT_ROOT_HELPER,
                 lock_path=DEFAULT_LOCK_PATH, my_ip=None, host=None,
                 multipath=False, mount_point_base=None):
        self.root_helper = root_helper
        self.lock_path = lock_path
        self.my_ip = my_ip or _guess_ip()
        self.host = host or socket.gethostname()
        self.multipath = multipath
        self.mount_point_base = mount_point_base

    def setup(self):
        """Configure os-brick's locks and privileged helper, once."""
        if LocalHost._privsep_ready:
            return
        import os_brick  # noqa: F401 (registers [os_brick] options)
        from os_brick import privileged
        from oslo_config import cfg
        from oslo_privsep import priv_context
        cfg.CONF.set_override('lock_path', self.lock_path, 'os_brick')
        if os.geteuid() == 0:
            # (brick_privsep_hide_output is new in os-brick 6.)
            for name in ('default', 'brick_privsep_hide_output'):
                context = getattr(privileged, name, None)
                if context is not None and context.channel is None:
                    _start_forked(context, priv_context.Method.FORK)
        else:
            priv_context.init(root_helper=shlex.split(self.root_helper))
        LocalHost._privsep_ready = True

    def connector_properties(self):
        from os_brick.initiator import connector
        self.setup()
        return connector.get_connector_properties(
            self.root_helper, self.my_ip, self.multipath, False,
            host=self.host)

    def _connector(self, connection_info):
        from os_brick.initiator import connector
        self.setup()
        protocol = connection_info['driver_volume_type']
        kwargs = {'conn': connection_info}
        if self.mount_point_base:
            kwargs['%s_mount_point_base' % protocol.lower()] = \
                self.mount_point_base
        return connector.InitiatorConnector.factory(
            protocol, self.root_helper, use_multipath=self.multipath,
            **kwargs)

    def connect(self, connection_info):
        """Make the volume appear here; returns os-brick's device info."""
        brick = self._connector(connection_info)
        return brick.connect_volume(properties(connection_info))

    def disconnect(self, connection_info, device_info=None):
        brick = self._connector(connection_info)
        brick.disconnect_volume(properties(connection_info), device_info)

    def extend(self, connection_info):
        """Rescan an attached volume that grew; returns its size (bytes)."""
        brick = self._connector(connection_info)
        return brick.extend_volume(properties(connection_info))


def properties(connection_info):
    """os-brick's connection properties from cinder's connection info.

    The attachments API returns them flat, beside driver_volume_type;
    os-initialize_connection nests them under 'data'.
    """
    if isinstance(connection_info.get('data'), dict):
        return connection_info['data']
    return connection_info


def _guess_ip():
    """The address other hosts reach this one at (no traffic is sent)."""
    try:
        return socket.gethostbyname(socket.gethostname())
    except (socket.error, UnicodeError):
        return '127.0.0.1'


def add_host_args(parser):
    parser.add_argument('--host', help='this host\'s name in cinder '
                        '(default: the hostname)')
    parser.add_argument(
        '--root-helper', default=os.environ.get('KSVD_CINDER_ROOT_HELPER',
                                                DEFAULT_ROOT_HELPER),
        help='prefix for os-brick\'s root commands when not run as root '
        '(default: env KSVD_CINDER_ROOT_HELPER or "%s")'
        % DEFAULT_ROOT_HELPER)
    parser.add_argument('--lock-path', default=DEFAULT_LOCK_PATH,
                        help='os-brick lock directory, shared with '
                        'cinder-volume (default %(default)s)')
    parser.add_argument('--my-ip', help='this host\'s storage address '
                        '(default: the hostname\'s address)')
    parser.add_argument('--multipath', action='store_true',
                        help='attach through multipath')
    parser.add_argument('--mount-point-base',
                        help='where remote filesystems (NFS, ...) are '
                        'mounted (default: the driver\'s, from the '
                        'connection info)')


def local_host(parsed_args):
    return LocalHost(root_helper=parsed_args.root_helper,
                     lock_path=parsed_args.lock_path,
                     my_ip=parsed_args.my_ip, host=parsed_args.host,
                     multipath=parsed_args.multipath,
                     mount_point_base=parsed_args.mount_point_base)


class Attach(common.ShowOne):
    """Attach a volume to this host; prints the device (or file) path."""

    host_factory = staticmethod(local_host)

    def get_parser(self, prog_name):
        parser = super(Attach, self).get_parser(prog_name)
        parser.add_argument('volume', metavar='VOLUME', help='name or ID')
        parser.add_argument('--instance-id',
                            help='KSVD instance UUID recorded with the '
                            'attachment')
        parser.add_argument('--mode', choices=('rw', 'ro'), default='rw')
        add_host_args(parser)
        return parser

    def take_action(self, parsed_args):
        volume = common.find_volume(self.cinder, parsed_args.volume)
        local = self.host_factory(parsed_args)
        connector = local.connector_properties()
        att = self.cinder.attachments.create(
            volume.id, connector, instance_id=parsed_args.instance_id,
            mode=parsed_args.mode)
        conn_info = att.get('connection_info') or {}
        try:
            if not conn_info.get('driver_volume_type'):
                raise common.CommandError(
                    'cinder returned no connection info for volume %s'
                    % volume.id)
            device = local.connect(conn_info)
        except Exception as exc:
            self.cinder.attachments.delete(att['id'])
            raise common.CommandError('attach of volume %s failed (its '
                                      'attachment was removed): %s'
                                      % (volume.id, common.describe(exc)))
        self.cinder.attachments.complete(att['id'])
        return ATTACH_COLUMNS, (volume.id, att['id'], connector.get('host'),
                                conn_info['driver_volume_type'],
                                device.get('path'))


class Detach(common.ShowOne):
    """Detach a volume from this host and delete its attachment."""

    host_factory = staticmethod(local_host)

    def get_parser(self, prog_name):
        parser = super(Detach, self).get_parser(prog_name)
        parser.add_argument('volume', metavar='VOLUME', help='name or ID')
        parser.add_argument('--attachment', metavar='ATTACHMENT_ID',
                            help='which attachment, when the volume has '
                            'several on this host')
        add_host_args(parser)
        return parser

    def take_action(self, parsed_args):
        volume = common.find_volume(self.cinder, parsed_args.volume)
        local = self.host_factory(parsed_args)
        att_id = self._pick(volume, parsed_args.attachment, local.host)
        att = self.cinder.attachments.show(att_id)
        conn_info = att.connection_info or {}
        if conn_info.get('driver_volume_type'):
            local.disconnect(conn_info)
        self.cinder.attachments.delete(att_id)
        return DETACH_COLUMNS, (volume.id, att_id, local.host,
                                conn_info.get('driver_volume_type'))

    @staticmethod
    def _pick(volume, wanted, host):
        attachments = getattr(volume, 'attachments', None) or ()
        if wanted:
            if wanted not in [a['attachment_id'] for a in attachments]:
                raise common.CommandError('volume %s has no attachment %s'
                                          % (volume.id, wanted))
            return wanted
        here = [a['attachment_id'] for a in attachments
                if a.get('host_name') == host]
        if not here:
            raise common.CommandError('volume %s is not attached to host %s'
                                      % (volume.id, host))
        if len(here) > 1:
            raise common.CommandError(
                'volume %s has %d attachments on host %s: choose one with '
                '--attachment (%s)' % (volume.id, len(here), host,
                                       ', '.join(here)))
        return here[0]
