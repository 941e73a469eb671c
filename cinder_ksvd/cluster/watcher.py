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

A member can also die holding requests it has received but not started:
oslo.messaging acknowledges an RPC message to the broker before it
dispatches it, and cinder-volume claims the worker row only when its
manager method starts.  Such a row still names the scheduler (creates)
or nobody (deletes, snapshots); no one will ever carry the request out.
While a member of the cluster is down, the watcher also cleans the rows
of this cluster's volumes and snapshots that no cinder-volume has
claimed since before that member's last heartbeat (+ report_interval):
a live member claims a request within moments of receiving it, and a
request the broker still held was handed to a survivor when the dead
member's connection closed.

So no operation of a dead member stays in a transitional state longer
than service_down_time + cleanup_interval (+ the cleanup itself).
"""

import datetime
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


def down_peers(ctxt, volume_manager):
    """The other services of this manager's cluster that are down."""
    from cinder import objects
    peers = objects.ServiceList.get_all(
        ctxt, {'cluster_name': volume_manager.cluster})
    return [peer for peer in peers
            if peer.id != volume_manager.service_id and not peer.is_up]


def dead_peers(ctxt, down):
    """(peer, worker rows) of the down peers that hold work."""
    from cinder.db import api as db  # cinder.db re-exports it only < 29
    found = []
    for peer in down:
        workers = db.worker_get_all(ctxt, service_id=peer.id)
        if workers:
            found.append((peer, workers))
    return found


def check_peers(volume_manager, conf=None):
    """One round: clean each dead peer's work; never raises."""
    try:
        return _check_peers(volume_manager, conf or cfg.CONF)
    except Exception:  # the loop must survive a DB hiccup
        LOG.exception('Cluster %s: dead-peer check failed; retrying in '
                      'the next round', volume_manager.cluster)
        return 0


def _check_peers(volume_manager, conf):
    from cinder import context
    from cinder import objects
    from oslo_utils import timeutils
    ctxt = context.get_admin_context()
    down = down_peers(ctxt, volume_manager)
    if not down:
        return 0
    cleaned = 0
    for peer, workers in dead_peers(ctxt, down):
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
            _tell_user(ctxt, worker, peer.host)
        cleaned += len(workers)
    return cleaned + _clean_unclaimed(ctxt, volume_manager, down, conf)


def unclaimed_bound(down, report_interval):
    """Latest time a down member can have received a request (naive UTC).

    A member received nothing after its death, which came at most
    report_interval after its last heartbeat.
    """
    from oslo_utils import timeutils
    beats = [timeutils.normalize_time(peer.updated_at or peer.created_at)
             for peer in down if (peer.updated_at or peer.created_at)]
    if not beats:
        return None
    return max(beats) + datetime.timedelta(seconds=report_interval)


def _in_cluster(resource, cluster):
    name = getattr(resource, 'cluster_name', None) or ''
    return name.partition('#')[0] == cluster


def unclaimed_requests(ctxt, volume_manager, down, report_interval):
    """Worker rows of this cluster's resources no cinder-volume claimed.

    Returns (rows, bound): rows last touched before bound whose owner is
    nobody or a service that is not a cinder-volume (the scheduler that
    placed a create), for volumes and snapshots of this cluster.
    """
    from cinder.db import api as db
    from cinder import exception
    from cinder import objects
    bound = unclaimed_bound(down, report_interval)
    if bound is None:
        return [], None
    rows = db.worker_get_all(ctxt, until=bound)
    if not rows:
        return [], bound
    owners = dict((service.id, service)
                  for service in objects.ServiceList.get_all(ctxt))
    kinds = {'Volume': objects.Volume, 'Snapshot': objects.Snapshot}
    found = []
    for row in rows:
        if row.service_id is not None:
            owner = owners.get(row.service_id)
            if owner is None or owner.binary == 'cinder-volume':
                continue  # a volume service's own work, or unknown
        cls = kinds.get(row.resource_type)
        if cls is None:
            continue
        try:
            resource = cls.get_by_id(ctxt, row.resource_id)
        except exception.NotFound:
            continue
        if (resource.status == row.status and
                _in_cluster(resource, volume_manager.cluster)):
            found.append(row)
    return found, bound


def _clean_unclaimed(ctxt, volume_manager, down, conf):
    from cinder import objects
    rows, bound = unclaimed_requests(ctxt, volume_manager, down,
                                     getattr(conf, 'report_interval', 10))
    hosts = ', '.join(sorted(peer.host for peer in down))
    for row in rows:
        LOG.warning('Cluster %(cluster)s: %(kind)s %(id)s (%(status)s) was '
                    'sent to the cluster before %(bound)s and no member '
                    'has started it; a member that is down now received '
                    'it: cleaning it',
                    {'cluster': volume_manager.cluster,
                     'kind': row.resource_type, 'id': row.resource_id,
                     'status': row.status, 'bound': bound})
        # until = bound: a row a live member claims meanwhile (updated
        # now) is left alone; cinder's claim is conditional as well.
        request = objects.CleanupRequest(resource_type=row.resource_type,
                                         resource_id=row.resource_id,
                                         service_id=row.service_id,
                                         until=bound)
        volume_manager.do_cleanup(ctxt, request)
        _tell_user(ctxt, row, hosts)
    return len(rows)


def _tell_user(ctxt, worker, host):
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
                 'host': host})
