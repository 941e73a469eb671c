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

"""Images without Glance, through real services and a backend with data.

Backend: cinder's own NFS driver (cinder.volume.drivers.nfs.NfsDriver) on a
share that is already mounted where the driver looks for it: a bind mount
of a directory under the test's workdir at <nfs_mount_point_base>/<md5 of
the share string> (shared/reference/nfs-on-premounted-share.md).  The
kernel here has no NFS client and no device-mapper, so this is the backend
that really stores bytes: volumes are files, and the tests compare their
content with the image's.  Needs root (bind mount), qemu-img and mount.nfs
(Debian's qemu-utils and nfs-common); they fail under CI=true without them.

One deployment per test method keeps the run to a few minutes: API,
scheduler and volume processes, RabbitMQ vhost, sqlite.
"""

import hashlib
import http.server
import os
import shutil
import socketserver
import sqlite3
import subprocess
import threading

import fixtures
from tests.functional import base
from tests.functional import services

GiB = 1024 ** 3
SHARE = '127.0.0.1:/srv/ksvd-images-test'


class LoopbackHTTP(fixtures.Fixture):
    """A static file server on 127.0.0.1 (a random port) in a thread."""

    def __init__(self, directory):
        super(LoopbackHTTP, self).__init__()
        self.directory = directory

    def _setUp(self):
        directory = self.directory

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs):
                super(Handler, self).__init__(*args, directory=directory,
                                              **kwargs)

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                # The image service's probe reads the first bytes and
                # hangs up; that is not an error of the test.
                pass

        self.server = Server(('127.0.0.1', 0), Handler)
        thread = threading.Thread(target=self.server.serve_forever,
                                  daemon=True)
        thread.start()
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.url = 'http://127.0.0.1:%d' % self.server.server_address[1]


class BindMount(fixtures.Fixture):
    def __init__(self, source, target):
        super(BindMount, self).__init__()
        self.source, self.target = source, target

    def _setUp(self):
        if os.geteuid() != 0:
            raise services.Unavailable('bind mounts need root')
        for tool in ('qemu-img', 'mount.nfs'):
            if not shutil.which(tool) and not os.path.exists(
                    '/usr/sbin/' + tool):
                raise services.Unavailable('%s is not installed (Debian: '
                                           'qemu-utils, nfs-common)' % tool)
        os.makedirs(self.target)
        subprocess.check_call(['mount', '--bind', self.source, self.target])
        self.addCleanup(subprocess.call, ['umount', '-l', self.target])


def _sha256(path, length=None):
    digest = hashlib.sha256()
    left = length
    with open(path, 'rb') as handle:
        while left is None or left > 0:
            chunk = handle.read(1 << 20 if left is None else min(1 << 20,
                                                                 left))
            if not chunk:
                break
            digest.update(chunk)
            if left is not None:
                left -= len(chunk)
    return digest.hexdigest()


PRIVSEP_MARK = '<!-- privsep-helper-config'
DOC_VENV = '/opt/ksvd-cinder'


def documented_privsep(conf_path):
    """doc/install.md's privsep helper_command block, for this test.

    The venv of the doc (/opt/ksvd-cinder) becomes the tox venv, its
    cinder-dist.conf the repository's and /etc/ksvd-cinder/cinder.conf the
    test's; nothing else changes, so the services run what the doc says.
    """
    with open(os.path.join(services.REPO, 'doc', 'install.md')) as handle:
        text = handle.read()
    block = text[text.index(PRIVSEP_MARK):]
    block = block[block.index('```ini\n') + 7:]
    block = block[:block.index('```')]
    venv = os.path.dirname(services.BIN_DIR)
    sections, current = {}, None
    for line in block.splitlines():
        line = line.strip()
        if line.startswith('['):
            current = sections.setdefault(line.strip('[]'), {})
        elif '=' in line:
            key, value = [part.strip() for part in line.split('=', 1)]
            value = value.replace(
                DOC_VENV + '/share/ksvd-cinder/cinder-dist.conf',
                services.DIST_CONF).replace(
                '/etc/ksvd-cinder/cinder.conf', conf_path).replace(
                DOC_VENV + '/bin/', venv + '/bin/')
            current[key] = value
    return sections


class NfsDeployment(object):
    """API, scheduler and volume on cinder's NFS driver (a bind mount).

    Mixed into a FunctionalTestCase; _deploy() returns a cinder client and
    sets share_dir (the files of the volumes), vtype, args, volume.
    """

    def _deploy(self):
        rabbit = self.need(services.RabbitVhost())
        export = os.path.join(self.workdir, 'export')
        os.makedirs(export)
        mnt_base = os.path.join(self.workdir, 'mnt')
        self.share_dir = os.path.join(
            mnt_base, hashlib.md5(SHARE.encode('utf-8')).hexdigest())
        self.need(BindMount(export, self.share_dir))
        shares = os.path.join(self.workdir, 'shares')
        with open(shares, 'w') as handle:
            handle.write(SHARE + '\n')
        self.store = os.path.join(self.workdir, 'images')
        os.makedirs(self.store)
        # URL images from this loopback server only, for admin tokens.
        self.web = self.useFixture(LoopbackHTTP(self.workdir))
        conf_path = os.path.join(self.workdir, 'cinder.conf')
        privsep = documented_privsep(conf_path)
        # Exactly the two sections the doc gives, nothing left unreplaced.
        self.assertEqual(['cinder_sys_admin', 'privsep_osbrick'],
                         sorted(privsep))
        self.assertNotIn(DOC_VENV, repr(privsep))
        db_file = os.path.join(self.workdir, 'cinder.sqlite')
        self.db_file = db_file
        services.service_conf(
            self.workdir, rabbit.url, 'sqlite:///%s' % db_file, {
                'DEFAULT': {'enabled_backends': 'nfs',
                            'cinder_internal_tenant_project_id':
                                'ksvd-internal',
                            'cinder_internal_tenant_user_id':
                                'ksvd-internal'},
                'nfs': {'volume_driver':
                        'cinder.volume.drivers.nfs.NfsDriver',
                        'volume_backend_name': 'ksvdnfs',
                        'nfs_shares_config': shares,
                        'nfs_mount_point_base': mnt_base,
                        'nfs_sparsed_volumes': 'true',
                        'nfs_qcow2_volumes': 'false',
                        'nfs_snapshot_support': 'true',
                        'nas_secure_file_operations': 'false',
                        'nas_secure_file_permissions': 'false',
                        'image_volume_cache_enabled': 'true'},
                'ksvd_image': {'store_dir': self.store,
                               'url_images': 'true',
                               'url_allowed_prefixes': self.web.url + '/',
                               'url_roles': 'admin'},
                'cinder_sys_admin': privsep['cinder_sys_admin'],
                'privsep_osbrick': privsep['privsep_osbrick'],
            })
        self.args = ['--config-file', services.DIST_CONF,
                     '--config-file', conf_path]
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', self.args + ['db', 'sync'], self.workdir)
        self.assertEqual(0, rc, 'db sync failed:\n%s\n%s' % (out, err))
        api = self.api = self.start('ksvd-cinder-api', self.args, 'api')
        self.start('ksvd-cinder-scheduler', self.args, 'scheduler')
        self.volume = self.start('ksvd-cinder-volume', self.args, 'volume')
        self.endpoint = self.wait_api(api)
        cinder = self.client(self.endpoint)
        self.wait_services_up(cinder)
        self.volume.wait_for_log(r'ksvd-cinder hooks active: .*image')
        if os.environ.get('KSVD_TEST_PATCHED_CINDER') == '1':
            # tools/patches: a cinder built from patches/ picks our image
            # service through [DEFAULT] image_service_class.
            self.volume.wait_for_log(r'runtime image hook steps aside')
        vtype = cinder.volume_types.create('ksvd-nfs')
        vtype.set_keys({'volume_backend_name': 'ksvdnfs'})
        self.vtype = vtype.id
        return cinder


class ImageServiceTest(NfsDeployment, base.FunctionalTestCase):

    def _import(self, path, *extra):
        rc, out, err = services.run_command(
            'ksvd-cinder-manage',
            self.args + ['image', 'import', path] + list(extra),
            self.workdir)
        self.assertEqual(0, rc, 'image import failed:\n%s\n%s' % (out, err))
        fields = dict(line.split(None, 1) for line in out.splitlines()
                      if line and ':' in line.split(None, 1)[0])
        return fields['id:'].strip()

    def _random_file(self, name, size):
        path = os.path.join(self.workdir, name)
        with open(path, 'wb') as handle:
            handle.write(os.urandom(size))
        return path

    def _volume_path(self, volume_id):
        return os.path.join(self.share_dir, 'volume-%s' % volume_id)

    def _from_image(self, cinder, image_ref, name):
        vol = cinder.volumes.create(1, name=name, imageRef=image_ref,
                                    volume_type=self.vtype)
        return self.wait_status(cinder.volumes, vol.id, 'available', 240)

    def _assert_content(self, volume_id, raw_path):
        """The volume starts with the raw bytes and is 1 GiB of them."""
        path = self._volume_path(volume_id)
        self.assertEqual(GiB, os.path.getsize(path))
        size = os.path.getsize(raw_path)
        self.assertEqual(_sha256(raw_path), _sha256(path, size))

    def test_volumes_from_images(self):
        """raw, qcow2 and URL images; the image-volume cache; bad refs."""
        cinder = self._deploy()
        raw = self._random_file('disk.raw', 3 * 1024 * 1024 + 512)
        qcow2 = os.path.join(self.workdir, 'disk.qcow2')
        subprocess.check_call(['qemu-img', 'convert', '-f', 'raw', '-O',
                               'qcow2', raw, qcow2])
        raw_id = self._import(raw, '--name', 'raw-image')
        qcow2_id = self._import(qcow2)

        vol = self._from_image(cinder, raw_id, 'from-raw')
        self._assert_content(vol.id, raw)
        self.assertEqual('true', vol.bootable)
        self.assertEqual(raw_id, vol.volume_image_metadata['image_id'])

        # The first volume from raw_id made a cache entry; this one (the
        # image named by its name) is a clone of the cached volume: no
        # second download, same content.
        downloads = self.volume.output().count('Image download ')
        self.assertGreaterEqual(downloads, 1)
        cached = self._from_image(cinder, 'raw-image', 'from-cache')
        self._assert_content(cached.id, raw)
        self.assertEqual(downloads,
                         self.volume.output().count('Image download '))
        conn = sqlite3.connect(self.db_file, timeout=30)
        self.addCleanup(conn.close)
        entries = conn.execute(
            'SELECT image_id FROM image_volume_cache_entries').fetchall()
        self.assertEqual([(raw_id,)], entries)

        vol = self._from_image(cinder, qcow2_id, 'from-qcow2')
        self._assert_content(vol.id, raw)

        web = self.web
        url = '%s/disk.qcow2#sha256=%s' % (web.url, _sha256(qcow2))
        vol = self._from_image(cinder, url, 'from-url')
        self._assert_content(vol.id, raw)
        image_id = vol.volume_image_metadata['image_id']
        self.assertEqual('qcow2',
                         cinder.volumes.get(vol.id)
                         .volume_image_metadata['disk_format'])

        # A URL whose bytes do not match its checksum: the volume fails
        # with a user message saying so, not silently.
        bad = '%s/disk.raw#sha256=%s' % (web.url, '0' * 64)
        vol = cinder.volumes.create(1, name='bad-sum', imageRef=bad,
                                    volume_type=self.vtype)
        self.wait_for('bad-sum in error',
                      lambda: cinder.volumes.get(vol.id).status == 'error',
                      240)
        messages = [m for m in cinder.messages.list()
                    if m.resource_uuid == vol.id]
        self.assertTrue(messages, 'no user message for %s' % vol.id)
        self.volume.wait_for_log(r'sha256 [0-9a-f]{64}, expected 0{64}')

        # Bad references never create a volume.
        from cinderclient import exceptions
        before = len(cinder.volumes.list())
        port = web.server.server_address[1]
        for ref in ('00000000-0000-4000-8000-000000000000', 'no-such-name',
                    '../../etc/passwd', web.url + '/missing.img',
                    # Outside [ksvd_image] url_allowed_prefixes:
                    'http://localhost:%d/disk.raw' % port,
                    'http://2130706433:%d/disk.raw' % port,
                    web.url + '/x/%2e%2e/disk.raw',
                    web.url + '/disk.raw%0d%0aX-Injected:%201'):
            exc = self.assertRaises(exceptions.BadRequest,
                                    cinder.volumes.create, 1, imageRef=ref,
                                    volume_type=self.vtype)
            self.assertIn('Invalid image identifier', str(exc))
        self.assertEqual(before, len(cinder.volumes.list()))
        self.assertNotEqual(raw_id, image_id)
        # A member (not in [ksvd_image] url_roles) cannot use a URL.
        member = self.client(self.endpoint, roles=('member',), user='m')
        exc = self.assertRaises(exceptions.BadRequest, member.volumes.create,
                                1, imageRef=web.url + '/disk.raw',
                                volume_type=self.vtype)
        self.assertIn('Invalid image identifier', str(exc))
        self.assertIn('only for tokens with a role of [ksvd_image] '
                      'url_roles', self.api.output())

    def test_upload_to_image(self):
        """Volume -> image in the store -> new volume with the same bytes."""
        cinder = self._deploy()
        raw = self._random_file('seed.raw', 2 * 1024 * 1024)
        seed = self._from_image(cinder, self._import(raw), 'seed')
        for disk_format in ('raw', 'qcow2'):
            resp = cinder.volumes.upload_to_image(
                seed, False, 'up-%s' % disk_format, 'bare', disk_format,
                'private', False)
            image_id = resp[1]['os-volume_upload_image']['image_id']
            self.wait_status(cinder.volumes, seed.id, 'available', 240)
            record = os.path.join(self.store, '%s.json' % image_id)
            self.wait_for('image %s active' % image_id,
                          lambda: os.path.exists(record) and
                          '"status": "active"' in open(record).read(), 240)
            rc, out, err = services.run_command(
                'ksvd-cinder-manage', self.args + ['image', 'show',
                                                   image_id], self.workdir)
            self.assertEqual(0, rc, err)
            self.assertIn('disk_format:       %s' % disk_format, out)
            copy = self._from_image(cinder, image_id, 'copy-%s' % disk_format)
            self._assert_content(copy.id, raw)
            self.assertEqual(_sha256(self._volume_path(seed.id)),
                             _sha256(self._volume_path(copy.id)))

    def test_cli_volume_from_image(self):
        """openstack volume create --image: a clear error; cinder works."""
        cinder = self._deploy()
        raw = self._random_file('cli.raw', 1024 * 1024)
        self._import(raw, '--name', 'cli-image')
        env = services.service_env()
        for name in list(env):
            if name.startswith(('OS_', 'CINDER_')):
                del env[name]
        env['OS_TOKEN'] = self.token()
        auth = ['--os-auth-type', 'ksvd-token', '--os-endpoint',
                self.endpoint, '--os-project-id', base.PROJECT,
                '--os-volume-api-version', base.API_VERSION]

        def run(binary, *args):
            proc = subprocess.run(
                [os.path.join(services.BIN_DIR, binary)] + auth + list(args),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
                timeout=180)
            return proc.returncode, proc.stdout.decode('utf-8', 'replace')

        before = len(cinder.volumes.list())
        rc, out = run('openstack', 'volume', 'create', '--image',
                      'cli-image', '--size', '1', '--type', 'ksvd-nfs',
                      'osc-from-image')
        self.assertNotEqual(0, rc, out)
        self.assertIn('ksvd-cinder serves only the volume API: there is no '
                      'image service', out)
        self.assertIn('cinder create --image <image id or name> <size>', out)
        self.assertNotIn("has no attribute 'find_image'", out)
        self.assertEqual(before, len(cinder.volumes.list()))

        # The command the message names works, with the image's name.
        rc, out = run('cinder', 'create', '--image', 'cli-image',
                      '--volume-type', 'ksvd-nfs', '--name', 'cli-from-image',
                      '1')
        self.assertEqual(0, rc, out)
        vol = [v for v in cinder.volumes.list() if v.name == 'cli-from-image']
        self.assertEqual(1, len(vol))
        vol = self.wait_status(cinder.volumes, vol[0].id, 'available', 240)
        self._assert_content(vol.id, raw)
        # openstackclient still does everything else of the volume API.
        rc, out = run('openstack', 'volume', 'show', vol.id, '-f', 'value',
                      '-c', 'status')
        self.assertEqual((0, 'available'), (rc, out.strip()))
