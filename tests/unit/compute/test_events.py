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

import json
import os
import uuid

from tests.unit import base

from cinder_ksvd.compute import events

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.dirname(os.path.abspath(__file__)))))
SCHEMA_FILE = os.path.join(REPO, 'doc', 'compute-events.schema.json')


class SchemaFileTestCase(base.TestCase):

    def test_doc_file_is_the_schema(self):
        with open(SCHEMA_FILE) as handle:
            text = handle.read()
        self.assertEqual(events.schema_json(), text)
        self.assertEqual(events.SCHEMA, json.loads(text))

    def test_draft7_and_versioned(self):
        import jsonschema
        jsonschema.Draft7Validator.check_schema(events.SCHEMA)
        self.assertEqual('http://json-schema.org/draft-07/schema#',
                         events.SCHEMA['$schema'])
        # 1.0 events stored before an upgrade still validate.
        self.assertEqual(['1.0', '1.1'],
                         events.SCHEMA['properties']['schema_version']
                         ['enum'])
        self.assertEqual('1.1', events.SCHEMA_VERSION)
        self.assertEqual('urn:ksvd:cinder:compute-event:1.1',
                         events.SCHEMA['$id'])


class BuildTestCase(base.TestCase):

    def setUp(self):
        super(BuildTestCase, self).setUp()
        self.volume_id = str(uuid.uuid4())

    def test_extended(self):
        event = events.build(events.VOLUME_EXTENDED, self.volume_id,
                             ['srv-1', None, 'srv-1', 'srv-2'],
                             request_id='req-abc', new_size=20)
        self.assertEqual(
            {'schema_version', 'event_id', 'type', 'volume_id', 'server_ids',
             'request_id', 'timestamp', 'new_size'}, set(event))
        self.assertEqual('1.1', event['schema_version'])
        self.assertEqual(4, uuid.UUID(event['event_id']).version)
        self.assertEqual('volume.extended', event['type'])
        self.assertEqual(self.volume_id, event['volume_id'])
        self.assertEqual(['srv-1', 'srv-2'], event['server_ids'])
        self.assertEqual(20, event['new_size'])
        self.assertEqual('req-abc', event['request_id'])
        self.assertRegex(event['timestamp'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$')
        self.assertIs(event, events.validate(event))

    def test_reimaged_without_size_or_request(self):
        event = events.build(events.VOLUME_REIMAGED, self.volume_id, [])
        self.assertNotIn('new_size', event)
        self.assertIsNone(event['request_id'])
        self.assertEqual([], event['server_ids'])

    def test_unknown_size_is_left_out(self):
        event = events.build(events.VOLUME_EXTENDED, self.volume_id, ['s'],
                             new_size=None)
        self.assertNotIn('new_size', event)

    def test_fresh_ids(self):
        one = events.build(events.VOLUME_REIMAGED, self.volume_id, ['s'])
        two = events.build(events.VOLUME_REIMAGED, self.volume_id, ['s'])
        self.assertNotEqual(one['event_id'], two['event_id'])

    def test_rebuild_keeps_id_and_time(self):
        one = events.build(events.VOLUME_EXTENDED, self.volume_id, ['s'],
                           new_size=2)
        two = events.build(events.VOLUME_EXTENDED, self.volume_id, ['s'],
                           new_size=2, event_id=one['event_id'],
                           timestamp=one['timestamp'])
        self.assertEqual(one, two)

    def test_dumps_is_canonical(self):
        event = events.build(events.VOLUME_EXTENDED, self.volume_id, ['s'],
                             new_size=2)
        body = events.dumps(event)
        self.assertIsInstance(body, bytes)
        self.assertEqual(event, json.loads(body.decode('utf-8')))
        self.assertEqual(body, events.dumps(dict(reversed(
            list(event.items())))))
        self.assertNotIn(b' ', body)


class ValidateTestCase(base.TestCase):

    def good(self):
        return events.build(events.VOLUME_EXTENDED, str(uuid.uuid4()),
                            ['s'], request_id='req-1', new_size=5)

    def assertInvalid(self, event, field):
        exc = self.assertRaises(events.InvalidEvent, events.validate, event)
        self.assertIn(field, str(exc))
        self.assertIsInstance(exc, ValueError)

    def test_unknown_type(self):
        self.assertRaises(events.InvalidEvent, events.build,
                          'volume.exploded', str(uuid.uuid4()), [])

    def test_each_required_field(self):
        for field in events.SCHEMA['required']:
            event = self.good()
            del event[field]
            self.assertRaises(events.InvalidEvent, events.validate, event)

    def test_bad_values(self):
        cases = [('event_id', 'not-a-uuid'),
                 ('event_id', str(uuid.uuid1())),
                 ('schema_version', '2.0'),
                 ('volume_id', 'vol'),
                 ('server_ids', 'srv'),
                 ('server_ids', ['']),
                 ('new_size', 0),
                 ('new_size', '5'),
                 ('timestamp', '2026-01-01T00:00:00+02:00'),
                 ('timestamp', '2026-01-01 00:00:00Z'),
                 ('request_id', 5)]
        for field, value in cases:
            event = self.good()
            event[field] = value
            self.assertInvalid(event, field)

    def test_extra_field_refused(self):
        event = self.good()
        event['password'] = 'x'
        self.assertInvalid(event, 'password')

    def test_size_only_on_extend(self):
        event = self.good()
        event['type'] = events.VOLUME_REIMAGED
        self.assertRaises(events.InvalidEvent, events.validate, event)
        del event['new_size']
        events.validate(event)


class CallbackEventsTestCase(base.TestCase):
    """The callback-mode types carry their fields and no other type's."""

    def setUp(self):
        super(CallbackEventsTestCase, self).setUp()
        self.volume_id = str(uuid.uuid4())
        self.deadline = events.utc_timestamp()

    def test_swap_requested(self):
        new_id = str(uuid.uuid4())
        event = events.build(events.SWAP_REQUESTED, self.volume_id, ['s'],
                             new_volume_id=new_id,
                             callback_deadline=self.deadline)
        self.assertEqual(new_id, event['new_volume_id'])
        proof = {'metadata_key': 'ksvd_copied_from', 'value': self.volume_id}
        event = events.build(events.SWAP_REQUESTED, self.volume_id, ['s'],
                             new_volume_id=new_id, copy_proof=proof,
                             callback_deadline=self.deadline)
        self.assertEqual(proof, event['copy_proof'])
        for bad in ({'metadata_key': 'other', 'value': self.volume_id},
                    {'metadata_key': 'ksvd_copied_from'},
                    dict(proof, extra=1)):
            self.assertRaisesRegex(events.InvalidEvent, 'copy_proof',
                                   events.build, events.SWAP_REQUESTED,
                                   self.volume_id, ['s'],
                                   new_volume_id=new_id, copy_proof=bad,
                                   callback_deadline=self.deadline)
        # Only a swap request carries it.
        self.assertRaisesRegex(events.InvalidEvent, 'copy_proof',
                               events.build, events.VOLUME_EXTENDED,
                               self.volume_id, ['s'], copy_proof=proof)
        # A 1.0 event (stored before an upgrade) still validates.
        old = dict(events.build(events.SWAP_REQUESTED, self.volume_id, ['s'],
                                new_volume_id=new_id,
                                callback_deadline=self.deadline),
                   schema_version='1.0')
        self.assertIs(old, events.validate(old))
        self.assertRaisesRegex(events.InvalidEvent, 'new_volume_id',
                               events.build, events.SWAP_REQUESTED,
                               self.volume_id, ['s'],
                               callback_deadline=self.deadline)

    def test_snapshot_requests(self):
        for type in (events.SNAPSHOT_CREATE_REQUESTED,
                     events.SNAPSHOT_DELETE_REQUESTED):
            event = events.build(type, self.volume_id, [],
                                 snapshot_id=str(uuid.uuid4()),
                                 host_action={'type': 'qcow2'},
                                 callback_deadline=self.deadline)
            self.assertEqual({'type': 'qcow2'}, event['host_action'])
            self.assertRaisesRegex(events.InvalidEvent, 'host_action',
                                   events.build, type, self.volume_id, [],
                                   snapshot_id=str(uuid.uuid4()),
                                   callback_deadline=self.deadline)

    def test_expired_names_the_request(self):
        request = str(uuid.uuid4())
        event = events.build(events.CALLBACK_EXPIRED, self.volume_id, [],
                             expired_event_id=request)
        self.assertEqual(request, event['expired_event_id'])

    def test_foreign_fields_named(self):
        exc = self.assertRaises(events.InvalidEvent, events.build,
                                events.VOLUME_EXTENDED, self.volume_id, [],
                                new_size=2, snapshot_id=str(uuid.uuid4()))
        self.assertIn('fields not allowed in a volume.extended event',
                      str(exc))
        self.assertIn('snapshot_id', str(exc))
        self.assertRaises(events.InvalidEvent, events.build,
                          events.VOLUME_REIMAGED, self.volume_id, [],
                          callback_deadline=self.deadline)
