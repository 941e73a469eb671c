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

"""Image records as stored, and the metadata dict cinder expects.

A record is the JSON object kept per image (doc/image-store.md).  cinder
reads images in the shape Glance's client gives it (every base property at
top level, custom properties under 'properties', datetimes that carry a
time zone: the image-volume cache calls astimezone() on updated_at, which a
naive datetime fails on Python 2).  That shape is the same in cinder 15 to
29; to_cinder() builds it.
"""

import copy
import hashlib
import json
import struct

from oslo_utils import timeutils

try:
    STRING_TYPES = (str, unicode)  # noqa: F821  (Python 2)
except NameError:
    STRING_TYPES = (str,)

RECORD_FORMAT = 1

STATUSES = ('queued', 'saving', 'active', 'killed')

# Glance v2 base properties cinder reads at top level; anything else a
# caller sets goes under 'properties'.
BASE_KEYS = ('id', 'name', 'status', 'visibility', 'protected', 'checksum',
             'os_hash_algo', 'os_hash_value', 'owner', 'size',
             'virtual_size', 'min_ram', 'min_disk', 'container_format',
             'disk_format', 'created_at', 'updated_at', 'tags', 'os_hidden')
# Keys a caller may change through update(); the rest belong to the store.
MUTABLE_KEYS = ('name', 'visibility', 'protected', 'min_ram', 'min_disk',
                'container_format', 'disk_format', 'owner', 'tags',
                'os_hidden', 'cinder_encryption_key_id',
                'cinder_encryption_key_deletion_policy')
# Volume facts cinder copies into an uploaded image's properties that must
# not come back as image properties: cinder 15/16 record signature_verified
# for every volume made from an image and then copy the image's properties,
# so a second one fails the create (GlanceMetadataExists).
VOLUME_ONLY_PROPERTIES = ('signature_verified',)
# Properties Glance keeps as JSON strings and cinder wants decoded.
JSON_PROPERTIES = ('block_device_mapping', 'mappings')

QCOW2_MAGIC = b'QFI\xfb'
HEAD_BYTES = 512


def now():
    """The current time as an ISO 8601 string with its UTC offset."""
    return timeutils.utcnow(with_timezone=True).isoformat()


def new_record(image_id, image_meta=None, owner=None):
    """A queued record for a new image, from cinder's create() metadata."""
    image_meta = copy.deepcopy(image_meta or {})
    stamp = now()
    record = {
        'format': RECORD_FORMAT,
        'id': image_id,
        'name': None,
        'status': 'queued',
        'visibility': 'private',
        'protected': False,
        'owner': owner,
        'size': None,
        'virtual_size': None,
        'checksum': None,
        'os_hash_algo': None,
        'os_hash_value': None,
        'min_ram': 0,
        'min_disk': 0,
        'container_format': None,
        'disk_format': None,
        'tags': [],
        'created_at': stamp,
        'updated_at': stamp,
        'file': None,
        'source_url': None,
        'locations': [],
        'properties': {},
    }
    apply_changes(record, image_meta, purge_props=False)
    return record


def apply_changes(record, image_meta, purge_props=True):
    """Merge caller metadata into record (Glance update semantics)."""
    image_meta = dict(image_meta or {})
    props = dict(image_meta.pop('properties', None) or {})
    if 'is_public' in image_meta:  # cinder 15 era callers
        public = image_meta.pop('is_public')
        image_meta.setdefault('visibility',
                              'public' if public else 'private')
    for key, value in image_meta.items():
        if key in MUTABLE_KEYS:
            record[key] = value
        elif key not in BASE_KEYS and key not in record:
            props[key] = value
    for key in VOLUME_ONLY_PROPERTIES:
        props.pop(key, None)
    for key in JSON_PROPERTIES:
        if key in props and not isinstance(props[key], STRING_TYPES):
            props[key] = json.dumps(props[key])
    if purge_props and props:
        record['properties'] = props
    else:
        record['properties'].update(props)
    record['updated_at'] = now()
    return record


def _aware(value):
    if not value:
        return None
    return timeutils.parse_isotime(value)


def to_cinder(record):
    """The dict GlanceImageService.show() would return for record."""
    meta = dict((key, copy.deepcopy(record.get(key))) for key in BASE_KEYS)
    for key in ('created_at', 'updated_at'):
        meta[key] = _aware(record.get(key))
    meta['deleted'] = False
    meta['deleted_at'] = None
    for key in ('cinder_encryption_key_id',
                'cinder_encryption_key_deletion_policy'):
        if record.get(key):
            meta[key] = record[key]
    props = copy.deepcopy(record.get('properties') or {})
    for key in VOLUME_ONLY_PROPERTIES:  # records stored before the filter
        props.pop(key, None)
    for key in JSON_PROPERTIES:
        if isinstance(props.get(key), STRING_TYPES):
            try:
                props[key] = json.loads(props[key])
            except ValueError:
                pass
    meta['properties'] = props
    return meta


def sniff(head, size):
    """(disk_format, virtual_size) from the first bytes of an image.

    Only qcow2 is recognised; anything else is raw, whose virtual size is
    its size.  cinder checks the format again with qemu-img before use.
    """
    if head[:4] == QCOW2_MAGIC and len(head) >= 32:
        return 'qcow2', struct.unpack('>Q', head[24:32])[0]
    return 'raw', size


def virtual_size(disk_format, head, size):
    """Virtual size in bytes for disk_format, or None when unknown."""
    if disk_format == 'raw':
        return size
    if disk_format == 'qcow2' and head[:4] == QCOW2_MAGIC and len(head) >= 32:
        return struct.unpack('>Q', head[24:32])[0]
    return None


class Digest(object):
    """Size, md5 (Glance's 'checksum') and sha256 of bytes seen so far."""

    def __init__(self):
        self.size = 0
        self.md5 = hashlib.md5()
        self.sha256 = hashlib.sha256()
        self.head = b''

    def update(self, chunk):
        self.size += len(chunk)
        self.md5.update(chunk)
        self.sha256.update(chunk)
        if len(self.head) < HEAD_BYTES:
            piece = chunk[:HEAD_BYTES - len(self.head)]
            if isinstance(piece, memoryview):
                # Python 2's bytes(memoryview) is its repr, not its bytes.
                piece = piece.tobytes()
            self.head += bytes(piece)

    def mismatch(self, size=None, sha256=None, md5=None):
        """One-line reason the bytes differ from the expected ones, or None."""
        if size is not None and self.size != size:
            return 'got %d bytes, expected %d' % (self.size, size)
        if sha256 and self.sha256.hexdigest() != sha256.lower():
            return 'sha256 %s, expected %s' % (self.sha256.hexdigest(),
                                               sha256.lower())
        if md5 and self.md5.hexdigest() != md5.lower():
            return 'md5 %s, expected %s' % (self.md5.hexdigest(),
                                            md5.lower())
        return None
