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

import inspect
import os
from unittest import mock
import uuid

from cinder.compute import nova
from cinder import exception
from cinder import objects
from oslo_config import cfg
from tests.unit import base

from cinder_ksvd.compute import api
from cinder_ksvd.compute import events
from cinder_ksvd.compute import outbox
from cinder_ksvd import opts

METHODS = ('extend_volume', 'reimage_volume', 'update_server_volume',
           'create_volume_snapshot', 'delete_volume_snapshot', 'get_server',
           'get_server_volume', 'has_extension')


def names(func):
    params = list(inspect.signature(func).parameters.values())
    return [p.name for p in params
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            and p.name != 'self']


class Context(object):
    request_id = 'req-%s' % uuid.uuid4()


class APIBase(base.TestCase):
    """An API on a private config and outbox."""

    def setUp(self):
        super(APIBase, self).setUp()
        self.state = self.make_tempdir()
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf.register_opt(cfg.StrOpt('state_path'))
        self.conf([], default_config_files=[], default_config_dirs=[])
        self.conf.set_override('state_path', self.state)
        self.api = api.API(self.conf)
        self.box = outbox.Outbox(os.path.join(self.state,
                                              'ksvd-compute-outbox'))
        self.volume_id = str(uuid.uuid4())
        self.ctx = Context()

    def stored(self):
        return [self.box.read(name)['event'] for name in self.box.pending()]


class APITestCase(APIBase):

    def test_signatures_match_cinder(self):
        for name in METHODS:
            ours = getattr(api.API, name)
            self.assertTrue(
                inspect.signature(ours).parameters.get('kwargs'),
                name + ' takes extra keyword arguments')
            stock = getattr(nova.API, name, None)
            if stock is None:  # has_extension: cinder 15/16 only
                continue
            self.assertEqual(names(stock), names(ours), name)
        self.assertTrue(issubclass(api.API.NotFound, Exception))

    def test_no_arguments_like_cinder(self):
        self.assertIsInstance(api.API(), api.API)

    def test_extend_volume_queues_event(self):
        with mock.patch.object(api.API, '_volume_size', return_value=12):
            self.assertIs(True, self.api.extend_volume(
                self.ctx, ['srv-1', 'srv-2'], self.volume_id))
        [event] = self.stored()
        events.validate(event)
        self.assertEqual('volume.extended', event['type'])
        self.assertEqual(self.volume_id, event['volume_id'])
        self.assertEqual(['srv-1', 'srv-2'], event['server_ids'])
        self.assertEqual(12, event['new_size'])
        self.assertEqual(self.ctx.request_id, event['request_id'])

    def test_extend_size_read_from_cinder(self):
        volume_class = mock.Mock()
        volume_class.get_by_id.return_value = mock.Mock(size=30)
        with mock.patch.object(objects, 'Volume', volume_class, create=True):
            self.api.extend_volume(self.ctx, ['s'], self.volume_id)
        volume_class.get_by_id.assert_called_once_with(self.ctx,
                                                       self.volume_id)
        self.assertEqual(30, self.stored()[0]['new_size'])

    def test_extend_unknown_size_still_queued(self):
        volume_class = mock.Mock()
        volume_class.get_by_id.side_effect = RuntimeError('db down')
        with mock.patch.object(objects, 'Volume', volume_class, create=True):
            self.assertIs(True, self.api.extend_volume(
                self.ctx, ['s'], self.volume_id))
        self.assertNotIn('new_size', self.stored()[0])

    def test_reimage_volume_queues_event(self):
        self.assertIs(True, self.api.reimage_volume(
            self.ctx, ['srv-1', None], self.volume_id))
        [event] = self.stored()
        self.assertEqual('volume.reimaged', event['type'])
        self.assertEqual(['srv-1'], event['server_ids'])

    def test_configured_outbox_dir(self):
        other = os.path.join(self.make_tempdir(), 'box')
        self.conf.set_override('outbox_dir', other, group='ksvd_compute')
        self.api.reimage_volume(self.ctx, ['s'], self.volume_id)
        self.assertEqual(1, len(outbox.Outbox(other).pending()))
        self.assertEqual([], self.stored())

    def test_store_failure_is_reported_false(self):
        with mock.patch.object(outbox.Outbox, 'put',
                               side_effect=OSError(28, 'No space')):
            self.assertIs(False, self.api.reimage_volume(
                self.ctx, ['s'], self.volume_id))

    def assertRefused(self, func, *args):
        exc = self.assertRaises(api.OperationNotSupported, func, *args)
        self.assertIsInstance(exc, exception.CinderException)
        self.assertIn('KSVD does not perform', str(exc))
        self.assertIn('without a callback mode', str(exc))
        self.assertEqual([], self.stored())
        return exc

    def test_update_server_volume_refused(self):
        exc = self.assertRefused(self.api.update_server_volume, self.ctx,
                                 'srv', self.volume_id, 'new-vol')
        self.assertIn(self.volume_id, str(exc))

    def test_create_volume_snapshot_refused(self):
        self.assertRefused(self.api.create_volume_snapshot, self.ctx,
                           self.volume_id,
                           {'type': 'qcow2', 'new_file': 'f',
                            'snapshot_id': 'x'})

    def test_delete_volume_snapshot_refused(self):
        self.assertRefused(self.api.delete_volume_snapshot, self.ctx,
                           'snap', {'type': 'qcow2', 'volume_id': 'v',
                                    'file_to_merge': None,
                                    'merge_target_file': None})

    def test_get_server_not_found(self):
        exc = self.assertRaises(self.api.NotFound, self.api.get_server,
                                self.ctx, 'srv', privileged_user=True,
                                timeout=5)
        self.assertIsInstance(exc, exception.ServerNotFound)
        self.assertIn('srv', str(exc))

    def test_get_server_volume_not_found(self):
        # volume/api.py: "except nova.NotFound" lets the detach proceed
        nova_api = self.api
        try:
            nova_api.get_server_volume(self.ctx, 'srv', self.volume_id)
        except nova_api.NotFound:
            allowed = True
        else:
            allowed = False
        self.assertTrue(allowed)

    def test_has_extension(self):
        self.assertIs(False, self.api.has_extension(self.ctx, 'ext',
                                                    timeout=3))

    def test_extra_keyword_arguments_accepted(self):
        self.assertTrue(self.api.reimage_volume(self.ctx, [], self.volume_id,
                                                future=1))
        self.assertFalse(self.api.has_extension(self.ctx, 'e', future=1))


class Snap(object):
    def __init__(self, status, progress=None, volume_id=None):
        self.status = status
        self.progress = progress
        self.volume_id = volume_id


class CallbackModeTestCase(APIBase):
    """callback_mode: an event asks KSVD, then cinder's DB is polled."""

    def setUp(self):
        super(CallbackModeTestCase, self).setUp()
        self.conf.set_override('callback_mode', True, 'ksvd_compute')
        self.conf.set_override('callback_timeout', 1.0, 'ksvd_compute')
        self.api.poll_interval = 0.01
        self.new_id = str(uuid.uuid4())

    def by_type(self, type):
        return [e for e in self.stored() if e['type'] == type]

    def test_swap_waits_for_completion(self):
        with mock.patch.object(api, '_volume_field',
                               side_effect=['migrating', 'migrating',
                                            'success']) as field:
            self.assertIsNone(self.api.update_server_volume(
                self.ctx, 'srv', self.volume_id, self.new_id))
        field.assert_called_with(self.ctx, self.volume_id,
                                 'migration_status')
        event, = self.stored()
        self.assertEqual(events.SWAP_REQUESTED, event['type'])
        self.assertEqual(self.new_id, event['new_volume_id'])
        # The MC must copy the data and prove it on the new volume.
        self.assertEqual({'metadata_key': 'ksvd_copied_from',
                          'value': self.volume_id}, event['copy_proof'])
        self.assertEqual(['srv'], event['server_ids'])
        self.assertEqual(self.ctx.request_id, event['request_id'])
        self.assertRegex(event['callback_deadline'], r'Z$')

    def test_swap_completion_error_fails(self):
        with mock.patch.object(api, '_volume_field',
                               side_effect=['migrating', 'error']):
            exc = self.assertRaises(api.CallbackFailed,
                                    self.api.update_server_volume, self.ctx,
                                    'srv', self.volume_id, self.new_id)
        self.assertIn('reported an error', str(exc))
        self.assertEqual([], self.by_type(events.CALLBACK_EXPIRED))

    def test_swap_timeout_rolls_back_and_tells_ksvd(self):
        with mock.patch.object(api, '_volume_field',
                               return_value='migrating'):
            exc = self.assertRaises(api.CallbackFailed,
                                    self.api.update_server_volume, self.ctx,
                                    'srv', self.volume_id, self.new_id)
        self.assertIn('no callback within 1 s', str(exc))
        request, = self.by_type(events.SWAP_REQUESTED)
        expired, = self.by_type(events.CALLBACK_EXPIRED)
        self.assertEqual(request['event_id'], expired['expired_event_id'])
        self.assertEqual(self.volume_id, expired['volume_id'])

    def test_online_snapshot_create(self):
        info = {'type': 'qcow2', 'new_file': 'volume-x.snap-1',
                'snapshot_id': str(uuid.uuid4())}
        with mock.patch.object(api, '_snapshot',
                               side_effect=[Snap('creating'),
                                            Snap('creating', '90%')]):
            self.api.create_volume_snapshot(self.ctx, self.volume_id, info)
        event, = self.stored()
        self.assertEqual(events.SNAPSHOT_CREATE_REQUESTED, event['type'])
        self.assertEqual(info['snapshot_id'], event['snapshot_id'])
        self.assertEqual(info, event['host_action'])

    def test_online_snapshot_create_error(self):
        info = {'type': 'qcow2', 'new_file': 'f',
                'snapshot_id': str(uuid.uuid4())}
        with mock.patch.object(api, '_snapshot',
                               return_value=Snap('error')):
            self.assertRaises(api.CallbackFailed,
                              self.api.create_volume_snapshot, self.ctx,
                              self.volume_id, info)

    def test_online_snapshot_delete(self):
        snap_id = str(uuid.uuid4())
        info = {'type': 'qcow2', 'volume_id': self.volume_id,
                'file_to_merge': None, 'merge_target_file': 'volume-x'}
        with mock.patch.object(api, '_snapshot',
                               side_effect=[Snap('deleting'),
                                            Snap('deleting', '90%')]):
            self.api.delete_volume_snapshot(self.ctx, snap_id, info)
        event, = self.stored()
        self.assertEqual(events.SNAPSHOT_DELETE_REQUESTED, event['type'])
        self.assertEqual(self.volume_id, event['volume_id'])
        self.assertIsNone(event['host_action']['file_to_merge'])

    def test_online_snapshot_delete_timeout(self):
        snap_id = str(uuid.uuid4())
        info = {'type': 'qcow2', 'volume_id': self.volume_id,
                'file_to_merge': 'a', 'merge_target_file': 'b'}
        with mock.patch.object(api, '_snapshot',
                               return_value=Snap('deleting', '0%')):
            self.assertRaises(api.CallbackFailed,
                              self.api.delete_volume_snapshot, self.ctx,
                              snap_id, info)
        self.assertEqual(1, len(self.by_type(events.CALLBACK_EXPIRED)))

    def test_request_not_stored_is_not_waited_for(self):
        with mock.patch.object(outbox.Outbox, 'put',
                               side_effect=OSError(28, 'No space')):
            self.assertRaises(OSError, self.api.update_server_volume,
                              self.ctx, 'srv', self.volume_id, self.new_id)


class ServerVolumeTestCase(APIBase):
    """get_server_volume asks the MC when mc_api_url is set."""

    def setUp(self):
        super(ServerVolumeTestCase, self).setUp()
        self.conf.set_override('mc_api_url', 'http://127.0.0.1:9/mc',
                               'ksvd_compute')
        self.conf.set_override('webhook_secret', 's3', 'ksvd_compute')

    def test_attachment_from_mc(self):
        with mock.patch.object(api.mc_client, 'server_volume_attachment',
                               return_value='att-1') as ask:
            answer = self.api.get_server_volume(self.ctx, 'srv',
                                                self.volume_id)
        self.assertEqual('att-1', answer.attachment_id)
        ask.assert_called_once_with('http://127.0.0.1:9/mc', 's3', 'srv',
                                    self.volume_id, verify=True,
                                    timeout=10.0)

    def test_unknown_to_mc_is_not_found(self):
        with mock.patch.object(api.mc_client, 'server_volume_attachment',
                               side_effect=api.mc_client.NotFound('srv')):
            self.assertRaises(self.api.NotFound, self.api.get_server_volume,
                              self.ctx, 'srv', self.volume_id)

    def test_mc_down_keeps_attachment(self):
        with mock.patch.object(api.mc_client, 'server_volume_attachment',
                               side_effect=api.mc_client.Unavailable('x')):
            exc = self.assertRaises(api.ComputeUnavailable,
                                    self.api.get_server_volume, self.ctx,
                                    'srv', self.volume_id)
        self.assertEqual(503, exc.code)
        self.assertNotIsInstance(exc, self.api.NotFound)
