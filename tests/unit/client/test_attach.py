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

import json
import socket
from unittest import mock

from tests.unit.client import fakes

from cinder_ksvd.client import attach

CONNECTOR = {'host': 'kvm-7', 'ip': '127.0.0.1', 'initiator': 'iqn.x',
             'platform': 'x86_64', 'os_type': 'linux', 'multipath': False}


class AttachTest(fakes.ShellTestCase):
    """attach/detach with os-brick replaced at its boundary only.

    get_connector_properties and InitiatorConnector.factory are os-brick's
    entry points; the rest (cinder calls, rollback, choice of attachment)
    is the real code.  tests/functional/test_cli.py attaches for real.
    """

    def setUp(self):
        super(AttachTest, self).setUp()
        self.vol = self.cinder.volumes.add(name='disk1')
        self.patch(attach.LocalHost, 'setup', lambda self: None)
        props = mock.patch('os_brick.initiator.connector.'
                           'get_connector_properties',
                           return_value=dict(CONNECTOR))
        self.get_props = props.start()
        self.addCleanup(props.stop)
        factory = mock.patch('os_brick.initiator.connector.'
                             'InitiatorConnector.factory')
        self.brick_factory = factory.start()
        self.addCleanup(factory.stop)
        self.brick = self.brick_factory.return_value
        self.brick.connect_volume.return_value = {'path': '/mnt/base/h/v'}

    def test_attach(self):
        rc, out, err = self.run_shell('attach', 'disk1', '--instance-id',
                                      'i-1', '--root-helper', 'sudo x',
                                      '--mount-point-base', '/srv/m',
                                      '-f', 'json')
        self.assertEqual(0, rc, err)
        shown = json.loads(out)
        self.assertEqual(('/mnt/base/h/v', 'kvm-7', 'nfs'),
                         (shown['path'], shown['host'],
                          shown['driver_volume_type']))
        self.get_props.assert_called_once_with('sudo x', mock.ANY, False,
                                               False,
                                               host=socket.gethostname())
        att = self.cinder.attachments.db[shown['attachment_id']]
        self.assertEqual(('attached', 'i-1', 'rw', CONNECTOR),
                         (att['status'], att['instance'],
                          att['attach_mode'], att['connector']))
        info = att['connection_info']
        self.brick_factory.assert_called_once_with(
            'nfs', 'sudo x', use_multipath=False, conn=info,
            nfs_mount_point_base='/srv/m')
        # the attachments API's flat connection info is os-brick's input
        self.brick.connect_volume.assert_called_once_with(info)
        self.assertEqual('in-use', self.cinder.volumes.db[self.vol.id]
                         ['status'])

    def test_failed_connect_removes_the_attachment(self):
        self.brick.connect_volume.side_effect = RuntimeError('no\nroute')
        rc, out, err = self.run_shell('attach', 'disk1')
        self.assertEqual(1, rc)
        self.assertEqual('attach of volume %s failed (its attachment was '
                         'removed): RuntimeError: no route\n' % self.vol.id,
                         err)
        self.assertEqual({}, self.cinder.attachments.db)
        self.assertEqual(['create', 'delete'],
                         [c[0] for c in self.cinder.attachments.calls])
        self.assertEqual('available',
                         self.cinder.volumes.db[self.vol.id]['status'])

    def test_detach(self):
        rc, out, err = self.run_shell('attach', 'disk1', '-f', 'json')
        att_id = json.loads(out)['attachment_id']
        rc, out, err = self.run_shell('detach', 'disk1', '--host', 'kvm-7',
                                      '-f', 'json')
        self.assertEqual(0, rc, err)
        self.assertEqual(att_id, json.loads(out)['attachment_id'])
        self.brick.disconnect_volume.assert_called_once_with(
            mock.ANY, None)
        self.assertEqual('volume-x', self.brick.disconnect_volume
                         .call_args[0][0]['name'])
        self.assertEqual({}, self.cinder.attachments.db)
        self.assertEqual('available',
                         self.cinder.volumes.db[self.vol.id]['status'])

    def test_failed_disconnect_keeps_the_attachment(self):
        self.run_shell('attach', 'disk1')
        self.brick.disconnect_volume.side_effect = RuntimeError('busy')
        rc, out, err = self.run_shell('detach', 'disk1', '--host', 'kvm-7')
        self.assertEqual((1, 'RuntimeError: busy\n'), (rc, err))
        self.assertEqual(1, len(self.cinder.attachments.db))

    def test_detach_other_host(self):
        self.run_shell('attach', 'disk1')
        rc, out, err = self.run_shell('detach', 'disk1', '--host', 'kvm-8')
        self.assertEqual(1, rc)
        self.assertEqual('volume %s is not attached to host kvm-8\n'
                         % self.vol.id, err)
        self.brick.disconnect_volume.assert_not_called()

    def test_properties(self):
        self.assertEqual({'a': 1}, attach.properties(
            {'driver_volume_type': 'iscsi', 'data': {'a': 1}}))
        flat = {'driver_volume_type': 'nfs', 'export': 'e'}
        self.assertIs(flat, attach.properties(flat))


class StartForkedTest(fakes.ShellTestCase):
    """The forked privsep daemon never runs the caller's code."""

    def test_parent_returns(self):
        context = mock.Mock()
        with mock.patch.object(attach.os, '_exit') as exit_:
            attach._start_forked(context, 'fork')
        context.start.assert_called_once_with('fork')
        exit_.assert_not_called()

    def test_escaped_child_exits(self):
        context = mock.Mock()
        pids = iter([100, 101])  # before start(); in the child after it

        def start(method):
            raise BrokenPipeError('daemon loop failed')
        context.start.side_effect = start
        with mock.patch.object(attach.os, 'getpid',
                               side_effect=lambda: next(pids)), \
                mock.patch.object(attach.os, '_exit',
                                  side_effect=SystemExit(1)) as exit_:
            self.assertRaises(SystemExit, attach._start_forked, context,
                              'fork')
        exit_.assert_called_once_with(1)
