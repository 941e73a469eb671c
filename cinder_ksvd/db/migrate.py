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
"""Copy a cinder database (sqlite) into an empty MariaDB/MySQL database.

Used by ``ksvd-cinder-manage db migrate --to URL`` when a single-node
deployment grows to several nodes.  Steps:

1. refuse while services run (a heartbeat in ``services`` younger than
   service_down_time);
2. refuse a target that holds tables, unless they are the leftovers of an
   earlier failed run of this command (the ``ksvd_migrate_state`` marker
   table is there): those are dropped and the copy starts again;
3. write the marker, then build the schema with cinder's own migrations up
   to the source's schema revision (alembic; sqlalchemy-migrate's version
   on cinder 15/16);
4. copy every table in foreign-key order, in batches, one transaction per
   table (the rows the migrations seeded are replaced by the source's);
5. compare row counts and an order-independent checksum per table over
   normalised values (datetimes at second precision, booleans as 0/1), so
   sqlite's and MariaDB's representations of the same data compare equal;
6. drop the marker: only a verified copy loses it.
"""

import binascii
import datetime
import decimal
import hashlib

import sqlalchemy as sa

MARKER_TABLE = 'ksvd_migrate_state'
VERSION_TABLE = 'alembic_version'
# sqlalchemy-migrate's version table: cinder's schema before alembic.
LEGACY_VERSION_TABLE = 'migrate_version'
BATCH = 500
_CHECKSUM_MOD = 2 ** 128
_SA_BEFORE_14 = tuple(int(part) for part in
                      sa.__version__.split('.')[:2]) < (1, 4)


class MigrateError(Exception):
    """The migration cannot go on; str() is one line that says the fix."""


def shown(url):
    """The URL with its password masked."""
    return repr(sa.engine.url.make_url(url))


def _engine(url):
    try:
        return sa.create_engine(url, poolclass=sa.pool.NullPool)
    except (sa.exc.ArgumentError, ValueError) as exc:
        raise MigrateError('%s is not a database URL (%s)'
                           % (url.split('@')[-1],
                              str(exc).splitlines()[0]))
    except ImportError as exc:
        raise MigrateError('the Python driver for %s is not installed (%s)'
                           % (shown(url), exc))


def _select(*columns):
    """SELECT columns: select(*cols) on SQLAlchemy 1.4+, select([cols]) before.

    1.3 (cinder 15/16) takes only a list; 2.0 takes only positional
    columns.
    """
    if _SA_BEFORE_14:
        return sa.select(list(columns))
    return sa.select(*columns)


def _mapping(row):
    # Row._mapping: SQLAlchemy 1.4+; a 1.3 RowProxy is a mapping itself.
    return getattr(row, '_mapping', row)


def _driver_sql(conn, text):
    run = getattr(conn, 'exec_driver_sql', None)
    if run is not None:
        return run(text)
    return conn.execute(text)  # SQLAlchemy < 1.4 (cinder 15/16)


def _utcnow():
    return datetime.datetime.utcnow()


def running_services(conn, down_time, now=None):
    """[(binary, host, seconds since heartbeat)] of services that look up.

    A service is up while its last heartbeat (updated_at, or created_at
    before the first one) is younger than service_down_time, as cinder's
    own ``is_up`` decides.
    """
    now = now or _utcnow()
    services = sa.Table('services', sa.MetaData(), autoload_with=conn)
    rows = conn.execute(_select(
        services.c.binary, services.c.host, services.c.updated_at,
        services.c.created_at).where(
            services.c.deleted == sa.false())).fetchall()
    fresh = []
    for binary, host, updated, created in rows:
        beat = updated or created
        if beat is None:
            continue
        age = (now - beat).total_seconds()
        if age < down_time:
            fresh.append((binary, host, max(0, int(age))))
    return fresh


def revision(conn):
    """The schema revision of the cinder database on conn (None: none).

    The alembic revision (cinder 20+), else the version in
    sqlalchemy-migrate's table (cinder 15/16 and the other releases before
    alembic), as text: build_schema gets it back.
    """
    names = sa.inspect(conn).get_table_names()
    if VERSION_TABLE in names:
        from alembic import migration
        rev = migration.MigrationContext.configure(
            conn).get_current_revision()
        if rev:
            return rev
    if LEGACY_VERSION_TABLE in names:
        row = _driver_sql(conn, 'SELECT version FROM %s'
                          % LEGACY_VERSION_TABLE).fetchone()
        if row is not None and row[0] is not None:
            return str(row[0])
    return None


def normalise(value):
    """One canonical text per value, the same on sqlite and MariaDB."""
    if value is None:
        return '\\N'
    if isinstance(value, bool):
        return '1' if value else '0'
    if isinstance(value, datetime.datetime):
        # MariaDB DATETIME keeps whole seconds; sqlite keeps microseconds.
        return value.replace(microsecond=0, tzinfo=None).isoformat(' ')
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value.normalize())
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        try:
            return value.decode('utf-8')
        except UnicodeDecodeError:
            return 'x' + binascii.hexlify(value).decode('ascii')
    return u'%s' % (value,)


def row_digest(columns, row):
    """An integer digest of one row (columns: names, in a fixed order)."""
    text = u'\x1f'.join(u'%s=%s' % (name, normalise(row[name]))
                        for name in columns)
    return int(hashlib.sha256(text.encode('utf-8')).hexdigest(), 16)


def table_summary(conn, table, columns):
    """(row count, order-independent checksum) of one table."""
    count, total = 0, 0
    result = conn.execute(_select(*[table.c[name] for name in columns]))
    while True:
        rows = result.fetchmany(BATCH)
        if not rows:
            break
        for row in rows:
            count += 1
            total = (total + row_digest(columns, _mapping(row))) \
                % _CHECKSUM_MOD
    return count, '%032x' % total


def _reflect(conn):
    meta = sa.MetaData()
    meta.reflect(bind=conn)
    return meta


def _user_tables(names):
    return [n for n in names
            if n not in (MARKER_TABLE, VERSION_TABLE, LEGACY_VERSION_TABLE)
            and not n.startswith('sqlite_')]


def _drop_all(engine):
    """Drop every table of the target (leftovers of a failed run)."""
    with engine.begin() as conn:
        mysql = conn.dialect.name == 'mysql'
        if mysql:
            _driver_sql(conn, 'SET FOREIGN_KEY_CHECKS=0')
        meta = _reflect(conn)
        for table in reversed(meta.sorted_tables):
            table.drop(conn)
        if mysql:
            _driver_sql(conn, 'SET FOREIGN_KEY_CHECKS=1')


def _write_marker(engine, source_url, rev):
    meta = sa.MetaData()
    marker = sa.Table(MARKER_TABLE, meta,
                      sa.Column('source', sa.String(255)),
                      sa.Column('revision', sa.String(64)),
                      sa.Column('started_at', sa.DateTime))
    with engine.begin() as conn:
        marker.create(conn)
        conn.execute(marker.insert().values(
            source=shown(source_url)[:255], revision=rev,
            started_at=_utcnow()))


def _drop_marker(engine):
    with engine.begin() as conn:
        sa.Table(MARKER_TABLE, sa.MetaData()).drop(conn)


def _build_schema(engine, rev):
    """cinder's own migrations, up to rev, on the target."""
    from cinder.db import migration
    if rev.isdigit():
        # sqlalchemy-migrate (cinder 15/16): an integer version, and a
        # database with a table (the marker) but no version table is
        # refused: put the target under version control first.
        from oslo_db.sqlalchemy import migration as oslo_migration
        oslo_migration.db_version_control(
            engine, migration.MIGRATE_REPO_PATH,
            version=migration.INIT_VERSION)
        migration.db_sync(version=int(rev), engine=engine)
        return
    migration.db_sync(version=rev, engine=engine)


def _values(row, seconds):
    values = dict(_mapping(row))
    if seconds:
        # DATETIME columns keep whole seconds: truncate here, as MariaDB
        # does, rather than let MySQL round.
        for key, value in values.items():
            if isinstance(value, datetime.datetime) and value.microsecond:
                values[key] = value.replace(microsecond=0)
    return values


def _copy_table(src_conn, engine, src_table, dst_table, columns):
    """Replace the target table's rows with the source's; one transaction."""
    with engine.begin() as dst:
        if dst.dialect.name == 'mysql':
            # Tables are copied in FK order; this only covers cycles and
            # the rows the migrations seeded.
            _driver_sql(dst, 'SET FOREIGN_KEY_CHECKS=0')
        dst.execute(dst_table.delete())
        result = src_conn.execute(
            _select(*[src_table.c[name] for name in columns]))
        copied = 0
        seconds = dst.dialect.name == 'mysql'
        while True:
            rows = result.fetchmany(BATCH)
            if not rows:
                break
            dst.execute(dst_table.insert(),
                        [_values(row, seconds) for row in rows])
            copied += len(rows)
        if dst.dialect.name == 'mysql':
            _driver_sql(dst, 'SET FOREIGN_KEY_CHECKS=1')
    return copied


def check_target(engine, url):
    """'empty', or 'leftover' (an earlier failed run); raises otherwise."""
    tables = sa.inspect(engine).get_table_names()
    if not tables:
        return 'empty'
    if MARKER_TABLE in tables:
        return 'leftover'
    raise MigrateError(
        'target database %s is not empty (%d tables, e.g. %s): migrate '
        'only into a new, empty database' % (
            shown(url), len(tables), sorted(tables)[0]))


def migrate(source_url, target_url, service_down_time=60, report=None,
            build_schema=None):
    """Copy source_url's cinder database into target_url; return a summary.

    report(line) is called with progress lines; build_schema(engine, rev)
    makes the target's schema (default: cinder's migrations).  Raises
    MigrateError with a one-line reason when the copy is refused or fails.
    """
    report = report or (lambda line: None)
    build_schema = build_schema or _build_schema
    src_url = sa.engine.url.make_url(source_url)
    dst_url = sa.engine.url.make_url(target_url)
    if (src_url.drivername.split('+')[0] == dst_url.drivername.split('+')[0]
            and src_url.database == dst_url.database
            and src_url.host == dst_url.host):
        raise MigrateError('--to names the configured database itself (%s)'
                           % shown(target_url))
    source = _engine(source_url)
    target = _engine(target_url)
    try:
        with source.connect() as src:
            names = sa.inspect(src).get_table_names()
            if 'services' not in names:
                raise MigrateError('source %s holds no cinder database: '
                                   'check [database] connection'
                                   % shown(source_url))
            rev = revision(src)
            if not rev:
                raise MigrateError(
                    'source %s has no schema revision: run '
                    'ksvd-cinder-manage db sync first' % shown(source_url))
            fresh = running_services(src, service_down_time)
            if fresh:
                binary, host, age = fresh[0]
                raise MigrateError(
                    '%d service(s) still running (e.g. %s on %s, heartbeat '
                    '%ds ago; service_down_time %ds): stop every ksvd-cinder '
                    'service, then wait until their heartbeats are older '
                    'than service_down_time' % (
                        len(fresh), binary, host, age, service_down_time))
        try:
            state = check_target(target, target_url)
        except sa.exc.OperationalError as exc:
            raise MigrateError('cannot connect to target %s: %s' % (
                shown(target_url), str(exc.orig).splitlines()[0]))
        if state == 'leftover':
            report('target holds the leftovers of an earlier failed '
                   'migrate: dropping them and starting again')
            _drop_all(target)
        _write_marker(target, source_url, rev)
        report('schema: cinder migrations up to %s on the target' % rev)
        build_schema(target, rev)
        with target.connect() as conn:
            if revision(conn) != rev:
                raise MigrateError('target is at revision %s after the '
                                   'migrations, not %s'
                                   % (revision(conn), rev))
        return _copy_and_verify(source, target, rev, report)
    finally:
        source.dispose()
        target.dispose()


def _copy_and_verify(source, target, rev, report):
    with source.connect() as src, target.connect() as dst:
        src_meta = _reflect(src)
        dst_meta = _reflect(dst)
    src_names = set(_user_tables(src_meta.tables))
    missing = src_names - set(dst_meta.tables)
    if missing:
        raise MigrateError('tables %s exist in the source but not after '
                           'the migrations to %s: the source schema was '
                           'changed by hand' % (', '.join(sorted(missing)),
                                                rev))
    order = [t.name for t in dst_meta.sorted_tables
             if t.name in src_names]
    plan = {}
    for name in order:
        src_cols = set(src_meta.tables[name].c.keys())
        dst_cols = [c for c in dst_meta.tables[name].c.keys()]
        extra = src_cols - set(dst_cols)
        if extra:
            raise MigrateError('table %s: source columns %s are not in the '
                               'schema of revision %s' % (
                                   name, ', '.join(sorted(extra)), rev))
        plan[name] = sorted(c for c in dst_cols if c in src_cols)
    rows = 0
    with source.connect() as src:
        for name in order:
            copied = _copy_table(src, target, src_meta.tables[name],
                                 dst_meta.tables[name], plan[name])
            rows += copied
    tables = []
    with source.connect() as src, target.connect() as dst:
        for name in order:
            want = table_summary(src, src_meta.tables[name], plan[name])
            got = table_summary(dst, dst_meta.tables[name], plan[name])
            if want != got:
                raise MigrateError(
                    'verification failed for table %s: source %d rows '
                    'checksum %s, target %d rows checksum %s; run the '
                    'command again' % (name, want[0], want[1], got[0],
                                       got[1]))
            report('%-32s %8d rows  checksum %s  ok'
                   % (name, want[0], want[1]))
            tables.append((name, want[0], want[1]))
    _drop_marker(target)
    return {'revision': rev, 'tables': tables, 'rows': rows}
