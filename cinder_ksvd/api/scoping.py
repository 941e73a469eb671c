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
"""Project scoping of reads where stock cinder lets a project see another.

Installed by the ksvdauth filter (API processes only), for every cinder
release from 15 on; each fix touches callers that are not cinder admins
only:

- GET /v3/{project}/attachments/{id}: cinder's attachment lookup filters on
  the volumes table next to a joinedload alias of it, so the filter holds
  as soon as the caller's project owns any volume and any project's
  attachment, connection_info included, is returned.  Here the volume of
  an attachment must belong to the caller's project, or the attachment is
  not found.
- GET /v3/{project}/messages: cinder's message list is not scoped by
  project at all.  Here it gets the caller's project as a filter.

The query parameters that widen a list to other projects (all_tenants,
project_id, tenant_id) are removed from a non-admin request by the filter
itself (strip_scope_params), before cinder parses them.
"""

import functools

from oslo_log import log as logging

try:
    from urllib import parse
except ImportError:  # Python 2
    import urlparse as parse
try:
    urlencode = parse.urlencode
except AttributeError:  # Python 2
    import urllib
    urlencode = urllib.urlencode
parse_qsl = parse.parse_qsl

LOG = logging.getLogger(__name__)

# Query parameters through which a list reaches other projects.
SCOPE_PARAMS = ('all_tenants', 'project_id', 'tenant_id')
_state = {'installed': False}


def is_scoped(context):
    """True for a caller cinder treats as a plain project user."""
    return bool(context is not None and not getattr(context, 'is_admin',
                                                    False)
                and getattr(context, 'project_id', None))


def strip_scope_params(environ):
    """Drop SCOPE_PARAMS from QUERY_STRING; return the names dropped."""
    query = environ.get('QUERY_STRING') or ''
    if not query:
        return []
    lowered = query.lower()
    if not any(name in lowered for name in SCOPE_PARAMS):
        return []
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() not in SCOPE_PARAMS]
    dropped = sorted(set(k for k, _v in pairs
                         if k.lower() in SCOPE_PARAMS))
    if dropped:
        environ['QUERY_STRING'] = urlencode(kept)
    return dropped


def _attachment_get_by_id(original):
    @functools.wraps(original)
    def get_by_id(cls, context, *args, **kwargs):
        attachment = original(context, *args, **kwargs)
        if is_scoped(context):
            from cinder import exception
            from cinder import objects
            volume = objects.Volume.get_by_id(context.elevated(),
                                              attachment.volume_id)
            if volume.project_id != context.project_id:
                LOG.warning('Attachment %(id)s of project %(owner)s asked '
                            'for by project %(caller)s: not found',
                            {'id': attachment.id,
                             'owner': volume.project_id,
                             'caller': context.project_id})
                raise exception.VolumeAttachmentNotFound(
                    filter='attachment_id = %s' % attachment.id)
        return attachment
    return classmethod(get_by_id)


def _messages_get_all(original):
    @functools.wraps(original)
    def get_all(self, context, filters=None, *args, **kwargs):
        if is_scoped(context):
            filters = dict(filters or {})
            filters['project_id'] = context.project_id
        return original(self, context, filters, *args, **kwargs)
    return get_all


def install():
    """Apply the fixes once per process (idempotent)."""
    if _state['installed']:
        return False
    from cinder.message import api as message_api
    # The class objects.VolumeAttachment names once registered.
    from cinder.objects import volume_attachment
    attachment = volume_attachment.VolumeAttachment
    attachment.get_by_id = _attachment_get_by_id(attachment.get_by_id)
    message_api.API.get_all = _messages_get_all(message_api.API.get_all)
    _state['installed'] = True
    return True
