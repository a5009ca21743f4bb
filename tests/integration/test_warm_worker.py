"""The warm worker on the real engine (module_utils/worker/warm.py, plugin_utils/warm_client.py): the first
deploy runs the module the usual way and starts the worker; the next ones run in it, with the
same results (a no-op, a change, --check --diff); a playbook killed while its task runs in the
worker ends the task as interrupted (its audit record says so) and the next run converges; a
worker stopped meanwhile only makes the next task run the usual way again."""
import os
import re
import signal
import sys
import time

import yaml

from faultlib import finish, kill_tree, start_playbook, wait_for
from stacklib import Tenant, hand_in, write_inventory

AUDIT_LOG = "/var/log/spin/audit.jsonl"
WORKER_DIR = os.path.expanduser("~/.ansible/spin-worker")
BIN = os.path.dirname(sys.executable)


def this_version():
    """The version (content hash) of this checkout's worker for the interpreter the playbooks run
    modules with (the inventory's ansible_playbook_python: ansible-playbook's own). Other checkouts
    and other runs of the benchmarks have workers of their own in the same directory: the tests
    look at and stop only this one."""
    from ansible_collections.spin.platform.plugins.plugin_utils import warm_client
    with open(os.path.join(BIN, "ansible-playbook")) as handle:
        python = handle.readline()[2:].strip()
    return warm_client.version(python)


def workers():
    """pid -> the zip of every warm worker of this checkout's version (not the children it forked
    for tasks, which carry the same command line)."""
    mine = os.path.join(WORKER_DIR, this_version() + ".zip").encode()
    found = {}
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                argv = handle.read().split(b"\0")
            with open("/proc/%s/stat" % pid) as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if len(argv) > 2 and argv[1] == mine:
            found[int(pid)] = (ppid, argv[1].decode())
    return {pid: path for pid, (ppid, path) in found.items() if ppid not in found}


def stop_workers():
    for pid in workers():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    wait_for("the workers to stop", lambda: not workers(), timeout=30, interval=0.1)


def worker_of(result):
    """What the spin_stack task's result says about the worker (deploy.yml run with -v)."""
    found = re.findall(r"^\s+worker: (.+)$", result.output, re.M)
    assert found, result.output[-3000:]
    return found[-1].strip()


def runs(stack):
    from ansible_collections.spin.platform.plugins.module_utils.monitor import audit
    return audit.runs(audit.read_stack_records(AUDIT_LOG, stack))


def test_deploys_through_the_warm_worker_do_what_the_module_does(docker_client, tmp_path, playbook, prefix):
    inventory = write_inventory(tmp_path)

    def run(*args, **kwargs):
        return playbook(*args, inventory=inventory, **kwargs)
    tenant = Tenant(tmp_path, docker_client, run, prefix + "w")
    tenant.write("version: '2'\nservices:\n  web:\n    image: httpd\n")
    stop_workers()
    try:
        first = tenant.deploy("-v")
        assert worker_of(first) == "started" and first.recap()["changed"] == 1
        wait_for("the worker listens", lambda: os.path.exists(os.path.join(WORKER_DIR, this_version() + ".sock")),
                 timeout=30)
        [(pid, zip_path)] = list(workers().items())
        assert oct(os.stat(WORKER_DIR).st_mode & 0o777) == "0o700"
        assert oct(os.stat(zip_path.replace(".zip", ".sock")).st_mode & 0o777) == "0o600"

        again = tenant.deploy("-v")
        assert worker_of(again) == "warm" and again.recap()["changed"] == 0
        assert "0 created, 0 updated, 0 removed, 1 unchanged" in again.output

        tenant.write("version: '2'\nservices:\n  web:\n    image: httpd\n", rancher="version: '2'\nservices:\n"
                     "  web:\n    scale: 2\n")
        checked = tenant.deploy("-v", "--check", "--diff")
        assert worker_of(checked) == "warm" and checked.recap()["changed"] == 1
        assert "replicas" in checked.output
        assert docker_client.services.get(tenant.stack + "_web").attrs["Spec"]["Mode"]["Replicated"]["Replicas"] == 1

        scaled = tenant.deploy("-v")
        assert worker_of(scaled) == "warm" and "0 created, 1 updated" in scaled.output
        spec = docker_client.services.get(tenant.stack + "_web").attrs["Spec"]
        assert spec["Mode"]["Replicated"]["Replicas"] == 2
        assert list(workers()) == [pid]        # the same worker served every task
        assert runs(tenant.stack)[-1]["outcome"] == "deployed"
    finally:
        tenant.remove(check=False)
        tenant.discard()


def test_a_killed_playbook_ends_its_task_in_the_worker_as_interrupted_and_the_next_run_converges(
        docker_client, tmp_path, playbook, prefix):
    inventory = write_inventory(tmp_path)

    def run(*args, **kwargs):
        return playbook(*args, inventory=inventory, **kwargs)
    tenant = Tenant(tmp_path, docker_client, run, prefix + "k")
    tenant.write("version: '2'\nservices:\n  web:\n    image: httpd\n")
    try:
        assert worker_of(tenant.deploy("-v")) in ("started", "warm")
        wait_for("a worker", workers, timeout=30)
        before = set(workers())
        # a new service: the task waits for it to start and stay up (several seconds) in the worker
        services = {"web": {"image": "httpd"}, "late": {"image": "httpd"}}
        tenant.write(yaml.safe_dump({"version": "2", "services": services}))
        hand_in(tenant.dir, tenant.uid, tenant.gid)
        proc, out = start_playbook("playbooks/deploy.yml", "-e", "spin_submission=" + tenant.submission,
                                   inventory=inventory)
        wait_for("the new service", lambda: docker_client.services.list(filters={"name": tenant.stack + "_late"}),
                 timeout=120, interval=0.1)
        kill_tree(proc)        # the playbook and everything under it; the worker's child is not under it
        finish(proc, out)
        wait_for("the run's result in the audit log", lambda: runs(tenant.stack)[-1].get("finished"), timeout=30,
                 interval=0.1)
        killed = runs(tenant.stack)[-1]
        assert killed["outcome"] == "interrupted" and "stopped by signal %d" % signal.SIGTERM in killed["cause"]
        assert set(workers()) == before        # the worker itself lives on

        again = tenant.deploy("-v")
        assert worker_of(again) == "warm"
        assert runs(tenant.stack)[-1]["outcome"] == "deployed"
        assert sorted(s.name for s in docker_client.services.list(filters={"label": "spin.stack=" + tenant.stack})) \
            == [tenant.stack + "_late", tenant.stack + "_web"]

        # a worker stopped between two tasks: the next task runs the module and starts a new one
        stop_workers()
        time.sleep(0.2)
        after = tenant.deploy("-v")
        assert worker_of(after) == "started" and after.recap()["changed"] == 0
    finally:
        tenant.remove(check=False)
        tenant.discard()
