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

"""An attached volume on cinder's NFS driver: refusals leave nothing behind.

Real API, scheduler and volume processes on cinder's NFS driver over a bind
mount (test_image.NfsDeployment): the volumes are files, so what is left on
the share is seen directly.  Stock cinder puts an attached NFS volume into
error_extending when asked to extend it, and leaves the qcow2 overlay of a
refused online snapshot on the share for good.
"""

import os
import uuid

from tests.functional import base
from tests.functional import services
from tests.functional import test_image

GiB = 1024 ** 3
CONNECTOR = {'initiator': 'iqn.2026-12.ksvd:compute', 'ip': '127.0.0.1',
             'host': 'ksvd-host-1', 'platform': 'x86_64', 'os_type': 'linux',
             'multipath': False}


def _command_lines():
    """argv of every process on the machine (from /proc)."""
    lines = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as handle:
                raw = handle.read()
        except OSError:
            continue
        lines.append([part.decode('utf-8', 'replace')
                      for part in raw.split(b'\0') if part])
    return lines


class AttachedNfsVolumeTest(test_image.NfsDeployment,
                            base.FunctionalTestCase):

    def _files(self):
        return sorted(n for n in os.listdir(self.share_dir)
                      if n.startswith('volume-'))

    def _assert_documented_privsep(self):
        helper = os.path.join(services.BIN_DIR, 'privsep-helper')
        wanted = ['--config-file', services.DIST_CONF, '--config-file',
                  os.path.join(self.workdir, 'cinder.conf')]
        # (Other tests' services may run helpers too: ours has our conf.)
        found = [c for c in _command_lines()
                 if helper in c[:2] and wanted[-1] in c]
        self.assertTrue(found, 'no %s process for %s' % (helper, wanted[-1]))
        for argv in found:
            start = argv.index(helper) + 1
            self.assertEqual(wanted, argv[start:start + 4])

    def test_extend_and_snapshot_of_attached_volume_refused_cleanly(self):
        from cinderclient import exceptions
        cinder = self._deploy()
        # The driver says what it cannot do; the scheduler hears it.
        pools = cinder.pools.list(detailed=True)
        self.assertEqual([False], [getattr(p, 'online_extend_support', None)
                                   for p in pools])

        vol = cinder.volumes.create(1, name='attached-nfs',
                                    volume_type=self.vtype)
        vol = self.wait_status(cinder.volumes, vol.id, 'available', 120)
        path = os.path.join(self.share_dir, 'volume-%s' % vol.id)
        self.assertEqual(GiB, os.path.getsize(path))
        att = cinder.attachments.create(vol.id, CONNECTOR,
                                        instance_id=str(uuid.uuid4()),
                                        mode='rw')
        self.assertEqual('nfs', att['connection_info']['driver_volume_type'])
        cinder.attachments.complete(att['id'])
        self.wait_status(cinder.volumes, vol.id, 'in-use')
        # The attachment ran qemu-img info through cinder's privsep daemon,
        # started as doc/install.md says (no sudo, the venv's helper).

        # 1. Extend while attached: a 400 that says what to do; nothing
        # changes (stock: 202, then error_extending).
        exc = self.assertRaises(exceptions.BadRequest, cinder.volumes.extend,
                                vol.id, 2)
        self.assertIn('volume %s is attached and its backend' % vol.id,
                      str(exc))
        self.assertIn('cannot extend attached volumes: detach it '
                      '(ksvd-cinder detach), extend it, then attach it '
                      'again', str(exc))
        after = cinder.volumes.get(vol.id)
        self.assertEqual(('in-use', 1), (after.status, after.size))
        self.assertEqual(GiB, os.path.getsize(path))

        # 2. Online snapshot (no callback mode): refused, the snapshot goes
        # to error, and the qcow2 overlay it made is gone from the share.
        snap = cinder.volume_snapshots.create(vol.id, force=True,
                                              name='online')
        self.wait_for('snapshot in error', lambda: cinder.volume_snapshots
                      .get(snap.id).status == 'error', 120)
        self.volume.wait_for_log(r'removed the overlay .*volume-%s\.%s'
                                 % (vol.id, snap.id))
        self.assertEqual(['volume-%s' % vol.id], self._files())
        # The snapshot ran qemu-img info through cinder's privsep daemon,
        # started as doc/install.md says (no sudo, the venv's helper).
        self._assert_documented_privsep()
        cinder.volume_snapshots.delete(snap.id)
        self.wait_gone(cinder.volume_snapshots, snap.id)
        self.assertEqual(['volume-%s' % vol.id], self._files())
        self.assertEqual('in-use', cinder.volumes.get(vol.id).status)

        # The supported path: detach, extend, attach again.
        cinder.attachments.delete(att['id'])
        self.wait_status(cinder.volumes, vol.id, 'available')
        cinder.volumes.extend(vol.id, 2)
        self.wait_for('extended to 2 GiB', lambda: (
            cinder.volumes.get(vol.id).size == 2 and
            cinder.volumes.get(vol.id).status == 'available'))
        self.assertEqual(2 * GiB, os.path.getsize(path))
        att = cinder.attachments.create(vol.id, CONNECTOR, mode='rw')
        cinder.attachments.complete(att['id'])
        self.wait_status(cinder.volumes, vol.id, 'in-use')
        cinder.attachments.delete(att['id'])
        self.wait_status(cinder.volumes, vol.id, 'available')

        cinder.volumes.delete(vol.id)
        self.wait_gone(cinder.volumes, vol.id)
        self.assertEqual([], self._files())
        for status in [v.status for v in cinder.volumes.list()]:
            self.assertFalse(status.startswith('error'), status)
