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

SERVICES = sa.text(
    'SELECT id, host, "binary", cluster_name, disabled, created_at, '
    'updated_at FROM services WHERE deleted = :no ORDER BY cluster_name, '
    'host, "binary"')
WORKERS = sa.text(
    'SELECT resource_type, resource_id, status, service_id, updated_at '
    'FROM workers WHERE deleted = :no AND resource_type != :sentinel '
    'ORDER BY updated_at, resource_id')


def _mysql(url):
    return url.split(':', 1)[0].startswith('mysql')


def collect(url, service_down_time, now=None):
    """Return [(cluster, [member]), ...] and the unowned work.

    member: dict(host, binary, id, state, heartbeat, work=[row, ...]);
    work rows whose service is not a member of any cluster and not a
    cinder-volume (the scheduler that placed a create, or nobody) come
    back in the second value.
    """
    now = now or datetime.datetime.utcnow()
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == 'sqlite' and parsed.database and \
            not os.path.exists(parsed.database):
        # sqlite would create an empty file; this command only reads.
        raise IOError('no database file %s' % parsed.database)
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            services = [dict(r._mapping) if hasattr(r, '_mapping')
                        else dict(r) for r in conn.execute(
                            _quoted(SERVICES, url), {'no': False})]
            workers = [dict(r._mapping) if hasattr(r, '_mapping')
                       else dict(r) for r in conn.execute(
                           WORKERS, {'no': False, 'sentinel': 'SENTINEL'})]
    finally:
        engine.dispose()
    by_id = dict((s['id'], s) for s in services)
    for service in services:
        beat = service['updated_at'] or service['created_at']
        beat = _as_datetime(beat)
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


def _quoted(statement, url):
    if _mysql(url):  # MySQL quotes names with backticks
        return sa.text(str(statement).replace('"binary"', '`binary`'))
    return statement


def _as_datetime(value):
    if value is None or isinstance(value, datetime.datetime):
        return value
    text = str(value).replace('T', ' ')
    for fmt in ('%Y-%m-%d %H:%M:%S.%f', '%Y-%m-%d %H:%M:%S'):
        try:
            return datetime.datetime.strptime(text, fmt)
        except ValueError:
            pass
    return None


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
