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
"""API authentication without Keystone (the ksvdauth paste filter).

There is no [ksvd] switch for it: switching authentication off would mean
stock noauth (everyone is admin), and the pipeline is chosen in
api-paste.ini anyway.  preflight() is run by the API wrappers only.
"""

from cinder_ksvd.api import tokens
from cinder_ksvd import exception
from cinder_ksvd import opts


class TokenFileRefused(exception.StartupRefused):
    """The API must not start with this token file; str() is one line."""


def preflight(conf):
    """Refuse an unreadable, world-writable or malformed token file.

    A missing file is accepted (a first install has no tokens yet): the API
    starts, logs an error and answers 401 until a token is created.
    """
    opts.register_opts(conf)
    path = conf[opts.AUTH_GROUP].token_file
    try:
        tokens.check_file(path)
    except tokens.TokenFileError as exc:
        raise TokenFileRefused('[%s] token_file: %s'
                               % (opts.AUTH_GROUP, exc))
