"""The seed stack: spin.platform's deploy.yml against `docker stack deploy`, side by side.

For each round, both deploy the seed (web x2, db x1; the db image has a healthcheck, so "running"
means healthy for both) under their own stack names on the same engine, timed from the command's
start until every replica runs. Then the no-op: deploy.yml again with the same input (the
spin_stack task's own time, and the whole playbook), and the in-process reconcile plan alone.
Prints medians and ratios; asserts nothing about time.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import docker

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "playbooks", "collections"))
BIN = os.path.dirname(sys.executable)
ROUNDS = int(os.environ.get("SPIN_BENCH_ROUNDS", "3"))

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


def env(**extra):
    out = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               PATH=BIN + os.pathsep + os.environ.get("PATH", ""),
               ANSIBLE_CALLBACK_PLUGINS=os.path.join(ROOT, "tests", "bench", "callback_plugins"))
    out.update(extra)
    return out


def all_running(client, stack):
    for name, count in WANTED.items():
        try:
            tasks = client.services.get("%s_%s" % (stack, name)).tasks(filters={"desired-state": "running"})
        except docker.errors.NotFound:
            return False
        if sum(1 for t in tasks if t["Status"]["State"] == "running") < count:
            return False
    return True


def wait_gone(client, stack, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not client.services.list(filters={"label": "com.docker.stack.namespace=" + stack}) and \
                not client.networks.list(filters={"label": "com.docker.stack.namespace=" + stack}):
            return
        time.sleep(0.5)
    raise RuntimeError("stack %s was not gone within %ss" % (stack, timeout))


def playbook(name, vars_file, times_file=None):
    extra = {"SPIN_TASK_TIMES": times_file} if times_file else {}
    proc = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "inventory/local.yml", name,
                           "-e", "@" + vars_file], cwd=ROOT, env=env(**extra), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError("%s failed:\n%s" % (name, proc.stdout[-3000:]))
    return proc.stdout


def spin_deploy(client, workdir, stack):
    """-> (seconds until every replica runs, seconds until the playbook ended, vars file). The
    playbook goes on after that (the edge load balancer's sync), which docker stack deploy has no
    counterpart of: both times are reported."""
    # the seed's files, but on the edge's port 8008: the example stack (./spin up) holds port 80
    submission = os.path.join(workdir, stack)
    os.makedirs(submission, exist_ok=True)
    for name in ("docker-compose.yml", "rancher-compose.yml"):
        with open(os.path.join(ROOT, "examples/seed", name)) as src, open(os.path.join(submission, name), "w") as dst:
            dst.write(src.read().replace("- 80:80", "- 8008:80"))
    vars_file = os.path.join(workdir, stack + ".yml")
    with open(vars_file, "w") as handle:
        json.dump({"spin_tenant": "demo", "spin_stack": stack,
                   "spin_compose_file": os.path.join(submission, "docker-compose.yml"),
                   "spin_rancher_compose_file": os.path.join(submission, "rancher-compose.yml")}, handle)
    start = time.monotonic()
    proc = subprocess.Popen([os.path.join(BIN, "ansible-playbook"), "-i", "inventory/local.yml", "playbooks/deploy.yml",
                             "-e", "@" + vars_file], cwd=ROOT, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    running_at = None
    while proc.poll() is None:
        if running_at is None and all_running(client, stack):
            running_at = time.monotonic() - start
        time.sleep(0.05)
    ended = time.monotonic() - start
    out = proc.stdout.read()
    if proc.returncode != 0:
        raise RuntimeError("deploy.yml failed:\n" + out[-3000:])
    if running_at is None:
        if not all_running(client, stack):
            raise RuntimeError("deploy.yml ended before every replica of %s ran" % stack)
        running_at = ended
    return running_at, ended, vars_file


def docker_deploy(client, workdir, stack):
    compose = os.path.join(workdir, "seed-v3.yml")
    with open(compose, "w") as handle:
        handle.write(SEED_V3)
    start = time.monotonic()
    subprocess.run(["docker", "stack", "deploy", "--resolve-image", "never", "-c", compose, stack], check=True,
                   stdout=subprocess.DEVNULL, env=env())
    while not all_running(client, stack):
        time.sleep(0.05)
    return time.monotonic() - start


def remove(stack, spin_vars=None):
    if spin_vars:
        playbook("playbooks/remove.yml", spin_vars)
    else:
        subprocess.run(["docker", "stack", "rm", stack], check=True, stdout=subprocess.DEVNULL, env=env())


def noop(client, workdir, vars_file, stack):
    times = os.path.join(workdir, "times.jsonl")
    if os.path.exists(times):
        os.unlink(times)
    start = time.monotonic()
    out = playbook("playbooks/deploy.yml", vars_file, times_file=times)
    whole = time.monotonic() - start
    if "changed=0" not in out:
        raise RuntimeError("the no-op re-run changed something:\n" + out[-2000:])
    with open(times) as handle:
        task = [json.loads(line) for line in handle if '"Deploy the stack"' in line][0]["seconds"]
    return task, whole


def plan_in_process(vars_file):
    """What the no-op's action plugin and module do, in this process and in check mode: read,
    check and translate the files, then the manager's checks, the LB plan and the stack plan."""
    from ansible_collections.spin.platform.plugins.module_utils import translate
    from ansible_collections.spin.platform.plugins.module_utils.lb import LbClient
    from ansible_collections.spin.platform.plugins.module_utils.submission import check_submission
    from ansible_collections.spin.platform.plugins.modules import spin_stack

    with open(vars_file) as handle:
        given = json.load(handle)

    class Module(object):
        check_mode = True
        warnings = []

        def warn(self, text):
            self.warnings.append(text)

    start = time.monotonic()
    args = {"tenant": "demo", "stack": given["spin_stack"], "compose_file": given["spin_compose_file"],
            "rancher_compose_file": given["spin_rancher_compose_file"], "variables": {},
            "tenants": {"demo": {"uid": 1000, "gid": 1000}, "cory": {"uid": 1001, "gid": 1001}},
            "global_fs_roots": None, "policy": None}
    model, facts = check_submission(args, [ROOT])
    tasks = translate.stack_to_tasks(model, "demo", given["spin_stack"])
    tasks.update({"load_balancers": model["load_balancers"], "health_checks": {}, "files": facts["files"]})
    module = Module()
    module.params = dict(args, state="present", remove_volumes=False, wait=True, wait_timeout=180, platform=None,
                         daemon_json="/etc/docker/daemon.json", audit_log="", lb=True, lb_platform={},
                         public_host=None, _tasks=tasks, _controller=facts, docker_host="unix:///var/run/docker.sock",
                         timeout=60)
    result = spin_stack.run(module, LbClient())
    elapsed = time.monotonic() - start
    if result.get("changed") or result.get("failed"):
        raise RuntimeError("the in-process no-op found changes: %s" % result.get("actions") or result)
    return elapsed


def main():
    client = docker.from_env()
    spin_times, spin_ended, docker_times, noop_task, noop_whole, plan_times = [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as workdir:
        for round_no in range(ROUNDS):
            spin_stack, docker_stack = "bench-spin%d" % round_no, "bench-docker%d" % round_no
            # alternate who goes first, so that neither always meets a warmer engine
            order = ("spin", "docker") if round_no % 2 == 0 else ("docker", "spin")
            for who in order:
                if who == "spin":
                    seconds, ended, vars_file = spin_deploy(client, workdir, spin_stack)
                    spin_times.append(seconds)
                    spin_ended.append(ended)
                else:
                    docker_times.append(docker_deploy(client, workdir, docker_stack))
            task, whole = noop(client, workdir, vars_file, spin_stack)
            noop_task.append(task)
            noop_whole.append(whole)
            plan_times.append(plan_in_process(vars_file))
            remove(spin_stack, vars_file)
            remove(docker_stack)
            wait_gone(client, spin_stack)
            wait_gone(client, docker_stack)
            print("round %d: deploy.yml all running %.2fs (ended %.2fs), docker stack deploy %.2fs, no-op task %.2fs "
                  "(playbook %.2fs), plan %.3fs" % (round_no + 1, spin_times[-1], spin_ended[-1], docker_times[-1], task,
                                                    whole, plan_times[-1]), flush=True)

    med = statistics.median
    print("\nseed stack (web x2 + db x1, db healthy), %d rounds, medians:" % ROUNDS)
    print("  %-44s %7.2f s" % ("docker stack deploy -> all replicas running", med(docker_times)))
    print("  %-44s %7.2f s" % ("ansible-playbook deploy.yml -> all running", med(spin_times)))
    print("  %-44s %7.2f s" % ("ansible-playbook deploy.yml -> ended (+ LB)", med(spin_ended)))
    print("  %-44s %7.2f   (target <= 1.2)" % ("ratio deploy.yml / docker stack deploy", med(spin_times) / med(docker_times)))
    print("  %-44s %7.2f s (target < 1 s)" % ("no-op re-run: spin_stack task", med(noop_task)))
    print("  %-44s %7.2f s" % ("no-op re-run: whole playbook", med(noop_whole)))
    print("  %-44s %7.3f s" % ("no-op: action + module work in process", med(plan_times)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
