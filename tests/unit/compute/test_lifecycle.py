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

import os
import time
from unittest import mock
import uuid

from oslo_config import cfg
from tests.unit import base

from cinder_ksvd.compute import events
from cinder_ksvd.compute import lifecycle
from cinder_ksvd.compute import outbox
from cinder_ksvd import opts


class FakeService(object):
    """The two methods of cinder.service.Service lifecycle wraps."""

    def __init__(self, binary):
        self.binary = binary
        self.calls = []

    def start(self):
        self.calls.append('start')
        return 'started'

    def stop(self):
        self.calls.append('stop')


class LifecycleTestCase(base.TestCase):

    def setUp(self):
        super(LifecycleTestCase, self).setUp()
        self.state = self.make_tempdir()
        self.conf = self.new_conf()
        opts.register_opts(self.conf)
        self.conf.register_opts([
            cfg.StrOpt('state_path'),
            cfg.StrOpt('compute_api_class',
                       default='cinder.compute.nova.API')])
        self.conf([], default_config_files=[], default_config_dirs=[])
        self.conf.set_override('state_path', self.state)
        self.conf.set_override('compute_api_class',
                               'cinder_ksvd.compute.api.API')
        self.conf.set_override('delivery_interval', 60, 'ksvd_compute')
        self.box = outbox.Outbox(os.path.join(self.state,
                                              'ksvd-compute-outbox'))
        self.addCleanup(self._stop_all)

    def _stop_all(self):
        while lifecycle.running_worker() is not None:
            lifecycle.service_stopped(lifecycle.VOLUME_BINARY)

    def wait_empty(self):
        deadline = time.time() + 30
        while self.box.pending() and time.time() < deadline:
            time.sleep(0.05)
        return self.box.pending()

    def test_only_the_volume_service_runs_a_worker(self):
        for binary in ('cinder-api', 'cinder-scheduler', 'cinder-backup'):
            self.assertIsNone(lifecycle.service_started(binary, self.conf))
        self.assertIsNone(lifecycle.running_worker())

    def test_worker_drains_what_an_earlier_run_left(self):
        self.box.put(events.build(events.VOLUME_REIMAGED,
                                  str(uuid.uuid4()), ['s']))
        worker = lifecycle.service_started('cinder-volume', self.conf)
        self.assertIs(worker, lifecycle.running_worker())
        self.assertEqual(['log'], [sink.name for sink in worker.sinks])
        self.assertEqual([], self.wait_empty())

    def test_one_worker_per_process(self):
        one = lifecycle.service_started('cinder-volume', self.conf)
        two = lifecycle.service_started('cinder-volume', self.conf)
        self.assertIs(one, two)
        lifecycle.service_stopped('cinder-volume')
        self.assertIs(one, lifecycle.running_worker())
        lifecycle.service_stopped('cinder-volume')
        self.assertIsNone(lifecycle.running_worker())
        lifecycle.service_stopped('cinder-volume')  # harmless

    def test_switch_off_or_stock_class_runs_nothing(self):
        self.conf.set_override('compute', False, 'ksvd')
        self.assertIsNone(lifecycle.service_started('cinder-volume',
                                                    self.conf))
        self.conf.set_override('compute', True, 'ksvd')
        self.conf.set_override('compute_api_class',
                               'cinder.compute.nova.API')
        self.assertIsNone(lifecycle.service_started('cinder-volume',
                                                    self.conf))

    def test_kick_wakes_the_worker(self):
        # delivery_interval is 60 s: only kick() can deliver this soon.
        worker = lifecycle.service_started('cinder-volume', self.conf)
        time.sleep(0.2)  # the first pass found nothing
        self.box.put(events.build(events.VOLUME_REIMAGED,
                                  str(uuid.uuid4()), ['s']))
        from cinder_ksvd.compute import delivery
        delivery.kick()
        self.assertEqual([], self.wait_empty())
        self.assertIsNotNone(worker)

    def test_wrap_service(self):
        class Service(FakeService):
            pass
        lifecycle.wrap_service(Service)
        lifecycle.wrap_service(Service)  # idempotent
        with mock.patch.object(lifecycle, 'service_started') as started, \
                mock.patch.object(lifecycle, 'service_stopped') as stopped:
            svc = Service('cinder-volume')
            self.assertEqual('started', svc.start())
            svc.stop()
        self.assertEqual(['start', 'stop'], svc.calls)
        started.assert_called_once_with('cinder-volume')
        stopped.assert_called_once_with('cinder-volume')

    def test_worker_failure_does_not_stop_the_service(self):
        class Service(FakeService):
            pass
        lifecycle.wrap_service(Service)
        with mock.patch.object(lifecycle, 'service_started',
                               side_effect=ValueError('bad sink')):
            svc = Service('cinder-volume')
            self.assertEqual('started', svc.start())
        self.assertEqual(['start'], svc.calls)
