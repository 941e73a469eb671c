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

import datetime
from unittest import mock

import fixtures
import iso8601
from oslo_config import cfg
from oslo_utils import timeutils
from tests.unit import base

from cinder_ksvd.cluster import watcher
from cinder_ksvd import opts


class FakeManager(object):

    def __init__(self, cluster='c1@fake', service_id=1):
        self.cluster = cluster
        self.service_id = service_id
        self.cleanups = []

    def do_cleanup(self, ctxt, request):
        self.cleanups.append(request)


class Peer(object):

    def __init__(self, id, up, host='node-%s', binary='cinder-volume',
                 updated_at=datetime.datetime(2026, 1, 1)):
        self.id = id
        self.is_up = up
        self.host = host % id
        self.binary = binary
        self.updated_at = updated_at
        self.created_at = updated_at


class Row(object):
    """A workers table row as cinder's db API returns it."""

    def __init__(self, service_id, resource_id, status='creating',
                 resource_type='Volume',
                 updated_at=datetime.datetime(2025, 12, 31, 23, 59)):
        self.service_id = service_id
        self.resource_id = resource_id
        self.resource_type = resource_type
        self.status = status
        self.updated_at = updated_at


class StartTestCase(base.TestCase):

    def setUp(self):
        super(StartTestCase, self).setUp()
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf([])
        self.addCleanup(watcher.enable)

    def test_not_clustered(self):
        self.assertIsNone(watcher.start(FakeManager(cluster=None),
                                        self.conf))

    def test_interval_zero(self):
        self.conf.set_override('cleanup_interval', 0, 'ksvd_cluster')
        self.assertIsNone(watcher.start(FakeManager(), self.conf))

    def test_switched_off(self):
        watcher.disable()
        self.assertIsNone(watcher.start(FakeManager(), self.conf))

    def test_not_a_cleanable_manager(self):
        manager = mock.Mock(spec=['cluster'], cluster='c1@fake')
        self.assertIsNone(watcher.start(manager, self.conf))

    def test_starts_timer(self):
        self.conf.register_opt(
            cfg.IntOpt('service_down_time', default=60))
        manager = FakeManager()
        with mock.patch('oslo_service.loopingcall.'
                        'FixedIntervalLoopingCall') as timer:
            self.assertIs(timer.return_value,
                          watcher.start(manager, self.conf))
        timer.assert_called_once_with(watcher.check_peers, manager,
                                      self.conf)
        timer.return_value.start.assert_called_once_with(interval=30,
                                                         initial_delay=30)


class CheckPeersTestCase(base.TestCase):
    """Rounds over a cluster c1@fake of members 1 (this one) to 4."""

    def setUp(self):
        super(CheckPeersTestCase, self).setUp()
        from cinder import objects
        objects.register_all()
        self.conf = self.new_conf()
        self.conf.register_opt(cfg.IntOpt('report_interval', default=10))
        self.conf([])
        self.peers = [Peer(1, True), Peer(2, True), Peer(3, False),
                      Peer(4, False)]
        # Services outside the cluster: a scheduler and another cluster's
        # volume service.
        self.others = [Peer(9, True, binary='cinder-scheduler'),
                       Peer(7, True)]
        self.rows = [Row(3, 'v1')]
        self.resources = {}
        self.useFixture(fixtures.MockPatch(
            'cinder.objects.ServiceList.get_all',
            side_effect=self._services))
        self.get_workers = self.useFixture(fixtures.MockPatch(
            'cinder.db.api.worker_get_all',
            side_effect=self._workers)).mock
        self.useFixture(fixtures.MockPatch(
            'cinder.objects.Volume.get_by_id', side_effect=self._get))
        self.useFixture(fixtures.MockPatch(
            'cinder.objects.Snapshot.get_by_id', side_effect=self._get))
        self.tell = self.useFixture(fixtures.MockPatchObject(
            watcher, '_tell_user')).mock

    def _services(self, ctxt, filters=None):
        if filters:
            self.assertEqual({'cluster_name': 'c1@fake'}, filters)
            return self.peers
        return self.peers + self.others

    def _workers(self, ctxt, service_id=None, until=None):
        # cinder's worker_get_all: filters set to None are not applied.
        return [r for r in self.rows
                if (service_id is None or r.service_id == service_id) and
                (until is None or r.updated_at <= until)]

    def _get(self, ctxt, resource_id):
        from cinder import exception
        try:
            return self.resources[resource_id]
        except KeyError:
            raise exception.NotFound()

    def _resource(self, resource_id, status='creating',
                  cluster='c1@fake#pool'):
        self.resources[resource_id] = mock.Mock(
            id=resource_id, status=status, cluster_name=cluster)

    def test_cleans_only_dead_peers_with_work(self):
        manager = FakeManager(service_id=1)
        self.assertEqual(1, watcher.check_peers(manager, self.conf))
        self.assertEqual([3], [r.service_id for r in manager.cleanups])
        self.assertIsNotNone(manager.cleanups[0].until)
        # Live peers and this service itself are never looked at.
        self.assertEqual([3, 4], [c[1].get('service_id') for c in
                                  self.get_workers.call_args_list
                                  if 'service_id' in c[1]])
        self.tell.assert_called_once_with(mock.ANY, self.rows[0], 'node-3')

    def test_nothing_when_all_up(self):
        self.peers = [Peer(1, True), Peer(2, True)]
        self.rows = [Row(None, 'v1')]
        self._resource('v1')
        manager = FakeManager(service_id=1)
        self.assertEqual(0, watcher.check_peers(manager, self.conf))
        self.assertEqual([], manager.cleanups)
        self.assertFalse(self.get_workers.called)

    def test_unclaimed_requests_of_the_cluster_are_cleaned(self):
        # The scheduler placed v1 and v2 on the cluster, nobody took a
        # snapshot and a delete: a down member had received them.
        self.rows = [Row(9, 'v1'), Row(None, 'v2', status='deleting'),
                     Row(None, 's1', resource_type='Snapshot')]
        self._resource('v1')
        self._resource('v2', status='deleting', cluster='c1@fake')
        self._resource('s1')
        manager = FakeManager(service_id=1)
        self.assertEqual(3, watcher.check_peers(manager, self.conf))
        bound = datetime.datetime(2026, 1, 1, 0, 0, 10)
        self.assertEqual([('Volume', 'v1', 9, bound),
                          ('Volume', 'v2', None, bound),
                          ('Snapshot', 's1', None, bound)],
                         [(r.resource_type, r.resource_id, r.service_id,
                           timeutils.normalize_time(r.until))
                          for r in manager.cleanups])
        self.assertEqual(3, self.tell.call_count)
        self.assertEqual('node-3, node-4', self.tell.call_args[0][2])

    def test_claimed_foreign_mismatched_and_recent_rows_are_left(self):
        self.rows = [
            Row(2, 'live'),            # a live member works on it
            Row(7, 'other-member'),    # another cluster's volume service
            Row(None, 'elsewhere'),    # placed on another cluster
            Row(9, 'finished'),        # status moved on meanwhile
            Row(9, 'gone'),            # resource deleted
            Row(9, 'recent',           # sent after the members' death
                updated_at=datetime.datetime(2026, 1, 1, 0, 0, 11)),
            Row(8, 'unknown-owner'),   # owner not in the services table
            Row(None, 'b1', resource_type='Backup'),
        ]
        for name in ('live', 'other-member', 'recent', 'unknown-owner'):
            self._resource(name)
        self._resource('elsewhere', cluster='c2@fake#pool')
        self._resource('finished', status='available')
        manager = FakeManager(service_id=1)
        self.assertEqual(0, watcher.check_peers(manager, self.conf))
        self.assertEqual([], manager.cleanups)
        self.assertFalse(self.tell.called)

    def test_bound_follows_the_latest_heartbeat(self):
        late = datetime.datetime(2026, 1, 1, 0, 5,
                                 tzinfo=iso8601.UTC)  # py2: no timezone
        down = [Peer(3, False), Peer(4, False, updated_at=late)]
        self.assertEqual(datetime.datetime(2026, 1, 1, 0, 5, 10),
                         watcher.unclaimed_bound(down, 10))
        self.assertIsNone(watcher.unclaimed_bound(
            [Peer(5, False, updated_at=None)], 10))

    def test_errors_are_logged_not_raised(self):
        manager = FakeManager()
        manager.do_cleanup = mock.Mock(side_effect=RuntimeError('db gone'))
        with mock.patch.object(watcher.LOG, 'exception') as log:
            self.assertEqual(0, watcher.check_peers(manager, self.conf))
        self.assertTrue(log.called)


class TellUserTestCase(base.TestCase):

    def setUp(self):
        super(TellUserTestCase, self).setUp()
        from cinder import objects
        objects.register_all()

    def _run(self, status_before, status_now):
        ctxt = mock.Mock()
        worker = mock.Mock(resource_type='Volume', resource_id='v1',
                           status=status_before)
        vol = mock.Mock(id='v1', status=status_now, project_id='p1')
        with mock.patch('cinder.objects.Volume.get_by_id',
                        return_value=vol), \
                mock.patch('cinder.message.api.API') as api:
            watcher._tell_user(ctxt, worker, 'node-3')
        return api.return_value.create

    def test_error_after_cleanup_gets_message(self):
        create = self._run('creating', 'error')
        create.assert_called_once()
        self.assertEqual('v1', create.call_args[1]['resource_uuid'])

    def test_nothing_for_finished_or_deleting(self):
        self._run('creating', 'available').assert_not_called()
        self._run('deleting', 'deleting').assert_not_called()
