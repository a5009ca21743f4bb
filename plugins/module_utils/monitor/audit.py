# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit trail: JSON lines appended on the manager for every deploy, remove or check.

A record holds the time (UTC, ISO 8601), tenant, stack, action, the sha256 digest of the input
files, the policy verdict (allowed / refused and the rules that refused) and a summary of what
changed. The file is only ever appended to: opened with O_APPEND, one ``write`` per record (so
concurrent writers never interleave within a line), never truncated or rewritten. The file is
created 0640 and its directory 0750: tenants' stack names are not for every local user.

A run that may change something writes two records with the same ``run`` id (``Run``): an
**intent** (``phase: intent``) before anything changes, and a **result** (``phase: result``) after,
whose ``outcome`` is ``deployed``/``removed``, ``refused`` (with the ``cause``), ``failed`` (the
cause says what was undone) or ``interrupted``. A run killed outright writes no result: the next
run of the same stack finds its intent without a result, appends an ``interrupted`` result for it
and warns; ``runs()`` (the ``spin_audit`` module) lists such a run as ``interrupted`` too, or as
``running`` while its process is alive. A check (dry run) writes one result record only.

``digest_files``, ``make_record`` and ``runs`` are pure; ``append_record``, ``read_records`` and
``Run`` do the I/O.
"""
from __future__ import annotations

import datetime
import errno
import hashlib
import json
import os
import socket
import uuid

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

DEFAULT_AUDIT_LOG = "/var/log/spin/audit.jsonl"
ACTIONS = ("deploy", "remove", "check")
OUTCOMES = ("deployed", "removed", "refused", "failed", "interrupted", "checked")
# what a record says of where the run came from: the submission (path, tenant, owner uid) and the
# staff user who ran the playbook on the controller
ORIGIN_KEYS = ("submission", "run_by")
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


# ---- runs: an intent before, a result after ----------------------------------------------------

def _proc_start(pid):
    """A live process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or None
    when there is no such process or it is a zombie (killed, not yet reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError, ValueError):
        return None
    return None if fields[0] in ("Z", "X") else fields[19]


def _boot_id():
    try:
        with open("/proc/sys/kernel/random/boot_id") as handle:
            return handle.read().strip()
    except OSError:
        return None


def _process():
    pid = os.getpid()
    return {"host": socket.gethostname(), "boot": _boot_id(), "pid": pid, "pid_start": _proc_start(pid)}


def process_alive(record):
    """Is the process that wrote ``record`` still running (same host, same boot, same process)?"""
    if record.get("host") != socket.gethostname() or record.get("boot") != _boot_id() or not record.get("pid"):
        return False
    start = _proc_start(int(record["pid"]))
    return start is not None and start == record.get("pid_start")


def runs(records, alive=process_alive):
    """Pair intents with results: one dict per run, oldest first, with ``started``, ``finished``,
    ``outcome`` (``running`` or ``interrupted`` for an intent without a result) and ``cause``.
    Records written before runs had ids (one record per deploy) are runs of their own."""
    out, by_id = [], {}
    for record in records:
        run_id = record.get("run")
        phase = record.get("phase")
        if run_id and run_id in by_id:
            entry = by_id[run_id]
        else:
            entry = {"run": run_id, "tenant": record.get("tenant"), "stack": record.get("stack"),
                     "action": record.get("action"), "input_digest": record.get("input_digest"),
                     "started": None, "finished": None, "outcome": None, "cause": None, "changes": {},
                     "dry_run": bool(record.get("dry_run"))}
            entry.update({key: record[key] for key in ORIGIN_KEYS if key in record})
            out.append(entry)
            if run_id:
                by_id[run_id] = entry
        if phase == "intent":
            entry["started"] = record.get("time")
            entry["_intent"] = record
        else:
            entry["finished"] = record.get("time")
            entry["outcome"] = record.get("outcome") or ("refused" if record.get("verdict") == "refused" else
                                                         "checked" if record.get("dry_run") else
                                                         {"deploy": "deployed", "remove": "removed"}.get(
                                                             record.get("action"), "checked"))
            entry["cause"] = record.get("cause")
            entry["changes"] = record.get("changes") or {}
            if record.get("violations"):
                entry["violations"] = record["violations"]
    for entry in out:
        intent = entry.pop("_intent", None)
        if entry["outcome"] is None:
            entry["outcome"] = "running" if intent is not None and alive(intent) else "interrupted"
            if entry["outcome"] == "interrupted":
                entry["cause"] = "no result was written: the run was killed, or lost its manager, before it ended"
    return out


def read_stack_records(path, stack):
    """The records of one stack (the others are skipped before they are parsed); [] without a log."""
    needle = '"stack":%s' % json.dumps(stack)
    try:
        with open(path, encoding="ascii") as handle:
            return [json.loads(line) for line in handle if needle in line]
    except FileNotFoundError:
        return []


class Run(object):
    """The audit records of one spin_stack run. ``path`` None or empty: no audit trail."""

    def __init__(self, path, tenant, stack, action, digest, dry_run=False, origin=None):
        self.path, self.tenant, self.stack, self.action, self.digest = path, tenant, stack, action, digest
        self.dry_run = dry_run
        # where the submission came from (path, its owner) and who ran the playbook: in every record
        self.origin = {key: value for key, value in (origin or {}).items() if key in ORIGIN_KEYS}
        self.id = uuid.uuid4().hex
        self.started = False

    def close_interrupted(self):
        """Earlier runs of this stack that never wrote a result (and are not running): append an
        ``interrupted`` result for each. -> a warning per run, for the operator."""
        if not self.path or self.dry_run:
            return []
        warnings = []
        for entry in runs(read_stack_records(self.path, self.stack)):
            if entry["outcome"] != "interrupted" or not entry["run"] or entry["finished"]:
                continue
            append_record(make_record(entry["tenant"], entry["stack"], entry["action"], entry["input_digest"],
                                      run=entry["run"], phase="result", outcome="interrupted",
                                      cause="%s; found by run %s" % (entry["cause"], self.id)), self.path)
            warnings.append("the %s of stack '%s' that started at %s (run %s) never ended: it was interrupted, and "
                            "what it had done so far stayed. This run brings the stack to what its files declare"
                            % (entry["action"], entry["stack"], entry["started"], entry["run"]))
        return warnings

    def start(self):
        """The intent record, before anything changes (not for a dry run)."""
        if not self.path or self.dry_run:
            return None
        record = make_record(self.tenant, self.stack, self.action, self.digest, run=self.id, phase="intent",
                             **dict(self.origin, **_process()))
        append_record(record, self.path)
        self.started = True
        return record

    def finish(self, outcome, cause=None, violations=(), errors=0, changes=None, **extra):
        """The result record. ``outcome``: one of OUTCOMES."""
        if not self.path:
            return None
        if outcome not in OUTCOMES:
            raise SpinError("audit outcome must be one of %s, not %r" % (", ".join(OUTCOMES), outcome))
        if self.dry_run:
            extra["dry_run"] = True
        extra = dict(self.origin, **extra)
        record = make_record(self.tenant, self.stack, self.action, self.digest, violations=violations, errors=errors,
                             changes=changes, run=self.id, phase="result", outcome=outcome, cause=cause, **extra)
        append_record(record, self.path)
        return record
