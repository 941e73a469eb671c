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

"""Unit tests run eventlet-patched, like the cinder services they test.

Some tests import cinder.cmd.*, which monkey-patches at import; patching
first, before any test module imports ssl, requests or threading, keeps
the process the same whatever order tests run in (ssl imported before the
patch recurses forever in eventlet's green SSLContext).  The db-zed
environment has neither cinder nor eventlet and runs unpatched, and so do
the loopback test servers' child interpreters (KSVD_TESTS_UNPATCHED=1): a
plain threaded server there, whatever eventlet release is installed.
"""

import os

try:
    import eventlet
except ImportError:
    eventlet = None
if os.environ.get('KSVD_TESTS_UNPATCHED') == '1':
    eventlet = None

if eventlet is not None:
    eventlet.monkey_patch()
