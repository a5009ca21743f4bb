# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Whose files these are: a submission's tenant, established by the platform, never claimed.

Tenants' submissions live in per-tenant directories, ``<root>/<tenant>/<stack>/``, where ``<root>``
is one of the platform's submission roots (``spin_submission_roots``) and ``<tenant>/`` is owned by
the tenant's uid from the registry (``spin_tenants``). The tenant of a path is the directory it
lies in; a file counts as the tenant's only when every directory from ``<root>/<tenant>`` down to
it, and the file itself, is owned by that uid and writable by nobody else. So staff never read a
file to know whose it is, and a file of another tenant (copied, hard-linked, or placed by anybody
else) is refused by name.

Files are opened one path component at a time below the tenant's directory, each with
``O_NOFOLLOW`` and checked on the open descriptor (``fstat``): a directory swapped for a link
between the check and the read is refused, not followed.
"""
from __future__ import annotations

import errno
import os
import stat

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

# where tenants' files may be read when the platform names no roots
DEFAULT_ROOTS = ["/srv/spin/submissions"]
_O_DIR = os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0)
# O_NONBLOCK: opening a FIFO must not hang the controller; fstat then refuses it
_O_FILE = os.O_RDONLY | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0) | os.O_NONBLOCK


def _real_roots(roots):
    roots = roots if roots is not None else DEFAULT_ROOTS
    return [(str(r), os.path.realpath(os.path.expanduser(str(r)))) for r in roots]


def _inside(parent, path):
    return path != parent and os.path.commonpath([parent, path]) == parent


def _is_link(name, dir_fd):
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _tenant_names_by_uid(tenants):
    return {entry.get("uid"): name for name, entry in (tenants or {}).items() if isinstance(entry, dict)}


def locate(path, roots, tenants, option="submission", follow=False):
    """The ``SubmissionTree`` that ``path`` (absolute) lies in; SpinError when it lies in none, lies
    in a directory that is no tenant's, or (unless ``follow``: a file the tenant's files name, whose
    real path decides) reaches it through a symbolic link below the root."""
    path = os.path.abspath(os.path.expanduser(str(path)))
    real = os.path.realpath(path)
    pairs = _real_roots(roots)
    for given, root in pairs:
        if not _inside(root, real):
            continue
        relative = os.path.relpath(real, root)
        lexical = [os.path.relpath(path, base) for base in (os.path.abspath(given), root)
                   if _inside(os.path.abspath(base), path)]
        if relative not in lexical and not follow:
            raise SpinError("%s %s goes through a symbolic link to %s: name the submission by its own path, "
                            "which must hold no link below the submission root %s" % (option, path, real, given))
        tenant = relative.split(os.sep)[0]
        if relative == tenant and not os.path.isdir(real):
            raise SpinError("%s %s lies directly in the submission root %s: submissions live in "
                            "<root>/<tenant>/<stack>/" % (option, path, given))
        entry = (tenants or {}).get(tenant)
        if not isinstance(entry, dict):
            where = os.path.join(given, tenant)
            raise SpinError("%s %s lies in %s, which is no tenant's directory: there is no tenant '%s' in the "
                            "registry (spin_tenants). Submissions live in <root>/<tenant>/<stack>/; infra staff "
                            "onboard tenants with playbooks/tenant.yml" % (option, path, where, tenant))
        if not isinstance(entry.get("uid"), int) or isinstance(entry.get("uid"), bool):
            raise SpinError("tenant '%s' has no uid in the registry (spin_tenants), so no file can be known as "
                            "its own: infra staff give it one (playbooks/tenant.yml)" % tenant)
        return SubmissionTree(root, tenant, entry["uid"], tenants)
    link = " (a symbolic link to %s)" % real if real != path else ""
    raise SpinError("%s %s%s is outside the submission roots (%s): tenants' files are read only from there, "
                    "from <root>/<tenant>/<stack>/ (infra staff set the roots: spin_submission_roots)"
                    % (option, path, link, ", ".join(given for given, real_root in pairs) or "none"))


class SubmissionTree(object):
    """``<root>/<tenant>``: one tenant's files in a submission root."""

    def __init__(self, root, tenant, uid, tenants=None):
        self.root = root
        self.tenant = tenant
        self.uid = uid
        self.directory = os.path.join(root, tenant)
        self._owners = _tenant_names_by_uid(tenants)

    def owner(self):
        """Who the files belong to, for the audit trail."""
        return {"tenant": self.tenant, "uid": self.uid}

    # -- checks -------------------------------------------------------------------------------

    def _problem(self, path, info, want_dir):
        """What is wrong with ``path`` (its stat ``info``) for a file or directory of the tenant, or None."""
        kind = "directory" if want_dir else "file"
        if stat.S_ISLNK(info.st_mode):
            return "%s is a symbolic link where a %s is expected (it changed while it was read?)" % (path, kind)
        if want_dir and not stat.S_ISDIR(info.st_mode):
            return "%s is not a directory" % path
        if not want_dir and not stat.S_ISREG(info.st_mode):
            return "%s is not a regular file (a directory, FIFO, socket or device): only plain files are read" % path
        owner = self._owner_problem(path, info)
        if owner:
            return owner
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return ("%s is writable by %s: nobody but the tenant may change a submission (chmod go-w %s)"
                    % (path, "others" if info.st_mode & stat.S_IWOTH else "its group", path))
        return None

    def _owner_problem(self, path, info):
        if info.st_uid == self.uid:
            return None
        other = self._owners.get(info.st_uid)
        whose = "tenant '%s'" % other if other else "no tenant"
        return ("%s is owned by uid %d (%s), not by tenant '%s' (uid %d): a submission holds only its tenant's "
                "own files; the tenant copies the file in as itself (chown %d %s)"
                % (path, info.st_uid, whose, self.tenant, self.uid, self.uid, path))

    def _check_root(self):
        try:
            info = os.stat(self.root)
        except OSError as exc:
            raise SpinError("the submission root %s cannot be read: %s" % (self.root, exc.strerror or exc))
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise SpinError("the submission root %s is writable by group or others, so anybody could make "
                            "another tenant's directory there: infra staff make it 0755 (chmod go-w %s)"
                            % (self.root, self.root))

    def _components(self, real):
        """The names from the tenant's directory down to ``real`` (a resolved path inside it)."""
        if real != self.directory and not _inside(self.directory, real):
            raise SpinError("%s is not in tenant '%s''s directory %s" % (real, self.tenant, self.directory))
        relative = os.path.relpath(real, self.directory)
        return [] if relative == "." else relative.split(os.sep)

    def _walk(self, real, want_dir):
        """Open ``real`` component by component from the tenant's directory (O_NOFOLLOW), checking
        each on its descriptor. -> an open descriptor of ``real`` (the caller closes it)."""
        self._check_root()
        names = self._components(real)
        path = self.directory
        fd = self._open(path, _O_DIR, None)
        try:
            self._verify(fd, path, True)
            for index, name in enumerate(names):
                last = index == len(names) - 1
                path = os.path.join(path, name)
                is_dir = want_dir or not last
                if not is_dir:
                    # a FIFO or a device is refused before it is opened (opening one can block or act)
                    try:
                        found = os.stat(name, dir_fd=fd, follow_symlinks=False)
                    except OSError as exc:
                        raise SpinError("%s cannot be read: %s" % (path, exc.strerror or exc))
                    self._verify_stat(found, path, False)
                child = self._open(name, _O_DIR if is_dir else _O_FILE, fd, path)
                os.close(fd)
                fd = child
                self._verify(fd, path, is_dir)
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _open(self, name, flags, dir_fd, path=None):
        path = path or name
        try:
            return os.open(name, flags, dir_fd=dir_fd) if dir_fd is not None else os.open(name, flags)
        except OSError as exc:
            # O_NOFOLLOW on a link: ELOOP, or ENOTDIR with O_DIRECTORY
            if exc.errno in (errno.ELOOP, errno.EMLINK) or (exc.errno == errno.ENOTDIR and _is_link(name, dir_fd)):
                raise SpinError("%s is a symbolic link where a file or directory is expected (it changed while "
                                "it was read?): submissions are read without following links" % path)
            if exc.errno == errno.ENOTDIR:
                raise SpinError("%s is not a directory" % path)
            raise SpinError("%s cannot be read: %s" % (path, exc.strerror or exc))

    def _verify(self, fd, path, want_dir):
        self._verify_stat(os.fstat(fd), path, want_dir)

    def _verify_stat(self, info, path, want_dir):
        problem = self._problem(path, info, want_dir)
        if problem:
            raise SpinError(problem)

    def check_dir(self, real):
        """SpinError unless ``real`` and every directory above it up to the tenant's are the tenant's."""
        os.close(self._walk(real, True))

    def check_file(self, real):
        """SpinError unless the file ``real`` and every directory above it are the tenant's."""
        os.close(self._walk(real, False))

    def read(self, real, max_bytes):
        """The bytes of the tenant's file ``real`` (at most ``max_bytes``; SpinError when larger)."""
        fd = self._walk(real, False)
        try:
            if os.fstat(fd).st_size > max_bytes:
                raise SpinError("%s is larger than %d bytes: refused" % (real, max_bytes))
            chunks, size = [], 0
            while size <= max_bytes:
                chunk = os.read(fd, min(1 << 16, max_bytes + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        except OSError as exc:
            raise SpinError("%s cannot be read: %s" % (real, exc.strerror or exc))
        finally:
            os.close(fd)
        if size > max_bytes:
            raise SpinError("%s is larger than %d bytes: refused" % (real, max_bytes))
        return b"".join(chunks)

    def check_stat(self, path, info):
        """SpinError unless the entry ``path`` (its lstat ``info``, found by a walk below a checked
        directory) is the tenant's; a link only by its owner (the walk archives it, never follows it)."""
        if stat.S_ISLNK(info.st_mode):
            problem = self._owner_problem(path, info)
        else:
            problem = self._problem(path, info, stat.S_ISDIR(info.st_mode))
        if problem:
            raise SpinError(problem)
