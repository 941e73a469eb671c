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

"""cinder's compute API without Nova: [DEFAULT] compute_api_class target.

cinder instantiates the class per call with no arguments.  Notifications
Nova would get (extend, re-image) become events in the outbox before the
call returns; operations where cinder waits for a hypervisor to act (swap
of an attached volume on migration, online snapshots of remotefs drivers)
raise, so cinder rolls them back instead of believing something happened.
Every method accepts extra keyword arguments, for other cinder releases.
"""

from cinder import exception
from cinder.i18n import _
from oslo_config import cfg
from oslo_log import log as logging

from cinder_ksvd.compute import events
from cinder_ksvd.compute import outbox as outbox_mod
from cinder_ksvd import opts

LOG = logging.getLogger(__name__)


class ServerNotFound(exception.ServerNotFound):
    """API.NotFound: cinder catches it as 'nova.NotFound'.

    Also a cinder ServerNotFound, which get_server's callers expect.
    """
    message = _("Instance %(uuid)s is not known to KSVD's compute API.")


class OperationNotSupported(exception.NotSupportedOperation):
    """A hypervisor-side operation KSVD does not perform (HTTP 405)."""
    message = _("KSVD does not perform %(operation)s without a callback "
                "mode; the operation was refused so cinder can roll it "
                "back.")


class API(object):
    """What cinder may call on its compute API, releases 15 to 29."""

    NotFound = ServerNotFound

    def __init__(self, conf=None):
        self._conf = conf or cfg.CONF

    def _outbox(self):
        opts.register_opts(self._conf)
        group = self._conf.ksvd_compute
        return outbox_mod.Outbox(outbox_mod.path_from_conf(self._conf),
                                 claim_timeout=group.claim_timeout)

    @staticmethod
    def _volume_size(context, volume_id):
        """Size in GiB of the volume from cinder's database, or None."""
        try:
            from cinder import objects
            return int(objects.Volume.get_by_id(context, volume_id).size)
        except Exception as exc:
            LOG.warning('Size of volume %(id)s unknown for its extend '
                        'event: %(error)s', {'id': volume_id, 'error': exc})
            return None

    def _record(self, context, type, server_ids, volume_id, **fields):
        """Store one event durably; True once it is on disk."""
        try:
            event = events.build(type, volume_id, server_ids,
                                 getattr(context, 'request_id', None),
                                 **fields)
            name = self._outbox().put(event)
        except Exception:
            LOG.exception('Compute event %(type)s for volume %(volume)s '
                          'could not be stored; KSVD will not hear of it',
                          {'type': type, 'volume': volume_id})
            return False
        LOG.info('Compute event %(id)s (%(type)s, volume %(volume)s, '
                 'servers %(servers)s) queued as %(name)s',
                 {'id': event['event_id'], 'type': type, 'volume': volume_id,
                  'servers': ', '.join(event['server_ids']) or '-',
                  'name': name})
        return True

    def extend_volume(self, context, server_ids, volume_id, **kwargs):
        """Queue volume.extended; cinder ignores the result (like Nova's)."""
        return self._record(context, events.VOLUME_EXTENDED, server_ids,
                            volume_id,
                            new_size=self._volume_size(context, volume_id))

    def reimage_volume(self, context, server_ids, volume_id, **kwargs):
        """Queue volume.reimaged; cinder ignores the result."""
        return self._record(context, events.VOLUME_REIMAGED, server_ids,
                            volume_id)

    def update_server_volume(self, context, server_id, src_volid,
                             new_volume_id, **kwargs):
        """Refuse the swap: cinder cleans the new volume and re-raises."""
        raise OperationNotSupported(
            operation='the swap of attached volume %s to %s on server %s'
                      % (src_volid, new_volume_id, server_id))

    def create_volume_snapshot(self, context, volume_id, create_info,
                               **kwargs):
        """Refuse the online snapshot: the snapshot goes to error."""
        raise OperationNotSupported(
            operation='the online snapshot of attached volume %s'
                      % volume_id)

    def delete_volume_snapshot(self, context, snapshot_id, delete_info,
                               **kwargs):
        """Refuse the online snapshot delete: it goes to error_deleting."""
        raise OperationNotSupported(
            operation='the online deletion of snapshot %s' % snapshot_id)

    def get_server(self, context, server_id, privileged_user=False,
                   timeout=None, **kwargs):
        """No server inventory: every server is unknown."""
        raise self.NotFound(uuid=server_id)

    def get_server_volume(self, context, server_id, volume_id, **kwargs):
        """NotFound, so cinder lets a detach or attachment delete proceed."""
        raise self.NotFound(uuid=server_id)

    def has_extension(self, context, extension, timeout=None, **kwargs):
        """cinder 15/16's InstanceLocalityFilter asks; no extensions."""
        return False
