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

import logging

from oslo_log import log as oslo_logging
from tests.unit import base

from cinder_ksvd.compute import logtext


class Capture(logging.Handler):
    def __init__(self):
        logging.Handler.__init__(self)
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


class WordingTest(base.TestCase):

    def setUp(self):
        super(WordingTest, self).setUp()
        self.addCleanup(logtext.uninstall)
        self.capture = Capture()
        logger = logging.getLogger(logtext.LOGGER)
        logger.addHandler(self.capture)
        self.addCleanup(logger.removeHandler, self.capture)
        self.addCleanup(logger.setLevel, logger.level)
        logger.setLevel(logging.INFO)

    def test_nova_warnings_reworded_once_installed(self):
        log = oslo_logging.getLogger(logtext.LOGGER)
        self.assertTrue(logtext.install())
        self.assertFalse(logtext.install())
        # cinder.volume.api's own calls, word for word.
        log.warning('Instance or volume not found on Nova, deleting '
                    'attachment locally, which may leave leftover '
                    'devices on Nova compute')
        log.warning('Mismatch! Nova has different attachment id (%s) '
                    'for the volume, deleting attachment locally. '
                    'May leave leftover devices in a compute node', 'a-1')
        log.info('Attachment connected to vm %s, checking data on nova', 's')
        first, second, third = self.capture.lines
        self.assertNotIn('Nova', first)
        self.assertIn('KSVD\'s compute API does not know that server', first)
        self.assertIn('mc_api_url is not set', first)
        self.assertEqual('The MC reports another attachment id (a-1) for '
                         'this server and volume: the attachment is deleted; '
                         'the KSVD host may keep a device until it '
                         'disconnects it', second)
        self.assertEqual('Attachment connected to vm s, checking data on '
                         'nova', third)

    def test_uninstalled_passes_through(self):
        logtext.install()
        logtext.uninstall()
        oslo_logging.getLogger(logtext.LOGGER).warning(
            'Instance or volume not found on Nova, x')
        self.assertEqual(['Instance or volume not found on Nova, x'],
                         self.capture.lines)
