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

"""A Python-2-style out-of-tree driver in real ksvd-cinder services.

The sample TrueNAS driver of tests/fixtures/drivers/ixsystems (urllib2,
basestring, cinder.volume.utils, utils.retry(exceptions=...), a Keystone
call) is mapped to cinder.volume.drivers.ixsystems by [ksvd_compat]
driver_locations, never copied into cinder, and run by ksvd-cinder-volume
against a double of a TrueNAS REST API v2.0 (tests/functional/truenas.py)
that sits behind an http redirect, as an appliance with "HTTP -> HTTPS
redirect" does.
"""

import json
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

from tests.functional import base
from tests.functional import services

FIXTURES = os.path.join(services.REPO, 'tests', 'fixtures', 'drivers')
DOUBLE = os.path.join(services.REPO, 'tests', 'functional', 'truenas.py')
API_KEY = '1-functional-api-key'
DATASET = 'tank/cinder'


class TrueNASDouble(object):

    def __init__(self, workdir):
        self.log_path = os.path.join(workdir, 'truenas.log')
        self._log = open(self.log_path, 'wb')
        self.proc = subprocess.Popen(
            [sys.executable, DOUBLE, '--api-key', API_KEY, '--pool', 'tank',
             '--dataset', DATASET, '--redirect'],
            stdout=subprocess.PIPE, stderr=self._log)
        ports = json.loads(self.proc.stdout.readline().decode('utf-8'))
        self.port = ports['port']
        self.redirect_port = ports['redirect_port']

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()
        self._log.close()

    def requests(self):
        with open(self.log_path) as handle:
            return handle.read().splitlines()

    def dataset(self, name):
        """The appliance's dataset record, or None (404)."""
        url = 'http://127.0.0.1:%d/api/v2.0/pool/dataset/id/%s' % (
            self.port, urllib.parse.quote_plus(name))
        request = urllib.request.Request(
            url, headers={'Authorization': 'Bearer %s' % API_KEY})
        try:
            with urllib.request.urlopen(request, timeout=10) as answer:
                return json.loads(answer.read().decode('utf-8'))
        except urllib.error.HTTPError as err:
            if err.code == 404:
                return None
            raise


class CompatDriverTest(base.FunctionalTestCase):

    def test_py2_style_driver_creates_and_deletes_on_truenas(self):
        rabbit = self.need(services.RabbitVhost())
        double = TrueNASDouble(self.workdir)
        self.addCleanup(double.stop)
        url = 'sqlite:///%s/cinder.sqlite' % self.workdir
        conf = services.service_conf(self.workdir, rabbit.url, url, {
            'DEFAULT': {'enabled_backends': 'truenas'},
            'truenas': {
                'volume_driver': 'cinder.volume.drivers.ixsystems.iscsi.'
                                 'FreeNASISCSIDriver',
                'volume_backend_name': 'truenas',
                'ixsystems_server_hostname': '127.0.0.1',
                # The redirecting port: every call is answered 301 first.
                'ixsystems_server_port': str(double.redirect_port),
                'ixsystems_apikey': API_KEY,
                'ixsystems_dataset_path': DATASET,
            },
            'ksvd_compat': {
                'driver_locations': 'cinder.volume.drivers.ixsystems=%s'
                                    % os.path.join(FIXTURES, 'ixsystems'),
            },
        })
        args = ['--config-file', services.DIST_CONF, '--config-file', conf]

        rc, out, err = services.run_command(
            'ksvd-cinder-manage', args + [
                'driver', 'check',
                'cinder.volume.drivers.ixsystems.iscsi.FreeNASISCSIDriver'],
            self.workdir)
        self.assertEqual(0, rc, out + err)
        self.assertIn('imports urllib2, urlparse (Python 2 names)', out)
        self.assertIn('result:     ok', out)

        rc, out, err = services.run_command(
            'ksvd-cinder-manage', args + ['db', 'sync'], self.workdir)
        self.assertEqual(0, rc, 'db sync failed:\n%s\n%s' % (out, err))
        api = self.start('ksvd-cinder-api', args, 'api')
        self.start('ksvd-cinder-scheduler', args, 'scheduler')
        volume = self.start('ksvd-cinder-volume', args, 'volume')
        cinder = self.client(self.wait_api(api))
        self.wait_services_up(cinder)
        volume.wait_for_log(r'Driver compat: shimmed modules: '
                            r'cinder\.volume\.drivers\.ixsystems')
        self.assertIsNotNone(double.dataset(DATASET))

        vtype = cinder.volume_types.create('truenas')
        vtype.set_keys({'volume_backend_name': 'truenas'})
        vol = cinder.volumes.create(1, name='compat-1', volume_type=vtype.id)
        vol = self.wait_status(cinder.volumes, vol.id, 'available')
        zvol = '%s/volume-%s' % (DATASET, vol.id)
        record = double.dataset(zvol)
        self.assertIsNotNone(record, 'no zvol %s on the appliance' % zvol)
        self.assertEqual('VOLUME', record['type'])
        self.assertEqual(1024 ** 3, record['volsize']['parsed'])
        self.assertIn('truenas', getattr(cinder.volumes.get(vol.id),
                                         'os-vol-host-attr:host'))

        cinder.volumes.delete(vol.id)
        self.wait_gone(cinder.volumes, vol.id)
        self.assertIsNone(double.dataset(zvol))

        quoted = urllib.parse.quote_plus(zvol)
        seen = double.requests()
        # Each call went to the redirecting port first and was followed
        # with its method (the fixup), then answered by the API port.
        for line in ('POST /api/v2.0/pool/dataset 301',
                     'POST /api/v2.0/pool/dataset 200',
                     'DELETE /api/v2.0/pool/dataset/id/%s 301' % quoted,
                     'DELETE /api/v2.0/pool/dataset/id/%s 200' % quoted):
            self.assertIn(line, seen)
        self.assertNotIn('Traceback', volume.output())


class DriverCheckReportTest(base.FunctionalTestCase):
    """ksvd-cinder-manage driver check reports every problem in one run."""

    def test_every_problem_of_a_package(self):
        conf = services.write_conf(
            os.path.join(self.workdir, 'cinder.conf'), {
                'DEFAULT': {'state_path': self.workdir},
                'database': {'connection':
                             'sqlite:///%s/cinder.sqlite' % self.workdir},
                'ksvd_compat': {'modules': 'py2many'},
            })
        rc, out, err = services.run_command(
            'ksvd-cinder-manage',
            ['--config-file', services.DIST_CONF, '--config-file', conf,
             'driver', 'check', 'py2many.driver.ManyDriver'],
            self.workdir, env={'PYTHONPATH': FIXTURES})
        self.assertEqual(1, rc, out + err)
        self.assertNotIn('Traceback', out + err)
        lines = out.splitlines()
        self.assertIn('loaded:     no', lines)
        package = os.path.join(FIXTURES, 'py2many')
        for line in (
                'missing:    module py2many_vendor_sdk: install it (pip or '
                'distribution package), or map the directory of a driver '
                'checked out elsewhere: [ksvd_compat] driver_locations = '
                'py2many_vendor_sdk=<directory>',
                'missing:    Python 3 code: %s/api.py:3: .iteritems() does '
                'not exist on Python 3: use .items()' % package,
                'missing:    Python 3 code: %s/helpers.py:7: .next() is '
                'Python 2 iterator protocol: use next(it)' % package,
                'missing:    Python 3 code: %s/tools/report.py:3: Python 2 '
                'syntax: print statement: use print(...) '
                '(py2many.tools.report, not reached: the import stopped '
                'earlier)' % package):
            self.assertIn(line, lines)
        errors = [line for line in lines if line.startswith('error:')]
        self.assertEqual(3, len(errors), out)
        self.assertEqual('result:     NOT usable: fix the lines above',
                         lines[-1])
