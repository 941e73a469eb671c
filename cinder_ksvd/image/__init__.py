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

"""Images without Glance (the [ksvd] image hook).

cinder has no option naming its image service in any release; every caller
looks up get_default_image_service, get_remote_image_service and
GlanceImageService in cinder.image.glance when it runs.  install() points
those three names at service (before any service builds a volume API or
manager); disable() gives the stock ones back when the switch is off.
"""

import importlib
import os

from oslo_log import log as logging

from cinder_ksvd import exception

LOG = logging.getLogger(__name__)

_NAMES = ('GlanceImageService', 'get_default_image_service',
          'get_remote_image_service')
_stock = {}


def _glance():
    # image_utils first: importing cinder.image.glance on its own fails on
    # a circular import (glance <-> image_utils).
    importlib.import_module('cinder.image.image_utils')
    return importlib.import_module('cinder.image.glance')


def install():
    from cinder_ksvd.image import service
    glance = _glance()
    if not _stock:
        for name in _NAMES:
            _stock[name] = getattr(glance, name)
    glance.GlanceImageService = service.ImageService
    glance.get_default_image_service = service.get_default_image_service
    glance.get_remote_image_service = service.get_remote_image_service


def configured(conf):
    from cinder_ksvd.image import service
    group = conf.ksvd_image
    LOG.info('Image service: KSVD store in %(dir)s; URL images %(url)s',
             {'dir': service.store_dir(conf),
              'url': 'on' if group.url_images else 'off'})


def disable(conf):
    """The switch is off: cinder's own Glance client again."""
    if not _stock:
        return
    glance = _glance()
    for name, value in _stock.items():
        setattr(glance, name, value)


def preflight(conf):
    """Refuse a configured store directory that is missing or read-only.

    An unmounted shared store would otherwise fill the local mount point.
    """
    path = conf.ksvd_image.store_dir
    if not path:
        return
    if not os.path.isdir(path):
        raise exception.StartupRefused(
            '[ksvd_image] store_dir %s is not a directory: mount the '
            'image store there or create it' % path)
    if not os.access(path, os.W_OK | os.X_OK):
        raise exception.StartupRefused(
            '[ksvd_image] store_dir %s is not writable by this user' % path)
