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
import stat
import time
from unittest import mock
import uuid

from tests.unit import base

from cinder_ksvd.compute import events
from cinder_ksvd.compute import outbox
from cinder_ksvd import opts


def make_event(**fields):
    fields.setdefault('new_size', 3)
    return events.build(events.VOLUME_EXTENDED, str(uuid.uuid4()), ['srv'],
                        **fields)


class OutboxTestCase(base.TestCase):

    def setUp(self):
        super(OutboxTestCase, self).setUp()
        self.dir = os.path.join(self.make_tempdir(), 'spool')
        self.box = outbox.Outbox(self.dir, claim_timeout=60)

    def test_creates_private_dir(self):
        self.assertTrue(os.path.isdir(self.dir))
        self.assertEqual(0, os.stat(self.dir).st_mode & stat.S_IRWXO)
        outbox.Outbox(self.dir)  # an existing dir is fine

    def test_put_persists_before_returning(self):
        event = make_event()
        with mock.patch.object(outbox.os, 'fsync',
                               wraps=os.fsync) as fsync, \
                mock.patch.object(outbox.os, 'rename',
                                  wraps=os.rename) as rename:
            name = self.box.put(event)
        self.assertEqual(2, fsync.call_count)  # the file, then the dir
        self.assertEqual(1, rename.call_count)
        self.assertTrue(name.endswith('-%s.json' % event['event_id']))
        self.assertEqual([name], os.listdir(self.dir))
        with open(os.path.join(self.dir, name)) as handle:
            stored = json.load(handle)
        self.assertEqual({'event': event, 'attempts': 0, 'next_try': 0,
                          'delivered': []}, stored)

    def test_survives_a_new_outbox_object(self):
        event = make_event()
        name = self.box.put(event)
        again = outbox.Outbox(self.dir)
        self.assertEqual([name], again.pending())
        self.assertEqual(event, again.read(name)['event'])

    def test_pending_in_order(self):
        names = [self.box.put(make_event()) for _ in range(5)]
        self.assertEqual(names, self.box.pending())
        self.assertEqual(sorted(names), names)

    def test_pending_ignores_other_files(self):
        name = self.box.put(make_event())
        for other in ('.x.tmp', 'README', name + '.invalid'):
            self.write_file(self.dir, other, 'x')
        self.assertEqual([name], self.box.pending())

    def test_claim_is_exclusive(self):
        name = self.box.put(make_event())
        other = outbox.Outbox(self.dir)
        claimed = self.box.claim(name)
        self.assertIsNotNone(claimed)
        self.assertIsNone(other.claim(name))
        self.assertEqual([], other.pending())
        self.assertEqual([claimed], other.claimed())
        self.assertEqual(name, outbox.Outbox.pending_name(claimed))

    def test_done_removes(self):
        name = self.box.put(make_event())
        claimed = self.box.claim(name)
        self.assertTrue(self.box.done(claimed))
        self.assertEqual([], os.listdir(self.dir))
        self.assertFalse(self.box.done(claimed))

    def test_release_puts_back(self):
        event = make_event()
        name = self.box.put(event)
        claimed = self.box.claim(name)
        self.assertTrue(self.box.release(claimed))
        self.assertEqual([name], self.box.pending())
        self.assertEqual(event, self.box.read(name)['event'])

    def test_release_with_state(self):
        name = self.box.put(make_event())
        claimed = self.box.claim(name)
        envelope = self.box.read(claimed)
        envelope.update(attempts=3, next_try=1234.5, delivered=['log'])
        self.assertTrue(self.box.release(claimed, envelope))
        self.assertEqual([name], os.listdir(self.dir))
        self.assertEqual(envelope, self.box.read(name))

    def test_release_after_claim_was_taken_back(self):
        name = self.box.put(make_event())
        claimed = self.box.claim(name, now=100)
        self.assertEqual([name], self.box.recover(now=1000))
        self.assertFalse(self.box.release(claimed,
                                          self.box.read(name)))
        self.assertEqual([name], os.listdir(self.dir))

    def test_recover_only_old_claims(self):
        name = self.box.put(make_event())
        claimed = self.box.claim(name, now=1000)
        self.assertEqual([], self.box.recover(now=1059))
        self.assertEqual([claimed], self.box.claimed())
        self.assertEqual([name], self.box.recover(now=1060))
        self.assertEqual([name], self.box.pending())
        self.assertEqual([], self.box.claimed())

    def test_recover_completes_an_interrupted_write(self):
        event = make_event()
        name = '20260101T000000.000000Z-%s.json' % event['event_id']
        temp = '.%s.%s.tmp' % (name, uuid.uuid4().hex)
        self.write_file(self.dir, temp, json.dumps(
            {'event': event, 'attempts': 0, 'next_try': 0,
             'delivered': []}))
        torn = '.%s.%s.tmp' % (name.replace('2026', '2025'),
                               uuid.uuid4().hex)
        self.write_file(self.dir, torn, '{"event": {"sch')
        self.assertEqual([], self.box.recover(now=time.time()))
        self.assertEqual([name],
                         self.box.recover(now=time.time() + 61))
        self.assertEqual([name], os.listdir(self.dir))
        self.assertEqual(event, self.box.read(name)['event'])

    def test_quarantine(self):
        name = self.box.put(make_event())
        claimed = self.box.claim(name)
        self.assertTrue(self.box.quarantine(claimed))
        self.assertEqual([name + '.invalid'], os.listdir(self.dir))
        self.assertEqual([], self.box.pending())

    def test_pending_name_rejects_other_names(self):
        self.assertRaises(ValueError, outbox.Outbox.pending_name, 'x.json')


class PathFromConfTestCase(base.TestCase):

    def conf(self, *lines):
        directory = self.make_tempdir()
        path = self.write_file(directory, 'c.conf', '\n'.join(lines) + '\n')
        conf = self.new_conf()
        opts.register_opts(conf)
        from oslo_config import cfg
        conf.register_opt(cfg.StrOpt('state_path'))
        conf(['--config-file', path], default_config_files=[],
             default_config_dirs=[])
        return conf

    def test_under_state_path(self):
        conf = self.conf('[DEFAULT]', 'state_path = /var/lib/cinder')
        self.assertEqual('/var/lib/cinder/ksvd-compute-outbox',
                         outbox.path_from_conf(conf))

    def test_configured(self):
        conf = self.conf('[DEFAULT]', 'state_path = /var/lib/cinder',
                         '[ksvd_compute]', 'outbox_dir = /srv/outbox')
        self.assertEqual('/srv/outbox', outbox.path_from_conf(conf))
