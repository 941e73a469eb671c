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

"""The compute notifier in place of Nova, against real services.

Real ksvd-cinder-api, -scheduler and -volume processes on RabbitMQ and
sqlite, with cinder-dist.conf's compute_api_class (ours) and the webhook
sink pointed at a stand-in MC (tests.functional.receiver) that checks every
signature and validates every event against the published schema.  The
volume backend is cinder's fake driver: these tests are about cinder's
state machine and the events, not data.
"""

import os
import time
import uuid

from tests.functional import base
from tests.functional import receiver as receiver_mod
from tests.functional import services

SECRET = 'functional-shared-secret'
CONNECTOR = {'initiator': 'iqn.2026-11.ksvd:compute', 'ip': '127.0.0.1',
             'host': 'ksvd-host-1', 'platform': 'x86_64', 'os_type': 'linux',
             'multipath': False}
TRANSITIONAL = ('creating', 'attaching', 'detaching', 'deleting',
                'extending', 'maintenance', 'retyping', 'reserved',
                'downloading', 'uploading', 'migrating', 'starting',
                'completing')


class ComputeNotifierTest(base.FunctionalTestCase):

    def setUp(self):
        super(ComputeNotifierTest, self).setUp()
        self.receiver = receiver_mod.Receiver(SECRET).start()
        self.addCleanup(self.receiver.stop)
        self.rabbit = self.need(services.RabbitVhost())
        self.generation = 0

    def _conf(self, backends=('fake',), compute=None):
        extra = {
            'DEFAULT': {'enabled_backends': ','.join(backends)},
            'ksvd_compute': dict({
                'sinks': 'webhook,log',
                'webhook_url': self.receiver.url,
                'webhook_secret': SECRET,
                'delivery_interval': '1',
                'retry_interval': '1',
                'retry_max_interval': '2',
            }, **(compute or {})),
        }
        for backend in backends:
            extra[backend] = {
                'volume_driver':
                    'cinder.tests.fake_driver.FakeLoggingVolumeDriver',
                'volume_backend_name': 'fake',
                'target_helper': 'fake',
            }
        url = 'sqlite:///%s/cinder.sqlite' % self.workdir
        conf = services.service_conf(self.workdir, self.rabbit.url, url,
                                     extra)
        self.args = ['--config-file', services.DIST_CONF,
                     '--config-file', conf]
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', self.args + ['db', 'sync'], self.workdir)
        self.assertEqual(0, rc, 'db sync failed:\n%s\n%s' % (out, err))

    def _start_services(self):
        """Start api, scheduler, volume; return (cinder client, procs)."""
        self.generation += 1
        suffix = '' if self.generation == 1 else '-%d' % self.generation
        procs = [self.start('ksvd-cinder-api', self.args, 'api' + suffix),
                 self.start('ksvd-cinder-scheduler', self.args,
                            'scheduler' + suffix),
                 self.start('ksvd-cinder-volume', self.args,
                            'volume' + suffix)]
        cinder = self.client(self.wait_api(procs[0]))
        self.wait_services_up(cinder)
        procs[2].wait_for_log(r'Compute event delivery started')
        return cinder, procs

    def _attach(self, cinder, volume_id, server_id):
        att = cinder.attachments.create(volume_id, CONNECTOR,
                                        instance_id=server_id, mode='rw')
        self.assertEqual(server_id, att['instance'])
        cinder.attachments.complete(att['id'])
        self.wait_status(cinder.volumes, volume_id, 'in-use')
        return att

    def _new_volume(self, cinder, name):
        vol = cinder.volumes.create(1, name=name)
        return self.wait_status(cinder.volumes, vol.id, 'available')

    def _extend(self, cinder, volume_id, size):
        cinder.volumes.extend(volume_id, size)
        self.wait_for('in-use volume %s extended to %d GiB'
                      % (volume_id, size),
                      lambda: (cinder.volumes.get(volume_id).size == size and
                               cinder.volumes.get(volume_id).status ==
                               'in-use'))

    def _events(self, count, timeout=60):
        """Wait until the receiver has count distinct volume.extended."""
        self.wait_for('%d extend events at the receiver' % count,
                      lambda: len(self.receiver.of_type('volume.extended'))
                      >= count, timeout=timeout)
        return self.receiver.of_type('volume.extended')

    def _assert_settled(self, cinder):
        for vol in cinder.volumes.list(search_opts={'all_tenants': 1}):
            self.assertNotIn(vol.status, TRANSITIONAL,
                             'volume %s left %s' % (vol.id, vol.status))
            self.assertNotIn(getattr(vol, 'migration_status', None),
                             ('migrating', 'starting', 'completing'))

    def test_extend_events_survive_outage_and_restart(self):
        """Extend in-use: one signed event; outage + restart: none lost.

        Then the attachment with an instance id is deleted (stock cinder
        without Nova answers 500 and leaves the volume in-use).
        """
        self._conf()
        cinder, procs = self._start_services()
        server_id = str(uuid.uuid4())
        vol = self._new_volume(cinder, 'compute-extend')
        att = self._attach(cinder, vol.id, server_id)

        self._extend(cinder, vol.id, 2)
        first, = self._events(1)
        self.assertEqual(vol.id, first['volume_id'])
        self.assertEqual([server_id], first['server_ids'])
        self.assertEqual(2, first['new_size'])
        self.assertRegex(first['request_id'], r'^req-[0-9a-f-]{36}$')
        # Exactly one: nothing else arrives over several delivery passes.
        time.sleep(5)
        self.assertEqual([first['event_id']],
                         [e['event_id'] for e in self.receiver.deliveries])
        self.assertEqual([], self.receiver.rejected)

        # The MC goes away; three more extends are queued, not lost.
        self.receiver.stop()
        for size in (3, 4, 5):
            self._extend(cinder, vol.id, size)
        outbox = os.path.join(self.workdir, 'ksvd-compute-outbox')
        self.wait_for('three events waiting in the outbox',
                      lambda: len([n for n in os.listdir(outbox)
                                   if n.endswith('.json')]) == 3)
        procs[2].wait_for_log(r'not delivered after 1 attempt')
        for proc in reversed(procs):
            self.assertIsNotNone(proc.stop())

        # Services first, then the MC: the new volume service drains the
        # outbox once the receiver is back.
        cinder, procs = self._start_services()
        self.receiver.start()
        events = self._events(4)
        later = sorted(e['new_size'] for e in events
                       if e['event_id'] != first['event_id'])
        self.assertEqual([3, 4, 5], later)
        for event in events:
            self.assertEqual([server_id], event['server_ids'])
        self.assertEqual([], self.receiver.rejected)
        self.wait_for('outbox empty',
                      lambda: not [n for n in os.listdir(outbox)
                                   if n.endswith('.json')])

        # Deleting the attachment that carries the instance id works.
        cinder.attachments.delete(att['id'])
        self.wait_status(cinder.volumes, vol.id, 'available')
        self.assertEqual([], cinder.volumes.get(vol.id).attachments)
        self._assert_settled(cinder)
        cinder.volumes.delete(vol.id)
        self.wait_gone(cinder.volumes, vol.id)

    def test_migration_of_attached_volume_refused_cleanly(self):
        """Without callback mode the swap is refused and rolled back.

        Two fake backends in one volume service; the attached volume is
        migrated from one to the other.  cinder would need Nova to swap the
        disk under the server: the compute API refuses, cinder deletes the
        temporary volume, and the source stays in-use, attached, usable.
        """
        self._conf(backends=('fake', 'fake2'))
        cinder, procs = self._start_services()
        # The scheduler places the migration only on a backend whose
        # capabilities it has heard.
        self.wait_for('both backends in the scheduler', lambda: len(
            cinder.pools.list(detailed=False)) >= 2, 120)
        server_id = str(uuid.uuid4())
        vol = self._new_volume(cinder, 'compute-migrate')
        host = getattr(vol, 'os-vol-host-attr:host')
        source, target = ('@fake#', '@fake2#')
        if source not in host:  # the scheduler chose the other backend
            source, target = target, source
        self.assertIn(source, host)
        att = self._attach(cinder, vol.id, server_id)

        cinder.volumes.migrate_volume(vol.id, host.replace(source, target),
                                      False, False)
        self.wait_for('migration refused',
                      lambda: getattr(cinder.volumes.get(vol.id),
                                      'migration_status', None) == 'error')
        procs[2].wait_for_log(r'KSVD does not perform the swap of attached '
                              r'volume %s' % vol.id)
        # The temporary target volume is gone; the source is untouched.
        self.wait_for('temporary volume deleted',
                      lambda: [v.id for v in cinder.volumes.list(
                          search_opts={'all_tenants': 1})] == [vol.id])
        after = cinder.volumes.get(vol.id)
        self.assertEqual('in-use', after.status)
        self.assertEqual(host, getattr(after, 'os-vol-host-attr:host'))
        self.assertEqual([att['id']],
                         [a['attachment_id'] for a in after.attachments])
        self._assert_settled(cinder)

        # Still usable: extend (one event), detach, delete.
        self._extend(cinder, vol.id, 2)
        event, = self._events(1)
        self.assertEqual(vol.id, event['volume_id'])
        cinder.attachments.delete(att['id'])
        self.wait_status(cinder.volumes, vol.id, 'available')
        self._assert_settled(cinder)
        cinder.volumes.delete(vol.id)
        self.wait_gone(cinder.volumes, vol.id)

    def test_callback_swap_needs_the_copy_reported(self):
        """Callback mode: completing a swap without the copy is refused.

        cinder copies nothing for an attached volume; the MC (here the
        test, with the events the receiver got) must copy, set the
        copy_proof metadata on the new volume, then complete.
        """
        from cinderclient import exceptions
        self._conf(backends=('fake', 'fake2'),
                   compute={'callback_mode': 'true',
                            'callback_timeout': '240'})
        cinder, procs = self._start_services()
        self.wait_for('both backends in the scheduler', lambda: len(
            cinder.pools.list(detailed=False)) >= 2, 120)
        server_id = str(uuid.uuid4())
        vol = self._new_volume(cinder, 'compute-swap')
        host = getattr(vol, 'os-vol-host-attr:host')
        source, target = ('@fake#', '@fake2#')
        if source not in host:
            source, target = target, source
        self._attach(cinder, vol.id, server_id)

        cinder.volumes.migrate_volume(vol.id, host.replace(source, target),
                                      False, False)
        self.wait_for('swap request at the MC', lambda: self.receiver
                      .of_type('volume.swap_requested'), 120)
        request, = self.receiver.of_type('volume.swap_requested')
        self.assertEqual('1.1', request['schema_version'])
        new_id = request['new_volume_id']
        self.assertEqual({'metadata_key': 'ksvd_copied_from',
                          'value': vol.id}, request['copy_proof'])
        self.wait_status(cinder.volumes, new_id, 'available')

        # Completion that only reports success: refused, nothing changes.
        exc = self.assertRaises(
            exceptions.BadRequest, cinder.volumes.migrate_volume_completion,
            vol.id, new_id, False)
        self.assertIn('volume %s is attached: cinder copied none of its '
                      'data to %s' % (vol.id, new_id), str(exc))
        self.assertEqual('migrating', getattr(cinder.volumes.get(vol.id),
                                              'migration_status'))

        # The MC copied the data (the fake driver has none) and says so.
        cinder.volumes.set_metadata(new_id, {request['copy_proof'][
            'metadata_key']: request['copy_proof']['value']})
        cinder.volumes.migrate_volume_completion(vol.id, new_id, False)
        self.wait_for('migration success', lambda: getattr(
            cinder.volumes.get(vol.id), 'migration_status', None) ==
            'success', 120)
        procs[2].wait_for_log(r'KSVD completed the swap of attached volume '
                              r'%s' % vol.id)
        after = cinder.volumes.get(vol.id)
        self.assertEqual('in-use', after.status)
        self.assertIn(target, getattr(after, 'os-vol-host-attr:host'))
        self.assertEqual([], self.receiver.of_type('callback.expired'))
        self.assertEqual([], self.receiver.rejected)
        self._assert_settled(cinder)
