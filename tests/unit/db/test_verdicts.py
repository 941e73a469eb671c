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

from tests.unit import base

from cinder_ksvd.db import placement
from cinder_ksvd.db import verdicts


class VerdictsTestCase(base.TestCase):
    """Each host's verdict beside the shared file, read by every host."""

    def setUp(self):
        super(VerdictsTestCase, self).setUp()
        self.db = os.path.join(self.make_tempdir(), 'cinder.sqlite')
        self.mount = placement.Mount('g:/cinder', os.path.dirname(self.db),
                                     'fuse.glusterfs', ['rw'])

    def test_every_host_is_reported(self):
        verdicts.record(self.db, self.mount, [], 'ksvd-cinder-api',
                        host='node1')
        verdicts.record(self.db, self.mount,
                        ['GlusterFS mount /var/lib/cinder lacks '
                         'entry-timeout=0'], 'ksvd-cinder-volume',
                        host='node2')
        found = verdicts.read_all(self.db)
        self.assertEqual(['node1', 'node2'], [v['host'] for v in found])
        self.assertEqual([True, False], [v['safe'] for v in found])
        self.assertEqual('ksvd-cinder-volume', found[1]['service'])
        self.assertIn('lacks entry-timeout=0', found[1]['problems'][0])
        self.assertEqual(os.path.join(self.db + '.placement', 'node2.json'),
                         found[1]['path'])
        # The latest start replaces a host's verdict; no temp file left.
        verdicts.record(self.db, self.mount, [], 'ksvd-cinder-volume',
                        host='node2')
        self.assertEqual([True, True],
                         [v['safe'] for v in verdicts.read_all(self.db)])
        self.assertEqual(['node1.json', 'node2.json'],
                         sorted(os.listdir(self.db + '.placement')))

    def test_host_names_cannot_leave_the_directory(self):
        path = verdicts.record(self.db, self.mount, [], 'db check',
                               host='../evil/host')
        self.assertEqual(self.db + '.placement', os.path.dirname(path))
        with open(path) as handle:
            self.assertEqual('../evil/host', json.load(handle)['host'])

    def test_unreadable_verdict_counts_as_unsafe(self):
        os.mkdir(self.db + '.placement')
        with open(os.path.join(self.db + '.placement', 'node3.json'),
                  'w') as handle:
            handle.write('{"host": ')
        (found,) = verdicts.read_all(self.db)
        self.assertEqual('node3', found['host'])
        self.assertFalse(found['safe'])
        self.assertIn('verdict file unreadable', found['problems'][0])

    def test_nothing_recorded(self):
        self.assertEqual([], verdicts.read_all(self.db))
