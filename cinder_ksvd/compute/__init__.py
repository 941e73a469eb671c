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

"""Compute API for cinder without Nova: events to KSVD, clean refusals.

cinder calls its compute API (``[DEFAULT] compute_api_class``, set to
``cinder_ksvd.compute.api.API`` in cinder-dist.conf) when a hypervisor
should hear about a volume (extend, re-image) or act on it (swap on
migration, online snapshots on remotefs drivers).  api.API records the
first kind as versioned events (events) in a durable spool (outbox), which
a worker in cinder-volume (lifecycle) sends to KSVD through sinks; the
second kind it refuses, or in callback mode asks KSVD to do and waits.

This module is the hook (see cinder_ksvd.hooks): install() makes
cinder-volume run the delivery worker, preflight() refuses a compute
configuration that could never deliver.
"""

import os

from oslo_config import cfg
from oslo_log import log as logging

from cinder_ksvd import exception
from cinder_ksvd import opts

LOG = logging.getLogger(__name__)

OUR_CLASS = 'cinder_ksvd.compute.api.API'


class ComputeConfigError(exception.StartupRefused):
    """[ksvd_compute] cannot work as configured."""


def install():
    """Run the delivery worker with every cinder-volume service."""
    from cinder import service

    from cinder_ksvd.compute import attached
    from cinder_ksvd.compute import lifecycle
    lifecycle.wrap_service(service.Service)
    attached.install()


def _register_class_option():
    # cinder.compute registers [DEFAULT] compute_api_class on cfg.CONF;
    # cinder-manage never imports it otherwise.
    from cinder import compute  # noqa: F401


def configured(conf):
    from cinder_ksvd.compute import lifecycle
    _register_class_option()
    if not lifecycle.uses_our_class(conf):
        LOG.warning('[ksvd] compute is on but [DEFAULT] compute_api_class '
                    'is %s: cinder talks to that class, KSVD hears no '
                    'compute event', conf.compute_api_class)
        return
    from cinder_ksvd.compute import logtext
    logtext.install()
    group = conf[opts.COMPUTE_GROUP]
    LOG.info('Compute events go to %(sinks)s; callback mode %(mode)s; '
             'attachment checks %(mc)s',
             {'sinks': ', '.join(group.sinks) or 'nowhere',
              'mode': 'on (timeout %.0f s)' % group.callback_timeout
              if group.callback_mode else 'off (migration of attached '
              'volumes and online snapshots are refused)',
              'mc': 'ask %s' % group.mc_api_url if group.mc_api_url
              else 'off (attachments with an instance id are deletable)'})


def disable(conf):
    from cinder_ksvd.compute import lifecycle
    from cinder_ksvd.compute import logtext
    logtext.uninstall()
    _register_class_option()
    if lifecycle.uses_our_class(conf):
        LOG.warning('[ksvd] compute is off but compute_api_class is %s: '
                    'events are queued in the outbox and nobody delivers '
                    'them', conf.compute_api_class)


def _http_url(value):
    return bool(value) and value.lower().startswith(('http://', 'https://'))


def _writable_dir(path):
    """path is (or can be created as) a directory this user can write."""
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        parent = os.path.dirname(probe)
        if parent == probe:
            return False
        probe = parent
    return os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK)


def problems(conf):
    """What keeps [ksvd_compute] from working, as one-line reasons."""
    from cinder_ksvd.compute import outbox
    group = conf[opts.COMPUTE_GROUP]
    found = []
    if not group.sinks:
        found.append('sinks is empty: events would never leave the outbox')
    if 'webhook' in group.sinks:
        if not _http_url(group.webhook_url):
            found.append('sinks has webhook but webhook_url is not an '
                         'http:// or https:// URL (%r)' % group.webhook_url)
        if not group.webhook_secret:
            found.append('sinks has webhook but webhook_secret is not set')
    if group.webhook_ca_file and not os.access(group.webhook_ca_file,
                                               os.R_OK):
        found.append('webhook_ca_file %s is not readable'
                     % group.webhook_ca_file)
    if 'notifications' in group.sinks:
        drivers = [d for d in conf.oslo_messaging_notifications.driver
                   if d and d != 'noop']
        if not drivers:
            found.append('sinks has notifications but '
                         '[oslo_messaging_notifications] driver is not set '
                         '(e.g. messagingv2)')
    if group.mc_api_url:
        if not _http_url(group.mc_api_url):
            found.append('mc_api_url is not an http:// or https:// URL '
                         '(%r)' % group.mc_api_url)
        if not group.webhook_secret:
            found.append('mc_api_url is set but webhook_secret (which '
                         'signs its queries) is not')
    path = outbox.path_from_conf(conf)
    if not _writable_dir(path):
        found.append('outbox_dir %s cannot be created or written by this '
                     'user (uid %d)' % (path, os.getuid()))
    return found


def preflight(conf):
    """Refuse to start with a compute configuration that cannot deliver."""
    # The owners' own option objects: registering them again on cfg.CONF
    # (as tools may pass it) is a no-op, a look-alike would be a conflict.
    from cinder import compute as cinder_compute
    import oslo_messaging.opts
    conf.register_opts(cinder_compute.compute_opts)
    for group, group_opts in oslo_messaging.opts.list_opts():
        if group == 'oslo_messaging_notifications':
            conf.register_opts(group_opts, group=group)
    from cinder_ksvd.compute import lifecycle
    try:
        if not lifecycle.uses_our_class(conf):
            return
        found = problems(conf)
    except (cfg.Error, ValueError) as exc:
        raise ComputeConfigError('[%s] %s' % (
            opts.COMPUTE_GROUP, str(exc).strip().splitlines()[0]))
    if found:
        raise ComputeConfigError('[%s] %s' % (opts.COMPUTE_GROUP,
                                              '; '.join(found)))
