"""A node's loss, timed from this machine (where the nodes are containers, so one clock times it all):
kills the victim node (docker kill) and then, every 0.2 s, takes one snapshot on the manager (this same
file, run there with --snapshot: docker exec -i <manager> python3 - --snapshot ... < recovery.py) until
the stack's public services are served again. Prints one JSON line, seconds after the kill:

- down_after: the manager marks the victim down;
- replicas_after: (after that) every public service has all its replicas running, none on the victim;
- answering_after: (after that) for every backend of the stack on the manager's edge, the servers HAProxy
  has UP are exactly the running replicas' addresses on the stack's load balancer network.

Why the last one means "answering through the edge": HAProxy's backends are server-template slots that
Swarm's DNS fills (tasks.<alias>, re-resolved every second), and a slot is UP (op state 2, admin state 0)
with its last health check passed (check result 3) only when the edge itself has connected to that
address and the replica answered. So every replacement replica answers the edge, and no slot the edge
sends requests to is a lost one. (That no client request failed meanwhile is the load's own count.)

Also: victim_replicas, the public replicas the victim ran when it was killed (0 would time nothing), and
the last snapshot when it timed out."""
import argparse
import json
import os
import socket
import subprocess
import sys
import time

UP, NO_ADMIN, CHECK_PASSED = 2, 0, 3


def run(*argv):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True).stdout


# ---- on the manager ----------------------------------------------------------------------------

def servers_state(edge_dir, stack):
    """{backend: (service, [addresses of the servers UP with their last check passed])} of the stack."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(os.path.join(edge_dir, "run", "admin.sock"))
    sock.sendall(b"show servers state\n")
    chunks = []
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
    sock.close()
    out = {}
    for line in b"".join(chunks).decode().splitlines():
        f = line.split()
        # be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state ... srv_check_result (11)
        if len(f) < 12 or line.startswith("#"):
            continue
        # backends are named <stack>:<service>:<port>[...] (module_utils/edge/haproxy_cfg.py)
        parts = f[1].split(":")
        if len(parts) < 3 or parts[0] != stack:
            continue
        ups = out.setdefault(f[1], (parts[1], []))[1]
        if f[4] != "-" and int(f[5]) == UP and int(f[6]) == NO_ADMIN and int(f[11]) == CHECK_PASSED:
            ups.append(f[4])
    return out


def snapshot(args):
    state = run("docker", "node", "inspect", args.victim, "--format", "{{.Status.State}}").strip()
    backends = servers_state(args.edge_dir, args.stack)
    services = sorted({"%s_%s" % (args.stack, service) for service, dummy in backends.values()})
    tasks = {name: [] for name in services}
    replicas = {}
    if services:
        for line in run("docker", "service", "inspect", "--format",
                        "{{.Spec.Name}} {{.Spec.Mode.Replicated.Replicas}}", *services).splitlines():
            name, count = line.split()
            replicas[name] = int(count) if count.isdigit() else None
        rows = [json.loads(line) for line in run(
            "docker", "service", "ps", "--filter", "desired-state=running", "--no-trunc", "--format", "{{json .}}",
            *services).splitlines() if line.strip()]
        docs = json.loads(run("docker", "inspect", *[r["ID"] for r in rows])) if rows else []
        for doc in docs:
            addrs = [a.split("/")[0] for att in doc.get("NetworksAttachments") or []
                     if att["Network"]["Spec"]["Name"] == args.lb_network for a in att.get("Addresses") or []]
            row = next(r for r in rows if r["ID"] == doc["ID"])
            running = doc["Status"]["State"] == "running"
            tasks[row["Name"].rsplit(".", 1)[0]].append({"node": row["Node"], "running": running,
                                                         "addr": addrs[0] if addrs else None})
    return {"node_state": state, "replicas": replicas, "tasks": tasks,
            "backends": {name: {"service": "%s_%s" % (args.stack, svc), "up": sorted(ups)}
                         for name, (svc, ups) in backends.items()}}


# ---- on this machine ---------------------------------------------------------------------------

def ask(args):
    with open(os.path.abspath(__file__)) as handle:
        script = handle.read()
    out = subprocess.run(["docker", "exec", "-i", args.manager, "python3", "-", "--snapshot", "--manager", args.manager,
                          "--victim", args.victim, "--stack", args.stack, "--lb-network", args.lb_network,
                          "--edge-dir", args.edge_dir], input=script, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, check=False)
    return json.loads(out.stdout) if out.returncode == 0 else None


def placed(snap, victim):
    """Every public service has all its replicas running, none on the victim."""
    return bool(snap["tasks"]) and all(
        snap["replicas"].get(name) is not None
        and sum(1 for t in tasks if t["running"] and t["node"] != victim) == snap["replicas"][name]
        and not any(t["node"] == victim for t in tasks)
        for name, tasks in snap["tasks"].items())


def served(snap):
    """The edge has UP exactly the running replicas' addresses, in every backend of the stack."""
    live = {name: sorted(t["addr"] for t in tasks if t["running"] and t["addr"])
            for name, tasks in snap["tasks"].items()}
    return bool(snap["backends"]) and all(b["up"] == live.get(b["service"]) for b in snap["backends"].values())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--manager", required=True)
    parser.add_argument("--victim", required=True)
    parser.add_argument("--stack", required=True)
    parser.add_argument("--lb-network", required=True, help="the stack's load balancer network (spin-lb-<stack>)")
    parser.add_argument("--edge-dir", default="/var/lib/spin/edge", help="the edge's config directory on the manager")
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--snapshot", action="store_true", help="(on the manager) print one snapshot")
    args = parser.parse_args()
    if args.snapshot:
        print(json.dumps(snapshot(args)))
        return 0
    before = ask(args)
    if before is None:
        print("cannot take a snapshot on %s before the kill" % args.manager, file=sys.stderr)
        return 1
    result = {"victim_replicas": sum(1 for tasks in before["tasks"].values() for t in tasks
                                     if t["running"] and t["node"] == args.victim),
              "down_after": None, "replicas_after": None, "answering_after": None}
    start = time.monotonic()
    run("docker", "kill", args.victim)
    snap = None
    while time.monotonic() - start < args.timeout:
        snap = ask(args) or snap
        at = round(time.monotonic() - start, 1)
        if snap and result["down_after"] is None and snap["node_state"] == "down":
            result["down_after"] = at
        if snap and result["down_after"] is not None and result["replicas_after"] is None and placed(snap, args.victim):
            result["replicas_after"] = at
        if snap and result["replicas_after"] is not None and placed(snap, args.victim) and served(snap):
            result["answering_after"] = at
            break
        time.sleep(0.2)
    if result["answering_after"] is None:
        result["last_snapshot"] = snap
    else:
        result["recovery_after_down"] = round(result["answering_after"] - result["down_after"], 1)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
