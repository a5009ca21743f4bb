"""spin_stack through the tenant's entry points (deploy.yml / remove.yml) on the real swarm."""
import json
import os
import re
import time

import pytest
from stacklib import Tenant

SEED = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "seed")


@pytest.fixture
def tenant(tmp_path, docker_client, playbook, prefix):
    made = []

    def make(stack_suffix="", tenant_name="demo"):
        t = Tenant(tmp_path, docker_client, playbook, prefix + stack_suffix, tenant_name)
        made.append(t)
        return t

    yield make
    for t in made:
        t.remove("-e", "spin_remove_volumes=true", check=False)
        t.discard()
        for kind, names in t.objects().items():
            assert not names, "%s left behind: %s" % (kind, names)


def seed_files():
    """The seed's files as they are: web publishes nothing and gets an automatic route at a host name
    of its own stack, so test stacks compete for no port with each other or with the example stack."""
    with open(os.path.join(SEED, "docker-compose.yml")) as c, open(os.path.join(SEED, "rancher-compose.yml")) as r:
        compose = c.read()
        assert "MYSQL_DATABASE: magic" in compose
        return compose, r.read()


def test_seed_deploys_scales_updates_and_prunes(tenant):
    t = tenant()
    compose, rancher = seed_files()
    t.write(compose, rancher)
    first = t.deploy()
    web, db = t.stack + "_web", t.stack + "_db"
    assert set(t.services()) == {web, db}
    assert len(t.running(web)) == 2 and len(t.running(db)) == 1, "the deploy waits for every replica"
    assert "2 created" in first.output

    # web answers, and reaches db by the name the seed links it as
    assert t.exec_in(web, ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://localhost/"]).output == b"200"
    assert t.exec_in(web, ["getent", "hosts", "db"]).exit_code == 0
    assert t.exec_in(web, ["bash", "-c", "exec 3<>/dev/tcp/db/3306"]).exit_code == 0

    # the same input again: no service is updated (Swarm's version indexes stay)
    before = t.versions()
    again = t.deploy()
    assert again.recap()["changed"] == 0
    assert t.versions() == before

    # scale 2 -> 3: only web is touched
    t.write(compose, rancher.replace("scale: 2", "scale: 3"))
    t.deploy()
    after = t.versions()
    assert after[db] == before[db]
    assert after[web] > before[web]
    assert len(t.running(web)) == 3

    # an environment value changes: a rolling update of db only, which comes back with it
    t.write(compose.replace("MYSQL_DATABASE: magic", "MYSQL_DATABASE: magic2"), rancher.replace("scale: 2", "scale: 3"))
    t.deploy()
    updated = t.versions()
    assert updated[web] == after[web] and updated[db] > after[db]
    env = t.services()[db].attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert "MYSQL_DATABASE=magic2" in env
    assert len(t.running(db)) == 1

    # a service dropped from the file is removed
    t.write("version: '2'\nservices:\n  web:\n    image: httpd\n", "version: '2'\nservices:\n  web:\n    scale: 3\n")
    dropped = t.deploy()
    assert set(t.services()) == {web}
    assert "1 removed" in dropped.output


def test_check_diff_reports_and_changes_nothing(tenant):
    t = tenant()
    compose, rancher = seed_files()
    t.write(compose, rancher)
    t.deploy()
    before = t.versions()
    t.write(compose.replace("image: httpd", "image: httpd:2.4"), rancher.replace("scale: 2", "scale: 4"))
    checked = t.deploy("--check", "--diff")
    assert checked.recap()["changed"] == 1
    # the diff shows the two changes of web, and nothing of db
    assert re.search(r"-\s+replicas: 2\n\+\s+replicas: 4", checked.output), checked.output[-3000:]
    assert "httpd:2.4" in checked.output
    assert t.versions() == before
    assert len(t.running(t.stack + "_web")) == 2


def test_refused_input_creates_nothing(tenant):
    t = tenant()
    t.write("version: '2'\nservices:\n  web:\n    imagee: httpd\n    privileged: true\n"
            "  db:\n    image: mysql\n    cap_add: [SYS_ADMIN]\n")
    refused = t.deploy(check=False)
    assert refused.rc != 0
    assert "docker-compose.yml: service 'web': key 'imagee': unknown key (did you mean 'image'?)" in refused.output
    assert "SYS_ADMIN" in refused.output and "privileged" in refused.output
    assert "nothing was changed" in refused.output
    assert t.objects() == {"services": [], "networks": [], "secrets": [], "volumes": []}


def test_a_missing_image_is_refused_before_anything_is_created_and_a_crashing_service_is_undone(tenant):
    t = tenant()
    # an image no engine has: the deploy pins every image first, so nothing is created
    t.write("version: '3.8'\nservices:\n  web:\n    image: httpd\n  broken:\n    image: httpd:0.0-missing\n"
            "    depends_on: [web]\n")
    refused = t.deploy(check=False)
    assert refused.rc != 0
    said = " ".join(refused.output.replace("''", "'").split())
    assert "cannot pin the stack's images, nothing was changed: service 'broken': image 'httpd:0.0-missing' " \
           "was not found in this node's engine" in said
    assert t.objects() == {"services": [], "networks": [], "secrets": [], "volumes": []}
    # an image that exists, a container that exits at once: created, then undone
    t.write("version: '3.8'\nservices:\n  web:\n    image: httpd\n  broken:\n    image: httpd\n"
            "    entrypoint: [/bin/false]\n    depends_on: [web]\n")
    failed = t.deploy(check=False)
    assert failed.rc != 0
    assert "service '%s_broken' does not start" % t.stack in failed.output
    assert "undone" in failed.output
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(t.objects().values()):
        time.sleep(1)
    assert t.objects() == {"services": [], "networks": [], "secrets": [], "volumes": []}


def test_another_tenant_can_neither_change_nor_remove_the_stack(tenant):
    owner = tenant()
    compose, rancher = seed_files()
    owner.write(compose, rancher)
    owner.deploy()
    before = owner.versions()

    intruder = Tenant(None, owner.docker, owner.playbook, owner.stack + "x", "cory")
    intruder.stack = owner.stack  # same stack name (the vars file's spin_stack), other tenant
    try:
        intruder.write(compose, rancher)
        for attempt in (intruder.deploy(check=False), intruder.remove(check=False)):
            assert attempt.rc != 0
            assert "stack '%s' belongs to tenant 'demo'" % owner.stack in attempt.output
        assert owner.versions() == before
    finally:
        intruder.discard()


def test_tenant_vars_file_cannot_set_platform_variables(tenant):
    t = tenant()
    compose, rancher = seed_files()
    t.write(compose, rancher)
    registry = {"spin_tenants": {"demo": {"uid": 0, "gid": 0}}}
    with open(t.dir / "vars.yml", "a") as handle:
        handle.write(json.dumps(registry)[1:-1].replace('"spin_tenants":', "spin_tenants:"))
        handle.write("\n")
    refused = t.deploy(check=False)
    assert refused.rc != 0
    assert "vars.yml: key 'spin_tenants': not a key of a submission (the platform's settings are infra staff's)" \
        in refused.output
    assert t.objects()["services"] == []

    # nor can the command line carry it (a vars file given as extra vars would)
    t.write(compose, rancher)
    refused = t.deploy("-e", json.dumps(registry), check=False)
    assert refused.rc != 0
    assert "the extra vars set spin_tenants: only infra staff set these" in refused.output
    assert t.objects()["services"] == []
