# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Placement: by data, and where tenants' tasks may go. Pure.

The centre's global file systems are named in the inventory (``spin_global_fs``, the same data
the role ``global_fs`` mounts from); the role labels every node that really carries a file system
``spin.fs.<name>=true``. A service that bind-mounts a path inside a file system's mount point
gets the placement constraint ``node.labels.spin.fs.<name>==true``, so Swarm runs its tasks only
where the data is; a stack whose file system no node carries is refused before anything is
created (rule ``global-fs-placement``).

The nodes tenants get are the platform's to say (``spin_platform.tenant_constraints``, added to
every tenant service); a tenant's own constraints and preferences may only narrow them, by node
labels outside the platform's namespaces and the nodes' OS and architecture (rule ``placement``,
``tenant_placement_problem``). Constraints are read as Swarm reads them (``split_constraint``).
"""
from __future__ import annotations

import posixpath
import re

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

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


# ---------------------------------------------------------------------------------------------
# constraints as Swarm reads them, and what tenants may place by

# swarmkit's manager/constraint: "==" is looked for before "!="; both sides are trimmed of Go's white
# space; the key and the value must match these patterns (Go's (?i)[a-z] also takes the long s and the
# Kelvin sign, its \s is ASCII white space only). Anything else Swarm refuses when the service is made.
_GO_SPACE = "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a" \
            "\u2028\u2029\u202f\u205f\u3000"
_LETTER = "A-Za-z\u017f\u212a"
_SWARM_KEY = re.compile(r"[%s_][%s0-9\-_.]+" % (_LETTER, _LETTER))
_SWARM_VALUE = re.compile(r"[%s0-9:\-_\t\n\f\r .*()?+\[\]\\^$|/]+" % _LETTER)
NODE_LABELS = "node.labels."
ENGINE_LABELS = "engine.labels."
# attributes a tenant may narrow by, besides node labels outside the platform's namespaces
TENANT_ATTRIBUTES = ("node.platform.os", "node.platform.arch")
# the platform's business: (what the attribute is, for the message)
PLATFORM_ATTRIBUTES = {"node.role": "the node's role", "node.id": "the node's ID",
                       "node.hostname": "the node's host name", "node.ip": "the node's address"}
TENANTS_MAY = ("tenants narrow placement only by node.labels.<name> (labels outside spin.*) and node.platform.os / "
               "node.platform.arch")
_PLATFORMS_TO_SAY = "which nodes run tenants' services is the platform's to say"


def split_constraint(text):
    """``"node.labels.zone == a"`` -> ``("node.labels.zone", "==", "a")``, as Swarm reads it, or None where
    Swarm would refuse it (no operator, a key or value outside its patterns)."""
    for operator in ("==", "!="):
        if operator in text:
            key, value = (part.strip(_GO_SPACE) for part in text.split(operator, 1))
            if _SWARM_KEY.fullmatch(key) and _SWARM_VALUE.fullmatch(value):
                return key, operator, value
            return None
    return None


def _label_of(key, prefix):
    """The label a ``node.labels.`` / ``engine.labels.`` key names (Swarm: the prefix's ASCII letters in any
    case, the label as written), or None."""
    head = key[:len(prefix)]
    if len(key) > len(prefix) and head.isascii() and head.lower() == prefix:
        return key[len(prefix):]
    return None


def _platform_label(label, namespaces):
    folded = label.casefold()
    return any(folded.startswith(prefix.casefold()) for prefix in namespaces)


def tenant_placement_problem(key, namespaces):
    """What is wrong with a tenant placing by ``key`` (a constraint's key or a spread descriptor), or None.
    ``namespaces``: the platform's label prefixes (policy ``reserved_label_prefixes``: spin., ...).
    Keys are compared as Swarm compares them (case-insensitively, Unicode folding: ``node.ho\u017ftname`` is
    node.hostname); whatever is not allowed is refused, also what Swarm does not know."""
    label = _label_of(key, NODE_LABELS)
    if label is not None:
        if _platform_label(label, namespaces):
            return "the platform's own node label %s (edge, build and registry nodes, global file systems)" % label
        return None
    folded = key.casefold()
    if folded in TENANT_ATTRIBUTES:
        return None
    if folded in PLATFORM_ATTRIBUTES:
        return "%s (%s): %s" % (PLATFORM_ATTRIBUTES[folded], key, _PLATFORMS_TO_SAY)
    if _label_of(key, ENGINE_LABELS) is not None:
        return "the engines' own labels (%s), which the platform does not manage" % key
    return "'%s', which is no node attribute tenants may place by" % key


def platform_constraints(value):
    """``spin_platform.tenant_constraints`` (infra staff's: the constraints every tenant service gets,
    such as node.role==worker) -> the list; SpinError naming the variable when it is not a list of
    constraints Swarm reads."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(c, str) and split_constraint(c) for c in value):
        raise SpinError("spin_platform.tenant_constraints must be a list of placement constraints Swarm reads, "
                        "like [node.role==worker, node.labels.spin.edge!=true], not %r" % (value,))
    return list(value)


def with_platform_constraints(placement, constraints):
    """A spin_service ``placement`` (or None) with the platform's constraints first, once each."""
    if not constraints:
        return placement
    placement = dict(placement or {"constraints": [], "preferences": [], "max_replicas": None})
    placement["constraints"] = list(constraints) + [c for c in placement.get("constraints") or []
                                                    if c not in constraints]
    return placement
