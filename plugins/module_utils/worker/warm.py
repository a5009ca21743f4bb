# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The warm worker: the manager-side process that runs spin.platform's modules without paying,
for every task, Python's start, AnsiballZ's unpacking and the imports (about 1.2 s of a 1.5 s
no-op deploy task, against 0.1-0.2 s of work).

The controller (``plugin_utils/warm_client.py``) ships this collection's target code once as a
zip, keyed by its content hash, and starts ``python <dir>/<version>.zip`` here; that process
imports the modules once and listens on ``<dir>/<version>.sock`` (directory 0700, the socket for
its own user only). Each task is one connection: the worker forks, and the child runs the
module's work with the task's arguments (``task.run_task``: a ``WarmModule`` instead of an
``AnsibleModule``), writes the result and exits. So a task
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

from ansible_collections.spin.platform.plugins.module_utils.worker import task as worker_task

PRELOAD = ("ansible.module_utils.basic", "ansible.module_utils.common.arg_spec",
           "ansible.module_utils.common.parameters")
WATCH_INTERVAL_MS = 100


# ---- the worker process ------------------------------------------------------------------------

def paths(directory, version):
    base = os.path.join(directory, version)
    return {"socket": base + ".sock", "zip": base + ".zip", "lock": base + ".lock"}


def main(argv, load):
    """``python <version>.zip <directory> <version> <idle seconds>``; ``load()`` -> {name: module object}
    of the modules this worker runs: the archive's ``__main__`` imports them (the controller writes it
    from ``warm_client.ROUTED``, the one list of them)."""
    directory, version, idle = argv[0], argv[1], float(argv[2])
    return serve(directory, version, idle, load)


def serve(directory, version, idle, load):
    files = paths(directory, version)
    lock = open(files["lock"], "a")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # a worker of this version serves already
    try:
        return _serve(files, lock, idle, load)
    finally:
        # whatever ended it (idle, SIGTERM, a module that does not import here): the next task finds
        # no socket, runs the module the usual way and starts a worker again
        for path in (files["socket"], files["zip"], files["lock"]):
            try:
                os.unlink(path)
            except OSError:
                pass


def _serve(files, lock, idle, load):
    loaded = load()
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
    return worker_task.run_task(loaded[name], request)


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
