# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit trail: one JSON line per deploy, remove or check, appended on the manager (issue 5).

A record holds the time (UTC, ISO 8601), tenant, stack, action, the sha256 digest of the input
files, the policy verdict (allowed / refused and the rules that refused) and a summary of what
changed. The file is only ever appended to: opened with O_APPEND, one ``write`` per record (so
concurrent writers never interleave within a line), never truncated or rewritten. The file is
created 0640 and its directory 0750: tenants' stack names are not for every local user.

``digest_files`` and ``make_record`` are pure; ``append_record`` and ``read_records`` do the I/O.
"""
from __future__ import annotations

import datetime
import errno
import hashlib
import json
import os

from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError

DEFAULT_AUDIT_LOG = "/var/log/spin/audit.jsonl"
ACTIONS = ("deploy", "remove", "check")
FILE_MODE = 0o640
DIR_MODE = 0o750


def digest_files(files):
    """sha256 over the submission's files: ``{name: text | bytes}`` -> ``"sha256:<hex>"``.

    Names and contents are both hashed, in name order, with their lengths, so that moving bytes
    from one file to another, or renaming a file, changes the digest.
    """
    sha = hashlib.sha256()
    for name in sorted(files):
        data = files[name]
        if data is None:
            continue
        data = data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape")
        encoded = name.encode("utf-8", "surrogateescape")
        sha.update(b"%d:%s\n%d:" % (len(encoded), encoded, len(data)))
        sha.update(data)
    return "sha256:" + sha.hexdigest()


def _now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def make_record(tenant, stack, action, digest, violations=(), changes=None, errors=0, now=None, **extra):
    """One audit record (a JSON-serialisable dict). ``violations``: policy violations;
    ``errors``: how many errors the compose files had; the verdict is ``refused`` when there is
    any of either. ``changes``: what changed, e.g.
    ``{"created": ["service seed_web"], "updated": [], "removed": []}``."""
    if action not in ACTIONS:
        raise SpinError("audit action must be one of %s, not %r" % (", ".join(ACTIONS), action))
    violations = list(violations or [])
    record = {
        "time": now or _now(),
        "tenant": tenant,
        "stack": stack,
        "action": action,
        "input_digest": digest,
        "verdict": "refused" if violations or errors else "allowed",
        "violations": sorted({v["rule"] for v in violations}),
        "errors": errors,
        "changes": changes if changes is not None else {},
    }
    record.update(extra)
    return record


def append_record(record, path=DEFAULT_AUDIT_LOG):
    """Append ``record`` as one JSON line. Creates the directory (0750) and the file (0640) when
    missing; refuses a path that is a symbolic link. Returns the path."""
    line = (json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n").encode("ascii")
    directory = os.path.dirname(os.path.abspath(path))
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=DIR_MODE, exist_ok=True)
            os.chmod(directory, DIR_MODE)  # makedirs' mode is filtered by the umask
        flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
            os.fchmod(fd, FILE_MODE)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
            fd = os.open(path, flags)
        try:
            written = os.write(fd, line)
        finally:
            os.close(fd)
    except OSError as exc:
        raise SpinError("cannot append to the audit log %s: %s" % (path, exc.strerror or exc))
    if written != len(line):
        raise SpinError("the audit log %s took %d of %d bytes (disk full?)" % (path, written, len(line)))
    return path


def read_records(path=DEFAULT_AUDIT_LOG):
    """Every record of the log, oldest first (for tests and tools)."""
    with open(path, encoding="ascii") as handle:
        return [json.loads(line) for line in handle if line.strip()]
