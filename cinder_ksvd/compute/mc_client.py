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

"""Asks KSVD's management centre (MC) which attachment a server uses.

cinder refuses to delete an attachment that a server still uses (Bug
#2004555) and asks the compute API; this is that question, sent to the MC
when [ksvd_compute] mc_api_url is set.  The request is signed like the
events (doc/compute-events.md): HMAC-SHA256 with webhook_secret over
"GET <path>\\n<timestamp>".
"""

import time

from cinder_ksvd.compute import sinks

TIMESTAMP_HEADER = 'X-KSVD-Timestamp'


class NotFound(Exception):
    """The MC does not know the server, or the server has no such volume."""


class Unavailable(Exception):
    """The MC could not be asked or gave no usable answer."""


def request_target(method, path, timestamp):
    """The bytes a query's X-KSVD-Signature covers."""
    return ('%s %s\n%s' % (method, path, timestamp)).encode('utf-8')


def server_volume_attachment(base_url, secret, server_id, volume_id,
                             verify=True, timeout=10.0, session=None):
    """attachment_id (or None) of volume_id on server_id, as the MC says.

    GET <base_url>/servers/<server_id>/volumes/<volume_id>: 200 with
    {"attachment_id": <id or null>}, 404 when the server does not use the
    volume.  Raises NotFound or Unavailable.
    """
    import requests
    # requests.compat: the same names on Python 2 and 3.
    from requests.compat import quote
    from requests.compat import urlsplit
    url = '%s/servers/%s/volumes/%s' % (base_url.rstrip('/'),
                                        quote(str(server_id), safe=''),
                                        quote(str(volume_id), safe=''))
    timestamp = str(int(time.time()))
    path = urlsplit(url).path
    headers = {
        'Accept': 'application/json',
        TIMESTAMP_HEADER: timestamp,
        sinks.SIGNATURE_HEADER: sinks.signature(
            secret or '', request_target('GET', path, timestamp)),
    }
    getter = session or requests
    try:
        response = getter.get(url, headers=headers, verify=verify,
                              timeout=timeout, allow_redirects=False)
    except Exception as exc:  # connection, TLS, timeout
        raise Unavailable('%s not reached: %s' % (base_url, exc))
    if response.status_code == 404:
        raise NotFound(server_id)
    if response.status_code != 200:
        raise Unavailable('%s answered %s' % (base_url,
                                              response.status_code))
    try:
        answer = response.json()
        attachment_id = answer['attachment_id']
    except (ValueError, KeyError, TypeError):
        raise Unavailable('%s answered without an attachment_id' % base_url)
    if attachment_id is not None and not isinstance(
            attachment_id, type(u'')):
        raise Unavailable('%s answered a non-string attachment_id'
                          % base_url)
    return attachment_id
