"""The seed stack: spin.platform's deploy.yml against `docker stack deploy` and community.docker's
`docker_stack` module, side by side; then a one-service stack the same three ways.

community.docker comes from the `ansible` package on the Python package index, installed into the
benchmark's own environment (.venv-bench, made on first use): it is no dependency of the collection.

For each round, both deploy the seed (web x2, db x1; the db image has a healthcheck, so "running"
means healthy for both) under their own stack names on the same engine, timed from the command's
start until every replica runs. Then the no-op: deploy.yml again with the same input (the
spin_stack task's own time, and the whole playbook), and the in-process reconcile plan alone.
Prints medians and ratios; asserts nothing about time.
"""
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

import docker

from figures import record

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
# the integration tests' inventory (group_vars folded in) and tenants' submission directories
from stacklib import SUBMISSION_ROOT, discard, hand_in, submission_dir, write_inventory  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "playbooks", "collections"))
BIN = os.path.dirname(sys.executable)
ROUNDS = int(os.environ.get("SPIN_BENCH_ROUNDS", "3"))
# a tenant of the benchmark's own (in an inventory of its own): its replicas count against no other
# tenant's quota
# SPIN_BENCH_PREFIX: the tenant's and the stacks' names start with a prefix of one's own (a shared engine)
PREFIX = os.environ.get("SPIN_BENCH_PREFIX", "")
TENANT = PREFIX + "spinbench" if PREFIX else "spinbench"
UID = 1991
INVENTORY = {"path": os.path.join(ROOT, "inventory", "local.yml")}


def bench_inventory(workdir):
    INVENTORY["path"] = write_inventory(workdir, spin_tenants={TENANT: {"uid": UID, "gid": UID}})


SEED_V3 = """
version: '3.8'
services:
  web:
    image: httpd
    deploy: {replicas: 2, endpoint_mode: dnsrr}
  db:
    image: mysql
    environment:
      MYSQL_ROOT_PASSWORD: s3cr3t
      MYSQL_DATABASE: seed
      MYSQL_USER: seed
      MYSQL_PASSWORD: seedpass
    deploy: {replicas: 1, endpoint_mode: dnsrr}
"""
WANTED = {"web": 2, "db": 1}
ONE_V3 = "version: '3.8'\nservices:\n  web:\n    image: httpd\n    deploy: {replicas: 1, endpoint_mode: dnsrr}\n"
ONE_SPIN = "version: '2'\nservices:\n  web:\n    image: httpd\n"
BENCH_VENV = os.path.join(ROOT, ".venv-bench")


def peer_ansible():
    """ansible-playbook of the benchmark's own environment, with community.docker (the `ansible`
    package), made on first use; None when it cannot be installed (then the peer is left out)."""
    exe = os.path.join(BENCH_VENV, "bin", "ansible-playbook")
    if os.path.exists(exe):
        return exe
    print("installing the peer (community.docker, from the ansible package) into %s ..." % BENCH_VENV, flush=True)
    if subprocess.call([sys.executable, "-m", "venv", BENCH_VENV]) != 0 or subprocess.call(
            [os.path.join(BENCH_VENV, "bin", "pip"), "install", "-q", "--disable-pip-version-check", "ansible",
             "docker", "jsondiff", "pyyaml"]) != 0:
        return None
    return exe


def docker_stack_module(client, workdir, stack, compose_text, wanted):
    """community.docker.docker_stack (state: present) until every replica runs."""
    exe = peer_ansible()
    if exe is None:
        return None
    compose = os.path.join(workdir, stack + "-compose.yml")
    with open(compose, "w") as handle:
        handle.write(compose_text)
    assert_nothing_of(client, stack)
    book = os.path.join(workdir, stack + "-peer.yml")
    with open(book, "w") as handle:
        json.dump([{"hosts": "localhost", "gather_facts": False, "tasks": [{"community.docker.docker_stack": {
            "name": stack, "compose": [compose], "state": "present", "resolve_image": "never"}}]}], handle)
    peer_env = {k: v for k, v in env().items() if not k.startswith("ANSIBLE_")}
    peer_env.update(ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="False", ANSIBLE_INVENTORY_UNPARSED_WARNING="False")
    start = time.monotonic()
    proc = subprocess.run([exe, "-c", "local", "-e", "ansible_python_interpreter=" + os.path.join(
        BENCH_VENV, "bin", "python"), book], cwd=workdir, env=peer_env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("docker_stack failed:\n" + proc.stdout[-3000:])
    while not all_running(client, stack, wanted):
        time.sleep(0.05)
    return time.monotonic() - start


def env(**extra):
    out = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, "tests", "bench", "callback_plugins"))
    out.update(extra)
    return out


def all_running(client, stack, wanted=None):
    for name, count in (wanted or WANTED).items():
        try:
            tasks = client.services.get("%s_%s" % (stack, name)).tasks(filters={"desired-state": "running"})
        except docker.errors.NotFound:
            return False
        if sum(1 for t in tasks if t["Status"]["State"] == "running") < count:
            return False
    return True


def stack_objects(client, stack):
    label = {"label": "com.docker.stack.namespace=" + stack}
    return client.services.list(filters=label) + client.networks.list(filters=label)


def assert_nothing_of(client, stack):
    """Every timing starts from nothing: a service left over from an earlier (killed) run under the
    same name would count as running at once."""
    left = stack_objects(client, stack)
    if left:
        raise RuntimeError("stack %s is not gone before its timing starts: %s" % (stack, [o.name for o in left]))


def wait_gone(client, stack, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not client.services.list(filters={"label": "com.docker.stack.namespace=" + stack}) and \
                not client.networks.list(filters={"label": "com.docker.stack.namespace=" + stack}):
            return
        time.sleep(0.5)
    raise RuntimeError("stack %s was not gone within %ss" % (stack, timeout))


def playbook(name, submission, times_file=None, extra=(), verbose=False):
    environment = {"SPIN_TASK_TIMES": times_file} if times_file else {}
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", INVENTORY["path"], name]
                          + (["-e", "spin_submission=" + submission] if submission else [])
                          + (["-v"] if verbose else []) + list(extra),
                          cwd=ROOT, env=env(**environment), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (name, proc.stdout[-3000:]))
    return proc.stdout


def first_200(host, since, deadline, port=80):
    """Seconds from ``since`` to the first 200 from the edge for ``host`` (the stack's automatic
    route: ``web.<stack>.<tenant>.localhost`` on the edge's port 80), or None by ``deadline``."""
    import http.client
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            conn.request("GET", "/", headers={"Host": host})
            if conn.getresponse().status == 200:
                return time.monotonic() - since
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.05)
    return None


def spin_deploy(client, workdir, stack, one=False, extra=()):
    """-> (seconds until every replica runs, seconds until the playbook ended, the submission
    directory, seconds to the first HTTP 200 through the edge or None, how spin_stack ran:
    warm/started/off)."""
    # the tenant's submission <root>/<tenant>/<stack>/ (the stack is named after it, the compose files
    # found by their names); the seed's files as they are: web gets its automatic route
    # web.<stack>.<tenant>.localhost:80
    submission = str(submission_dir(TENANT, stack, UID, UID))
    if one:
        with open(os.path.join(submission, "docker-compose.yml"), "w") as handle:
            handle.write(ONE_SPIN)
    else:
        for name in ("docker-compose.yml", "rancher-compose.yml"):
            with open(os.path.join(ROOT, "examples/seed", name)) as src, \
                    open(os.path.join(submission, name), "w") as dst:
                dst.write(src.read())
    hand_in(submission, UID, UID)
    wanted = {"web": 1} if one else WANTED
    assert_nothing_of(client, stack)
    start = time.monotonic()
    watch = {}
    host = "web.%s.%s.localhost" % (stack, TENANT)
    watcher = threading.Thread(target=lambda: watch.update(s=first_200(host, start, start + 180)), daemon=True)
    watcher.start()
    proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), "-v", "-i", INVENTORY["path"],
                             "playbooks/deploy.yml", "-e", "spin_submission=" + submission] + list(extra),
                            cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    running_at = None
    while proc.poll() is None:
        if running_at is None and all_running(client, stack, wanted):
            running_at = time.monotonic() - start
        time.sleep(0.05)
    ended = time.monotonic() - start
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise RuntimeError("deploy.yml failed:\n" + out[-3000:])
    if running_at is None:
        if not all_running(client, stack, wanted):
            raise RuntimeError("deploy.yml ended before every replica of %s ran" % stack)
        running_at = ended
    watcher.join(200)
    return running_at, ended, submission, watch.get("s"), worker_mode(out)


def worker_mode(output):
    """How spin_stack ran on the manager, from the task's result (deploy.yml -v): warm, started, off."""
    found = re.findall(r"^\s+worker: (\w+)", output, re.M)
    return found[-1] if found else "?"


def warm_up(workdir):
    """The warm worker running before anything is timed (as on a platform that deploys now and then;
    the first task after a change of the collection starts it): spin_stack state=absent of a stack
    that does not exist, until a task says it ran warm."""
    book = os.path.join(workdir, "warm-up.yml")
    with open(book, "w") as handle:
        json.dump([{"hosts": "swarm_managers[0]", "gather_facts": False, "tasks": [{"spin.platform.spin_stack": {
            "tenant": TENANT, "stack": "nothing" + uuid.uuid4().hex[:6], "state": "absent"}}]}], handle)
    for dummy in range(20):
        if worker_mode(playbook(book, None, verbose=True)) == "warm":
            return
        time.sleep(0.5)
    raise RuntimeError("the warm worker did not start")


def docker_deploy(client, workdir, stack, compose_text=SEED_V3, wanted=None):
    compose = os.path.join(workdir, stack + "-v3.yml")
    with open(compose, "w") as handle:
        handle.write(compose_text)
    assert_nothing_of(client, stack)
    start = time.monotonic()
    subprocess.run(["docker", "stack", "deploy", "--resolve-image", "never", "-c", compose, stack], check=True,
                   stdout=subprocess.DEVNULL, env=env())
    while not all_running(client, stack, wanted):
        time.sleep(0.05)
    return time.monotonic() - start


def remove(stack, submission=None):
    if submission:
        playbook("playbooks/remove.yml", submission)
        discard(submission)
    else:
        subprocess.run(["docker", "stack", "rm", stack], check=True, stdout=subprocess.DEVNULL, env=env())


def noop(client, workdir, submission, stack, extra=()):
    times = os.path.join(workdir, "times.jsonl")
    if os.path.exists(times):
        os.unlink(times)
    start = time.monotonic()
    out = playbook("playbooks/deploy.yml", submission, times_file=times, extra=extra)
    whole = time.monotonic() - start
    if "changed=0" not in out:
        raise RuntimeError("the no-op re-run changed something:\n" + out[-2000:])
    with open(times) as handle:
        task = [json.loads(line) for line in handle if '"Deploy the stack"' in line][0]["seconds"]
    return task, whole


def floor(workdir):
    """ansible-playbook itself with one module task on the same host and inventory (ping): what any
    playbook costs before a module does work, the part of deploy.yml no change in spin can remove."""
    book = os.path.join(workdir, "floor.yml")
    with open(book, "w") as handle:
        json.dump([{"hosts": "swarm_managers[0]", "gather_facts": False, "tasks": [{"ansible.builtin.ping": {}}]}],
                  handle)
    start = time.monotonic()
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", INVENTORY["path"], book], cwd=ROOT, env=env(),
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("the floor playbook failed:\n" + proc.stdout[-2000:])
    return time.monotonic() - start


def plan_in_process(submission):
    """What the no-op's action plugin and module do, in this process and in check mode: resolve
    the submission, read, check and translate the files, then the manager's checks, the LB plan and
    the stack plan."""
    from ansible_collections.spin.platform.plugins.module_utils.common import sensitive
    from ansible_collections.spin.platform.plugins.module_utils.edge.lb import LbClient
    from ansible_collections.spin.platform.plugins.plugin_utils import submission_vars
    from ansible_collections.spin.platform.plugins.plugin_utils.submission import check_submission, health_checks
    from ansible_collections.spin.platform.plugins.modules import spin_stack

    class Module(object):
        check_mode = True
        warnings = []

        def warn(self, text):
            self.warnings.append(text)

    start = time.monotonic()
    tenants, roots = {TENANT: {"uid": UID, "gid": UID}}, [SUBMISSION_ROOT]
    args = submission_vars.resolve(submission, roots, tenants)
    args.pop("_submission")
    args.update({"variables": args.get("variables") or {}, "tenants": tenants, "global_fs_roots": None,
                 "policy": None, "submission_roots": roots})
    model, facts, tasks = check_submission(args, [ROOT])
    tasks.update({"load_balancers": model["load_balancers"], "health_checks": health_checks(model),
                  "files": facts["files"]})
    facts.pop("diagnostics")
    facts.pop("compose_path", None)
    facts.pop("inactive", None)
    tasks, secret_values = sensitive.detach(tasks)
    module = Module()
    module.params = {name: option.get("default") for name, option in spin_stack.argument_spec().items()}
    module.params.update(args, state="present", wait_timeout=180, audit_log="", lb_platform={}, _tasks=tasks,
                         _controller=facts, _sensitive=secret_values, compose_file=None, rancher_compose_file=None)
    result = spin_stack.run(module, LbClient())
    elapsed = time.monotonic() - start
    if result.get("changed") or result.get("failed"):
        raise RuntimeError("the in-process no-op found changes: %s" % result.get("actions") or result)
    return elapsed


def seconds_or_dash(value):
    return "-" if value is None else "%.2fs" % value


def main():
    client = docker.from_env()
    t = {key: [] for key in ("spin", "spin_ended", "first200", "docker", "peer", "noop_task", "noop_whole", "plan",
                             "one_spin", "one_docker", "one_peer", "one_first200", "floor", "one_cold",
                             "noop_cold_task", "noop_cold_whole")}
    modes = []
    cold = ["-e", "spin_worker=false"]
    with tempfile.TemporaryDirectory() as workdir:
        bench_inventory(workdir)
        warm_up(workdir)
        run = uuid.uuid4().hex[:4]  # names of this run only: nothing an earlier, killed run left matches them
        for round_no in range(ROUNDS):
            names = {who: "%sb%s-%s%d" % (PREFIX, run, who, round_no) for who in ("spin", "docker", "peer")}
            # rotate who goes first, so that nobody always meets a warmer engine
            order = [("spin", "docker", "peer"), ("docker", "peer", "spin"), ("peer", "spin", "docker")][round_no % 3]
            seed_sub = one_sub = None  # spin's turn of each kind below sets them
            for one in (False, True):
                prefix = "one_" if one else ""
                for who in order:
                    stack = names[who] + ("o" if one else "")
                    if who == "spin":
                        seconds, ended, submission, first, mode = spin_deploy(client, workdir, stack, one=one)
                        modes.append(mode)
                        t[prefix + "spin"].append(seconds)
                        if not one:
                            t["spin_ended"].append(ended)
                            t["first200"].append(first)
                            seed_sub = submission
                        else:
                            t["one_first200"].append(first)
                            one_sub = submission
                    elif who == "docker":
                        t[prefix + "docker"].append(docker_deploy(client, workdir, stack, ONE_V3 if one else SEED_V3,
                                                                  {"web": 1} if one else None))
                    else:
                        seconds = docker_stack_module(client, workdir, stack, ONE_V3 if one else SEED_V3,
                                                      {"web": 1} if one else WANTED)
                        if seconds is not None:
                            t[prefix + "peer"].append(seconds)
            task, whole = noop(client, workdir, seed_sub, names["spin"])
            t["noop_task"].append(task)
            t["noop_whole"].append(whole)
            # the same without the warm worker: the module run the usual way (its own process)
            cold_task, cold_whole = noop(client, workdir, seed_sub, names["spin"], extra=cold)
            t["noop_cold_task"].append(cold_task)
            t["noop_cold_whole"].append(cold_whole)
            seconds, dummy, cold_sub, dummy, dummy = spin_deploy(client, workdir, names["spin"] + "c", one=True,
                                                                 extra=cold)
            t["one_cold"].append(seconds)
            remove(names["spin"] + "c", cold_sub)
            t["plan"].append(plan_in_process(seed_sub))
            t["floor"].append(floor(workdir))
            remove(names["spin"], seed_sub)
            remove(names["spin"] + "o", one_sub)
            for who in ("docker", "peer"):
                for stack in (names[who], names[who] + "o"):
                    remove(stack)
            for stack in [n + s for n in names.values() for s in ("", "o")] + [names["spin"] + "c"]:
                wait_gone(client, stack)
            print("round %d: seed: deploy.yml %.2fs (ended %.2fs, first 200 %s), docker stack deploy %.2fs, "
                  "docker_stack %s; one service: %.2fs (first 200 %s) / %.2fs / %s; no-op task %.2fs (playbook "
                  "%.2fs), plan %.3fs, floor %.2fs"
                  % (round_no + 1, t["spin"][-1], t["spin_ended"][-1], seconds_or_dash(t["first200"][-1]),
                     t["docker"][-1], seconds_or_dash(t["peer"][-1] if t["peer"] else None), t["one_spin"][-1],
                     seconds_or_dash(t["one_first200"][-1]), t["one_docker"][-1],
                     seconds_or_dash(t["one_peer"][-1] if t["one_peer"] else None), task, whole, t["plan"][-1],
                     t["floor"][-1]), flush=True)

    med = statistics.median
    bench = "stack"
    print("\nseed stack (web x2 + db x1, db healthy) and a one-service stack, %d rounds, medians; load %.1f; "
          "spin_stack ran: %s" % (ROUNDS, os.getloadavg()[0], ", ".join(modes)))
    record(bench, "seed: docker stack deploy -> all replicas running", round(med(t["docker"]), 2), "s")
    if t["peer"]:
        record(bench, "seed: community.docker docker_stack -> all running", round(med(t["peer"]), 2), "s")
    record(bench, "seed: deploy.yml -> all replicas running", round(med(t["spin"]), 2), "s")
    record(bench, "seed: deploy.yml -> playbook ended", round(med(t["spin_ended"]), 2), "s")
    firsts = [x for x in t["first200"] if x is not None]
    record(bench, "seed: deploy.yml -> first HTTP 200 through the edge", round(med(firsts), 2) if firsts else None,
           "s")
    record(bench, "seed: deploy.yml / docker stack deploy", round(med(t["spin"]) / med(t["docker"]), 2), "x",
           "<= 1.2")
    if t["peer"]:
        record(bench, "seed: deploy.yml / docker_stack", round(med(t["spin"]) / med(t["peer"]), 2), "x", "<= 0.95")
    # what spin adds over the limit: docker stack deploy's own time plus the floor of any ansible-playbook
    record(bench, "seed: overhead over the limit (deploy.yml - docker stack deploy - floor)",
           round(med(t["spin"]) - med(t["docker"]) - med(t["floor"]), 2), "s", "<= 0.15")
    record(bench, "one service: docker stack deploy -> running", round(med(t["one_docker"]), 2), "s")
    record(bench, "one service: deploy.yml -> running", round(med(t["one_spin"]), 2), "s")
    firsts = [x for x in t["one_first200"] if x is not None]
    record(bench, "one service: deploy.yml -> first HTTP 200 through the edge",
           round(med(firsts), 2) if firsts else None, "s")
    record(bench, "one service: deploy.yml / docker stack deploy", round(med(t["one_spin"]) / med(t["one_docker"]), 2),
           "x", "<= 1.5")
    if t["one_peer"]:
        record(bench, "one service: deploy.yml / docker_stack", round(med(t["one_spin"]) / med(t["one_peer"]), 2),
               "x", "<= 0.95")
    record(bench, "one service: overhead over the limit (deploy.yml - docker stack deploy - floor)",
           round(med(t["one_spin"]) - med(t["one_docker"]) - med(t["floor"]), 2), "s", "<= 0.15")
    record(bench, "one service: deploy.yml without the warm worker -> running", round(med(t["one_cold"]), 2), "s")
    record(bench, "one service: deploy.yml without the warm worker / docker stack deploy",
           round(med(t["one_cold"]) / med(t["one_docker"]), 2), "x")
    record(bench, "no-op re-run: whole playbook", round(med(t["noop_whole"]), 2), "s", "<= 1.5")
    record(bench, "no-op re-run: spin_stack task", round(med(t["noop_task"]), 2), "s")
    record(bench, "no-op: overhead over the limit (whole playbook - floor)",
           round(med(t["noop_whole"]) - med(t["floor"]), 2), "s", "<= 0.15")
    record(bench, "no-op re-run without the warm worker: whole playbook", round(med(t["noop_cold_whole"]), 2), "s")
    record(bench, "no-op re-run without the warm worker: spin_stack task", round(med(t["noop_cold_task"]), 2), "s")
    record(bench, "no-op: action + module work in process", round(med(t["plan"]), 3), "s")
    record(bench, "floor: ansible-playbook with one ping task", round(med(t["floor"]), 2), "s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
