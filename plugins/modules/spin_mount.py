#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_mount
short_description: One of the centre's file systems on a host - fstab entry, mount, and a bounded health probe
version_added: 0.1.0
description:
  - Puts one file system (NFS, a FUSE network file system such as C(fuse.sshfs), any other fstype C(mount)
    knows) into its desired state on the host, as C(ansible.posix.mount) does it, and adds what a platform
    that places services by their data needs, a verdict on whether the mount really answers.
  - The fstab line of O(path) is changed only when it differs (other lines stay byte for byte, including
    comments), and only outside check mode. When the mount then fails, the previous fstab is put back (and
    the previous mount, where this run took it away), and the error names the host, the source and
    C(mount)'s own message.
  - A mounted file system is probed by a child process (C(statvfs) and a directory listing) that must answer
    within O(probe_timeout) seconds. A stale NFS handle, a FUSE mount whose server went away, or a server that
    does not reply fails the task with the probe's finding instead of hanging it.
  - With O(state=verified) (for file systems mounted by their own daemon, like GPFS / IBM Storage Scale) the
    module changes nothing and never reads or writes fstab; it checks the kernel's mount table
    (C(/proc/self/mounts)) and the probe.
extends_documentation_fragment:
  - spin.platform.attributes
attributes:
  check_mode:
    support: full
    details: Reports the fstab change and the mount action that would happen; changes nothing. The probe still
      runs on a mount that exists.
  diff_mode:
    support: full
    details: The fstab before and after, and the mount table line of O(path) before and after.
  idempotent:
    support: full
    details: A second run with the same options changes nothing.
options:
  path:
    description: The mount point. It is created (mode 0755) when missing.
    type: path
    required: true
  src:
    description:
      - What is mounted, for example V(nfs.example.org:/cfs), V(user@host:/export) (sshfs), or the GPFS device
        name (V(cfs)).
      - Required unless O(state) is V(unmounted), V(absent) or V(verified).
    type: str
  fstype:
    description:
      - The file system type as fstab and C(/proc/self/mounts) name it (V(nfs), V(nfs4), V(fuse.sshfs), V(gpfs)).
      - V(nfs) and V(nfs4) count as the same when the live mount is compared.
      - Required unless O(state) is V(unmounted) or V(absent).
    type: str
  opts:
    description: The mount options of the fstab entry.
    type: str
    default: defaults
  dump:
    description: The fstab dump field.
    type: int
    default: 0
  passno:
    description: The fstab pass field (network file systems are never checked at boot, so 0).
    type: int
    default: 0
  state:
    description:
      - V(mounted) writes the fstab entry and mounts it (a mount of another source at O(path) is unmounted first;
        changed options are applied with a remount, or with unmount and mount where the fstype cannot remount).
      - V(present) only writes the fstab entry.
      - V(unmounted) unmounts and keeps the entry; V(absent) unmounts and removes the entry.
      - V(verified) checks that O(src) of O(fstype) is mounted at O(path) and answers; it changes nothing.
    type: str
    choices: [mounted, present, unmounted, absent, verified]
    default: mounted
  fstab:
    description: The fstab file to edit; C(mount --fstab) reads it when it is not V(/etc/fstab).
    type: path
    default: /etc/fstab
  name:
    description: The file system's name in the platform (as in its node label C(spin.fs.<name>)), for messages.
    type: str
  probe_timeout:
    description: Seconds the probe waits for the mount to answer before calling it hung.
    type: int
    default: 10
  mount_timeout:
    description: Seconds C(mount) and C(umount) may take (an NFS server that does not answer makes C(mount) retry
      for minutes); 0 waits for ever.
    type: int
    default: 180
  remount_stale:
    description:
      - When the existing mount does not answer the probe, unmount it lazily and mount it again instead of
        failing. Processes that hold files on the old mount keep the old (dead) one.
    type: bool
    default: false
author:
  - spin.platform contributors (@spin-platform)
notes:
  - Needs root and the file system's client (C(nfs-common) for NFS, C(sshfs) for C(fuse.sshfs)); the
    M(spin.platform.spin_mount) caller (role C(spin.platform.global_fs)) installs them.
'''

EXAMPLES = r'''
- name: The centre's community file system, over NFS
  spin.platform.spin_mount:
    name: cfs
    src: nfs.example.org:/cfs
    path: /global/cfs
    fstype: nfs4
    opts: hard,ro,vers=4.2,_netdev

- name: GPFS is mounted by its own daemon; check it is there and answers
  spin.platform.spin_mount:
    name: homes
    src: homes
    path: /global/homes
    fstype: gpfs
    state: verified

- name: See what would change
  spin.platform.spin_mount:
    src: nfs.example.org:/cfs
    path: /global/cfs
    fstype: nfs4
  check_mode: true
  diff: true
'''

RETURN = r'''
action:
  description: What was done (or would be) to the mount, V(mount), V(remount), V(replace) (unmount the other
    source, mount this one), V(recover) (stale mount mounted again), V(unmount), or null.
  returned: always
  type: str
fstab_changed:
  description: Whether the fstab entry was (or would be) changed.
  returned: always
  type: bool
mounted:
  description: Whether the file system is mounted at O(path) after the run (in check mode, now).
  returned: always
  type: bool
healthy:
  description: The probe's verdict on the mount; null when there was nothing mounted to probe.
  returned: always
  type: bool
probe:
  description: "The probe's finding: C({ok, error, seconds})."
  returned: when a mount was probed
  type: dict
  sample: {ok: false, error: "[Errno 107] Transport endpoint is not connected", seconds: 0.03}
entry:
  description: The fstab entry as written.
  returned: when state is mounted or present
  type: dict
  sample: {src: "nfs.example.org:/cfs", path: /global/cfs, fstype: nfs4, opts: "hard,ro", dump: "0", passno: "0"}
mount_point:
  description: The mount point, normalised (no trailing slash). Results never carry C(path), whose file
    attributes Ansible would read with a C(stat) that hangs on a hung mount.
  returned: always
  type: str
previous_entry:
  description: The entry of O(path) before the run, or null.
  returned: when state is not verified
  type: dict
'''

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.fs.mounts import MountManager


def argument_spec():
    return {
        "path": {"type": "path", "required": True},
        "src": {"type": "str"},
        "fstype": {"type": "str"},
        "opts": {"type": "str", "default": "defaults"},
        "dump": {"type": "int", "default": 0},
        "passno": {"type": "int", "default": 0, "no_log": False},
        "state": {"type": "str", "default": "mounted",
                  "choices": ["mounted", "present", "unmounted", "absent", "verified"]},
        "fstab": {"type": "path", "default": "/etc/fstab"},
        "name": {"type": "str"},
        "probe_timeout": {"type": "int", "default": 10},
        "mount_timeout": {"type": "int", "default": 180},
        "remount_stale": {"type": "bool", "default": False},
    }


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True,
                           required_if=[("state", "mounted", ("src", "fstype")), ("state", "present", ("src", "fstype")),
                                        ("state", "verified", ("fstype",))])

    def run(argv):
        return module.run_command(argv, environ_update={"LC_ALL": "C"})

    manager = MountManager(module.params, run, check_mode=module.check_mode)
    failure = None
    try:
        result = manager.ensure(module.params["state"])
    except SpinError as exc:
        failure = exc.to_result()
        failure.pop("diff", None)
    if failure is not None:
        # outside the except block: a refusal, not a crash (no exception travels with it)
        module.fail_json(**failure)
    if not module._diff:
        result.pop("diff", None)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
