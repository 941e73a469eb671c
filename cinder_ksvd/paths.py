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
"""Where ksvd-cinder's own files live on a host, a package or a venv.

Packages install read-only defaults in /usr/share/ksvd-cinder and the
operator's files in /etc/ksvd-cinder; a pip/venv install puts the same
defaults in <prefix>/share/ksvd-cinder.  Everything that looks for one of
those files asks this module, so the search order is written once.
"""

import os
import sys

ETC_DIR = '/etc/ksvd-cinder'
SHARE_DIR = '/usr/share/ksvd-cinder'
DIST_CONF = 'cinder-dist.conf'
MAIN_CONF = 'cinder.conf'
CONF_D = 'cinder.conf.d'
PASTE_INI = 'api-paste.ini'


def search_dirs():
    """Directories searched for shipped files, most specific first."""
    dirs = [ETC_DIR, SHARE_DIR]
    for prefix in (sys.prefix, getattr(sys, 'base_prefix', sys.prefix)):
        for sub in ('share/ksvd-cinder', 'etc/ksvd-cinder'):
            path = os.path.join(prefix, sub)
            if path not in dirs:
                dirs.append(path)
    return dirs


def find(name, dirs=None):
    """Return the first existing path of file name, or None."""
    for directory in search_dirs() if dirs is None else dirs:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def dist_conf():
    """The read-only defaults file (never in /etc: operators edit /etc)."""
    return find(DIST_CONF, [d for d in search_dirs() if d != ETC_DIR])


def cinder_data_file(name):
    """A file cinder itself ships in its etc/cinder folder, or None.

    Distribution packages put it in /etc/cinder; cinder's wheel installs it
    under <prefix>/etc/cinder.
    """
    dirs = ['/etc/cinder']
    for prefix in (sys.prefix, getattr(sys, 'base_prefix', sys.prefix)):
        dirs.append(os.path.join(prefix, 'etc', 'cinder'))
    return find(name, dirs)


def default_config_args():
    """Config arguments used when the command line names no config.

    The same layering the systemd units pass explicitly: the shipped
    defaults, then /etc/ksvd-cinder/cinder.conf, then cinder.conf.d.
    Stock cinder would read /etc/cinder/cinder.conf instead, which belongs
    to the distribution's own cinder services.
    """
    args = []
    dist = dist_conf()
    if dist:
        args += ['--config-file', dist]
    main = os.path.join(ETC_DIR, MAIN_CONF)
    if os.path.isfile(main):
        args += ['--config-file', main]
    conf_d = os.path.join(ETC_DIR, CONF_D)
    if os.path.isdir(conf_d):
        args += ['--config-dir', conf_d]
    return args


def has_config_args(argv):
    """True when argv already names a config file or directory."""
    for arg in argv:
        for flag in ('--config-file', '--config-dir'):
            if arg == flag or arg.startswith(flag + '='):
                return True
    return False
