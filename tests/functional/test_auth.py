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

"""API tokens against real ksvd-cinder-api, -scheduler and -volume."""

import json
import os
import time
import urllib.error
import urllib.request
import uuid

from tests.functional import base
from tests.functional import services


class AuthTest(base.FunctionalTestCase):

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
        cinder = self.client(self.endpoint)
        self.wait_services_up(cinder)
        return cinder

    def manage_token(self, *args):
        rc, out, err = services.run_command(
            'ksvd-cinder-manage', self.args + ['token'] + list(args),
            self.workdir)
        self.assertEqual(0, rc, out + err)
        return out

    def http(self, method, path, token=None, body=None, headers=None):
        """One raw request; returns (status, parsed JSON body or None)."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.endpoint + path, data=data,
                                     method=method)
        req.add_header('Content-Type', 'application/json')
        req.add_header('OpenStack-API-Version', 'volume ' + base.API_VERSION)
        if token is not None:
            req.add_header('X-Auth-Token', token)
        for key, value in (headers or {}).items():
            req.add_header(key, value)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=60) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw.decode()) if raw else None
        except ValueError:
            return status, raw

    def test_credentials_and_scopes(self):
        from cinder_ksvd.api import tokens
        from cinderclient import exceptions
        admin = self._deploy()
        # Missing, malformed, wrong and expired credentials: 401, JSON.
        good = self.token()
        token_id, secret = tokens.parse(good)
        wrong = 'ksvd.%s.%s' % (token_id, tokens.new_secret())
        expired = self.token(user='late', expires=int(time.time()) - 5)
        for token in (None, '', 'admin:admin', 'functional:ksvd-functional',
                      wrong, expired, good[:-1]):
            status, body = self.http('GET', '/volumes', token)
            self.assertEqual(401, status, token)
            self.assertEqual(401, body['error']['code'])
        self.assertEqual(200, self.http('GET', '/volumes', good)[0])
        log = self.api.output()
        self.assertIn('expired at', log)
        self.assertIn('wrong secret for token id %s' % token_id, log)
        self.assertNotIn(secret, log)
        self.assertNotIn(wrong.split('.')[2], log)

        # A reader lists but cannot create.
        reader = self.client(self.endpoint, roles=('reader',), user='r')
        self.assertEqual([], reader.volumes.list())
        self.assertRaises(exceptions.Forbidden, reader.volumes.create, 1)

        # Project A never sees project B's volumes.
        proj_a = self.client(self.endpoint, project='proj-a', user='a',
                             roles=('member',))
        proj_b = self.client(self.endpoint, project='proj-b', user='b',
                             roles=('member',))
        vol_b = proj_b.volumes.create(1, name='b-1')
        self.wait_status(proj_b.volumes, vol_b.id, 'available')
        vol_a = proj_a.volumes.create(1, name='a-1')
        self.wait_status(proj_a.volumes, vol_a.id, 'available')
        self.assertEqual([vol_a.id], [v.id for v in proj_a.volumes.list()])
        self.assertRaises(exceptions.NotFound, proj_a.volumes.get, vol_b.id)
        self.assertRaises((exceptions.NotFound, exceptions.Forbidden),
                          proj_a.volumes.delete, vol_b.id)
        token_a = self.token(project='proj-a', user='a', roles=('member',))
        # Project B's id in the URL does not help either.
        status, _ = self.http('GET', '/../proj-b/volumes/%s' % vol_b.id,
                              token_a)
        self.assertIn(status, (400, 403, 404))
        # Nor do identity headers only Keystone's middleware may set.
        status, body = self.http('GET', '/volumes/%s' % vol_b.id, token_a,
                                 headers={'X-Project-Id': 'proj-b',
                                          'X-Roles': 'admin',
                                          'X-Service-Roles': 'service'})
        self.assertEqual(404, status, body)
        # The admin of the platform sees both.
        names = set(v.name for v in admin.volumes.list(
            search_opts={'all_tenants': 1}))
        self.assertTrue({'a-1', 'b-1'} <= names, names)
        for client, vol in ((proj_a, vol_a), (proj_b, vol_b)):
            client.volumes.delete(vol.id)
            self.wait_gone(client.volumes, vol.id)

    def test_manage_token_and_reload(self):
        cinder = self._deploy()
        out = self.manage_token('create', '--user', 'ops', '--project',
                                'ksvd-functional', '--role', 'admin',
                                '--ttl', '1d', '--description', 'ops')
        value = [line.split()[1] for line in out.splitlines()
                 if line.startswith('token:')][0]
        token_id = value.split('.')[1]
        self.assertEqual(200, self.http('GET', '/volumes', value)[0])
        listing = self.manage_token('list')
        self.assertIn(token_id, listing)
        self.assertNotIn(value.split('.')[2], listing)
        with open(services.token_file(self.workdir)) as handle:
            self.assertNotIn(value.split('.')[2], handle.read())
        # Revoked while the API runs: refused at once, no restart.
        self.manage_token('revoke', token_id)
        self.assertEqual(401, self.http('GET', '/volumes', value)[0])
        self.assertEqual(200, self.http('GET', '/volumes', self.token())[0])
        self.assertIsNone(self.api.proc.poll())
        self.assertEqual([], cinder.volumes.list())

    def test_service_token_deletes_instance_attachment(self):
        """The MC's token (service role) may delete a VM's attachment.

        Without the service role cinder asks Nova whether the instance
        still uses the volume (bug 2004555); with it the request is trusted.
        """
        from cinderclient import exceptions
        admin = self._deploy()
        project = 'proj-mc'
        member = self.client(self.endpoint, project=project, user='u',
                             roles=('member',))
        mc = self.client(self.endpoint, project=project, user='mc',
                         roles=('member', 'service'))
        vol = member.volumes.create(1, name='vm-disk')
        self.wait_status(member.volumes, vol.id, 'available')
        connector = {'initiator': 'iqn.2026-11.ksvd:host-1',
                     'ip': '127.0.0.1', 'host': 'ksvd-host-1',
                     'platform': 'x86_64', 'os_type': 'linux',
                     'multipath': False}

        def attach():
            server = str(uuid.uuid4())
            att = member.attachments.create(vol.id, connector,
                                            instance_id=server, mode='rw')
            self.assertTrue(att['connection_info'])
            member.attachments.complete(att['id'])
            self.wait_status(member.volumes, vol.id, 'in-use')
            return server, att['id']

        server, att_id = attach()
        mc.attachments.delete(att_id)
        self.wait_status(member.volumes, vol.id, 'available')
        self.assertEqual([], member.attachments.list(
            search_opts={'volume_id': vol.id}))
        # Trusted: cinder did not ask the compute service about the VM.
        self.assertNotIn('Attachment connected to vm %s' % server,
                         self.api.output())
        # A plain member's delete is not: cinder asks the compute API
        # (stock Nova fails here, the KSVD compute API lets it through).
        server, att_id = attach()
        try:
            member.attachments.delete(att_id)
        except exceptions.ClientException:
            mc.attachments.delete(att_id)
        self.api.wait_for_log('Attachment connected to vm %s, checking '
                              'data on nova' % server)
        # cinder's warning for it speaks of KSVD, not Nova.
        self.api.wait_for_log('The attachment has an instance id and '
                              'KSVD\'s compute API does not know that server')
        self.assertNotIn('not found on Nova', self.api.output())
        self.wait_status(member.volumes, vol.id, 'available')
        member.volumes.delete(vol.id)
        self.wait_gone(admin.volumes, vol.id)

    def test_cinder_cli_through_plugin(self):
        """Stock cinder CLI and openstackclient with ksvd-token."""
        self._deploy()
        token = self.token(project='cli', user='cli', roles=('member',))
        env = services.service_env()
        for name in list(env):
            if name.startswith(('OS_', 'CINDER_')):
                del env[name]
        env['OS_TOKEN'] = token
        cli = os.path.join(services.BIN_DIR, 'cinder')

        def cinder(*args, **extra_env):
            import subprocess
            proc = subprocess.run(
                [cli, '--os-auth-type', 'ksvd-token', '--os-endpoint',
                 self.endpoint, '--os-project-id', 'cli',
                 '--os-volume-api-version', base.API_VERSION] + list(args),
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                env=dict(env, **extra_env), timeout=120)
            text = proc.stdout.decode('utf-8', 'replace')
            self.assertEqual(0, proc.returncode, text)
            return text

        cinder('create', '--name', 'cli-1', '1')
        reader = self.client(self.endpoint, project='cli', user='cli',
                             roles=('member',))
        vol = reader.volumes.list()[0]
        self.assertEqual('cli-1', vol.name)
        self.wait_status(reader.volumes, vol.id, 'available')
        self.assertIn('cli-1', cinder('list'))
        # As README and tools/quickstart use it: all from the environment.
        self.assertIn('cli-1', cinder('list', OS_AUTH_TYPE='ksvd-token',
                                      CINDER_ENDPOINT=self.endpoint))
        # openstackclient, unmodified, loads the same plugin by name.
        import json
        import subprocess
        osc = subprocess.run(
            [os.path.join(services.BIN_DIR, 'openstack'),
             '--os-auth-type', 'ksvd-token', '--os-endpoint', self.endpoint,
             '--os-token', token, '--os-project-id', 'cli',
             '--os-volume-api-version', base.API_VERSION,
             'volume', 'list', '-f', 'json'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
            timeout=120)
        self.assertEqual(0, osc.returncode, osc.stderr.decode('utf-8'))
        listed = json.loads(osc.stdout.decode('utf-8'))
        self.assertEqual([(vol.id, 'cli-1')],
                         [(row['ID'], row['Name']) for row in listed])
        # An endpoint with another project than the token's: refused with
        # a message naming the token's project (stock: "Malformed request
        # url").
        proc = subprocess.run(
            [cli, '--os-auth-type', 'ksvd-token', '--os-endpoint',
             self.endpoint + '/not-cli', '--os-project-id', 'cli',
             '--os-volume-api-version', base.API_VERSION, 'list'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
            timeout=120)
        text = proc.stdout.decode('utf-8', 'replace')
        self.assertNotEqual(0, proc.returncode, text)
        self.assertIn('This token belongs to project cli, but the URL names '
                      'project not-cli', text)
        self.assertIn('OS_PROJECT_ID=cli', text)
        self.assertNotIn('Malformed request url', text)
        cinder('delete', vol.id)
        self.wait_gone(reader.volumes, vol.id)

    def test_url_of_another_project_names_the_token_project(self):
        self._deploy()
        token_a = self.token(project='proj-a', user='a', roles=('member',))
        status, body = self.http('GET', '/proj-b/volumes', token_a)
        self.assertEqual(400, status, body)
        self.assertEqual(
            'This token belongs to project proj-a, but the URL names project '
            'proj-b. Use the endpoint without a project (.../v3) or with the '
            "token's (.../v3/proj-a); with cinder or openstack and "
            '--os-auth-type ksvd-token: OS_PROJECT_ID=proj-a.',
            body['badRequest']['message'])
        # The token's own project in the URL, or none, works.
        self.assertEqual(200, self.http('GET', '/proj-a/volumes',
                                        token_a)[0])
        self.assertEqual(200, self.http('GET', '/volumes', token_a)[0])
        # A 400 for another reason keeps cinder's own message.
        status, body = self.http('POST', '/proj-a/volumes', token_a,
                                 body={'volume': {'size': 'big'}})
        self.assertEqual(400, status, body)
        self.assertNotIn('belongs to project', json.dumps(body))

    def test_noauth_compat_switch(self):
        cinder = self._deploy({'ksvd_auth': {'allow_noauth_header': 'true'}})
        self.api.wait_for_log('allow_noauth_header is on')
        status, _ = self.http('GET', '/volumes', 'old-client:ksvd-functional')
        self.assertEqual(200, status)
        self.api.wait_for_log('noauth header used by .* user old-client')
        self.assertEqual(401, self.http('GET', '/volumes', 'a:b:c')[0])
        self.assertEqual([], cinder.volumes.list())

    def test_bad_token_file_refuses_start(self):
        rabbit = self.need(services.RabbitVhost())
        url = 'sqlite:///%s/cinder.sqlite' % self.workdir
        conf = services.service_conf(self.workdir, rabbit.url, url)
        with open(services.token_file(self.workdir), 'w') as handle:
            handle.write('{"version": 1, "tokens": [')
        for binary in ('ksvd-cinder-api', 'ksvd-cinder-all'):
            rc, out, err = services.run_command(
                binary, ['--config-file', services.DIST_CONF,
                         '--config-file', conf], self.workdir)
            self.assertEqual(78, rc, out + err)
            lines = err.strip().splitlines()
            self.assertEqual(1, len(lines), err)
            self.assertIn('[ksvd_auth] token_file', lines[0])
            self.assertIn('malformed', lines[0])
