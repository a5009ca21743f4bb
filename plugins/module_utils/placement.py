# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placement by data. Pure.

The centre's global file systems are named in the inventory (``spin_global_fs``, the same data
the role ``global_fs`` mounts from); the role labels every node that really carries a file system
``spin.fs.<name>=true``. A service that bind-mounts a path inside a file system's mount point
gets the placement constraint ``node.labels.spin.fs.<name>==true``, so Swarm runs its tasks only
where the data is; a stack whose file system no node carries is refused before anything is
created (rule ``global-fs-placement``).
"""
from __future__ import annotations

import posixpath
import re

from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError

LABEL_PREFIX = "spin.fs."
RULE = "global-fs-placement"
NAME = re.compile(r"^[a-z][a-z0-9-]{0,62}$")
FS_KEYS = {"src", "path", "fstype", "opts", "groups", "state", "dump", "passno"}


def fs_label(name):
    return LABEL_PREFIX + name


def fs_constraint(name):
    return "node.labels.%s==true" % fs_label(name)


def _inside(path, root):
    path, root = posixpath.normpath(path), posixpath.normpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def check_filesystems(filesystems):
    """``spin_global_fs`` -> ``{name: entry}``; raises SpinError listing every mistake."""
    if filesystems is None:
        return {}
    if not isinstance(filesystems, dict):
        raise SpinError("spin_global_fs must be a mapping of file system name -> {src, path, fstype, opts, groups}")
    errors = []
    for name, entry in filesystems.items():
        where = "spin_global_fs.%s" % name
        if not isinstance(name, str) or not NAME.match(name):
            errors.append("%s: the name must be lower-case letters, digits and '-' (it becomes the node label "
                          "%s<name>)" % (where, LABEL_PREFIX))
        if not isinstance(entry, dict):
            errors.append("%s must be a mapping with src, path and fstype" % where)
            continue
        for key in sorted(set(entry) - FS_KEYS):
            errors.append("%s: unknown key '%s' (known: %s)" % (where, key, ", ".join(sorted(FS_KEYS))))
        path = entry.get("path")
        if not isinstance(path, str) or not path.startswith("/") or posixpath.normpath(path) == "/":
            errors.append("%s.path must be the absolute mount point, not %r" % (where, path))
        if not isinstance(entry.get("fstype"), str) or not entry.get("fstype"):
            errors.append("%s.fstype is required (nfs, nfs4, gpfs, fuse.sshfs, ...)" % where)
    if errors:
        raise SpinError("spin_global_fs has %d error(s):\n%s" % (len(errors), "\n".join(errors)))
    return filesystems


def filesystem_of(source, filesystems):
    """The name of the file system whose mount point holds ``source`` (the deepest), or None."""
    best = None
    for name, entry in (filesystems or {}).items():
        if _inside(source, entry["path"]) and (best is None or len(entry["path"]) > len(filesystems[best]["path"])):
            best = name
    return best


def service_filesystems(volumes, filesystems):
    """Names of the file systems a service's bind mounts (model ``volumes``) lie in, sorted."""
    names = {filesystem_of(v["source"], filesystems) for v in volumes or []
             if v.get("type") == "bind" and v.get("source") and v["source"].startswith("/")}
    return sorted(n for n in names if n)


def with_fs_constraints(placement, names):
    """A spin_service ``placement`` (or None) with a constraint per file system added once."""
    if not names:
        return placement
    placement = dict(placement or {"constraints": [], "preferences": [], "max_replicas": None})
    constraints = list(placement.get("constraints") or [])
    for name in names:
        if fs_constraint(name) not in constraints:
            constraints.append(fs_constraint(name))
    placement["constraints"] = constraints
    return placement


def carried_filesystems(nodes):
    """{name: [node hostnames]} of the file systems that nodes able to run tasks carry."""
    carried = {}
    for node in nodes or []:
        spec, status = node.get("Spec") or {}, node.get("Status") or {}
        if spec.get("Availability", "active") != "active" or status.get("State", "ready") != "ready":
            continue
        host = (node.get("Description") or {}).get("Hostname") or node.get("ID")
        for key, value in (spec.get("Labels") or {}).items():
            if key.startswith(LABEL_PREFIX) and str(value).lower() == "true":
                carried.setdefault(key[len(LABEL_PREFIX):], []).append(host)
    return carried


def placement_violations(binds, filesystems, nodes, files=None):
    """A violation for each bind mount (``policy_facts.bind_mounts`` entries) on a file system that no
    ready, active node carries."""
    carried = carried_filesystems(nodes)
    compose_file = (files or {}).get("compose") or "docker-compose.yml"
    found = []
    for bind in binds or []:
        name = filesystem_of(bind["source"], filesystems) if bind.get("source", "").startswith("/") else None
        if name is None or name in carried:
            continue
        found.append({
            "rule": RULE, "file": compose_file, "service": bind["service"], "key": bind.get("key") or "volumes",
            "message": "%s is on the global file system '%s', which no node carries now (no ready node has the label "
                       "%s=true)" % (bind["source"], name, fs_label(name)),
            "fix": "platform staff: mount '%s' on the nodes with the role spin.platform.global_fs (it labels the "
                   "nodes that really have it); nothing was created" % name})
    return found
