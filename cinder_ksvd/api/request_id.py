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
"""The request id filter of the shipped api-paste.ini, for every cinder.

cinder 21 and later ship cinder.api.middleware.request_id (oslo.middleware's
filter plus a placeholder request context, so filters before the auth step
log the right request id); cinder 15 and 16 use oslo.middleware's filter
directly. One paste file serves both: this factory takes cinder's filter
where the installed cinder has it, else oslo.middleware's.
"""

import importlib


def _filter_class():
    try:
        module = importlib.import_module('cinder.api.middleware.request_id')
    except ImportError:
        module = importlib.import_module('oslo_middleware.request_id')
    return module.RequestId


def filter_factory(global_conf, **local_conf):
    """paste.filter_factory of [filter:request_id] in api-paste.ini."""
    return _filter_class().factory(global_conf, **local_conf)
