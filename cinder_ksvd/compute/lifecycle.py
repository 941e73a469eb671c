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

"""Runs the delivery worker inside cinder-volume, from its start to stop.

The volume service is where cinder calls its compute API (extend,
re-image, migration, online snapshots), so events are queued there; its
worker also drains what an earlier run left in the outbox, right at start.
Each process runs one worker (a volume process per backend, or the embedded
ksvd-cinder-all); outbox claims keep several of them from sending an event
twice at once.
"""

import functools
import threading

from oslo_config import cfg
from oslo_log import log as logging

from cinder_ksvd.compute import delivery
from cinder_ksvd.compute import outbox as outbox_mod
from cinder_ksvd.compute import sinks as sinks_mod
from cinder_ksvd import opts

LOG = logging.getLogger(__name__)

VOLUME_BINARY = 'cinder-volume'

_lock = threading.Lock()
_state = {'worker': None, 'users': 0}


def build_worker(conf):
    """A delivery Worker from [ksvd_compute]."""
    group = conf[opts.COMPUTE_GROUP]
    outbox = outbox_mod.Outbox(outbox_mod.path_from_conf(conf),
                               claim_timeout=group.claim_timeout)
    return delivery.Worker(outbox, sinks_mod.from_conf(conf),
                           interval=group.delivery_interval,
                           retry_interval=group.retry_interval,
                           retry_max_interval=group.retry_max_interval)


def uses_our_class(conf):
    """True when [DEFAULT] compute_api_class is this package's API."""
    name = getattr(conf, 'compute_api_class', None) or ''
    return name.startswith('cinder_ksvd.compute')


def service_started(binary, conf=None):
    """Start this process's worker when binary is the volume service."""
    conf = conf or cfg.CONF
    if binary != VOLUME_BINARY:
        return None
    if not (conf[opts.KSVD_GROUP].compute and uses_our_class(conf)):
        return None
    with _lock:
        _state['users'] += 1
        if _state['worker'] is None:
            worker = build_worker(conf)
            pending = len(worker.outbox.pending())
            worker.start()
            _state['worker'] = worker
            LOG.info('Compute event delivery started: outbox %(path)s '
                     '(%(pending)d waiting), sinks %(sinks)s',
                     {'path': worker.outbox.path, 'pending': pending,
                      'sinks': ', '.join(s.name for s in worker.sinks)})
        return _state['worker']


def service_stopped(binary):
    """Stop the worker when the last volume service of the process stops."""
    if binary != VOLUME_BINARY:
        return
    with _lock:
        if _state['worker'] is None:
            return
        _state['users'] = max(0, _state['users'] - 1)
        if _state['users']:
            return
        worker, _state['worker'] = _state['worker'], None
    worker.stop(timeout=10)
    LOG.info('Compute event delivery stopped; undelivered events stay in '
             '%s', worker.outbox.path)


def running_worker():
    return _state['worker']


def wrap_service(service_class):
    """Make service_class.start/stop run the worker for cinder-volume."""
    if getattr(service_class.start, '_ksvd_compute', False):
        return
    original_start = service_class.start
    original_stop = service_class.stop

    @functools.wraps(original_start)
    def start(self, *args, **kwargs):
        if getattr(self, 'binary', None) == VOLUME_BINARY:
            from cinder_ksvd.compute import attached
            try:
                attached.patch_driver(getattr(getattr(
                    self, 'manager', None), 'driver', None))
            except Exception:
                LOG.exception('Could not patch the volume driver for '
                              'attached volumes')
        result = original_start(self, *args, **kwargs)
        try:
            service_started(getattr(self, 'binary', None))
        except Exception:
            LOG.exception('Compute event delivery could not start; events '
                          'stay in the outbox until a volume service '
                          'delivers them')
        return result

    @functools.wraps(original_stop)
    def stop(self, *args, **kwargs):
        try:
            service_stopped(getattr(self, 'binary', None))
        except Exception:
            LOG.exception('Compute event delivery did not stop cleanly')
        return original_stop(self, *args, **kwargs)

    start._ksvd_compute = True
    service_class.start = start
    service_class.stop = stop
