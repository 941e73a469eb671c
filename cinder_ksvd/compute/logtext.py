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

"""cinder's attachment-delete warnings in KSVD's words, not Nova's.

When a caller without the service role deletes an attachment that has an
instance id, cinder asks its compute API whether the server still uses the
volume and, when the answer is "not found", warns "Instance or volume not
found on Nova, ...".  There is no Nova here: the compute API is KSVD's
(cinder_ksvd.compute.api), which answers "not found" whenever [ksvd_compute]
mc_api_url is not set.  A filter on cinder.volume.api's logger gives those
records a text that says what happened and what to do; other records pass
untouched.
"""

import logging

LOGGER = 'cinder.volume.api'

# Start of cinder's message -> ours (the records have no arguments).
TEXTS = (
    ('Instance or volume not found on Nova',
     'The attachment has an instance id and KSVD\'s compute API does not '
     'know that server ([ksvd_compute] mc_api_url is not set, or the MC '
     'answered "not found"): the attachment is deleted; the KSVD host must '
     'disconnect the device itself (ksvd-cinder detach does both). Give the '
     'MC\'s token the service role to skip this check'),
    ('Mismatch! Nova has different attachment id',
     'The MC reports another attachment id (%s) for this server and volume: '
     'the attachment is deleted; the KSVD host may keep a device until it '
     'disconnects it'),
)


class KsvdWording(logging.Filter):
    """Rewrite the known Nova records of cinder.volume.api."""

    def filter(self, record):
        text = str(record.msg)
        for prefix, replacement in TEXTS:
            if text.startswith(prefix):
                record.msg = replacement
                break
        return True


_installed = []


def install():
    """Attach the filter once per process."""
    if _installed:
        return False
    wording = KsvdWording()
    logging.getLogger(LOGGER).addFilter(wording)
    _installed.append(wording)
    return True


def uninstall():
    while _installed:
        logging.getLogger(LOGGER).removeFilter(_installed.pop())
