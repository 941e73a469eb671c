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


class GlusterPlacementTest(base.FunctionalTestCase):
    """The placement refusal on a real GlusterFS volume, fixed as printed."""

    def manage(self, path, *words):
        from tests.functional import services
        conf = services.write_conf(
            os.path.join(self.workdir, 'cinder-%d.conf' % len(words)),
            {'DEFAULT': {'state_path': self.workdir},
             'database': {'connection': 'sqlite:///%s' % path}})
        return services.run_command(
            'ksvd-cinder-manage', ['--config-file', services.DIST_CONF,
                                   '--config-file', conf] + list(words),
            self.workdir)

    def test_printed_command_runs_and_bind_mount_is_followed(self):
        import re
        import subprocess
        # Coherent mount options, but the volume's default translators:
        # write-behind and the other client caches are loaded.
        volume = self.need(gluster.GlusterVolume(volume_options={}))
        path = os.path.join(volume.mounts[0], 'cinder.sqlite')
        rc, out, err = self.manage(path, 'db', 'sync')
        self.assertEqual(78, rc, out + err)
        line = err.strip().splitlines()[-1]
        self.assertIn('GlusterFS volume %s of %s caches on the client'
                      % (volume.name, volume.mounts[0]), line)
        command = re.search(r'run: (gluster volume set [^;]*)', line)
        self.assertIsNotNone(command, line)
        self.assertIn('performance.write-behind off', command.group(1))
        self.assertIn('performance.strict-o-direct on', command.group(1))
        self.addDetail('printed-command', content.text_content(
            command.group(1)))
        # As printed, through a shell, against the real glusterd.
        proc = subprocess.run(['sh', '-c', command.group(1)],
                              stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT,
                              env=dict(os.environ, PATH=gluster._SBIN_PATH))
        self.assertEqual(0, proc.returncode, proc.stdout)
        # The client reloads its graph after "volume set": then it passes.
        deadline = time.time() + 60
        while True:
            rc, out, err = self.manage(path, 'db', 'sync')
            if rc == 0 or time.time() > deadline:
                break
            time.sleep(2)
        self.assertEqual(0, rc, out + err)
        rc, out, err = self.manage(path, 'db', 'check')
        self.assertEqual(0, rc, out + err)
        self.assertIn('glusterfs strict-o-direct: on', out)
        self.assertIn('glusterfs volume:          %s' % volume.name, out)

        # A bind mount of that mount: judged by its glusterfs client.
        bind = os.path.join(self.workdir, 'bind')
        os.mkdir(bind)
        subprocess.check_call(['mount', '--bind', volume.mounts[0], bind])
        self.addCleanup(subprocess.call, ['umount', bind])
        rc, out, err = self.manage(os.path.join(bind, 'cinder.sqlite'),
                                   'db', 'check')
        self.assertEqual(0, rc, out + err)
        self.assertIn('glusterfs client mount:    %s' % volume.mounts[0], out)
        self.assertIn('safe:                      True', out)
        self.assertIn('hosts sharing the file:    1', out)
