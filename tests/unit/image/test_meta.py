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

import struct

from tests.unit import base

from cinder_ksvd.image import meta

ID = '7c1b7a4e-4b4e-4f0e-8f0e-1d2c3b4a5f6e'


def qcow2_head(virtual):
    return (meta.QCOW2_MAGIC + struct.pack('>I', 3) + b'\0' * 16 +
            struct.pack('>Q', virtual) + b'\0' * 480)


class MetaTestCase(base.TestCase):

    def test_new_record_splits_base_and_custom(self):
        record = meta.new_record(ID, {
            'name': 'n', 'disk_format': 'qcow2', 'container_format': 'bare',
            'status': 'active', 'size': 5, 'hw_disk_bus': 'virtio',
            'properties': {'cinder_img_volume_type': 'fast',
                           'block_device_mapping': [{'boot_index': 0}]}},
            owner='p')
        self.assertEqual('queued', record['status'])
        self.assertIsNone(record['size'])
        self.assertEqual('p', record['owner'])
        self.assertEqual({'cinder_img_volume_type': 'fast',
                          'hw_disk_bus': 'virtio',
                          'block_device_mapping': '[{"boot_index": 0}]'},
                         record['properties'])

    def test_is_public_of_old_callers(self):
        self.assertEqual('public', meta.new_record(
            ID, {'is_public': True})['visibility'])

    def test_to_cinder_shape(self):
        record = meta.new_record(ID, {'name': 'n', 'properties': {
            'mappings': '[1, 2]', 'k': 'v'}})
        shown = meta.to_cinder(record)
        for key in meta.BASE_KEYS:
            self.assertIn(key, shown)
        self.assertNotIn('file', shown)
        self.assertNotIn('source_url', shown)
        self.assertEqual({'mappings': [1, 2], 'k': 'v'}, shown['properties'])
        for key in ('created_at', 'updated_at'):
            self.assertIsNotNone(shown[key].tzinfo)
            self.assertEqual(0, shown[key].utcoffset().total_seconds())
        self.assertIsNone(shown['deleted_at'])

    def test_signature_verified_is_not_an_image_property(self):
        # cinder 15/16 copy an uploaded volume's signature_verified into the
        # image, then fail every volume made from it (GlanceMetadataExists).
        record = meta.new_record(ID, {'properties': {'a': '1'}})
        meta.apply_changes(record, {'properties': {
            'a': '1', 'signature_verified': 'False'}})
        self.assertEqual({'a': '1'}, record['properties'])
        record['properties']['signature_verified'] = 'False'
        self.assertEqual({'a': '1'}, meta.to_cinder(record)['properties'])

    def test_update_purges_properties(self):
        record = meta.new_record(ID, {'properties': {'a': '1', 'b': '2'}})
        meta.apply_changes(record, {'properties': {'a': '3'}},
                           purge_props=True)
        self.assertEqual({'a': '3'}, record['properties'])
        meta.apply_changes(record, {'properties': {'c': '4'}},
                           purge_props=False)
        self.assertEqual({'a': '3', 'c': '4'}, record['properties'])
        meta.apply_changes(record, {'status': 'active', 'file': '/etc'})
        self.assertEqual('queued', record['status'])
        self.assertIsNone(record['file'])

    def test_sniff(self):
        self.assertEqual(('qcow2', 1 << 30),
                         meta.sniff(qcow2_head(1 << 30), 4096))
        self.assertEqual(('raw', 4096), meta.sniff(b'\0' * 512, 4096))
        self.assertEqual(1 << 30, meta.virtual_size('qcow2',
                                                    qcow2_head(1 << 30), 9))
        self.assertIsNone(meta.virtual_size('vmdk', b'KDMV', 9))
        self.assertIsNone(meta.virtual_size('qcow2', b'\0' * 64, 9))

    def test_digest(self):
        digest = meta.Digest()
        digest.update(b'a' * 300)
        digest.update(memoryview(b'b' * 300))
        self.assertEqual(b'a' * 300 + b'b' * 212, digest.head)
        self.assertIsNone(digest.mismatch(
            size=600, sha256=digest.sha256.hexdigest().upper(),
            md5=digest.md5.hexdigest()))
        self.assertIn('got 600 bytes, expected 601',
                      digest.mismatch(size=601))
        self.assertIn('expected ' + '0' * 64,
                      digest.mismatch(sha256='0' * 64))
        self.assertIn('md5', digest.mismatch(md5='0' * 32))
