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
"""Active-active cinder-volume: coordinator check and dead-peer cleanup.

Several cinder-volume processes on different hosts manage one backend when
they share a [DEFAULT] cluster name and a distributed [coordination]
backend_url (tooz: etcd3, redis, mysql); cinder refuses drivers without
SUPPORTS_ACTIVE_ACTIVE.  Work a dead member left in a transitional state
is only cleaned through cinder's workers cleanup; in stock cinder somebody
must call the workers cleanup API.  Here every clustered cinder-volume
watches its peers (the [ksvd] cluster hook, see watcher.py) and cleans a
peer whose heartbeat is older than service_down_time.
"""

import logging as std_logging
import re

from oslo_log import log as logging

from cinder_ksvd import exception

LOG = logging.getLogger(__name__)

_PASSWORD = re.compile(r'(://[^:/@]*:)[^@/]*@')


def masked(url):
    """backend_url with any password replaced by ***."""
    return _PASSWORD.sub(r'\1***@', url)


def install():
    from cinder_ksvd.cluster import watcher
    watcher.install()


def configured(conf):
    from cinder_ksvd.cluster import watcher
    watcher.enable()


def disable(conf):
    from cinder_ksvd.cluster import watcher
    watcher.disable()


def check_coordination(conf, timeout=10):
    """Refuse a backend_url tooz cannot load or reach (one line).

    file:// (the packaged single-node default) is only checked for a
    usable directory by cinder itself.  Called for the services that start
    cinder's coordinator (volume, backup, all) before the stock main().
    """
    from oslo_config import cfg
    try:
        # Unset means cinder's file:// default: nothing to reach.
        conf.register_opt(cfg.StrOpt('backend_url', secret=True),
                          group='coordination')
    except cfg.DuplicateOptError:  # cinder's own, on the global CONF
        pass
    try:
        url = conf.coordination.backend_url
    except (cfg.Error, ValueError) as exc:
        raise exception.StartupRefused('[coordination] backend_url: %s'
                                       % str(exc).splitlines()[0])
    if not url or url.startswith('file://'):
        return
    shown = masked(url)
    hint = ('use e.g. etcd3+http://HOST:2379, redis://HOST:6379 or '
            'mysql://USER:PASS@HOST/DB')
    if '://' not in url:
        raise exception.StartupRefused(
            '[coordination] backend_url %s is not a URL: %s' % (shown, hint))
    from tooz import coordination
    import uuid
    member = ('ksvd-preflight-%s' % uuid.uuid4().hex[:8]).encode('ascii')
    # stevedore logs "Could not load ..." itself; before logging is set up
    # that lands on stderr next to our one line.
    quiet = std_logging.getLogger('stevedore')
    level = quiet.level
    quiet.setLevel(std_logging.CRITICAL)
    try:
        coord = coordination.get_coordinator(url, member)
    except Exception as exc:  # stevedore, tooz and driver import errors
        raise exception.StartupRefused(
            '[coordination] backend_url %s: tooz cannot load a driver for '
            'it (%s: %s): %s' % (shown, type(exc).__name__,
                                 _first_line(exc), hint))
    finally:
        quiet.setLevel(level)
    _probe(url, shown, timeout)
    try:
        coord.start(start_heart=False)
    except Exception as exc:  # ToozConnectionError and driver errors
        raise exception.StartupRefused(
            '[coordination] backend_url %s: cannot reach the coordinator '
            '(%s: %s): start it or fix the URL' % (
                shown, type(exc).__name__, _first_line(exc)))
    try:
        coord.stop()
    except Exception:  # nothing to keep
        LOG.debug('stopping the preflight coordinator failed',
                  exc_info=True)


_PORTS = {'redis': 6379, 'etcd3': 2379, 'etcd3+http': 2379,
          'etcd3+https': 2379, 'etcd': 2379, 'mysql': 3306,
          'zookeeper': 2181, 'kazoo': 2181, 'memcached': 11211,
          'postgresql': 5432}


def _probe(url, shown, timeout):
    """A TCP connect first: the drivers' own retries take a minute."""
    import socket
    try:
        from urllib import parse
    except ImportError:  # Python 2
        import urlparse as parse
    try:
        parsed = parse.urlsplit(url)
        port = parsed.port or _PORTS.get(parsed.scheme)
        host = parsed.hostname
    except ValueError as exc:
        raise exception.StartupRefused(
            '[coordination] backend_url %s is not a valid URL (%s)'
            % (shown, exc))
    if not host or not port:
        return
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except (socket.error, OSError) as exc:
        raise exception.StartupRefused(
            '[coordination] backend_url %s: cannot reach the coordinator at '
            '%s:%s (%s): start it or fix the URL'
            % (shown, host, port, getattr(exc, 'strerror', None) or exc))
    sock.close()


def _first_line(exc):
    text = str(exc).strip()
    return masked(text.splitlines()[0]) if text else ''
