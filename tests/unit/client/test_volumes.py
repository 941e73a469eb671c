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

from tests.unit.client import fakes

FAST = ('--poll-interval', '0')


class VolumeCommandsTest(fakes.ShellTestCase):

    def setUp(self):
        super(VolumeCommandsTest, self).setUp()
        self.vol = self.cinder.volumes.add(name='data-1', size=2,
                                           volume_type='fast')

    def test_list_table(self):
        rc, out, err = self.run_shell('volume', 'list')
        self.assertEqual((0, ''), (rc, err))
        header = out.splitlines()[1]
        self.assertEqual(['id', 'name', 'status', 'size', 'volume_type',
                          'attached_to'],
                         [c.strip() for c in header.strip('|').split('|')])
        self.assertIn(self.vol.id, out)
        self.assertIn('data-1', out)

    def test_list_json(self):
        rc, out, err = self.run_shell('volume', 'list', '-f', 'json')
        self.assertEqual(0, rc)
        self.assertEqual([{'id': self.vol.id, 'name': 'data-1',
                           'status': 'available', 'size': 2,
                           'volume_type': 'fast', 'attached_to': ''}],
                         json.loads(out))

    def test_show_by_name_and_id(self):
        for ref in ('data-1', self.vol.id):
            rc, out, err = self.run_shell('volume', 'show', ref, '-f',
                                          'json')
            self.assertEqual(0, rc, err)
            shown = json.loads(out)
            self.assertEqual(self.vol.id, shown['id'])
            self.assertNotIn('links', shown)

    def test_show_unknown_name_and_id(self):
        for ref in ('nope', '0c0cb2ca-5cf4-1642-577e-6f958d479df7'):
            rc, out, err = self.run_shell('volume', 'show', ref)
            self.assertEqual(1, rc)
            self.assertEqual('', out)
            self.assertEqual("No volume with a name or ID of '%s' exists.\n"
                             % ref, err)

    def test_bulk_create_names_progress_and_wait(self):
        rc, out, err = self.run_shell('volume', 'create', '--size', '3',
                                      '--count', '3', '--name', 'bulk',
                                      '-f', 'json', *FAST)
        self.assertEqual(0, rc, err)
        rows = json.loads(out)
        self.assertEqual(['bulk-1', 'bulk-2', 'bulk-3'],
                         [r['name'] for r in rows])
        self.assertEqual({'available'}, {r['status'] for r in rows})
        self.assertEqual(
            ['created   [##########....................] 1/3',
             'created   [####################..........] 2/3',
             'created   [##############################] 3/3',
             'available [##############################] 3/3'],
            err.splitlines())

    def test_create_waits_until_available(self):
        self.cinder.volumes.create_script = [{}, {}, {'status':
                                                      'available'}]
        rc, out, err = self.run_shell('volume', 'create', '--size', '1',
                                      '--name', 'one', '-f', 'json', *FAST)
        self.assertEqual(0, rc, err)
        self.assertEqual('available', json.loads(out)[0]['status'])
        self.assertEqual(['available [..............................] 0/1',
                          'available [' + '#' * 30 + '] 1/1'],
                         err.splitlines()[1:])

    def test_create_error_volume_exits_1(self):
        self.cinder.volumes.create_script = [{'status': 'error'}]
        rc, out, err = self.run_shell('volume', 'create', '--size', '1',
                                      '--count', '2', '-f', 'json', *FAST)
        self.assertEqual(1, rc)
        self.assertEqual(['error', 'error'],
                         [r['status'] for r in json.loads(out)])
        self.assertIn('2 of 2 volumes went to error', err)

    def test_create_timeout_is_one_line(self):
        self.cinder.volumes.create_script = []
        rc, out, err = self.run_shell('volume', 'create', '--size', '1',
                                      '--timeout', '0', *FAST)
        self.assertEqual(1, rc)
        self.assertEqual('timed out after 0s waiting for 1 volume(s) to '
                         'become available', err.splitlines()[-1])

    def test_create_no_wait(self):
        rc, out, err = self.run_shell('volume', 'create', '--size', '1',
                                      '--no-wait', '-f', 'value', '-c',
                                      'status')
        self.assertEqual((0, 'creating\n'), (rc, out))

    def test_create_bad_count(self):
        rc, out, err = self.run_shell('volume', 'create', '--size', '1',
                                      '--count', '0')
        self.assertEqual(1, rc)
        self.assertEqual('--size and --count must be >= 1\n', err)

    def test_delete_waits_until_gone(self):
        self.cinder.volumes.script[self.vol.id] = [{}, None]
        rc, out, err = self.run_shell('volume', 'delete', 'data-1', *FAST)
        self.assertEqual(0, rc, err)
        self.assertNotIn(self.vol.id, self.cinder.volumes.db)
        self.assertIn('1/1', err)

    def test_delete_error_deleting(self):
        self.cinder.volumes.script[self.vol.id] = [{},
                                                   {'status':
                                                    'error_deleting'}]
        rc, out, err = self.run_shell('volume', 'delete', self.vol.id,
                                      *FAST)
        self.assertEqual(1, rc)
        self.assertIn('volume %s went to error_deleting' % self.vol.id, err)

    def test_extend_waits_for_size(self):
        rc, out, err = self.run_shell('volume', 'extend', 'data-1', '5',
                                      '-f', 'json', *FAST)
        self.assertEqual(0, rc, err)
        shown = json.loads(out)
        self.assertEqual((5, 'available'), (shown['size'], shown['status']))

    def test_connection_lists_attachments(self):
        att = self.cinder.attachments.create(self.vol.id, {'host': 'h1'},
                                             mode='rw')
        self.cinder.attachments.complete(att['id'])
        rc, out, err = self.run_shell('volume', 'connection', 'data-1',
                                      '-f', 'json')
        self.assertEqual(0, rc, err)
        rows = json.loads(out)
        self.assertEqual(1, len(rows))
        self.assertEqual((att['id'], 'h1', 'attached', 'nfs'),
                         (rows[0]['attachment_id'], rows[0]['host'],
                          rows[0]['status'], rows[0]['driver_volume_type']))
        self.assertEqual('127.0.0.1:/srv/ksvd',
                         rows[0]['connection_info']['export'])
        rc, out, err = self.run_shell('volume', 'connection', 'data-1')
        self.assertIn('export=127.0.0.1:/srv/ksvd', out)
