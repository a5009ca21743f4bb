"""Many fronted stacks on one edge (issue 13), and the whole platform's converge (issue 22): N stacks
(SPIN_BENCH_SCALE_N, default 200), each one httpd replica behind its own hostname on one port of an
edge of the benchmark's own, of TENANTS tenants of the benchmark's own (SPIN_BENCH_SCALE_TENANTS, 8),
with a bounded load on the first stack the whole time.

The first and the last stack are deployed through deploy.yml (their deploy time, first HTTP 200 through
the edge, the edge's reload); the ones between by one run of playbooks/converge.yml (the tenants side by
side). Then playbooks/converge.yml over all N unchanged stacks (goal <= 60 s, and no service's Swarm
version moves), and again with one stack's file changed (same goal; only that stack's service has a new
version). Also: the edge's memory against N, the host memory per stack, the edge container's restart
with N networks, and the failed requests (goal 0). Everything it makes is named edgsc* and removed at
the end. Load: 10 requests/s to the first stack, each with a 2 s timeout, until the converges are
over (bounded by SPIN_BENCH_SCALE_MAX_SECONDS, default 3 h). The stacks are the tenants' submissions,
<root>/edgbench*/edgsc-NNN/, removed at the end too. Takes about 8-12 minutes on two shared cores."""
import json
import os
import re
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
# SPIN_BENCH_PREFIX: another name prefix for everything it makes (a shared engine: each person's own)
PREFIX = os.environ.get("SPIN_BENCH_PREFIX", "edgsc")
EDGE = PREFIX + "_edge"
CONFIG_DIR = "/var/lib/spin/%s-edge" % PREFIX
BENCH = "scale"
TENANT = "edgbench" if PREFIX == "edgsc" else PREFIX + "t"
UID = 1990
# the stacks' tenants: stack i is tenant i % TENANTS's (0 is TENANT); a converge runs tenants side by side
TENANT_COUNT = max(1, int(os.environ.get("SPIN_BENCH_SCALE_TENANTS", "8")))
TENANTS = {(TENANT if n == 0 else "%s%d" % (TENANT, n)): UID - n for n in range(TENANT_COUNT)}


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


def tenant_of(i):
    name = sorted(TENANTS, key=lambda t: -TENANTS[t])[i % TENANT_COUNT]
    return name, TENANTS[name]


def write_stack(i, port, extra=""):
    """The tenant's submission <root>/<tenant>/<stack>/ (the stack named after it) -> its path."""
    stack = stack_name(i)
    tenant, uid = tenant_of(i)
    sub = str(submission_dir(tenant, stack, uid, uid))
    with open(os.path.join(sub, "docker-compose.yml"), "w") as handle:
        handle.write("version: '2'\nservices:\n  web:\n    image: httpd\n%s  lb:\n    image: rancher/lb-service-haproxy\n"
                     % extra)
    with open(os.path.join(sub, "rancher-compose.yml"), "w") as handle:
        yaml.safe_dump({"version": "2", "services": {"web": {"scale": 1}, "lb": {"lb_config": {"port_rules": [
            {"source_port": port, "target_port": 80, "service": "web", "hostname": "%s.scale.test" % stack,
             "protocol": "http"}]}}}}, handle)
    hand_in(sub, uid, uid)
    return sub


def web_versions(client):
    """stack service name -> its Swarm version index, for every web service of the benchmark."""
    return {svc.name: svc.attrs["Version"]["Index"] for svc in client.services.list()
            if svc.name.startswith(PREFIX + "-") and svc.name.endswith("_web")}


def converge(inv, times=None):
    """playbooks/converge.yml over the benchmark's tenants -> (seconds, its output). It converges every
    submission of those tenants; the others' (the shared root's) are not theirs to touch."""
    started = time.monotonic()
    out = playbook(inv, "playbooks/converge.yml", "-v", "-e", "spin_converge_only=" + ",".join(sorted(TENANTS)),
                   times=times)
    return time.monotonic() - started, out


def split(out):
    """Where a converge's time went, from its result (-v): judging on the controller, the manager's
    task, the stacks' part of it (-> dict of seconds, None where the output has none)."""
    found = {}
    for key, pattern in (("controller", r"^\s+controller: ([0-9.]+)$"), ("manager_task", r"^\s+manager_task: ([0-9.]+)$"),
                         ("stacks", r"^\s+stacks: ([0-9.]+)$")):
        match = re.search(pattern, out, re.M)
        found[key] = float(match.group(1)) if match else None
    return found


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
    for tenant in TENANTS:
        shutil.rmtree(os.path.join(SUBMISSION_ROOT, tenant), ignore_errors=True)


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
        # quotas the benchmark's tenants never reach (200 stacks of 8 tenants: 25 services each, with the
        # platform's default limits)
        spin_policy={"default_replica_quota": 100000,
                     "default_resource_quota": {"limits": {"cpus": 10000, "memory": "10000g"},
                                                "reservations": {"cpus": 10000, "memory": "10000g"}}},
        spin_tenants={name: {"uid": uid, "gid": uid} for name, uid in TENANTS.items()})
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
        retried = []

        def deploy_one(i):
            """stack i through deploy.yml, timed to the playbook's end, with its first 200 watched."""
            submission = write_stack(i, port)
            times = os.path.join(workdir, "times-%d.jsonl" % i)
            started = time.monotonic()
            watcher = {}
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
            thread.join(130)
            first[i] = watcher.get("s")
            edge_mem[i] = edge_memory_mib(client)
            host_mem[i] = mem_start - mem_available_mib()
            print("stack %d: deploy %.2fs, reload %ss, edge memory %.0f MiB, host memory used +%.0f MiB, "
                  "load %d sent %d failed" % (i, deploy[i], reload[i], edge_mem[i], host_mem[i],
                                              load.sent if load else 0, load.failed if load else 0), flush=True)

        deploy_one(1)
        load = Load(port, "%s.scale.test" % stack_name(1), time.monotonic() + MAX_SECONDS)
        load.start()
        # the stacks between: one converge creates them (setup; its time is a figure without a goal)
        for i in range(2, N):
            write_stack(i, port)
        created = None
        if N > 2:
            created, out = converge(inv)
            if "changed=1" not in out:
                raise RuntimeError("the converge that creates stacks 2..%d changed nothing:\n%s" % (N - 1, out[-3000:]))
            print("converge that created stacks 2..%d: %.1fs" % (N - 1, created), flush=True)
        if N > 1:
            deploy_one(N)
        marks = sorted(deploy)

        # the whole platform converged, nothing changed: no service of any stack gets a new version
        before = web_versions(client)
        noop, out = converge(inv)
        noop_split = split(out)
        noop_changed = "changed=0" not in out
        noop_touched = sorted(name for name, version in web_versions(client).items() if before.get(name) != version)
        # one stack's file changed (an environment variable): that stack's service only gets a new version
        changed_i = max(1, N // 2)
        write_stack(changed_i, port, extra="    environment:\n      SPIN_BENCH: changed\n")
        before = web_versions(client)
        one, out = converge(inv)
        one_touched = sorted(name for name, version in web_versions(client).items() if before.get(name) != version)
        manager = [float(x) for x in re.findall(r"^\s+stacks: ([0-9.]+)$", out, re.M)]
        print("converge of %d stacks: unchanged %.1fs (touched %s), one changed %.1fs (touched %s, the manager's "
              "part %s s)" % (N, noop, noop_touched or "none", one, one_touched, manager), flush=True)
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
        record(BENCH, "converge.yml creating %d new stacks (%d tenants side by side)" % (max(0, N - 2), TENANT_COUNT),
               created and round(created, 1), "s")
        record(BENCH, "converge.yml of all %d unchanged stacks" % N, round(noop, 1), "s", "<= 60")
        record(BENCH, "unchanged converge: stacks reported changed", 1 if noop_changed else 0, "", "= 0")
        record(BENCH, "unchanged converge: services with a new version", len(noop_touched), "", "= 0",
               note=", ".join(noop_touched[:5]))
        record(BENCH, "converge.yml of all %d stacks, one changed" % N, round(one, 1), "s", "<= 60")
        record(BENCH, "one changed: services with a new version (only %s)" % stack_name(changed_i) + "_web",
               len(one_touched), "", "= 1", note=", ".join(one_touched[:5]))
        record(BENCH, "one changed: the changed stack's service among them",
               1 if one_touched == [stack_name(changed_i) + "_web"] else 0, "", "= 1")
        record(BENCH, "converge per stack (unchanged)", round(noop / N, 3), "s")
        record(BENCH, "unchanged converge: judging every stack on the controller", noop_split["controller"], "s")
        record(BENCH, "unchanged converge: the manager's task (its stacks' part)", noop_split["manager_task"], "s",
               note="stacks %s s" % noop_split["stacks"])
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
