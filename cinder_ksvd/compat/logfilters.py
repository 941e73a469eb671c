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

"""Log once what a cinder/oslo.messaging release mix repeats all day.

cinder 21 and older build their RPC clients with oslo_messaging.RPCClient()
itself, and oslo.messaging 14.1 and newer warn "Using RPCClient manually
..." for each client.  cinder builds one for many API objects, so a busy
service logs it dozens of times a minute (seen with cinder 21 and Debian
12's oslo.messaging).  The operator can do nothing about it, so the first
one is kept, with a note, and the repeats are dropped.  Other records pass.
"""

import logging

RPC_CLIENT_LOGGER = 'oslo_messaging.rpc.client'
RPC_CLIENT_MANUAL = 'Using RPCClient manually'
NOTE = ('; this cinder release builds its RPC clients that way, harmless: '
        'repeats in this process are not logged (ksvd-cinder)')


class OnceFilter(logging.Filter):
    """Pass the first record whose message starts with prefix, drop repeats."""

    def __init__(self, prefix, note):
        logging.Filter.__init__(self)
        self.prefix = prefix
        self.note = note
        self.seen = False

    def filter(self, record):
        if not str(record.msg).startswith(self.prefix):
            return True
        if self.seen:
            return False
        self.seen = True
        record.msg = '%s%s' % (record.msg, self.note)
        return True


_installed = []


def install():
    """Attach the filter to oslo.messaging's RPC client logger, once."""
    if _installed:
        return False
    once = OnceFilter(RPC_CLIENT_MANUAL, NOTE)
    logging.getLogger(RPC_CLIENT_LOGGER).addFilter(once)
    _installed.append(once)
    return True


def uninstall():
    while _installed:
        logging.getLogger(RPC_CLIENT_LOGGER).removeFilter(_installed.pop())
