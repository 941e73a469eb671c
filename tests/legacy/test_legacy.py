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
"""ksvd-cinder on cinder 15 / Python 2.7 and cinder 16 / Python 3.9.

The fleet runs RDO Train (cinder 15.6.0 on Python 2.7) and Ubuntu 20.04
(cinder 16 on Python 3.8); static checks cannot see a unicode/str or a
cinder-release difference, so these tests run the product there: the
bullseye chroot of tools/legacy-chroot, cinder installed unchanged from
PyPI under that release's constraints, cinder_ksvd from this tree. Services
run in the chroot on the host's RabbitMQ; the client is python-cinderclient
on the host through the ksvd-token plugin (endpoint .../v3, no project).
"""

import hashlib
import json
import os
import re
import subprocess
import sys

import fixtures
from tests.functional import base
from tests.functional import receiver as receiver_mod
from tests.functional import services
from tests.legacy import chroot
from testtools import content

GiB = 1024 ** 3
SHARE = '127.0.0.1:/srv/ksvd-legacy'
SECRET = 'legacy-webhook-secret'
PROJECT = 'ksvd'
# tests/legacy/drivers as the chroot sees it.
DRIVERS = '/src/tests/legacy/drivers'


def _sha256(path, length=None):
    digest = hashlib.sha256()
    with open(path, 'rb') as handle:
        digest.update(handle.read(length) if length else handle.read())
    return digest.hexdigest()


class _LegacyBase(base.FunctionalTestCase):
    target = None

    def setUp(self):
        super(_LegacyBase, self).setUp()
        try:
            chroot.root()
        except services.Unavailable as exc:
            if services.in_ci():
                self.fail('CI=true and the legacy chroot is missing: %s'
                          % exc)
            self.skipTest(str(exc))
        chroot.install(self.target)
        self.work = self.useFixture(chroot.Workdir())
        self.dist_conf = '%s/share/ksvd-cinder/cinder-dist.conf' % (
            self.target.venv)

    # -- helpers ------------------------------------------------------------

    def inside(self, *parts):
        return '/'.join((self.work.inside,) + parts)

    def host(self, inside):
        return self.work.host(inside)

    def conf_args(self):
        return ['--config-file', self.dist_conf,
                '--config-file', self.inside('cinder.conf')]

    def manage(self, *args):
        return chroot.run([self.target.bin('ksvd-cinder-manage')]
                          + self.conf_args() + list(args))

    def write_conf(self, sections):
        sections.setdefault('ksvd_auth', {})['token_file'] = self.inside(
            'tokens.json')
        services.write_conf(self.host(self.inside('cinder.conf')), sections)

    def start_in_chroot(self, binary, name):
        proc = chroot.Process(['env', 'PYTHONPATH=%s' % DRIVERS,
                               self.target.bin(binary)] + self.conf_args(),
                              self.workdir, name)
        self.processes.append(proc)
        return self.useFixture(proc)

    def token_create(self, user, roles, project=PROJECT):
        args = ['token', 'create', '--user', user, '--project', project]
        for role in roles:
            args += ['--role', role]
        rc, out, err = self.manage(*args)
        self.assertEqual(0, rc, 'token create failed:\n%s%s' % (out, err))
        fields = dict(line.split(':', 1) for line in out.splitlines()
                      if ':' in line)
        return fields['token id'].strip(), fields['token'].strip()

    def legacy_client(self, endpoint, token):
        from cinderclient import client as cinder_client
        from keystoneauth1 import loading
        from keystoneauth1 import session
        auth = loading.get_plugin_loader('ksvd-token').load_from_options(
            endpoint=endpoint, token=token, project_id=PROJECT)
        return cinder_client.Client(self.target.api_version,
                                    session=session.Session(auth=auth))

    def assert_config_error(self, rc, out, err):
        self.assertEqual(78, rc, out + err)
        lines = [line for line in err.splitlines() if line.strip()]
        self.assertEqual(1, len(lines), err)
        return lines[0]


class _LegacyTests(object):
    """The tests every legacy target runs (mixed into a TestCase)."""

    def test_python_and_cinder(self):
        rc, out, err = chroot.run([
            self.target.bin('python'), '-c',
            'import sys, cinder.version, cinder_ksvd.hooks;'
            'print(sys.version.split()[0]);'
            'print(cinder.version.version_info.release_string())'])
        self.assertEqual(0, rc, err)
        python, cinder = out.split()
        self.assertTrue(python.startswith(self.target.python + '.'), python)
        self.assertEqual(self.target.cinder, cinder)

    def test_unit_tests(self):
        """cinder_ksvd's unit tests on this interpreter and cinder."""
        rc, out, err = chroot.run(
            ['env', 'PYTHONDONTWRITEBYTECODE=1', self.target.bin('python'),
             '/src/tests/legacy/unit_runner.py'], timeout=900)
        self.addDetail('unit-output', content.text_content(err[-30000:]))
        self.assertEqual(0, rc, err[-3000:])
        report = json.loads(out.strip().splitlines()[-1])
        self.addDetail('unit-report', content.text_content(
            json.dumps(report, indent=1, sort_keys=True)))
        self.assertEqual({}, report['import_errors'])
        self.assertEqual([], report['unused_exclusions'])
        self.assertEqual([], report['failures'])
        self.assertGreater(report['passed'], 0)

    def test_patched_cinder_unit_tests(self):
        """patches/<line> applies; cinder's tests of what it touches pass."""
        proc = subprocess.run(
            [sys.executable, os.path.join(services.REPO, 'tools', 'patches'),
             'test', self.target.line, '--legacy'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=1500)
        out = proc.stdout.decode('utf-8', 'replace')
        self.addDetail('patches-output', content.text_content(out[-30000:]))
        self.assertEqual(0, proc.returncode, out[-5000:])
        self.assertRegex(out, r'series %s: \d+ cinder unit tests passed, 0 '
                         r'failed' % self.target.line)

    def test_tokens_and_bad_config(self):
        self.write_conf({'DEFAULT': {'state_path': self.work.inside},
                         'database': {'connection': 'sqlite:///%s' %
                                      self.inside('cinder.sqlite')}})
        first, _ = self.token_create('mc', ['admin', 'service'])
        # The second create and the list read back the file the first
        # wrote (issue 24: json's unicode on Python 2 made them exit 78).
        second, _ = self.token_create('viewer', ['reader'])
        rc, out, err = self.manage('token', 'list')
        self.assertEqual(0, rc, err)
        self.assertIn(first, out)
        self.assertIn(second, out)
        rc, out, err = self.manage('token', 'revoke', first)
        self.assertEqual(0, rc, err)
        rc, out, err = self.manage('token', 'list')
        self.assertNotIn(first, out)
        # Bad configuration: one line, exit 78, on every interpreter.
        rc, out, err = chroot.run([self.target.bin('ksvd-cinder-manage'),
                                   '--config-file', '/nonexistent.conf',
                                   'db', 'sync'])
        self.assertIn('/nonexistent.conf', self.assert_config_error(
            rc, out, err))
        with open(self.host(self.inside('tokens.json')), 'a') as handle:
            handle.write('garbage')
        rc, out, err = self.manage('token', 'list')
        self.assertIn('tokens.json', self.assert_config_error(rc, out, err))

    def test_volume_refuses_unknown_driver(self):
        self.write_conf({
            'DEFAULT': {'state_path': self.work.inside,
                        'enabled_backends': 'bad'},
            'database': {'connection': 'sqlite:///%s' %
                         self.inside('cinder.sqlite')},
            'bad': {'volume_driver': 'cinder.volume.drivers.nosuch.Driver'}})
        rc, out, err = chroot.run([self.target.bin('ksvd-cinder-volume')]
                                  + self.conf_args(), timeout=120)
        self.assertIn('nosuch', self.assert_config_error(rc, out, err))

    def test_driver_check(self):
        fixtures_dir = '/src/tests/fixtures/drivers'
        self.write_conf({
            'database': {'connection': 'sqlite:///%s' %
                         self.inside('cinder.sqlite')},
            'ksvd_compat': {
                'driver_locations': 'cinder.volume.drivers.ixsystems=%s/'
                                    'ixsystems' % fixtures_dir,
                'modules': 'legacy, py2bad'}})

        def check(driver):
            return chroot.run(['env', 'PYTHONPATH=%s' % fixtures_dir,
                               self.target.bin('ksvd-cinder-manage')]
                              + self.conf_args()
                              + ['driver', 'check', driver])
        # The TrueNAS-style driver (py3-era, urllib2 fallbacks): loads.
        rc, out, err = check(
            'cinder.volume.drivers.ixsystems.iscsi.FreeNASISCSIDriver')
        self.assertEqual(0, rc, out + err)
        self.assertIn('result:     ok', out)
        # A py2-era driver that does not implement the interface.
        rc, out, err = check('legacy.driver.LegacyDriver')
        self.assertEqual(1, rc, out + err)
        self.assertIn('not implemented', out)
        # Python 2 syntax is reported with file:line on Python 3 only; on
        # 2.7 the module compiles, and has no such class.
        rc, out, err = check('py2bad.printer.Printer')
        if self.target.python.startswith('2'):
            self.assertEqual(1, rc, out + err)
            self.assertNotIn('Python 2 syntax', out)
            self.assertIn('py2bad.printer has no Printer', out)
        else:
            self.assertEqual(1, rc, out + err)
            self.assertIn('printer.py:3: Python 2 syntax: print statement',
                          out)
        rc, out, err = check('cinder.volume.drivers.lvm.LVMVolumeDriver')
        self.assertEqual(0, rc, out + err)
        self.assertIn('result:     ok', out)

    def test_lifecycle(self):
        """db sync, three services, the volume lifecycle over HTTP."""
        rabbit = self.need(services.RabbitVhost())
        hook = self.useFixture(_Receiver())
        export = self.host(self.inside('export'))
        os.makedirs(export)
        mnt_base = self.inside('mnt')
        share_dir = self.inside(
            'mnt', hashlib.md5(SHARE.encode('utf-8')).hexdigest())
        os.makedirs(self.host(share_dir))
        subprocess.check_call(['mount', '--bind', export,
                               self.host(share_dir)])
        self.addCleanup(subprocess.call, ['umount', '-l',
                                          self.host(share_dir)])
        with open(self.host(self.inside('shares')), 'w') as handle:
            handle.write(SHARE + '\n')
        store = self.inside('images')
        os.makedirs(self.host(store))
        privsep = '%s %s' % (self.target.bin('privsep-helper'),
                             ' '.join(self.conf_args()))
        self.write_conf({
            'DEFAULT': {
                'state_path': self.work.inside,
                'transport_url': rabbit.url,
                'osapi_volume_listen': '127.0.0.1',
                'osapi_volume_listen_port': str(services.free_port()),
                'osapi_volume_workers': '1',
                'enabled_backends': 'fake,nfs',
                'report_interval': '2',
                'periodic_interval': '5',
                'host': 'ksvd-legacy',
                'cinder_internal_tenant_project_id': 'ksvd-internal',
                'cinder_internal_tenant_user_id': 'ksvd-internal'},
            'database': {'connection': 'sqlite:///%s' %
                         self.inside('cinder.sqlite')},
            'fake': {'volume_driver':
                     'ksvd_legacy_fake.ExtendableFakeDriver',
                     'volume_backend_name': 'fake',
                     'target_helper': 'fake'},
            'nfs': {'volume_driver': 'cinder.volume.drivers.nfs.NfsDriver',
                    'volume_backend_name': 'ksvdnfs',
                    'nfs_shares_config': self.inside('shares'),
                    'nfs_mount_point_base': mnt_base,
                    'nfs_sparsed_volumes': 'true',
                    'nfs_qcow2_volumes': 'false',
                    'nfs_snapshot_support': 'true',
                    'nas_secure_file_operations': 'false',
                    'nas_secure_file_permissions': 'false'},
            'ksvd_image': {'store_dir': store},
            'ksvd_compute': {'sinks': 'webhook,log',
                             'webhook_url': hook.receiver.url,
                             'webhook_secret': SECRET,
                             'delivery_interval': '1',
                             'retry_interval': '1',
                             'retry_max_interval': '2'},
            'cinder_sys_admin': {'helper_command': privsep},
            'privsep_osbrick': {'helper_command': privsep},
            'oslo_messaging_notifications': {'driver': 'noop'}})
        rc, out, err = self.manage('db', 'sync')
        self.assertEqual(0, rc, 'db sync failed:\n%s\n%s' % (out, err))
        _, token = self.token_create('mc', ['admin', 'service'])
        api = self.start_in_chroot('ksvd-cinder-api', 'api')
        self.start_in_chroot('ksvd-cinder-scheduler', 'scheduler')
        volume = self.start_in_chroot('ksvd-cinder-volume', 'volume')
        endpoint = self.wait_api(api)
        cinder = self.legacy_client(endpoint, token)
        self.wait_services_up(cinder)
        volume.wait_for_log(r'ksvd-cinder hooks active: .*image')
        # Both backends' pools, not only the first to report.
        self.wait_for('scheduler knows the fake and nfs pools', lambda: set(
            p.name.split('#')[0].split('@')[-1]
            for p in cinder.pools.list(detailed=False)) >= {'fake', 'nfs'},
            180)

        def vtype(name, backend):
            created = cinder.volume_types.create(name)
            created.set_keys({'volume_backend_name': backend})
            return created.id
        fake_type = vtype('ksvd-fake', 'fake')
        nfs_type = vtype('ksvd-nfs', 'ksvdnfs')

        # Fake backend: extend, attachment with an instance id, in-use
        # extend with the compute event delivered to the MC stand-in.
        vol = cinder.volumes.create(1, name='fake-1', volume_type=fake_type)
        self.wait_status(cinder.volumes, vol.id, 'available')
        cinder.volumes.extend(vol, 2)
        self.wait_for('extend to 2 GiB',
                      lambda: cinder.volumes.get(vol.id).size == 2)
        self.wait_status(cinder.volumes, vol.id, 'available')
        instance = '0b6f4e52-1f4c-4c2b-9a55-4d7e7f2b0c01'
        connector = {'host': 'ksvd-host-1', 'initiator':
                     'iqn.2026-12.org.ksvd:host-1', 'ip': '127.0.0.1',
                     'platform': 'x86_64', 'os_type': 'linux2',
                     'multipath': False}
        attachment = cinder.attachments.create(vol.id, connector, instance)
        cinder.attachments.complete(attachment['id'])
        self.wait_status(cinder.volumes, vol.id, 'in-use')
        cinder.volumes.extend(vol, 3)
        event = self.wait_for(
            'volume.extended event', lambda: [
                e for e in hook.receiver.of_type('volume.extended')
                if e.get('volume_id') == vol.id], 120)[0]
        self.assertEqual(3, event['new_size'])
        self.assertEqual([instance], event['server_ids'])
        self.assertEqual([], hook.receiver.rejected)
        self.wait_status(cinder.volumes, vol.id, 'in-use')
        cinder.attachments.delete(attachment['id'])
        self.wait_status(cinder.volumes, vol.id, 'available')

        # NFS backend (real bytes): from an image of the store, snapshot,
        # clone, upload to image and a volume from the uploaded image.
        raw = self.host(self.inside('seed.raw'))
        with open(raw, 'wb') as handle:
            handle.write(os.urandom(2 * 1024 * 1024 + 512))
        rc, out, err = self.manage('image', 'import', self.inside('seed.raw'),
                                   '--name', 'seed')
        self.assertEqual(0, rc, 'image import failed:\n%s%s' % (out, err))
        image_id = re.search(r'^id:\s+(\S+)', out, re.M).group(1)

        def volume_file(volume_id):
            return self.host('%s/volume-%s' % (share_dir, volume_id))

        def from_image(ref, name):
            made = cinder.volumes.create(1, name=name, imageRef=ref,
                                         volume_type=nfs_type)
            return self.wait_status(cinder.volumes, made.id, 'available',
                                    240)
        seed = from_image(image_id, 'seed')
        size = os.path.getsize(raw)
        self.assertEqual(GiB, os.path.getsize(volume_file(seed.id)))
        self.assertEqual(_sha256(raw), _sha256(volume_file(seed.id), size))
        snap = cinder.volume_snapshots.create(seed.id, name='snap')
        self.wait_status(cinder.volume_snapshots, snap.id, 'available', 120)
        from_snap = cinder.volumes.create(1, snapshot_id=snap.id,
                                          volume_type=nfs_type)
        self.wait_status(cinder.volumes, from_snap.id, 'available', 240)
        clone = cinder.volumes.create(1, source_volid=seed.id,
                                      volume_type=nfs_type)
        self.wait_status(cinder.volumes, clone.id, 'available', 240)
        for made in (from_snap, clone):
            self.assertEqual(_sha256(raw), _sha256(volume_file(made.id),
                                                   size))
        resp = cinder.volumes.upload_to_image(seed, False, 'uploaded',
                                              'bare', 'raw', 'private', False)
        uploaded = resp[1]['os-volume_upload_image']['image_id']
        self.wait_status(cinder.volumes, seed.id, 'available', 240)
        record = self.host('%s/%s.json' % (store, uploaded))
        self.wait_for('image %s active' % uploaded,
                      lambda: os.path.exists(record) and
                      json.load(open(record)).get('status') == 'active', 240)
        copy = from_image(uploaded, 'copy')
        self.assertEqual(_sha256(volume_file(seed.id)),
                         _sha256(volume_file(copy.id)))

        # The ksvd-cinder CLI in the chroot, against the same API.
        rc, out, err = chroot.run([self.target.bin('ksvd-cinder'),
                                   '--endpoint', endpoint, '--token', token,
                                   'volume', 'list'])
        self.assertEqual(0, rc, out + err)
        self.assertIn(seed.id, out)

        # Delete everything; the quota usage goes back to 0.
        cinder.volume_snapshots.delete(snap.id)
        self.wait_gone(cinder.volume_snapshots, snap.id, 120)
        for made in (vol, seed, from_snap, clone, copy):
            cinder.volumes.delete(made.id)
        for made in (vol, seed, from_snap, clone, copy):
            self.wait_gone(cinder.volumes, made.id, 120)
        usage = cinder.quotas.get(PROJECT, usage=True)
        self.assertEqual(0, usage.volumes['in_use'])
        self.assertEqual(0, usage.gigabytes['in_use'])
        self.assertEqual(0, usage.snapshots['in_use'])
        self.assertEqual([], [n for n in os.listdir(self.host(share_dir))
                              if n.startswith('volume-')])


class _Receiver(fixtures.Fixture):
    """The MC stand-in receiving compute events on a loopback port."""

    def _setUp(self):
        self.receiver = receiver_mod.Receiver(SECRET).start()
        self.addCleanup(self.receiver.stop)


class TrainPython27Test(_LegacyTests, _LegacyBase):
    target = chroot.TRAIN


class UssuriPython39Test(_LegacyTests, _LegacyBase):
    target = chroot.USSURI
