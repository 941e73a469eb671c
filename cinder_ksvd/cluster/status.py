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
"""Who is in each cluster and which operations each member holds.

cinder-manage cluster list shows members and heartbeats, not the work in
flight; that lives in cinder's workers table (one row per cleanable
operation, with the service that runs it).  Read with plain SQL on the
services and workers tables, whose columns are the same in cinder 15 to
29, so the command works without starting cinder's DB layer.
"""

import datetime
import os

import sqlalchemy as sa

# The columns read, as cinder's schema has them (Core constructs: quoting
# and sqlite's datetime strings are the dialect's business).
SERVICES = sa.table(
    'services', sa.column('id', sa.Integer), sa.column('host', sa.String),
    sa.column('binary', sa.String), sa.column('cluster_name', sa.String),
    sa.column('disabled', sa.Boolean), sa.column('deleted', sa.Boolean),
    sa.column('created_at', sa.DateTime), sa.column('updated_at', sa.DateTime))
WORKERS = sa.table(
    'workers', sa.column('resource_type', sa.String),
    sa.column('resource_id', sa.String), sa.column('status', sa.String),
    sa.column('service_id', sa.Integer), sa.column('deleted', sa.Boolean),
    sa.column('updated_at', sa.DateTime))


def _rows(conn, query):
    # Row._mapping: SQLAlchemy 1.4+; rows are mappings themselves before.
    return [dict(getattr(row, '_mapping', row))
            for row in conn.execute(query)]


def collect(url, service_down_time, now=None):
    """Return [(cluster, [member]), ...] and the unowned work.

    member: dict(host, binary, id, state, heartbeat, work=[row, ...]);
    work rows whose service is not a member of any cluster (the scheduler
    that placed a create, or nobody) come back in the second value.
    """
    now = now or datetime.datetime.utcnow()
    parsed = sa.engine.url.make_url(url)
    if parsed.get_backend_name() == 'sqlite' and parsed.database and \
            not os.path.exists(parsed.database):
        # sqlite would create an empty file; this command only reads.
        raise IOError('no database file %s' % parsed.database)
    services_q = SERVICES.select().where(
        SERVICES.c.deleted == sa.false()).order_by(
            SERVICES.c.cluster_name, SERVICES.c.host, SERVICES.c.binary)
    workers_q = WORKERS.select().where(sa.and_(
        WORKERS.c.deleted == sa.false(),
        WORKERS.c.resource_type != 'SENTINEL')).order_by(
            WORKERS.c.updated_at, WORKERS.c.resource_id)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            services = _rows(conn, services_q)
            workers = _rows(conn, workers_q)
    finally:
        engine.dispose()
    by_id = dict((s['id'], s) for s in services)
    for service in services:
        beat = service['updated_at'] or service['created_at']
        service['heartbeat'] = beat
        up = beat is not None and (now - beat).total_seconds() <= \
            service_down_time
        service['state'] = ('disabled' if service['disabled'] else
                            'up' if up else 'down')
        service['work'] = []
    unowned = []
    for row in workers:
        owner = by_id.get(row['service_id'])
        if owner is not None and owner['cluster_name']:
            owner['work'].append(row)
        else:
            row['owner'] = ('%s on %s' % (owner['binary'], owner['host'])
                            if owner else 'nobody')
            unowned.append(row)
    clusters = {}
    for service in services:
        if service['cluster_name']:
            clusters.setdefault(service['cluster_name'], []).append(service)
    return sorted(clusters.items()), unowned


def lines(clusters, unowned):
    """The report, one line each."""
    out = []
    if not clusters:
        out.append('no clustered service in this database')
    for name, members in clusters:
        out.append('cluster %s: %d members, %d down'
                   % (name, len(members),
                      len([m for m in members if m['state'] == 'down'])))
        for member in members:
            out.append('  %-24s %-16s %-8s heartbeat %s  holds %d'
                       % (member['host'], member['binary'],
                          member['state'], member['heartbeat'],
                          len(member['work'])))
            for row in member['work']:
                out.append('    %s %s %s since %s'
                           % (row['resource_type'], row['resource_id'],
                              row['status'], row['updated_at']))
    if unowned:
        out.append('not claimed by any cluster member: %d' % len(unowned))
        for row in unowned:
            out.append('    %s %s %s since %s (held by %s)'
                       % (row['resource_type'], row['resource_id'],
                          row['status'], row['updated_at'], row['owner']))
    return out
