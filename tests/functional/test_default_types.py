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

"""Per-project default volume types (3.62) on real services, no Keystone."""

import json
import urllib.error
import urllib.request

from tests.functional import base
from tests.functional import services

MICROVERSION = '3.62'


class DefaultTypesTest(base.FunctionalTestCase):

    def _deploy(self, extra=None):
        rabbit = self.need(services.RabbitVhost())
        url = 'sqlite:///%s/cinder.sqlite' % self.workdir
        conf = services.service_conf(self.workdir, rabbit.url, url, extra)
        self.args = ['--config-file', services.DIST_CONF,
                     '--config-file', conf]
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', self.args + ['db', 'sync'], self.workdir)
        self.assertEqual(0, rc, err)
        self.api = self.start('ksvd-cinder-api', self.args, 'api')
        self.start('ksvd-cinder-scheduler', self.args, 'scheduler')
        self.start('ksvd-cinder-volume', self.args, 'volume')
        self.endpoint = self.wait_api(self.api)
        cinder = self.client(self.endpoint, project='ops')
        self.wait_services_up(cinder)
        return cinder

    def http(self, method, path, token, body=None):
        """One request at 3.62; returns (status, parsed JSON or None)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data,
                                     method=method)
        req.add_header('Content-Type', 'application/json')
        req.add_header('OpenStack-API-Version', 'volume ' + MICROVERSION)
        req.add_header('X-Auth-Token', token)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=60) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        return status, json.loads(raw.decode()) if raw else None

    def test_set_show_use_unset(self):
        cinder = self._deploy()
        admin = self.token(project='ops', roles=('admin',))
        tenant = self.token(project='tenant-b', user='b', roles=('member',))
        gold = cinder.volume_types.create('gold')
        silver = cinder.volume_types.create('silver')

        # Set: 200 for a project the token file knows (stock: 403).
        status, body = self.http(
            'PUT', '/default-types/tenant-b', admin,
            {'default_type': {'volume_type': 'gold'}})
        self.assertEqual(200, status, body)
        self.assertEqual({'project_id': 'tenant-b',
                          'volume_type_id': gold.id}, body['default_type'])
        status, body = self.http('GET', '/default-types/tenant-b', admin)
        self.assertEqual(200, status, body)
        self.assertEqual(gold.id, body['default_type']['volume_type_id'])
        # Change it, by id this time.
        status, body = self.http(
            'PUT', '/default-types/tenant-b', admin,
            {'default_type': {'volume_type': silver.id}})
        self.assertEqual(200, status, body)
        status, body = self.http('GET', '/default-types', admin)
        self.assertEqual(200, status, body)
        self.assertEqual([{'project_id': 'tenant-b',
                           'volume_type_id': silver.id}],
                         body['default_types'])

        # The default applies: tenant-b's volume without a type is silver,
        # the admin project's gets cinder's default type.
        b_client = self.client(self.endpoint, project='tenant-b', user='b',
                               roles=('member',))
        vol = b_client.volumes.create(1, name='b-default')
        vol = self.wait_status(b_client.volumes, vol.id, 'available')
        self.assertEqual('silver', vol.volume_type)
        own = cinder.volumes.create(1, name='ops-default')
        own = self.wait_status(cinder.volumes, own.id, 'available')
        self.assertEqual('__DEFAULT__', own.volume_type)

        # A member may neither set nor read another default: 403, whether
        # the project exists or not.
        for project in ('tenant-b', 'ops', 'no-such-project'):
            status, body = self.http(
                'PUT', '/default-types/%s' % project, tenant,
                {'default_type': {'volume_type': 'gold'}})
            self.assertEqual(403, status, body)
            status, body = self.http('GET', '/default-types/%s' % project,
                                     tenant)
            self.assertEqual(403, status, body)
            status, body = self.http('DELETE',
                                     '/default-types/%s' % project, tenant)
            self.assertEqual(403, status, body)

        # Unknown project: 404, nothing stored.
        status, body = self.http(
            'PUT', '/default-types/no-such-project', admin,
            {'default_type': {'volume_type': 'gold'}})
        self.assertEqual(404, status, body)
        self.assertIn('Project with id no-such-project not found',
                      body['itemNotFound']['message'])
        status, body = self.http('GET', '/default-types/no-such-project',
                                 admin)
        self.assertEqual(404, status, body)
        status, body = self.http('GET', '/default-types', admin)
        self.assertEqual(['tenant-b'],
                         [d['project_id'] for d in body['default_types']])

        # The admin's own project needs no other token.
        status, body = self.http(
            'PUT', '/default-types/ops', admin,
            {'default_type': {'volume_type': 'gold'}})
        self.assertEqual(200, status, body)

        # Unset; then showing it is 404 (no default set).
        status, body = self.http('DELETE', '/default-types/tenant-b', admin)
        self.assertEqual(204, status, body)
        status, body = self.http('GET', '/default-types/tenant-b', admin)
        self.assertEqual(404, status, body)
        vol2 = b_client.volumes.create(1, name='b-after-unset')
        vol2 = self.wait_status(b_client.volumes, vol2.id, 'available')
        self.assertEqual('__DEFAULT__', vol2.volume_type)

        # A token created after start is seen without a restart.
        late = self.token(project='tenant-late', user='late',
                          roles=('reader',))
        self.assertTrue(late)
        status, body = self.http(
            'PUT', '/default-types/tenant-late', admin,
            {'default_type': {'volume_type': 'gold'}})
        self.assertEqual(200, status, body)
        self.assertIn('Projects: looked up in the token file',
                      self.api.output())

    def test_switched_off_is_stock(self):
        # [ksvd] projects = false: cinder asks Keystone, which is not
        # there: the stock 403 of issue 26.
        cinder = self._deploy({'ksvd': {'projects': 'false'}})
        admin = self.token(project='ops', roles=('admin',))
        self.token(project='tenant-b', user='b', roles=('member',))
        cinder.volume_types.create('gold')
        status, body = self.http(
            'PUT', '/default-types/tenant-b', admin,
            {'default_type': {'volume_type': 'gold'}})
        self.assertEqual(403, status, body)
        self.assertIn('[ksvd] projects is off', self.api.output())
