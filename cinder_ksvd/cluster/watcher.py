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
"""Clean the unfinished work of a dead peer of this cinder-volume's cluster.

cinder records each cleanable operation (volume create/delete, snapshot
create/delete, ...) in the workers table with the service that runs it;
a service that restarts cleans its own rows, but the rows of a member
that never comes back stay until someone asks for a cleanup (the workers
cleanup API in stock cinder).  With [ksvd] cluster on, every clustered
cinder-volume checks every [ksvd_cluster] cleanup_interval seconds for
members of its cluster whose heartbeat is older than service_down_time
and still hold worker rows, and runs cinder's own do_cleanup for them:
"creating" becomes "error" (with a user message saying why), "deleting"
is deleted again by the survivor.  Several survivors may run it at once:
cinder claims each row for one cleaner.

So no operation of a dead member stays in a transitional state longer
than service_down_time + cleanup_interval (+ the cleanup itself).
"""

import functools

from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

_state = {'enabled': True, 'stock': None}


def enable():
    _state['enabled'] = True


def disable():
    _state['enabled'] = False


def install():
    """Start the watcher once a cinder-volume service has started.

    Wraps cinder.service.Service.start (imported by every cinder.cmd
    module; cinder.volume.manager cannot be imported this early).
    """
    from cinder import service
    if _state['stock'] is not None:
        return
    stock = service.Service.start
    _state['stock'] = stock

    @functools.wraps(stock)
    def start_service(self, *args, **kwargs):
        result = stock(self, *args, **kwargs)
        if getattr(self, 'binary', None) == 'cinder-volume':
            start(self.manager)
        return result

    service.Service.start = start_service


def start(volume_manager, conf=None):
    """Start the periodic check for this manager; return the timer or None."""
    if not hasattr(volume_manager, 'do_cleanup'):
        return None
    conf = conf or cfg.CONF
    if not _state['enabled'] or not getattr(volume_manager, 'cluster', None):
        return None
    interval = conf.ksvd_cluster.cleanup_interval
    if interval <= 0:
        LOG.info('Cluster %s: dead-peer cleanup is off ([ksvd_cluster] '
                 'cleanup_interval = 0); call the workers cleanup API '
                 'when a member dies', volume_manager.cluster)
        return None
    from oslo_service import loopingcall
    timer = loopingcall.FixedIntervalLoopingCall(check_peers,
                                                 volume_manager, conf)
    timer.start(interval=interval, initial_delay=interval)
    LOG.info('Cluster %(cluster)s: cleaning the work of members whose '
             'heartbeat is older than %(down)ss, checked every %(every)ss',
             {'cluster': volume_manager.cluster,
              'down': conf.service_down_time, 'every': interval})
    volume_manager._ksvd_cluster_watcher = timer
    return timer


def dead_peers(ctxt, volume_manager):
    """Services of this manager's cluster that are down and hold work."""
    from cinder.db import api as db  # cinder.db re-exports it only < 29
    from cinder import objects
    peers = objects.ServiceList.get_all(
        ctxt, {'cluster_name': volume_manager.cluster})
    found = []
    for peer in peers:
        if peer.id == volume_manager.service_id or peer.is_up:
            continue
        workers = db.worker_get_all(ctxt, service_id=peer.id)
        if workers:
            found.append((peer, workers))
    return found


def check_peers(volume_manager, conf=None):
    """One round: clean each dead peer's work; never raises."""
    try:
        return _check_peers(volume_manager)
    except Exception:  # the loop must survive a DB hiccup
        LOG.exception('Cluster %s: dead-peer check failed; retrying in '
                      'the next round', volume_manager.cluster)
        return 0


def _check_peers(volume_manager):
    from cinder import context
    from cinder import objects
    from oslo_utils import timeutils
    ctxt = context.get_admin_context()
    cleaned = 0
    for peer, workers in dead_peers(ctxt, volume_manager):
        LOG.warning('Cluster %(cluster)s: member %(host)s (service '
                    '%(id)s) is down since %(since)s and left %(n)d '
                    'unfinished operations; cleaning them',
                    {'cluster': volume_manager.cluster, 'host': peer.host,
                     'id': peer.id, 'since': peer.updated_at,
                     'n': len(workers)})
        request = objects.CleanupRequest(service_id=peer.id,
                                         until=timeutils.utcnow())
        volume_manager.do_cleanup(ctxt, request)
        for worker in workers:
            _tell_user(ctxt, worker, peer)
        cleaned += len(workers)
    return cleaned


def _tell_user(ctxt, worker, peer):
    """A user message for a resource the cleanup put in error."""
    from cinder import exception
    from cinder.message import api as message_api
    from cinder.message import message_field
    from cinder import objects
    kinds = {'Volume': (objects.Volume, message_field.Resource.VOLUME,
                        message_field.Action.CREATE_VOLUME_FROM_BACKEND),
             'Snapshot': (objects.Snapshot,
                          message_field.Resource.VOLUME_SNAPSHOT,
                          message_field.Action.SNAPSHOT_CREATE)}
    kind = kinds.get(worker.resource_type)
    if kind is None or worker.status not in ('creating', 'downloading'):
        return
    cls, resource, action = kind
    try:
        obj = cls.get_by_id(ctxt, worker.resource_id)
    except exception.NotFound:
        return
    if obj.status != 'error':
        return
    ctxt = ctxt.elevated()
    ctxt.project_id = obj.project_id
    message_api.API().create(
        ctxt, action, resource_type=resource, resource_uuid=obj.id,
        detail=message_field.Detail.UNKNOWN_ERROR)
    LOG.warning('%(kind)s %(id)s: set to error by the cleanup of dead '
                'member %(host)s; a user message says so',
                {'kind': worker.resource_type, 'id': obj.id,
                 'host': peer.host})
