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

"""The event contract between ksvd-cinder and KSVD's management centre.

No MC specification exists, so this module defines the format: SCHEMA is
the versioned JSON schema (draft-07) every event must match, published as
doc/compute-events.schema.json (schema_json() writes it).  Events are
validated when built and again when delivered, and the tests validate what
a receiver gets, so both sides of the wire are checked against one schema.
"""

import datetime
import json
import uuid

import jsonschema

SCHEMA_VERSION = '1.1'
# Versions a stored event may carry (the outbox keeps events across
# upgrades); 1.1 added copy_proof to volume.swap_requested.
SCHEMA_VERSIONS = ('1.0', '1.1')
# Callback mode, swap of an attached volume: after copying the data, the MC
# sets this metadata key on the new volume to the old volume's id; cinder
# refuses os-migrate_volume_completion without it (compute.attached).
COPY_PROOF_KEY = 'ksvd_copied_from'

VOLUME_EXTENDED = 'volume.extended'
VOLUME_REIMAGED = 'volume.reimaged'
# Callback mode: KSVD acts on the host, then calls cinder's API back.
SWAP_REQUESTED = 'volume.swap_requested'
SNAPSHOT_CREATE_REQUESTED = 'snapshot.create_requested'
SNAPSHOT_DELETE_REQUESTED = 'snapshot.delete_requested'
CALLBACK_EXPIRED = 'callback.expired'
TYPES = (VOLUME_EXTENDED, VOLUME_REIMAGED, SWAP_REQUESTED,
         SNAPSHOT_CREATE_REQUESTED, SNAPSHOT_DELETE_REQUESTED,
         CALLBACK_EXPIRED)

_UUID4 = ('^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}'
          '-[0-9a-f]{12}$')
_UUID = '^[0-9a-fA-F]{8}-?([0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$'
_RFC3339_UTC = ('^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
                '(\\.[0-9]{1,6})?Z$')

# Per type: (fields it must carry, fields it may carry); no other type
# carries them.
TYPE_FIELDS = {
    VOLUME_EXTENDED: ((), ('new_size',)),
    VOLUME_REIMAGED: ((), ()),
    SWAP_REQUESTED: (('new_volume_id', 'callback_deadline'),
                     ('copy_proof',)),
    SNAPSHOT_CREATE_REQUESTED: (
        ('snapshot_id', 'host_action', 'callback_deadline'), ()),
    SNAPSHOT_DELETE_REQUESTED: (
        ('snapshot_id', 'host_action', 'callback_deadline'), ()),
    CALLBACK_EXPIRED: (('expired_event_id',), ()),
}
_TYPED = sorted(set(name for required, optional in TYPE_FIELDS.values()
                    for name in required + optional))


def _type_rule(type):
    """Schema rule: an event of type has its fields and no other's."""
    required, optional = TYPE_FIELDS[type]
    foreign = [name for name in _TYPED
               if name not in required and name not in optional]
    then = {'not': {'anyOf': [{'required': [name]} for name in foreign]}}
    if required:
        then['required'] = list(required)
    return {'if': {'properties': {'type': {'const': type}}}, 'then': then}


SCHEMA = {
    '$schema': 'http://json-schema.org/draft-07/schema#',
    '$id': 'urn:ksvd:cinder:compute-event:%s' % SCHEMA_VERSION,
    'title': 'ksvd-cinder compute event',
    'description': 'An event ksvd-cinder sends to KSVD where stock cinder '
                   'would notify Nova. See doc/compute-events.md.',
    'type': 'object',
    'additionalProperties': False,
    'required': ['schema_version', 'event_id', 'type', 'volume_id',
                 'server_ids', 'request_id', 'timestamp'],
    'properties': {
        'schema_version': {
            'description': 'Version of this schema; a receiver rejects a '
                           'major version it does not know.',
            'type': 'string',
            'enum': list(SCHEMA_VERSIONS),
        },
        'event_id': {
            'description': 'Random UUID (version 4) of this event; every '
                           'delivery attempt of one event carries the same '
                           'id, so a receiver de-duplicates on it.',
            'type': 'string',
            'pattern': _UUID4,
        },
        'type': {
            'description': 'What happened to the volume.',
            'type': 'string',
            'enum': list(TYPES),
        },
        'volume_id': {
            'description': 'The cinder volume id.',
            'type': 'string',
            'pattern': _UUID,
        },
        'server_ids': {
            'description': 'Instance ids of the volume\'s attachments '
                           '(attachment instance_uuid); may be empty.',
            'type': 'array',
            'items': {'type': 'string', 'minLength': 1, 'maxLength': 255},
            'uniqueItems': True,
        },
        'new_size': {
            'description': 'volume.extended only: size in GiB after the '
                           'extend, as cinder\'s database had it when the '
                           'event was recorded. Absent if that read failed.',
            'type': 'integer',
            'minimum': 1,
        },
        'request_id': {
            'description': 'cinder request id (req-<uuid>) of the API call '
                           'that led to the event, or null.',
            'type': ['string', 'null'],
            'maxLength': 255,
        },
        'timestamp': {
            'description': 'When the event was recorded, RFC 3339, UTC.',
            'type': 'string',
            'format': 'date-time',
            'pattern': _RFC3339_UTC,
        },
        'new_volume_id': {
            'description': 'volume.swap_requested only: the migration '
                           'target volume the servers must be switched '
                           'to.',
            'type': 'string',
            'pattern': _UUID,
        },
        'copy_proof': {
            'description': 'volume.swap_requested only (since 1.1): the MC '
                           'must copy the data of volume_id to '
                           'new_volume_id (cinder copies nothing for an '
                           'attached volume), then set this metadata item '
                           'on new_volume_id, before it calls '
                           'os-migrate_volume_completion; cinder refuses '
                           'the completion without it.',
            'type': 'object',
            'additionalProperties': False,
            'required': ['metadata_key', 'value'],
            'properties': {
                'metadata_key': {'type': 'string', 'enum': [COPY_PROOF_KEY]},
                'value': {'type': 'string', 'pattern': _UUID},
            },
        },
        'snapshot_id': {
            'description': 'snapshot.* events only: the cinder snapshot.',
            'type': 'string',
            'pattern': _UUID,
        },
        'host_action': {
            'description': 'snapshot.* events only: what the hypervisor '
                           'must do, exactly as cinder\'s remotefs driver '
                           'asked Nova (create: type, new_file, '
                           'snapshot_id; delete: type, volume_id, '
                           'file_to_merge, merge_target_file).',
            'type': 'object',
        },
        'callback_deadline': {
            'description': 'Callback events only: RFC 3339 UTC time after '
                           'which cinder gives up and rolls back; a late '
                           'callback is refused.',
            'type': 'string',
            'pattern': _RFC3339_UTC,
        },
        'expired_event_id': {
            'description': 'callback.expired only: event_id of the request '
                           'whose deadline passed without a callback. KSVD '
                           'must not perform (or must undo) it.',
            'type': 'string',
            'pattern': _UUID4,
        },
    },
    'allOf': [_type_rule(type) for type in TYPES],
}


class InvalidEvent(ValueError):
    """An event does not match SCHEMA; str() names the offending field."""


def schema_json():
    """SCHEMA as the text of doc/compute-events.schema.json."""
    # separators: Python 2's default with indent leaves trailing spaces.
    return json.dumps(SCHEMA, indent=2, sort_keys=True,
                      separators=(',', ': ')) + '\n'


def utc_timestamp(when=None):
    """RFC 3339 UTC text of when (a naive UTC datetime; default now)."""
    when = when or datetime.datetime.utcnow()
    return when.strftime('%Y-%m-%dT%H:%M:%S.%fZ')


def validate(event):
    """Return event if it matches SCHEMA, else raise InvalidEvent."""
    validator = jsonschema.Draft7Validator(SCHEMA)
    errors = sorted(validator.iter_errors(event),
                    key=lambda error: list(error.path))
    if errors:
        error = errors[0]
        where = '/'.join(str(part) for part in error.path) or '(event)'
        message = error.message
        if error.validator == 'not' and isinstance(event, dict):
            message = 'fields not allowed in a %s event: %s' % (
                event.get('type'), ', '.join(
                    name for name in _TYPED if name in event))
        raise InvalidEvent('%s: %s' % (where, message))
    return event


def build(type, volume_id, server_ids, request_id=None, **fields):
    """A new validated event with a fresh event_id and timestamp.

    fields holds the type's extra fields (new_size); event_id and timestamp
    may be given to rebuild a known event.  None entries of server_ids are
    dropped (cinder 15/16 pass them for attachments without an instance).
    """
    seen = []
    for server_id in server_ids or ():
        if server_id is not None and str(server_id) not in seen:
            seen.append(str(server_id))
    event = {
        'schema_version': SCHEMA_VERSION,
        'event_id': str(fields.pop('event_id', None) or uuid.uuid4()),
        'type': type,
        'volume_id': str(volume_id),
        'server_ids': seen,
        'request_id': request_id,
        'timestamp': fields.pop('timestamp', None) or utc_timestamp(),
    }
    for name, value in fields.items():
        if value is not None:
            event[name] = value
    return validate(event)


def dumps(event):
    """The exact bytes sent for event (and signed): compact, sorted keys."""
    text = json.dumps(event, sort_keys=True, separators=(',', ':'))
    return text.encode('utf-8')
