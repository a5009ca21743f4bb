"""Status and logs of a tenant's stacks, and the CPU and memory quotas, on the real engine.

The seed (examples/seed, byte for byte) is deployed as tenant demo's stack m19seed (SPIN_TEST_STATUS_STACK),
then shown through playbooks/status.yml as the tenant's submission names it and in staff's form: both
services with their replicas, health, node, image and digest, web's URL, the last deploy from the audit
trail, log lines. The same stack named by another tenant's submission is refused without a word of it;
playbooks/logs.yml follows the lines for a bounded time; a stack over its tenant's memory quota and one
asking more CPUs than the node has are refused with the numbers, and create nothing."""
import json
import os
import subprocess
import time

import pytest
import yaml
from conftest import run_playbook
from stacklib import Tenant, hand_in

STACK = os.environ.get("SPIN_TEST_STATUS_STACK", "m19seed")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def _seed_files():
    return [open(os.path.join(ROOT, "examples", "seed", name)).read()
            for name in ("docker-compose.yml", "rancher-compose.yml")]


@pytest.fixture(scope="module")
def seed(docker_client):
    tenant = Tenant(None, docker_client, run_playbook, STACK)
    compose, rancher = _seed_files()
    tenant.write(compose, rancher)
    tenant.deploy()
    yield tenant
    tenant.remove("-e", "spin_remove_volumes=true", check=False)
    tenant.discard()


def _msg_lines(output, task="Show the status"):
    """The lines of the debug task's text, as the yaml result format prints it (a block)."""
    part = output.split("TASK [%s]" % task, 1)[1].split("\nTASK [", 1)[0]
    block = part.split("msg: |-\n", 1)[1]
    lines = []
    for raw in block.splitlines():
        if raw and not raw.startswith("        "):
            break
        lines.append(raw[8:])
    while lines and not lines[-1]:
        lines.pop()
    return lines


def failure(output):
    """The message of the failed task, as the yaml callback printed it (folded and quoted)."""
    part = output.split("FAILED! => ", 1)[1].split("\nPLAY RECAP", 1)[0]
    return yaml.safe_load(part.split("\n...ignoring", 1)[0])["msg"]


def test_status_of_the_seed_as_its_tenant_and_as_staff(seed, playbook, tmp_path):
    started = time.monotonic()
    result = playbook("playbooks/status.yml", "-e", "spin_submission=%s" % seed.dir, "-e", "spin_status_lines=3",
                      "-e", "spin_status_json=%s" % (tmp_path / "status.json"))
    took = time.monotonic() - started
    table = _msg_lines(result.output)
    print("\n".join(table))
    print("status.yml took %.1f s" % took)
    data = json.loads((tmp_path / "status.json").read_text())
    assert data["tenant"] == "demo" and [s["stack"] for s in data["stacks"]] == [STACK]
    services = {s["service"]: s for s in data["stacks"][0]["services"]}
    assert (services["web"]["running"], services["web"]["replicas"], services["web"]["health"]) == (2, 2, "running")
    assert (services["db"]["running"], services["db"]["replicas"], services["db"]["health"]) == (1, 1, "running")
    assert services["web"]["image"] == "httpd" and services["web"]["digest"].startswith("sha256:")
    assert services["db"]["image"] == "mysql"
    assert sum(services["web"]["nodes"].values()) == 2
    assert services["web"]["urls"] == ["http://web.%s.demo.localhost/" % STACK]
    assert data["stacks"][0]["last_deploy"]["outcome"] == "deployed"
    assert services["db"]["logs"], "no log lines of db"          # MariaDB says it is ready
    assert any("web.%s.demo.localhost" % STACK in line for line in table)
    header = next(line for line in table if line.strip().startswith("SERVICE"))
    assert header.split() == ["SERVICE", "REPLICAS", "HEALTH", "NODES", "IMAGE", "DIGEST"]
    assert any(line.split()[:3] == ["web", "2/2", "running"] for line in table)
    assert table[0].startswith("tenant demo: ")
    # staff's form gives the same stack
    staff = playbook("playbooks/status.yml", "-e", "spin_status_tenant=demo", "-e", "spin_status_stack=%s" % STACK,
                     "-e", "spin_status_lines=0")
    assert any(line.split()[:3] == ["db", "1/1", "running"] for line in _msg_lines(staff.output))


def test_services_without_limits_run_with_the_platforms_defaults(seed, docker_client):
    """The seed names no resources: without the default limits one replica could take the node's memory
    and CPU from every other tenant's services on it (the hole, on main before issue 19)."""
    for service in ("web", "db"):
        resources = docker_client.services.get("%s_%s" % (STACK, service)).attrs["Spec"]["TaskTemplate"].get(
            "Resources") or {}
        assert resources.get("Limits") == {"NanoCPUs": 1000000000, "MemoryBytes": 1024 ** 3}, (service, resources)
        # and the engine applies it: the container's memory cgroup (v1 here) holds the limit
        container = docker_client.containers.list(filters={"label": "com.docker.swarm.service.name=%s_%s"
                                                           % (STACK, service)})[0]
        with open("/sys/fs/cgroup/memory/docker/%s/memory.limit_in_bytes" % container.id) as handle:
            assert int(handle.read()) == 1024 ** 3


def test_another_tenants_submission_never_shows_the_stack(seed, docker_client, playbook):
    cory = Tenant(None, docker_client, run_playbook, STACK, tenant="cory")
    try:
        compose, rancher = _seed_files()
        cory.write(compose, rancher)
        hand_in(cory.dir, cory.uid, cory.gid)
        refused = playbook("playbooks/status.yml", "-e", "spin_submission=%s" % cory.dir, check=False)
        assert refused.rc != 0
        message = failure(refused.output)
        assert message.startswith("stack '%s' is not tenant 'cory''s: nothing of it is shown" % STACK), message
        assert "demo" not in message and "db" not in message.split()
        # all of cory's stacks: none of demo's
        mine = playbook("playbooks/status.yml", "-e", "spin_submission=%s" % os.path.dirname(str(cory.dir)))
        assert STACK not in "\n".join(_msg_lines(mine.output))
    finally:
        cory.discard()


def test_logs_follow_for_a_bounded_time(seed, playbook):
    started = time.monotonic()
    # requests to web while logs.yml follows: their lines arrive in the rounds
    curl = subprocess.Popen(["sh", "-c", "for i in 1 2 3 4 5 6; do curl -s -o /dev/null "
                             "http://web.%s.demo.localhost/m19-$i; sleep 1; done" % STACK])
    try:
        result = playbook("playbooks/logs.yml", "-e", "spin_submission=%s" % seed.dir, "-e", "spin_logs_service=web",
                          "-e", "spin_logs_follow=6", "-e", "spin_logs_round=3")
    finally:
        curl.wait(timeout=30)
    took = time.monotonic() - started
    assert took < 60
    assert "GET /m19-" in result.output
    assert result.output.count("TASK [Read the lines written since]") == 2


def test_quota_refusals_give_the_numbers_and_create_nothing(docker_client, playbook):
    tenant = Tenant(None, docker_client, run_playbook, "m19quota")
    try:
        tenant.write("services:\n  web:\n    image: httpd\n    deploy:\n      replicas: 2\n      resources:\n"
                     "        limits: {memory: 9g}\n")
        refused = tenant.deploy(check=False)
        assert refused.rc != 0
        assert "[resource-quota] the memory limits of the stack's services come to 18 GiB (web 2 x 9 GiB)" \
            in refused.output
        assert "over tenant 'demo''s quota of 16 GiB; lower deploy.resources.limits.memory" in refused.output
        assert tenant.objects()["services"] == []
        cpus = os.cpu_count()
        tenant.write("services:\n  web:\n    image: httpd\n    deploy:\n      resources:\n"
                     "        reservations: {cpus: '%d'}\n" % (cpus * 4))
        refused = tenant.deploy(check=False)
        assert "[resource-size] asks for %d CPUs per replica as its reservation, more than any node has" % (cpus * 4) \
            in refused.output
        assert tenant.objects()["services"] == []
    finally:
        tenant.remove(check=False)
        tenant.discard()
