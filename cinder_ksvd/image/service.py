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

"""cinder's image service without Glance: KSVD's directory and HTTP stores.

ImageService has the methods cinder 15 to 29 call on GlanceImageService,
with the same arguments, results and exceptions.  Images are records in the
directory store; a record either owns a data file there or names an
http(s) URL its bytes are streamed from (a URL given as imageRef is
registered that way, under an id derived from the URL).  Copies of stored
files run in a native thread when eventlet is active, so a large image
does not stall the service's other green threads.
"""

import os
import uuid

from cinder import exception
from oslo_config import cfg
from oslo_log import log as logging

from cinder_ksvd.image import dirstore
from cinder_ksvd.image import httpstore
from cinder_ksvd.image import meta
from cinder_ksvd import opts

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
STORE_DIR_NAME = 'ksvd-images'
DIR_STORE_ID = 'ksvd-directory'
HTTP_STORE_ID = 'ksvd-http'


def store_dir(conf):
    """The configured store directory, or <state_path>/ksvd-images."""
    opts.register_opts(conf)
    path = conf[opts.IMAGE_GROUP].store_dir
    if path:
        return path
    try:
        state_path = conf.state_path
    except cfg.NoSuchOptError:
        state_path = '/var/lib/cinder'
    return os.path.join(state_path, STORE_DIR_NAME)


def url_image_id(url):
    """The image id a URL imageRef is registered under (stable)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, url.strip()))


def _blocking(fn, *args):
    """Run fn in a native thread when eventlet patched this process."""
    try:
        from eventlet import patcher
        from eventlet import tpool
    except ImportError:
        return fn(*args)
    if patcher.is_monkey_patched('thread'):
        return tpool.execute(fn, *args)
    return fn(*args)


def _write_all(chunks, data):
    for chunk in chunks:
        data.write(chunk)


class ImageService(object):
    """What cinder calls on its image service (GlanceImageService)."""

    # Set and read by cinder's image_utils.TemporaryImages.
    temp_images = None

    def __init__(self, client=None, conf=None):
        # client: GlanceImageService(client=...) callers; there is none here.
        self._conf = conf or cfg.CONF
        opts.register_opts(self._conf)
        self.temp_images = None

    # -- helpers -----------------------------------------------------------

    @property
    def _group(self):
        return self._conf[opts.IMAGE_GROUP]

    def _store(self):
        return dirstore.DirectoryStore(store_dir(self._conf),
                                       chunk_size=self._group.chunk_size)

    def _http(self, context):
        """The HTTP store with the operator's rules, for this caller.

        HttpImageError unless the caller has one of [ksvd_image] url_roles.
        """
        group = self._group
        roles = set(getattr(context, 'roles', None) or ())
        if not (roles & set(group.url_roles) or
                getattr(context, 'ksvd_operator', False)):
            raise httpstore.HttpImageError(
                'image URLs are only for tokens with a role of [%s] '
                'url_roles (%s); this one has %s'
                % (opts.IMAGE_GROUP, ', '.join(group.url_roles) or 'none',
                   ', '.join(sorted(roles)) or 'no role'))
        try:
            return httpstore.HttpStore(
                verify=group.http_verify, ca_file=group.http_ca_file,
                timeout=group.http_timeout,
                max_redirects=group.http_max_redirects,
                allowed_hosts=group.url_allowed_hosts,
                chunk_size=group.chunk_size,
                allowed_prefixes=group.url_allowed_prefixes,
                allowed_networks=group.url_allowed_networks)
        except ValueError as exc:  # preflight refuses these at start
            raise httpstore.HttpImageError('[%s]: %s' % (opts.IMAGE_GROUP,
                                                         exc))

    def url_images_on(self):
        return bool(self._group.url_images)

    def _record(self, image_id):
        try:
            return self._store().get(image_id)
        except (dirstore.InvalidId, dirstore.NotFound):
            raise exception.ImageNotFound(image_id=image_id)
        except dirstore.Corrupt as exc:
            LOG.error('Image store: %s', exc)
            raise exception.ImageNotFound(image_id=image_id)

    # -- reading -----------------------------------------------------------

    def show(self, context, image_id):
        """Metadata of image_id in Glance's shape; ImageNotFound if none."""
        return meta.to_cinder(self._record(image_id))

    def detail(self, context, **kwargs):
        """Images matching filters (name, status, ...), Glance's order.

        A name that is an http(s) URL registers that URL as an image when
        [ksvd_image] url_images is on: this is how cinder's API resolves an
        imageRef that is a URL.
        """
        filters = dict(kwargs.get('filters') or {})
        name = filters.get('name')
        if name and httpstore.is_url(name) and self._group.url_images:
            try:
                return [meta.to_cinder(self.register_url(context, name))]
            except (httpstore.HttpImageError, dirstore.StoreError) as exc:
                LOG.warning('Image URL %(url)s cannot be used: %(error)s',
                            {'url': name, 'error': exc})
                return []
        records = [r for r in self._store().list()
                   if all(_matches(r, k, v) for k, v in filters.items())]
        reverse = kwargs.get('sort_dir', 'desc') == 'desc'
        key = kwargs.get('sort_key') or 'created_at'
        records.sort(key=lambda r: (str(r.get(key)), r['id']),
                     reverse=reverse)
        marker = kwargs.get('marker')
        if marker:
            ids = [r['id'] for r in records]
            records = records[ids.index(marker) + 1:] if marker in ids else []
        limit = kwargs.get('limit')
        if limit:
            records = records[:int(limit)]
        return [meta.to_cinder(r) for r in records]

    def list_members(self, context, image_id):
        """No sharing between projects in the KSVD store."""
        self._record(image_id)
        return []

    def get_stores(self, context):
        """The two stores, as Glance's /v2/info/stores lists them (16+)."""
        return {'stores': [
            {'id': DIR_STORE_ID, 'default': 'true',
             'description': 'KSVD image store directory'},
            {'id': HTTP_STORE_ID, 'read-only': 'true',
             'description': 'images on http(s) servers'},
        ]}

    def get_location(self, context, image_id):
        """(direct_url, locations): only cinder:// locations are kept."""
        record = self._record(image_id)
        return None, [dict(loc) for loc in record.get('locations') or []]

    def download(self, context, image_id, data=None):
        """Write the image's bytes to data, or return them as an iterator.

        Size and checksum are verified; a mismatch raises
        ImageDownloadFailed after the bytes were written (cinder's fetch
        removes the file).
        """
        record = self._record(image_id)
        if record.get('status') != 'active':
            raise exception.ImageUnacceptable(
                image_id=image_id,
                reason='image is %s, not active' % record.get('status'))
        chunks = self._chunks(context, record)
        if data is None:
            return chunks
        if record.get('file'):
            _blocking(self._copy_file, record, data)
        else:
            _write_all(chunks, data)

    def _copy_file(self, record, data):
        try:
            self._store().copy_data(record, data,
                                    verify=self._group.verify_on_read)
        except dirstore.StoreError as exc:
            raise exception.ImageDownloadFailed(image_href=record['id'],
                                                reason=str(exc))

    def _chunks(self, context, record):
        image_id = record['id']
        try:
            if record.get('file'):
                for chunk in self._store().read_data(
                        record, verify=self._group.verify_on_read):
                    yield chunk
            elif record.get('source_url'):
                for chunk in self._url_chunks(context, record):
                    yield chunk
            else:
                locations = [loc.get('url') for loc in
                             record.get('locations') or []]
                raise exception.ImageDownloadFailed(
                    image_href=image_id,
                    reason='the image has no data in the store, only '
                           'locations %s (set allowed_direct_url_schemes '
                           '= cinder to clone them)' % ', '.join(locations))
        except (dirstore.StoreError, httpstore.HttpImageError) as exc:
            raise exception.ImageDownloadFailed(image_href=image_id,
                                                reason=str(exc))

    def _url_chunks(self, context, record):
        if not self._group.url_images:
            raise httpstore.HttpImageError(
                'image %s is a URL image and [%s] url_images is off'
                % (record['id'], opts.IMAGE_GROUP))
        url, expected = httpstore.split_url(record['source_url'])
        digest = meta.Digest()
        http = self._http(context)
        for chunk in http.stream(url, size=record.get('size')):
            digest.update(chunk)
            yield chunk
        reason = digest.mismatch(
            size=record.get('size'),
            sha256=expected.get('sha256') or record.get('os_hash_value'),
            md5=expected.get('md5') or record.get('checksum'))
        if reason:
            raise httpstore.HttpImageError('%s: %s' % (url, reason))

    def resolve_image_href(self, context, image_href):
        """The image id an image reference names.

        An id is used as it is; an http(s) URL is registered as a URL
        image (when allowed); a Glance-style href ending in an image id
        names that id.  cinder calls this through get_remote_image_service
        (ours, or a cinder with [DEFAULT] image_service_class: patches/).
        """
        href = str(image_href)
        if '/' not in href:
            return href
        if httpstore.is_url(href) and self._group.url_images:
            last = href.split('#', 1)[0].rstrip('/').split('/')[-1]
            if dirstore.is_image_id(last):
                try:
                    self._store().get(last)
                    return dirstore.canonical_id(last)
                except dirstore.StoreError:
                    pass
            try:
                return self.register_url(context, href)['id']
            except (httpstore.HttpImageError, dirstore.StoreError) as exc:
                LOG.warning('Image URL %(url)s cannot be used: %(error)s',
                            {'url': href, 'error': exc})
                raise exception.InvalidImageRef(image_href=href)
        last = href.rstrip('/').split('/')[-1]
        if dirstore.is_image_id(last):
            return dirstore.canonical_id(last)
        raise exception.InvalidImageRef(image_href=href)

    def register_url(self, context, url):
        """Record the image at an http(s) URL; return its record.

        The URL is probed (size, first bytes) every time, and the record
        renewed when what the server reports changed, so cinder's
        image-volume cache sees a new updated_at.
        """
        url = url.strip()
        bare, expected = httpstore.split_url(url)
        probe = self._http(context).probe(bare)
        store = self._store()
        image_id = url_image_id(url)
        fingerprint = {'size': probe['size'], 'etag': probe['etag'],
                       'last_modified': probe['last_modified']}
        try:
            old = store.get(image_id)
        except dirstore.NotFound:
            old = None
        if (old and old.get('source_url') == url and
                old.get('source_fingerprint') == fingerprint and
                old.get('status') == 'active'):
            return old
        disk_format, virtual_size = meta.sniff(probe['head'], probe['size'])
        record = meta.new_record(
            image_id, {'name': url, 'disk_format': disk_format,
                       'container_format': 'bare', 'visibility': 'public'},
            owner=getattr(context, 'project_id', None))
        if old:
            record['created_at'] = old['created_at']
        record.update({'status': 'active', 'size': probe['size'],
                       'virtual_size': virtual_size, 'source_url': url,
                       'source_fingerprint': fingerprint})
        if expected.get('sha256'):
            record.update(os_hash_algo='sha256',
                          os_hash_value=expected['sha256'])
        if expected.get('md5'):
            record['checksum'] = expected['md5']
        store.put(record)
        LOG.info('Registered image URL %(url)s as image %(id)s '
                 '(%(format)s, %(size)d bytes)',
                 {'url': url, 'id': image_id, 'format': disk_format,
                  'size': probe['size']})
        return record

    # -- writing -----------------------------------------------------------

    def create(self, context, image_meta, data=None):
        """A new queued image (cinder's upload-to-image, API side)."""
        image_meta = dict(image_meta or {})
        image_id = image_meta.pop('id', None) or str(uuid.uuid4())
        for key in ('status', 'size', 'checksum', 'created_at', 'updated_at',
                    'deleted', 'deleted_at', 'virtual_size'):
            image_meta.pop(key, None)
        try:
            image_id = dirstore.canonical_id(image_id)
        except dirstore.InvalidId as exc:
            raise exception.Invalid(str(exc))
        store = self._store()
        try:
            store.get(image_id)
        except dirstore.NotFound:
            pass
        else:
            raise exception.Duplicate('image %s exists' % image_id)
        owner = image_meta.pop('owner', None) or getattr(context,
                                                         'project_id', None)
        record = meta.new_record(image_id, image_meta, owner=owner)
        store.put(record)
        if data is not None:
            return self.update(context, image_id, {}, data)
        return meta.to_cinder(record)

    def update(self, context, image_id, image_meta, data=None,
               purge_props=True, store_id=None, base_image_ref=None,
               **kwargs):
        """Upload data (once) and/or change metadata of image_id.

        store_id and base_image_ref (cinder 16+) name Glance stores; there
        is one writable store here.
        """
        record = self._record(image_id)
        store = self._store()
        if data is not None:
            record = self._upload(store, record, data)
        if image_meta:
            changes = dict(image_meta)
            changes.pop('id', None)
            meta.apply_changes(record, changes, purge_props=purge_props)
            store.put(record)
        return meta.to_cinder(record)

    def _upload(self, store, record, data):
        image_id = record['id']
        if record.get('status') not in ('queued', 'saving'):
            raise exception.Invalid('image %s is %s: its data cannot change'
                                    % (image_id, record.get('status')))
        record['status'] = 'saving'
        store.put(record)
        try:
            name, digest = _blocking(store.write_data, image_id, data)
        except dirstore.StoreError as exc:
            self._requeue(store, image_id)
            raise exception.ImageUnacceptable(image_id=image_id,
                                              reason=str(exc))
        except BaseException:
            self._requeue(store, image_id)
            raise
        fresh = store.get(image_id)  # metadata may have changed meanwhile
        if fresh.get('status') == 'active':
            store.remove_data_file(name, image_id)
            raise exception.Invalid('image %s was uploaded by another '
                                    'writer meanwhile' % image_id)
        disk_format = fresh.get('disk_format')
        if not disk_format:
            disk_format = meta.sniff(digest.head, digest.size)[0]
        fresh.update({
            'status': 'active', 'file': name, 'size': digest.size,
            'disk_format': disk_format,
            'container_format': fresh.get('container_format') or 'bare',
            'virtual_size': meta.virtual_size(disk_format, digest.head,
                                              digest.size),
            'checksum': digest.md5.hexdigest(),
            'os_hash_algo': 'sha256',
            'os_hash_value': digest.sha256.hexdigest(),
            'updated_at': meta.now()})
        store.put(fresh)
        LOG.info('Image %(id)s stored: %(size)d bytes, sha256 %(sha)s',
                 {'id': image_id, 'size': digest.size,
                  'sha': fresh['os_hash_value']})
        return fresh

    def _requeue(self, store, image_id):
        try:
            record = store.get(image_id)
            if record.get('status') == 'saving':
                record['status'] = 'queued'
                store.put(record)
        except Exception as exc:
            LOG.warning('Image %(id)s: cannot reset it to queued after a '
                        'failed upload: %(error)s',
                        {'id': image_id, 'error': exc})

    def add_location(self, context, image_id, url, metadata):
        """Record a cinder:// location (image_upload_use_cinder_backend)."""
        if not str(url).startswith('cinder://'):
            raise exception.Invalid('only cinder:// locations can be added, '
                                    'not %s' % url)
        store = self._store()
        record = self._record(image_id)
        record.setdefault('locations', []).append(
            {'url': url, 'metadata': dict(metadata or {})})
        if record.get('status') in ('queued', 'saving'):
            record['status'] = 'active'
            record['disk_format'] = record.get('disk_format') or 'raw'
            if record.get('size') is None:
                record['size'] = _volume_bytes(context, url)
                record['virtual_size'] = record['size']
        record['updated_at'] = meta.now()
        store.put(record)
        return meta.to_cinder(record)

    def delete(self, context, image_id):
        """Remove the image; ImageNotFound if it does not exist."""
        record = self._record(image_id)
        if record.get('protected'):
            raise exception.ImageNotAuthorized(image_id=image_id)
        try:
            self._store().delete(image_id)
        except (dirstore.NotFound, dirstore.InvalidId):
            raise exception.ImageNotFound(image_id=image_id)
        return True


def _matches(record, key, value):
    if key in record:
        return record[key] == value
    return (record.get('properties') or {}).get(key) == value


def _volume_bytes(context, url):
    volume_id = str(url).rstrip('/').split('/')[-1]
    try:
        from cinder import objects
        return int(objects.Volume.get_by_id(context, volume_id).size) * GiB
    except Exception as exc:
        LOG.warning('Size of image volume %(id)s unknown: %(error)s',
                    {'id': volume_id, 'error': exc})
        return 0


def get_default_image_service():
    """cinder.image.glance.get_default_image_service replacement."""
    return ImageService()


def get_remote_image_service(context, image_href):
    """cinder.image.glance.get_remote_image_service replacement.

    Returns (service, image id), the id from resolve_image_href().
    """
    service = ImageService()
    href = str(image_href)
    if '/' not in href:
        return service, href
    return service, service.resolve_image_href(context, href)
