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

"""db migrate on sqlite files with a small cinder-like schema.

These run in the db-zed tier too (SQLAlchemy 1.4, no cinder), so the
schema is built here; tests/unit/cmd/test_manage.py runs the command with
cinder's real migrations.
"""

import datetime
import os
from unittest import mock

import sqlalchemy as sa
from tests.unit import base

from cinder_ksvd.db import migrate

REV = 'abc123def456'
OLD = datetime.datetime(2026, 1, 2, 3, 4, 5, 678901)


def schema(meta):
    sa.Table('alembic_version', meta,
             sa.Column('version_num', sa.String(32), primary_key=True))
    sa.Table('services', meta,
             sa.Column('id', sa.Integer, primary_key=True),
             sa.Column('host', sa.String(255)),
             sa.Column('binary', sa.String(255)),
             sa.Column('created_at', sa.DateTime),
             sa.Column('updated_at', sa.DateTime),
             sa.Column('deleted', sa.Boolean))
    sa.Table('volume_types', meta,
             sa.Column('id', sa.String(36), primary_key=True),
             sa.Column('name', sa.String(255)),
             sa.Column('is_public', sa.Boolean))
    sa.Table('volumes', meta,
             sa.Column('id', sa.String(36), primary_key=True),
             sa.Column('volume_type_id', sa.String(36),
                       sa.ForeignKey('volume_types.id')),
             sa.Column('size', sa.Integer),
             sa.Column('created_at', sa.DateTime),
             sa.Column('deleted', sa.Boolean))
    sa.Table('quota_classes', meta,
             sa.Column('id', sa.Integer, primary_key=True),
             sa.Column('resource', sa.String(255)),
             sa.Column('hard_limit', sa.Integer))
    return meta


def build_schema(engine, rev):
    """What cinder's migrations do: tables, seeded rows, the revision."""
    meta = schema(sa.MetaData())
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(meta.tables['alembic_version'].insert().values(
            version_num=rev))
        conn.execute(meta.tables['quota_classes'].insert().values(
            id=1, resource='volumes', hard_limit=10))


class MigrateTestCase(base.TestCase):

    def setUp(self):
        super(MigrateTestCase, self).setUp()
        self.dir = self.make_tempdir()
        self.source = 'sqlite:///%s' % os.path.join(self.dir, 'src.sqlite')
        self.target = 'sqlite:///%s' % os.path.join(self.dir, 'dst.sqlite')
        engine = sa.create_engine(self.source)
        self.addCleanup(engine.dispose)
        build_schema(engine, REV)
        meta = schema(sa.MetaData())
        t = meta.tables
        with engine.begin() as conn:
            conn.execute(t['quota_classes'].update().values(hard_limit=50))
            conn.execute(t['services'].insert(), [
                dict(id=1, host='node1', binary='cinder-volume',
                     created_at=OLD, updated_at=OLD, deleted=False),
                dict(id=2, host='node1', binary='cinder-scheduler',
                     created_at=OLD, updated_at=None, deleted=False)])
            conn.execute(t['volume_types'].insert(), [
                dict(id='t1', name='gold', is_public=True),
                dict(id='t2', name=u'silber \u00e4', is_public=False)])
            conn.execute(t['volumes'].insert(), [
                dict(id='v%03d' % i, volume_type_id='t1', size=i,
                     created_at=OLD + datetime.timedelta(seconds=i),
                     deleted=bool(i % 2)) for i in range(1200)])
        self.engine = engine

    def run_migrate(self, **kwargs):
        lines = []
        kwargs.setdefault('build_schema', build_schema)
        result = migrate.migrate(self.source, self.target, report=lines.append,
                                 **kwargs)
        return result, lines

    def target_rows(self, sql):
        engine = sa.create_engine(self.target)
        try:
            with engine.connect() as conn:
                return base.sql(conn, sql).fetchall()
        finally:
            engine.dispose()

    def test_copies_and_verifies(self):
        result, lines = self.run_migrate()
        self.assertEqual(REV, result['revision'])
        counts = dict((name, rows) for name, rows, _ in result['tables'])
        self.assertEqual({'services': 2, 'volume_types': 2, 'volumes': 1200,
                          'quota_classes': 1}, counts)
        self.assertEqual(1205, result['rows'])
        # FK order: types before the volumes that point at them.
        order = [name for name, _, _ in result['tables']]
        self.assertLess(order.index('volume_types'), order.index('volumes'))
        # The seeded row was replaced by the source's, not duplicated.
        self.assertEqual([(1, 50)], self.target_rows(
            'SELECT id, hard_limit FROM quota_classes'))
        self.assertEqual([(600,)], self.target_rows(
            'SELECT COUNT(*) FROM volumes WHERE deleted = 1'))
        self.assertEqual([(u'silber \u00e4',)], self.target_rows(
            "SELECT name FROM volume_types WHERE id = 't2'"))
        # The marker is gone once the copy is verified.
        self.assertNotIn(migrate.MARKER_TABLE, sa.inspect(
            sa.create_engine(self.target)).get_table_names())
        self.assertEqual(4, len([line for line in lines
                                 if line.endswith('ok')]))

    def test_second_run_refuses_non_empty_target(self):
        self.run_migrate()
        exc = self.assertRaises(migrate.MigrateError, self.run_migrate)
        self.assertIn('is not empty (5 tables, e.g. alembic_version)',
                      str(exc))
        self.assertNotIn('\n', str(exc))

    def test_refuses_target_with_other_data(self):
        engine = sa.create_engine(self.target)
        with engine.begin() as conn:
            base.sql(conn, 'CREATE TABLE mine (x INTEGER)')
        engine.dispose()
        exc = self.assertRaises(migrate.MigrateError, self.run_migrate)
        self.assertIn('not empty (1 tables, e.g. mine)', str(exc))
        self.assertEqual([('mine',)], self.target_rows(
            "SELECT name FROM sqlite_master WHERE type = 'table'"))

    def test_rerun_after_failure_cleans_and_redoes(self):
        real = migrate._copy_table
        calls = []

        def fail_on_volumes(src, engine, src_table, dst_table, columns):
            calls.append(src_table.name)
            if src_table.name == 'volumes':
                # Half the rows land, then the copy dies.
                with engine.begin() as dst:
                    dst.execute(dst_table.insert(), [
                        dict(id='v%03d' % i, size=i) for i in range(7)])
                raise RuntimeError('connection lost')
            return real(src, engine, src_table, dst_table, columns)

        with mock.patch.object(migrate, '_copy_table', fail_on_volumes):
            self.assertRaises(RuntimeError, self.run_migrate)
        self.assertIn('volumes', calls)
        self.assertIn(migrate.MARKER_TABLE, sa.inspect(
            sa.create_engine(self.target)).get_table_names())
        result, lines = self.run_migrate()
        self.assertIn('earlier failed migrate', lines[0])
        self.assertEqual([(1200,)], self.target_rows(
            'SELECT COUNT(*) FROM volumes'))
        self.assertEqual(1205, result['rows'])

    def test_refuses_running_services(self):
        now = datetime.datetime.utcnow()
        with self.engine.begin() as conn:
            base.sql(
                conn,
                "UPDATE services SET updated_at = ? WHERE id = 1",
                (now - datetime.timedelta(seconds=5),))
        exc = self.assertRaises(migrate.MigrateError, self.run_migrate,
                                service_down_time=60)
        self.assertIn('1 service(s) still running (e.g. cinder-volume on '
                      'node1', str(exc))
        self.assertIn('service_down_time 60s', str(exc))
        # The target was not touched.
        self.assertFalse(os.path.exists(os.path.join(self.dir,
                                                     'dst.sqlite')) and
                         sa.inspect(sa.create_engine(
                             self.target)).get_table_names())
        # Older than service_down_time: the service is down, go on.
        result, _ = self.run_migrate(service_down_time=3)
        self.assertEqual(REV, result['revision'])

    def test_deleted_services_do_not_count(self):
        now = datetime.datetime.utcnow()
        with self.engine.begin() as conn:
            base.sql(
                conn,
                "UPDATE services SET updated_at = ?, deleted = 1", (now,))
        self.assertEqual(REV, self.run_migrate()[0]['revision'])

    def test_verification_catches_a_difference(self):
        real = migrate._copy_table

        def lossy(src, engine, src_table, dst_table, columns):
            copied = real(src, engine, src_table, dst_table, columns)
            if src_table.name == 'volumes':
                with engine.begin() as dst:
                    base.sql(
                        dst,
                        "UPDATE volumes SET size = 99 WHERE id = 'v005'")
            return copied

        with mock.patch.object(migrate, '_copy_table', lossy):
            exc = self.assertRaises(migrate.MigrateError, self.run_migrate)
        self.assertIn('verification failed for table volumes: source 1200 '
                      'rows', str(exc))
        # Not verified: the marker stays, so a re-run may redo it.
        self.assertIn(migrate.MARKER_TABLE, sa.inspect(
            sa.create_engine(self.target)).get_table_names())

    def test_same_database_refused(self):
        exc = self.assertRaises(migrate.MigrateError, migrate.migrate,
                                self.source, self.source)
        self.assertIn('names the configured database itself', str(exc))

    def test_source_without_revision(self):
        with self.engine.begin() as conn:
            base.sql(conn, 'DELETE FROM alembic_version')
        exc = self.assertRaises(migrate.MigrateError, self.run_migrate)
        self.assertIn('run ksvd-cinder-manage db sync first', str(exc))

    def test_not_a_cinder_database(self):
        empty = 'sqlite:///%s' % os.path.join(self.dir, 'nothing.sqlite')
        exc = self.assertRaises(migrate.MigrateError, migrate.migrate,
                                empty, self.target)
        self.assertIn('holds no cinder database', str(exc))

    def test_unreachable_target(self):
        exc = self.assertRaises(
            migrate.MigrateError, migrate.migrate, self.source,
            'sqlite:////nonexistent-dir/x/dst.sqlite',
            build_schema=build_schema)
        self.assertIn('cannot connect to target', str(exc))


class NormaliseTestCase(base.TestCase):

    def test_sqlite_and_mariadb_forms_compare_equal(self):
        cols = ['a', 'b', 'c', 'd']
        sqlite_row = {'a': True, 'b': OLD, 'c': 5, 'd': None}
        mariadb_row = {'a': 1, 'b': OLD.replace(microsecond=0), 'c': 5,
                       'd': None}
        self.assertEqual(migrate.row_digest(cols, sqlite_row),
                         migrate.row_digest(cols, mariadb_row))

    def test_values_that_differ_do_not(self):
        cols = ['a', 'b']
        base_row = {'a': 'x', 'b': None}
        for other in ({'a': 'x', 'b': ''}, {'a': 'y', 'b': None},
                      {'a': 'x', 'b': 'None'}):
            self.assertNotEqual(migrate.row_digest(cols, base_row),
                                migrate.row_digest(cols, other), other)

    def test_normalise(self):
        self.assertEqual('2026-01-02 03:04:05', migrate.normalise(OLD))
        self.assertEqual('0', migrate.normalise(False))
        self.assertEqual('\\N', migrate.normalise(None))
        self.assertEqual('1.5', migrate.normalise(
            __import__('decimal').Decimal('1.50')))
        self.assertEqual('x00ff', migrate.normalise(b'\x00\xff'))
        self.assertEqual('abc', migrate.normalise(b'abc'))

    def test_checksum_is_order_independent(self):
        engine = sa.create_engine('sqlite://')
        self.addCleanup(engine.dispose)
        meta = sa.MetaData()
        table = sa.Table('t', meta, sa.Column('x', sa.Integer))
        with engine.begin() as conn:
            meta.create_all(conn)
            conn.execute(table.insert(), [{'x': 1}, {'x': 2}, {'x': 2}])
            first = migrate.table_summary(conn, table, ['x'])
            conn.execute(table.delete())
            conn.execute(table.insert(), [{'x': 2}, {'x': 1}, {'x': 2}])
            self.assertEqual(first, migrate.table_summary(conn, table,
                                                          ['x']))
            conn.execute(table.delete().where(table.c.x == 1))
            conn.execute(table.insert(), [{'x': 3}])
            self.assertNotEqual(first, migrate.table_summary(conn, table,
                                                             ['x']))
        self.assertEqual(3, first[0])
