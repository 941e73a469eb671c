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

"""MariaDB, then RabbitMQ, restarted under a create/delete load.

The services run on a private server (tests/fault/servers.py) that the
test stops for DOWN_SECONDS and starts again while the load of
tests/fault/load.py runs; the other server is the machine's shared one (the
broker with its own vhost).  Asserted: nothing stuck in a transitional
state, every failure carries a message, every pair is accounted for, and
afterwards a new volume goes through end to end (the services reconnected).
The figures go to the test's details and .functional-logs/fault-figures.txt.
"""

import os
import time

from tests.fault import load as fault_load
from tests.fault import servers
from tests.functional import base
from tests.functional import services
from testtools import content

DOWN_SECONDS = 5


class FaultTestCase(base.FunctionalTestCase):

    def _deploy(self, transport_url, db_url):
        conf = services.service_conf(self.workdir, transport_url, db_url)
        args = ['--config-file', services.DIST_CONF, '--config-file', conf]
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', args + ['db', 'sync'], self.workdir)
        self.assertEqual(0, rc, err)
        api = self.start('ksvd-cinder-api', args, 'api')
        self.start('ksvd-cinder-scheduler', args, 'scheduler')
        self.start('ksvd-cinder-volume', args, 'volume')
        endpoint = self.wait_api(api)
        cinder = self.client(endpoint)
        self.wait_services_up(cinder)
        return endpoint, cinder

    def _restart_under_load(self, endpoint, cinder, server, what, noticed):
        """Break server under load; noticed: what a service log must say.

        The log line proves the services really met the outage (a restart
        between two calls would pass unseen).
        """
        load = fault_load.Load(lambda: self.client(endpoint))
        load.start()
        self.assertTrue(load.restart_now.wait(300), 'load did not start')
        server.stop()
        time.sleep(DOWN_SECONDS)
        server.start()
        load.join()
        stuck = fault_load.stuck_volumes(cinder)
        text = fault_load.figures(
            load, stuck, '%s down %ds after %d operations'
            % (what, DOWN_SECONDS, fault_load.RESTART_AFTER))
        self.addDetail('fault-figures', content.text_content(text))
        os.makedirs(base.LOG_DIR, exist_ok=True)
        with open(os.path.join(base.LOG_DIR, 'fault-figures.txt'),
                  'a') as handle:
            handle.write('%s: %s\n' % (self.id(), text))
        logs = '\n'.join(proc.output() for proc in self.processes)
        self.assertRegex(logs, noticed)
        self.assertEqual([], ['%s %s' % (v.id, v.status) for v in stuck])
        counts = load.counts
        self.assertEqual(0, counts['failed_without_message'])
        self.assertEqual(fault_load.CLIENTS * fault_load.ROUNDS,
                         counts['completed'] + counts['failed_with_message']
                         + counts['failed_without_message'])
        # The services reconnected: a new volume works end to end.
        vol = cinder.volumes.create(1, name='after-restart')
        self.wait_status(cinder.volumes, vol.id, 'available', 120)
        cinder.volumes.delete(vol.id)
        self.wait_gone(cinder.volumes, vol.id, 120)
        return counts


class DbRestartTest(FaultTestCase):

    def test_mariadb_restart_during_load(self):
        rabbit = self.need(services.RabbitVhost())
        db = self.need(servers.PrivateMariaDB())
        endpoint, cinder = self._deploy(rabbit.url, db.url)
        # cinder_ksvd.db.reconnect waited for the server.
        self._restart_under_load(
            endpoint, cinder, db, 'MariaDB',
            r'Database at 127\.0\.0\.1:%d reachable again after' % db.port)


class BrokerRestartTest(FaultTestCase):

    def test_rabbitmq_restart_during_load(self):
        broker = self.need(servers.PrivateRabbitMQ())
        db = self.need(services.MysqlDatabase())
        endpoint, cinder = self._deploy(broker.url, db.url)
        # oslo.messaging's rabbit driver lost and re-established the link.
        self._restart_under_load(
            endpoint, cinder, broker, 'RabbitMQ',
            r'Reconnected to AMQP server on 127\.0\.0\.1:%d' % broker.port)
