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

"""Every host's placement verdict, kept next to the shared sqlite file.

Each host can only examine its own mount (its glusterfs client options,
its client graph), so a second host mounted without the coherent options
would go unseen from the first.  Every service start (and ``db check``)
on a network filesystem writes this host's verdict into
``<file>.placement/<host>.json`` beside the database, where every host
sharing the file sees it; ``ksvd-cinder-manage db check`` reports them
all.  Removing a host's file forgets it (a host that left the cluster).
"""

import datetime
import json
import os
import re
import socket

SUFFIX = '.placement'
_UNSAFE_NAME = re.compile(r'[^A-Za-z0-9._-]')


def directory(db_path):
    return db_path + SUFFIX


def this_host():
    return socket.gethostname() or 'localhost'


def record(db_path, mount, problems, service, host=None):
    """Write this host's verdict; returns its path (IOError/OSError raise).

    Written to a temporary file and renamed, so a reader on another host
    never sees half a verdict.
    """
    host = host or this_host()
    folder = directory(db_path)
    if not os.path.isdir(folder):
        try:
            os.mkdir(folder, 0o750)
        except OSError:
            if not os.path.isdir(folder):  # another host made it first
                raise
    path = os.path.join(folder, _UNSAFE_NAME.sub('_', host) + '.json')
    verdict = {
        'host': host,
        'checked_at': datetime.datetime.utcnow().strftime(
            '%Y-%m-%dT%H:%M:%SZ'),
        'service': service,
        'file': db_path,
        'filesystem': mount.fstype if mount else 'unknown',
        'mount_point': mount.target if mount else 'unknown',
        'mount_source': mount.source if mount else 'unknown',
        'problems': list(problems),
        'safe': not problems,
    }
    temp = '%s.%d.tmp' % (path, os.getpid())
    with open(temp, 'w') as handle:
        json.dump(verdict, handle, indent=1, sort_keys=True)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temp, path)
    return path


def read_all(db_path):
    """Every recorded verdict, by host; an unreadable file is a verdict too.

    Returns a list of dicts (host, checked_at, service, problems, safe,
    path), sorted by host.
    """
    folder = directory(db_path)
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    found = []
    for name in names:
        if not name.endswith('.json'):
            continue
        path = os.path.join(folder, name)
        try:
            with open(path) as handle:
                verdict = json.load(handle)
            verdict['problems'] = list(verdict.get('problems') or [])
            verdict['safe'] = bool(verdict.get('safe')) and \
                not verdict['problems']
        except (IOError, OSError, ValueError) as exc:
            verdict = {'host': name[:-len('.json')], 'checked_at': '?',
                       'service': '?', 'safe': False,
                       'problems': ['verdict file unreadable: %s' % exc]}
        verdict['path'] = path
        found.append(verdict)
    return sorted(found, key=lambda v: v.get('host', ''))
