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
"""Configuration checks run before a stock cinder main() starts.

Stock cinder reports a missing config file, a bad database URL or a broken
backend as a multi-page traceback, sometimes only after forking workers (the
volume service logs the error per backend and keeps going).  These checks
read the same files with a private ConfigOpts, so the global CONF stays
untouched, and turn each problem into one line and exit status 78
(EX_CONFIG, which the systemd units list in RestartPreventExitStatus).
"""

import os

from oslo_config import cfg
from oslo_utils import importutils

EX_CONFIG = 78
DEFAULT_VOLUME_DRIVER = 'cinder.volume.drivers.lvm.LVMVolumeDriver'

# Where cinder-rootwrap (exec_dirs) finds tools a service user's PATH
# often lacks.
SBIN_DIRS = ('/usr/local/sbin', '/usr/sbin', '/sbin')

# (tool, what the backend needs it for, packages that have it, driver
# classes that need it: None = every driver but cinder's test fakes).
TOOLS = (
    ('qemu-img', 'images, clones, extend and snapshots',
     'Debian/Ubuntu: qemu-utils, EL: qemu-img', None),
    ('mount.nfs', 'mounting its shares',
     'Debian/Ubuntu: nfs-common, EL: nfs-utils',
     ('cinder.volume.drivers.nfs.NfsDriver',)),
)


class ConfigProblem(Exception):
    """A configuration error an operator must fix; str() is one line."""


def _config_args(argv):
    """(flag, path) pairs for --config-file/--config-dir, in argv order.

    Order matters: oslo.config reads them in command-line order and later
    ones win, so the check must see the same layering cinder will.
    """
    pairs = []
    args = list(argv)
    for index, arg in enumerate(args):
        for flag in ('--config-file', '--config-dir'):
            if arg == flag and index + 1 < len(args):
                pairs.append((flag, args[index + 1]))
            elif arg.startswith(flag + '='):
                pairs.append((flag, arg[len(flag) + 1:]))
    return pairs


def _check_readable(files, dirs):
    for path in files:
        if not os.path.exists(path):
            raise ConfigProblem('config file %s does not exist' % path)
        if not os.path.isfile(path):
            raise ConfigProblem('config file %s is not a file' % path)
        if not os.access(path, os.R_OK):
            raise ConfigProblem('config file %s is not readable by this '
                                'user (uid %d)' % (path, os.getuid()))
    for path in dirs:
        if not os.path.isdir(path):
            raise ConfigProblem('config dir %s does not exist' % path)
        if not os.access(path, os.R_OK | os.X_OK):
            raise ConfigProblem('config dir %s is not readable by this '
                                'user (uid %d)' % (path, os.getuid()))


def load(argv):
    """Parse the config files named in argv into a private ConfigOpts."""
    pairs = _config_args(argv)
    files = [path for flag, path in pairs if flag == '--config-file']
    dirs = [path for flag, path in pairs if flag == '--config-dir']
    _check_readable(files, dirs)
    conf = cfg.ConfigOpts()
    conf.register_opts([
        cfg.StrOpt('state_path', default='/var/lib/cinder'),
        cfg.ListOpt('enabled_backends', default=[]),
    ])
    conf.register_opt(cfg.StrOpt('connection', secret=True),
                      group='database')
    conf.register_opt(cfg.StrOpt('volume_driver'), group='backend_defaults')
    args = []
    for flag, path in pairs:
        args += [flag, path]
    try:
        conf(args, project='cinder', default_config_files=[],
             default_config_dirs=[], use_env=False)
    except cfg.ConfigFileParseError as exc:
        raise ConfigProblem('cannot parse config file %s: %s'
                            % (exc.config_file, exc.msg))
    except cfg.Error as exc:
        raise ConfigProblem(str(exc).strip().splitlines()[0])
    return conf


def _value(conf, name, group=None):
    try:
        return conf[group][name] if group else conf[name]
    except (cfg.Error, ValueError) as exc:
        where = '[%s] %s' % (group or 'DEFAULT', name)
        raise ConfigProblem('%s: %s' % (where, str(exc).splitlines()[0]))


def check_database(conf):
    """The URL parses, its dialect and DB driver import, sqlite dir exists."""
    url = _value(conf, 'connection', 'database')
    if not url:
        raise ConfigProblem('[database] connection is not set')
    from sqlalchemy.engine import url as sa_url
    from sqlalchemy import exc as sa_exc
    try:
        parsed = sa_url.make_url(url)
    except (sa_exc.ArgumentError, ValueError) as exc:
        raise ConfigProblem('[database] connection is not a database URL '
                            '(%s)' % str(exc).splitlines()[0])
    shown = repr(parsed)  # URL's repr masks the password
    try:
        dialect = parsed.get_dialect()
    except sa_exc.NoSuchModuleError:
        raise ConfigProblem('[database] connection %s: unknown database '
                            'type %r' % (shown, parsed.drivername))
    loader = getattr(dialect, 'import_dbapi', None) or dialect.dbapi
    try:
        loader()
    except ImportError as exc:
        raise ConfigProblem('[database] connection %s: the Python driver '
                            'for %r is not installed (%s)'
                            % (shown, parsed.drivername, exc))
    if (parsed.drivername.startswith('sqlite') and parsed.database
            and parsed.database != ':memory:'):
        directory = os.path.dirname(os.path.abspath(parsed.database))
        if not os.path.isdir(directory):
            raise ConfigProblem('[database] connection %s: directory %s '
                                'does not exist' % (shown, directory))
        if not os.access(directory, os.W_OK | os.X_OK):
            raise ConfigProblem('[database] connection %s: directory %s is '
                                'not writable by this user (uid %d)'
                                % (shown, directory, os.getuid()))


def find_tool(name):
    """Path of an executable name in PATH or the sbin dirs, or None."""
    dirs = os.environ.get('PATH', '').split(os.pathsep) + list(SBIN_DIRS)
    for directory in dirs:
        if not directory:
            continue
        path = os.path.join(directory, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


def needed_tools(cls):
    """(tool, reason, packages) a driver class needs on this host."""
    if not isinstance(cls, type) or cls.__module__.startswith(
            'cinder.tests.'):
        return []  # cinder's fake drivers run no command
    names = set('%s.%s' % (klass.__module__, klass.__name__)
                for klass in cls.__mro__)
    return [(tool, reason, packages)
            for tool, reason, packages, classes in TOOLS
            if classes is None or names.intersection(classes)]


def check_tools(backend_classes):
    """Every tool the backends need is installed; one line if not.

    backend_classes: (backend, driver path, class).  Stock cinder starts
    without them and fails each operation later ('No valid backend').
    """
    lacking = []
    for backend, driver, cls in backend_classes:
        missing = [(tool, reason, packages)
                   for tool, reason, packages in needed_tools(cls)
                   if not find_tool(tool)]
        for tool, reason, packages in missing:
            lacking.append('[%s] %s needs %s for %s (%s)'
                           % (backend, driver.rsplit('.', 1)[-1], tool,
                              reason, packages))
    if lacking:
        raise ConfigProblem('missing tools, not found in PATH or %s: %s'
                            % (':'.join(SBIN_DIRS), '; '.join(lacking)))


def check_backends(conf):
    """Each enabled backend has a section whose volume_driver imports.

    Then the tools those drivers need (qemu-img, mount.nfs) must exist.
    """
    backends = [b for b in _value(conf, 'enabled_backends') if b]
    sections = set(conf.list_all_sections())
    if backends:
        # Drivers of older cinder (21.x, Zed: the NFS driver) use
        # cinder.objects.Volume at import time; cinder-volume registers
        # the objects itself, but only after this check.
        from cinder import objects
        objects.register_all()
    default_driver = _value(conf, 'volume_driver', 'backend_defaults')
    loaded = []
    for backend in backends:
        if backend not in sections:
            raise ConfigProblem('enabled_backends names %r but no config '
                                'file has a [%s] section' % (backend, backend))
        conf.register_opt(cfg.StrOpt('volume_driver'), group=backend)
        driver = (_value(conf, 'volume_driver', backend) or default_driver
                  or DEFAULT_VOLUME_DRIVER)
        try:
            cls = importutils.import_class(driver)
        except Exception as exc:  # ImportError, AttributeError, any raise
            raise ConfigProblem('[%s] volume_driver %s cannot be loaded: '
                                '%s: %s' % (backend, driver,
                                            type(exc).__name__,
                                            str(exc).splitlines()[0]
                                            if str(exc) else ''))
        loaded.append((backend, driver, cls))
    check_tools(loaded)
    return backends


def check(argv, service):
    """Run the checks service needs; raise ConfigProblem on the first."""
    conf = load(argv)
    check_database(conf)
    # Imported here: hooks pull in the integrations (and cinder).
    from cinder_ksvd import exception
    from cinder_ksvd import hooks
    try:
        hooks.preflight(conf)
    except exception.StartupRefused as exc:
        raise ConfigProblem(str(exc))
    if service in ('api', 'all'):
        # Not a hook: only the API reads the token file.
        from cinder_ksvd import api
        try:
            api.preflight(conf)
        except exception.StartupRefused as exc:
            raise ConfigProblem(str(exc))
    if (service in ('volume', 'backup', 'all')
            and hooks.switched_on(conf, 'cluster')):
        # Only these start cinder's tooz coordinator.
        from cinder_ksvd import cluster
        try:
            cluster.check_coordination(conf)
        except exception.StartupRefused as exc:
            raise ConfigProblem(str(exc))
    if service == 'volume' and not check_backends(conf):
        raise ConfigProblem('[DEFAULT] enabled_backends is empty: list at '
                            'least one backend and give each a section '
                            'with its volume_driver')
    if service == 'all':
        check_backends(conf)
    return conf
