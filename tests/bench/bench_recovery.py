"""A node's loss on three nodes (issue 22, "Recovery"): from the node marked down to every replica of the
seed's public services running again and answering through the edge, goal <= 30 s (images already on the
nodes).

The molecule scenario `cluster`'s relevant part, the cheapest honest way: `molecule create` and
`converge` (three docker-in-docker nodes, site.yml, the seed deployed: its images are then on the nodes),
then `molecule side-effect` (molecule/cluster/recovery.yml: verify.yml's node loss alone, a worker that
runs a web replica killed under a bounded load through the edge), then `molecule destroy`, also when a
step fails. The times are molecule/cluster/files/recovery.py's (what each one means is said there), read
from recovery.json in the scenario's ephemeral directory, one of the benchmark's own.

Names: <SPIN_BENCH_PREFIX, default spin-bench>-cl-* (nodes, network, volumes), the nodes' network
SPIN_BENCH_RECOVERY_SUBNET (first three octets, default 172.30.88). Takes about 10-20 minutes on two
shared cores, most of it the converge."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

from figures import record

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
BENCH = "recovery"
PREFIX = os.environ.get("SPIN_BENCH_PREFIX") or "spin-bench"
SUBNET = os.environ.get("SPIN_BENCH_RECOVERY_SUBNET", "172.30.88")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def molecule(workdir, command):
    """``molecule <command> -s cluster`` -> (return code, seconds, output without colours); the whole
    output is kept in <workdir>/<command>.log."""
    env = dict(os.environ, SPIN_MOL_PREFIX=PREFIX, SPIN_MOL_CLUSTER_SUBNET=SUBNET,
               MOLECULE_EPHEMERAL_DIRECTORY=os.path.join(workdir, "molecule"), ANSIBLE_DISPLAY_TRACEBACK="error",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    start = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, "molecule"), command, "-s", "cluster"], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    seconds = time.monotonic() - start
    out = ANSI.sub("", proc.stdout)
    with open(os.path.join(workdir, command + ".log"), "w") as handle:
        handle.write(out)
    print("  molecule %s: rc %d in %.0f s" % (command, proc.returncode, seconds), flush=True)
    return proc.returncode, seconds, out


def step(workdir, command):
    code, seconds, out = molecule(workdir, command)
    if code != 0:
        raise RuntimeError("molecule %s -s cluster failed (rc %d):\n%s" % (command, code, out[-4000:]))
    return seconds, out


def main():
    workdir = tempfile.mkdtemp(prefix="spin-bench-recovery-")
    try:
        # nodes of this prefix left by a run that was killed would stop create
        molecule(workdir, "destroy")
        step(workdir, "create")
        step(workdir, "converge")
        seconds = step(workdir, "side-effect")[0]
        with open(os.path.join(workdir, "molecule", "recovery.json")) as handle:
            measured = json.load(handle)
        timing, load = measured["timing"], measured["load"]
        print("  node loss step (molecule side-effect): %.0f s\n  MEASURED node loss (%d web replica(s) on the node "
              "killed), seconds after the kill: down_after %s, replicas_after %s, answering_after %s; "
              "recovery_after_down %s\n  load through the edge: %s" % (
                  seconds, timing["victim_replicas"], timing["down_after"], timing["replicas_after"],
                  timing["answering_after"], timing.get("recovery_after_down"), load), flush=True)
        record(BENCH, "node loss: marked down -> every replica answering through the edge",
               timing.get("recovery_after_down"), "s", "<= 30")
        record(BENCH, "node loss: killed -> marked down", timing["down_after"], "s")
        record(BENCH, "node loss: killed -> every replica running elsewhere", timing["replicas_after"], "s")
        record(BENCH, "node loss: killed -> every replica answering through the edge", timing["answering_after"], "s")
        record(BENCH, "node loss: requests failed through the edge (40/s, %d sent)" % load["requests"],
               load["failed"], "")
        record(BENCH, "node loss: slowest answer through the edge", load["max_ms"], "ms")
        return 0
    finally:
        code, dummy, out = molecule(workdir, "destroy")
        if code != 0:
            print("molecule destroy -s cluster failed: remove the containers, volumes and network labelled "
                  "spin.local-cluster=%s-cl by hand\n%s" % (PREFIX, out[-2000:]), file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
