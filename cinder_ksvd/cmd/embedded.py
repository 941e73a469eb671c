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
"""Assembly of the embedded single-process service (ksvd-cinder-all)."""

import os
import shlex
import subprocess

from oslo_config import cfg

OVERLAY = 'ksvd-cinder-all.conf'
DEMO_BACKEND = 'demo'
LOOP_BACKEND = 'lvm-loop'
LOOP_VG = 'ksvd-cinder-loop'
FAKE_DRIVER = 'cinder.tests.fake_driver.FakeLoggingVolumeDriver'
LVM_DRIVER = 'cinder.volume.drivers.lvm.LVMVolumeDriver'


class SetupError(Exception):
    """The embedded service cannot start; str() is one line."""


def _section(name, values):
    lines = ['[%s]' % name]
    lines += ['%s = %s' % item for item in values]
    return '\n'.join(lines) + '\n'


def _run(cmd):
    try:
        out = subprocess.check_output(cmd, stderr=subprocess.STDOUT)
    except OSError as exc:
        raise SetupError('%s: %s' % (cmd[0], exc))
    except subprocess.CalledProcessError as exc:
        text = exc.output.decode('utf-8', 'replace').strip().splitlines()
        raise SetupError('%s failed: %s' % (' '.join(cmd),
                                            text[-1].strip() if text
                                            else exc))
    return out.decode('utf-8', 'replace').strip()


def parse_size(text):
    """'20G' -> bytes; accepts K, M, G, T suffixes (powers of 1024)."""
    units = {'': 1, 'K': 1024, 'M': 1024 ** 2, 'G': 1024 ** 3,
             'T': 1024 ** 4}
    value = text.strip().upper().rstrip('B').rstrip('I')
    unit = value[-1:] if value[-1:] in units else ''
    number = value[:-1] if unit else value
    try:
        size = int(float(number) * units[unit])
    except (ValueError, OverflowError):
        raise SetupError('--lvm-loop %r is not a size (try 20G)' % text)
    if size < 64 * 1024 ** 2:
        raise SetupError('--lvm-loop %s is too small (at least 64M)' % text)
    return size


def setup_lvm_loop(state_path, size_text):
    """Attach <state_path>/lvm-loop.img and make sure the VG exists."""
    size = parse_size(size_text)
    if os.geteuid() != 0:
        raise SetupError('--lvm-loop needs root (losetup, vgcreate)')
    if not os.path.exists('/dev/mapper/control'):
        raise SetupError('--lvm-loop needs device-mapper, and this kernel '
                         'or container has none (/dev/mapper/control)')
    image = os.path.join(state_path, 'lvm-loop.img')
    if not os.path.exists(image):
        with open(image, 'wb') as handle:
            handle.truncate(size)
    attached = _run(['losetup', '--associated', image])
    if attached:
        device = attached.split(':', 1)[0]
    else:
        device = _run(['losetup', '--find', '--show', image])
    groups = _run(['vgs', '--noheadings', '-o', 'vg_name']).split()
    if LOOP_VG not in groups:
        _run(['pvcreate', '-y', device])
        _run(['vgcreate', LOOP_VG, device])
    return device


def prepare(conf, argv):
    """Parse config, add the embedded settings; return the overlay path.

    Raises SetupError when the process could not serve anything.
    """
    conf(argv, project='cinder', default_config_files=[],
         default_config_dirs=[])
    state_path = conf.state_path
    if not os.path.isdir(state_path):
        raise SetupError('state_path %s does not exist' % state_path)
    values = [('transport_url', 'fake://'),
              ('osapi_volume_workers', '1')]
    sections = []
    if conf.demo and conf.lvm_loop:
        raise SetupError('--demo and --lvm-loop exclude each other')
    if conf.demo:
        values.append(('enabled_backends', DEMO_BACKEND))
        sections.append(_section(DEMO_BACKEND, [
            ('volume_driver', FAKE_DRIVER),
            # The fake driver reports 'fake' whatever is configured.
            ('volume_backend_name', 'fake'),
            ('target_helper', 'fake'),
        ]))
    elif conf.lvm_loop:
        setup_lvm_loop(state_path, conf.lvm_loop)
        values.append(('enabled_backends', LOOP_BACKEND))
        sections.append(_section(LOOP_BACKEND, [
            ('volume_driver', LVM_DRIVER),
            ('volume_backend_name', LOOP_BACKEND),
            ('volume_group', LOOP_VG),
            ('target_helper', 'lioadm'),
        ]))
    elif not [b for b in (conf.enabled_backends or []) if b]:
        raise SetupError('no storage backend: set [DEFAULT] enabled_backends '
                         'and a backend section in cinder.conf, or run with '
                         '--lvm-loop SIZE (LVM on a loop file) or --demo '
                         '(fake driver, stores no data)')
    text = ('# Written by ksvd-cinder-all at start; edits are lost.\n'
            + _section('DEFAULT', values)
            + _section('oslo_messaging_notifications', [('driver', 'noop')])
            + ''.join(sections))
    path = os.path.join(state_path, OVERLAY)
    tmp = path + '.tmp'
    with open(tmp, 'w') as handle:
        handle.write(text)
    os.rename(tmp, path)
    return path


def _embedded_service_class(service, objects, context, LOG):
    """A cinder Service that heartbeats its own row.

    Stock Service.report_state() reads the class attribute
    Service.service_id, which is right when each process runs one service;
    here several share the class, the last started wins, and the others'
    rows are never updated, so they go "down" after service_down_time.
    """
    from cinder import exception

    class EmbeddedService(service.Service):
        def report_state(self):
            if not self.manager.is_working():
                LOG.error('Manager for service %(binary)s %(host)s is '
                          'reporting problems, not sending heartbeat.',
                          {'binary': self.binary, 'host': self.host})
                return
            ctxt = context.get_admin_context()
            try:
                try:
                    ref = objects.Service.get_by_id(ctxt,
                                                    self.origin_service_id)
                except exception.NotFound:
                    LOG.debug('Service row of %s disappeared, recreating.',
                              self.host)
                    self._create_service_ref(ctxt)
                    ref = objects.Service.get_by_id(ctxt,
                                                    self.origin_service_id)
                ref.report_count += 1
                if self.availability_zone != ref.availability_zone:
                    ref.availability_zone = self.availability_zone
                ref.save()
                if getattr(self, 'model_disconnected', False):
                    self.model_disconnected = False
                    LOG.error('Recovered database connection (%s).',
                              self.binary)
            except Exception:
                # Same policy as stock: never kill the heartbeat timer.
                if not getattr(self, 'model_disconnected', False):
                    self.model_disconnected = True
                    LOG.exception('Heartbeat of %s failed', self.binary)

    return EmbeddedService


def serve(conf, argv, prog):
    """Run db sync, start scheduler, volume(s) and API; block until stop."""
    from oslo_log import log as logging
    from oslo_privsep import priv_context
    from oslo_service import service as os_service

    from cinder.common import constants
    from cinder import context
    from cinder import coordination
    from cinder.db import migration
    from cinder import objects
    from cinder import rpc
    from cinder import service
    from cinder import utils
    from cinder import version

    objects.register_all()
    conf(argv, project='cinder', version=version.version_string(),
         default_config_files=[], default_config_dirs=[])
    logging.setup(conf, 'cinder')
    LOG = logging.getLogger(prog)
    backends = [b for b in (conf.enabled_backends or []) if b]
    if conf.demo:
        LOG.warning('DEMO MODE: backend %r is cinder\'s fake driver. '
                    'Volumes exist only as database rows; NO DATA IS STORED.',
                    DEMO_BACKEND)
    LOG.info('Embedded mode: api, scheduler and volume (%s) in one process, '
             'in-process messaging; database %s', ', '.join(backends),
             conf.database.connection.split('://', 1)[0])
    LOG.info('Synchronising the database schema (embedded mode owns its '
             'database).')
    migration.db_sync()
    priv_context.init(root_helper=shlex.split(utils.get_root_helper()))
    try:
        import os_brick
        os_brick.setup(conf)
    except (ImportError, AttributeError):
        pass  # os-brick before 3.0 (cinder 15) has no setup()
    coordination.COORDINATOR.start()
    rpc.init(conf)
    launcher = os_service.ServiceLauncher(conf, restart_method='mutate')
    svc_class = _embedded_service_class(service, objects, context, LOG)
    launcher.launch_service(svc_class.create(binary='cinder-scheduler'))
    cluster = conf.cluster and conf.cluster.strip()
    for backend in backends:
        conf.register_opt(cfg.StrOpt('backend_host'), group=backend)
        host = '%s@%s' % (conf[backend].backend_host or conf.host, backend)
        server = svc_class.create(
            host=host, service_name=backend,
            binary=constants.VOLUME_BINARY, coordination=True,
            cluster=('%s@%s' % (cluster, backend)) if cluster else None)
        launcher.launch_service(server)
    api = service.WSGIService('osapi_volume')
    launcher.launch_service(api, workers=1)
    try:
        launcher.wait()
    finally:
        rpc.cleanup()
        coordination.COORDINATOR.stop()
    return 0
