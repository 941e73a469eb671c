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

"""ksvd-cinder: the operators' and the MC's command line for ksvd-cinder.

Built on python-cinderclient (v3, microversion negotiated with the server)
with a keystoneauth1 session holding a fixed endpoint and token: the token
goes in X-Auth-Token as with keystoneauth1's token_endpoint.Token, which is
what ksvd-cinder's API expects (a ksvd token, or user:project under stock
noauth).  cliff gives the commands, help and output formats.
"""

import logging
import os
import re
import sys
import warnings

from cliff import app
from cliff import commandmanager

from cinder_ksvd.client import attach
from cinder_ksvd.client import common
from cinder_ksvd.client import events
from cinder_ksvd.client import volume_types
from cinder_ksvd.client import volumes

DEFAULT_ENDPOINT = 'http://127.0.0.1:8776/v3'
# attachments need 3.27, "attachment complete" 3.44
MIN_API_VERSION = '3.44'

COMMANDS = (
    ('type list', volume_types.ListType),
    ('type show', volume_types.ShowType),
    ('type create', volume_types.CreateType),
    ('type delete', volume_types.DeleteType),
    ('volume list', volumes.ListVolume),
    ('volume show', volumes.ShowVolume),
    ('volume create', volumes.CreateVolume),
    ('volume delete', volumes.DeleteVolume),
    ('volume extend', volumes.ExtendVolume),
    ('volume connection', volumes.VolumeConnection),
    ('attach', attach.Attach),
    ('detach', attach.Detach),
    ('events listen', events.Listen),
)


def _env(*names, **kwargs):
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return kwargs.get('default')


def normalize_endpoint(url):
    """http(s)://HOST:PORT[/PATH]; a bare HOST:PORT URL gets /v3."""
    match = re.match(r'^(https?://[^/?#]+)(/[^?#]*)?$', url or '')
    if not match:
        raise common.CommandError(
            'bad --endpoint %r: give http(s)://HOST:PORT/v3' % url)
    if not (match.group(2) or '').strip('/'):
        return match.group(1) + '/v3'
    return url.rstrip('/')


def make_client(endpoint, token, api_version=None, insecure=False,
                cacert=None, timeout=None):
    """A cinderclient v3 Client on a keystoneauth1 token session.

    api_version None negotiates: the highest microversion both this
    cinderclient and the server speak.
    """
    from cinderclient import api_versions
    from cinderclient import client as c_client
    from keystoneauth1 import session
    from keystoneauth1 import token_endpoint

    auth = token_endpoint.Token(endpoint, token)
    verify = False if insecure else (cacert or True)
    sess = session.Session(auth=auth, verify=verify, timeout=timeout)
    if not api_version:
        probe = c_client.Client('3.0', session=sess)
        api_version = api_versions.discover_version(
            probe, api_versions.APIVersion(api_versions.MAX_VERSION))
        if api_version < api_versions.APIVersion(MIN_API_VERSION):
            raise common.CommandError(
                'the server speaks API %s at most; ksvd-cinder needs %s'
                % (api_version.get_string(), MIN_API_VERSION))
        api_version = api_version.get_string()
    return c_client.Client(api_version, session=sess)


class Shell(app.App):
    """cliff application; builds the client on first use."""

    NAME = 'ksvd-cinder'
    DEFAULT_VERBOSE_LEVEL = 0
    # Libraries chatty at WARNING (os-brick reports every protocol this host
    # lacks); shown with -v.
    QUIET_LOGGERS = ('os_brick', 'oslo_privsep', 'keystoneauth', 'urllib3')
    client_factory = staticmethod(make_client)

    def __init__(self, stdin=None, stdout=None, stderr=None):
        manager = commandmanager.CommandManager('ksvd_cinder.cli')
        for name, cls in COMMANDS:
            manager.add_command(name, cls)
        super(Shell, self).__init__(
            description=__doc__.strip().splitlines()[0],
            version=_version(), command_manager=manager, stdin=stdin,
            stdout=stdout, stderr=stderr)
        self._cinder = None

    def build_option_parser(self, description, version,
                            argparse_kwargs=None):
        parser = super(Shell, self).build_option_parser(
            description, version, argparse_kwargs)
        parser.add_argument(
            '--endpoint', metavar='URL',
            default=_env('KSVD_CINDER_ENDPOINT', 'OS_ENDPOINT',
                         default=DEFAULT_ENDPOINT),
            help='ksvd-cinder API, e.g. http://HOST:8776/v3 (env '
            'KSVD_CINDER_ENDPOINT or OS_ENDPOINT; default %s)'
            % DEFAULT_ENDPOINT)
        parser.add_argument(
            '--token', default=_env('KSVD_CINDER_TOKEN', 'OS_TOKEN'),
            help='API token (env KSVD_CINDER_TOKEN or OS_TOKEN)')
        parser.add_argument(
            '--api-version', metavar='3.X',
            default=_env('KSVD_CINDER_API_VERSION'),
            help='volume API microversion (env KSVD_CINDER_API_VERSION; '
            'default: the highest the server and client share)')
        parser.add_argument('--insecure', action='store_true',
                            help='do not verify the server\'s certificate')
        parser.add_argument('--cacert', metavar='FILE',
                            help='CA bundle to verify the server with')
        parser.add_argument('--http-timeout', type=float, default=60.0,
                            help='seconds per HTTP request '
                            '(default %(default)s)')
        return parser

    def run(self, argv):
        # No command: help, never cliff's interactive shell (scripts and
        # the MC call this without a terminal).
        try:
            return super(Shell, self).run(list(argv) or ['--help'])
        except SystemExit as exc:   # --help, --version, usage errors
            if exc.code is None:
                return 0
            return exc.code if isinstance(exc.code, int) else 1

    def configure_logging(self):
        super(Shell, self).configure_logging()
        if self.options.verbose_level == 0:
            for name in self.QUIET_LOGGERS:
                logging.getLogger(name).setLevel(logging.ERROR)

    @property
    def endpoint(self):
        return getattr(getattr(self, 'options', None), 'endpoint', None)

    @property
    def cinder(self):
        if self._cinder is None:
            opts = self.options
            if not opts.token:
                raise common.CommandError(
                    'no token: give --token or set KSVD_CINDER_TOKEN')
            self._cinder = self.client_factory(
                normalize_endpoint(opts.endpoint), opts.token,
                opts.api_version, opts.insecure, opts.cacert,
                opts.http_timeout)
        return self._cinder


def _version():
    try:
        import pbr.version
        return pbr.version.VersionInfo('cinder-ksvd').version_string()
    except Exception:
        return 'unknown'


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not sys.warnoptions:
        # Libraries warning about themselves (eventlet, under oslo.privsep,
        # warns on import) are not the operator's business.
        warnings.simplefilter('ignore', DeprecationWarning)
        warnings.filterwarnings('ignore', module='eventlet')
        warnings.filterwarnings('ignore', message='(?s).*[Ee]ventlet')
    return Shell().run(argv)


if __name__ == '__main__':
    sys.exit(main())
