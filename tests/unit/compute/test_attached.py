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
from unittest import mock

from cinder import exception
from tests.unit import base

from cinder_ksvd.compute import attached


class Refuses(object):
    def __init__(self):
        self._stats = {}

    def _is_volume_attached(self, volume):
        return True

    def extend_volume(self, volume, size):
        if self._is_volume_attached(volume):
            raise RuntimeError('attached')

    def _update_volume_stats(self):
        self._stats = {'total_capacity_gb': 1,
                       'pools': [{'pool_name': 'a'},
                                 {'pool_name': 'b',
                                  'online_extend_support': True}]}


class Extends(Refuses):
    def extend_volume(self, volume, size):
        pass


class StatsTest(base.TestCase):

    def test_refusing_driver_reports_it(self):
        attached._wrap_stats(Refuses)
        attached._wrap_stats(Refuses)  # once only
        driver = Refuses()
        driver._update_volume_stats()
        self.assertIs(False, driver._stats['online_extend_support'])
        self.assertIs(False, driver._stats['pools'][0][
            'online_extend_support'])
        # A pool that says otherwise is believed.
        self.assertIs(True, driver._stats['pools'][1][
            'online_extend_support'])
        # A subclass that extends attached volumes reports nothing.
        other = Extends()
        other._update_volume_stats()
        self.assertNotIn('online_extend_support', other._stats)


class Snapshot(object):
    id = 'snap-1'
    volume_id = 'vol-1'
    volume = object()


class OverlayTest(base.TestCase):

    def setUp(self):
        super(OverlayTest, self).setUp()
        self.dir = self.make_tempdir()
        self.overlay = self.write_file(self.dir, 'volume-1.snap-1', 'qcow2')
        self.info = os.path.join(self.dir, 'volume-1.info')

        class Driver(object):
            deleted = []

            def _create_snapshot_online(inner, snapshot, backing, path):
                raise exception.NotSupportedOperation(operation='x')

            def _local_path_volume_info(inner, volume):
                return self.info

            def _delete(inner, path):
                inner.deleted.append(path)
                os.remove(path)
        attached._wrap_online_snapshot(Driver)
        self.driver = Driver()

    def test_refused_online_snapshot_removes_its_overlay(self):
        self.assertRaises(exception.NotSupportedOperation,
                          self.driver._create_snapshot_online, Snapshot(),
                          'volume-1', self.overlay)
        self.assertEqual([self.overlay], self.driver.deleted)
        self.assertFalse(os.path.exists(self.overlay))

    def test_overlay_in_use_is_kept(self):
        with open(self.info, 'w') as handle:
            json.dump({'active': 'volume-1.snap-1'}, handle)
        self.assertRaises(exception.NotSupportedOperation,
                          self.driver._create_snapshot_online, Snapshot(),
                          'volume-1', self.overlay)
        self.assertEqual([], self.driver.deleted)
        self.assertTrue(os.path.exists(self.overlay))


class ExtendAttachedTest(base.TestCase):

    def api(self, pools):
        class API(object):
            calls = []

            def extend_attached_volume(inner, context, volume, size):
                inner.calls.append(size)
        attached._wrap_extend_attached(API)
        api = API()
        api.scheduler_rpcapi = mock.Mock()
        api.scheduler_rpcapi.get_pools.return_value = pools
        return api

    def volume(self, status='in-use'):
        return mock.Mock(id='vol-1', host='h@nfs#nfs', status=status)

    def test_refused_when_the_pool_cannot(self):
        api = self.api([{'name': 'h@nfs#nfs', 'capabilities': {
            'online_extend_support': False}}])
        context = mock.Mock()
        exc = self.assertRaises(exception.InvalidVolume,
                                api.extend_attached_volume, context,
                                self.volume(), 2)
        self.assertIn('volume vol-1 is attached and its backend (h@nfs#nfs) '
                      'cannot extend attached volumes', str(exc))
        self.assertEqual([], api.calls)
        context.authorize.assert_called_once()
        api.scheduler_rpcapi.get_pools.assert_called_once_with(
            context.elevated.return_value, filters={'name': 'h@nfs#nfs'})

    def test_passes_otherwise(self):
        for pools in ([], [{'name': 'h@nfs#nfs', 'capabilities': {}}],
                      [{'name': 'other', 'capabilities': {
                          'online_extend_support': False}}]):
            api = self.api(pools)
            api.extend_attached_volume(mock.Mock(), self.volume(), 2)
            self.assertEqual([2], api.calls)
        api = self.api(None)
        api.scheduler_rpcapi.get_pools.side_effect = RuntimeError('down')
        api.extend_attached_volume(mock.Mock(), self.volume(), 3)
        self.assertEqual([3], api.calls)


class CompletionTest(base.TestCase):

    def api(self):
        class API(object):
            calls = []

            def migrate_volume_completion(inner, context, volume, new,
                                          error):
                inner.calls.append((volume.id, new.id, error))
                return new.id
        attached._wrap_completion(API)
        return API()

    def volumes(self, metadata=None, attached_to=('att-1',),
                migration='migrating'):
        old = mock.Mock(id='old-1', migration_status=migration,
                        volume_attachment=list(attached_to))
        new = mock.Mock(id='new-1', metadata=metadata or {})
        return old, new

    def test_attached_without_proof_refused(self):
        api = self.api()
        for metadata in ({}, {'ksvd_copied_from': 'someone-else'}):
            old, new = self.volumes(metadata)
            exc = self.assertRaises(exception.InvalidVolume,
                                    api.migrate_volume_completion,
                                    mock.Mock(), old, new, False)
            self.assertIn('volume old-1 is attached: cinder copied none of '
                          'its data to new-1. Copy it, then set metadata '
                          'ksvd_copied_from=old-1 on new-1', str(exc))
        self.assertEqual([], api.calls)

    def test_with_proof_error_or_detached_passes(self):
        api = self.api()
        cases = (self.volumes({'ksvd_copied_from': 'old-1'}), False), \
            (self.volumes(), True), \
            (self.volumes(attached_to=()), False), \
            (self.volumes(migration=None), False)
        for (old, new), error in cases:
            self.assertEqual('new-1', api.migrate_volume_completion(
                mock.Mock(), old, new, error))
        self.assertEqual(4, len(api.calls))
