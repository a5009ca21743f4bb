"""Holes in front of the policy (issue 17), through playbooks/deploy.yml on the real engine. Placement
within the tenants' nodes: a tenant that pins its service to the managers or to the edge node is refused,
naming file, service, key and fix, and nothing is created; a placement that only narrows deploys, after
the platform's own constraints (spin_platform.tenant_constraints). A digest-pinned image that is nowhere
is refused before anything is created. A file of the submission that cannot be read (an optional env file
outside it, a named pipe, a NUL in a name) is refused in words, never a traceback. Objects carry the
prefix ``h3``."""
import os
import time
import uuid

import pytest
from stacklib import Tenant, write_inventory

PINNED = """\
services:
  web:
    image: httpd
    deploy:
      placement:
        constraints: [node.role == manager, node.labels.spin.edge==true]
"""

NARROWED = """\
services:
  web:
    image: httpd
    deploy:
      placement:
        constraints: [node.platform.arch != s390x]
        preferences: [{spread: node.labels.zone}]
        max_replicas_per_node: 2
"""

FIX = "remove it: tenants narrow placement only by node.labels.<name> (labels outside spin.*) and " \
      "node.platform.os / node.platform.arch"


@pytest.fixture
def tenant(tmp_path, docker_client, playbook):
    inventory = write_inventory(tmp_path, spin_platform={"tenant_constraints": ["node.platform.os==linux"]})

    def run(path, *args, check=True):
        return playbook(path, *args, inventory=inventory, check=check)

    tenant = Tenant(tmp_path, docker_client, run, "h3pl" + uuid.uuid4().hex[:6])
    yield tenant
    tenant.remove("-e", "spin_remove_volumes=true", check=False)
    tenant.discard()


def test_a_service_pinned_to_the_managers_or_the_edge_is_refused(tenant):
    tenant.write(PINNED)
    result = tenant.deploy(check=False)
    assert result.rc != 0
    for line in [
        "docker-compose.yml: service 'web': key 'deploy.placement.constraints': [placement] 'node.role == manager' "
        "places by the node's role (node.role): which nodes run tenants' services is the platform's to say; " + FIX,
        "docker-compose.yml: service 'web': key 'deploy.placement.constraints': [placement] "
        "'node.labels.spin.edge==true' places by the platform's own node label spin.edge (edge, build and registry "
        "nodes, global file systems); " + FIX,
    ]:
        assert line in result.output, result.output[-4000:]
    assert tenant.objects() == {"services": [], "networks": [], "secrets": [], "volumes": []}


def test_a_placement_that_narrows_deploys_after_the_platforms_constraints(tenant):
    tenant.write(NARROWED)
    tenant.deploy()
    service = tenant.services()[tenant.stack + "_web"]
    placement = service.attrs["Spec"]["TaskTemplate"]["Placement"]
    assert placement["Constraints"] == ["node.platform.os==linux", "node.platform.arch != s390x"]
    assert placement["Preferences"] == [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}]
    assert placement["MaxReplicas"] == 2
    assert len(tenant.running(tenant.stack + "_web")) == 1


# ---- a digest-pinned image that is nowhere: refused before anything is created -----------------------

MISSING_DIGEST = "httpd@sha256:" + "1" * 64   # an allowed image, a digest nobody has


def created_objects(docker_client, stack, since):
    """What the engine created for the stack since ``since`` (its events: networks, services, secrets, configs)."""
    events = docker_client.events(since=since, until=int(time.time()) + 1, decode=True)
    return sorted({(e["Type"], e["Actor"]["Attributes"].get("name", "")) for e in events
                   if e.get("Action") == "create" and stack in e["Actor"]["Attributes"].get("name", "")})


def test_a_digest_pinned_image_that_is_nowhere_is_refused_before_anything_is_created(tenant, docker_client):
    tenant.write("services:\n  web:\n    image: httpd\n  app:\n    image: %s\n    command: [sleep, '60']\n"
                 % MISSING_DIGEST)
    since = int(time.time()) - 1
    result = tenant.deploy(check=False)
    assert result.rc != 0
    assert ("cannot pin the stack's images, nothing was changed: service 'app': image '%s' was found neither in "
            "this node's engine nor in registry docker.io. Build or push the image first" % MISSING_DIGEST) \
        in result.output, result.output[-4000:]
    assert created_objects(docker_client, tenant.stack, since) == []
    assert tenant.objects() == {"services": [], "networks": [], "secrets": [], "volumes": []}


# ---- files the submission cannot read: refused in words, an optional env file outside included ---------

UNREADABLE = """\
services:
  web:
    image: httpd
    env_file: [ok.env, {path: ../h3-outside.env, required: false}]
  app:
    image: httpd
    env_file: pipe.env
secrets:
  pw:
    file: "bad\\0name"
"""


def test_files_the_submission_cannot_read_are_refused_naming_file_service_and_key(tenant, docker_client):
    tenant.write(UNREADABLE, **{"ok.env": "A=1\n"})
    (tenant.dir.parent / "h3-outside.env").write_text("STOLEN=another tenant's secret\n")
    os.mkfifo(str(tenant.dir / "pipe.env"))
    since = int(time.time()) - 1
    result = tenant.deploy(check=False)    # the harness fails the test on a traceback
    assert result.rc != 0
    for line in [
        "docker-compose.yml: service 'web': key 'env_file': '../h3-outside.env' points outside the submission "
        "directory: keep the file inside it",
        "docker-compose.yml: service 'app': key 'env_file': 'pipe.env' is a named pipe, not a regular file: only "
        "regular files of the submission are read; put the file itself there",
        "docker-compose.yml: key 'secrets.pw.file': 'bad\\x00name' holds a NUL character, which no file name can: "
        "remove it",
    ]:
        assert line in result.output, result.output[-4000:]
    assert "STOLEN" not in result.output
    assert created_objects(docker_client, tenant.stack, since) == []
