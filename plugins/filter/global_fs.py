# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters of the role global_fs: which of spin_global_fs a host carries, and the node labels and
failures from what spin_mount saw. Pure, so that the role's decisions are unit-tested."""
from __future__ import annotations

from ansible.errors import AnsibleFilterError

from ansible_collections.spin.platform.plugins.module_utils.policy import placement
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

MOUNT_ACTIONS = ("mount", "replace", "recover", "remount")


def host_filesystems(filesystems, group_names, daemon_fstypes=("gpfs",)):
    try:
        checked = placement.check_filesystems(filesystems or {})
    except SpinError as exc:
        raise AnsibleFilterError(exc.message)
    out = []
    for name in sorted(checked):
        entry = checked[name]
        groups = entry.get("groups")
        if groups and not set(groups) & set(group_names or []):
            continue
        state = entry.get("state") or "mounted"
        if state not in ("mounted", "absent"):
            raise AnsibleFilterError("spin_global_fs.%s.state must be mounted or absent, not %r" % (name, state))
        out.append({"name": name, "src": entry.get("src"), "path": entry["path"], "fstype": entry["fstype"],
                    "opts": entry.get("opts") or "defaults", "dump": int(entry.get("dump") or 0),
                    "passno": int(entry.get("passno") or 0), "state": state,
                    "verify": entry["fstype"] in (daemon_fstypes or ())})
    return out


def _carried(result, check_mode):
    if result.get("failed") or result.get("skipped") or result["item"]["state"] == "absent":
        return False
    if result.get("mounted"):
        return True
    # in check mode nothing was mounted: report the label as the real run would set it
    return bool(check_mode and result.get("action") in MOUNT_ACTIONS)


def fs_labels(results, check_mode=False):
    """{spin.fs.<name>: "true"} for each file system spin_mount found (or would leave) mounted and answering."""
    return {placement.fs_label(r["item"]["name"]): "true" for r in results or [] if _carried(r, check_mode)}


def fs_failures(results):
    """The messages of the file systems that failed, one line each."""
    return ["%s: %s" % (r["item"]["name"], r.get("msg", "failed")) for r in results or [] if r.get("failed")]


class FilterModule(object):
    def filters(self):
        return {"host_filesystems": host_filesystems, "fs_labels": fs_labels, "fs_failures": fs_failures}
