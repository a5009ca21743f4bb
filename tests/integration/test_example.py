"""The example stack, NERSC Spin's seed byte for byte, deploys through the tenant entry point on the
local platform as `./spin up` deploys it: web x2 and db x1 run; web, which publishes nothing, answers
through the edge at its own host name (curl resolves *.localhost by itself) from both replicas; db,
which names no root password, got a generated one; cory/MyOwnPass reaches database magic from web's
network as host db; and the same files again touch no service.

SPIN_TEST_SEED_STACK deploys the same files as another stack (a developer's own, beside the shared
example stack: tenant demo's submission directory of that name); the default is the example stack
itself."""
import os
import re
import shutil
import subprocess
import time

import docker
import pytest
from stacklib import SUBMISSION_ROOT, hand_in, registry, submission_dir

STACK = os.environ.get("SPIN_TEST_SEED_STACK", "seed")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEED_FILES = ("docker-compose.yml", "rancher-compose.yml")


@pytest.fixture(scope="module")
def seed():
    """The submission staff name: examples/seed staged as tenant demo's submission, as `./spin up`
    stages it (<root>/demo/seed, the files owned by demo's uid; the stack is named after the
    directory), or the same files in a fresh directory named after another stack."""
    demo = registry()["demo"]
    if STACK == "seed":
        # ./spin's stage_example: the directories made when missing, the example's files put in
        directory = os.path.join(SUBMISSION_ROOT, "demo", STACK)
        os.makedirs(directory, exist_ok=True)
        for path in (os.path.dirname(directory), directory):
            os.chown(path, demo["uid"], demo["gid"])
            os.chmod(path, 0o750)
    else:
        directory = str(submission_dir("demo", STACK, demo["uid"], demo["gid"]))
    for name in SEED_FILES:
        shutil.copyfile(os.path.join(ROOT, "examples", "seed", name), os.path.join(directory, name))
        os.chmod(os.path.join(directory, name), 0o644)
    hand_in(directory, demo["uid"], demo["gid"])
    return directory


def _curl(url):
    """curl as a tenant types it: *.localhost resolves to 127.0.0.1 without any DNS set-up."""
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", url],
                         stdout=subprocess.PIPE, text=True, check=False)
    return out.stdout


def _running(docker_client, name):
    tasks = docker_client.services.get(name).tasks(filters={"desired-state": "running"})
    return sum(1 for t in tasks if t["Status"]["State"] == "running")


def _served(docker_client, service):
    """The web containers that logged a request (Apache logs to its terminal: tty: true)."""
    return {c.name for c in docker_client.containers.list(filters={"label": "com.docker.swarm.service.name=" + service})
            if b"GET / HTTP" in c.logs(tail=50)}


def _one_off(docker_client, name, network, command):
    """A Swarm job on ``network`` (one of the stack's: a service may join it, a container may not):
    -> (exit code, output)."""
    service = docker_client.services.create(
        "mysql", command=command, name=name, networks=[network], labels={"spin.test": "seed"},
        mode=docker.types.ServiceMode("replicated-job", concurrency=1),
        restart_policy=docker.types.RestartPolicy(condition="none"))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            tasks = service.tasks()
            done = [t for t in tasks if t["Status"]["State"] in ("complete", "failed", "rejected")]
            if done:
                status = done[0]["Status"]
                output = b"".join(service.logs(stdout=True, stderr=True)).decode()
                return (status.get("ContainerStatus") or {}).get("ExitCode"), output
            time.sleep(0.5)
        pytest.fail("the check job on %s did not finish in 120 s" % network)
    finally:
        service.remove()
        # a job's finished task container outlives its service on this engine: remove it too
        for container in docker_client.containers.list(
                all=True, filters={"label": "com.docker.swarm.service.id=" + service.id}):
            container.remove(force=True)


def test_the_seed_deploys_verbatim_and_answers_at_its_own_host_name(playbook, docker_client, seed, prefix):
    first = playbook("playbooks/deploy.yml", "-e", "spin_submission=" + seed)
    url = re.search(r"web: (http://web\.%s\.demo\.localhost(?::\d+)?/)" % STACK, first.output)
    assert url, first.output[-3000:]
    url = url.group(1)
    web, db = STACK + "_web", STACK + "_db"
    assert (_running(docker_client, web), _running(docker_client, db)) == (2, 1)

    # the URL answers 200 through the edge, from both replicas (round robin over tasks.<stack>_web)
    deadline = time.monotonic() + 60
    seen = set()
    while time.monotonic() < deadline and len(seen) < 2:
        assert _curl(url) == "200"
        seen |= _served(docker_client, web)
        time.sleep(0.2)
    assert len(seen) == 2, "requests reached %s of the 2 web replicas" % sorted(seen)

    # tty: true reached the spec (the seed says it of both services)
    for name in (web, db):
        assert docker_client.services.get(name).attrs["Spec"]["TaskTemplate"]["ContainerSpec"].get("TTY") is True

    # cory/MyOwnPass reaches database magic from web's network, as host db
    code, output = _one_off(docker_client, prefix + "-dbcheck", STACK + "_default",
                            ["mariadb", "-h", "db", "-u", "cory", "-pMyOwnPass", "magic", "-N", "-e",
                             "SELECT CONCAT(DATABASE(), ' as ', CURRENT_USER())"])
    assert code == 0 and "magic as cory@%" in output, output

    # db named no root password: it has a generated one, in a secret mounted where the deploy said,
    # never in the spec, the output or the environment
    said = " ".join(first.output.replace("''", "'").split())
    assert "db: the root password is generated; read it in db's containers at /run/secrets/db_root_password " \
           "(Swarm secret %s_db_root_password)" % STACK in said
    container = docker_client.containers.list(filters={"label": "com.docker.swarm.service.name=" + db})[0]
    password = container.exec_run(["cat", "/run/secrets/db_root_password"]).output.decode().strip()
    assert len(password) >= 32
    login = container.exec_run(["sh", "-c", 'mariadb -uroot -p"$(cat /run/secrets/db_root_password)" -N -e '
                                            '"SELECT 1"'])
    assert login.exit_code == 0, login.output
    assert password not in first.output
    assert password not in str(docker_client.services.get(db).attrs["Spec"])

    # the same files again: no service is touched, the password stays
    before = {name: docker_client.services.get(name).attrs["Version"]["Index"] for name in (web, db)}
    again = playbook("playbooks/deploy.yml", "-e", "spin_submission=" + seed)
    assert again.recap()["changed"] == 0, again.output[-4000:]
    assert "0 created, 0 updated, 0 removed, 2 unchanged" in again.output
    assert {name: docker_client.services.get(name).attrs["Version"]["Index"] for name in (web, db)} == before
    assert container.exec_run(["cat", "/run/secrets/db_root_password"]).output.decode().strip() == password
    assert _curl(url) == "200"
