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

A cinder built with patches/ has [DEFAULT] image_service_class instead.
install() finds that option registered on cinder's config and steps aside:
it patches nothing and makes our ImageService the option's default (a value
in cinder.conf still wins); disable() puts Glance back as the default.
"""

import importlib
import os

from oslo_log import log as logging

from cinder_ksvd import exception

LOG = logging.getLogger(__name__)

_NAMES = ('GlanceImageService', 'get_default_image_service',
          'get_remote_image_service')
# The image_service_class values (patches/0001-image-service-class.patch).
SERVICE_CLASS = 'cinder_ksvd.image.service.ImageService'
STOCK_CLASS = 'cinder.image.glance.GlanceImageService'
_stock = {}
# The config object of a cinder that has image_service_class, once found.
_patched = {}


def _glance():
    # image_utils first: importing cinder.image.glance on its own fails on
    # a circular import (glance <-> image_utils).
    importlib.import_module('cinder.image.image_utils')
    return importlib.import_module('cinder.image.glance')


def has_image_service_class(glance):
    """True when this cinder has [DEFAULT] image_service_class (patched)."""
    conf = getattr(glance, 'CONF', None)
    try:
        return conf is not None and 'image_service_class' in conf
    except Exception:  # not a ConfigOpts
        return False


def install():
    from cinder_ksvd.image import service
    glance = _glance()
    if _patched or has_image_service_class(glance):
        _patched['conf'] = glance.CONF
        glance.CONF.set_default('image_service_class', SERVICE_CLASS)
        return
    if not _stock:
        for name in _NAMES:
            _stock[name] = getattr(glance, name)
    glance.GlanceImageService = service.ImageService
    glance.get_default_image_service = service.get_default_image_service
    glance.get_remote_image_service = service.get_remote_image_service


def configured(conf):
    from cinder_ksvd.image import service
    group = conf.ksvd_image
    if _patched:
        chosen = _patched['conf'].image_service_class
        LOG.info('Image service: this cinder has [DEFAULT] '
                 'image_service_class (patched cinder, patches/), so the '
                 'runtime image hook steps aside; image_service_class = %s',
                 chosen)
        if chosen != SERVICE_CLASS:
            LOG.warning('[ksvd] image is on but [DEFAULT] image_service_class '
                        'is %s: cinder uses that class; set it to %s or '
                        'remove it to use the KSVD image store',
                        chosen, SERVICE_CLASS)
            return
    url = 'off'
    if group.url_images:
        url = 'on, for roles %s, under %s' % (
            ', '.join(group.url_roles), ', '.join(group.url_allowed_prefixes))
    LOG.info('Image service: KSVD store in %(dir)s; URL images %(url)s',
             {'dir': service.store_dir(conf), 'url': url})


def disable(conf):
    """The switch is off: cinder's own Glance client again."""
    if _patched:
        _patched['conf'].set_default('image_service_class', STOCK_CLASS)
        return
    if not _stock:
        return
    glance = _glance()
    for name, value in _stock.items():
        setattr(glance, name, value)


def _url_preflight(group):
    """URL images on: prefixes, roles and networks must be set and valid."""
    from cinder_ksvd.api import tokens
    from cinder_ksvd.image import httpstore
    if not group.url_allowed_prefixes:
        raise exception.StartupRefused(
            '[ksvd_image] url_images is on but url_allowed_prefixes is '
            'empty: list the URL prefixes images may come from, or switch '
            'url_images off')
    if not group.url_roles:
        raise exception.StartupRefused(
            '[ksvd_image] url_images is on but url_roles is empty: name the '
            'token roles that may use image URLs, or switch url_images off')
    unknown = [r for r in group.url_roles if r not in tokens.ROLES]
    if unknown:
        raise exception.StartupRefused(
            '[ksvd_image] url_roles: unknown role(s) %s (known: %s)'
            % (', '.join(unknown), ', '.join(tokens.ROLES)))
    for name, parse, values in (
            ('url_allowed_prefixes', httpstore.parse_prefix,
             group.url_allowed_prefixes),
            ('url_allowed_networks', httpstore.parse_network,
             group.url_allowed_networks)):
        for value in values:
            try:
                parse(value)
            except ValueError as exc:
                raise exception.StartupRefused('[ksvd_image] %s: %s'
                                               % (name, exc))


def preflight(conf):
    """Refuse a configured store directory that is missing or read-only.

    An unmounted shared store would otherwise fill the local mount point.
    URL images that are on need their allow-list and roles.
    """
    if conf.ksvd_image.url_images:
        _url_preflight(conf.ksvd_image)
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
