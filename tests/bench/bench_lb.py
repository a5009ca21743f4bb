"""The edge load balancer: requests/s and p99 latency through HAProxy against straight to one replica.

One private edge (HAProxy from the platform image) fronts one httpd replica on the stack's load
balancer network. wrk runs from a client task on that same network (in its network namespace, with
nsenter), so both paths cross the same overlay network and differ only by the HAProxy hop:

    direct   client -> replica:80
    edge     client -> edge:<port> -> replica:80

Rounds alternate the two; medians are printed with the saturated ratio edge/direct (a figure without a
goal: on two shared cores it measures how the CPU is split between wrk, HAProxy and httpd). For
context it also measures the published port on loopback (what a client on the node gets: through
Docker's userland proxy).

Then the edge as a user feels it: both paths at one fixed offered load, about half of what the direct
path sustains (wrk with a per-connection delay, wrk_rate.lua: a wrk2-style constant rate), rounds
alternating; the latency the edge adds (p50 edge - direct, goal <= 0.3 ms; p99 edge / direct, goal <=
1.2) and the CPU seconds per 10,000 requests of HAProxy (the edge container's cgroup) and of the
backend (the replica's), from the cgroups' cpuacct.usage. Prints numbers, asserts nothing about time.
"""
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import docker

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "playbooks", "collections"))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

from figures import record  # noqa: E402
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError  # noqa: E402
from lblib import Edge, failover_under_load, wait_for, wrk_binary  # noqa: E402

ROUNDS = int(os.environ.get("SPIN_BENCH_ROUNDS", "3"))
SECONDS = int(os.environ.get("SPIN_BENCH_LB_SECONDS", "8"))
CONNECTIONS = int(os.environ.get("SPIN_BENCH_LB_CONNECTIONS", "32"))
THREADS = 2
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk_summary.lua")
RATE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "wrk_rate.lua")
# the fixed offered load, as a share of the direct path's saturated requests/s
RATE_SHARE = float(os.environ.get("SPIN_BENCH_LB_RATE_SHARE", "0.5"))
RATE_DELAY_MS = 10


def wrk_rate(url, netns_pid, connections, seconds=None):
    """wrk with ``connections`` connections, each waiting RATE_DELAY_MS after every answer. -> dict (rps,
    p50_ms, p99_ms, errors, requests, connections)."""
    cmd = ["nsenter", "--net=/proc/%d/ns/net" % netns_pid, wrk_binary(), "-t%d" % THREADS, "-c%d" % connections,
           "-d%ds" % (seconds or SECONDS), "-s", RATE_SCRIPT, url]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
                         env=dict(os.environ, SPIN_WRK_DELAY_MS=str(RATE_DELAY_MS))).stdout
    match = re.search(r"^SPIN-WRK (.*)$", out, re.M)
    if not match:
        raise SystemExit("wrk gave no summary:\n" + out[-2000:])
    values = dict(re.findall(r"(\w+)=([0-9.]+)", match.group(1)))
    return {"rps": float(values["rps"]), "p50_ms": int(values["p50_us"]) / 1000.0,
            "p99_ms": int(values["p99_us"]) / 1000.0, "requests": int(values["requests"]),
            "errors": sum(int(values[k]) for k in ("connect", "read", "write", "timeout", "status")),
            "connections": connections}


def cpu_seconds(pid):
    """CPU seconds used so far by the cgroup (cpuacct, cgroup v1; cpu.stat on v2) of process ``pid``."""
    with open("/proc/%d/cgroup" % pid) as handle:
        lines = [line.strip().split(":", 2) for line in handle if line.strip()]
    for dummy, controllers, path in lines:
        if "cpuacct" in controllers.split(","):
            with open("/sys/fs/cgroup/cpuacct%s/cpuacct.usage" % path) as usage:
                return int(usage.read()) / 1e9
    for dummy, controllers, path in lines:
        if controllers == "":
            with open("/sys/fs/cgroup%s/cpu.stat" % path) as stat:
                return int(dict(line.split() for line in stat)["usage_usec"]) / 1e6
    raise SystemExit("no cpuacct cgroup for process %d" % pid)


def wrk(url, netns_pid=None):
    cmd = [wrk_binary(), "-t%d" % THREADS, "-c%d" % CONNECTIONS, "-d%ds" % SECONDS, "-s", SCRIPT, url]
    if netns_pid:
        cmd = ["nsenter", "--net=/proc/%d/ns/net" % netns_pid] + cmd
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False).stdout
    match = re.search(r"^SPIN-WRK (.*)$", out, re.M)
    if not match:
        raise SystemExit("wrk gave no summary:\n" + out[-2000:])
    values = dict(re.findall(r"(\w+)=([0-9.]+)", match.group(1)))
    errors = sum(int(values[k]) for k in ("connect", "read", "write", "timeout", "status"))
    return float(values["rps"]), int(values["p99_us"]) / 1000.0, errors


def address_on(task, network_id):
    for attachment in task.get("NetworksAttachments") or []:
        if attachment["Network"]["ID"] == network_id:
            return attachment["Addresses"][0].split("/")[0]
    raise SystemExit("task %s has no address on network %s" % (task["ID"], network_id))


def main():
    if not wrk_binary():
        print("wrk is not installed (Debian: apt-get install wrk); nothing measured")
        return 1
    client = docker.from_env(timeout=120)
    scratch = tempfile.mkdtemp(prefix="lbtbench-")
    # SPIN_BENCH_PREFIX: the benchmark's objects named with a prefix of one's own (a shared engine)
    prefix = os.environ.get("SPIN_BENCH_PREFIX")
    edge = Edge(client, scratch, port_count=1, prefix=prefix and prefix + uuid.uuid4().hex[:4],
                nbthread=int(os.environ.get("SPIN_BENCH_LB_NBTHREAD", "0")))
    try:
        edge.provision()
        stack = edge.prefix + "b"
        plan, dummy = edge.route("bench", stack, endpoints=[{"service": stack + "_web", "compose_service": "web",
                                                             "target": 80, "published": edge.ports[0], "protocol": "tcp"}])
        web = edge.backend(stack, "web", plan["network"], replicas=1)
        wait_for("the replica through the edge", lambda: len(edge.seen_through(edge.ports[0], 1)) == 1, timeout=30)
        client.services.create("httpd:latest", ["sleep", "3600"], name=edge.prefix + "_client",
                               networks=[plan["network"]])
        edge.wait_replicas(edge.prefix + "_client", 1)

        network_id = client.networks.get(plan["network"]).id
        replica_ip = address_on(edge.running_tasks(web)[0], network_id)
        edge_ip = client.containers.get(edge.platform["edge_service"]).attrs["NetworkSettings"]["Networks"][
            plan["network"]]["IPAddress"]
        client_task = edge.running_tasks(edge.prefix + "_client")[0]
        pid = client.containers.get(client_task["Status"]["ContainerStatus"]["ContainerID"]).attrs["State"]["Pid"]

        paths = [("direct to one replica", "http://%s:80/" % replica_ip, pid),
                 ("through HAProxy", "http://%s:%d/" % (edge_ip, edge.ports[0]), pid),
                 ("published port on loopback", "http://127.0.0.1:%d/" % edge.ports[0], None)]
        wrk(paths[0][1], pid)  # warm up
        wrk(paths[1][1], pid)
        results = {name: [] for name, dummy, dummy in paths}
        for dummy in range(ROUNDS):
            for name, url, ns in paths:
                results[name].append(wrk(url, ns))
                time.sleep(1)

        print("edge load balancer: wrk -t%d -c%d -d%ds, %d rounds, median; 1 httpd replica; %d cores; HAProxy "
              "nbthread %s" % (THREADS, CONNECTIONS, SECONDS, ROUNDS, os.cpu_count(),
                               edge.platform["nbthread"] or "auto"))
        print("%-30s %12s %10s %8s" % ("path", "requests/s", "p99 ms", "errors"))
        medians = {}
        for name, dummy, dummy in paths:
            rps = statistics.median(r[0] for r in results[name])
            p99 = statistics.median(r[1] for r in results[name])
            errors = sum(r[2] for r in results[name])
            medians[name] = (rps, p99)
            print("%-30s %12.0f %10.2f %8d" % (name, rps, p99, errors))
        direct, through = medians["direct to one replica"], medians["through HAProxy"]
        print("ratio through HAProxy / direct, saturated: requests/s %.2f, p99 latency x%.2f"
              % (through[0] / direct[0], through[1] / direct[1]))
        record("lb", "saturated: requests/s direct to one replica", round(direct[0]), "req/s")
        record("lb", "saturated: requests/s through the edge", round(through[0]), "req/s")
        record("lb", "saturated: edge / direct requests/s", round(through[0] / direct[0], 2), "x")
        record("lb", "saturated: edge / direct p99 latency", round(through[1] / direct[1], 2), "x")
        record("lb", "saturated: errors (all paths, all rounds)", sum(r[2] for rs in results.values() for r in rs), "",
               "= 0")

        # the edge as a user feels it: the same offered load on both paths, half of what direct sustains
        rate = RATE_SHARE * direct[0]
        edge_pid = client.containers.get(edge.platform["edge_service"]).attrs["State"]["Pid"]
        web_task = edge.running_tasks(web)[0]
        web_pid = client.containers.get(web_task["Status"]["ContainerStatus"]["ContainerID"]).attrs["State"]["Pid"]
        # connections for the offered rate: a first guess (each offers 1000 / (delay + 1 ms) requests/s), then
        # scaled by what a short run on the direct path achieved (wrk's timer and a busy machine slow each one)
        connections = max(THREADS, int(round(rate * (RATE_DELAY_MS + 1.0) / 1000.0)))
        for dummy in range(2):
            probe = wrk_rate(paths[0][1], pid, connections, seconds=3)
            connections = max(THREADS, int(round(connections * rate / max(1.0, probe["rps"]))))
        fixed = {"direct": [], "edge": []}
        for dummy in range(ROUNDS):
            for name, url in (("direct", paths[0][1]), ("edge", paths[1][1])):
                before = cpu_seconds(edge_pid), cpu_seconds(web_pid)
                run = wrk_rate(url, pid, connections)
                after = cpu_seconds(edge_pid), cpu_seconds(web_pid)
                run["haproxy_cpu"] = (after[0] - before[0]) / max(1, run["requests"]) * 10000
                run["backend_cpu"] = (after[1] - before[1]) / max(1, run["requests"]) * 10000
                fixed[name].append(run)
                time.sleep(1)
        keys = ("rps", "p50_ms", "p99_ms", "haproxy_cpu", "backend_cpu")
        med = {name: {key: statistics.median(r[key] for r in runs) for key in keys} for name, runs in fixed.items()}
        print("fixed offered load %.0f req/s (%.0f%% of direct's saturated rate; %d connections, %d ms apart), %d "
              "rounds, medians; load %.1f" % (rate, RATE_SHARE * 100, fixed["edge"][0]["connections"], RATE_DELAY_MS,
                                              ROUNDS, os.getloadavg()[0]))
        for name in ("direct", "edge"):
            print("  %-7s %8.0f req/s  p50 %.3f ms  p99 %.3f ms  HAProxy %.3f s / 10k  backend %.3f s / 10k"
                  % (name, med[name]["rps"], med[name]["p50_ms"], med[name]["p99_ms"], med[name]["haproxy_cpu"],
                     med[name]["backend_cpu"]))
        record("lb", "fixed load: offered requests/s (half of direct saturated)", round(rate), "req/s")
        record("lb", "fixed load: achieved requests/s direct / through the edge",
               "%d / %d" % (med["direct"]["rps"], med["edge"]["rps"]), "req/s")
        record("lb", "fixed load: p50 direct", round(med["direct"]["p50_ms"], 3), "ms")
        record("lb", "fixed load: p50 through the edge", round(med["edge"]["p50_ms"], 3), "ms")
        record("lb", "fixed load: p50 added by the edge", round(med["edge"]["p50_ms"] - med["direct"]["p50_ms"], 3),
               "ms", "<= 0.3")
        record("lb", "fixed load: p99 direct", round(med["direct"]["p99_ms"], 3), "ms")
        record("lb", "fixed load: p99 through the edge", round(med["edge"]["p99_ms"], 3), "ms")
        record("lb", "fixed load: p99 edge / direct", round(med["edge"]["p99_ms"] / med["direct"]["p99_ms"], 2), "x",
               "<= 1.2")
        record("lb", "fixed load: HAProxy CPU per 10,000 requests", round(med["edge"]["haproxy_cpu"], 3), "s")
        record("lb", "fixed load: backend CPU per 10,000 requests (through the edge)",
               round(med["edge"]["backend_cpu"], 3), "s")
        record("lb", "fixed load: backend CPU per 10,000 requests (direct)", round(med["direct"]["backend_cpu"], 3), "s")
        record("lb", "fixed load: errors (both paths, all rounds)",
               sum(r["errors"] for runs in fixed.values() for r in runs), "", "= 0")

        # the reasons, measured: the same edge path with one change to the rendered config each
        original = edge.node.current()
        variants = [
            ("nbthread 1 (one HAProxy thread)", lambda text: text.replace("global\n", "global\n    nbthread 1\n", 1)),
            ("http-reuse always (server connections shared)",
             lambda text: text.replace("\ndefaults\n", "\ndefaults\n    http-reuse always\n", 1)),
            ("http-reuse aggressive (shared once proven reusable)",
             lambda text: text.replace("\ndefaults\n", "\ndefaults\n    http-reuse aggressive\n", 1)),
            ("no logging at all", lambda text: text.replace("    log global\n", "", 1).replace(
                "    option httplog\n", "", 1)),
        ]
        # side by side: the rendered config and the variant alternate, round by round (the load of a
        # shared 2-core machine drifts within minutes; a ratio to the median above would measure it)
        # SPIN_BENCH_LB_VARIANTS=0 leaves them out (about 3 minutes)
        for label, patch in variants if os.environ.get("SPIN_BENCH_LB_VARIANTS", "1") != "0" else ():
            pairs = []
            for dummy in range(ROUNDS):
                rates = []
                for text in (original, patch(original)):
                    edge.node.write(text)
                    try:
                        edge.node.reload()
                    except SpinError as exc:
                        rates = exc.message
                        break
                    time.sleep(1)
                    rates.append(wrk(paths[1][1], pid)[0])
                if isinstance(rates, str):
                    break
                pairs.append(rates)
            if isinstance(rates, str):
                record("lb", "through the edge with %s / as rendered" % label, None, "x", note=rates)
                continue
            ratio = statistics.median(variant / rendered for rendered, variant in pairs)
            record("lb", "through the edge with %s / as rendered" % label, round(ratio, 2), "x")
        edge.node.write(original)
        edge.node.reload()

        # fast failover: one of three replicas killed under load
        edge.docker.services.get(web).scale(3)
        wait_for("three replicas through the edge", lambda: len(edge.seen_through(edge.ports[0], 3)) == 3,
                 timeout=90)
        failover = failover_under_load(edge, edge.ports[0], web)
        record("lb", "failover: slowest request after a replica was killed", round(failover["slowest_after_kill"], 2),
               "s", "<= 1.0")
        record("lb", "failover: failed requests (4 clients, %d requests)" % failover["sent"], failover["failed"], "",
               "= 0")
        return 0
    finally:
        edge.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
