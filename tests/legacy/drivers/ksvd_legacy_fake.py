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
"""cinder's fake driver, able to extend on cinder 15 and 16.

cinder 29's FakeLoggingVolumeDriver extends; the one of 15 and 16 goes to
a FakeBrickLVM without extend_volume, so the volume lands in
error_extending. The legacy lifecycle needs a backend that extends (also
while attached, for the compute event): this adds the no-op cinder 29 has.
Not a package of this repository: the services get this directory on
PYTHONPATH. Runs on Python 2.7 and 3.
"""

from cinder.tests import fake_driver
from oslo_log import log as logging

LOG = logging.getLogger(__name__)


class ExtendableFakeDriver(fake_driver.FakeLoggingVolumeDriver):
    """FakeLoggingVolumeDriver plus extend_volume, as in cinder 29."""

    def extend_volume(self, volume, new_size):
        LOG.info('fake extend_volume %s to %s GiB',
                 volume.id, new_size)
