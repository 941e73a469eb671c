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

"""What a backend cannot do to an attached volume: refuse it cleanly.

Two gaps of stock cinder on its NFS driver (and the remotefs family):

- cinder's NfsDriver refuses to extend an attached volume, but its stats
  never say so (``online_extend_support``), so the API accepts the request
  and the volume ends in ``error_extending``.  The driver now reports
  ``online_extend_support: False``; the scheduler's capabilities filter
  then refuses such an extend (the volume stays ``in-use``), and the API
  asks the scheduler for the volume's pool first and answers 400 with the
  supported path (detach, extend, attach) before anything changes.
- An online snapshot of an attached remotefs volume creates its qcow2
  overlay before asking the compute API, which refuses without callback
  mode (cinder_ksvd.compute.api): the snapshot goes to ``error`` and the
  overlay stays on the share for good.  When the online step fails, the
  overlay it created (not referenced by the volume's info file) is removed.
"""

import functools
import inspect
import json
import os

from oslo_log import log as logging

LOG = logging.getLogger(__name__)

MARK = '_ksvd_attached_hook'
CAPABILITY = 'online_extend_support'


def _refuses_attached_extend(cls):
    """Whether cls.extend_volume refuses attached volumes (NfsDriver's)."""
    try:
        source = inspect.getsource(cls.extend_volume)
    except (IOError, OSError, TypeError):
        return False
    return '_is_volume_attached' in source


def _wrap_stats(cls):
    original = cls._update_volume_stats
    if getattr(original, MARK, False):
        return

    @functools.wraps(original)
    def _update_volume_stats(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        stats = getattr(self, '_stats', None)
        if isinstance(stats, dict) and _refuses_attached_extend(type(self)):
            stats.setdefault(CAPABILITY, False)
            for pool in stats.get('pools') or ():
                if isinstance(pool, dict):
                    pool.setdefault(CAPABILITY, False)
        return result
    setattr(_update_volume_stats, MARK, True)
    cls._update_volume_stats = _update_volume_stats


def _referenced(info_path, name):
    try:
        with open(info_path) as handle:
            info = json.load(handle)
    except (IOError, OSError, ValueError):
        return False
    return name in (info.values() if isinstance(info, dict) else ())


def _wrap_online_snapshot(cls):
    original = cls._create_snapshot_online
    if getattr(original, MARK, False):
        return

    @functools.wraps(original)
    def _create_snapshot_online(self, snapshot, backing_filename,
                                new_snap_path, *args, **kwargs):
        try:
            return original(self, snapshot, backing_filename, new_snap_path,
                            *args, **kwargs)
        except Exception:
            _remove_overlay(self, snapshot, new_snap_path)
            raise
    setattr(_create_snapshot_online, MARK, True)
    cls._create_snapshot_online = _create_snapshot_online


def _remove_overlay(driver, snapshot, path):
    """Delete the overlay a failed online snapshot left, if unused."""
    try:
        if not path or not os.path.exists(path):
            return
        info_path = driver._local_path_volume_info(snapshot.volume)
        if _referenced(info_path, os.path.basename(path)):
            return
        driver._delete(path)
        LOG.info('Online snapshot %(snap)s of volume %(vol)s failed: '
                 'removed the overlay %(path)s it had created',
                 {'snap': snapshot.id, 'vol': snapshot.volume_id,
                  'path': path})
    except Exception:
        LOG.exception('Online snapshot %(snap)s failed and its overlay '
                      '%(path)s could not be removed',
                      {'snap': getattr(snapshot, 'id', None), 'path': path})


def _pool_capability(api, context, host):
    """The volume's pool's online_extend_support, None if unknown."""
    try:
        pools = api.scheduler_rpcapi.get_pools(context.elevated(),
                                               filters={'name': host})
    except Exception as exc:  # the scheduler's filter still guards
        LOG.warning('Could not ask the scheduler about pool %(host)s: '
                    '%(error)s', {'host': host, 'error': exc})
        return None
    for pool in pools or ():
        if pool.get('name') == host:
            return (pool.get('capabilities') or {}).get(CAPABILITY)
    return None


def _authorized(context, volume):
    """cinder's policy for extending attached volumes (raises if not)."""
    try:
        from cinder.policies import volume_actions
    except ImportError:
        return True
    rule = getattr(volume_actions, 'EXTEND_ATTACHED_POLICY', None)
    if rule is not None:
        context.authorize(rule, target_obj=volume)
    return True


def _wrap_extend_attached(api_cls):
    original = api_cls.extend_attached_volume
    if getattr(original, MARK, False):
        return

    @functools.wraps(original)
    def extend_attached_volume(self, context, volume, new_size, *args,
                               **kwargs):
        host = getattr(volume, 'host', None)
        if (host and getattr(volume, 'status', None) == 'in-use'
                and _authorized(context, volume)
                and _pool_capability(self, context, host) is False):
            from cinder import exception
            raise exception.InvalidVolume(reason=(
                'volume %s is attached and its backend (%s) cannot extend '
                'attached volumes: detach it (ksvd-cinder detach), extend '
                'it, then attach it again' % (volume.id, host)))
        return original(self, context, volume, new_size, *args, **kwargs)
    setattr(extend_attached_volume, MARK, True)
    api_cls.extend_attached_volume = extend_attached_volume


def patch_driver(driver):
    """Patch the classes of a loaded volume driver (cinder-volume start)."""
    import sys
    nfs = sys.modules.get('cinder.volume.drivers.nfs')
    remotefs = sys.modules.get('cinder.volume.drivers.remotefs')
    mro = inspect.getmro(type(driver)) if driver is not None else ()
    nfs_class = getattr(nfs, 'NfsDriver', None)
    if nfs_class is not None and nfs_class in mro:
        _wrap_stats(nfs_class)
    base = getattr(remotefs, 'RemoteFSSnapDriverBase', None)
    if (base is not None and base in mro
            and hasattr(base, '_create_snapshot_online')):
        _wrap_online_snapshot(base)


def _copy_reported(volume, new_volume):
    """Whether the MC put the copy proof on new_volume (metadata)."""
    from cinder_ksvd.compute import events
    metadata = getattr(new_volume, 'metadata', None) or {}
    return metadata.get(events.COPY_PROOF_KEY) == volume.id


def _wrap_completion(api_cls):
    """Refuse a migration completion of an attached volume without proof.

    For an attached volume cinder copies no data: the hypervisor (Nova;
    here the MC in callback mode) must, and then calls
    os-migrate_volume_completion.  A completion that only reports success
    would make the new, empty volume the server's disk.
    """
    original = api_cls.migrate_volume_completion
    if getattr(original, MARK, False):
        return

    @functools.wraps(original)
    def migrate_volume_completion(self, context, volume, new_volume, error,
                                  *args, **kwargs):
        from cinder_ksvd.compute import events
        if (not error and getattr(volume, 'migration_status', None)
                and getattr(volume, 'volume_attachment', None)
                and not _copy_reported(volume, new_volume)):
            from cinder import exception
            raise exception.InvalidVolume(reason=(
                'volume %(old)s is attached: cinder copied none of its data '
                'to %(new)s. Copy it, then set metadata %(key)s=%(old)s on '
                '%(new)s, then complete the migration (or complete it with '
                'error=true)' % {'old': volume.id, 'new': new_volume.id,
                                 'key': events.COPY_PROOF_KEY}))
        return original(self, context, volume, new_volume, error, *args,
                        **kwargs)
    setattr(migrate_volume_completion, MARK, True)
    api_cls.migrate_volume_completion = migrate_volume_completion


def patch_api():
    """Patch cinder.volume.api (it imports only once objects exist)."""
    from cinder.volume import api
    if hasattr(api.API, 'extend_attached_volume'):
        _wrap_extend_attached(api.API)
    if hasattr(api.API, 'migrate_volume_completion'):
        _wrap_completion(api.API)


def install():
    """Patch the volume API right after cinder registers its objects.

    cinder.volume.api cannot be imported before objects.register_all(),
    which every cinder command calls first in its main().
    """
    from cinder import objects
    original = objects.register_all
    if getattr(original, MARK, False):
        return

    @functools.wraps(original)
    def register_all(*args, **kwargs):
        result = original(*args, **kwargs)
        try:
            patch_api()
        except Exception:
            LOG.exception('Could not patch cinder.volume.api: an attached '
                          'volume whose backend cannot extend it is not '
                          'refused at the API (the scheduler still refuses '
                          'it)')
        return result
    setattr(register_all, MARK, True)
    objects.register_all = register_all
