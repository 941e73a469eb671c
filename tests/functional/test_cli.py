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

"""The installed ksvd-cinder command against real services.

ksvd-cinder-api, -scheduler and -volume run as separate processes on sqlite
and RabbitMQ (own vhost) with two backends: cinder's fake driver (database
rows only) and cinder's NFS driver on a share that is bind-mounted where the
driver and os-brick expect it (shared/reference/nfs-on-premounted-share.md),
so attach/detach go through os-brick for real and data can be checked.
"""

import hashlib
import json
import os
import socket
import subprocess

from tests.functional import base
from tests.functional import services

CLI_TIMEOUT = 300


class CliTest(base.FunctionalTestCase):

    def credentials(self):
        """(endpoint, token) for the CLI: a real ksvd API token."""
        return self.endpoint, self.token()

    def _share(self):
        """The NFS export, bind-mounted at the driver's mount point."""
        export = os.path.join(self.workdir, 'export')
        self.mount_base = os.path.join(self.workdir, 'mnt')
        share = '127.0.0.1:%s' % export
        mount_point = os.path.join(
            self.mount_base, hashlib.md5(share.encode()).hexdigest())
        os.makedirs(export)
        os.makedirs(mount_point)
        try:
            subprocess.run(['mount', '--bind', export, mount_point],
                           check=True, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=60)
        except (OSError, subprocess.SubprocessError) as exc:
            raise services.Unavailable('cannot bind-mount the NFS share '
                                       '(needs root): %s' % exc)
        self.addCleanup(subprocess.call, ['umount', mount_point])
        shares = os.path.join(self.workdir, 'nfs_shares')
        with open(shares, 'w') as handle:
            handle.write(share + '\n')
        return shares

    def _deploy(self):
        rabbit = self.need(services.RabbitVhost())
        try:
            shares = self._share()
        except services.Unavailable as exc:
            if services.in_ci():
                self.fail('CI=true: %s' % exc)
            self.skipTest(str(exc))
        conf = os.path.join(self.workdir, 'cinder.conf')
        helper = '%s/privsep-helper --config-file %s --config-file %s' % (
            services.BIN_DIR, services.DIST_CONF, conf)
        services.service_conf(
            self.workdir, rabbit.url,
            'sqlite:///%s/cinder.sqlite' % self.workdir, {
                'DEFAULT': {'enabled_backends': 'fake,nfs'},
                'nfs': {
                    'volume_driver': 'cinder.volume.drivers.nfs.NfsDriver',
                    'volume_backend_name': 'nfs',
                    'nfs_shares_config': shares,
                    'nfs_mount_point_base': self.mount_base,
                    'nfs_sparsed_volumes': 'true',
                    'nfs_qcow2_volumes': 'false',
                    'nas_secure_file_operations': 'false',
                    'nas_secure_file_permissions': 'false',
                },
                # root without sudo: privsep helpers started directly
                'cinder_sys_admin': {'helper_command': helper},
                'privsep_osbrick': {'helper_command': helper},
            })
        args = ['--config-file', services.DIST_CONF, '--config-file', conf]
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', args + ['db', 'sync'], self.workdir)
        self.assertEqual(0, rc, 'db sync failed:\n%s\n%s' % (out, err))
        api = self.start('ksvd-cinder-api', args, 'api')
        self.start('ksvd-cinder-scheduler', args, 'scheduler')
        self.start('ksvd-cinder-volume', args, 'volume')
        self.endpoint = self.wait_api(api)
        cinder = self.client(self.endpoint)
        self.wait_services_up(cinder)
        self.wait_for('both backends in the scheduler', lambda: len(
            cinder.pools.list(detailed=False)) >= 2, 120)
        return cinder

    def cli(self, *args, **kwargs):
        """Run the installed ksvd-cinder; (status, stdout, stderr)."""
        endpoint, token = self.credentials()
        env = services.service_env()
        env.update(KSVD_CINDER_ENDPOINT=endpoint, KSVD_CINDER_TOKEN=token)
        env.update(kwargs.get('env', {}))
        proc = subprocess.run(
            [os.path.join(services.BIN_DIR, 'ksvd-cinder')] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            cwd=self.workdir, timeout=CLI_TIMEOUT)
        return (proc.returncode, proc.stdout.decode(),
                proc.stderr.decode())

    def ok(self, *args):
        rc, out, err = self.cli(*args)
        self.assertEqual(0, rc, 'ksvd-cinder %s: %s' % (' '.join(args),
                                                        err))
        return out, err

    def json(self, *args):
        return json.loads(self.ok(*(args + ('-f', 'json')))[0])

    def test_volume_lifecycle(self):
        cinder = self._deploy()
        vtype = self.json('type', 'create', 'ksvd-fake', '--property',
                          'volume_backend_name=fake')
        self.assertEqual({'volume_backend_name': 'fake'},
                         vtype['properties'])
        self.assertEqual({'volume_backend_name': 'fake'},
                         cinder.volume_types.get(vtype['id']).get_keys())

        out, err = self.ok('volume', 'create', '--size', '1', '--count',
                           '5', '--name', 'bulk', '--type', 'ksvd-fake',
                           '-f', 'json')
        created = json.loads(out)
        self.assertEqual(['bulk-%d' % i for i in range(1, 6)],
                         [v['name'] for v in created])
        self.assertEqual(['available'] * 5, [v['status'] for v in created])
        # the progress bar went to stderr, ending at 5 of 5
        self.assertIn('created   [' + '#' * 30 + '] 5/5', err)
        self.assertIn('available [' + '#' * 30 + '] 5/5', err)
        ids = set(v['id'] for v in created)
        self.assertEqual(ids, set(v.id for v in cinder.volumes.list()))

        listed = self.json('volume', 'list')
        self.assertEqual(ids, set(v['id'] for v in listed))
        table, _ = self.ok('volume', 'list')
        for vol in created:
            self.assertIn('| %s | %s | available |' % (vol['id'],
                                                       vol['name']), table)

        shown = self.json('volume', 'show', 'bulk-3')
        self.assertEqual(('bulk-3', 1, 'ksvd-fake'),
                         (shown['name'], shown['size'],
                          shown['volume_type']))
        self.assertIn('@fake', shown['os-vol-host-attr:host'])

        extended = self.json('volume', 'extend', 'bulk-3', '2')
        self.assertEqual((2, 'available'),
                         (extended['size'], extended['status']))
        self.assertEqual(2, cinder.volumes.get(shown['id']).size)

        # connection info of an attachment made for another host
        connector = {'host': 'ksvd-host-9', 'ip': '127.0.0.1',
                     'initiator': 'iqn.2026-11.ksvd:cli', 'multipath': False,
                     'platform': 'x86_64', 'os_type': 'linux'}
        att = cinder.attachments.create(shown['id'], connector, mode='rw')
        cinder.attachments.complete(att['id'])
        conns = self.json('volume', 'connection', 'bulk-3')
        self.assertEqual([(att['id'], 'ksvd-host-9', 'attached')],
                         [(c['attachment_id'], c['host'], c['status'])
                          for c in conns])
        self.assertEqual(att['connection_info'], conns[0]['connection_info'])
        cinder.attachments.delete(att['id'])
        self.wait_status(cinder.volumes, shown['id'], 'available')

        # errors: one line on stderr, status 1, nothing on stdout
        for ref in ('no-such-volume', '0c0cb2ca-5cf4-1642-577e-6f958d479df7'):
            rc, out, err = self.cli('volume', 'show', ref)
            self.assertEqual((1, '', "No volume with a name or ID of '%s' "
                              "exists.\n" % ref), (rc, out, err))
        sock = socket.socket()
        sock.bind(('127.0.0.1', 0))
        closed = 'http://127.0.0.1:%d/v3' % sock.getsockname()[1]
        sock.close()
        rc, out, err = self.cli('--endpoint', closed, 'volume', 'list')
        self.assertEqual((1, ''), (rc, out))
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn('cannot connect to the ksvd-cinder API', err)
        for bad in ('ksvd.0123456789abcdef.' + 'x' * 43,
                    'admin:%s' % base.PROJECT):
            rc, out, err = self.cli('--token', bad, 'volume', 'list')
            self.assertEqual((1, ''), (rc, out))
            self.assertEqual(1, len(err.splitlines()), err)
            self.assertNotIn(bad, err)

        out, err = self.ok('volume', 'delete', *sorted(ids))
        self.assertIn('deleted   [' + '#' * 30 + '] 5/5', err)
        self.assertEqual([], cinder.volumes.list())
        self.assertEqual([], self.json('volume', 'list'))
        self.ok('type', 'delete', 'ksvd-fake')
        self.assertNotIn('ksvd-fake', [t['name'] for t in
                                       self.json('type', 'list')])

    def test_attach_detach_nfs(self):
        cinder = self._deploy()
        self.ok('type', 'create', 'ksvd-nfs', '--property',
                'volume_backend_name=nfs')
        vol = self.json('volume', 'create', '--size', '1', '--name',
                        'disk1', '--type', 'ksvd-nfs')[0]
        host = socket.gethostname()
        # os-brick's lock files go to a test directory, not /var/lib/cinder
        host_args = ('--lock-path', os.path.join(self.workdir, 'locks'))

        att = self.json('attach', 'disk1', *host_args)
        path = att['path']
        self.assertEqual((vol['id'], 'nfs', host),
                         (att['volume_id'], att['driver_volume_type'],
                          att['host']))
        self.assertEqual('volume-%s' % vol['id'], os.path.basename(path))
        # the path is the driver's file, seen through the mount
        export = os.path.join(self.workdir, 'export')
        self.assertTrue(os.path.samefile(
            path, os.path.join(export, os.path.basename(path))))
        self.assertTrue(path.startswith(self.mount_base + '/'), path)
        shown = cinder.volumes.get(vol['id'])
        self.assertEqual('in-use', shown.status)
        self.assertEqual([(att['attachment_id'], host)],
                         [(a['attachment_id'], a['host_name'])
                          for a in shown.attachments])
        conns = self.json('volume', 'connection', 'disk1')
        self.assertEqual('nfs', conns[0]['driver_volume_type'])

        # a second attach on the same host is refused by cinder, one line
        rc, out, err = self.cli('attach', 'disk1', *host_args)
        self.assertEqual(1, rc)
        self.assertEqual(1, len(err.splitlines()), err)
        self.assertIn('(HTTP 400)', err)

        data = os.urandom(1024 * 1024)
        with open(path, 'r+b') as handle:
            handle.seek(10 * 1024 * 1024)
            handle.write(data)
        detached = self.json('detach', 'disk1', *host_args)
        self.assertEqual(att['attachment_id'], detached['attachment_id'])
        self.wait_status(cinder.volumes, vol['id'], 'available')
        self.assertEqual([], cinder.volumes.get(vol['id']).attachments)

        again = self.json('attach', 'disk1', *host_args)
        self.assertNotEqual(att['attachment_id'], again['attachment_id'])
        with open(again['path'], 'rb') as handle:
            handle.seek(10 * 1024 * 1024)
            self.assertEqual(hashlib.sha256(data).hexdigest(),
                             hashlib.sha256(handle.read(len(data)))
                             .hexdigest())
        self.ok('detach', 'disk1', *host_args)
        rc, out, err = self.cli('detach', 'disk1', *host_args)
        self.assertEqual((1, 'volume %s is not attached to host %s\n'
                          % (vol['id'], host)), (rc, err))

        self.ok('volume', 'delete', 'disk1')
        self.assertEqual([], os.listdir(os.path.join(self.workdir,
                                                     'export')))
