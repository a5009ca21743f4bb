# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The bind store's files, read and written without following a link (``bind_store.py`` decides what).

The store is written as root, and a read-write directory of it is the tenant's containers' to change:
every path below the store's root is opened one component at a time from a directory descriptor with
``O_NOFOLLOW``; a file is written under a temporary name and renamed over whatever was there (a link
is replaced as a name, never written through); a directory is removed with ``shutil.rmtree``'s
descriptor-based walk.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import stat
import tarfile

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
READ = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
WRITE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
# what the last deploy put there, out of every container's reach (only entries are mounted)
STATE_DIR = ".spin"


def shown(rel, key):
    """A path of an entry as the tenant reads it: ``<key>/<path>``."""
    return "%s/%s" % (key, rel) if rel else key


def open_dir(path, create=False):
    """Open the directory ``path`` (the store's root and what is below it is the platform's: created
    0755 root when missing)."""
    try:
        return os.open(path, DIR)
    except OSError as exc:
        if exc.errno != errno.ENOENT or not create:
            raise SpinError("the bind store %s cannot be opened: %s" % (path, exc.strerror))
    os.makedirs(path, 0o755, exist_ok=True)
    return os.open(path, DIR)


def lstat(name, dir_fd):
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise


def walk_to(top_fd, rel, create=None):
    """-> (descriptor of ``rel``'s parent, its last name), opened without following links; None when a
    parent is missing or no directory (``create``: (mode, uid, gid) makes what is missing, and replaces
    a link or file where a directory belongs)."""
    parts = [p for p in rel.split("/") if p]
    fd = os.dup(top_fd)
    try:
        for part in parts[:-1]:
            try:
                following = os.open(part, DIR, dir_fd=fd)
            except OSError as exc:
                if create is None or exc.errno not in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):
                    os.close(fd)
                    return None
                make_dir(fd, part, create)
                following = os.open(part, DIR, dir_fd=fd)
            os.close(fd)
            fd = following
    except BaseException:
        os.close(fd)
        raise
    return fd, parts[-1] if parts else None


def remove_entry(dir_fd, name):
    """Remove whatever ``name`` is (a directory with everything in it), following no link."""
    info = lstat(name, dir_fd)
    if info is None:
        return
    if stat.S_ISDIR(info.st_mode):
        shutil.rmtree(name, dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)


def make_dir(dir_fd, name, create):
    mode, uid, gid = create
    info = lstat(name, dir_fd)
    if info is not None and not stat.S_ISDIR(info.st_mode):
        remove_entry(dir_fd, name)
    if info is None or not stat.S_ISDIR(info.st_mode):
        os.mkdir(name, 0o700, dir_fd=dir_fd)
    fd = os.open(name, DIR, dir_fd=dir_fd)
    try:
        own(fd, uid, gid)
        os.fchmod(fd, mode)
    finally:
        os.close(fd)


def own(fd, uid, gid):
    if os.geteuid() == 0 and uid is not None:
        os.fchown(fd, uid, -1 if gid is None else gid)


def actual(top_fd, rel, expected):
    """The manifest entry of what is at ``rel`` now (None: nothing, or not reachable without a link)."""
    found = walk_to(top_fd, rel) if rel else (os.dup(top_fd), None)
    if found is None:
        return None
    parent, name = found
    try:
        if name is None:
            info = os.fstat(parent)
            return [rel, "d", stat.S_IMODE(info.st_mode)] if stat.S_ISDIR(info.st_mode) else None
        info = lstat(name, parent)
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
        fd = os.open(name, READ, dir_fd=parent)
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


class Writer(object):
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
                            % shown(rel, self.entry["key"]))
        if self.only is not None and rel not in self.only:
            # the same as in place: left alone (its owner too, which the service may have changed)
            self.written.add(rel)
            return
        if self.file_name is not None:
            parent, name = os.dup(self.top_fd), self.file_name
        else:
            parent, name = walk_to(self.top_fd, rel, create=(0o755, self.uid, self.gid))
        try:
            if kind == "d":
                make_dir(parent, name, (item[2], self.uid, self.gid))
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
        remove_entry(parent, tmp)
        os.symlink(target, tmp, dir_fd=parent)
        if os.geteuid() == 0 and self.uid is not None:
            os.chown(tmp, self.uid, -1 if self.gid is None else self.gid, dir_fd=parent, follow_symlinks=False)
        self._into_place(parent, tmp, name)

    def _file(self, parent, name, item, data):
        tmp = self._temporary(parent, name)
        remove_entry(parent, tmp)
        fd = os.open(tmp, WRITE, 0o600, dir_fd=parent)
        sha, size = hashlib.sha256(), 0
        try:
            with os.fdopen(os.dup(fd), "wb") as out:
                for chunk in iter(lambda: data.read(1 << 16), b""):
                    sha.update(chunk)
                    size += len(chunk)
                    out.write(chunk)
            if (size, sha.hexdigest()) != (item[3], item[4]):
                raise SpinError("%s in the bind store archive is not the file the verdict saw: run the deploy again"
                                % shown(item[0], self.entry["key"]))
            own(fd, self.uid, self.gid)
            os.fchmod(fd, item[2])
        except BaseException:
            os.close(fd)
            remove_entry(parent, tmp)
            raise
        os.close(fd)
        self._into_place(parent, tmp, name)

    @staticmethod
    def _into_place(parent, tmp, name):
        """Rename over what is there: a file or link is replaced as a name, never written through."""
        info = lstat(name, parent)
        if info is not None and stat.S_ISDIR(info.st_mode):
            remove_entry(parent, name)
        os.rename(tmp, name, src_dir_fd=parent, dst_dir_fd=parent)

    def missing(self):
        return sorted(rel for rel in self.wanted if rel not in self.written)


def write_state(stack_fd, entry, path):
    try:
        os.mkdir(STATE_DIR, 0o700, dir_fd=stack_fd)
    except FileExistsError:
        pass
    state_fd = os.open(STATE_DIR, DIR, dir_fd=stack_fd)
    try:
        tmp = entry["key"] + ".json.tmp"
        remove_entry(state_fd, tmp)
        fd = os.open(tmp, WRITE, 0o600, dir_fd=state_fd)
        with os.fdopen(fd, "w") as out:
            json.dump({"digest": entry["digest"], "path": path, "read_only": entry["read_only"],
                       "manifest": entry["manifest"]}, out, sort_keys=True)
        os.rename(tmp, entry["key"] + ".json", src_dir_fd=state_fd, dst_dir_fd=state_fd)
    finally:
        os.close(state_fd)


def members(archive):
    """(key, rel, member, file object) of each member of the controller's archive."""
    with tarfile.open(archive, mode="r|") as tar:
        for member in tar:
            key, _sep, rel = member.name.partition("/")
            data = tar.extractfile(member) if member.isfile() else None
            yield key, rel, member, data


def stack_fd_of(root_fd, tenant, stack):
    fd = os.dup(root_fd)
    for name in (tenant, stack):
        info = lstat(name, fd)
        if info is None:
            os.mkdir(name, 0o755, dir_fd=fd)
        elif not stat.S_ISDIR(info.st_mode):
            os.close(fd)
            raise SpinError("the bind store holds %s where a directory belongs: platform staff remove it" % name)
        following = os.open(name, DIR, dir_fd=fd)
        os.close(fd)
        fd = following
    return fd


def drop(top_fd, rel):
    """Remove a file an earlier deploy put there and the submission dropped; a directory only when it
    is empty (the service may keep its own files in it)."""
    found = walk_to(top_fd, rel)
    if found is None:
        return
    parent, name = found
    try:
        info = lstat(name, parent)
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
