# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Onboarding and offboarding a tenant in the registry (``spin_tenants``). Pure.

``onboard(registry, entry, ...)`` checks one tenant's entry against the platform (safe name,
numeric uid/gid above the system range, a uid no other tenant has, paths inside a global file
system) and returns the registry with it; ``offboard`` returns it without. ``directories`` lists
what the role creates on the global file system: the parents from the file system's mount point
down, each with ``o+x`` (so that a container running as the tenant's uid can reach its
directory, as Spin requires), then the tenant's own directories with its owner and mode.
"""
from __future__ import annotations

import copy
import posixpath
import re

from ansible_collections.spin.platform.plugins.module_utils.edge import allowance
from ansible_collections.spin.platform.plugins.module_utils.policy import placement, policy
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_settings
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

# what the registry holds per tenant (policy_settings.validate_tenants reads the same keys)
REGISTRY_KEYS = policy_settings.TENANT_KEYS
ENTRY_KEYS = ("name",) + REGISTRY_KEYS


def _roots(filesystems, roots):
    """Mount points of the named file systems, then the policy roots, normalised and unique."""
    found = [posixpath.normpath(fs["path"]) for fs in (filesystems or {}).values()]
    found += [posixpath.normpath(r) for r in (roots or policy_settings.DEFAULT_POLICY["global_fs_roots"])]
    return list(dict.fromkeys(found))


def root_of(path, filesystems=None, roots=None):
    """The deepest global file system mount point (or policy root) that holds ``path``, or None."""
    inside = [r for r in _roots(filesystems, roots) if policy.path_inside(path, r)]
    return max(inside, key=len) if inside else None


def check_entry(entry, registry, filesystems=None, roots=None, name_pattern=None, min_uid=1000, lb_platform=None):
    """Every mistake of a tenant's entry, as strings (empty: it may be onboarded). ``lb_platform``:
    the edge's ``spin_lb_*`` settings (``ports``, ``hostnames``), which the allowance may only narrow."""
    errors = []
    if not isinstance(entry, dict):
        return ["the tenant entry must be a mapping with name, uid, gid, paths and quota (ports and hostnames if "
                "the tenant has an allowance of its own)"]
    name = entry.get("name")
    pattern = name_pattern or policy_settings.DEFAULT_POLICY["name_patterns"]["tenant"]
    if not isinstance(name, str) or not re.match(pattern, name):
        errors.append("name %r is not a safe tenant name (%s: lower-case letters, digits and '-', starting with a "
                      "letter)" % (name, pattern))
    for key in sorted(set(entry) - set(ENTRY_KEYS)):
        errors.append("unknown key '%s' (a tenant entry has %s)" % (key, ", ".join(ENTRY_KEYS)))
    for key in ("uid", "gid"):
        value = entry.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append("%s must be a number, not %r" % (key, value))
        elif value < min_uid:
            errors.append("%s %d is below %d: 0 is root and low ids belong to the system; use the tenant's own "
                          "%s" % (key, value, min_uid, key))
    uid = entry.get("uid")
    for other, other_entry in sorted((registry or {}).items()):
        if other != name and isinstance(other_entry, dict) and other_entry.get("uid") == uid:
            errors.append("uid %s already belongs to tenant '%s': each tenant needs its own uid" % (uid, other))
    paths = entry.get("paths")
    if paths is None or paths == []:
        paths = []
    elif not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        errors.append("paths must be a list of absolute paths")
        paths = []
    for path in paths:
        normal = posixpath.normpath(path) if path.startswith("/") else None
        if normal is None or normal != path.rstrip("/") or "/../" in path + "/":
            errors.append("path %r must be absolute and normalised (no '..', no '//')" % path)
            continue
        root = root_of(normal, filesystems, roots)
        if root is None:
            errors.append("path %s is on no global file system (%s)" % (path, ", ".join(_roots(filesystems, roots))))
        elif normal == root:
            errors.append("path %s is the file system's mount point itself: give the tenant a directory below it"
                          % path)
    errors.extend(policy_settings.quota_errors(entry.get("quota"), "quota"))
    errors.extend(allowance.check(entry, "tenant_entry"))
    errors.extend(allowance.within_platform(entry, "tenant_entry", lb_platform))
    return errors


def onboard(registry, entry, filesystems=None, roots=None, name_pattern=None, min_uid=1000, lb_platform=None):
    """-> the registry with the tenant's entry (added or replaced). Raises SpinError listing every
    mistake; the registry as a whole must still pass the policy's own check."""
    errors = check_entry(entry, registry, filesystems, roots, name_pattern, min_uid, lb_platform)
    if errors:
        raise SpinError("tenant %r cannot be onboarded (%d problem(s)):\n%s"
                        % ((entry or {}).get("name") if isinstance(entry, dict) else entry, len(errors),
                           "\n".join(errors)))
    new = copy.deepcopy(registry or {})
    record = {key: copy.deepcopy(entry[key]) for key in REGISTRY_KEYS if entry.get(key) is not None}
    record["paths"] = [posixpath.normpath(p) for p in entry.get("paths") or []]
    new[entry["name"]] = record
    problems = policy_settings.validate_tenants(new)
    if problems:
        raise SpinError("the registry would be invalid:\n%s" % "\n".join(problems))
    return new


def offboard(registry, name):
    new = copy.deepcopy(registry or {})
    new.pop(name, None)
    return new


def directories(entry, filesystems=None, roots=None, mode="0750"):
    """What to create for the tenant, top-down: ``[{path, kind: parent|tenant, ...}]``.

    Parents (from the file system's mount point to the directory's parent) only gain ``o+x``;
    the tenant's directories get its uid, gid and ``mode``."""
    out, seen = [], set()
    for path in entry.get("paths") or []:
        path = posixpath.normpath(path)
        root = root_of(path, filesystems, roots)
        if root is None:
            raise SpinError("path %s is on no global file system" % path)
        chain, parent = [], posixpath.dirname(path)
        while policy.path_inside(parent, root):
            chain.append(parent)
            if parent == root:
                break
            parent = posixpath.dirname(parent)
        for parent in reversed(chain):
            if parent not in seen:
                seen.add(parent)
                out.append({"path": parent, "kind": "parent", "mode": "o+x"})
        if path not in seen:
            seen.add(path)
            out.append({"path": path, "kind": "tenant", "owner": entry["uid"], "group": entry["gid"], "mode": mode})
    return out


def filesystems_of(entry, filesystems):
    """The named file systems (``spin_global_fs``) the tenant's paths lie on, as
    ``[{name, src, path, fstype}]``: the role checks they are mounted before it creates anything."""
    names = sorted({placement.filesystem_of(p, filesystems) for p in entry.get("paths") or []} - {None})
    return [{"name": n, "src": filesystems[n].get("src"), "path": filesystems[n]["path"],
             "fstype": filesystems[n]["fstype"]} for n in names]
