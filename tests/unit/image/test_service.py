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

import datetime
import hashlib
import inspect
import io
import os
import struct

from cinder import exception
import fixtures
from tests.unit import base
from tests.unit import image as helpers

from cinder_ksvd.image import meta
from cinder_ksvd.image import service
from cinder_ksvd import opts

DATA = os.urandom(200000)
QCOW2 = (meta.QCOW2_MAGIC + struct.pack('>I', 3) + b'\0' * 16 +
         struct.pack('>Q', 1 << 30) + os.urandom(70000))


class Ctx(object):
    project_id = 'project-1'
    user_id = 'user-1'
    is_admin = True
    roles = ['admin', 'member', 'reader']


class _ServiceBase(base.TestCase):

    def setUp(self):
        super(_ServiceBase, self).setUp()
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf([], default_config_files=[], default_config_dirs=[])
        self.root = self.make_tempdir()
        self.conf.set_override('store_dir', self.root, opts.IMAGE_GROUP)
        self.conf.set_override('chunk_size', 65536, opts.IMAGE_GROUP)
        self.svc = service.ImageService(conf=self.conf)
        self.ctx = Ctx()

    def uploaded(self, data=DATA, **image_meta):
        image_meta.setdefault('name', 'img')
        image_meta.setdefault('container_format', 'bare')
        image = self.svc.create(self.ctx, image_meta)
        return self.svc.update(self.ctx, image['id'], {}, io.BytesIO(data))


class ServiceTestCase(_ServiceBase):

    # -- the upload path cinder takes ----------------------------------------

    def test_create_queued_then_upload(self):
        image = self.svc.create(self.ctx, {
            'name': 'up', 'container_format': 'bare', 'disk_format': 'raw',
            'visibility': 'private', 'protected': False,
            'properties': {'volume_id': 'v'}})
        self.assertEqual('queued', image['status'])
        self.assertEqual('project-1', image['owner'])
        self.assertEqual('queued', self.svc.show(self.ctx, image['id'])[
            'status'])
        done = self.svc.update(self.ctx, image['id'], {}, io.BytesIO(DATA),
                               store_id=None, base_image_ref=None)
        self.assertEqual('active', done['status'])
        self.assertEqual(len(DATA), done['size'])
        self.assertEqual(len(DATA), done['virtual_size'])
        self.assertEqual(hashlib.md5(DATA).hexdigest(), done['checksum'])
        self.assertEqual(hashlib.sha256(DATA).hexdigest(),
                         done['os_hash_value'])
        self.assertEqual({'volume_id': 'v'}, done['properties'])

    def test_cinder_15_update_signature(self):
        image = self.svc.create(self.ctx, {'name': 'x'})
        # cinder 15: update(context, image_id, image_meta, data,
        # purge_props) positionally, no store_id.
        done = self.svc.update(self.ctx, image['id'], {}, io.BytesIO(QCOW2),
                               True)
        self.assertEqual('qcow2', done['disk_format'])
        self.assertEqual(1 << 30, done['virtual_size'])

    def test_data_only_once(self):
        image = self.uploaded()
        self.assertRaises(exception.Invalid, self.svc.update, self.ctx,
                          image['id'], {}, io.BytesIO(b'other'))
        out = io.BytesIO()
        self.svc.download(self.ctx, image['id'], out)
        self.assertEqual(DATA, out.getvalue())

    def test_failed_upload_back_to_queued(self):
        image = self.svc.create(self.ctx, {'name': 'x'})

        class Broken(object):
            def read(self, size):
                raise IOError('volume read error')
        self.assertRaises(IOError, self.svc.update, self.ctx, image['id'],
                          {}, Broken())
        self.assertEqual('queued',
                         self.svc.show(self.ctx, image['id'])['status'])
        self.assertEqual([image['id'] + '.json'],
                         sorted(n for n in os.listdir(self.root)
                                if not n.startswith('.')))
        self.assertRaises(exception.ImageUnacceptable, self.svc.download,
                          self.ctx, image['id'], io.BytesIO())

    def test_update_metadata(self):
        image = self.uploaded(properties={'a': '1'})
        changed = self.svc.update(self.ctx, image['id'], {
            'name': 'renamed', 'id': 'ignored', 'properties': {'b': '2'}})
        self.assertEqual('renamed', changed['name'])
        self.assertEqual({'b': '2'}, changed['properties'])
        self.assertGreater(changed['updated_at'], image['updated_at'])

    def test_create_duplicate_and_bad_id(self):
        image = self.svc.create(self.ctx, {'name': 'x'})
        self.assertRaises(exception.Duplicate, self.svc.create, self.ctx,
                          {'id': image['id']})
        self.assertRaises(exception.Invalid, self.svc.create, self.ctx,
                          {'id': '../escape'})

    # -- reading -------------------------------------------------------------

    def test_show_missing_and_hostile_ids(self):
        for bad in ('7c1b7a4e-4b4e-4f0e-8f0e-1d2c3b4a5f6e', '../../etc',
                    '/etc/passwd', 'a\x00b', ''):
            self.assertRaises(exception.ImageNotFound, self.svc.show,
                              self.ctx, bad)

    def test_download_iterator(self):
        image = self.uploaded()
        self.assertEqual(DATA, b''.join(self.svc.download(self.ctx,
                                                          image['id'])))

    def test_download_damaged(self):
        image = self.uploaded()
        name = [n for n in os.listdir(self.root) if n.endswith('.data')][0]
        with open(os.path.join(self.root, name), 'r+b') as handle:
            handle.write(b'\0\0\0')
        self.conf.set_override('verify_on_read', True, opts.IMAGE_GROUP)
        exc = self.assertRaises(exception.ImageDownloadFailed,
                                self.svc.download, self.ctx, image['id'],
                                io.BytesIO())
        self.assertIn('sha256', str(exc))
        # Unverified (the default), only the size is checked.
        self.conf.set_override('verify_on_read', False, opts.IMAGE_GROUP)
        with open(os.path.join(self.root, name), 'r+b') as handle:
            handle.truncate(len(DATA) - 1)
        dest = os.path.join(self.make_tempdir(), 'volume')
        with open(dest, 'wb') as handle:
            exc = self.assertRaises(exception.ImageDownloadFailed,
                                    self.svc.download, self.ctx, image['id'],
                                    handle)
        self.assertIn('%d bytes, its record says %d' % (len(DATA) - 1,
                                                        len(DATA)), str(exc))

    def test_download_to_real_file(self):
        """Unverified copies into a file go through the kernel."""
        image = self.uploaded()
        dest = os.path.join(self.make_tempdir(), 'volume')
        for verify in (False, True):
            self.conf.set_override('verify_on_read', verify,
                                   opts.IMAGE_GROUP)
            with open(dest, 'wb') as handle:
                self.svc.download(self.ctx, image['id'], handle)
            with open(dest, 'rb') as handle:
                self.assertEqual(DATA, handle.read())

    def test_detail_filters_and_paging(self):
        ids = [self.uploaded(name='n%d' % i)['id'] for i in range(3)]
        self.assertEqual([ids[1]], [i['id'] for i in self.svc.detail(
            self.ctx, filters={'name': 'n1'})])
        self.assertEqual(ids, [i['id'] for i in self.svc.detail(
            self.ctx, sort_dir='asc')])
        self.assertEqual([ids[2]], [i['id'] for i in self.svc.detail(
            self.ctx, sort_dir='asc', marker=ids[1], limit=5)])
        self.assertEqual([], self.svc.detail(self.ctx,
                                             filters={'name': 'none'}))

    def test_locations_and_stores(self):
        image = self.svc.create(self.ctx, {'name': 'x'})
        self.assertEqual((None, []),
                         self.svc.get_location(self.ctx, image['id']))
        self.assertRaises(exception.Invalid, self.svc.add_location,
                          self.ctx, image['id'], 'file:///etc/passwd', {})
        self.svc.add_location(self.ctx, image['id'], 'cinder://vol-1', {})
        self.assertEqual(
            (None, [{'url': 'cinder://vol-1', 'metadata': {}}]),
            self.svc.get_location(self.ctx, image['id']))
        self.assertEqual('active',
                         self.svc.show(self.ctx, image['id'])['status'])
        self.assertRaises(exception.ImageDownloadFailed, self.svc.download,
                          self.ctx, image['id'], io.BytesIO())
        stores = self.svc.get_stores(self.ctx)['stores']
        self.assertEqual(['true'], [s['read-only'] for s in stores
                                    if 'read-only' in s])
        self.assertEqual([], self.svc.list_members(self.ctx, image['id']))

    def test_delete(self):
        image = self.uploaded()
        self.assertTrue(self.svc.delete(self.ctx, image['id']))
        self.assertEqual(['.tmp'], os.listdir(self.root))
        self.assertRaises(exception.ImageNotFound, self.svc.delete,
                          self.ctx, image['id'])
        kept = self.uploaded(protected=True)
        self.assertRaises(exception.ImageNotAuthorized, self.svc.delete,
                          self.ctx, kept['id'])

    def test_temp_images_attribute(self):
        from cinder.image import image_utils
        tmp = image_utils.TemporaryImages.for_image_service(self.svc)
        self.assertIs(tmp, self.svc.temp_images)

    # -- what cinder's own code does with show() ------------------------------

    def test_shape_accepted_by_cinder(self):
        from cinder import objects
        objects.register_all()
        from cinder.image import cache
        from cinder.volume import volume_utils
        shown = self.svc.show(self.ctx, self.uploaded(data=QCOW2,
                                                      disk_format='qcow2')[
            'id'])
        volume_utils.check_image_metadata(shown, 1)
        if 'virtual_size' in inspect.getsource(
                volume_utils.check_image_metadata):
            # cinder 15 and 16 check only size and min_disk.
            self.assertRaises(exception.ImageUnacceptable,
                              volume_utils.check_image_metadata,
                              dict(shown, virtual_size=(1 << 30) + 1), 1)
        # The image-volume cache compares updated_at after astimezone().
        entry = {'image_updated_at': shown['updated_at'].replace(
            tzinfo=None), 'id': 1, 'volume_id': 'v', 'image_id': shown['id']}
        # The function itself: an unbound method on Python 2 wants self.
        should_update = vars(cache.ImageVolumeCache)['_should_update_entry']
        self.assertFalse(should_update(None, entry, shown))
        later = dict(entry, image_updated_at=entry['image_updated_at'] -
                     datetime.timedelta(seconds=1))
        self.assertTrue(should_update(None, later, shown))
        glance_meta = volume_utils.get_volume_image_metadata(shown['id'],
                                                             shown)
        self.assertEqual('qcow2', glance_meta['disk_format'])
        self.assertEqual(str(len(QCOW2)), str(glance_meta['size']))


class UrlImageTestCase(_ServiceBase):

    def setUp(self):
        super(UrlImageTestCase, self).setUp()
        self.web = self.useFixture(helpers.LoopbackServer(
            {'/disk.raw': DATA, '/disk.qcow2': QCOW2}))
        self.conf.set_override('url_images', True, opts.IMAGE_GROUP)
        self.conf.set_override('url_allowed_prefixes', [self.web.url + '/'],
                               opts.IMAGE_GROUP)
        self.conf.set_override('url_roles', ['member'], opts.IMAGE_GROUP)

    def test_url_ref_registers_image(self):
        url = self.web.url + '/disk.qcow2'
        found = self.svc.detail(self.ctx, filters={'name': url})
        self.assertEqual(1, len(found))
        image = found[0]
        self.assertEqual(service.url_image_id(url), image['id'])
        self.assertEqual(('qcow2', 'active', len(QCOW2), 1 << 30),
                         (image['disk_format'], image['status'],
                          image['size'], image['virtual_size']))
        self.assertEqual(image, self.svc.detail(self.ctx, filters={
            'name': url})[0])  # unchanged on the server: same record
        out = io.BytesIO()
        self.svc.download(self.ctx, image['id'], out)
        self.assertEqual(QCOW2, out.getvalue())

    def test_checksum_verified(self):
        good = '%s/disk.raw#sha256=%s' % (self.web.url,
                                          hashlib.sha256(DATA).hexdigest())
        image = self.svc.detail(self.ctx, filters={'name': good})[0]
        self.assertEqual(DATA, b''.join(self.svc.download(self.ctx,
                                                          image['id'])))
        bad = '%s/disk.raw#md5=%s' % (self.web.url, '0' * 32)
        image = self.svc.detail(self.ctx, filters={'name': bad})[0]
        exc = self.assertRaises(exception.ImageDownloadFailed,
                                self.svc.download, self.ctx, image['id'],
                                io.BytesIO())
        self.assertIn('md5', str(exc))

    def test_changed_on_server(self):
        url = self.web.url + '/disk.raw'
        image = self.svc.detail(self.ctx, filters={'name': url})[0]
        self.web.server.files['/disk.raw'] = DATA + b'more'
        self.assertRaises(exception.ImageDownloadFailed, self.svc.download,
                          self.ctx, image['id'], io.BytesIO())
        renewed = self.svc.detail(self.ctx, filters={'name': url})[0]
        self.assertEqual(len(DATA) + 4, renewed['size'])
        self.assertGreater(renewed['updated_at'], image['updated_at'])
        self.assertEqual(image['created_at'], renewed['created_at'])

    def test_unusable_urls(self):
        for url in (self.web.url + '/missing', self.web.url + '/x#junk'):
            self.assertEqual([], self.svc.detail(self.ctx,
                                                 filters={'name': url}))
        self.conf.set_override('url_images', False, opts.IMAGE_GROUP)
        self.assertEqual([], self.svc.detail(
            self.ctx, filters={'name': self.web.url + '/disk.raw'}))

    def test_remote_image_service(self):
        # The factories build services on the global config, as cinder's
        # callers do.
        self.useFixture(fixtures.MockPatchObject(service.cfg, 'CONF',
                                                 self.conf))
        image = self.uploaded()
        svc, image_id = service.get_remote_image_service(self.ctx,
                                                         image['id'])
        self.assertEqual(image['id'], image_id)
        self.assertIsInstance(svc, service.ImageService)
        self.assertEqual(image['id'], service.get_remote_image_service(
            self.ctx, 'http://glance:9292/v2/images/' + image['id'])[1])
        url = self.web.url + '/disk.raw'
        self.assertEqual(service.url_image_id(url),
                         service.get_remote_image_service(self.ctx, url)[1])
        for bad in (self.web.url + '/missing', 'ftp://h/x', 'a/b'):
            self.assertRaises(exception.InvalidImageRef,
                              service.get_remote_image_service, self.ctx,
                              bad)


class UrlImageRulesTestCase(_ServiceBase):
    """[ksvd_image] url_roles and url_images also hold after registration."""

    def setUp(self):
        super(UrlImageRulesTestCase, self).setUp()
        self.web = self.useFixture(helpers.LoopbackServer({'/disk.raw':
                                                           DATA}))
        self.conf.set_override('url_images', True, opts.IMAGE_GROUP)
        self.conf.set_override('url_allowed_prefixes', [self.web.url + '/'],
                               opts.IMAGE_GROUP)
        self.conf.set_override('url_roles', ['admin'], opts.IMAGE_GROUP)
        self.url = self.web.url + '/disk.raw'

    def test_roles(self):
        member = Ctx()
        member.is_admin, member.roles = False, ['member', 'reader']
        self.assertEqual([], self.svc.detail(member,
                                             filters={'name': self.url}))
        self.assertRaises(exception.InvalidImageRef,
                          self.svc.resolve_image_href, member, self.url)
        self.assertEqual([], self.web.requests)
        image = self.svc.detail(self.ctx, filters={'name': self.url})[0]
        # Registered by an admin: a member still cannot make the service
        # fetch it.
        exc = self.assertRaises(exception.ImageDownloadFailed,
                                self.svc.download, member, image['id'],
                                io.BytesIO())
        self.assertIn('url_roles', str(exc))
        self.assertEqual(DATA, b''.join(self.svc.download(self.ctx,
                                                          image['id'])))

    def test_switched_off_after_registration(self):
        image = self.svc.detail(self.ctx, filters={'name': self.url})[0]
        self.conf.set_override('url_images', False, opts.IMAGE_GROUP)
        count = len(self.web.requests)
        exc = self.assertRaises(exception.ImageDownloadFailed,
                                self.svc.download, self.ctx, image['id'],
                                io.BytesIO())
        self.assertIn('url_images is off', str(exc))
        self.assertEqual(count, len(self.web.requests))

    def test_outside_the_prefixes(self):
        self.conf.set_override('url_allowed_prefixes',
                               [self.web.url + '/other/'], opts.IMAGE_GROUP)
        self.assertEqual([], self.svc.detail(self.ctx,
                                             filters={'name': self.url}))
        self.assertEqual([], self.web.requests)
