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

"""Compute API for cinder without Nova: events to KSVD, clean refusals.

cinder calls its compute API (``[DEFAULT] compute_api_class``) when a
hypervisor should hear about a volume (extend, re-image) or act on it
(swap on migration, online snapshots on remotefs drivers).  api.API records
the first kind as versioned events (events) in a durable spool (outbox),
which delivery sends to KSVD through sinks; it refuses the second kind.
"""
