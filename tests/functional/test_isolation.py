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

"""Project isolation of every v3 read API (issue 27, point 1).

One ksvd-cinder-all (demo driver, shipped paste pipeline and policy):
project A owns a volume with metadata, a snapshot, an attachment with
connection_info, a transfer, a private volume type, a group type and
group and a user message; project B owns one volume of its own (cinder's
attachment lookup leaked as soon as the caller's project had any volume).
A member and a reader of B then read every v3 API by A's ids and list
every collection with all_tenants=1: no answer may carry any of A's ids
or the marker string in A's names and metadata.
"""

import json
import os
import sqlite3
import urllib.error
import urllib.request
import uuid

from tests.functional import base
from tests.functional import services

MARKER = 'secret-of-a-%s' % uuid.uuid4().hex[:8]
CONNECTOR = {'initiator': 'iqn.2026-12.ksvd:isolation', 'ip': '127.0.0.1',
             'host': 'ksvd-host-a', 'platform': 'x86_64',
             'os_type': 'linux', 'multipath': False}


class IsolationTest(base.FunctionalTestCase):

    def http(self, method, path, token, project, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(
            '%s/%s%s' % (self.endpoint, project, path), data=data,
            method=method)
        req.add_header('Content-Type', 'application/json')
        req.add_header('OpenStack-API-Version',
                       'volume ' + base.API_VERSION)
        req.add_header('X-Auth-Token', token)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=60) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        return status, raw.decode('utf-8', 'replace')

    def ok(self, method, path, token, project, body=None):
        status, text = self.http(method, path, token, project, body)
        self.assertIn(status, (200, 202), '%s %s: %s' % (method, path, text))
        return json.loads(text) if text else None

    def _deploy(self):
        conf = services.write_conf(
            os.path.join(self.workdir, 'cinder.conf'),
            dict({'DEFAULT': {'state_path': self.workdir,
                              'osapi_volume_listen_port': '0',
                              'report_interval': '2'}},
                 **services.auth_conf(self.workdir)))
        proc = self.start('ksvd-cinder-all',
                          ['--config-file', services.DIST_CONF,
                           '--config-file', conf, '--demo'], 'all')
        self.endpoint = self.wait_api(proc)
        admin = self.client(self.endpoint + '/' + base.PROJECT)
        self.wait_services_up(admin)
        return admin

    def _wait(self, path, token, project, key, status):
        def probe():
            return self.ok('GET', path, token, project)[key][
                'status'] == status
        self.wait_for('%s %s' % (path, status), probe)

    def _project_a(self, admin):
        """A's resources; returns (ids, extra paths to read by id)."""
        a = self.token(project='proj-a', user='a', roles=('member',))
        ids = {}
        vol = self.ok('POST', '/volumes', a, 'proj-a', {'volume': {
            'size': 1, 'name': MARKER + '-vol', 'description': MARKER,
            'metadata': {MARKER + '-key': MARKER + '-value'}}})['volume']
        self._wait('/volumes/%s' % vol['id'], a, 'proj-a', 'volume',
                   'available')
        ids['volume'] = vol['id']
        snap = self.ok('POST', '/snapshots', a, 'proj-a', {'snapshot': {
            'volume_id': vol['id'], 'name': MARKER + '-snap',
            'metadata': {MARKER + '-skey': MARKER}}})['snapshot']
        self._wait('/snapshots/%s' % snap['id'], a, 'proj-a', 'snapshot',
                   'available')
        ids['snapshot'] = snap['id']
        att = self.ok('POST', '/attachments', a, 'proj-a', {'attachment': {
            'volume_uuid': vol['id'], 'connector': CONNECTOR,
            'mode': 'rw'}})['attachment']
        self.assertTrue(att['connection_info'])
        ids['attachment'] = att['id']
        vol2 = self.ok('POST', '/volumes', a, 'proj-a', {'volume': {
            'size': 1, 'name': MARKER + '-vol2'}})['volume']
        self._wait('/volumes/%s' % vol2['id'], a, 'proj-a', 'volume',
                   'available')
        ids['volume2'] = vol2['id']
        transfer = self.ok('POST', '/volume-transfers', a, 'proj-a',
                           {'transfer': {'volume_id': vol2['id'],
                                         'name': MARKER + '-xfer'}})
        ids['transfer'] = transfer['transfer']['id']
        # A private type only A may use, and a group of A.
        vtype = admin.volume_types.create(MARKER + '-type', is_public=False)
        admin.volume_type_access.add_project_access(vtype.id, 'proj-a')
        ids['type'] = vtype.id
        # Group types are the platform's (public): not A's.
        gtype = admin.group_types.create('iso-gtype')
        group = self.ok('POST', '/groups', a, 'proj-a', {'group': {
            'name': MARKER + '-group', 'group_type': gtype.id,
            'volume_types': [vtype.id]}})['group']
        ids['group'] = group['id']
        # A user message of A, as cinder writes one on a failed operation.
        ids['message'] = str(uuid.uuid4())
        with sqlite3.connect(os.path.join(self.workdir,
                                          'cinder.sqlite')) as db:
            db.execute(
                "INSERT INTO messages (created_at, deleted, id, project_id,"
                " request_id, resource_type, resource_uuid, event_id,"
                " message_level, detail_id, action_id, expires_at)"
                " VALUES (datetime('now'), 0, ?, 'proj-a', ?, 'VOLUME', ?,"
                " 'VOLUME_000001', 'ERROR', '001', '001',"
                " datetime('now', '+1 day'))",
                (ids['message'], 'req-' + MARKER, vol['id']))
        return a, ids

    def _read_paths(self, ids):
        """Every v3 read a project-scoped token can send, with A's ids."""
        v, s = ids['volume'], ids['snapshot']
        return [
            '/volumes/%s' % v,
            '/volumes/%s/metadata' % v,
            '/volumes/%s/metadata/%s-key' % (v, MARKER),
            '/volumes/%s/encryption' % v,
            '/snapshots/%s' % s,
            '/snapshots/%s/metadata' % s,
            '/snapshots/%s/metadata/%s-skey' % (s, MARKER),
            '/attachments/%s' % ids['attachment'],
            '/messages/%s' % ids['message'],
            '/volume-transfers/%s' % ids['transfer'],
            '/os-volume-transfer/%s' % ids['transfer'],
            '/types/%s' % ids['type'],
            '/types/%s/extra_specs' % ids['type'],
            '/types/%s/os-volume-type-access' % ids['type'],
            '/groups/%s' % ids['group'],
            '/os-quota-sets/proj-a',
            '/os-quota-sets/proj-a?usage=True',
            '/os-quota-sets/proj-a/defaults',
            '/default-types/proj-a',
        ]

    LISTS = ['/volumes', '/volumes/detail', '/volumes/summary',
             '/snapshots', '/snapshots/detail', '/backups',
             '/backups/detail', '/attachments', '/attachments/detail',
             '/messages', '/volume-transfers', '/volume-transfers/detail',
             '/os-volume-transfer', '/os-volume-transfer/detail',
             '/types', '/group_types', '/groups', '/groups/detail',
             '/group_snapshots', '/group_snapshots/detail',
             '/os-availability-zone', '/limits', '/extensions',
             '/resource_filters', '/scheduler-stats/get_pools',
             '/os-services', '/os-hosts', '/clusters', '/qos-specs',
             '/capabilities/ksvd@demo', '/default-types',
             '/manageable_volumes', '/manageable_snapshots']

    def test_other_project_reads_nothing(self):
        admin = self._deploy()
        a, ids = self._project_a(admin)
        b_member = self.token(project='proj-b', user='b', roles=('member',))
        b_reader = self.token(project='proj-b', user='br',
                              roles=('reader',))
        own = self.ok('POST', '/volumes', b_member, 'proj-b', {'volume': {
            'size': 1, 'name': 'b-own'}})['volume']
        self._wait('/volumes/%s' % own['id'], b_member, 'proj-b', 'volume',
                   'available')
        # A itself sees its attachment (the reads below are meaningful).
        shown = self.ok('GET', '/attachments/%s' % ids['attachment'], a,
                        'proj-a')
        self.assertTrue(shown['attachment']['connection_info'])
        self.assertIn(MARKER, self.http('GET', '/volumes/summary', a,
                                        'proj-a')[1])
        secrets = [MARKER] + list(ids.values())
        leaks = []
        checked = 0
        for who, token in (('member', b_member), ('reader', b_reader)):
            for path in self._read_paths(ids):
                status, text = self.http('GET', path, token, 'proj-b')
                checked += 1
                # A 404 may repeat the id the caller sent, nothing else.
                if status < 400 or any(x in text for x in secrets
                                       if x not in path):
                    leaks.append('%s GET %s -> %d %s'
                                 % (who, path, status, text[:300]))
                self.assertLess(status, 500, '%s: %s' % (path, text))
            for path in self.LISTS:
                for query in ('', '?all_tenants=1',
                              '?all_tenants=1&project_id=proj-a'):
                    sep = '&' if '?' in path and query else ''
                    full = path + (query.replace('?', sep, 1)
                                   if sep else query)
                    status, text = self.http('GET', full, token, 'proj-b')
                    checked += 1
                    self.assertLess(status, 500, '%s: %s' % (full, text))
                    if any(x in text for x in secrets):
                        leaks.append('%s GET %s -> %d %s'
                                     % (who, full, status, text[:300]))
            # Limits (absolute quota usage) are the caller's own.
            own_limits = self.ok('GET', '/limits', token, 'proj-b')
            for query in ('project_id', 'tenant_id'):
                self.assertEqual(own_limits, self.ok(
                    'GET', '/limits?%s=proj-a' % query, token, 'proj-b'))
            summary = self.ok('GET', '/volumes/summary?all_tenants=1',
                              token, 'proj-b')['volume-summary']
            self.assertEqual((1, 1), (summary['total_count'],
                                      summary['total_size']), summary)
        self.assertEqual([], leaks, '%d of %d reads leaked project A'
                         % (len(leaks), checked))
        # Actions that only read (image metadata, connection info) too.
        status, text = self.http(
            'POST', '/volumes/%s/action' % ids['volume'], b_member, 'proj-b',
            {'os-show_image_metadata': None})
        self.assertEqual(404, status, text)
        # The platform admin still sees every project.
        names = set(v.name for v in admin.volumes.list(
            search_opts={'all_tenants': 1}))
        self.assertTrue({MARKER + '-vol', 'b-own'} <= names, names)
        status, text = self.http('GET', '/messages/%s' % ids['message'],
                                 self.token(), base.PROJECT)
        self.assertEqual(200, status, text)
