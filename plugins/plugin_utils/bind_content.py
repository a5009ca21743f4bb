# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a relative bind mount hands over: the directory (or large file) of the submission that a
service mounts, read on the controller (issue 18).

``read`` walks it the way ``build_context`` walks a build context: every directory and file opened
relative to its parent's descriptor without following links (``O_NOFOLLOW``, ``O_NONBLOCK``), each
the tenant's own (``submission_tree``), links kept as links (the container resolves them inside its
own file system, as it does a link in a laptop's bind mount), anything else refused. It returns the
**manifest** (one entry per path: kind, mode, size and sha256 of a file, a link's target) and its
digest; ``pack`` writes the same entries as a deterministic archive (owner root, time 0) that the
manager unpacks into the platform's bind store (``module_utils/stack/bind_store.py``), checking every
file against the manifest the verdict was given.

The limits are the stack's, over all its bind mounts (``spin_policy.bind_store_bytes`` and
``bind_store_files``): the message names the path, the count and the limit.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import tarfile

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils.build_context import (
    MAX_PATH_BYTES, check_fd, open_beneath, open_from, tar_info, why)


class Budget(object):
    """What is left of the stack's limits while its bind mounts are read."""

    def __init__(self, max_bytes, max_files):
        self.max_bytes = max_bytes
        self.max_files = max_files
        self.bytes = 0
        self.files = 0

    def take(self, source, size):
        self.files += 1
        self.bytes += size
        if self.files > self.max_files:
            raise SpinError("'%s' takes the stack's bind mounts over %d files, the platform's limit "
                            "(spin_policy.bind_store_files): bind a smaller directory, or put the files into the "
                            "image (build:)" % (source, self.max_files))
        if self.bytes > self.max_bytes:
            raise SpinError("'%s' takes the stack's bind mounts over %d bytes (%s), the platform's limit "
                            "(spin_policy.bind_store_bytes): bind a smaller directory, or put the files into the "
                            "image (build:)" % (source, self.max_bytes, _mib(self.max_bytes)))


def _mib(size):
    return "%.0f MiB" % (size / 1024.0 ** 2) if size >= 1024 ** 2 else "%d KiB" % (size // 1024)


def digest(manifest):
    """The content hash of a manifest: the same names, kinds, modes and bytes give the same digest."""
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()


def _sha256_fd(fd, expected):
    """sha256 and size of an open regular file that is still the listing's ``expected``."""
    check_fd(fd, expected)
    sha, size = hashlib.sha256(), 0
    with os.fdopen(os.dup(fd), "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            sha.update(chunk)
            size += len(chunk)
    if size != expected.st_size:
        raise OSError(0, "changed")
    return sha.hexdigest()


class _Reader(object):
    """One bind mount's entries, one directory descriptor at a time (-> manifest), or into an archive."""

    def __init__(self, source, budget, owner, tar=None, prefix=""):
        self.source = source
        self.budget = budget
        self.owner = owner    # (relpath, lstat) -> SpinError unless the tenant's
        self.tar = tar
        self.prefix = prefix
        self.manifest = []

    def failed(self, rel, exc):
        return SpinError("'%s': %s" % (_join(self.source, rel), why(exc)))

    def walk(self, top_fd):
        pending = [""]
        while pending:
            reldir = pending.pop(0)
            try:
                dir_fd = open_beneath(top_fd, reldir, directory=True)
            except OSError as exc:
                raise self.failed(reldir or ".", exc) from None
            try:
                with os.scandir(dir_fd) as entries:
                    names = sorted(entry.name for entry in entries)
                subdirs = []
                for name in names:
                    rel = name if not reldir else reldir + "/" + name
                    if len(os.fsencode(rel)) > MAX_PATH_BYTES:
                        shown = _join(self.source, rel)[:64]
                        raise SpinError("'%s...' is a path of %d bytes: shorten it" % (shown, len(os.fsencode(rel))))
                    try:
                        self.entry(dir_fd, name, rel, subdirs)
                    except OSError as exc:
                        raise self.failed(rel, exc) from None
            except OSError as exc:
                raise self.failed(reldir or ".", exc) from None
            finally:
                os.close(dir_fd)
            pending = sorted(subdirs + pending)
        return self.manifest

    def entry(self, dir_fd, name, rel, subdirs):
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if self.owner is not None:
            self.owner(rel, st)
        mode = stat.S_IMODE(st.st_mode)
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(name, dir_fd=dir_fd)
            self.manifest.append([rel, "l", target])
            if self.tar is not None:
                self.tar.addfile(tar_info(self.prefix + rel, st, tarfile.SYMTYPE, linkname=target))
        elif stat.S_ISDIR(st.st_mode):
            self.manifest.append([rel, "d", mode])
            if self.tar is not None:
                self.tar.addfile(tar_info(self.prefix + rel, st, tarfile.DIRTYPE))
            subdirs.append(rel)
        elif stat.S_ISREG(st.st_mode):
            self.file(os.open(name, _FILE_FLAGS, dir_fd=dir_fd), rel, st)
        else:
            raise SpinError("'%s' is not a file, directory or link (a socket, device or pipe cannot be handed over): "
                            "remove it from the submission" % _join(self.source, rel))

    def file(self, fd, rel, st):
        try:
            self.budget.take(_join(self.source, rel), st.st_size)
            sha = _sha256_fd(fd, st)
            self.manifest.append([rel, "f", stat.S_IMODE(st.st_mode), st.st_size, sha])
            if self.tar is not None:
                os.lseek(fd, 0, os.SEEK_SET)
                with os.fdopen(os.dup(fd), "rb") as handle:
                    self.tar.addfile(tar_info(self.prefix + rel if rel else self.prefix.rstrip("/"), st,
                                              size=st.st_size), handle)
        finally:
            os.close(fd)


_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


def _join(source, rel):
    return source if not rel else source.rstrip("/") + "/" + rel


def _read(base, source, kind, budget, tree, tar=None, prefix=""):
    """The manifest of one bind mount's ``source`` (a path relative to ``base``, the submission
    directory): a directory's entries, or ``[["", "f", mode, size, sha256]]`` for a file."""
    base = os.path.realpath(base)
    # links on the way are followed inside the submission, as compose follows them on the host; below it, none
    path = os.path.realpath(os.path.join(base, source))
    if path != base and not path.startswith(base + os.sep):
        raise SpinError("'%s' is outside the submission directory: keep it inside" % source)
    owner = None
    if tree is not None:
        try:
            if kind == "dir":
                tree.check_dir(path)
            else:
                tree.check_file(path)
        except OSError as exc:
            raise SpinError("'%s': %s" % (source, why(exc))) from None

        def owner(rel, st):
            tree.check_stat(os.path.join(path, rel), st)
    reader = _Reader(source, budget, owner, tar, prefix)
    try:
        if kind == "dir":
            top = open_from(base, path, directory=True) if path != base else os.open(base, _DIR_FLAGS)
            try:
                return reader.walk(top)
            finally:
                os.close(top)
        fd = open_from(base, path, directory=False)
        reader.file(fd, "", os.fstat(fd))
        return reader.manifest
    except OSError as exc:
        raise SpinError("'%s': %s" % (source, why(exc))) from None


_DIR_FLAGS = _FILE_FLAGS | os.O_DIRECTORY


def read(base, source, kind, budget, tree=None):
    """-> ``{"manifest", "digest", "bytes", "files"}`` of one bind mount (``kind``: dir or file)."""
    before_bytes, before_files = budget.bytes, budget.files
    manifest = _read(base, source, kind, budget, tree)
    return {"manifest": manifest, "digest": digest(manifest), "bytes": budget.bytes - before_bytes,
            "files": budget.files - before_files}


def pack(base, entries, out, tree=None):
    """Write every entry's content (``[{key, source, kind, digest}]``) to ``out`` as one archive, its
    members under ``<key>/`` (a file entry: the member ``<key>``); SpinError when an entry no longer
    has the digest the verdict was given (the submission changed meanwhile)."""
    budget = Budget(float("inf"), float("inf"))
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        for entry in entries:
            if entry["kind"] == "missing":
                continue  # an empty directory the manager makes: nothing to hand over
            prefix = entry["key"] + "/"
            if entry["kind"] == "dir":
                tar.addfile(tar_info(entry["key"], None, tarfile.DIRTYPE))
            manifest = _read(base, entry["source"], entry["kind"], budget, tree, tar, prefix)
            if digest(manifest) != entry["digest"]:
                raise SpinError("'%s' changed while the deploy read it: leave the submission alone while it is "
                                "deployed, and run again" % entry["source"])


def packed_bytes(base, entries, tree=None):
    """The archive ``pack`` writes, in memory (tests and small stacks)."""
    out = io.BytesIO()
    pack(base, entries, out, tree)
    return out.getvalue()
