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
from oslo_config import cfg
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

    def __init__(self, id, up, host='node-%s'):
        self.id = id
        self.is_up = up
        self.host = host % id
        self.updated_at = datetime.datetime(2026, 1, 1)


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

    def setUp(self):
        super(CheckPeersTestCase, self).setUp()
        from cinder import objects
        objects.register_all()
        self.peers = [Peer(1, True), Peer(2, True), Peer(3, False),
                      Peer(4, False)]
        self.workers = {3: [mock.Mock(resource_type='Volume',
                                      resource_id='v1', status='creating')],
                        4: []}
        self.useFixture(fixtures.MockPatch(
            'cinder.objects.ServiceList.get_all',
            side_effect=lambda ctxt, filters: self.peers))
        self.get_workers = self.useFixture(fixtures.MockPatch(
            'cinder.db.api.worker_get_all',
            side_effect=lambda ctxt, service_id: self.workers.get(
                service_id, []))).mock
        self.tell = self.useFixture(fixtures.MockPatchObject(
            watcher, '_tell_user')).mock

    def test_cleans_only_dead_peers_with_work(self):
        manager = FakeManager(service_id=1)
        self.assertEqual(1, watcher.check_peers(manager))
        self.assertEqual([3], [r.service_id for r in manager.cleanups])
        self.assertIsNotNone(manager.cleanups[0].until)
        # Live peers and this service itself are never looked at.
        self.assertEqual([3, 4], [c[1]['service_id'] for c in
                                  self.get_workers.call_args_list])
        self.tell.assert_called_once_with(mock.ANY, self.workers[3][0],
                                          self.peers[2])

    def test_errors_are_logged_not_raised(self):
        manager = FakeManager()
        manager.do_cleanup = mock.Mock(side_effect=RuntimeError('db gone'))
        with mock.patch.object(watcher.LOG, 'exception') as log:
            self.assertEqual(0, watcher.check_peers(manager))
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
            watcher._tell_user(ctxt, worker, Peer(3, False))
        return api.return_value.create

    def test_error_after_cleanup_gets_message(self):
        create = self._run('creating', 'error')
        create.assert_called_once()
        self.assertEqual('v1', create.call_args[1]['resource_uuid'])

    def test_nothing_for_finished_or_deleting(self):
        self._run('creating', 'available').assert_not_called()
        self._run('deleting', 'deleting').assert_not_called()
