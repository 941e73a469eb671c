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
"""WSGI entry point: cinder's API application with ksvd-cinder's hooks.

For uwsgi, mod_wsgi or gunicorn deployments instead of ksvd-cinder-api.
Config is layered as for the console scripts; a bad config raises a
RuntimeError with the one-line reason, which the WSGI server logs.
"""

import sys

from cinder_ksvd.cmd import common
from cinder_ksvd.cmd import preflight


def initialize_application():
    """Build and return the osapi_volume WSGI application."""
    from cinder.wsgi import wsgi
    from cinder_ksvd import hooks
    hooks.install()
    argv = common.config_argv(sys.argv[1:])
    if argv is None:
        raise RuntimeError('ksvd-cinder-wsgi: no configuration found')
    try:
        preflight.check(argv, 'api')
    except preflight.ConfigProblem as exc:
        raise RuntimeError('ksvd-cinder-wsgi: %s' % exc)
    sys.argv = sys.argv[:1] + argv
    return wsgi.initialize_application()
