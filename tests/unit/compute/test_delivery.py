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
from tests.unit.compute import test_sinks

from cinder_ksvd.compute import delivery
from cinder_ksvd.compute import events
from cinder_ksvd.compute import outbox
from cinder_ksvd.compute import sinks


class RecordingSink(object):
    """Accepts or refuses on demand and remembers what it got."""

    def __init__(self, name='rec', accept=True):
        self.name = name
        self.accept = accept
        self.got = []

    def send(self, event, body):
        self.got.append((event, body))
        if isinstance(self.accept, Exception):
            raise self.accept
        return self.accept


def make_event():
    return events.build(events.VOLUME_EXTENDED, str(uuid.uuid4()), ['s'],
                        new_size=7)


class DeliverPendingTestCase(base.TestCase):

    def setUp(self):
        super(DeliverPendingTestCase, self).setUp()
        self.dir = self.make_tempdir()
        self.box = outbox.Outbox(self.dir, claim_timeout=60)

    def test_delivers_in_order_and_removes(self):
        sent = [make_event() for _ in range(3)]
        for event in sent:
            self.box.put(event)
        sink = RecordingSink()
        counts = delivery.deliver_pending(self.box, [sink], now=1000)
        self.assertEqual(3, counts['delivered'])
        self.assertEqual(sent, [event for event, _body in sink.got])
        self.assertEqual([events.dumps(e) for e in sent],
                         [body for _event, body in sink.got])
        self.assertEqual([], os.listdir(self.dir))

    def test_outage_delays_never_drops(self):
        event = make_event()
        name = self.box.put(event)
        sink = RecordingSink(accept=False)
        now = 1000.0
        for attempt in range(1, 8):
            counts = delivery.deliver_pending(self.box, [sink], now=now,
                                              interval=2, max_interval=10)
            self.assertEqual(1, counts['retry'])
            self.assertEqual([name], self.box.pending())
            envelope = self.box.read(name)
            self.assertEqual(attempt, envelope['attempts'])
            wait = envelope['next_try'] - now
            self.assertGreaterEqual(wait,
                                    min(10, 2 * 2 ** (attempt - 1)) / 2.0)
            self.assertLessEqual(wait, min(10, 2 * 2 ** (attempt - 1)))
            # not due yet: left alone
            counts = delivery.deliver_pending(self.box, [sink],
                                              now=now + wait / 2)
            self.assertEqual(1, counts['waiting'])
            now = envelope['next_try']
        self.assertEqual(7, len(sink.got))
        sink.accept = True
        counts = delivery.deliver_pending(self.box, [sink], now=now)
        self.assertEqual(1, counts['delivered'])
        self.assertEqual([], self.box.pending())
        ids = set(got['event_id'] for got, _body in sink.got)
        self.assertEqual(set([event['event_id']]), ids)

    def test_exception_in_sink_is_a_failed_attempt(self):
        self.box.put(make_event())
        sink = RecordingSink(accept=RuntimeError('boom'))
        counts = delivery.deliver_pending(self.box, [sink], now=1000)
        self.assertEqual(1, counts['retry'])
        self.assertEqual(1, len(self.box.pending()))

    def test_retry_skips_sinks_that_took_it(self):
        event = make_event()
        self.box.put(event)
        good = RecordingSink('good')
        bad = RecordingSink('bad', accept=False)
        delivery.deliver_pending(self.box, [good, bad], now=1000)
        bad.accept = True
        counts = delivery.deliver_pending(self.box, [good, bad], now=10 ** 6)
        self.assertEqual(1, counts['delivered'])
        self.assertEqual(1, len(good.got))
        self.assertEqual(2, len(bad.got))
        self.assertEqual(bad.got[0][1], bad.got[1][1])

    def test_claims_are_exclusive_between_outboxes(self):
        names = [self.box.put(make_event()) for _ in range(4)]
        other = outbox.Outbox(self.dir, claim_timeout=60)
        held = other.claim(names[1], now=1000)
        sink = RecordingSink()
        counts = delivery.deliver_pending(self.box, [sink], now=1001)
        self.assertEqual(3, counts['delivered'])
        self.assertEqual([held], os.listdir(self.dir))
        other.done(held)
        self.assertEqual(3, len(sink.got))

    def test_crashed_worker_claim_is_delivered_later(self):
        event = make_event()
        name = self.box.put(event)
        other = outbox.Outbox(self.dir, claim_timeout=60)
        other.claim(name, now=1000)  # that worker dies here
        sink = RecordingSink()
        delivery.deliver_pending(self.box, [sink], now=1030)
        self.assertEqual([], sink.got)
        counts = delivery.deliver_pending(self.box, [sink], now=1061)
        self.assertEqual(1, counts['delivered'])
        self.assertEqual(event, sink.got[0][0])
        self.assertEqual([], os.listdir(self.dir))

    def test_unreadable_file_set_aside(self):
        name = '20260101T000000.000000Z-%s.json' % uuid.uuid4()
        self.write_file(self.dir, name, '{"event": {"type": "x"}}')
        sink = RecordingSink()
        counts = delivery.deliver_pending(self.box, [sink], now=1000)
        self.assertEqual(1, counts['invalid'])
        self.assertEqual([name + '.invalid'], os.listdir(self.dir))
        self.assertEqual([], sink.got)

    def test_backoff_bounds(self):
        for attempts in range(1, 40):
            delay = delivery.backoff(attempts, 5, 300)
            cap = min(300, 5 * 2 ** (attempts - 1))
            self.assertTrue(cap / 2.0 <= delay <= cap, (attempts, delay))


class WebhookOutageTestCase(base.TestCase):
    """MC down, events queued; MC back, each arrives signed, same id."""

    def test_outage_then_recovery(self):
        box = outbox.Outbox(self.make_tempdir())
        sent = [make_event() for _ in range(3)]
        for event in sent:
            box.put(event)
        down = sinks.WebhookSink(test_sinks.refused_url(),
                                 test_sinks.SECRET, timeout=5)
        counts = delivery.deliver_pending(box, [down], now=1000)
        self.assertEqual(3, counts['retry'])
        self.assertEqual(3, len(box.pending()))

        receiver = test_sinks.Receiver(status=500)
        self.addCleanup(receiver.stop)
        up = sinks.WebhookSink(receiver.url, test_sinks.SECRET, timeout=5)
        counts = delivery.deliver_pending(box, [up], now=10 ** 6)
        self.assertEqual(3, counts['retry'])
        receiver.status = 200
        counts = delivery.deliver_pending(box, [up], now=10 ** 7)
        self.assertEqual(3, counts['delivered'])
        self.assertEqual([], box.pending())
        self.assertEqual(6, len(receiver.received))
        got = []
        for headers, body in receiver.received:
            self.assertTrue(test_sinks.Receiver.verify(headers, body))
            event = events.validate(json.loads(body.decode('utf-8')))
            self.assertEqual(event['event_id'], headers['X-KSVD-Event-Id'])
            got.append(event)
        self.assertEqual(sent + sent, got)


class WorkerTestCase(base.TestCase):

    def test_nothing_runs_until_started(self):
        box = outbox.Outbox(self.make_tempdir())
        box.put(make_event())
        sink = RecordingSink()
        worker = delivery.Worker(box, [sink], interval=0.01)
        self.assertEqual([], sink.got)
        self.assertEqual(1, worker.run_once()['delivered'])
        self.assertEqual(1, len(sink.got))

    def test_start_delivers_and_stop_ends(self):
        box = outbox.Outbox(self.make_tempdir())
        box.put(make_event())
        sink = RecordingSink()
        worker = delivery.Worker(box, [sink], interval=0.01)
        thread = worker.start()
        self.addCleanup(worker.stop, 5)
        for _ in range(500):
            if not box.pending() and sink.got:
                break
            worker._stop.wait(0.01)
        worker.stop(5)
        self.assertFalse(thread.is_alive())
        self.assertEqual(1, len(sink.got))
        self.assertEqual([], box.pending())
