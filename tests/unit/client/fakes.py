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

"""An in-memory cinder behind python-cinderclient's own managers.

The managers are cinderclient's real classes (so name/ID lookup, resource
attributes and find() behave as with a server); only the methods that
would send HTTP are replaced by a dict of volumes, types and attachments.
Functional tests run the same commands against real services.
"""

import uuid

from cinderclient.apiclient import base as api_base
from cinderclient import exceptions
from cinderclient.v3 import attachments
from cinderclient.v3 import volume_types
from cinderclient.v3 import volumes
import fixtures
from tests.unit import base

from cinder_ksvd.client import shell


def _listing(items):
    return api_base.ListWithMeta(items, None)


class FakeVolumes(volumes.VolumeManager):

    def __init__(self, cinder):
        super(FakeVolumes, self).__init__(cinder)
        self.db = {}
        # updates each get() applies in turn, per volume id (None: gone)
        self.script = {}
        # what a new volume goes through: available on the first get()
        self.create_script = [{'status': 'available'}]

    def _res(self, info):
        return volumes.Volume(self, dict(info), loaded=True)

    def add(self, **info):
        info.setdefault('id', str(uuid.uuid4()))
        info.setdefault('status', 'available')
        info.setdefault('size', 1)
        info.setdefault('volume_type', 'default')
        info.setdefault('attachments', [])
        info.setdefault('links', [])
        self.db[info['id']] = info
        return self._res(info)

    def get(self, volume_id):
        if volume_id not in self.db:
            raise exceptions.NotFound(404, 'Volume %s could not be found.'
                                      % volume_id)
        steps = self.script.get(volume_id)
        if steps:
            step = steps.pop(0)
            if step is None:
                del self.db[volume_id]
                raise exceptions.NotFound(404, 'gone')
            self.db[volume_id].update(step)
        return self._res(self.db[volume_id])

    def list(self, detailed=True, search_opts=None, **kwargs):
        search_opts = search_opts or {}
        found = [self._res(v) for v in self.db.values()
                 if search_opts.get('name') in (None, v.get('name'))]
        return _listing(found)

    def create(self, size, name=None, volume_type=None, **kwargs):
        vol = self.add(size=size, name=name, status='creating',
                       volume_type=volume_type or 'default')
        self.script[vol.id] = [dict(s) for s in self.create_script]
        return vol

    def delete(self, volume, cascade=False):
        self.db[volume.id]['status'] = 'deleting'

    def extend(self, volume, new_size):
        self.db[volume.id]['status'] = 'extending'
        self.script.setdefault(volume.id, []).append(
            {'status': 'available', 'size': new_size})


class FakeTypes(volume_types.VolumeTypeManager):

    def __init__(self, cinder):
        super(FakeTypes, self).__init__(cinder)
        self.db = {}

    def create(self, name, description=None, is_public=True):
        info = {'id': str(uuid.uuid4()), 'name': name, 'extra_specs': {},
                'description': description, 'is_public': is_public}
        self.db[info['id']] = info
        return FakeType(self, info, loaded=True)

    def get(self, type_id):
        if type_id not in self.db:
            raise exceptions.NotFound(404, 'Volume type %s could not be '
                                      'found.' % type_id)
        return FakeType(self, self.db[type_id], loaded=True)

    def list(self, search_opts=None, is_public=None):
        return _listing([FakeType(self, t, loaded=True)
                         for t in self.db.values()])

    def delete(self, volume_type):
        del self.db[volume_type]


class FakeType(volume_types.VolumeType):

    def set_keys(self, metadata):
        self.manager.db[self.id]['extra_specs'].update(metadata)


class FakeAttachments(attachments.VolumeAttachmentManager):
    """Attachments as cinder 3.44+ returns them (flat connection info)."""

    def __init__(self, cinder, connection_info):
        super(FakeAttachments, self).__init__(cinder)
        self.connection_info = connection_info
        self.db = {}
        self.calls = []

    def create(self, volume_id, connector, instance_id=None, mode='null'):
        att_id = str(uuid.uuid4())
        info = dict(self.connection_info, attachment_id=att_id)
        self.db[att_id] = {'id': att_id, 'status': 'reserved',
                           'instance': instance_id, 'volume_id': volume_id,
                           'attach_mode': mode, 'connection_info': info,
                           'connector': connector}
        self.calls.append(('create', volume_id))
        return dict(self.db[att_id])

    def complete(self, attachment):
        att = self.db[attachment]
        att['status'] = 'attached'
        vol = self.api.volumes.db[att['volume_id']]
        vol['status'] = 'in-use'
        vol['attachments'].append({
            'attachment_id': att['id'], 'server_id': att['instance'],
            'host_name': att['connector'].get('host')})
        self.calls.append(('complete', attachment))

    def show(self, id):
        return attachments.VolumeAttachment(self, dict(self.db[id]),
                                            loaded=True)

    def delete(self, attachment):
        att = self.db.pop(attachment)
        vol = self.api.volumes.db[att['volume_id']]
        vol['attachments'] = [a for a in vol['attachments']
                              if a['attachment_id'] != attachment]
        if not vol['attachments']:
            vol['status'] = 'available'
        self.calls.append(('delete', attachment))


class FakeCinder(object):
    """What the commands use of cinderclient.v3.client.Client."""

    def __init__(self, connection_info=None):
        self.volumes = FakeVolumes(self)
        self.volume_types = FakeTypes(self)
        self.attachments = FakeAttachments(
            self, connection_info or {'driver_volume_type': 'nfs',
                                      'export': '127.0.0.1:/srv/ksvd',
                                      'name': 'volume-x',
                                      'mount_point_base': '/mnt/base'})
        # ManagerWithFind uses api.client for nothing we call; the
        # version gates of @api_versions.wraps read api_version.
        from cinderclient import api_versions
        self.api_version = api_versions.APIVersion('3.71')
        self.client = None


class ShellTestCase(base.TestCase):
    """Runs the ksvd-cinder app in-process against a FakeCinder."""

    def setUp(self):
        super(ShellTestCase, self).setUp()
        self.cinder = FakeCinder()
        for name in ('KSVD_CINDER_ENDPOINT', 'KSVD_CINDER_TOKEN',
                     'OS_ENDPOINT', 'OS_TOKEN', 'KSVD_CINDER_API_VERSION',
                     'KSVD_CINDER_ROOT_HELPER'):
            self.useFixture(fixtures.EnvironmentVariable(name))
        self.made = []

    def factory(self, endpoint, token, *args):
        self.made.append((endpoint, token) + args)
        return self.cinder

    def run_shell(self, *argv, **kwargs):
        """(exit status, stdout, stderr) of ksvd-cinder argv."""
        out, err = base.StringIO(), base.StringIO()
        app = shell.Shell(stdout=out, stderr=err)
        app.client_factory = kwargs.get('factory', self.factory)
        argv = list(argv)
        if kwargs.get('auth', True):
            argv = ['--token', 'admin:p1'] + argv
        rc = app.run(argv)
        return rc, out.getvalue(), err.getvalue()
