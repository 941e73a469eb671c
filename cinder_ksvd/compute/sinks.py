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

"""Where events go: an HTTP webhook to the MC, oslo.messaging, the log.

Every sink has a stable name (kept in the outbox, so a retry skips sinks
that already took the event) and send(event, body) returning True only
when the event was handed over; False or an exception means "try again
later".  body is events.dumps(event), the exact bytes the webhook signs.
"""

import hashlib
import hmac

from oslo_config import cfg
from oslo_log import log as logging

LOG = logging.getLogger(__name__)

SIGNATURE_HEADER = 'X-KSVD-Signature'
EVENT_ID_HEADER = 'X-KSVD-Event-Id'
PUBLISHER_ID = 'ksvd-cinder.compute'


def signature(secret, body):
    """Value of the X-KSVD-Signature header for body (bytes)."""
    if not isinstance(secret, bytes):
        secret = secret.encode('utf-8')
    return 'sha256=' + hmac.new(secret, body, hashlib.sha256).hexdigest()


class LogSink(object):
    """Logs each event at INFO; for operators and for a dry run."""

    name = 'log'

    def send(self, event, body):
        LOG.info('Compute event %(type)s for volume %(volume)s: %(body)s',
                 {'type': event['type'], 'volume': event['volume_id'],
                  'body': body.decode('utf-8')})
        return True


class WebhookSink(object):
    """POSTs the event to the MC, signed with HMAC-SHA256 over the body.

    Only a 2xx answer counts as delivered; redirects are not followed.
    verify is requests' verify: True (the default CA bundle), a CA file or
    False (not recommended).
    """

    name = 'webhook'

    def __init__(self, url, secret, verify=True, timeout=10.0):
        if not url or not url.lower().startswith(('http://', 'https://')):
            raise ValueError('webhook URL must be http:// or https://, '
                             'got %r' % (url,))
        if not secret:
            raise ValueError('webhook secret is required: the receiver '
                             'authenticates events by their signature')
        self.url = url
        self._secret = secret
        self.verify = verify
        self.timeout = timeout
        self._session = None

    def _post(self, body, headers):
        # Imported here: only a webhook sink needs requests.
        import requests
        if self._session is None:
            self._session = requests.Session()
        return self._session.post(self.url, data=body, headers=headers,
                                  verify=self.verify, timeout=self.timeout,
                                  allow_redirects=False)

    def send(self, event, body):
        headers = {
            'Content-Type': 'application/json',
            SIGNATURE_HEADER: signature(self._secret, body),
            EVENT_ID_HEADER: event['event_id'],
        }
        try:
            response = self._post(body, headers)
        except Exception as exc:  # connection, TLS, timeout
            LOG.warning('Compute event %(id)s: webhook %(url)s not '
                        'reached: %(error)s',
                        {'id': event['event_id'], 'url': self.url,
                         'error': exc})
            return False
        if 200 <= response.status_code < 300:
            return True
        LOG.warning('Compute event %(id)s: webhook %(url)s answered '
                    '%(status)s',
                    {'id': event['event_id'], 'url': self.url,
                     'status': response.status_code})
        return False


class NotificationSink(object):
    """Sends the event as an oslo.messaging notification on topic.

    The event type is ksvd.<type> and the payload is the event.  The
    notifier is built on first use from [oslo_messaging_notifications].
    oslo.messaging logs and swallows a failed send, so this sink counts an
    event delivered once it is handed to the driver; use the webhook where
    every event must arrive.  A notifier with no driver (noop) is a failure.
    """

    name = 'notifications'

    def __init__(self, topic, conf=None):
        self.topic = topic
        self._conf = conf
        self._notifier = None

    def _get_notifier(self):
        if self._notifier is None:
            import oslo_messaging
            conf = self._conf or cfg.CONF
            transport = oslo_messaging.get_notification_transport(conf)
            self._notifier = oslo_messaging.Notifier(
                transport, publisher_id=PUBLISHER_ID, topics=[self.topic])
        return self._notifier

    def send(self, event, body):
        notifier = self._get_notifier()
        if not notifier.is_enabled():
            LOG.error('Compute event %s not sent: no notification driver '
                      'is configured ([oslo_messaging_notifications] '
                      'driver).', event['event_id'])
            return False
        notifier.info({}, 'ksvd.' + event['type'], event)
        return True


def verify_from_group(group):
    """requests' verify from [ksvd_compute]: CA file, True or False."""
    if group.webhook_verify and group.webhook_ca_file:
        return group.webhook_ca_file
    return bool(group.webhook_verify)


def from_conf(conf):
    """The sinks named in [ksvd_compute] sinks, in that order."""
    group = conf.ksvd_compute
    sinks = []
    for name in group.sinks:
        if name == WebhookSink.name:
            sinks.append(WebhookSink(group.webhook_url, group.webhook_secret,
                                     verify=verify_from_group(group),
                                     timeout=group.webhook_timeout))
        elif name == NotificationSink.name:
            sinks.append(NotificationSink(group.notification_topic, conf))
        elif name == LogSink.name:
            sinks.append(LogSink())
        else:
            raise ValueError('unknown compute event sink %r' % (name,))
    return sinks
