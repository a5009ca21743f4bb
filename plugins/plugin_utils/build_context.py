# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A build's context, packed on the controller (reads files; no Docker).

``pack()`` walks the context directory inside the submission directory and writes the archive the
engine builds from: the files ``.dockerignore`` keeps, in name order, with owner root, time 0 and
the files' permission bits, so that the same content always gives the same bytes and so the same
content hash (``build.content_digest``). Symbolic links are archived as links, never followed;
anything leading outside the submission directory, and anything but files, directories and links,
is refused.

The submission is the tenant's, and may change while it is read: every directory and file is opened
relative to its parent's descriptor without following links (``O_NOFOLLOW``) and without waiting
(``O_NONBLOCK``: a named pipe swapped in does not block), and must still be what the listing said.
Every OS error (permission, a name too long, a link loop, a file that vanished or changed) is a
SpinError naming the key, the path and what to do, never a traceback. The Dockerfile that is judged
is the one in the archive (``dockerfile_bytes``), so the verdict and the build read the same bytes.
"""
from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import tarfile

from ansible_collections.spin.platform.plugins.module_utils.build import build as build_model
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
MAX_DOCKERFILE_BYTES = 1024 * 1024
# the engine unpacks the context under a directory of its own, and a Linux path ends at 4096 bytes
MAX_PATH_BYTES = 3840
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = _FILE_FLAGS | os.O_DIRECTORY


class _HashingWriter(object):
    """A file object that hashes what passes through it (and counts it), writing it on if asked."""

    def __init__(self, out=None):
        self.sha256 = hashlib.sha256()
        self.out = out
        self.size = 0

    def write(self, data):
        self.sha256.update(data)
        self.size += len(data)
        if self.out is not None:
            self.out.write(data)
        return len(data)

    def flush(self):
        if self.out is not None:
            self.out.flush()


def _inside(path, root):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def tar_info(name, st=None, kind=tarfile.REGTYPE, size=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode) if st is not None else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.size = size
    info.linkname = linkname
    return info


def why(exc):
    """An OS error while reading the tenant's files -> what happened and what to do."""
    code = getattr(exc, "errno", None)
    if code in (errno.EACCES, errno.EPERM):
        return "permission denied: make it readable by the platform (files a+r, directories a+rx)"
    if code == errno.ENOENT:
        return "vanished while it was read: leave the submission alone while it is deployed, and run again"
    if code == errno.ELOOP:
        return ("is a symbolic link where a file or directory was read (a loop of links, or a link swapped in "
                "while the submission was read): the platform follows no link there; remove the link")
    if code == errno.ENAMETOOLONG:
        return "its name is too long: shorten it"
    if code in (errno.ENOTDIR, errno.EISDIR, errno.EINVAL, errno.ENXIO) or code is None:
        # (no errno: tarfile's "unexpected end of data", a file that shrank)
        return "changed while it was read: leave the submission alone while it is deployed, and run again"
    return "cannot be read (%s)" % os.strerror(code)


def open_beneath(base_fd, relpath, directory):
    """Open ``relpath`` below ``base_fd`` one name at a time, following no link. -> a descriptor."""
    fd = os.dup(base_fd)
    parts = [p for p in relpath.split("/") if p not in ("", ".")]
    try:
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = os.open(part, _FILE_FLAGS if last and not directory else _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = following
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_fd(fd, expected=None):
    """The open ``fd`` is a regular file, and the very file ``expected`` (the listing's stat) if given."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or (expected is not None and
                                        (st.st_dev, st.st_ino) != (expected.st_dev, expected.st_ino)):
        raise OSError(errno.EINVAL, "changed")
    return st


def _read_fd(fd, expected=None, limit=None):
    """All bytes of an open regular file (that is still the file ``expected`` from the listing); None
    when it is larger than ``limit``."""
    st = check_fd(fd, expected)
    if limit is not None and st.st_size > limit:
        return None
    with os.fdopen(os.dup(fd), "rb") as handle:
        return handle.read()


def resolve(submission_dir, build):
    """-> (context directory, Dockerfile path or None for inline), both checked to be inside the
    submission directory. Raises SpinError naming the key to fix."""
    base = os.path.realpath(submission_dir)
    context = os.path.realpath(os.path.join(base, build["context"]))
    if not _inside(context, base):
        raise SpinError("build.context '%s' leads outside the submission directory (through a link): give a "
                        "directory inside it" % build["context"])
    try:
        if not stat.S_ISDIR(os.stat(context).st_mode):
            raise SpinError("build.context '%s' is not a directory in the submission directory" % build["context"])
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise SpinError("build.context '%s' is not a directory in the submission directory"
                            % build["context"]) from None
        raise SpinError("build.context '%s': %s" % (build["context"], why(exc))) from None
    relative = build_model.dockerfile_path(build)
    if relative is None:
        return context, None
    dockerfile = os.path.realpath(os.path.join(base, relative))
    if not _inside(dockerfile, base):
        raise SpinError("build.dockerfile '%s' is outside the submission directory: put it inside" % build["dockerfile"])
    try:
        regular = stat.S_ISREG(os.stat(dockerfile).st_mode)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise SpinError("build.dockerfile '%s': %s" % (build["dockerfile"], why(exc))) from None
        regular = False
    if not regular:
        raise SpinError("build.dockerfile '%s' does not exist in the build context '%s'"
                        % (build["dockerfile"], build["context"]))
    return context, dockerfile


def open_from(base, path, directory):
    """Open ``path`` (inside the directory ``base``) from ``base`` down, following no link. -> a descriptor."""
    base_fd = os.open(base, _DIR_FLAGS)
    try:
        return open_beneath(base_fd, os.path.relpath(path, base), directory=directory)
    finally:
        os.close(base_fd)


def _read_beneath(base, path, what, max_bytes):
    """The bytes of the file ``path`` (inside ``base``), opened without following links."""
    try:
        fd = open_from(base, path, directory=False)
        try:
            data = _read_fd(fd, limit=max_bytes)
        finally:
            os.close(fd)
    except OSError as exc:
        raise SpinError("%s: %s" % (what, why(exc))) from None
    if data is None:
        raise SpinError("%s is larger than %d bytes" % (what, max_bytes))
    return data


def _inline_bytes(build):
    try:
        return build["dockerfile_inline"].encode("utf-8")
    except UnicodeEncodeError:
        raise SpinError("build.dockerfile_inline holds characters that are not UTF-8: write it as text") from None


def read_dockerfile(submission_dir, build, max_bytes=MAX_DOCKERFILE_BYTES):
    """The Dockerfile's text (inline or from its file; bytes that are not UTF-8 kept as surrogates, so
    that encoding it back gives the bytes the engine reads). Raises SpinError."""
    if build.get("dockerfile_inline") is not None:
        return build["dockerfile_inline"]
    base = os.path.realpath(submission_dir)
    dockerfile = resolve(base, build)[1]
    data = _read_beneath(base, dockerfile, "build.dockerfile '%s'" % build["dockerfile"], max_bytes)
    return data.decode("utf-8", "surrogateescape")


class _Walk(object):
    """The context's entries into the archive, one directory descriptor at a time."""

    def __init__(self, tar, build, rules, always, archive_dockerfile, max_bytes, owner=None):
        self.tar = tar
        self.owner = owner  # -> SpinError unless an entry (its lstat) is the tenant's (submission_tree)
        self.build = build
        self.rules = rules
        self.always = always
        self.archive_dockerfile = archive_dockerfile
        self.max_bytes = max_bytes
        self.total = 0
        self.files = 0
        self.dockerfile = None

    def refuse(self, rel, what):
        return SpinError("build.context '%s': '%s' %s" % (self.build["context"], rel, what))

    def failed(self, rel, exc):
        return SpinError("build.context '%s': '%s': %s" % (self.build["context"], rel, why(exc)))

    def run(self, context_fd):
        pending = [""]
        while pending:
            reldir = pending.pop(0)
            try:
                dir_fd = open_beneath(context_fd, reldir, directory=True)
            except OSError as exc:
                raise self.failed(reldir, exc) from None
            try:
                subdirs = self.directory(dir_fd, reldir)
            finally:
                os.close(dir_fd)
            pending = sorted(subdirs + pending)

    def directory(self, dir_fd, reldir):
        try:
            with os.scandir(dir_fd) as entries:
                names = sorted(entry.name for entry in entries)
        except OSError as exc:
            raise self.failed(reldir or ".", exc) from None
        subdirs = []
        for name in names:
            rel = name if not reldir else reldir + "/" + name
            if len(os.fsencode(rel)) > MAX_PATH_BYTES:
                raise self.refuse(rel[:64] + "...", "is a path of %d bytes: the engine unpacks no path longer than %d "
                                  "bytes; shorten it" % (len(os.fsencode(rel)), MAX_PATH_BYTES))
            try:
                self.entry(dir_fd, name, rel, subdirs)
            except OSError as exc:
                raise self.failed(rel, exc) from None
        return subdirs

    def entry(self, dir_fd, name, rel, subdirs):
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        if self.rules.excluded(rel) and rel not in self.always:
            if stat.S_ISDIR(st.st_mode) and self.rules.may_hold_included(rel):
                subdirs.append(rel)  # a "!" pattern may bring something back; the dir itself stays out
            return
        if self.owner is not None:
            self.owner(rel, st)
        if stat.S_ISLNK(st.st_mode):
            self.tar.addfile(tar_info(rel, st, tarfile.SYMTYPE, linkname=os.readlink(name, dir_fd=dir_fd)))
        elif stat.S_ISDIR(st.st_mode):
            self.tar.addfile(tar_info(rel, st, tarfile.DIRTYPE))
            subdirs.append(rel)
        elif stat.S_ISREG(st.st_mode):
            self.file(dir_fd, name, rel, st)
        else:
            raise self.refuse(rel, "is not a file, directory or link (a socket, device or pipe cannot be built from)")

    def file(self, dir_fd, name, rel, st):
        self.total += st.st_size
        self.files += 1
        if self.total > self.max_bytes:
            raise SpinError("build.context '%s' holds more than %d MB of files: leave out what the image does not need "
                            "(.dockerignore)" % (self.build["context"], self.max_bytes // 2 ** 20))
        fd = os.open(name, _FILE_FLAGS, dir_fd=dir_fd)
        try:
            if rel == self.archive_dockerfile:
                data = _read_fd(fd, expected=st, limit=MAX_DOCKERFILE_BYTES)
                if data is None:
                    raise SpinError("build.dockerfile '%s' is larger than %d bytes"
                                    % (self.build["dockerfile"], MAX_DOCKERFILE_BYTES))
                self.dockerfile = data
                self.tar.addfile(tar_info(rel, st, size=len(data)), io.BytesIO(data))
                return
            check_fd(fd, st)
            with os.fdopen(os.dup(fd), "rb") as handle:
                # tarfile copies st_size bytes: a file that shrank meanwhile is an OSError, one that grew is cut
                self.tar.addfile(tar_info(rel, st, size=st.st_size), handle)
        finally:
            os.close(fd)


def _dockerignore(context_fd):
    """The text of the context's .dockerignore (a link or anything but a file: none)."""
    try:
        fd = os.open(".dockerignore", _FILE_FLAGS, dir_fd=context_fd)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ELOOP):
            return ""
        raise SpinError("build.context: '.dockerignore' %s" % why(exc)) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return ""
        data = _read_fd(fd)
    except OSError as exc:
        raise SpinError("build.context: '.dockerignore' %s" % why(exc)) from None
    finally:
        os.close(fd)
    return data.decode("utf-8", errors="replace")


def pack(submission_dir, build, out=None, max_bytes=DEFAULT_MAX_BYTES, tree=None):
    """Write the build's archive to ``out`` (a binary file object; None: only hash it). With
    ``tree`` (``submission_tree.SubmissionTree``) every directory, file and link packed, and the
    Dockerfile, must be the tenant's own (owner, modes), else SpinError naming it.

    Returns ``{"sha256", "bytes", "files", "dockerfile", "dockerfile_bytes"}``, ``dockerfile`` being the
    Dockerfile's name inside the archive, as the engine's build API takes it, and ``dockerfile_bytes``
    its content there. Raises SpinError when the context is not a directory inside the submission
    directory, holds something that is not a file, directory or link, holds more than ``max_bytes``
    of files, or cannot be read.
    """
    base = os.path.realpath(submission_dir)
    context, dockerfile = resolve(base, build)
    if dockerfile is None:
        archive_dockerfile = build_model.INLINE_DOCKERFILE
    elif _inside(dockerfile, context):
        archive_dockerfile = os.path.relpath(dockerfile, context).replace(os.sep, "/")
    else:
        archive_dockerfile = build_model.INLINE_DOCKERFILE
    # the engine needs these even where .dockerignore names them (the docker CLI does the same)
    always = {archive_dockerfile, ".dockerignore"}
    owner = None
    if tree is not None:
        tree.check_dir(context)
        if dockerfile is not None:
            tree.check_file(dockerfile)

        def owner(rel, st):
            tree.check_stat(os.path.join(context, rel), st)
    try:
        context_fd = open_from(base, context, directory=True)
    except OSError as exc:
        raise SpinError("build.context '%s': %s" % (build["context"], why(exc))) from None
    writer = _HashingWriter(out)
    try:
        rules = build_model.IgnoreRules(_dockerignore(context_fd))
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            walk = _Walk(tar, build, rules, always, archive_dockerfile, max_bytes, owner)
            walk.run(context_fd)
            if archive_dockerfile == build_model.INLINE_DOCKERFILE:
                walk.dockerfile = (_inline_bytes(build) if dockerfile is None else
                                   _read_beneath(base, dockerfile, "build.dockerfile '%s'" % build["dockerfile"],
                                                 MAX_DOCKERFILE_BYTES))
                tar.addfile(tar_info(archive_dockerfile, size=len(walk.dockerfile)), io.BytesIO(walk.dockerfile))
    finally:
        os.close(context_fd)
    if walk.dockerfile is None:
        raise SpinError("build.dockerfile '%s' is left out of the build context by .dockerignore (its directory): "
                        "keep that directory in the context" % build["dockerfile"])
    return {"sha256": writer.sha256.hexdigest(), "bytes": writer.size, "files": walk.files,
            "dockerfile": archive_dockerfile, "dockerfile_bytes": walk.dockerfile}
