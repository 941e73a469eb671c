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

"""The cases of doc/troubleshooting.md, each producing its documented message.

The field prototype's FAQ: "no valid backend", a default volume type that
does not exist, and volume drivers that fail to import. Every message
asserted here is quoted in doc/troubleshooting.md; change both together.
"""

import os
import textwrap

import fixtures
from tests.functional import base
from tests.functional import services


class TroubleshootingTest(base.FunctionalTestCase):

    def _deploy(self, extra):
        rabbit = self.need(services.RabbitVhost())
        url = 'sqlite:///%s/cinder.sqlite' % self.workdir
        conf = services.service_conf(self.workdir, rabbit.url, url, extra)
        args = ['--config-file', services.DIST_CONF, '--config-file', conf]
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', args + ['db', 'sync'], self.workdir)
        self.assertEqual(0, rc, 'db sync failed:\n%s\n%s' % (out, err))
        api = self.start('ksvd-cinder-api', args, 'api')
        scheduler = self.start('ksvd-cinder-scheduler', args, 'scheduler')
        self.start('ksvd-cinder-volume', args, 'volume')
        self.endpoint = self.wait_api(api)
        cinder = self.client(self.endpoint)
        self.wait_services_up(cinder)
        return cinder, scheduler

    def test_default_type_and_no_valid_backend(self):
        from cinderclient import exceptions

        cinder, scheduler = self._deploy(
            {'DEFAULT': {'default_volume_type': 'lvmdriver-1'}})

        # Case "default volume type not found": no type given, and the
        # configured default does not exist.
        exc = self.assertRaises(exceptions.ClientException,
                                cinder.volumes.create, 1, name='no-type')
        self.assertEqual(500, exc.code)
        self.assertIn('The request cannot be fulfilled as the default '
                      'volume type lvmdriver-1 cannot be found.',
                      str(exc))

        # Case "No valid backend was found": a type no backend reports.
        ghost = cinder.volume_types.create('ghost-type')
        ghost.set_keys({'volume_backend_name': 'ghost'})
        vol = cinder.volumes.create(1, name='nowhere',
                                    volume_type='ghost-type')
        self.wait_status(cinder.volumes, vol.id, 'error', 120)
        scheduler.wait_for_log(r'No valid backend was found')

        def user_message():
            found = [m for m in cinder.messages.list()
                     if m.resource_uuid == vol.id]
            return found[0] if found else None
        message = self.wait_for('a user message for %s' % vol.id,
                                user_message, 60)
        self.assertEqual('schedule allocate volume:Could not find any '
                         'available weighted backend.',
                         message.user_message)

        # The fix for both: a type named like the default, on a backend
        # that exists; then a create without a type works.
        fixed = cinder.volume_types.create('lvmdriver-1')
        fixed.set_keys({'volume_backend_name': 'fake'})
        vol = cinder.volumes.create(1, name='fixed')
        self.assertEqual('lvmdriver-1', vol.volume_type)
        self.wait_status(cinder.volumes, vol.id, 'available', 120)
        cinder.volumes.delete(vol.id)
        self.wait_gone(cinder.volumes, vol.id, 120)

    def _driver_refused(self, source, expect):
        """ksvd-cinder-volume with a driver module that fails to import."""
        package = os.path.join(self.workdir, 'drivers')
        os.mkdir(package)
        with open(os.path.join(package, 'vendor_driver.py'), 'w') as handle:
            handle.write(textwrap.dedent(source))
        self.useFixture(fixtures.EnvironmentVariable('PYTHONPATH', package))
        conf = services.write_conf(
            os.path.join(self.workdir, 'cinder.conf'),
            {'DEFAULT': {'state_path': self.workdir,
                         'enabled_backends': 'vendor',
                         'transport_url':
                             'rabbit://guest:guest@127.0.0.1:1/'},
             'database': {'connection':
                          'sqlite:///%s/cinder.sqlite' % self.workdir},
             'vendor': {'volume_driver': 'vendor_driver.VendorDriver'}})
        rc, out, err = services.run_command(
            'ksvd-cinder-volume',
            ['--config-file', services.DIST_CONF, '--config-file', conf],
            self.workdir, timeout=120)
        self.assertEqual(78, rc, 'exit %s\nstdout: %s\nstderr: %s'
                         % (rc, out, err))
        lines = err.strip().splitlines()
        self.assertEqual(['ksvd-cinder-volume: error: [vendor] volume_driver '
                          'vendor_driver.VendorDriver cannot be loaded: '
                          + expect], lines)
        self.assertNotIn('Traceback', out + err)

    def test_driver_needs_missing_module(self):
        # The prototype's "ImportError: No module named parse" (a py3 driver
        # on py2); on py3 the same class of error is a module that is not
        # installed.
        self._driver_refused(
            '''
            import ksvd_no_such_array_sdk  # noqa

            class VendorDriver(object):
                pass
            ''',
            "ModuleNotFoundError: No module named 'ksvd_no_such_array_sdk'")

    def test_driver_needs_missing_cinder_name(self):
        # The prototype's "module 'cinder.utils' has no attribute 'trace'":
        # a driver written for another cinder release.
        self._driver_refused(
            '''
            from cinder import utils

            retry_all = utils.ksvd_no_such_helper

            class VendorDriver(object):
                pass
            ''',
            "AttributeError: module 'cinder.utils' has no attribute "
            "'ksvd_no_such_helper'")
