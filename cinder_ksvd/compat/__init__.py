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

"""Driver compat shims (the [ksvd] compat hook); see doc/driver-compat.md.

Drivers written for another Python or another cinder release load through
an import finder (importer) that is scoped to the driver modules listed in
[ksvd_compat] modules and driver_locations, plus cinder-release shims that
only add names cinder lacks (release) and known-driver fixups (fixups).
A warning a cinder/oslo.messaging release mix repeats is logged once
(logfilters).

install() does nothing: the finder needs the option values, so it is put
in place by preflight() (the wrappers' checks, which load each backend's
driver) and by configured() (the service itself).
"""

import os

from oslo_log import log as logging

from cinder_ksvd import exception

LOG = logging.getLogger(__name__)


def build_finder(conf):
    """A CompatFinder for conf's [ksvd_compat] options.

    Raises exception.StartupRefused with a one-line reason on a bad
    driver_locations entry.
    """
    from cinder_ksvd.compat import fixups
    from cinder_ksvd.compat import importer
    group = conf.ksvd_compat
    locations = {}
    for entry in group.driver_locations:
        try:
            package, location = importer._split_location(entry)
            directory = importer.resolve_location(location)
        except ValueError as exc:
            raise exception.StartupRefused(str(exc))
        if not os.path.isdir(directory):
            raise exception.StartupRefused(
                '[ksvd_compat] driver_locations: %s is not a directory: '
                'install the driver there or correct the entry %s'
                % (directory, entry))
        locations[package] = directory
    return importer.CompatFinder(
        prefixes=[m for m in group.modules if m], locations=locations,
        py2_idioms=group.py2_idioms, fixups=fixups.apply, conf=conf,
        aliases=group.release_shims)


def activate(conf):
    """Put the finder for conf in place and add missing cinder names."""
    from cinder_ksvd.compat import importer
    from cinder_ksvd.compat import release
    finder = importer.install(build_finder(conf))
    added = release.apply() if conf.ksvd_compat.release_shims else []
    return finder, added


def configured(conf):
    from cinder_ksvd.compat import logfilters
    finder, added = activate(conf)
    logfilters.install()
    LOG.info('Driver compat: shimmed modules: %s; mapped packages: %s; '
             'cinder names added: %s',
             ', '.join(finder.prefixes) or 'none',
             ', '.join('%s=%s' % item for item in
                       sorted(finder.locations.items())) or 'none',
             ', '.join(added) or 'none')


def preflight(conf):
    activate(conf)


def disable(conf):
    from cinder_ksvd.compat import importer
    from cinder_ksvd.compat import logfilters
    importer.uninstall()
    logfilters.uninstall()
