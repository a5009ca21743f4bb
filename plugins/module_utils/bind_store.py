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
(a read-write directory), so nothing here follows a link below the store's root: every path is
opened one component at a time from a directory descriptor with ``O_NOFOLLOW``, a file is written
under a temporary name and renamed over whatever was there (a link is replaced, never written
through), and directories are removed with ``shutil.rmtree``'s descriptor-based walk.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import stat
import tarfile

from . import placement
from .errors import SpinError

DEFAULT_ROOT = "/srv/spin/binds"
STATE_DIR = ".spin"
_VERSION = re.compile(r"^(?P<key>.+)@(?P<digest>[0-9a-f]{12})$")
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


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


# ---- descriptors ------------------------------------------------------------------------------

def _open_dir(path, create=False):
    """Open the directory ``path`` (the store's root and what is below it is the platform's: created
    0755 root when missing)."""
    try:
        return os.open(path, _DIR)
    except OSError as exc:
        if exc.errno != errno.ENOENT or not create:
            raise SpinError("the bind store %s cannot be opened: %s" % (path, exc.strerror))
    os.makedirs(path, 0o755, exist_ok=True)
    return os.open(path, _DIR)


def _lstat(name, dir_fd):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise


def _walk_to(top_fd, rel, create=None):
    """-> (descriptor of ``rel``'s parent, its last name), opened without following links; None when a
    parent is missing or no directory (``create``: (mode, uid, gid) makes what is missing, and replaces
    a link or file where a directory belongs)."""
    parts = [p for p in rel.split("/") if p]
    fd = os.dup(top_fd)
    try:
        for part in parts[:-1]:
            try:
                following = os.open(part, _DIR, dir_fd=fd)
            except OSError as exc:
                if create is None or exc.errno not in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                    os.close(fd)
                    return None
                _replace_with_dir(fd, part, create)
                following = os.open(part, _DIR, dir_fd=fd)
            os.close(fd)
            fd = following
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1] if parts else None


def _remove(dir_fd, name):
    """Remove whatever ``name`` is (a directory with everything in it), following no link."""
    info = _lstat(name, dir_fd)
    if info is None:
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(name, dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)


def _replace_with_dir(dir_fd, name, create):
    mode, uid, gid = create
    info = _lstat(name, dir_fd)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        _remove(dir_fd, name)
    if info is None or not stat.S_ISDIR(info.st_mode):
        os.mkdir(name, 0o700, dir_fd=dir_fd)
    fd = os.open(name, _DIR, dir_fd=dir_fd)
    try:
        _own(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def _own(fd, uid, gid):
    if os.geteuid() == 0 and uid is not None:
        os.fchown(fd, uid, -1 if gid is None else gid)


def _actual(top_fd, rel, expected):
    """The manifest entry of what is at ``rel`` now (None: nothing, or not reachable without a link)."""
    found = _walk_to(top_fd, rel) if rel else (os.dup(top_fd), None)
    if found is None:
        return None
    parent, name = found
    try:
        if name is None:
            info = os.fstat(parent)
            return [rel, "d", stat.S_IMODE(info.st_mode)] if stat.S_ISDIR(info.st_mode) else None
        info = _lstat(name, parent)
        if info is None:
            return None
        if stat.S_ISLNK(info.st_mode):
            return [rel, "l", os.readlink(name, dir_fd=parent)]
        if stat.S_ISDIR(info.st_mode):
            return [rel, "d", stat.S_IMODE(info.st_mode)]
        if not stat.S_ISREG(info.st_mode):
            return [rel, "?"]
        if expected is None or expected[1] != "f" or expected[3] != info.st_size:
            return [rel, "f", stat.S_IMODE(info.st_mode), info.st_size, ""]
        fd = os.open(name, _READ, dir_fd=parent)
        try:
            sha = hashlib.sha256()
            with os.fdopen(os.dup(fd), "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 16), b""):
                    sha.update(chunk)
            return [rel, "f", stat.S_IMODE(os.fstat(fd).st_mode), info.st_size, sha.hexdigest()]
        finally:
            os.close(fd)
    finally:
        os.close(parent)


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
        fd = os.open(os.path.join(STATE_DIR, key + ".json"), _READ, dir_fd=stack_fd)
    except OSError:
        return None
    try:
        with os.fdopen(os.dup(fd), "r") as handle:
            return json.load(handle)
    except ValueError:
        return None
    finally:
        os.close(fd)


def _shown(rel, key):
    return "%s/%s" % (key, rel) if rel else key


def _compare(plan, manifest, actual_of):
    """Fill ``plan``'s added/changed and before/after from what is there (``actual_of(item)``)."""
    for item in manifest:
        actual = actual_of(item)
        if actual == item:
            continue
        name = _shown(item[0], plan.key)
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
        stack_fd = os.open(base, _DIR)
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
            here = _lstat(name, stack_fd) if stack_fd is not None else None
            old = {item[0]: item for item in (previous or {}).get("manifest") or []}
            if entry["read_only"]:
                if here is not None and (previous or {}).get("digest") == entry["digest"]:
                    continue
                _compare(one, manifest, lambda item: old.get(item[0]))
            elif here is not None and stat.S_ISDIR(here.st_mode) == (entry["kind"] != "file"):
                top = os.open(name, _DIR, dir_fd=stack_fd) if entry["kind"] != "file" else os.dup(stack_fd)
                try:
                    if entry["kind"] == "file":
                        _compare(one, manifest, lambda item: _file_actual(top, name, item))
                    else:
                        _compare(one, manifest, lambda item: _actual(top, item[0], item))
                finally:
                    os.close(top)
            else:
                _compare(one, manifest, lambda item: None)
            new = {item[0] for item in manifest}
            one.removed = sorted(rel for rel in old if rel not in new)
            for rel in one.removed:
                one.before[_shown(rel, one.key)] = describe(old[rel])
            if here is None or one.added or one.changed or one.removed:
                one.action = "create" if here is None else "update"
    finally:
        if stack_fd is not None:
            os.close(stack_fd)
    return plans


def _file_actual(stack_fd, name, item):
    """What is at the file entry ``name`` now, as its manifest entry (path "")."""
    found = _actual(stack_fd, name, [name] + list(item[1:]))
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

class _Writer(object):
    """Writes one entry's files from the archive's members into ``top_fd`` (the entry's directory,
    or, for a file entry, the stack's directory with ``file_name``)."""

    def __init__(self, entry, top_fd, uid, gid, file_name=None, only=None):
        self.entry = entry
        self.top_fd = top_fd
        self.uid, self.gid = uid, gid
        self.file_name = file_name
        self.only = only      # the paths to write (a read-write directory: what differs); None: all
        self.wanted = {item[0]: list(item) for item in entry["manifest"]}
        self.written = set()

    def member(self, rel, member, data):
        item = self.wanted.get(rel)
        kind = {True: "d"}.get(member.isdir()) or ("l" if member.issym() else "f" if member.isfile() else "?")
        if item is None or item[1] != kind:
            raise SpinError("the bind store archive holds %s, which the verdict did not see: run the deploy again"
                            % _shown(rel, self.entry["key"]))
        if self.only is not None and rel not in self.only:
            # the same as in place: left alone (its owner too, which the service may have changed)
            self.written.add(rel)
            return
        if self.file_name is not None:
            parent, name = os.dup(self.top_fd), self.file_name
        else:
            parent, name = _walk_to(self.top_fd, rel, create=(0o755, self.uid, self.gid))
        try:
            if kind == "d":
                _replace_with_dir(parent, name, (item[2], self.uid, self.gid))
            elif kind == "l":
                self._link(parent, name, item[2])
            else:
                self._file(parent, name, item, data)
        finally:
            os.close(parent)
        self.written.add(rel)

    def _temporary(self, parent, name):
        return ".spin-%s-%d" % (hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:8], os.getpid())

    def _link(self, parent, name, target):
        tmp = self._temporary(parent, name)
        _remove(parent, tmp)
        os.symlink(target, tmp, dir_fd=parent)
        if os.geteuid() == 0 and self.uid is not None:
            os.chown(tmp, self.uid, -1 if self.gid is None else self.gid, dir_fd=parent, follow_symlinks=False)
        self._into_place(parent, tmp, name)

    def _file(self, parent, name, item, data):
        tmp = self._temporary(parent, name)
        _remove(parent, tmp)
        fd = os.open(tmp, _WRITE, 0o600, dir_fd=parent)
        sha, size = hashlib.sha256(), 0
        try:
            with os.fdopen(os.dup(fd), "wb") as out:
                for chunk in iter(lambda: data.read(1 << 16), b""):
                    sha.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if (size, sha.hexdigest()) != (item[3], item[4]):
                raise SpinError("%s in the bind store archive is not the file the verdict saw: run the deploy again"
                                % _shown(item[0], self.entry["key"]))
            _own(fd, self.uid, self.gid)
            os.fchmod(fd, item[2])
        except BaseException:
            os.close(fd)
            _remove(parent, tmp)
            raise
        os.close(fd)
        self._into_place(parent, tmp, name)

    @staticmethod
    def _into_place(parent, tmp, name):
        """Rename over what is there: a file or link is replaced as a name, never written through."""
        info = _lstat(name, parent)
        if info is not None and stat.S_ISDIR(info.st_mode):
            _remove(parent, name)
        os.rename(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)

    def missing(self):
        return sorted(rel for rel in self.wanted if rel not in self.written)


def _write_state(stack_fd, entry, path):
    try:
        os.mkdir(STATE_DIR, 0o700, dir_fd=stack_fd)
    except FileExistsError:
        pass
    state_fd = os.open(STATE_DIR, _DIR, dir_fd=stack_fd)
    try:
        tmp = entry["key"] + ".json.tmp"
        _remove(state_fd, tmp)
        fd = os.open(tmp, _WRITE, 0o600, dir_fd=state_fd)
        with os.fdopen(fd, "w") as out:
            json.dump({"digest": entry["digest"], "path": path, "read_only": entry["read_only"],
                       "manifest": entry["manifest"]}, out, sort_keys=True)
        os.rename(tmp, entry["key"] + ".json", src_dir_fd=state_fd, dst_dir_fd=state_fd)
    finally:
        os.close(state_fd)


def _members(archive):
    """(key, rel, member, file object) of each member of the controller's archive."""
    with tarfile.open(archive, mode="r|") as tar:
        for member in tar:
            key, _sep, rel = member.name.partition("/")
            data = tar.extractfile(member) if member.isfile() else None
            yield key, rel, member, data


def apply(plans, store, archive, uid=None, gid=None):
    """Carry the plans out: the entries that differ, from ``archive`` (the controller's ``bind_content``
    archive, whose every file is checked against the manifest); the state of each written. -> notes."""
    todo = {p.key: p for p in plans if p.action != "none"}
    if not todo:
        return []
    root_fd = _open_dir(check_root(store["root"]), create=True)
    try:
        stack_fd = _stack_fd(root_fd, store["tenant"], store["stack"])
    finally:
        os.close(root_fd)
    notes = []
    try:
        writers = {}
        for key, one in todo.items():
            writers[key] = _prepare(stack_fd, one, uid, gid)
        for key, rel, member, data in _members(archive) if archive else ():
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
                                % ", ".join(_shown(rel, key) for rel in missing[:5]))
            _finish(stack_fd, one, writer, staging)
            _write_state(stack_fd, one.entry, one.path)
            notes.append("bind store %s: %d added, %d changed, %d removed" % (one.path, len(one.added),
                                                                              len(one.changed), len(one.removed)))
    finally:
        os.close(stack_fd)
    return notes


def one_kind(one):
    return one.entry["kind"] if one.entry["kind"] != "missing" else "dir"


def _stack_fd(root_fd, tenant, stack):
    fd = os.dup(root_fd)
    for name in (tenant, stack):
        info = _lstat(name, fd)
        if info is None:
            os.mkdir(name, 0o755, dir_fd=fd)
        elif not stat.S_ISDIR(info.st_mode):
            os.close(fd)
            raise SpinError("the bind store holds %s where a directory belongs: platform staff remove it" % name)
        following = os.open(name, _DIR, dir_fd=fd)
        os.close(fd)
        fd = following
    return fd


def _prepare(stack_fd, one, uid, gid):
    """-> (writer, staging name or None). A read-only version is built under a name of its own and
    renamed into place when complete; a read-write directory is written where it is."""
    name = os.path.basename(one.path)
    kind = one_kind(one)
    if one.entry["read_only"]:
        staging = "%s.spin-new-%d" % (name, os.getpid())
        _remove(stack_fd, staging)
        if kind == "file":
            return _Writer(one.entry, stack_fd, uid, gid, file_name=staging), staging
        _replace_with_dir(stack_fd, staging, (0o755, uid, gid))
        top = os.open(staging, _DIR, dir_fd=stack_fd)
        return _Writer(one.entry, top, uid, gid), staging
    if kind == "file":
        return _Writer(one.entry, stack_fd, uid, gid, file_name=name, only=set(one.added + one.changed)), None
    here = _lstat(name, stack_fd)
    if here is None or not stat.S_ISDIR(here.st_mode):
        # made once; later the service may own it (a database chowns its data directory): left as it is
        _replace_with_dir(stack_fd, name, (0o755, uid, gid))
    return _Writer(one.entry, os.open(name, _DIR, dir_fd=stack_fd), uid, gid, only=set(one.added + one.changed)), None


def _finish(stack_fd, one, writer, staging):
    name = os.path.basename(one.path)
    if writer.file_name is None:
        top = writer.top_fd
        try:
            if not one.entry["read_only"]:
                for rel in sorted(one.removed, reverse=True):
                    _drop(top, rel)
        finally:
            os.close(top)
    if staging is not None:
        _remove(stack_fd, name)
        os.rename(staging, name, src_dir_fd=stack_fd, dst_dir_fd=stack_fd)


def _drop(top_fd, rel):
    """Remove a file an earlier deploy put there and the submission dropped; a directory only when it
    is empty (the service may keep its own files in it)."""
    found = _walk_to(top_fd, rel)
    if found is None:
        return
    parent, name = found
    try:
        info = _lstat(name, parent)
        if info is None:
            return
        if stat.S_ISDIR(info.st_mode):
            try:
                os.rmdir(name, dir_fd=parent)
            except OSError:
                pass
        else:
            os.unlink(name, dir_fd=parent)
    finally:
        os.close(parent)


# ---- after a deploy, and a removal ------------------------------------------------------------

def prune(store):
    """Remove the read-only versions of the stack that its entries no longer use (after a deploy
    succeeded), and the records of entries it dropped. Read-write directories stay. -> removed paths."""
    base = stack_dir(store["root"], store["tenant"], store["stack"])
    keep = {os.path.basename(entry_path(store["root"], store["tenant"], store["stack"], e["key"], e["digest"],
                                        e["read_only"])) for e in store.get("entries") or []}
    keys = {e["key"] for e in store.get("entries") or []}
    try:
        stack_fd = os.open(base, _DIR)
    except OSError:
        return []
    removed = []
    try:
        for name in sorted(os.listdir(stack_fd)):
            match = _VERSION.match(name)
            if (match and name not in keep) or ".spin-new-" in name:
                _remove(stack_fd, name)
                removed.append(os.path.join(base, name))
        try:
            state_fd = os.open(STATE_DIR, _DIR, dir_fd=stack_fd)
        except OSError:
            return removed
        try:
            for name in os.listdir(state_fd):
                key = name[:-len(".json")] if name.endswith(".json") else None
                if key is not None and key not in keys and _lstat(key, stack_fd) is None:
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
    stack_fd = os.open(base, _DIR)
    try:
        for path in removed:
            _remove(stack_fd, os.path.basename(path))
    finally:
        os.close(stack_fd)
    if not kept:
        try:
            os.rmdir(base)
        except OSError:
            pass
    return removed, kept
