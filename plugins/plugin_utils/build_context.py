# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A build's context, packed on the controller (reads files; no Docker).

``pack()`` walks the context directory inside the submission directory and writes the archive the
engine builds from: the files ``.dockerignore`` keeps, in name order, with owner root, time 0 and
the files' permission bits, so that the same content always gives the same bytes and so the same
content hash (``build.content_digest``). Symbolic links are archived as links, never followed;
anything leading outside the submission directory, and anything but files, directories and links,
is refused.
"""
from __future__ import annotations

import hashlib
import io
import os
import stat
import tarfile

from ansible_collections.spin.platform.plugins.module_utils import build as build_model
from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError

DEFAULT_MAX_BYTES = 100 * 1024 * 1024


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


def _info(name, st=None, kind=tarfile.REGTYPE, size=0, linkname=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = stat.S_IMODE(st.st_mode) if st is not None else 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mtime = 0
    info.size = size
    info.linkname = linkname
    return info


def resolve(submission_dir, build):
    """-> (context directory, Dockerfile path or None for inline), both checked to be inside the
    submission directory. Raises SpinError naming the key to fix."""
    base = os.path.realpath(submission_dir)
    context = os.path.realpath(os.path.join(base, build["context"]))
    if not _inside(context, base):
        raise SpinError("build.context '%s' leads outside the submission directory (through a link): give a "
                        "directory inside it" % build["context"])
    if not os.path.isdir(context):
        raise SpinError("build.context '%s' is not a directory in the submission directory" % build["context"])
    relative = build_model.dockerfile_path(build)
    if relative is None:
        return context, None
    dockerfile = os.path.realpath(os.path.join(base, relative))
    if not _inside(dockerfile, base):
        raise SpinError("build.dockerfile '%s' is outside the submission directory: put it inside" % build["dockerfile"])
    if not os.path.isfile(dockerfile):
        raise SpinError("build.dockerfile '%s' does not exist in the build context '%s'"
                        % (build["dockerfile"], build["context"]))
    return context, dockerfile


def read_dockerfile(submission_dir, build, max_bytes=1024 * 1024):
    """The Dockerfile's text (inline or from its file). Raises SpinError."""
    if build.get("dockerfile_inline") is not None:
        return build["dockerfile_inline"]
    dockerfile = resolve(submission_dir, build)[1]
    if os.path.getsize(dockerfile) > max_bytes:
        raise SpinError("build.dockerfile '%s' is larger than %d bytes" % (build["dockerfile"], max_bytes))
    with open(dockerfile, "rb") as handle:
        return handle.read().decode("utf-8", errors="replace")


def pack(submission_dir, build, out=None, max_bytes=DEFAULT_MAX_BYTES):
    """Write the build's archive to ``out`` (a binary file object; None: only hash it).

    Returns ``{"sha256", "bytes", "files", "dockerfile"}``, ``dockerfile`` being the Dockerfile's name
    inside the archive, as the engine's build API takes it. Raises SpinError when the context is not
    a directory inside the submission directory, holds something that is not a file, directory or
    link, or holds more than ``max_bytes`` of files.
    """
    base = os.path.realpath(submission_dir)
    context, dockerfile = resolve(base, build)
    ignore_text = ""
    ignore_path = os.path.join(context, ".dockerignore")
    if os.path.isfile(ignore_path) and not os.path.islink(ignore_path):
        with open(ignore_path, "rb") as handle:
            ignore_text = handle.read().decode("utf-8", errors="replace")
    rules = build_model.IgnoreRules(ignore_text)
    if dockerfile is None:
        archive_dockerfile = build_model.INLINE_DOCKERFILE
    elif _inside(dockerfile, context):
        archive_dockerfile = os.path.relpath(dockerfile, context).replace(os.sep, "/")
    else:
        archive_dockerfile = build_model.INLINE_DOCKERFILE
    # the engine needs these even where .dockerignore names them (the docker CLI does the same)
    always = {archive_dockerfile, ".dockerignore"}

    writer = _HashingWriter(out)
    total, files = 0, 0
    with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        pending = [""]
        while pending:
            reldir = pending.pop(0)
            directory = os.path.join(context, reldir) if reldir else context
            with os.scandir(directory) as entries:
                names = sorted(entries, key=lambda e: e.name)
            subdirs = []
            for entry in names:
                rel = entry.name if not reldir else reldir + "/" + entry.name
                st = entry.stat(follow_symlinks=False)
                if rules.excluded(rel) and rel not in always:
                    if stat.S_ISDIR(st.st_mode) and rules.may_hold_included(rel):
                        subdirs.append(rel)  # a "!" pattern may bring something back; the dir itself stays out
                    continue
                if stat.S_ISLNK(st.st_mode):
                    tar.addfile(_info(rel, st, tarfile.SYMTYPE, linkname=os.readlink(entry.path)))
                elif stat.S_ISDIR(st.st_mode):
                    tar.addfile(_info(rel, st, tarfile.DIRTYPE))
                    subdirs.append(rel)
                elif stat.S_ISREG(st.st_mode):
                    total += st.st_size
                    files += 1
                    if total > max_bytes:
                        raise SpinError("build.context '%s' holds more than %d MB of files: leave out what the image "
                                        "does not need (.dockerignore)" % (build["context"], max_bytes // 2 ** 20))
                    with open(entry.path, "rb") as handle:
                        tar.addfile(_info(rel, st, size=st.st_size), handle)
                else:
                    raise SpinError("build.context '%s': '%s' is not a file, directory or link (a socket, device or "
                                    "pipe cannot be built from)" % (build["context"], rel))
            pending = sorted(subdirs + pending)
        if archive_dockerfile == build_model.INLINE_DOCKERFILE:
            text = build["dockerfile_inline"] if dockerfile is None else read_dockerfile(base, build)
            data = text.encode("utf-8")
            tar.addfile(_info(archive_dockerfile, size=len(data)), io.BytesIO(data))
    return {"sha256": writer.sha256.hexdigest(), "bytes": writer.size, "files": files,
            "dockerfile": archive_dockerfile}
