"""No build before the whole verdict (issue 17): a stack the manager refuses (here for the tenant's
replica quota, which only the manager can count) builds nothing, on the real engine. On main the
images were built (their RUN steps ran) before the manager's verdict, while the message said
"nothing was changed"."""
import uuid

import pytest
from conftest import run_playbook

from stacklib import Tenant, write_inventory

DOCKERFILE = "FROM httpd:2.4\nRUN echo built > /var/www/html/index.html\n"
UID = 1991


@pytest.fixture
def tenant(tmp_path, docker_client):
    path = write_inventory(tmp_path, spin_tenants={"clsv": {"uid": UID, "gid": UID, "quota": {"replicas": 1}}})
    t = Tenant(tmp_path, docker_client, lambda *a, **k: run_playbook(*a, inventory=path, **k),
               "clsv-" + uuid.uuid4().hex[:6], tenant="clsv", uid=UID, gid=UID)
    t.inventory = path
    yield t
    t.remove(check=False)
    t.discard()
    for image in docker_client.images.list(name="clsv/%s-*" % t.stack):
        docker_client.images.remove(image.id, force=True)


def write(tenant, replicas):
    (tenant.dir / "app").mkdir(exist_ok=True)
    (tenant.dir / "app" / "Dockerfile").write_text(DOCKERFILE)
    tenant.write({"services": {"app": {"build": "app", "deploy": {"replicas": replicas}, "x-spin": {"route": False}}}})


def built(docker_client, tenant):
    return docker_client.images.list(name="clsv/%s-app" % tenant.stack)


def test_a_stack_over_its_quota_builds_nothing_and_says_so(tenant, docker_client):
    write(tenant, replicas=2)
    refused = tenant.deploy(check=False)
    assert refused.rc != 0
    assert "stack '%s' of tenant 'clsv' is refused, nothing was built or changed" % tenant.stack in refused.output
    assert "replica-quota" in refused.output
    assert built(docker_client, tenant) == []
    assert tenant.services() == {}


def test_the_verdict_alone_judges_on_the_manager_and_builds_nothing(tenant, docker_client, tmp_path):
    """What deploy.yml runs before a build on a build node of its own (verdict_only)."""
    play = tmp_path / "verdict.yml"
    play.write_text("- hosts: swarm_managers[0]\n  gather_facts: false\n  tasks:\n"
                    "    - spin.platform.spin_stack: {submission: '%s', verdict_only: true}\n"
                    "      register: verdict\n"
                    "    - ansible.builtin.debug: {msg: 'builds={{ verdict.builds }} verdict={{ verdict.verdict }}'}\n"
                    % tenant.dir)
    write(tenant, replicas=2)
    from stacklib import hand_in
    hand_in(tenant.dir, UID, UID)
    refused = run_playbook(str(play), inventory=tenant.inventory, check=False)
    assert refused.rc != 0 and "is refused, nothing was built or changed" in refused.output
    write(tenant, replicas=1)
    hand_in(tenant.dir, UID, UID)
    allowed = run_playbook(str(play), inventory=tenant.inventory)
    assert "builds=1 verdict=allowed" in allowed.output
    assert allowed.recap()["changed"] == 0
    assert built(docker_client, tenant) == [] and tenant.services() == {}
    # and the deploy then builds and runs it
    tenant.deploy()
    assert len(built(docker_client, tenant)) == 1 and list(tenant.services()) == [tenant.stack + "_app"]
