"""spin.platform.swarm inventory against the real engine: two made-up tenants, each with one small
labelled service, read back through `ansible-inventory --list` as a user would."""
import json
import os
import subprocess
import sys
import time

import pytest
import tracebacks
import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)

TEMPLATE_LOOKING = "{{ 6 * 7 }}"


def plain(value):
    """ansible-inventory marks untrusted strings as {"__ansible_unsafe": ...}; unwrap them."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def ansible(tool, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_FORCE_COLOR="0", **tracebacks.ENV)
    proc = subprocess.run([os.path.join(BIN, tool), *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, check=False, timeout=120)
    tracebacks.assert_none(proc.stdout + proc.stderr, "%s %s" % (tool, " ".join(args)))
    assert proc.returncode == 0, "%s %s failed (rc=%s):\n%s\n%s" % (tool, " ".join(args), proc.returncode,
                                                                    proc.stdout[-3000:], proc.stderr[-3000:])
    return proc


def inventory_list(config_path, *extra):
    proc = ansible("ansible-inventory", "-i", str(config_path), "--list", *extra)
    return proc.stdout, json.loads(proc.stdout)


def write_config(tmp_path, name="spin_swarm.yml", **options):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(dict({"plugin": "spin.platform.swarm"}, **options)))
    return path


def members(listing, group, key="hosts"):
    return sorted((listing.get(group) or {}).get(key) or [])


@pytest.fixture
def tenants(docker_client, prefix):
    """Two tenants, one stack each: <inv..>a_web (with a network) for tenant A, <inv..>b_api for tenant B."""
    docker = pytest.importorskip("docker")
    made = {"services": [], "networks": []}
    base = "inv" + prefix
    t = {"a": {"tenant": prefix + "-red", "stack": base + "a", "service": "web"},
         "b": {"tenant": prefix + "-blue", "stack": base + "b", "service": "api"}}

    def labels(info):
        return {"spin.tenant": info["tenant"], "spin.stack": info["stack"], "spin.service": info["service"],
                "com.docker.stack.namespace": info["stack"]}

    def create(info, **extra):
        name = "%s_%s" % (info["stack"], info["service"])
        service = docker_client.services.create(
            "httpd:latest", name=name, labels=dict(labels(info), **extra.pop("more_labels", {})),
            endpoint_spec=docker.types.EndpointSpec(mode="dnsrr"), mode=docker.types.ServiceMode("replicated", 1),
            **extra)
        made["services"].append(service)
        info["name"] = name
        return service

    try:
        net_labels = dict(labels(t["a"]))
        del net_labels["spin.service"]
        network = docker_client.networks.create(t["a"]["stack"] + "_default", driver="overlay", labels=net_labels)
        made["networks"].append(network)
        create(t["a"], networks=[docker.types.NetworkAttachmentConfig(network.id, aliases=["web"])],
               more_labels={"spin.test.note": TEMPLATE_LOOKING})
        create(t["b"])
        t["create"] = create
        # wait until both tasks run, so that the running counts are known
        deadline = time.time() + 60
        while time.time() < deadline:
            states = [[task["Status"]["State"] for task in s.tasks({"desired-state": "running"})]
                      for s in made["services"]]
            if all(st == ["running"] for st in states):
                break
            time.sleep(0.5)
        else:
            pytest.fail("the test services did not start within 60 s: %s" % states)
        yield t
    finally:
        for service in made["services"]:
            try:
                service.remove()
            except docker.errors.NotFound:
                pass
        for network in made["networks"]:
            for dummy in range(40):  # the network is busy until the removed tasks are gone
                try:
                    network.remove()
                    break
                except docker.errors.NotFound:
                    break
                except docker.errors.APIError:
                    time.sleep(0.5)


def test_every_tenant_nodes_groups_and_variables(tmp_path, docker_client, tenants):
    a, b = tenants["a"], tenants["b"]
    config = write_config(tmp_path, keyed_groups=[{"key": "spin_node_labels | default({})",
                                                   "prefix": "spin_nodes_label"}])
    dummy, listing = inventory_list(config)
    hostvars = plain(listing["_meta"]["hostvars"])

    tenant_a, stack_a = "tenant_" + a["tenant"].replace("-", "_"), "stack_" + a["stack"]
    tenant_b, stack_b = "tenant_" + b["tenant"].replace("-", "_"), "stack_" + b["stack"]
    assert members(listing, tenant_a, "children") == [stack_a]
    assert members(listing, tenant_b, "children") == [stack_b]
    assert members(listing, stack_a) == [a["name"]]
    assert members(listing, stack_b) == [b["name"]]
    assert tenant_a in listing["all"]["children"] and tenant_b in listing["all"]["children"]

    web = hostvars[a["name"]]
    node_name = docker_client.info()["Name"]
    assert (web["spin_kind"], web["spin_tenant"], web["spin_stack"], web["spin_service"]) == \
        ("service", a["tenant"], a["stack"], "web")
    assert web["spin_service_name"] == a["name"]
    assert web["spin_service_image"].startswith("httpd:latest")
    assert web["spin_service_endpoint_mode"] == "dnsrr"
    assert (web["spin_service_mode"], web["spin_service_replicas"], web["spin_service_running"]) == \
        ("replicated", 1, 1)
    assert [(t["node"], t["state"]) for t in web["spin_service_tasks"]] == [(node_name, "running")]
    assert web["spin_service_networks"] == [{"name": a["stack"] + "_default", "aliases": ["web"]}]
    assert web["spin_service_tasks"][0]["addresses"], "the task on an overlay network has an address"
    assert "ansible_host" not in web and "ansible_connection" not in web
    assert hostvars[b["name"]]["spin_tenant"] == b["tenant"]

    # the nodes: this engine is the single manager, ansible_host its advertise address
    assert node_name in members(listing, "spin_managers")
    assert members(listing, "spin_nodes", "children") == ["spin_managers", "spin_workers"]
    node = hostvars[node_name]
    assert node["spin_node_role"] == "manager" and node["spin_node_state"] == "ready"
    assert node["ansible_host"] == docker_client.info()["Swarm"]["NodeAddr"]
    for key, value in node["spin_node_labels"].items():  # keyed groups made from the node's labels
        group = ("spin_nodes_label_%s_%s" % (key, value)).replace(".", "_").replace("-", "_")
        assert node_name in members(listing, group), group

    # Docker's values are untrusted: shown as unsafe, and a template-looking label stays text
    assert listing["_meta"]["hostvars"][a["name"]]["spin_tenant"] == {"__ansible_unsafe": a["tenant"]}
    assert web["spin_service_labels"]["spin.test.note"] == TEMPLATE_LOOKING
    proc = ansible("ansible", "-i", str(config), "localhost", "-m", "ansible.builtin.debug", "-a",
                   "msg={{ hostvars['%s'].spin_service_labels['spin.test.note'] }}" % a["name"])
    assert TEMPLATE_LOOKING in proc.stdout and '"msg": 42' not in proc.stdout, proc.stdout


def test_tenant_view_shows_nothing_of_other_tenants(tmp_path, tenants):
    a, b = tenants["a"], tenants["b"]
    config = write_config(tmp_path, name="red.spin_swarm.yml", tenant=a["tenant"])
    raw, listing = inventory_list(config)
    hostvars = plain(listing["_meta"]["hostvars"])
    assert members(listing, "stack_" + a["stack"]) == [a["name"]]
    # nothing of tenant B anywhere in the output: not its tenant, stack, service or group names
    for other in (b["tenant"], b["tenant"].replace("-", "_"), b["stack"], b["name"]):
        assert other not in raw, other
    # nor of any other tenant that may run on this engine, nor the nodes (left out by default)
    assert sorted({v.get("spin_tenant") for v in hostvars.values()}) == [a["tenant"]]
    assert not [g for g in listing if g.startswith("tenant_") and g != "tenant_" + a["tenant"].replace("-", "_")]
    assert "spin_nodes" not in listing

    # and with the nodes asked for, still nothing of tenant B
    raw, listing = inventory_list(write_config(tmp_path, name="red2.spin_swarm.yml", tenant=a["tenant"],
                                               include_nodes=True))
    assert listing["spin_managers"]["hosts"]
    assert b["tenant"] not in raw and b["stack"] not in raw


def test_cache_serves_the_last_reading_until_flushed(tmp_path, tenants):
    a = tenants["a"]
    config = write_config(tmp_path, name="cached.spin_swarm.yml", tenant=a["tenant"], cache=True,
                          cache_plugin="ansible.builtin.jsonfile", cache_connection=str(tmp_path / "cache"))
    dummy, listing = inventory_list(config)
    assert members(listing, "stack_" + a["stack"]) == [a["name"]]
    assert os.listdir(str(tmp_path / "cache")), "the cache was not written"

    extra = dict(a, service="worker")
    tenants["create"](extra)  # a new service of tenant A: the cached inventory does not know it yet
    dummy, listing = inventory_list(config)
    assert members(listing, "stack_" + a["stack"]) == [a["name"]]
    dummy, listing = inventory_list(config, "--flush-cache")
    assert members(listing, "stack_" + a["stack"]) == sorted([a["name"], extra["name"]])
    dummy, listing = inventory_list(config)  # the flushed reading is now the cached one
    assert members(listing, "stack_" + a["stack"]) == sorted([a["name"], extra["name"]])
