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

"""Bounded random requests against the v3 API: no 5xx, ever (issue 27).

One ksvd-cinder-all --demo with the shipped pipeline on 127.0.0.1.  Each
request is drawn from a seeded generator: a v3 path (real ids of a few
resources, random and malformed ids), a query, and for POST/PUT a body
that is a mutated version of a real request body (strings with lone
surrogates, nulls, huge numbers, wrong types, nesting, unknown keys) or
raw bytes.  The run stops after KSVD_FUZZ_REQUESTS requests (default 1200)
or KSVD_FUZZ_SECONDS seconds (default 150); KSVD_FUZZ_SEED repeats a run.
It fails on any 5xx answer or broken connection, listing each request so
it can be replayed.
"""

import http.client
import json
import os
import random
import time
import uuid

from tests.functional import base
from tests.functional import services

WEIRD_VALUES = [None, True, False, 0, -1, 2 ** 63, -2 ** 63, 10 ** 30, 1e308,
                1.5, '', ' ', 'x' * 300, '\ud800', '\udfff', 'caf\u00e9',
                '\u202e', '%ff', '../../etc', '{"a": 1}', [], [None],
                ['\ud800'], {}, {'a': {'b': 'c'}}, {'\ud800': 1},
                [[[[[]]]]], 'null', 'true', '-1', '1e999', 'NaN']
WEIRD_IDS = ['%ff', '%00', '%ed%a0%80', '..', '.', 'a' * 300, '-1', '0',
             '%e2%80%ae', 'detail', 'null', '%20', '%2f', '~', '*',
             '00000000-0000-0000-0000-000000000000']
QUERY_KEYS = ['all_tenants', 'limit', 'marker', 'sort', 'sort_key',
              'sort_dir', 'offset', 'name', 'status', 'metadata',
              'with_count', 'usage', 'is_public', 'project_id', 'host',
              'created_at', 'name~', 'volume_type', 'glance_metadata',
              'bootable', 'availability_zone', 'group_id', 'detail']
QUERY_VALUES = ['-1', '0', '1', 'abc', '%ff', '', str(10 ** 20), '{"a":1}',
                '%7B%22a%22%3A%22%ff%22%7D', 'a' * 500, 'true', 'name:asc',
                'x:sideways', '%ed%a0%80', 'null', 'gt:2020-01-01',
                "{'a': 1}", '1e999']
VERSIONS = ['volume 3.0', 'volume 3.27', 'volume 3.55', 'volume 3.70',
            'volume 3.999', 'volume latest', 'garbage', 'volume 2.0',
            'volume -1.0']
ACTIONS = ['os-attach', 'os-detach', 'os-reserve', 'os-unreserve',
           'os-begin_detaching', 'os-roll_detaching',
           'os-initialize_connection', 'os-terminate_connection',
           'os-extend', 'os-retype', 'os-set_bootable',
           'os-update_readonly_flag', 'os-volume_upload_image',
           'os-reset_status', 'os-force_delete', 'os-force_detach',
           'os-migrate_volume', 'os-show_image_metadata',
           'os-set_image_metadata', 'os-unset_image_metadata',
           'os-update_snapshot_status', 'revert', 'os-reimage',
           'os-complete', 'os-extend_volume_completion', 'no-such-action',
           'os-reset_status', 'delete', 'create', 'accept']


class ApiFuzzTest(base.FunctionalTestCase):

    def _deploy(self):
        conf = services.write_conf(
            os.path.join(self.workdir, 'cinder.conf'),
            dict({'DEFAULT': {'state_path': self.workdir,
                              'osapi_volume_listen_port': '0',
                              'report_interval': '2'}},
                 **services.auth_conf(self.workdir)))
        self.proc = self.start('ksvd-cinder-all',
                               ['--config-file', services.DIST_CONF,
                                '--config-file', conf, '--demo'], 'all')
        endpoint = self.wait_api(self.proc)
        self.port = int(endpoint.split(':')[2].split('/')[0])
        admin = self.client(endpoint + '/' + base.PROJECT)
        self.wait_services_up(admin)
        return admin

    def _resources(self, admin):
        vtype = admin.volume_types.create('fuzz-type')
        vol = admin.volumes.create(1, name='fuzz-vol', volume_type=vtype.id,
                                   metadata={'k': 'v'})
        self.wait_status(admin.volumes, vol.id, 'available')
        snap = admin.volume_snapshots.create(vol.id, name='fuzz-snap')
        self.wait_status(admin.volume_snapshots, snap.id, 'available')
        gtype = admin.group_types.create('fuzz-gtype')
        return {'volumes': vol.id, 'snapshots': snap.id, 'types': vtype.id,
                'group_types': gtype.id}

    def _path(self, rnd):
        collection = rnd.choice([
            'volumes', 'volumes', 'snapshots', 'attachments', 'types',
            'messages', 'backups', 'os-volume-transfer', 'volume-transfers',
            'groups', 'group_types', 'group_snapshots', 'os-quota-sets',
            'limits', 'os-availability-zone', 'qos-specs', 'os-services',
            'scheduler-stats/get_pools', 'clusters', 'workers/cleanup',
            'resource_filters', 'default-types', 'extensions',
            'manageable_volumes', 'os-hosts', 'capabilities'])
        shape = rnd.random()
        if shape < 0.25:
            return '/' + collection
        if shape < 0.35:
            return '/%s/detail' % collection
        real = self.ids.get(collection)
        ident = real if real and rnd.random() < 0.5 else (
            rnd.choice(WEIRD_IDS) if rnd.random() < 0.7
            else str(uuid.uuid4()))
        tail = rnd.choice(['', '', '/action', '/metadata',
                           '/metadata/k', '/metadata/%ff', '/extra_specs',
                           '/extra_specs/x', '/os-volume-type-access',
                           '/encryption', '/defaults', '/accept',
                           '/group_specs'])
        return '/%s/%s%s' % (collection, ident, tail)

    def _query(self, rnd):
        if rnd.random() < 0.5:
            return ''
        # Blanks percent-encoded: http.client sends no raw blank.
        pairs = ['%s=%s' % (rnd.choice(QUERY_KEYS),
                            rnd.choice(QUERY_VALUES).replace(' ', '%20'))
                 for _ in range(rnd.randint(1, 4))]
        return '?' + '&'.join(pairs)

    def _mutate(self, rnd, value, depth=0):
        if depth > 4 or rnd.random() < 0.15:
            return rnd.choice(WEIRD_VALUES)
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                roll = rnd.random()
                if roll < 0.1:
                    continue
                out[key] = (self._mutate(rnd, item, depth + 1)
                            if roll < 0.6 else item)
            if rnd.random() < 0.2:
                out[rnd.choice(['x', '\ud800', '', 'id', 'project_id'])] = (
                    rnd.choice(WEIRD_VALUES))
            return out
        if isinstance(value, list):
            return [self._mutate(rnd, v, depth + 1) for v in value]
        return value

    def _body(self, rnd, path):
        roll = rnd.random()
        if roll < 0.05:
            return rnd.choice([b'', b'{', b'\xff\xfe', b'[' * 2000,
                               b'{"a": NaN}', b'null', b'"x"', b'1',
                               b'{"volume": {"name": "\\ud800"}}'])
        vol, snap = self.ids['volumes'], self.ids['snapshots']
        connector = {'initiator': 'iqn.fuzz', 'host': 'h', 'ip': '127.0.0.1',
                     'multipath': False, 'platform': 'x86_64',
                     'os_type': 'linux', 'wwpns': ['a']}
        templates = [
            {'volume': {'size': 1, 'name': 'n', 'description': 'd',
                        'volume_type': self.ids['types'],
                        'metadata': {'k': 'v'}, 'snapshot_id': snap,
                        'source_volid': vol, 'availability_zone': 'ksvd',
                        'imageRef': 'x', 'group_id': str(uuid.uuid4()),
                        'consistencygroup_id': None, 'multiattach': False,
                        'scheduler_hints': {'same_host': [vol]}}},
            {'snapshot': {'volume_id': vol, 'name': 's', 'force': False,
                          'metadata': {'k': 'v'}}},
            {'attachment': {'volume_uuid': vol, 'instance_uuid': None,
                            'connector': connector, 'mode': 'rw'}},
            {'metadata': {'k': 'v'}}, {'meta': {'k': 'v'}},
            {'volume_type': {'name': 't', 'extra_specs': {'a': 'b'},
                             'os-volume-type-access:is_public': True}},
            {'extra_specs': {'a': 'b'}},
            {'transfer': {'volume_id': vol, 'name': 't'}},
            {'accept': {'auth_key': 'k'}},
            {'group': {'name': 'g', 'group_type': self.ids['group_types'],
                       'volume_types': [self.ids['types']]}},
            {'quota_set': {'volumes': 10, 'gigabytes': -1}},
            {'backup': {'volume_id': vol, 'name': 'b', 'incremental': False}},
            {'cluster_name': 'c', 'service_id': 1, 'host': 'h',
             'binary': 'cinder-volume', 'is_up': True, 'disabled': False,
             'resource_id': vol, 'resource_type': 'Volume'},
            {'qos_specs': {'name': 'q', 'consumer': 'back-end'}},
            {'default_type': {'volume_type': self.ids['types']}},
        ]
        action = {rnd.choice(ACTIONS): rnd.choice([
            None, {}, {'new_size': 2}, {'new_type': 'x', 'migration_policy':
                                        'never'},
            {'connector': connector}, {'attachment_id': str(uuid.uuid4())},
            {'status': 'available'}, {'bootable': True},
            {'readonly': False}, {'image_name': 'i', 'force': True},
            {'metadata': {'a': 'b'}}, {'key': 'a'}, {'host': 'h@b#p'},
            {'snapshot_id': snap}, {'instance_uuid': 'i',
                                    'mountpoint': '/dev/vdb'}])}
        if path.endswith('/action') or rnd.random() < 0.1:
            base_body = action
        else:
            base_body = rnd.choice(templates)
        body = self._mutate(rnd, base_body)
        return json.dumps(body).encode('utf-8', 'surrogatepass')

    def _send(self, method, path, body, headers):
        conn = http.client.HTTPConnection('127.0.0.1', self.port,
                                          timeout=60)
        try:
            conn.putrequest(method, '/v3/%s%s' % (base.PROJECT, path),
                            skip_accept_encoding=True)
            for key, value in headers.items():
                conn.putheader(key, value)
            if body is not None:
                conn.putheader('Content-Length', str(len(body)))
            conn.endheaders()
            if body is not None:
                conn.send(body)
            resp = conn.getresponse()
            return resp.status, resp.read()[:300]
        finally:
            conn.close()

    def test_no_5xx(self):
        requests = int(os.environ.get('KSVD_FUZZ_REQUESTS', '1200'))
        seconds = float(os.environ.get('KSVD_FUZZ_SECONDS', '150'))
        seed = int(os.environ.get('KSVD_FUZZ_SEED') or
                   random.SystemRandom().randint(0, 2 ** 31))
        rnd = random.Random(seed)
        admin = self._deploy()
        self.ids = self._resources(admin)
        tokens = [self.token(), self.token(user='fm', roles=('member',)),
                  self.token(project='fuzz-b', user='fb',
                             roles=('reader',))]
        failures = []
        statuses = {}
        sent = 0
        deadline = time.time() + seconds
        while sent < requests and time.time() < deadline:
            method = rnd.choice(['GET', 'GET', 'POST', 'POST', 'PUT',
                                 'DELETE'])
            path = self._path(rnd) + self._query(rnd)
            body = (self._body(rnd, path)
                    if method in ('POST', 'PUT') else None)
            headers = {'X-Auth-Token': rnd.choice(tokens),
                       'OpenStack-API-Version': rnd.choice(VERSIONS),
                       'Content-Type': 'application/json'}
            sent += 1
            try:
                status, answer = self._send(method, path, body, headers)
            except (OSError, http.client.HTTPException) as exc:
                status, answer = 'broken', repr(exc)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 'broken' or status >= 500:
                failures.append('%s %s %s body=%r -> %s %r' % (
                    method, path, headers['OpenStack-API-Version'],
                    (body or b'')[:200], status, answer))
        self.addDetail('fuzz-summary', base.content.text_content(
            'seed %d, %d requests, statuses %s'
            % (seed, sent, sorted(statuses.items(), key=str))))
        self.assertGreater(sent, 100, 'the fuzz run sent too few requests')
        self.assertEqual([], failures[:30],
                         'seed %d: %d of %d requests got a 5xx or a broken '
                         'connection (KSVD_FUZZ_SEED=%d repeats the run)'
                         % (seed, len(failures), sent, seed))
