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
call returns.  Where cinder waits for a hypervisor to act (swap of an
attached volume on migration, online snapshots of remotefs drivers) the
class raises, so cinder rolls back instead of believing something happened;
or, in callback mode, asks KSVD through an event and waits, within a
timeout, for KSVD to call cinder's own API back.  Every method accepts
extra keyword arguments, for other cinder releases.
"""

import datetime
import time

from cinder import exception
from cinder.i18n import _
from oslo_config import cfg
from oslo_log import log as logging

from cinder_ksvd.compute import delivery
from cinder_ksvd.compute import events
from cinder_ksvd.compute import mc_client
from cinder_ksvd.compute import outbox as outbox_mod
from cinder_ksvd.compute import sinks
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


class CallbackFailed(exception.CinderException):
    """KSVD did not call back in time, or reported a failure."""
    message = _("KSVD did not complete %(operation)s: %(reason)s; cinder "
                "rolls it back.")


class ComputeUnavailable(exception.CinderException):
    """The MC could not answer; cinder keeps the attachment (HTTP 503)."""
    message = _("KSVD's management centre could not say whether server "
                "%(server)s uses volume %(volume)s (%(reason)s); the "
                "attachment is kept.")
    code = 503


class ServerVolume(object):
    """What get_server_volume returns: Nova's volume attachment shape."""

    def __init__(self, server_id, volume_id, attachment_id):
        self.serverId = self.server_id = server_id
        self.volumeId = self.volume_id = volume_id
        self.id = volume_id
        self.attachment_id = attachment_id


class API(object):
    """What cinder may call on its compute API, releases 15 to 29."""

    NotFound = ServerNotFound

    # Seconds between two reads of cinder's database while waiting for
    # KSVD's callback.
    poll_interval = 1.0

    def __init__(self, conf=None):
        self._conf = conf or cfg.CONF

    def _group(self):
        opts.register_opts(self._conf)
        return self._conf[opts.COMPUTE_GROUP]

    def _outbox(self):
        return outbox_mod.Outbox(outbox_mod.path_from_conf(self._conf),
                                 claim_timeout=self._group().claim_timeout)

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

    def _store(self, context, type, server_ids, volume_id, **fields):
        """Store one event durably and wake the delivery worker.

        Returns the event; raises if it could not be written.
        """
        event = events.build(type, volume_id, server_ids,
                             getattr(context, 'request_id', None), **fields)
        name = self._outbox().put(event)
        LOG.info('Compute event %(id)s (%(type)s, volume %(volume)s, '
                 'servers %(servers)s) queued as %(name)s',
                 {'id': event['event_id'], 'type': type, 'volume': volume_id,
                  'servers': ', '.join(event['server_ids']) or '-',
                  'name': name})
        delivery.kick()
        return event

    def _record(self, context, type, server_ids, volume_id, **fields):
        """Store one fire-and-forget event; True once it is on disk."""
        try:
            self._store(context, type, server_ids, volume_id, **fields)
        except Exception:
            LOG.exception('Compute event %(type)s for volume %(volume)s '
                          'could not be stored; KSVD will not hear of it',
                          {'type': type, 'volume': volume_id})
            return False
        return True

    def _request(self, context, operation, type, server_ids, volume_id,
                 probe, **fields):
        """Callback mode: ask KSVD to act, wait until probe says done.

        probe() returns True (KSVD called back: done), False (not yet) or
        a string (KSVD reported a failure).  Raises CallbackFailed on a
        failure or when callback_timeout passes; then a callback.expired
        event tells KSVD to drop the request.
        """
        timeout = self._group().callback_timeout
        deadline = time.time() + timeout
        event = self._store(
            context, type, server_ids, volume_id,
            callback_deadline=events.utc_timestamp(
                datetime.datetime.utcfromtimestamp(deadline)),
            **fields)
        LOG.info('Waiting up to %(timeout).0f s for KSVD to complete '
                 '%(operation)s (event %(id)s)',
                 {'timeout': timeout, 'operation': operation,
                  'id': event['event_id']})
        while True:
            outcome = probe()
            if outcome is True:
                LOG.info('KSVD completed %(operation)s (event %(id)s)',
                         {'operation': operation, 'id': event['event_id']})
                return
            if outcome:
                raise CallbackFailed(operation=operation, reason=outcome)
            if time.time() >= deadline:
                break
            time.sleep(min(self.poll_interval,
                           max(0.0, deadline - time.time())))
        self._record(context, events.CALLBACK_EXPIRED, server_ids, volume_id,
                     expired_event_id=event['event_id'])
        raise CallbackFailed(
            operation=operation,
            reason='no callback within %.0f s (callback_timeout)' % timeout)

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
        """Swap of an attached volume on migration.

        Without callback mode: refused, so cinder deletes the new volume
        and marks the migration failed, leaving the source as it was.  In
        callback mode KSVD switches the server to new_volume_id and calls
        os-migrate_volume_completion; this waits for that.
        """
        operation = ('the swap of attached volume %s to %s on server %s'
                     % (src_volid, new_volume_id, server_id))
        if not self._group().callback_mode:
            raise OperationNotSupported(operation=operation)

        def probe():
            status = _volume_field(context, src_volid, 'migration_status')
            if status in ('completing', 'success'):
                return True
            if status == 'error':
                return 'migration completion reported an error'
            return False

        # cinder copies nothing for an attached volume: the MC must copy
        # the data and say so on the new volume (see events.COPY_PROOF_KEY).
        self._request(context, operation, events.SWAP_REQUESTED,
                      [server_id], src_volid, probe,
                      new_volume_id=str(new_volume_id),
                      copy_proof={'metadata_key': events.COPY_PROOF_KEY,
                                  'value': str(src_volid)})

    def create_volume_snapshot(self, context, volume_id, create_info,
                               **kwargs):
        """Online snapshot of a remotefs volume (qcow2 overlay switch).

        Without callback mode: refused, the snapshot goes to error.  In
        callback mode KSVD makes the server write to create_info's new
        file and calls os-update_snapshot_status with progress 90%.
        """
        snapshot_id = create_info.get('snapshot_id')
        operation = 'the online snapshot %s of attached volume %s' % (
            snapshot_id, volume_id)
        if not self._group().callback_mode:
            raise OperationNotSupported(operation=operation)

        def probe():
            snap = _snapshot(context, snapshot_id)
            if snap.status == 'error':
                return 'snapshot status set to error'
            return snap.status == 'creating' and snap.progress == '90%'

        self._request(context, operation, events.SNAPSHOT_CREATE_REQUESTED,
                      (), volume_id, probe, snapshot_id=str(snapshot_id),
                      host_action=_plain(create_info))

    def delete_volume_snapshot(self, context, snapshot_id, delete_info,
                               **kwargs):
        """Online deletion (block commit) of a remotefs snapshot.

        Without callback mode: refused, the snapshot goes to
        error_deleting.  In callback mode KSVD merges the files as
        delete_info says and calls os-update_snapshot_status (deleting,
        90%).
        """
        operation = 'the online deletion of snapshot %s' % snapshot_id
        if not self._group().callback_mode:
            raise OperationNotSupported(operation=operation)

        def probe():
            snap = _snapshot(context, snapshot_id)
            if snap.status == 'error_deleting':
                return 'snapshot status set to error_deleting'
            return snap.status == 'deleting' and snap.progress == '90%'

        volume_id = delete_info.get('volume_id') or _snapshot(
            context, snapshot_id).volume_id
        self._request(context, operation, events.SNAPSHOT_DELETE_REQUESTED,
                      (), volume_id, probe, snapshot_id=str(snapshot_id),
                      host_action=_plain(delete_info))

    def get_server(self, context, server_id, privileged_user=False,
                   timeout=None, **kwargs):
        """No server inventory: every server is unknown."""
        raise self.NotFound(uuid=server_id)

    def get_server_volume(self, context, server_id, volume_id, **kwargs):
        """Does server_id use volume_id, and through which attachment?

        cinder asks before deleting an attachment that has an instance id
        (it refuses with 409 when the server still uses that attachment).
        Without [ksvd_compute] mc_api_url nobody can answer: NotFound, so
        the delete proceeds.  With it, the MC answers; when it cannot, the
        attachment is kept (503) rather than deleted under a running server.
        """
        url = self._group().mc_api_url
        if not url:
            raise self.NotFound(uuid=server_id)
        group = self._group()
        try:
            attachment_id = mc_client.server_volume_attachment(
                url, group.webhook_secret, server_id, volume_id,
                verify=sinks.verify_from_group(group),
                timeout=group.webhook_timeout)
        except mc_client.NotFound:
            raise self.NotFound(uuid=server_id)
        except mc_client.Unavailable as exc:
            LOG.error('Asking the MC whether server %(server)s uses volume '
                      '%(volume)s failed: %(error)s',
                      {'server': server_id, 'volume': volume_id,
                       'error': exc})
            raise ComputeUnavailable(server=server_id, volume=volume_id,
                                     reason=exc)
        return ServerVolume(server_id, volume_id, attachment_id)

    def has_extension(self, context, extension, timeout=None, **kwargs):
        """cinder 15/16's InstanceLocalityFilter asks; no extensions."""
        return False


def _admin(context):
    elevated = getattr(context, 'elevated', None)
    return elevated() if elevated else context


def _volume_field(context, volume_id, field):
    from cinder import objects
    return getattr(objects.Volume.get_by_id(_admin(context), volume_id),
                   field)


def _snapshot(context, snapshot_id):
    from cinder import objects
    return objects.Snapshot.get_by_id(_admin(context), snapshot_id)


def _plain(info):
    """A JSON-safe copy of the driver's create/delete info."""
    return dict((str(key), value if value is None or isinstance(
        value, (bool, int, float)) else str(value))
        for key, value in (info or {}).items())
