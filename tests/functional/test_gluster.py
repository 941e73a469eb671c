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

"""The GlusterFS rig: one replica-2 volume on loopback, two FUSE mounts."""

import hashlib
import os
import random
import time

from tests.functional import base
from tests.functional import gluster
from testtools import content


class GlusterRigTest(base.FunctionalTestCase):

    def test_two_coherent_mounts_share_one_volume(self):
        t0 = time.time()
        volume = self.need(gluster.GlusterVolume())
        setup = time.time() - t0
        self.assertEqual(2, len(volume.mounts))
        for path in volume.mounts:
            fstype, options = gluster.mount_options(path)
            self.assertEqual('fuse.glusterfs', fstype, path)
            missing = set(gluster.COHERENT_OPTIONS) - options
            self.assertEqual(set(), missing,
                             '%s lacks coherent options: %s'
                             % (path, sorted(options)))

        data = random.Random(20261122).randbytes(1024 * 1024)
        with open(os.path.join(volume.mounts[0], 'blob'), 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with open(os.path.join(volume.mounts[1], 'blob'), 'rb') as handle:
            seen = handle.read()
        self.assertEqual(len(data), len(seen))
        self.assertEqual(hashlib.sha256(data).hexdigest(),
                         hashlib.sha256(seen).hexdigest())

        mounts = list(volume.mounts)
        t1 = time.time()
        volume.cleanUp()
        teardown = time.time() - t1
        with open('/proc/mounts') as handle:
            table = handle.read()
        for path in mounts:
            self.assertNotIn(' %s ' % path, table)
        self.assertFalse(os.path.exists(volume.root))
        names = gluster.list_volumes()
        if names is not None:  # None: the rig stopped the glusterd it began
            self.assertNotIn(volume.name, names)
        self.addDetail('timings', content.text_content(
            'setup %.2fs (fixture %.2fs), teardown %.2fs'
            % (setup, volume.timings['setup'], teardown)))
