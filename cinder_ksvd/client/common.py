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

"""What every ksvd-cinder command shares: one-line errors, lookups, waits.

Commands are cliff commands (table, json, yaml, value and csv output come
from cliff's formatters).  Their run() turns the exceptions an operator can
meet (unreachable API, bad token, unknown volume, os-brick failures) into
one-line messages; cliff prints them on stderr and exits with status 1.
"""

import json
import re
import time

from cinderclient import exceptions as c_exc
from cinderclient import utils as c_utils
from cliff import columns as c_columns
from cliff import command
from cliff import lister
from cliff import show
from keystoneauth1 import exceptions as ks_exc

ERROR_STATES = ('error', 'error_deleting', 'error_extending',
                'error_restoring', 'error_managing')


class CommandError(Exception):
    """An error the operator must fix; its text is the whole message."""


def one_line(text):
    """text without HTML tags (cinder's fault pages) on a single line."""
    return ' '.join(re.sub(r'<[^>]+>', ' ', str(text)).split())


def describe(exc, endpoint=None):
    """One line for exc, saying what to check where that is known."""
    if isinstance(exc, CommandError):
        return one_line(exc)
    if isinstance(exc, c_exc.Unauthorized):
        return ('authentication failed (HTTP 401): check --token or '
                'KSVD_CINDER_TOKEN')
    if isinstance(exc, c_exc.Forbidden):
        return 'not allowed (HTTP 403): %s' % one_line(exc.message)
    if isinstance(exc, c_exc.NotFound):
        text = one_line(exc.message)
        if text == 'The resource could not be found.':
            # cinder's router found no such path: not a missing volume.
            text += ' Check that --endpoint ends in /v3 (%s)' % endpoint
        return 'not found (HTTP 404): %s' % text
    if isinstance(exc, c_exc.ClientException):
        return '%s (HTTP %s)' % (one_line(exc.message), exc.code)
    if isinstance(exc, c_exc.CommandError):
        return one_line(exc)
    if isinstance(exc, ks_exc.ConnectFailure):
        return ('cannot connect to the ksvd-cinder API at %s: check '
                '--endpoint and that ksvd-cinder-api runs'
                % (endpoint or 'the endpoint'))
    if isinstance(exc, ks_exc.ConnectTimeout):
        return 'timed out connecting to the ksvd-cinder API at %s' % endpoint
    if isinstance(exc, ks_exc.ClientException):
        return 'request to %s failed: %s' % (endpoint, one_line(exc))
    return '%s: %s' % (type(exc).__name__, one_line(exc))


class _Base(object):
    """Mixin: the client from the app, errors as one line."""

    exit_code = 0

    @property
    def cinder(self):
        return self.app.cinder

    def run(self, parsed_args):
        try:
            result = super(_Base, self).run(parsed_args)
        except Exception as exc:
            if getattr(self.app.options, 'debug', False):
                raise
            raise CommandError(describe(exc, self.app.endpoint))
        return self.exit_code or result


class Command(_Base, command.Command):
    pass


class Lister(_Base, lister.Lister):
    pass


class ShowOne(_Base, show.ShowOne):
    pass


def find_volume(cinder, name_or_id):
    return c_utils.find_volume(cinder, name_or_id)


def find_type(cinder, name_or_id):
    return c_utils.find_resource(cinder.volume_types, name_or_id)


def parse_properties(items):
    """['k=v', ...] from --property into a dict."""
    props = {}
    for item in items or ():
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise CommandError('--property needs KEY=VALUE, got %r' % item)
        props[key] = value
    return props


def wait(what, probe, timeout, interval=1.0, sleep=time.sleep,
         clock=time.time):
    """Call probe() until it returns a true value, at most timeout s."""
    deadline = clock() + timeout
    while True:
        result = probe()
        if result:
            return result
        if clock() >= deadline:
            raise CommandError('timed out after %ss waiting for %s'
                               % (timeout, what))
        sleep(interval)


class DictColumn(c_columns.FormattableColumn):
    """key=value, ... in tables; the dict itself in json and yaml."""

    def human_readable(self):
        return ', '.join('%s=%s' % (key, value) for key, value
                         in sorted((self._value or {}).items()))

    def machine_readable(self):
        return dict(self._value or {})


class JsonColumn(c_columns.FormattableColumn):
    """Compact JSON in tables; the structure itself in json and yaml."""

    def human_readable(self):
        return json.dumps(self._value, sort_keys=True)

    def machine_readable(self):
        return self._value


def column(value):
    if isinstance(value, dict):
        return DictColumn(value)
    if isinstance(value, list):
        return JsonColumn(value)
    return value


def show_columns(info):
    """(columns, values) of a dict, keys sorted, for ShowOne."""
    keys = tuple(sorted(info))
    return keys, tuple(column(info[key]) for key in keys)
