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

"""The directory image store: a folder on storage all hosts share.

Layout (doc/image-store.md)::

    <store>/<uuid>.json               the record: the commit point
    <store>/<uuid>.<token>.data       the bytes the record names
    <store>/.tmp/                     files being written

Every file is written under .tmp with a name no other writer (host, process)
can pick, synced, and renamed into place, so a reader sees either nothing
or a complete file; the record is renamed last, so a record never names
missing or partial data.  Image ids are canonical UUIDs, files are opened
without following symlinks, and a record may only name its own data file:
no id or record can reach outside the store.
"""

import errno
import hashlib
import io
import json
import os
import re
import socket
import sys
import uuid

from cinder_ksvd.image import meta

TMP_DIR = '.tmp'
RECORD_SUFFIX = '.json'
_UUID_RE = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-'
                      r'[0-9a-f]{12}$')
_DATA_RE = r'^%s\.[0-9a-f]{32}\.data$'
_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)


class StoreError(Exception):
    """Base of the store's errors; str() is one line."""


class InvalidId(StoreError):
    """Not an image id of this store."""


class NotFound(StoreError):
    """No such image."""


class Conflict(StoreError):
    """The image is not in a state that allows the change."""


class Corrupt(StoreError):
    """A record or data file is damaged or not what the record says."""


def canonical_id(image_id):
    """The canonical lower-case UUID form of image_id, or raise InvalidId.

    Only the 36-character hyphenated form is accepted (no braces, URNs or
    bare hex), so the id maps to exactly one file name.
    """
    if not isinstance(image_id, meta.STRING_TYPES):
        raise InvalidId('image id must be a string')
    text = image_id.lower()
    if not _UUID_RE.match(text):
        raise InvalidId('%r is not an image id (a UUID)' % (image_id,))
    return str(text)


def is_image_id(image_id):
    try:
        canonical_id(image_id)
    except InvalidId:
        return False
    return True


def _kernel_copy(src, dst):
    """Copy src to dst in the kernel; bytes copied, or None if unable."""
    copy = (getattr(os, 'copy_file_range', None) or
            getattr(os, 'sendfile', None))
    try:
        in_fd, out_fd = src.fileno(), dst.fileno()
        dst.flush()
    except (AttributeError, IOError, OSError, ValueError):
        return None
    if copy is None:
        return None
    total = 0
    while True:
        try:
            count = copy(out_fd, in_fd, None, 1 << 30) if (
                copy.__name__ == 'sendfile') else copy(in_fd, out_fd,
                                                       1 << 30)
        except OSError as exc:
            if total == 0 and exc.errno in (errno.EXDEV, errno.EINVAL,
                                            errno.ENOSYS, errno.EOPNOTSUPP):
                return None
            raise
        if not count:
            return total
        total += count


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class DirectoryStore(object):
    """Images as files under root; safe for writers on several hosts."""

    def __init__(self, root, chunk_size=4 * 1024 * 1024):
        self.root = os.path.abspath(root)
        self.chunk_size = chunk_size

    # -- paths -------------------------------------------------------------

    def _record_path(self, image_id):
        return os.path.join(self.root, canonical_id(image_id) + RECORD_SUFFIX)

    def _data_path(self, record):
        name = record.get('file')
        if not name or not re.match(_DATA_RE % re.escape(record['id']),
                                    name):
            raise Corrupt('record of image %s names no valid data file'
                          % record['id'])
        return os.path.join(self.root, name)

    def _tmp_path(self, stem):
        tmp = os.path.join(self.root, TMP_DIR)
        self._makedirs(tmp)
        return os.path.join(tmp, '%s.%s.%d.%s.part' % (
            stem, socket.gethostname(), os.getpid(), uuid.uuid4().hex))

    @staticmethod
    def _makedirs(path):
        try:
            os.makedirs(path)
        except OSError as exc:
            if exc.errno != errno.EEXIST or not os.path.isdir(path):
                raise

    def _open_new(self, path):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW,
                     0o644)
        return os.fdopen(fd, 'wb')

    # -- records -----------------------------------------------------------

    def get(self, image_id):
        """The record of image_id; NotFound, Corrupt or InvalidId."""
        path = self._record_path(image_id)
        try:
            fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise NotFound('image %s not found' % image_id)
            if exc.errno == errno.ELOOP:
                raise Corrupt('record of image %s is a symlink' % image_id)
            raise
        with os.fdopen(fd, 'rb') as handle:
            text = handle.read()
        try:
            record = json.loads(text.decode('utf-8'))
        except ValueError:
            raise Corrupt('record of image %s is not valid JSON' % image_id)
        if (not isinstance(record, dict) or
                record.get('id') != canonical_id(image_id)):
            raise Corrupt('record %s does not describe image %s'
                          % (path, image_id))
        return record

    def put(self, record):
        """Write record atomically (replaces the previous one)."""
        image_id = canonical_id(record['id'])
        self._makedirs(self.root)
        tmp = self._tmp_path(image_id + RECORD_SUFFIX)
        try:
            with self._open_new(tmp) as handle:
                handle.write(json.dumps(record, sort_keys=True,
                                        indent=1).encode('utf-8'))
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(tmp, self._record_path(image_id))
        except BaseException:
            self._unlink(tmp)
            raise
        _fsync_dir(self.root)
        return record

    def list(self):
        """Every readable record, sorted by creation time then id."""
        try:
            names = os.listdir(self.root)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return []
            raise
        records = []
        for name in names:
            if not name.endswith(RECORD_SUFFIX):
                continue
            image_id = name[:-len(RECORD_SUFFIX)]
            if not is_image_id(image_id):
                continue
            try:
                records.append(self.get(image_id))
            except (NotFound, Corrupt):
                continue
        records.sort(key=lambda r: (r.get('created_at') or '', r['id']))
        return records

    # -- data --------------------------------------------------------------

    def write_data(self, image_id, source):
        """Copy source (a file-like or an iterable of bytes) into the store.

        Returns (file name, meta.Digest).  Nothing is visible under the
        returned name until the copy is complete and synced; on any error
        the partial file is removed.
        """
        image_id = canonical_id(image_id)
        self._makedirs(self.root)
        tmp = self._tmp_path(image_id)
        name = '%s.%s.data' % (image_id, uuid.uuid4().hex)
        digest = meta.Digest()
        try:
            with self._open_new(tmp) as handle:
                for chunk in self._chunks(source):
                    digest.update(chunk)
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.rename(tmp, os.path.join(self.root, name))
        except BaseException:
            self._unlink(tmp)
            raise
        _fsync_dir(self.root)
        return name, digest

    def _chunks(self, source):
        read = getattr(source, 'read', None)
        if read is None:
            for chunk in source:
                if chunk:
                    yield chunk
            return
        while True:
            chunk = read(self.chunk_size)
            if not chunk:
                return
            yield chunk

    def open_data(self, record):
        """Open the data file of an active record for reading."""
        path = self._data_path(record)
        try:
            fd = os.open(path, os.O_RDONLY | _NOFOLLOW)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise NotFound('data of image %s is gone' % record['id'])
            if exc.errno == errno.ELOOP:
                raise Corrupt('data of image %s is a symlink' % record['id'])
            raise
        # io.open, not os.fdopen: eventlet's green os.fdopen gives Python 2
        # a GreenPipe, which has no readinto() (copy_to needs it).
        return io.open(fd, 'rb')

    def read_data(self, record, verify=True):
        """Yield the bytes of record's data; Corrupt at the end on mismatch.

        Size is always checked; the sha256 too when verify is true.
        """
        digest = meta.Digest() if verify else None
        size = 0
        with self.open_data(record) as handle:
            while True:
                chunk = handle.read(self.chunk_size)
                if not chunk:
                    break
                size += len(chunk)
                if digest is not None:
                    digest.update(chunk)
                yield chunk
        expected = record.get('size')
        if expected is not None and size != expected:
            raise Corrupt('data of image %s has %d bytes, its record says %d'
                          % (record['id'], size, expected))
        if digest is not None:
            reason = digest.mismatch(sha256=record.get('os_hash_value'),
                                     md5=record.get('checksum'))
            if reason:
                raise Corrupt('data of image %s is damaged: %s'
                              % (record['id'], reason))

    def copy_data(self, record, data, verify=True):
        """Write record's data into file-like data; Corrupt on mismatch.

        Unverified copies of a file with a descriptor use the kernel
        (copy_file_range or sendfile: no bytes through Python); otherwise
        one reused buffer, sha256 only.
        """
        expected = record.get('size')
        with self.open_data(record) as handle:
            size = None
            if not verify:
                size = _kernel_copy(handle, data)
            if size is None:
                sha = hashlib.sha256() if verify else None
                size = 0
                # eventlet's green files on Python 2 have no readinto, and
                # Python 2 files do not take memoryviews: read() there.
                readinto = (getattr(handle, 'readinto', None)
                            if sys.version_info[0] > 2 else None)
                buf = bytearray(self.chunk_size)
                view = memoryview(buf)
                while True:
                    if readinto is not None:
                        count = readinto(buf)
                        chunk = view[:count]
                    else:
                        chunk = handle.read(self.chunk_size)
                        count = len(chunk)
                    if not count:
                        break
                    size += count
                    if sha is not None:
                        sha.update(chunk)
                    data.write(chunk)
                if sha is not None and record.get('os_hash_value') and (
                        sha.hexdigest() != record['os_hash_value']):
                    raise Corrupt('data of image %s is damaged: sha256 %s, '
                                  'expected %s' % (record['id'],
                                                   sha.hexdigest(),
                                                   record['os_hash_value']))
        if expected is not None and size != expected:
            raise Corrupt('data of image %s has %d bytes, its record says %d'
                          % (record['id'], size, expected))

    # -- removal -----------------------------------------------------------

    def delete(self, image_id):
        """Remove the record (atomically), then its data; NotFound if none."""
        record = self.get(image_id)
        tomb = self._tmp_path(canonical_id(image_id) + '.deleted')
        try:
            os.rename(self._record_path(image_id), tomb)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise NotFound('image %s not found' % image_id)
            raise
        _fsync_dir(self.root)
        if record.get('file'):
            try:
                self._unlink(self._data_path(record))
            except Corrupt:
                pass
        self._unlink(tomb)
        return record

    def remove_data_file(self, name, image_id):
        """Remove a data file of image_id no record names any more."""
        self._data_path({'id': canonical_id(image_id), 'file': name})
        self._unlink(os.path.join(self.root, name))

    @staticmethod
    def _unlink(path):
        try:
            os.unlink(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
