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

import datetime
import os
import sqlite3

from tests.unit import base

from cinder_ksvd.cluster import status

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0)

# The columns status.py reads, as cinder's schema has them.
SCHEMA = '''
CREATE TABLE services (id INTEGER PRIMARY KEY, host VARCHAR(255),
    "binary" VARCHAR(255), cluster_name VARCHAR(255), disabled BOOLEAN,
    created_at DATETIME, updated_at DATETIME, deleted BOOLEAN);
CREATE TABLE workers (id INTEGER PRIMARY KEY, resource_type VARCHAR(40),
    resource_id VARCHAR(36), status VARCHAR(255), service_id INTEGER,
    updated_at DATETIME, deleted BOOLEAN);
'''


class ClusterStatusTestCase(base.TestCase):

    def setUp(self):
        super(ClusterStatusTestCase, self).setUp()
        path = os.path.join(self.make_tempdir(), 'cinder.sqlite')
        self.url = 'sqlite:///' + path
        conn = sqlite3.connect(path)
        conn.executescript(SCHEMA)
        ago = lambda s: str(NOW - datetime.timedelta(seconds=s))  # noqa
        conn.executemany(
            'INSERT INTO services VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
                (1, 'node-a@fake', 'cinder-volume', 'aa@fake', 0, ago(900),
                 ago(100), 0),
                (2, 'node-b@fake', 'cinder-volume', 'aa@fake', 0, ago(900),
                 ago(3), 0),
                (3, 'ctl', 'cinder-scheduler', None, 0, ago(900), ago(2),
                 0),
                (4, 'old@fake', 'cinder-volume', 'aa@fake', 0, ago(900),
                 ago(1), 1),
            ])
        conn.executemany(
            'INSERT INTO workers VALUES (?, ?, ?, ?, ?, ?, ?)', [
                (1, 'Volume', 'v-a', 'creating', 1, ago(110), 0),
                (2, 'Volume', 'v-b', 'deleting', 2, ago(5), 0),
                (3, 'Volume', 'v-s', 'creating', 3, ago(50), 0),
                (4, 'Snapshot', 's-n', 'creating', None, ago(40), 0),
                (5, 'SENTINEL', 'x', 'creating', None, ago(40), 0),
                (6, 'Volume', 'v-old', 'creating', 2, ago(40), 1),
            ])
        conn.commit()
        conn.close()

    def test_members_state_and_work(self):
        clusters, unowned = status.collect(self.url, 60, now=NOW)
        self.assertEqual(['aa@fake'], [name for name, _ in clusters])
        members = clusters[0][1]
        self.assertEqual([('node-a@fake', 'down', ['v-a']),
                          ('node-b@fake', 'up', ['v-b'])],
                         [(m['host'], m['state'],
                           [w['resource_id'] for w in m['work']])
                          for m in members])
        self.assertEqual([('v-s', 'cinder-scheduler on ctl'),
                          ('s-n', 'nobody')],
                         [(w['resource_id'], w['owner']) for w in unowned])

    def test_report_lines(self):
        found = status.collect(self.url, 60, now=NOW)
        text = '\n'.join(status.lines(*found))
        self.assertIn('cluster aa@fake: 2 members, 1 down', text)
        self.assertRegex(text, r'node-a@fake +cinder-volume +down +'
                               r'heartbeat 2026-01-01 11:58:20 +holds 1')
        self.assertIn('Volume v-a creating since 2026-01-01 11:58:10', text)
        self.assertIn('not claimed by any cluster member: 2', text)
        self.assertIn('(held by cinder-scheduler on ctl)', text)
        self.assertNotIn('SENTINEL', text)
        self.assertNotIn('v-old', text)

    def test_no_cluster(self):
        path = os.path.join(self.make_tempdir(), 'empty.sqlite')
        conn = sqlite3.connect(path)
        conn.executescript(SCHEMA)
        conn.close()
        self.assertEqual(['no clustered service in this database'],
                         status.lines(*status.collect('sqlite:///' + path,
                                                      60)))

    def test_missing_sqlite_file_is_not_created(self):
        path = os.path.join(self.make_tempdir(), 'missing.sqlite')
        self.assertRaises(IOError, status.collect, 'sqlite:///' + path, 60)
        self.assertFalse(os.path.exists(path))
