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

import hashlib
import io
import json
import multiprocessing
import os

from tests.unit import base

from cinder_ksvd.image import dirstore
from cinder_ksvd.image import meta

ID = '7c1b7a4e-4b4e-4f0e-8f0e-1d2c3b4a5f6e'
OTHER = '0d6f6a8e-3c1f-4e55-9d49-0a4b2a3c1e7f'


def _write_images(root, prefix, count):
    """Child process: store count images of 1 MiB with distinct bytes."""
    store = dirstore.DirectoryStore(root, chunk_size=65536)
    for index in range(count):
        image_id = '%s-0000-4000-8000-%012d' % (prefix, index)
        record = meta.new_record(image_id, {'name': image_id})
        store.put(record)
        name, digest = store.write_data(
            image_id, [bytes(bytearray([index % 256]) * 65536)] * 16)
        record.update(file=name, size=digest.size, status='active',
                      os_hash_value=digest.sha256.hexdigest())
        store.put(record)


class IdTestCase(base.TestCase):

    def test_canonical(self):
        self.assertEqual(ID, dirstore.canonical_id(ID.upper()))
        self.assertTrue(dirstore.is_image_id(ID))

    def test_escapes_refused(self):
        for bad in ('../' + ID, ID + '/..', '/etc/passwd', '..', '',
                    ID + '\x00', ID[:-1] + '\x00', '{%s}' % ID,
                    ID.replace('-', ''), 'urn:uuid:' + ID, ID + '.json',
                    None, 42, b'x'):
            self.assertRaises(dirstore.InvalidId, dirstore.canonical_id,
                              bad)
            self.assertFalse(dirstore.is_image_id(bad))


class DirectoryStoreTestCase(base.TestCase):

    def setUp(self):
        super(DirectoryStoreTestCase, self).setUp()
        self.outside = self.make_tempdir()
        self.root = os.path.join(self.make_tempdir(), 'store')
        self.store = dirstore.DirectoryStore(self.root, chunk_size=4096)

    def stored(self, data=b'abc' * 5000, image_id=ID):
        record = self.store.put(meta.new_record(image_id, {'name': 'x'}))
        name, digest = self.store.write_data(image_id, [data])
        record.update(file=name, size=digest.size, status='active',
                      checksum=digest.md5.hexdigest(),
                      os_hash_value=digest.sha256.hexdigest())
        return self.store.put(record)

    def files(self):
        found = []
        for top, _dirs, names in os.walk(self.root):
            found.extend(os.path.relpath(os.path.join(top, n), self.root)
                         for n in names)
        return sorted(found)

    def test_round_trip(self):
        data = os.urandom(100000)
        record = self.stored(data)
        self.assertEqual(record, self.store.get(ID.upper()))
        self.assertEqual(data, b''.join(self.store.read_data(record)))
        self.assertEqual(hashlib.sha256(data).hexdigest(),
                         record['os_hash_value'])
        self.assertEqual(sorted([ID + '.json', record['file']]),
                         self.files())
        self.assertEqual([ID], [r['id'] for r in self.store.list()])

    def test_file_like_source(self):
        with open(self.write_file(self.outside, 'src', 'x' * 10000),
                  'rb') as handle:
            name, digest = self.store.write_data(ID, handle)
        self.assertEqual(10000, digest.size)
        self.assertTrue(name.startswith(ID + '.') and name.endswith('.data'))

    def test_copy_from_a_file_without_readinto(self):
        # eventlet's green files on Python 2 have read() only (issue 20:
        # every volume from an image failed there with AttributeError).
        data = os.urandom(50000)
        record = self.stored(data)
        real_open = self.store.open_data

        class ReadOnly(object):
            def __init__(self, handle):
                self.handle = handle

            def read(self, size=-1):
                return self.handle.read(size)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.handle.close()

        self.store.open_data = lambda rec: ReadOnly(real_open(rec))
        target = io.BytesIO()
        self.store.copy_data(record, target)
        self.assertEqual(data, target.getvalue())

    def test_missing(self):
        self.assertRaises(dirstore.NotFound, self.store.get, ID)
        self.assertRaises(dirstore.NotFound, self.store.delete, ID)
        self.assertEqual([], self.store.list())

    def test_partial_write_leaves_nothing(self):
        def source():
            yield b'x' * 10000
            raise IOError('client went away')
        self.assertRaises(IOError, self.store.write_data, ID, source())
        self.assertEqual([], self.files())

    def test_partial_record_write_keeps_old_record(self):
        record = self.stored()

        class Boom(object):
            def __init__(self, value):
                self.value = value

            def __repr__(self):
                raise RuntimeError('boom')
        broken = dict(record, name=Boom(1))
        # Python 2's json puts repr() of the value in its TypeError.
        self.assertRaises((TypeError, RuntimeError), self.store.put, broken)
        self.assertEqual(record, self.store.get(ID))
        self.assertEqual([], os.listdir(os.path.join(self.root, '.tmp')))

    def test_symlinked_record_refused(self):
        self.store.put(meta.new_record(OTHER))
        base.makedirs(self.root)
        target = self.write_file(self.outside, 'secret',
                                 json.dumps({'id': ID}))
        os.symlink(target, os.path.join(self.root, ID + '.json'))
        self.assertRaises(dirstore.Corrupt, self.store.get, ID)
        self.assertEqual([OTHER], [r['id'] for r in self.store.list()])

    def test_symlinked_data_refused(self):
        record = self.stored()
        path = os.path.join(self.root, record['file'])
        os.unlink(path)
        os.symlink(self.write_file(self.outside, 'secret', 'x'), path)
        self.assertRaises(dirstore.Corrupt,
                          lambda: list(self.store.read_data(record)))

    def test_record_cannot_name_other_files(self):
        record = self.stored()
        theirs = self.stored(image_id=OTHER)
        for name in ('../../etc/passwd', '/etc/passwd', theirs['file'],
                     ID + '.json', record['file'] + '/..', '',
                     record['file'].replace('.data', '.data\x00')):
            bad = dict(record, file=name)
            self.assertRaises(dirstore.Corrupt, self.store.open_data, bad)

    def test_record_of_another_id_refused(self):
        self.stored()
        os.rename(os.path.join(self.root, ID + '.json'),
                  os.path.join(self.root, OTHER + '.json'))
        self.assertRaises(dirstore.Corrupt, self.store.get, OTHER)

    def test_corrupt_json(self):
        os.makedirs(self.root)
        self.write_file(self.root, ID + '.json', '{"id": ')
        self.assertRaises(dirstore.Corrupt, self.store.get, ID)

    def test_truncated_data_detected(self):
        record = self.stored(b'z' * 20000)
        with open(os.path.join(self.root, record['file']), 'r+b') as handle:
            handle.truncate(19999)
        exc = self.assertRaises(dirstore.Corrupt,
                                lambda: list(self.store.read_data(record)))
        self.assertIn('19999 bytes, its record says 20000', str(exc))

    def test_flipped_byte_detected(self):
        record = self.stored(b'z' * 20000)
        with open(os.path.join(self.root, record['file']), 'r+b') as handle:
            handle.seek(777)
            handle.write(b'y')
        exc = self.assertRaises(dirstore.Corrupt,
                                lambda: list(self.store.read_data(record)))
        self.assertIn('sha256', str(exc))
        # Without verification the size is still checked, not the bytes.
        self.assertEqual(20000, len(b''.join(
            self.store.read_data(record, verify=False))))

    def test_delete(self):
        self.stored()
        self.store.delete(ID)
        self.assertEqual([], [f for f in self.files()])
        self.assertRaises(dirstore.NotFound, self.store.get, ID)

    def test_list_skips_junk(self):
        self.stored()
        for name in ('notes.json', 'x' + ID + '.json', '.hidden.json'):
            self.write_file(self.root, name, '{}')
        self.write_file(self.root, OTHER + '.json', 'garbage')
        self.assertEqual([ID], [r['id'] for r in self.store.list()])

    def test_concurrent_writers(self):
        """Four processes write to one store: every record is whole."""
        # Python 2 has no get_context; it always forks.
        ctx = (multiprocessing.get_context('fork')
               if hasattr(multiprocessing, 'get_context') else multiprocessing)
        procs = [ctx.Process(target=_write_images,
                             args=(self.root, '%08d' % n, 5))
                 for n in range(4)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
            self.assertEqual(0, proc.exitcode)
        records = self.store.list()
        self.assertEqual(20, len(records))
        for record in records:
            data = b''.join(self.store.read_data(record))
            self.assertEqual(1 << 20, len(data))
        self.assertEqual([], os.listdir(os.path.join(self.root, '.tmp')))
        self.assertEqual(40, len(os.listdir(self.root)) - 1)
