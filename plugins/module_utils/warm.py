# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The warm worker: the manager-side process that runs spin.platform's modules without paying,
for every task, Python's start, AnsiballZ's unpacking and the imports (about 1.2 s of a 1.5 s
no-op deploy task, against 0.1-0.2 s of work).

The controller (``plugin_utils/warm_client.py``) ships this collection's target code once as a
zip, keyed by its content hash, and starts ``python <dir>/<version>.zip`` here; that process
imports the modules once and listens on ``<dir>/<version>.sock`` (directory 0700, the socket for
its own user only). Each task is one connection: the worker forks, and the child runs the
module's ``main()`` with the task's arguments (``module_runner.run_module`` sees the request and
builds a ``WarmModule`` instead of an ``AnsibleModule``), writes the result and exits. So a task
runs in a fresh process as before, only forked from one that has everything loaded: no state
passes from one task to the next.

The client that sent the task is watched: when it goes away (the playbook was interrupted or
killed), the child receives SIGTERM, as a module whose playbook is interrupted does: the run
ends, its audit record says interrupted, and the next run converges. The worker ends after
``idle`` seconds without a task (or on SIGTERM) and removes its files.
"""
from __future__ import annotations

import errno
import fcntl
import importlib
import json
import os
import select
import signal
import socket
import struct
import threading
import time
import traceback

from . import module_runner

MODULES_PACKAGE = "ansible_collections.spin.platform.plugins.modules"
# the modules whose action plugins hand their tasks to the worker (each runs through run_module)
MODULES = ("spin_stack", "spin_lb", "spin_converge")
PRELOAD = ("ansible.module_utils.basic", "ansible.module_utils.common.arg_spec",
           "ansible.module_utils.common.parameters")
VALIDATOR_OPTIONS = ("mutually_exclusive", "required_together", "required_one_of", "required_if", "required_by")
WATCH_INTERVAL_MS = 100


class WarmModule(object):
    """What a module's work uses of ``AnsibleModule`` (params, check_mode, _diff, warn), for a task
    that runs in the worker: the arguments validated against the same spec, and the result
    returned with every no_log value masked, as ``exit_json`` and ``fail_json`` do."""

    def __init__(self, argument_spec, request, supports_check_mode=True, **options):
        from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
        del supports_check_mode  # every module that runs here supports it
        validator = ArgumentSpecValidator(argument_spec, **{k: v for k, v in options.items() if k in VALIDATOR_OPTIONS})
        validated = validator.validate(request["args"])
        self.no_log_values = set(validated._no_log_values)
        self.params = validated.validated_parameters
        self.check_mode = bool(request.get("check_mode"))
        self._diff = bool(request.get("diff"))
        self.warnings = []
        if validated.errors.errors:
            raise module_runner.Finished(self.finish({"msg": validated.errors.msg}, True))
        if not (request.get("no_log") or request.get("no_target_syslog")):
            self._log_invocation(request["module"].rsplit(".", 1)[-1], argument_spec)

    def _log_invocation(self, name, argument_spec):
        """'Invoked with ...' to the target's syslog, as AnsibleModule logs every module run: no_log
        options as NOT_LOGGING_PARAMETER, no_log values masked wherever they appear."""
        import syslog
        from ansible.module_utils.basic import heuristic_log_sanitize
        words = []
        for option, value in self.params.items():
            if argument_spec.get(option, {}).get("no_log"):
                value = "NOT_LOGGING_PARAMETER"
            else:
                value = heuristic_log_sanitize(value if isinstance(value, str) else str(value), self.no_log_values)
            words.append("%s=%s" % (option, value))
        syslog.openlog("ansible-%s" % name, 0, syslog.LOG_USER)
        syslog.syslog(syslog.LOG_INFO, "Invoked with %s" % " ".join(words))

    def warn(self, warning):
        self.warnings.append(warning)

    def finish(self, result, failed):
        from ansible.module_utils.common.parameters import remove_values
        result = dict(result)
        if failed:
            result["failed"] = True
            result.setdefault("msg", "the module failed")
        if self.warnings:
            result["warnings"] = list(self.warnings)
        return remove_values(result, self.no_log_values)


# ---- the worker process ------------------------------------------------------------------------

def paths(directory, version):
    base = os.path.join(directory, version)
    return {"socket": base + ".sock", "zip": base + ".zip", "lock": base + ".lock"}


def main(argv):
    """``python <version>.zip <directory> <version> <idle seconds>``."""
    directory, version, idle = argv[0], argv[1], float(argv[2])
    return serve(directory, version, idle)


def serve(directory, version, idle, modules=MODULES):
    files = paths(directory, version)
    lock = open(files["lock"], "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # a worker of this version serves already
    try:
        return _serve(files, lock, idle, modules)
    finally:
        # whatever ended it (idle, SIGTERM, a module that does not import here): the next task finds
        # no socket, runs the module the usual way and starts a worker again
        for path in (files["socket"], files["zip"], files["lock"]):
            try:
                os.unlink(path)
            except OSError:
                pass


def _serve(files, lock, idle, modules):
    loaded = {}
    for name in modules:
        loaded[name] = importlib.import_module("%s.%s" % (MODULES_PACKAGE, name))
    # what the modules import only when they run: imported here once, not in every task's child
    for name in PRELOAD:
        importlib.import_module(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.unlink(files["socket"])   # a dead worker's, since the lock was free
    except OSError:
        pass
    previous = os.umask(0o177)
    try:
        listener.bind(files["socket"])
    finally:
        os.umask(previous)
    # stopped (SIGTERM): leave through serve's finally, which removes this worker's files
    signal.signal(signal.SIGTERM, _stop)
    listener.listen(64)
    listener.settimeout(1.0)
    children = set()
    last = time.monotonic()
    while children or time.monotonic() - last < idle:
        _reap(children)
        try:
            conn, dummy = listener.accept()
        except socket.timeout:
            continue
        except OSError as exc:
            if exc.errno == errno.EINTR:
                continue
            raise
        last = time.monotonic()
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            listener.close()
            lock.close()
            _child(conn, loaded)   # never returns
        children.add(pid)
        conn.close()
    return 0


def _stop(signum, frame):
    raise SystemExit(0)


def _reap(children):
    for pid in list(children):
        try:
            done, dummy = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            children.discard(pid)


def _child(conn, loaded):
    status = 0
    try:
        conn.settimeout(None)
        credentials = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        dummy, uid, dummy = struct.unpack("3i", credentials)
        if uid != os.geteuid():
            raise PermissionError("a task from uid %d, not this worker's %d" % (uid, os.geteuid()))
        environment, dummy, task = _read_all(conn).partition(b"\n")
        request = json.loads(task)
        conn.sendall(b"+")   # taken: from here on the client does not run the module itself
        _quiet_stdio()
        os.environ.clear()
        os.environ.update(json.loads(environment))
        answered = _watch(conn)
        result = run_task(request, loaded)
        answered.set()
        conn.sendall(json.dumps(result, default=str).encode("utf-8"))
    except BaseException:  # noqa: B902  (the child must answer and exit, whatever happened)
        status = 1
        try:
            trace = traceback.format_exc()
            answer = {"failed": True, "exception": trace,
                      "msg": "the spin worker failed to run the task: %s" % trace.strip().splitlines()[-1]}
            conn.sendall(json.dumps(answer).encode("utf-8"))
        except OSError:
            pass
    finally:
        try:
            conn.close()
        finally:
            os._exit(status)


def run_task(request, loaded):
    """One task's module, by name, with the task's arguments -> its result."""
    name = request["module"].rsplit(".", 1)[-1]
    if name not in loaded:
        return {"failed": True, "msg": "the spin worker does not run module %s" % request["module"]}
    module_runner.WARM_TASK["request"] = request
    try:
        loaded[name].main()
    except module_runner.Finished as done:
        return done.result
    except SystemExit:
        return {"failed": True, "msg": "module %s exited without a result in the spin worker" % request["module"]}
    finally:
        module_runner.WARM_TASK["request"] = None
    return {"failed": True, "msg": "module %s returned without a result in the spin worker" % request["module"]}


def _read_all(conn):
    chunks = []
    while True:
        chunk = conn.recv(1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _quiet_stdio():
    """The child's output goes nowhere: only the result travels, over the connection."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _watch(conn):
    """SIGTERM this task when its client ends before the answer (the playbook was interrupted or
    killed): the client's end of the connection closes with it, which poll reports as a hang-up."""
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLHUP)

    answered = threading.Event()

    def watch():
        while not poller.poll(WATCH_INTERVAL_MS):
            pass
        if not answered.is_set():
            os.kill(os.getpid(), signal.SIGTERM)
    thread = threading.Thread(target=watch, name="spin-warm-watch")
    thread.daemon = True
    thread.start()
    return answered
