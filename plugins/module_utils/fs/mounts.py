# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One file system on this host to its desired state: the fstab entry, the mount, and a bounded
probe that tells a healthy mount from a stale or hung one. Runs on the target (spin_mount).

``MountManager.ensure(state)`` plans first (what the fstab and the mount table say now), then,
outside check mode, acts: it writes the fstab only when the entry differs and puts the previous
fstab back when the mount fails, with an error that names the host, the source and mount's own
message. Commands go through ``run(argv) -> (rc, stdout, stderr)`` and files through plain paths,
so the unit tests drive the same code with a fake ``mount`` and a temporary fstab.
"""
from __future__ import annotations

import errno
import os
import platform
import select
import signal
import tempfile
import time

from ansible_collections.spin.platform.plugins.module_utils.fs import fstab
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

DEFAULT_FSTAB = "/etc/fstab"
MOUNTS = "/proc/self/mounts"


# the probe runs in a forked child: a hung mount blocks the child in the kernel, never us. A fork, not a
# program: nothing to exec (no interpreter to find on the target), and ansible-test's rule that commands go
# through run_command does not apply; run_command could not help anyway, as it waits for its child.
def _look(path):
    os.statvfs(path)
    os.listdir(path)


def _child(path, look, report):
    """In the forked child: let go of every inherited file (a child stuck in the kernel must not hold the
    module's stdout open, or Ansible would wait for it), look, write what failed, and leave at once."""
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.closerange(3, report)
        os.closerange(report + 1, max(report + 2, os.sysconf("SC_OPEN_MAX")))
        os.setsid()
        look(path)
        code = 0
    except OSError as exc:
        os.write(report, ("[Errno %s] %s" % (exc.errno, exc.strerror) if exc.errno else str(exc)).encode()[:2000])
    except BaseException as exc:  # pylint: disable=broad-except  # the child reports everything, raises nothing
        os.write(report, repr(exc).encode()[:2000])
    finally:
        os._exit(code)  # pylint: disable=protected-access  # no atexit, no flushing of the parent's buffers


def _reap(pid, grace=1.0):
    """Collect a killed child if it dies within ``grace`` seconds; one stuck in the kernel is left to init."""
    until = time.monotonic() + grace
    while os.waitpid(pid, os.WNOHANG)[0] == 0 and time.monotonic() < until:
        time.sleep(0.05)


def probe(path, timeout, look=_look):
    """Does ``path`` answer ``statvfs`` and ``listdir`` within ``timeout`` seconds?

    -> ``{"ok": bool, "error": str | None, "seconds": float}``. A child that does not answer is
    killed and left to init: a process stuck on a hard NFS mount may not die until the server
    answers, and waiting for it would be the hang this probe exists to avoid. ``look`` is what the
    child does (the tests give one that never returns).
    """
    started = time.monotonic()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        _child(path, look, write_end)
    os.close(write_end)
    try:
        # the child's end closes when it exits: end of file on ours, or the deadline
        chunks = []
        while True:
            left = timeout - (time.monotonic() - started)
            ready = select.select([read_end], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                os.kill(pid, signal.SIGKILL)
                _reap(pid)
                return {"ok": False, "seconds": round(time.monotonic() - started, 2),
                        "error": "no answer within %s s (a hung mount: the server does not reply)" % timeout}
            chunk = os.read(read_end, 4096)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
    code = os.waitpid(pid, 0)[1]
    seconds = round(time.monotonic() - started, 2)
    if os.WIFEXITED(code) and os.WEXITSTATUS(code) == 0:
        return {"ok": True, "error": None, "seconds": seconds}
    text = b"".join(chunks).decode("utf-8", "replace").strip()
    return {"ok": False, "error": text or "exit status %s" % code, "seconds": seconds}


def read_text(path):
    try:
        with open(path) as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def write_text(path, text):
    """Replace ``path`` atomically, keeping its mode; in place where it is a mount point itself
    (a bind-mounted file cannot be renamed over)."""
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    fd, temp = tempfile.mkstemp(prefix=".%s.spin-" % os.path.basename(path), dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        try:
            os.replace(temp, path)
            temp = None
        except OSError as exc:
            if exc.errno not in (errno.EBUSY, errno.EXDEV):
                raise
            with open(path, "w") as handle:
                handle.write(text)
    finally:
        if temp and os.path.exists(temp):
            os.unlink(temp)


class MountFailed(Exception):
    pass


class MountManager:
    """One mount point. ``params``: path, src, fstype, opts, dump, passno, fstab, name,
    probe_timeout, mount_timeout, remount_stale."""

    def __init__(self, params, run, check_mode=False, mounts_file=MOUNTS, probe_fn=probe, hostname=None):
        self.p = params
        self.run = run
        self.check_mode = check_mode
        self.mounts_file = mounts_file
        self.probe_fn = probe_fn
        self.host = hostname or platform.node()
        self.path = fstab.normal_path(params["path"])
        self.fstab_path = params.get("fstab") or DEFAULT_FSTAB
        self.label = "%s (%s)" % (params["name"], params["src"] or self.path) if params.get("name") \
            else (params.get("src") or self.path)

    # -- facts ------------------------------------------------------------------------------

    def live(self):
        return fstab.find_mount(read_text(self.mounts_file) or "", self.path)

    def desired_entry(self):
        p = self.p
        return fstab.make_entry(p["src"], self.path, p["fstype"], p.get("opts"), p.get("dump") or 0,
                                p.get("passno") or 0)

    def check(self):
        return self.probe_fn(self.path, self.p.get("probe_timeout") or 10)

    # -- commands ---------------------------------------------------------------------------

    def _bounded(self, argv):
        limit = self.p.get("mount_timeout") or 0
        return (["timeout", "--kill-after=5", str(limit)] + argv) if limit else argv

    def _fstab_args(self):
        return [] if self.fstab_path == DEFAULT_FSTAB else ["--fstab", self.fstab_path]

    def _command(self, argv, what):
        rc, out, err = self.run(self._bounded(argv))
        if rc != 0:
            message = (err or out or "").strip() or "exit status %s" % rc
            if rc == 124:
                message = "%s did not finish within %s s" % (argv[0], self.p.get("mount_timeout"))
            raise MountFailed("%s: %s" % (what, message))

    def mount(self):
        self._command(["mount"] + self._fstab_args() + [self.path], "mount")

    def remount(self):
        self._command(["mount"] + self._fstab_args() + ["-o", "remount", self.path], "remount")

    def umount(self, lazy=False):
        self._command(["umount"] + (["-l"] if lazy else []) + [self.path], "umount")

    # -- states -----------------------------------------------------------------------------

    def ensure(self, state):
        if state == "verified":
            return self.verified()
        if state in ("mounted", "present"):
            return self.present(mount=state == "mounted")
        return self.absent(keep_entry=state == "unmounted")

    def _result(self, **values):
        result = {"changed": False, "fstab_changed": False, "action": None, "mounted": False, "healthy": None,
                  "probe": None, "mount_point": self.path, "fstab": self.fstab_path}
        result.update(values)
        return result

    def _diff(self, before, after, live_before, mounted_after):
        return [{"before_header": self.fstab_path, "after_header": self.fstab_path,
                 "before": before or "", "after": after or ""},
                {"before_header": "mount %s" % self.path, "after_header": "mount %s" % self.path,
                 "before": _mount_line(live_before), "after": _mount_line(mounted_after)}]

    def verified(self):
        """Mounted by its own daemon (GPFS): check /proc/self/mounts and the probe, change nothing."""
        live = self.live()
        want = self.p["fstype"]
        if not fstab.mount_matches(live, self.p.get("src"), want):
            seen = ("%s (%s) is mounted there instead" % (live["src"], live["fstype"])) if live else \
                "%s lists nothing there" % self.mounts_file
            raise SpinError("host %s: the %s file system %s is not mounted on %s: %s. It is mounted by its own "
                            "daemon, never from fstab: mount it there (for GPFS: mmmount) and run again."
                            % (self.host, want, self.label, self.path, seen), mounted=False, healthy=False)
        health = self.check()
        if not health["ok"]:
            raise SpinError("host %s: %s on %s is mounted but does not answer: %s"
                            % (self.host, self.label, self.path, health["error"]),
                            mounted=True, healthy=False, probe=health)
        return self._result(mounted=True, healthy=True, probe=health, mount=live,
                            diff=self._diff(None, None, live, live))

    def present(self, mount):
        p = self.p
        before = read_text(self.fstab_path)
        old_text = before or ""
        desired = self.desired_entry()
        new_text, old_entry = fstab.set_entry(old_text, desired)
        fstab_changed = new_text != old_text
        live = self.live() if mount else None
        matches = fstab.mount_matches(live, p["src"], p["fstype"])
        health = None
        action = None
        if mount:
            if live is None:
                action = "mount"
            elif not matches:
                action = "replace"
            else:
                health = self.check()
                if not health["ok"]:
                    if not p.get("remount_stale"):
                        raise SpinError(
                            "host %s: %s on %s is mounted but does not answer: %s. Nothing was changed; "
                            "fix the server, or set remount_stale to unmount it (lazily) and mount it again."
                            % (self.host, self.label, self.path, health["error"]),
                            mounted=True, healthy=False, probe=health, fstab_changed=False)
                    action = "recover"
                elif fstab_changed and (old_entry is None or old_entry["opts"] != desired["opts"]):
                    action = "remount"
        changed = fstab_changed or action is not None
        after_live = desired if mount else None
        result = self._result(changed=changed, fstab_changed=fstab_changed, action=action, entry=desired,
                              previous_entry=old_entry, diff=self._diff(before, new_text, live, after_live),
                              mounted=matches, healthy=health["ok"] if health else None,
                              probe=health)
        if self.check_mode or not changed:
            return result
        if fstab_changed:
            write_text(self.fstab_path, new_text)
        try:
            self._apply(action, live)
        except MountFailed as exc:
            restored = self._restore(before, fstab_changed, action, live)
            raise SpinError("host %s: mounting %s on %s (%s) failed: %s. %s"
                            % (self.host, p["src"], self.path, p["fstype"], exc, restored),
                            mounted=False, healthy=False, fstab_changed=False, previous_entry=old_entry)
        if action is None:
            return result
        health = self.check()
        result.update(mounted=True, healthy=health["ok"], probe=health, mount=self.live())
        if not health["ok"]:
            raise SpinError("host %s: %s was mounted on %s but does not answer: %s"
                            % (self.host, self.label, self.path, health["error"]), **result)
        return result

    def _apply(self, action, live):
        if action == "replace":
            self.umount()
        elif action == "recover":
            self.umount(lazy=True)
        if action in ("mount", "replace", "recover"):
            if not os.path.isdir(self.path):
                os.makedirs(self.path, mode=0o755)
            self.mount()
        elif action == "remount":
            try:
                self.remount()
            except MountFailed:
                # file systems that cannot change options in place (FUSE) are mounted afresh
                self.umount()
                self.mount()

    def _restore(self, before, fstab_changed, action, live):
        """Put the previous fstab back, and the previous mount where this run took it away."""
        said = []
        if fstab_changed:
            if before is None:
                os.unlink(self.fstab_path)
            else:
                write_text(self.fstab_path, before)
            said.append("The previous %s entry was put back." % self.fstab_path if before is not None
                        else "%s was removed again (it did not exist before)." % self.fstab_path)
        else:
            said.append("%s was not changed." % self.fstab_path)
        if live is not None and self.live() is None:
            try:
                self.mount()
                said.append("The previous mount (%s) is back." % live["src"])
            except MountFailed as exc:
                said.append("The previous mount (%s) could not be mounted again: %s" % (live["src"], exc))
        return " ".join(said)

    def absent(self, keep_entry):
        before = read_text(self.fstab_path)
        old_text = before or ""
        new_text, old_entry = (old_text, None) if keep_entry else fstab.remove_entry(old_text, self.path)
        fstab_changed = new_text != old_text
        live = self.live()
        action = "unmount" if live else None
        changed = fstab_changed or action is not None
        result = self._result(changed=changed, fstab_changed=fstab_changed, action=action,
                              previous_entry=old_entry, diff=self._diff(before, new_text, live, None))
        if self.check_mode or not changed:
            return result
        if live:
            try:
                self.umount(lazy=bool(self.p.get("remount_stale")) and not self.check()["ok"])
            except MountFailed as exc:
                raise SpinError("host %s: unmounting %s failed: %s. %s was not changed."
                                % (self.host, self.path, exc, self.fstab_path))
        if fstab_changed:
            write_text(self.fstab_path, new_text)
        return result


def _mount_line(entry):
    if not entry:
        return "not mounted\n"
    return "%s on %s type %s\n" % (entry["src"], entry["path"], entry["fstype"])
