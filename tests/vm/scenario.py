#!/usr/bin/python3
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

"""The VM tier's scenario; runs as root inside the guest (Debian 12).

Real data path, all in one boot: the packaged systemd units (db-sync unit
first, then ksvd-cinder.target), cinder's LVM driver (thin) on a virtio
disk, LIO or tgt as the iSCSI target, open-iscsi + os-brick through the
`ksvd-cinder` CLI as the initiator, on the guest's loopback.

Each step prints "STEP <name> OK|FAIL <seconds>s"; results.json on the
share lists them. The first failing step ends the run (cleanup is still
attempted and reported); the exit status is 0 only when every step is OK.
"""

import hashlib
import json
import os
import subprocess
import sys
import time
import traceback
import uuid

SHARE = '/mnt/host'
SETTINGS = '/etc/ksvd-vm/settings.json'
# The receiver's report lines and log, kept with the run's logs.
EVENTS_LOG = os.path.join(SHARE, 'events.log')
GiB = 1024 ** 3
MiB = 1024 ** 2
PATTERN_LEN = 4 * MiB

settings = json.load(open(SETTINGS))
os.environ['KSVD_CINDER_TOKEN'] = settings['token']
os.environ['KSVD_CINDER_ENDPOINT'] = settings['endpoint']
results = []
state = {}


def log(text):
    sys.stdout.write('%s %s\n' % (time.strftime('%H:%M:%S'), text))
    sys.stdout.flush()


def sh(cmd, check=True, timeout=600):
    """Run CMD (a list); return its stdout, log stderr on failure."""
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise RuntimeError('%s: exit %s: %s' % (
            ' '.join(cmd), proc.returncode, proc.stderr.strip()[-6000:]))
    return proc.stdout


def step(name):
    def wrap(func):
        def run():
            t0 = time.time()
            log('step %s ...' % name)
            try:
                detail = func()
                ok = True
            except Exception:
                detail = traceback.format_exc().strip().splitlines()[-1]
                traceback.print_exc()
                ok = False
            secs = time.time() - t0
            results.append({'step': name, 'ok': ok, 'seconds': round(secs, 1),
                            'detail': detail or ''})
            print('STEP %-24s %s %6.1fs %s' % (
                name, 'OK' if ok else 'FAIL', secs, detail or ''))
            sys.stdout.flush()
            return ok
        run.step_name = name
        return run
    return wrap


def wait(what, probe, timeout=300, interval=2):
    deadline = time.time() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.time() > deadline:
            raise RuntimeError('timed out after %ss waiting for %s'
                               % (timeout, what))
        time.sleep(interval)


def cinder():
    if 'client' not in state:
        from cinder_ksvd.client import shell
        state['client'] = shell.make_client(settings['endpoint'],
                                            settings['token'], '3.66')
    return state['client']


def wait_status(manager, obj_id, wanted, timeout=300):
    def probe():
        obj = manager.get(obj_id)
        if obj.status == 'error' or obj.status.startswith('error_'):
            raise RuntimeError('%s %s went to %s' % (manager.resource_class
                                                     .__name__, obj_id,
                                                     obj.status))
        return obj if obj.status == wanted else None
    return wait('%s to be %s' % (obj_id, wanted), probe, timeout)


def wait_gone(manager, obj_id, timeout=300):
    from cinderclient import exceptions

    def probe():
        try:
            obj = manager.get(obj_id)
        except exceptions.NotFound:
            return True
        if obj.status.startswith('error'):
            raise RuntimeError('%s went to %s' % (obj_id, obj.status))
        return False
    wait('%s to be deleted' % obj_id, probe, timeout)


def ksvd_cinder(*args):
    # --debug: a failure shows the whole traceback, not one line.
    return sh(['ksvd-cinder', '--debug'] + list(args), timeout=900)


def attach(volume_id):
    out = json.loads(ksvd_cinder('attach', volume_id, '--instance-id',
                                 settings['instance_id'], '-f', 'json'))
    path = out['path']
    if not os.path.exists(path):
        raise RuntimeError('attach gave %s, which does not exist' % path)
    return path


def detach(volume_id):
    ksvd_cinder('detach', volume_id, '-f', 'json')


def pattern(seed, length=PATTERN_LEN):
    """Deterministic bytes: sha256 blocks of SEED and a counter."""
    out = []
    count = 0
    while sum(len(x) for x in out) < length:
        block = hashlib.sha256(('%s-%d' % (seed, count)).encode()).digest()
        out.append(block * 128)  # 4 KiB
        count += 1
    return b''.join(out)[:length]


class volume_bytes(object):
    """A path to read a volume's bytes from, as a context manager.

    Full run (KSVD_VM_FULL): attached through os-brick and detached again.
    Slim run (CI): the volume's LV on the backend, read directly; every
    attach costs about a minute under TCG, and attach, detach and re-attach
    are tested on the main volume already.
    """

    def __init__(self, volume_id):
        self.volume_id = volume_id
        self.attached = False

    def __enter__(self):
        if settings.get('full'):
            self.attached = True
            self.path = attach(self.volume_id)
        else:
            self.path = '/dev/cinder-volumes/volume-%s' % self.volume_id
            sh(['lvchange', '-ay', '-K', self.path])
        return self.path

    def __exit__(self, *exc):
        if self.attached:
            detach(self.volume_id)
        return False


def read_at(path, offset, length):
    with open(path, 'rb') as handle:
        handle.seek(offset)
        return handle.read(length)


def block_size(path):
    return int(sh(['blockdev', '--getsize64', path]).strip())


def drop_caches(path):
    sh(['blockdev', '--flushbufs', path])


# ---- steps --------------------------------------------------------------

@step('setup-lvm-target')
def s_setup():
    data = '/dev/disk/by-id/virtio-data'
    wait('the data disk', lambda: os.path.exists(data), 30, 1)
    sh(['pvcreate', '-q', data])
    sh(['vgcreate', '-q', 'cinder-volumes', data])
    if settings['target_helper'] == 'tgtadm':
        sh(['systemctl', 'start', 'tgt.service'])
    else:
        sh(['systemctl', 'stop', 'tgt.service'])
        sh(['modprobe', 'target_core_mod'])
        sh(['modprobe', 'iscsi_target_mod'])
    sh(['systemctl', 'start', 'iscsid.service'])
    return 'vg cinder-volumes on %s, target %s' % (
        os.path.realpath(data), settings['target_helper'])


@step('db-sync-unit')
def s_db_sync():
    sh(['systemctl', 'start', 'ksvd-cinder-db-sync.service'])
    result = sh(['systemctl', 'show', '-p', 'Result', '--value',
                 'ksvd-cinder-db-sync.service']).strip()
    if result != 'success':
        raise RuntimeError('db-sync unit result %s' % result)
    return 'result=%s' % result


@step('start-target')
def s_start():
    sh(['systemctl', 'start', 'ksvd-cinder.target'])
    units = settings['units']
    for unit in units:
        if sh(['systemctl', 'is-active', unit], check=False).strip() \
                != 'active':
            raise RuntimeError('%s is not active' % unit)

    def volume_service_up():
        try:
            services = cinder().services.list(binary='cinder-volume')
        except Exception as exc:
            if time.time() - state.get('said', 0) > 30:
                log('API not ready yet: %s' % str(exc)[:200])
                state['said'] = time.time()
            state.pop('client', None)
            return False
        return [s for s in services if s.state == 'up']
    up = wait('cinder-volume to be up', volume_service_up, 600, 3)

    def pool_reported():
        # The scheduler lists a pool once the driver initialised and
        # reported its capacity. (Not detail=True: in embedded mode cinder
        # 21's view of the in-process capabilities fails, ReadOnlyDict has
        # no copy().)
        return cinder().pools.list()
    pools = wait('the LVM pool to be reported', pool_reported, 300, 3)
    return '%s active; volume service %s up; pool %s' % (
        ', '.join(units), up[0].host, pools[0].name)


@step('type-and-volume')
def s_create():
    c = cinder()
    vtype = c.volume_types.create('vm-lvm')
    vtype.set_keys({'volume_backend_name': 'lvm'})
    state['type'] = vtype.id
    vol = c.volumes.create(1, name='vm-main', volume_type='vm-lvm')
    state['main'] = vol.id
    wait_status(c.volumes, vol.id, 'available')
    return 'volume %s (1 GiB, type vm-lvm)' % vol.id


@step('attach')
def s_attach():
    # The receiver of the KSVD compute events, for the extend step.
    state['listener_out'] = open(EVENTS_LOG, 'w')
    state['listener'] = subprocess.Popen(
        ['ksvd-cinder', '--debug', 'events', 'listen',
         '--listen', '127.0.0.1:8777',
         '--path', '/ksvd/events', '--secret-file',
         settings['webhook_secret_file']],
        stdout=state['listener_out'], stderr=subprocess.STDOUT)
    path = attach(state['main'])
    state['path'] = path
    conn = sh(['iscsiadm', '-m', 'session'], check=False).strip()
    return '%s (%s)' % (path, conn)


@step('write-pattern')
def s_write():
    path = state['path']
    data = pattern('main')
    end = GiB - PATTERN_LEN
    with open(path, 'r+b') as handle:
        handle.write(data)
        handle.seek(end)
        handle.write(data[::-1])
        handle.flush()
        os.fsync(handle.fileno())
    return 'wrote %d MiB at 0 and at 1 GiB - 4 MiB' % (2 * PATTERN_LEN // MiB)


@step('detach')
def s_detach():
    detach(state['main'])
    vol = wait_status(cinder().volumes, state['main'], 'available')
    if sh(['iscsiadm', '-m', 'session'], check=False).strip():
        raise RuntimeError('an iSCSI session is left after the detach')
    return 'volume %s' % vol.status


@step('reattach-verify')
def s_reattach():
    path = attach(state['main'])
    state['path'] = path
    drop_caches(path)
    data = pattern('main')
    if read_at(path, 0, PATTERN_LEN) != data:
        raise RuntimeError('pattern at 0 differs after the reattach')
    if read_at(path, GiB - PATTERN_LEN, PATTERN_LEN) != data[::-1]:
        raise RuntimeError('pattern at the end differs after the reattach')
    return '%s: both patterns read back' % path


@step('extend-attached')
def s_extend():
    c = cinder()
    path = state['path']
    before = block_size(path)
    c.volumes.extend(state['main'], 2)
    wait('the volume to be 2 GiB in cinder',
         lambda: c.volumes.get(state['main']).size == 2, 300)
    # The receiver prints its report after os-brick's rescan returned: the
    # device may show the new size a little before the report is written.
    rescans = wait('the receiver to report the volume.extended rescan',
                   lambda: _rescans(state['main']), 300, 2)
    size = wait('the device to show 2 GiB',
                lambda: block_size(path) == 2 * GiB, 60, 2)
    if read_at(path, 0, PATTERN_LEN) != pattern('main'):
        raise RuntimeError('pattern differs after the extend')
    return '%s: %d -> %d bytes after event %s' % (
        path, before, size and block_size(path), rescans[0]['event_id'])


def _rescans(volume_id):
    events = []
    with open(EVENTS_LOG) as handle:
        for line in handle:
            try:
                events.append(json.loads(line))
            except ValueError:
                pass  # a traceback line, or a report half written
    events = [e for e in events if isinstance(e, dict)]
    return [e for e in events if e.get('type') == 'volume.extended'
            and e.get('result') == 'rescanned'
            and e.get('volume_id') == volume_id]


@step('snapshot-and-clone')
def s_snapshot():
    c = cinder()
    snap = c.volume_snapshots.create(state['main'], force=True,
                                     name='vm-snap')
    state['snap'] = snap.id
    wait_status(c.volume_snapshots, snap.id, 'available')
    clone = c.volumes.create(2, snapshot_id=snap.id, name='vm-clone',
                             volume_type='vm-lvm')
    state['clone'] = clone.id
    wait_status(c.volumes, clone.id, 'available')
    with volume_bytes(clone.id) as path:
        how = path
        if read_at(path, 0, PATTERN_LEN) != pattern('main'):
            raise RuntimeError('the clone\'s first 4 MiB differ')
        if read_at(path, GiB - PATTERN_LEN, PATTERN_LEN) != \
                pattern('main')[::-1]:
            raise RuntimeError('the clone\'s pattern at 1 GiB differs')
    return 'snapshot %s, clone %s: both patterns read back from %s' % (
        snap.id, clone.id, how)


@step('volume-from-image')
def s_from_image():
    c = cinder()
    vol = c.volumes.create(1, imageRef=settings['image_id'],
                           name='vm-from-image', volume_type='vm-lvm')
    state['from_image'] = vol.id
    wait_status(c.volumes, vol.id, 'available', 600)
    with volume_bytes(vol.id) as path:
        how = path
        digest = hashlib.md5(read_at(path, 0, settings['image_size'])
                             ).hexdigest()
    if digest != settings['image_md5']:
        raise RuntimeError('volume from image: md5 %s, image %s'
                           % (digest, settings['image_md5']))
    return 'volume %s: first %d bytes of %s: md5 %s = image' % (
        vol.id, settings['image_size'], how, digest)


@step('upload-to-image')
def s_upload():
    c = cinder()
    vol_id = state['from_image']
    resp = c.volumes.upload_to_image(vol_id, False, 'vm-upload', 'bare',
                                     'raw', 'private', False)
    image_id = resp[1]['os-volume_upload_image']['image_id']
    state['uploaded'] = image_id
    wait_status(c.volumes, vol_id, 'available', 600)
    record_path = os.path.join(settings['store_dir'], image_id + '.json')
    record = wait('the image record to be active',
                  lambda: _active(record_path), 300)
    # The volume's bytes: the image at the start, zeros after it.
    expected = hashlib.md5()
    with open(settings['image_file'], 'rb') as handle:
        expected.update(handle.read())
    zeros = b'\0' * (4 * MiB)
    left = GiB - settings['image_size']
    while left > 0:
        expected.update(zeros[:min(left, len(zeros))])
        left -= len(zeros)
    data_file = os.path.join(settings['store_dir'], record['file'])
    if record['size'] != GiB or os.path.getsize(data_file) != GiB:
        raise RuntimeError('image size %s, data file %s, volume 1 GiB'
                           % (record['size'], os.path.getsize(data_file)))
    if record['checksum'] != expected.hexdigest():
        raise RuntimeError('image checksum %s, the volume\'s md5 %s'
                           % (record['checksum'], expected.hexdigest()))
    return 'image %s: md5 %s = the volume\'s' % (image_id,
                                                 record['checksum'])


def _active(path):
    try:
        with open(path) as handle:
            record = json.load(handle)
    except (IOError, OSError, ValueError):
        return None
    if record.get('status') in ('killed', 'deleted'):
        raise RuntimeError('image %s' % record['status'])
    return record if record.get('status') == 'active' else None


@step('final-detach')
def s_final_detach():
    detach(state['main'])
    wait_status(cinder().volumes, state['main'], 'available')
    left = sh(['iscsiadm', '-m', 'session'], check=False).strip()
    if left:
        raise RuntimeError('iSCSI sessions left: %s' % left)
    return 'no iSCSI session left'


def _delete(manager, obj_id):
    manager.delete(obj_id)
    wait_gone(manager, obj_id)


def _detach_if_attached(volume_id):
    if cinder().volumes.get(volume_id).status == 'in-use':
        detach(volume_id)


def cleanup():
    """Delete what the scenario made; returns a list of problems."""
    c = cinder()
    actions = [
        # A failed step may leave the main volume attached.
        ('detach', 'main', _detach_if_attached),
        ('clone', 'clone', lambda i: _delete(c.volumes, i)),
        ('from_image', 'from_image', lambda i: _delete(c.volumes, i)),
        ('snapshot', 'snap', lambda i: _delete(c.volume_snapshots, i)),
        ('main', 'main', lambda i: _delete(c.volumes, i)),
        ('type', 'type', c.volume_types.delete),
    ]
    problems = []
    for label, key, action in actions:
        if key in state:
            try:
                action(state[key])
            except Exception as exc:
                problems.append('%s: %s' % (label, exc))
    for image in (state.get('uploaded'), settings['image_id']):
        if image:
            for name in os.listdir(settings['store_dir']):
                if name.startswith(image + '.'):
                    os.unlink(os.path.join(settings['store_dir'], name))
    return problems


@step('delete-everything')
def s_delete():
    if not [k for k in ('type', 'main', 'snap', 'clone', 'from_image')
            if k in state]:
        return 'nothing was created'
    problems = cleanup()
    if problems:
        raise RuntimeError('; '.join(problems))
    left = [v.id for v in cinder().volumes.list()]
    if left:
        raise RuntimeError('volumes left in cinder: %s' % left)
    return 'volumes, snapshot, type and images deleted'


@step('no-leftovers')
def s_leftovers():
    lvs = sh(['lvs', '--noheadings', '-o', 'lv_name', 'cinder-volumes'])
    names = [n for n in lvs.split() if n != 'cinder-volumes-pool']
    if names:
        raise RuntimeError('LVs left: %s' % names)
    if settings['target_helper'] == 'lioadm':
        targets = sh(['targetcli', 'ls', '/iscsi', '1'])
        if 'Targets: 0' not in targets:
            raise RuntimeError('targetcli: %s' % targets.strip())
        found = 'targetcli /iscsi: Targets: 0'
    else:
        targets = sh(['tgtadm', '--lld', 'iscsi', '--mode', 'target',
                      '--op', 'show']).strip()
        if targets:
            raise RuntimeError('tgt targets left: %s' % targets)
        found = 'tgtadm: no targets'
    return 'LVs: only the thin pool (%s); %s' % (lvs.strip() or 'none',
                                                 found)


STEPS = [s_setup, s_db_sync, s_start, s_create, s_attach, s_write, s_detach,
         s_reattach, s_extend, s_snapshot, s_from_image, s_upload,
         s_final_detach, s_delete, s_leftovers]


def main():
    t0 = time.time()
    log('scenario (%s): target helper %s, services %s'
        % ('full' if settings.get('full') else 'slim',
           settings['target_helper'], ', '.join(settings['units'])))
    failed = False
    for func in STEPS:
        if failed and func not in (s_delete,):
            results.append({'step': func.step_name, 'ok': False,
                            'seconds': 0, 'detail': 'not run'})
            print('STEP %-24s SKIP' % func.step_name)
            continue
        if not func():
            failed = True
    listener = state.get('listener')
    if listener:
        listener.terminate()
    for unit in ('ksvd-cinder.target',):
        subprocess.run(['systemctl', 'status', '--no-pager', '-l', unit],
                       stdout=sys.stdout, stderr=subprocess.STDOUT)
    ok = all(r['ok'] for r in results)
    with open(os.path.join(SHARE, 'results.json'), 'w') as handle:
        json.dump({'target_helper': settings['target_helper'],
                   'full': bool(settings.get('full')),
                   'mode': settings['mode'], 'steps': results,
                   'seconds': round(time.time() - t0, 1), 'ok': ok},
                  handle, indent=1)
    log('scenario: %s in %.0fs' % ('PASSED' if ok else 'FAILED',
                                   time.time() - t0))
    return 0 if ok else 1


if __name__ == '__main__':
    uuid.UUID(settings['instance_id'])
    sys.exit(main())
