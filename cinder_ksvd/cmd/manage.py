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
"""ksvd-cinder-manage: cinder-manage with ksvd-cinder's hooks and config.

Runs db sync and the other cinder-manage commands against the
ksvd-cinder config layering, with the hooks installed (DDL runs through the
same database layer as the services).
"""

import sys

from cinder_ksvd.cmd import common


def main():
    """Entry point of the ksvd-cinder-manage console script."""
    argv = sys.argv[1:]
    if not argv or argv[0] in ('-h', '--help'):
        # Let cinder-manage print its own usage, without touching config.
        sys.exit(common.run('manage', argv))
    sys.exit(common.run('manage', argv, check='manage'))
