"""Tenants are isolated on the real swarm: one tenant's container shares no network with, and cannot
connect to, another tenant's service; the same attempts inside its own stack succeed (so the test cannot pass
by accident); listing for a tenant shows only its own objects."""
import json
import os
import subprocess
import sys
import uuid

import pytest
import tracebacks
from conftest import run_playbook

from stacklib import Tenant

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
COMPOSE = """
version: '3.8'
services:
  web:
    image: httpd
  probe:
    image: httpd
"""


@pytest.fixture(scope="module")
def two_tenants(tmp_path_factory, docker_client):
    prefix = "iso" + uuid.uuid4().hex[:6]
    tmp_path = tmp_path_factory.mktemp("isolation")
    stacks = [Tenant(tmp_path, docker_client, run_playbook, prefix + "a", "demo"),
              Tenant(tmp_path, docker_client, run_playbook, prefix + "b", "cory")]
    try:
        for t in stacks:
            t.write(COMPOSE)
            t.deploy()
        yield stacks
    finally:
        for t in stacks:
            t.remove(check=False)
            t.discard()


def _task_ips(docker_client, service):
    tasks = docker_client.services.get(service).tasks(filters={"desired-state": "running"})
    return [a["Addresses"][0].split("/")[0] for t in tasks for a in t.get("NetworksAttachments") or []
            if not a["Network"]["Spec"].get("Ingress")]


def _connect(tenant, service, host, port=80):
    """A real TCP connection attempt from inside one of ``service``'s containers, 3 s at most."""
    return tenant.exec_in(service, ["timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/%s/%d" % (host, port)]).exit_code


def _isolation_rules():
    return subprocess.run(["iptables", "-S", "DOCKER-USER"], stdout=subprocess.PIPE, text=True,
                          check=True).stdout


def test_a_tenant_cannot_connect_to_another_tenants_service(two_tenants, docker_client):
    a, b = two_tenants
    # Without the swarm role's rule a packet to another overlay's address leaves the node by its
    # default route; test traffic must not leave this machine, so check the rule first.
    # an engine that reports no pool uses Swarm's default, 10.0.0.0/8 (as the role reads it)
    pools = docker_client.info()["Swarm"]["Cluster"].get("DefaultAddrPool") or ["10.0.0.0/8"]
    rules = _isolation_rules()
    for pool in pools:
        assert "-d %s -i docker_gwbridge" % pool in rules and "REJECT" in rules, \
            "the swarm role's isolation rule for %s is missing from DOCKER-USER:\n%s" % (pool, rules)
    probe_a = a.stack + "_probe"

    # positive controls inside a's own stack: by compose name, by Swarm name, by task address
    assert _connect(a, probe_a, "web") == 0
    assert _connect(a, probe_a, a.stack + "_web") == 0
    own_ips = _task_ips(docker_client, a.stack + "_web")
    assert own_ips and _connect(a, probe_a, own_ips[0]) == 0

    # b's service shares no network with a's containers, so Swarm's DNS in a's containers has no
    # record of it (names are not looked up here: unknown names are forwarded off this machine)
    nets = {t: {n["Target"] for n in docker_client.services.get(t.stack + "_probe").attrs["Spec"]["TaskTemplate"]
                ["Networks"]} for t in (a, b)}
    assert nets[a] and nets[b] and not nets[a] & nets[b]
    # ... and its task addresses cannot be reached
    other_ips = _task_ips(docker_client, b.stack + "_web")
    assert other_ips
    for ip in other_ips:
        assert _connect(a, probe_a, ip) != 0, "tenant %s reached %s of tenant %s" % (a.tenant, ip, b.tenant)


def test_a_tenants_inventory_shows_only_its_own_objects(two_tenants, tmp_path):
    a, b = two_tenants
    config = tmp_path / "tenant_spin_swarm.yml"
    config.write_text("plugin: spin.platform.swarm\ntenant: %s\n" % a.tenant)
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), **tracebacks.ENV)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", str(config),
                           "--list"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          check=True)
    tracebacks.assert_none(proc.stdout + proc.stderr, "ansible-inventory")
    out = proc.stdout
    listing = json.loads(out)
    assert a.stack + "_web" in listing["_meta"]["hostvars"]
    assert b.stack not in out and "tenant_" + b.tenant not in out
