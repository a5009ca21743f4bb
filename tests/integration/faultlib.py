"""Helpers of the fault suite (tests/integration/test_fault_*.py): a syslog listener on /dev/log, a
watcher of the temp directories a deploy writes to, bounded HTTP load through the edge, rows in a
real database, and ansible-playbook runs that can be killed midway.

Every Docker object the suite makes is named with the prefix ``flt``."""
import ctypes
import ctypes.util
import http.client
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid

import lblib
import tracebacks

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)


def new_prefix():
    return "flt" + uuid.uuid4().hex[:6]


def wait_for(what, check, timeout=120, interval=0.25):
    """lblib.wait_for with the fault suite's longer default: a database or an engine takes longer to come back."""
    return lblib.wait_for(what, check, timeout=timeout, interval=interval)


# ---- ansible-playbook ----------------------------------------------------------------------

def playbook_env(extra=None):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
               ANSIBLE_NOCOLOR="1", PATH=BIN + os.pathsep + os.environ.get("PATH", ""), **tracebacks.ENV)
    env.update(extra or {})
    return env


def start_playbook(playbook, *args, env=None, inventory="inventory/local.yml", wrap=None):
    """ansible-playbook in a session of its own (so that it can be killed with every child), output
    to a file; -> (Popen, output path). ``wrap``: argv put in front (unshare, ...)."""
    out = os.path.join("/tmp", "flt-playbook-%s.log" % uuid.uuid4().hex[:8])
    cmd = (wrap or []) + [os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook, *args]
    handle = open(out, "w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=playbook_env(env), stdout=handle, stderr=subprocess.STDOUT,
                            start_new_session=True)
    handle.close()
    return proc, out


def finish(proc, out, timeout=900):
    try:
        proc.wait(timeout)
    finally:
        if proc.poll() is None:
            kill_tree(proc)
    with open(out) as handle:
        text = handle.read()
    os.unlink(out)
    tracebacks.assert_none(text, "ansible-playbook (rc=%s)" % proc.returncode)
    return proc.returncode, text


def run_playbook(playbook, *args, **kwargs):
    return finish(*start_playbook(playbook, *args, **kwargs))


def _descendants(pid):
    """Every process under ``pid`` (Ansible's workers detach into sessions of their own, so a
    process group or session does not hold them all; the parent links do)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(proc):
    """SIGKILL the playbook and every process under it (its workers, the module they run): what a
    lost controller, an OOM kill or a killed CI job's cgroup does."""
    victims = [proc.pid] + _descendants(proc.pid)
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(30)
    # a signal is delivered when the process next runs: on a busy machine that takes a moment
    wait_for("the killed processes to be gone", lambda: not [p for p in victims if _alive(p)], timeout=30,
             interval=0.05)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return False


# ---- syslog --------------------------------------------------------------------------------

class SyslogListener(object):
    """Binds /dev/log (a datagram socket, as rsyslog and journald do) and keeps every message.

    Where /dev/log exists already (a real syslog), the playbook runs in a mount namespace of its
    own with this listener's socket bound over /dev/log: ``wrap`` gives the argv prefix."""

    PATH = "/dev/log"

    def __init__(self, scratch):
        self.messages = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if os.path.exists(self.PATH):
            self.path = os.path.join(str(scratch), "log")
            self.wrap = ["unshare", "--mount", "--propagation", "private", "sh", "-c",
                         'mount --bind "$0" /dev/log && exec "$@"', self.path]
        else:
            self.path, self.wrap = self.PATH, []
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self):
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.messages.append(data.decode("utf-8", "replace"))

    def close(self):
        time.sleep(0.5)   # the last datagrams
        self._stop.set()
        self._thread.join(5)
        self.sock.close()
        os.unlink(self.path)


# ---- temp directories ----------------------------------------------------------------------

_IN_CLOSE_WRITE, _IN_MOVED_TO, _IN_CREATE, _IN_ISDIR = 0x8, 0x80, 0x100, 0x40000000


class TempWatcher(object):
    """Watches a directory tree with inotify and reads every file written in it the moment it is
    closed (before Ansible can remove it), looking for ``needles`` (bytes). ``found`` lists
    (path, needle index) pairs; ``files`` every file path seen written. ``env`` points a playbook
    run's temp directories (remote, local, the module's own) into the tree."""

    def __init__(self, top, needles):
        self.top, self.needles = str(top), [n for n in needles if n]
        self.env = temp_env(self.top)
        self.found, self.files = [], []
        self._libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self._dirs = {}
        self._add_tree(self.top)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _add(self, path):
        wd = self._libc.inotify_add_watch(self._fd, path.encode(), _IN_CLOSE_WRITE | _IN_MOVED_TO | _IN_CREATE)
        if wd >= 0:
            self._dirs[wd] = path

    def _add_tree(self, top):
        for root, _dirs, files in os.walk(top):
            self._add(root)
            for name in files:
                self._check(os.path.join(root, name))

    def _check(self, path):
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return
        self.files.append(path)
        for index, needle in enumerate(self.needles):
            if needle in data:
                self.found.append((path, index))

    def _loop(self):
        while not self._stop.is_set():
            try:
                buf = os.read(self._fd, 65536)
            except BlockingIOError:
                time.sleep(0.01)
                continue
            offset = 0
            while offset < len(buf):
                wd, mask, _cookie, length = struct.unpack_from("iIII", buf, offset)
                name = buf[offset + 16:offset + 16 + length].rstrip(b"\0").decode("utf-8", "replace")
                offset += 16 + length
                path = os.path.join(self._dirs.get(wd, self.top), name)
                if mask & _IN_ISDIR and mask & _IN_CREATE:
                    self._add_tree(path)   # files written before the watch was added are read here
                elif mask & (_IN_CLOSE_WRITE | _IN_MOVED_TO):
                    self._check(path)

    def close(self):
        self._stop.set()
        self._thread.join(5)
        os.close(self._fd)
        self.left = []
        for root, _dirs, files in os.walk(self.top):
            for name in files:
                # what is left on disk at the end (a killed run's leftovers) is read as well
                self.left.append(os.path.join(root, name))
                self._check(self.left[-1])


def temp_env(top):
    """Point every temp directory of a playbook run (remote, local, the module's own) under ``top``."""
    dirs = {key: os.path.join(str(top), key) for key in ("remote", "local", "system")}
    for path in dirs.values():
        os.makedirs(path, exist_ok=True)
    return {"ANSIBLE_REMOTE_TMP": dirs["remote"], "ANSIBLE_LOCAL_TEMP": dirs["local"], "TMPDIR": dirs["system"]}


# ---- load ----------------------------------------------------------------------------------

class HttpLoad(object):
    """``threads`` clients sending GET requests with keep-alive to the edge on loopback, until
    stopped or ``max_requests`` are sent (bounded in count and time). Counts answers by status and
    failures by kind; ``failure_times`` are monotonic times of the failures."""

    def __init__(self, port, host, path="/", threads=4, max_requests=200000, max_seconds=300):
        self.port, self.host, self.path = port, host, path
        self.max_requests, self.deadline = max_requests, time.monotonic() + max_seconds
        self.sent = 0
        self.statuses, self.errors, self.failure_times = {}, {}, []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._client, daemon=True) for _unused in range(threads)]
        self.started = time.monotonic()
        for thread in self._threads:
            thread.start()

    def _take(self):
        with self._lock:
            if self._stop.is_set() or self.sent >= self.max_requests or time.monotonic() > self.deadline:
                return False
            self.sent += 1
            return True

    def _note(self, status=None, error=None):
        with self._lock:
            if status is not None:
                self.statuses[status] = self.statuses.get(status, 0) + 1
            if error is not None or status != 200:
                key = error or "HTTP %s" % status
                self.errors[key] = self.errors.get(key, 0) + 1
                self.failure_times.append(time.monotonic())

    def _client(self):
        conn = None
        while self._take():
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                conn.request("GET", self.path, headers={"Host": self.host})
                resp = conn.getresponse()
                resp.read()
                self._note(status=resp.status)
                if resp.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException) as exc:
                self._note(error=type(exc).__name__)
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()

    def stop(self):
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
        self.seconds = time.monotonic() - self.started
        return self

    @property
    def failed(self):
        return sum(self.errors.values())

    def summary(self):
        return "%d requests in %.1f s (%.0f/s), %d failed %s" % (
            self.sent, self.seconds, self.sent / max(self.seconds, 0.001), self.failed, self.errors or "")


# ---- a real database -----------------------------------------------------------------------

class Database(object):
    """SQL through the db service's running container (docker exec of the mariadb client)."""

    def __init__(self, docker_client, service, password, database):
        self.docker, self.service, self.password, self.database = docker_client, service, password, database

    def container(self):
        for container in self.docker.containers.list(filters={"label": "com.docker.swarm.service.name=" +
                                                              self.service}):
            if container.status == "running":
                return container
        return None

    def sql(self, statement):
        """-> (ok, output)."""
        container = self.container()
        if container is None:
            return False, "no running container"
        try:
            result = container.exec_run(["mariadb", "-uroot", "-p" + self.password, "-N", "-B", self.database,
                                         "-e", statement])
        except Exception as exc:  # noqa: BLE001 - a container that went away meanwhile
            return False, str(exc)
        return result.exit_code == 0, result.output.decode("utf-8", "replace").strip()

    def ready(self):
        return self.sql("SELECT 1")[0]

    def count(self, table="t"):
        ok, out = self.sql("SELECT COUNT(*) FROM %s" % table)
        assert ok, out
        return int(out)


class InsertLoad(object):
    """Inserts rows one statement at a time (each one committed) until stopped or ``max_rows``;
    ``acknowledged`` are the ids the database confirmed. Rows lost = acknowledged ids not found."""

    def __init__(self, db, table="t", max_rows=2000, max_seconds=300):
        self.db, self.table = db, table
        self.acknowledged, self.refused = [], 0
        self.max_rows, self.deadline = max_rows, time.monotonic() + max_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._next = 0
        self._thread.start()

    def _run(self):
        while not self._stop.is_set() and self._next < self.max_rows and time.monotonic() < self.deadline:
            self._next += 1
            ok, _output = self.db.sql("INSERT INTO %s (id) VALUES (%d)" % (self.table, self._next))
            if ok:
                self.acknowledged.append(self._next)
            else:
                self.refused += 1
                time.sleep(0.2)

    def stop(self):
        self._stop.set()
        self._thread.join(60)
        return self

    def lost(self):
        ok, out = self.db.sql("SELECT id FROM %s" % self.table)
        assert ok, out
        present = {int(x) for x in out.split()} if out else set()
        return sorted(set(self.acknowledged) - present)


def secret_needles(*values):
    """Each secret as the bytes it could appear as: itself, base64 and JSON-escaped."""
    import base64
    import json
    out = []
    for value in values:
        raw = value.encode() if isinstance(value, str) else value
        out += [raw, base64.b64encode(raw), json.dumps(raw.decode()).encode()[1:-1]]
    return list(dict.fromkeys(out))


# ---- a host of our own for engine crashes ------------------------------------------------------

NODE_IMAGE = "flt/fault-node:bookworm"
# the platform's node recipe (molecule, local_cluster.yml), with the engine installed but not started
NODE_CONTEXT = os.path.join(ROOT, "playbooks", "files", "node")
# what a nested dockerd needs where --privileged is refused (PLATFORM-NOTES)
NODE_FLAGS = ["--cap-add=ALL", "--cap-drop=SYS_RESOURCE", "--security-opt=seccomp=unconfined",
              "--security-opt=apparmor=unconfined", "--security-opt=systempaths=unconfined",
              "--security-opt=no-new-privileges=false", "--device-cgroup-rule=a *:* rwm"]


def _docker(*args, check=True, **kwargs):
    proc = subprocess.run(["docker", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError("docker %s failed (rc=%s): %s" % (" ".join(args[:3]), proc.returncode, proc.stdout[-2000:]))
    return proc


class EngineNode(object):
    """A container that is a Debian host with the Docker engine installed but not started: the
    docker_host role starts it over SSH, as on a host without an init system. Everything it runs
    (its dockerd, containerd, containers) is ours to kill. Named ``flt-<hex>``."""

    def __init__(self, scratch):
        self.name = new_prefix().replace("flt", "flt-node-")
        self.scratch = str(scratch)
        self.key = os.path.join(self.scratch, "id_ed25519")
        if not shutil.which("ssh-keygen") and shutil.which("apt-get"):
            # a fresh machine may lack the SSH client that Ansible reaches the node with
            subprocess.run(["apt-get", "install", "-y", "-q", "openssh-client"], check=False,
                           env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"), stdout=subprocess.DEVNULL)
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key], check=True)
        if _docker("image", "inspect", NODE_IMAGE, check=False).returncode != 0:
            _docker("build", "--quiet", "--build-arg", "ENGINE=docker.io", "--tag", NODE_IMAGE, NODE_CONTEXT,
                    env=dict(os.environ, DOCKER_BUILDKIT="0"))
        _docker("network", "create", self.name)
        with open(self.key + ".pub") as handle:
            pubkey = handle.read().strip()
        _docker("run", "--detach", "--name", self.name, "--hostname", self.name, "--network", self.name,
                *NODE_FLAGS, "--volume", "%s-docker:/var/lib/docker" % self.name,
                "--env", "NODE_AUTHORIZED_KEY=" + pubkey, "--label", "spin.fault=node", NODE_IMAGE)
        self.ip = _docker("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                          self.name).stdout.strip()
        self.inventory = os.path.join(self.scratch, "inventory.yml")
        with open(self.inventory, "w") as handle:
            handle.write("all:\n  hosts:\n    %s:\n      ansible_host: %s\n      ansible_user: root\n"
                         "      ansible_ssh_private_key_file: %s\n      ansible_python_interpreter: /usr/bin/python3\n"
                         "      ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n"
                         % (self.name, self.ip, self.key))
        wait_for("sshd in %s" % self.name, self._ssh_up, timeout=60)

    def _ssh_up(self):
        try:
            with socket.create_connection((self.ip, 22), timeout=1):
                return True
        except OSError:
            return False

    def sh(self, script, check=True, stdin=None):
        """-> (rc, output) of ``sh -c script`` in the node."""
        proc = subprocess.run(["docker", "exec"] + (["-i"] if stdin else []) + [self.name, "sh", "-c", script],
                              stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
        out = proc.stdout.decode("utf-8", "replace")
        if check and proc.returncode != 0:
            raise AssertionError("in %s: %s -> rc %s: %s" % (self.name, script, proc.returncode, out[-2000:]))
        return proc.returncode, out

    def play(self, playbook, *args):
        return run_playbook(playbook, *args, inventory=self.inventory)

    def load_image(self, image):
        """docker save | docker load into the node's engine."""
        save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE)
        try:
            self.sh("docker load -q", stdin=save.stdout)
        finally:
            save.stdout.close()
            save.wait()

    def close(self):
        _docker("rm", "--force", "--volumes", self.name, check=False)
        _docker("volume", "rm", "%s-docker" % self.name, check=False)
        _docker("network", "rm", self.name, check=False)
