# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bind store: where a stack's relative directory binds live on the platform (issue 18).

A laptop's ``./app:/var/www/html`` binds a directory of the compose file's own directory. A Swarm
task runs on some node, where the submission does not exist; so the manager syncs the directory's
content (read on the controller: ``plugin_utils/bind_content.py``) into the **bind store**, a
directory every node that runs the service sees at the same path (``spin_platform.bind_store``:
on a cluster a directory of a global file system the nodes mount, which places the service like
any other bind of it; on a one-node platform a local directory), and the service bind-mounts it:

- ``<store>/<tenant>/<stack>/<key>@<digest[:12]>`` when every mount of it is read-only: a new
  directory for new content, made aside and renamed into place, so a changed directory is a
  changed mount (the service is updated, its old tasks keep the old files until they are replaced,
  and an undone deploy finds its old directory still there); older versions go after a deploy
  succeeds;
- ``<store>/<tenant>/<stack>/<key>`` when any mount is read-write: one directory, synced in place on
  every deploy (the submission's new and changed files are written, the files an earlier deploy put
  there and the submission dropped are removed); what the service wrote itself stays, as on a
  laptop. It is removed only with the stack's volumes.

What the last deploy put there is recorded in ``<store>/<tenant>/<stack>/.spin/<key>.json``, out of
every container's reach. The store is written as root and is partly writable by tenants' containers
(a read-write directory), so nothing follows a link below the store's root: ``bind_store_files.py``
holds the file operations (descriptors, ``O_NOFOLLOW``, rename over, descriptor-based removal).
"""
from __future__ import annotations

import json
import os
import re
import stat

from ansible_collections.spin.platform.plugins.module_utils.stack import bind_store_files as files
from ansible_collections.spin.platform.plugins.module_utils.policy import placement
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

DEFAULT_ROOT = "/srv/spin/binds"
STATE_DIR = files.STATE_DIR
_VERSION = re.compile(r"^(?P<key>.+)@(?P<digest>[0-9a-f]{12})$")


# ---- names (pure: the translator uses them too) ---------------------------------------------

def check_root(root):
    """The store's root from ``spin_platform.bind_store``: absolute and normalised, else SpinError."""
    if not isinstance(root, str) or not root.startswith("/") or os.path.normpath(root) != root or root == "/":
        raise SpinError("spin_platform.bind_store must be an absolute, normalised directory other than / (where the "
                        "platform keeps stacks' bind-mounted directories), not %r" % (root,))
    return root


def stack_dir(root, tenant, stack):
    return os.path.join(check_root(root), tenant, stack)


def entry_path(root, tenant, stack, key, digest, read_only):
    """Where one bind-store entry lives: versioned by content when read-only, one place when not."""
    name = "%s@%s" % (key, digest[:12]) if read_only else key
    return os.path.join(stack_dir(root, tenant, stack), name)


def describe(item):
    """One manifest entry in words, for the diff."""
    if item[1] == "f":
        return "file, %d bytes, mode %04o, sha256 %s" % (item[3], item[2], item[4][:12])
    if item[1] == "d":
        return "directory, mode %04o" % item[2]
    return "link to %s" % item[2]


def shared_problem(root, filesystems, nodes):
    """Why a store on ``root`` cannot serve the swarm's ``nodes`` (inspect output), or None: a store that
    lies on no global file system (``spin_global_fs``) is one node's directory, which a swarm of
    several cannot share; one on a file system that no ready node carries (label ``spin.fs.<name>``)
    would leave every service that mounts it pending."""
    root = check_root(root)
    name = placement.filesystem_of(root, filesystems or {})
    ready = [n for n in nodes or [] if (n.get("Status") or {}).get("State", "ready") == "ready"
             and (n.get("Spec") or {}).get("Availability", "active") == "active"]
    if name is None:
        if len(ready) <= 1:
            return None
        return ("the bind store %s lies on no global file system (spin_global_fs) and the swarm has %d nodes: a task "
                "on another node would find nothing there. Platform staff: set spin_platform.bind_store to a "
                "directory of a file system every node mounts (docs/compose-keys.md, Relative bind mounts)"
                % (root, len(ready)))
    label = placement.fs_label(name)
    if not any(((n.get("Spec") or {}).get("Labels") or {}).get(label) == "true" for n in ready):
        return ("the bind store %s is on the global file system '%s', which no node carries now (no ready node has "
                "the label %s=true). Platform staff: mount it with the role spin.platform.global_fs" % (root, name, label))
    return None


# ---- plan -------------------------------------------------------------------------------------

class EntryPlan(object):
    """One bind-store entry: ``action`` create, update or none; the files that differ."""

    def __init__(self, entry, path, previous):
        self.entry = entry
        self.key = entry["key"]
        self.path = path
        self.previous = previous or {}
        self.action = "none"
        self.added, self.changed, self.removed = [], [], []
        self.before, self.after = {}, {}

    def summary(self):
        out = {"kind": "bind store", "name": self.path, "action": self.action}
        if self.action != "none":
            out["files"] = {"added": self.added, "changed": self.changed, "removed": self.removed}
        return out


def _state(stack_fd, key):
    try:
        fd = os.open(os.path.join(STATE_DIR, key + ".json"), files.READ, dir_fd=stack_fd)
    except OSError:
        return None
    try:
        with os.fdopen(os.dup(fd), "r") as handle:
            return json.load(handle)
    except ValueError:
        return None
    finally:
        os.close(fd)


def _compare(plan, manifest, actual_of):
    """Fill ``plan``'s added/changed and before/after from what is there (``actual_of(item)``)."""
    for item in manifest:
        actual = actual_of(item)
        if actual == item:
            continue
        name = files.shown(item[0], plan.key)
        (plan.added if actual is None else plan.changed).append(item[0])
        if actual is not None:
            plan.before[name] = describe(actual) if actual[1] in "fdl" else "not a file, directory or link"
        plan.after[name] = describe(item)


def plan(store):
    """-> [EntryPlan] for ``store`` (the translator's ``bind_store``: root, tenant, stack, entries),
    from what the store holds now; reads only."""
    root, tenant, stack = store["root"], store["tenant"], store["stack"]
    base = stack_dir(root, tenant, stack)
    try:
        stack_fd = os.open(base, files.DIR)
    except OSError:
        stack_fd = None
    plans = []
    try:
        for entry in store.get("entries") or []:
            path = entry_path(root, tenant, stack, entry["key"], entry["digest"], entry["read_only"])
            previous = _state(stack_fd, entry["key"]) if stack_fd is not None else None
            one = EntryPlan(entry, path, previous)
            plans.append(one)
            manifest = [list(item) for item in entry["manifest"]]
            name = os.path.basename(path)
            here = files.lstat(name, stack_fd) if stack_fd is not None else None
            old = {item[0]: item for item in (previous or {}).get("manifest") or []}
            if entry["read_only"]:
                if here is not None and (previous or {}).get("digest") == entry["digest"]:
                    continue
                _compare(one, manifest, lambda item: old.get(item[0]))
            elif here is not None and stat.S_ISDIR(here.st_mode) == (entry["kind"] != "file"):
                top = os.open(name, files.DIR, dir_fd=stack_fd) if entry["kind"] != "file" else os.dup(stack_fd)
                try:
                    if entry["kind"] == "file":
                        _compare(one, manifest, lambda item: _file_actual(top, name, item))
                    else:
                        _compare(one, manifest, lambda item: files.actual(top, item[0], item))
                finally:
                    os.close(top)
            else:
                _compare(one, manifest, lambda item: None)
            new = {item[0] for item in manifest}
            one.removed = sorted(rel for rel in old if rel not in new)
            for rel in one.removed:
                one.before[files.shown(rel, one.key)] = describe(old[rel])
            if here is None or one.added or one.changed or one.removed:
                one.action = "create" if here is None else "update"
    finally:
        if stack_fd is not None:
            os.close(stack_fd)
    return plans


def _file_actual(stack_fd, name, item):
    """What is at the file entry ``name`` now, as its manifest entry (path "")."""
    found = files.actual(stack_fd, name, [name] + list(item[1:]))
    return [item[0]] + found[1:] if found else None


def diff(plans):
    before, after = {}, {}
    for one in plans:
        if one.action == "none":
            continue
        title = "bind store %s" % one.path
        before[title] = one.before or ("absent" if one.action == "create" else {})
        after[title] = one.after or "exists"
    return {"before": before, "after": after}


# ---- apply ------------------------------------------------------------------------------------

def apply(plans, store, archive, uid=None, gid=None):
    """Carry the plans out: the entries that differ, from ``archive`` (the controller's ``bind_content``
    archive, whose every file is checked against the manifest); the state of each written. -> notes."""
    todo = {p.key: p for p in plans if p.action != "none"}
    if not todo:
        return []
    root_fd = files.open_dir(check_root(store["root"]), create=True)
    try:
        stack_fd = files.stack_fd_of(root_fd, store["tenant"], store["stack"])
    finally:
        os.close(root_fd)
    notes = []
    try:
        writers = {}
        for key, one in todo.items():
            writers[key] = _prepare(stack_fd, one, uid, gid)
        for key, rel, member, data in files.members(archive) if archive else ():
            if key not in writers:
                continue
            if not rel and one_kind(todo[key]) == "dir":
                continue
            writers[key][0].member(rel, member, data)
        for key, one in todo.items():
            writer, staging = writers[key]
            missing = writer.missing()
            if missing:
                raise SpinError("the bind store archive lacks %s: run the deploy again"
                                % ", ".join(files.shown(rel, key) for rel in missing[:5]))
            _finish(stack_fd, one, writer, staging)
            files.write_state(stack_fd, one.entry, one.path)
            notes.append("bind store %s: %d added, %d changed, %d removed" % (one.path, len(one.added),
                                                                              len(one.changed), len(one.removed)))
    finally:
        os.close(stack_fd)
    return notes


def one_kind(one):
    return one.entry["kind"] if one.entry["kind"] != "missing" else "dir"


def _prepare(stack_fd, one, uid, gid):
    """-> (writer, staging name or None). A read-only version is built under a name of its own and
    renamed into place when complete; a read-write directory is written where it is."""
    name = os.path.basename(one.path)
    kind = one_kind(one)
    if one.entry["read_only"]:
        staging = "%s.spin-new-%d" % (name, os.getpid())
        files.remove_entry(stack_fd, staging)
        if kind == "file":
            return files.Writer(one.entry, stack_fd, uid, gid, file_name=staging), staging
        files.make_dir(stack_fd, staging, (0o755, uid, gid))
        top = os.open(staging, files.DIR, dir_fd=stack_fd)
        return files.Writer(one.entry, top, uid, gid), staging
    if kind == "file":
        return files.Writer(one.entry, stack_fd, uid, gid, file_name=name, only=set(one.added + one.changed)), None
    here = files.lstat(name, stack_fd)
    if here is None or not stat.S_ISDIR(here.st_mode):
        # made once; later the service may own it (a database chowns its data directory): left as it is
        files.make_dir(stack_fd, name, (0o755, uid, gid))
    return files.Writer(one.entry, os.open(name, files.DIR, dir_fd=stack_fd), uid, gid, only=set(one.added + one.changed)), None


def _finish(stack_fd, one, writer, staging):
    name = os.path.basename(one.path)
    if writer.file_name is None:
        top = writer.top_fd
        try:
            if not one.entry["read_only"]:
                for rel in sorted(one.removed, reverse=True):
                    files.drop(top, rel)
        finally:
            os.close(top)
    if staging is not None:
        files.remove_entry(stack_fd, name)
        os.rename(staging, name, src_dir_fd=stack_fd, dst_dir_fd=stack_fd)


# ---- after a deploy, and a removal ------------------------------------------------------------

def prune(store):
    """Remove the read-only versions of the stack that its entries no longer use (after a deploy
    succeeded), and the records of entries it dropped. Read-write directories stay. -> removed paths."""
    base = stack_dir(store["root"], store["tenant"], store["stack"])
    keep = {os.path.basename(entry_path(store["root"], store["tenant"], store["stack"], e["key"], e["digest"],
                                        e["read_only"])) for e in store.get("entries") or []}
    keys = {e["key"] for e in store.get("entries") or []}
    try:
        stack_fd = os.open(base, files.DIR)
    except OSError:
        return []
    removed = []
    try:
        for name in sorted(os.listdir(stack_fd)):
            match = _VERSION.match(name)
            if (match and name not in keep) or ".spin-new-" in name:
                files.remove_entry(stack_fd, name)
                removed.append(os.path.join(base, name))
        try:
            state_fd = os.open(STATE_DIR, files.DIR, dir_fd=stack_fd)
        except OSError:
            return removed
        try:
            for name in os.listdir(state_fd):
                key = name[:-len(".json")] if name.endswith(".json") else None
                if key is not None and key not in keys and files.lstat(key, stack_fd) is None:
                    os.unlink(name, dir_fd=state_fd)
        finally:
            os.close(state_fd)
    finally:
        os.close(stack_fd)
    return removed


def kept_directories(root, tenant, stack, keys=()):
    """The read-write directories of the stack that no entry of ``keys`` names (data the services wrote)."""
    base = stack_dir(root, tenant, stack)
    try:
        names = os.listdir(base)
    except OSError:
        return []
    return sorted(os.path.join(base, n) for n in names
                  if n != STATE_DIR and not _VERSION.match(n) and ".spin-new-" not in n and n not in keys)


def remove(root, tenant, stack, remove_data=False, check_mode=False):
    """A removed stack's bind store: its read-only versions and records; its read-write directories
    too with ``remove_data``. -> (removed paths, kept paths)."""
    base = stack_dir(root, tenant, stack)
    try:
        names = sorted(os.listdir(base))
    except OSError:
        return [], []
    removed, kept = [], []
    for name in names:
        data = name != STATE_DIR and not _VERSION.match(name) and ".spin-new-" not in name
        (kept if data and not remove_data else removed).append(os.path.join(base, name))
    if check_mode:
        return removed, kept
    stack_fd = os.open(base, files.DIR)
    try:
        for path in removed:
            files.remove_entry(stack_fd, os.path.basename(path))
    finally:
        os.close(stack_fd)
    if not kept:
        try:
            os.rmdir(base)
        except OSError:
            pass
    return removed, kept
