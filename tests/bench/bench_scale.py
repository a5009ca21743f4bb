"""Many fronted stacks on one edge (issue 13): N stacks (SPIN_BENCH_SCALE_N, default 200), each one
httpd replica behind its own hostname on one port of an edge of the benchmark's own, deployed one
after another through deploy.yml, with a bounded load on the first stack the whole time.

Prints the deploy time of the 1st, 100th and last stack, the first HTTP 200 through the edge for
them, the edge's reload time and memory against N, the host memory per stack, the no-op converge
of all N stacks (one playbook, one spin_stack task per stack), the edge container's restart with N
networks, and the failed requests (goal 0). Everything it makes is named edgsc* and removed at the
end. Load: 10 requests/s to the first stack, each with a 2 s timeout, until the last stack is
converged (bounded by SPIN_BENCH_SCALE_MAX_SECONDS, default 3 h). The stacks are tenant edgbench's
submissions, <root>/edgbench/edgsc-NNN/, removed at the end too."""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import http.client
import shutil

import docker
import yaml

from figures import record

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
# the integration tests' inventory (group_vars folded in) and tenants' submission directories
from stacklib import SUBMISSION_ROOT, hand_in, submission_dir, write_inventory  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
N = int(os.environ.get("SPIN_BENCH_SCALE_N", "200"))
MAX_SECONDS = int(os.environ.get("SPIN_BENCH_SCALE_MAX_SECONDS", str(3 * 3600)))
PREFIX = "edgsc"
EDGE = PREFIX + "_edge"
CONFIG_DIR = "/var/lib/spin/%s-edge" % PREFIX
BENCH = "scale"
TENANT = "edgbench"
UID = 1990


def free_port():
    s = socket.socket()
    s.bind(("0.0.0.0", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def env(**extra):
    out = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, "tests", "bench", "callback_plugins"))
    out.update(extra)
    return out


def playbook(inventory, book, *args, times=None):
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", inventory, book] + list(args), cwd=ROOT,
                          env=env(**({"SPIN_TASK_TIMES": times} if times else {})), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (book, proc.stdout[-3000:]))
    return proc.stdout


def get(port, host, timeout=2.0):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"Host": host})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    finally:
        conn.close()


class Load(threading.Thread):
    """10 requests/s to one hostname, each with a 2 s timeout; counts answers other than 200."""

    def __init__(self, port, host, deadline):
        super().__init__(daemon=True)
        self.port, self.host, self.deadline = port, host, deadline
        self.sent = self.failed = 0
        self.failures = []
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            started = time.monotonic()
            try:
                status = get(self.port, self.host)
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            self.sent += 1
            if status != 200:
                self.failed += 1
                self.failures.append((round(time.monotonic(), 1), status))
            self.stop.wait(max(0.0, 0.1 - (time.monotonic() - started)))


def edge_memory_mib(client):
    """The resident memory of the edge container's processes (HAProxy master and worker)."""
    total = 0
    for row in client.api.top(EDGE, ps_args="-o pid")["Processes"] or []:
        try:
            with open("/proc/%s/status" % row[0]) as handle:
                total += next(int(line.split()[1]) for line in handle if line.startswith("VmRSS:"))
        except (OSError, StopIteration, ValueError):
            pass
    return total / 1024.0


def mem_available_mib():
    with open("/proc/meminfo") as handle:
        for line in handle:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def stack_name(i):
    return "%s-%03d" % (PREFIX, i)


def write_stack(i, port):
    """The tenant's submission <root>/<tenant>/<stack>/ (the stack named after it) -> its path."""
    stack = stack_name(i)
    sub = str(submission_dir(TENANT, stack, UID, UID))
    with open(os.path.join(sub, "docker-compose.yml"), "w") as handle:
        handle.write("version: '2'\nservices:\n  web:\n    image: httpd\n  lb:\n    image: rancher/lb-service-haproxy\n")
    with open(os.path.join(sub, "rancher-compose.yml"), "w") as handle:
        yaml.safe_dump({"version": "2", "services": {"web": {"scale": 1}, "lb": {"lb_config": {"port_rules": [
            {"source_port": port, "target_port": 80, "service": "web", "hostname": "%s.scale.test" % stack,
             "protocol": "http"}]}}}}, handle)
    hand_in(sub, UID, UID)
    return sub


def first_200(port, host, since, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if get(port, host, timeout=1.0) == 200:
                return time.monotonic() - since
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    return None


def cleanup(client):
    for service in client.services.list():
        if service.name.startswith(PREFIX):
            service.remove()
    for container in client.containers.list(all=True, filters={"name": EDGE}):
        if container.name == EDGE:
            container.remove(force=True)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if not any(c.name.startswith(PREFIX) for c in client.containers.list(all=True)):
                break
        except docker.errors.NotFound:
            pass  # a container went away while listed
        time.sleep(1)
    for config in client.configs.list(filters={"label": "spin.lb.edge=" + EDGE}):
        config.remove()
    for net in client.networks.list(filters={"label": "spin.lb.edge=" + EDGE}):
        for dummy in range(60):
            try:
                net.remove()
                break
            except docker.errors.NotFound:
                break
            except docker.errors.APIError:
                time.sleep(1)
    for net in client.networks.list():
        if net.name.startswith(PREFIX):
            try:
                net.remove()
            except docker.errors.APIError:
                pass
    shutil.rmtree(os.path.join(SUBMISSION_ROOT, TENANT), ignore_errors=True)


def main():
    # stopped (timeout, Ctrl-C): still remove what was made
    signal.signal(signal.SIGTERM, lambda *dummy: sys.exit(143))
    client = docker.from_env(timeout=300)
    port, stats_port = free_port(), free_port()
    workdir = tempfile.mkdtemp(prefix=PREFIX + "-")
    # a tenant of the benchmark's own: its replicas count against no other tenant's quota
    inv = write_inventory(
        workdir, spin_lb_edge_service=EDGE, spin_lb_ports=[port], spin_lb_config_dir=CONFIG_DIR,
        spin_lb_network_prefix=PREFIX + "-lb-", spin_lb_stats_port=stats_port, spin_lb_hostnames=["*.scale.test"],
        spin_policy={"default_replica_quota": 100000},
        spin_tenants={TENANT: {"uid": UID, "gid": UID}})
    edge_book = os.path.join(workdir, "edge.yml")
    with open(edge_book, "w") as handle:
        yaml.safe_dump([{"name": "bench edge", "hosts": "swarm_managers:swarm_workers", "gather_facts": False,
                         "roles": ["spin.platform.lb_edge"]}], handle)
    print("scale: %d stacks x 1 httpd replica, one hostname each on port %d of the edge %s; %d cores, load %.1f"
          % (N, port, EDGE, os.cpu_count(), os.getloadavg()[0]), flush=True)
    load = None
    try:
        playbook(inv, edge_book)
        mem_start = mem_available_mib()
        edge_mem = {0: edge_memory_mib(client)}
        deploy, first, reload, host_mem = {}, {}, {}, {}
        marks = sorted({1, min(100, N), N})
        submissions, retried = [], []
        for i in range(1, N + 1):
            submission = write_stack(i, port)
            submissions.append(submission)
            times = os.path.join(workdir, "times-%d.jsonl" % i)
            started = time.monotonic()
            watcher = {}
            if i in marks:
                thread = threading.Thread(target=lambda: watcher.update(
                    s=first_200(port, "%s.scale.test" % stack_name(i), started)), daemon=True)
                thread.start()
            try:
                playbook(inv, "playbooks/deploy.yml", "-e", "spin_submission=" + submission, times=times)
            except RuntimeError as exc:
                # a deploy that failed is undone; count it, and run it again as infra staff would
                retried.append((i, str(exc)[-300:]))
                print("stack %d: the deploy failed and was undone, running it again: %s" % (i, str(exc)[-300:]),
                      flush=True)
                os.path.exists(times) and os.unlink(times)
                playbook(inv, "playbooks/deploy.yml", "-e", "spin_submission=" + submission, times=times)
            deploy[i] = time.monotonic() - started
            with open(times) as handle:
                task = [json.loads(line) for line in handle if '"Deploy the stack"' in line][0]
            reload[i] = ((task.get("edge") or {}).get("reload_seconds"))
            if i in marks:
                thread.join(130)
                first[i] = watcher.get("s")
            if i == 1:
                load = Load(port, "%s.scale.test" % stack_name(1), time.monotonic() + MAX_SECONDS)
                load.start()
            if i in marks or i % 25 == 0:
                edge_mem[i] = edge_memory_mib(client)
                host_mem[i] = mem_start - mem_available_mib()
                print("stack %d: deploy %.2fs, reload %ss, edge memory %.0f MiB, host memory used +%.0f MiB, "
                      "load %d sent %d failed" % (i, deploy[i], reload[i], edge_mem[i], host_mem[i],
                                                  load.sent if load else 0, load.failed if load else 0), flush=True)
        # the no-op converge of every stack, in one playbook
        converge = os.path.join(workdir, "converge.yml")
        with open(converge, "w") as handle:
            yaml.safe_dump([{"name": "converge every stack", "hosts": "swarm_managers[0]", "gather_facts": False,
                             "vars": {"submissions": submissions}, "tasks": [{
                                 "name": "Converge", "spin.platform.spin_stack": {"submission": "{{ item }}"},
                                 "loop": "{{ submissions }}", "loop_control": {"label": "{{ item | basename }}"}}]}],
                           handle)
        started = time.monotonic()
        out = playbook(inv, converge)
        noop = time.monotonic() - started
        noop_changed = "changed=0" not in out
        load.stop.set()
        load.join(10)
        # the edge container restarted with N networks: until the first stack answers again
        started = time.monotonic()
        client.containers.get(EDGE).restart(timeout=5)
        restart = first_200(port, "%s.scale.test" % stack_name(1), started, timeout=max(600, 5 * N))

        last = N
        record(BENCH, "fronted stacks deployed", N, "stacks", ">= 200")
        for i in marks:
            record(BENCH, "deploy.yml of stack %d (to the playbook's end)" % i, round(deploy[i], 2), "s")
            record(BENCH, "first HTTP 200 through the edge, stack %d" % i, first[i] and round(first[i], 2), "s")
            record(BENCH, "edge reload at stack %d" % i, reload[i], "s")
            record(BENCH, "edge memory with %d stacks" % i, round(edge_mem[i], 1), "MiB")
        record(BENCH, "deploy time, last / first stack", round(deploy[last] / deploy[1], 2), "x", "<= 1.2")
        record(BENCH, "edge memory per stack", round((edge_mem[last] - edge_mem[0]) / N, 3), "MiB")
        record(BENCH, "host memory per stack (replica, network, edge)", round(host_mem[last] / N, 1), "MiB")
        record(BENCH, "no-op converge of all %d stacks (one playbook)" % N, round(noop, 1), "s")
        record(BENCH, "no-op converge per stack", round(noop / N, 3), "s")
        record(BENCH, "no-op converge changed nothing", 0 if not noop_changed else 1, "", "= 0")
        record(BENCH, "edge container restart with %d networks, to the first 200" % N, restart and round(restart, 1),
               "s")
        record(BENCH, "deploys that failed (undone) and were run again", len(retried), "", "= 0",
               note="; ".join("%d: %s" % r for r in retried[:3]))
        record(BENCH, "requests to stack 1 during all deploys", load.sent, "")
        record(BENCH, "failed requests during all deploys", load.failed, "", "= 0",
               note=str(load.failures[:10]))
        return 0
    finally:
        if load is not None:
            load.stop.set()
        if os.environ.get("SPIN_BENCH_KEEP") != "1":
            cleanup(client)


if __name__ == "__main__":
    sys.exit(main())
