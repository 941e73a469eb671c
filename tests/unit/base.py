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

"""Base class of the unit tests: private config objects and temp files.

Also small helpers that keep the tests portable to the legacy tier's
interpreters (Python 2.7 with cinder 15, Python 3.9 with cinder 16,
SQLAlchemy 1.3): see tests/legacy/unit_runner.py.
"""

import errno
import io
import os
import sys

import fixtures
from oslo_config import cfg
from oslotest import base


class TestCase(base.BaseTestCase):
    """oslotest's TestCase with helpers for config and files.

    Tests never touch the global cfg.CONF: new_conf() gives each test its
    own ConfigOpts, cleared when the test ends.  sys.meta_path is restored
    after each test (the compat hook, run by any test that runs every
    hook's preflight or configured, puts an import finder there).
    """

    def setUp(self):
        super(TestCase, self).setUp()
        meta_path = list(sys.meta_path)
        self.addCleanup(sys.meta_path.__setitem__, slice(None), meta_path)

    def new_conf(self):
        """A fresh ConfigOpts, private to this test."""
        conf = cfg.ConfigOpts()
        self.addCleanup(conf.clear)
        return conf

    def make_tempdir(self):
        """A new empty directory, removed when the test ends."""
        return self.useFixture(fixtures.TempDir()).path

    def write_file(self, directory, name, text=''):
        """Write text to directory/name and return the path."""
        path = os.path.join(directory, name)
        with open(path, 'w') as handle:
            handle.write(text)
        return path


def sql(conn, text, *params):
    """Run one textual SQL statement on a SQLAlchemy Connection.

    Connection.exec_driver_sql is SQLAlchemy 1.4+; before it (1.3, the
    legacy tier) a plain string goes to Connection.execute.
    """
    run = getattr(conn, 'exec_driver_sql', None)
    if run is not None:
        return run(text, *params)
    return conn.execute(text, *params)


class Namespace(object):
    """types.SimpleNamespace (py3 only) for test doubles."""

    def __init__(self, **kwargs):
        self.__dict__.update(kwargs)

    def __repr__(self):
        items = sorted(vars(self).items())
        return 'Namespace(%s)' % ', '.join(
            '%s=%r' % (key, value) for key, value in items)

    def __eq__(self, other):
        return (isinstance(other, Namespace) and
                self.__dict__ == other.__dict__)

    def __ne__(self, other):
        return not self == other


def makedirs(path):
    """os.makedirs(path, exist_ok=True) on Python 2 too."""
    try:
        os.makedirs(path)
    except OSError as exc:
        if exc.errno != errno.EEXIST or not os.path.isdir(path):
            raise


try:
    FileNotFoundError = FileNotFoundError
except NameError:  # Python 2
    FileNotFoundError = OSError


if sys.version_info[0] == 2:
    class StringIO(io.StringIO):
        """io.StringIO that takes the str (bytes) Python 2 code prints.

        What the product writes to sys.stdout/stderr on Python 2 is str
        (bytes) or unicode; a real stream takes both, io.StringIO only the
        latter.  Bytes are decoded as UTF-8 (not ascii) so a non-ascii
        byte string still shows up in the test's output.
        """

        def write(self, text):
            if isinstance(text, bytes):
                text = text.decode('utf-8')
            return super(StringIO, self).write(text)
else:
    StringIO = io.StringIO
