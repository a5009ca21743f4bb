"""spin.platform.swarm inventory: a fake SwarmClient holds canned Docker API answers (shapes as
engine 20.10 / API 1.41 returns them); the plugin runs its real parse() over a config file."""
import copy
import json

import pytest
import yaml

from ansible import constants as C
from ansible.errors import AnsibleError, AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.doc_fragments import constructed, inventory_cache
from ansible.plugins.loader import cache_loader
from ansible.template import Templar

try:  # ansible-core 2.19+: a string is a template only when it is tagged trusted
    from ansible.template import is_trusted_as_template, trust_as_template
except ImportError:  # before 2.19: every string is a template unless it is wrapped as unsafe
    from ansible.utils.unsafe_proxy import AnsibleUnsafe

    def trust_as_template(value):
        return value

    def is_trusted_as_template(value):
        return not isinstance(value, AnsibleUnsafe)

from ansible_collections.spin.platform.plugins.inventory import swarm
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import SwarmClient

NAME = "spin.platform.swarm"


def _register_options():
    """What the plugin loader does from DOCUMENTATION (its fragments are merged by hand: without the
    collection finder the loader cannot resolve ansible.builtin.* fragments)."""
    options = {}
    for fragment in (constructed, inventory_cache):
        options.update(yaml.safe_load(fragment.ModuleDocFragment.DOCUMENTATION)["options"])
    doc = yaml.safe_load(swarm.DOCUMENTATION)
    assert doc["extends_documentation_fragment"] == ["ansible.builtin.constructed", "ansible.builtin.inventory_cache"]
    options.update(doc["options"])
    C.config.initialize_plugin_configuration_definitions("inventory", NAME, options)


_register_options()


# ---- canned Docker API answers ----------------------------------------------------------------

def api_node(node_id, hostname, role="worker", addr="10.0.0.2", labels=None, leader=False, state="ready",
             availability="active"):
    node = {
        "ID": node_id, "Version": {"Index": 10},
        "Spec": {"Labels": labels or {}, "Role": role, "Availability": availability},
        "Description": {"Hostname": hostname, "Platform": {"Architecture": "x86_64", "OS": "linux"},
                        "Engine": {"EngineVersion": "20.10.24+dfsg1"}},
        "Status": {"State": state, "Addr": addr},
    }
    if role == "manager":
        node["ManagerStatus"] = {"Leader": leader, "Reachability": "reachable", "Addr": "10.0.0.1:2377"}
    return node


def api_service(service_id, name, labels, image="httpd", replicas=2, networks=(), ports=(), mode=None):
    spec = {
        "Name": name, "Labels": labels,
        "TaskTemplate": {"ContainerSpec": {"Image": image, "Isolation": "default"},
                         "Networks": [{"Target": n, "Aliases": [name.split("_", 1)[-1]]} for n in networks],
                         "ForceUpdate": 0, "Runtime": "container"},
        "Mode": mode or {"Replicated": {"Replicas": replicas}},
        "EndpointSpec": {"Mode": "dnsrr", "Ports": [dict(p) for p in ports]} if ports else {"Mode": "dnsrr"},
    }
    endpoint = {"Spec": spec["EndpointSpec"]}
    if ports:
        endpoint["Ports"] = [dict(p) for p in ports]
    return {"ID": service_id, "Version": {"Index": 20}, "Spec": spec, "Endpoint": endpoint}


def spin(tenant, stack, service):
    return {"spin.tenant": tenant, "spin.stack": stack, "spin.service": service,
            "com.docker.stack.namespace": stack}


def api_task(task_id, service_id, node_id, slot, state="running", desired="running", addr=None, err=None):
    status = {"State": state, "Message": state}
    if err:
        status["Err"] = err
    task = {"ID": task_id, "ServiceID": service_id, "NodeID": node_id, "Slot": slot, "Status": status,
            "DesiredState": desired, "Labels": {}}
    if addr:
        task["NetworksAttachments"] = [{"Network": {"ID": "netacme"}, "Addresses": [addr]}]
    return task


HOSTPORT = {"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080, "PublishMode": "host"}

NODES = [
    api_node("n1manager", "mgr1", role="manager", addr="0.0.0.0", leader=True, labels={"spin.edge": "true"}),
    api_node("n2worker", "wrk1", addr="10.0.0.2", labels={"zone": "a"}),
    api_node("n3worker", "wrk2", addr="10.0.0.3", labels={"zone": "b"}, availability="drain"),
]
SERVICES = [
    api_service("s1", "shop_web", spin("acme", "shop", "web"), replicas=2, networks=["netacme"], ports=[HOSTPORT]),
    api_service("s2", "shop_db", spin("acme", "shop", "db"), image="mariadb:10.11", replicas=1, networks=["netacme"]),
    api_service("s3", "wiki-2_app", spin("acme", "wiki-2", "app"), replicas=1),
    api_service("s4", "labs_api", spin("globex", "labs", "api"), image="globex/api:1", replicas=3,
                networks=["netglobex"]),
    # not a spin stack: the platform's own load balancer, and a half-labelled service
    api_service("s5", "spin_lb", {"spin.platform": "lb"}, image="spin/haproxy"),
    api_service("s6", "stray", {"spin.tenant": "acme"}),
]
TASKS = [
    api_task("t1", "s1", "n2worker", 1, addr="10.0.9.3/24"),
    api_task("t2", "s1", "n3worker", 2, state="preparing"),
    api_task("t0", "s1", "n3worker", 2, state="shutdown", desired="shutdown"),
    api_task("t3", "s2", "n2worker", 1, state="failed", err="task: non-zero exit (1)"),
    api_task("t4", "s3", "n1manager", 1),
    api_task("t5", "s4", "n2worker", 1), api_task("t6", "s4", "n3worker", 2), api_task("t7", "s4", "n2worker", 3),
]
NETWORKS = {"netacme": {"Id": "netacme", "Name": "shop_default"}, "netglobex": {"Id": "netglobex", "Name": "labs_default"}}


def label_match(obj, labels):
    have = obj["Spec"].get("Labels") or {}
    return all(have.get(k) == v for k, v in (labels or {}).items())


class FakeSwarm:
    """SwarmClient's read methods over canned answers, filtering like Docker does."""

    def __init__(self, nodes=None, services=None, tasks=None, networks=None, honour_labels=True):
        given = {"nodes": nodes, "services": services, "tasks": tasks, "networks": networks}
        canned = {"nodes": NODES, "services": SERVICES, "tasks": TASKS, "networks": NETWORKS}
        self.data = copy.deepcopy({key: canned[key] if value is None else value for key, value in given.items()})
        self.honour_labels = honour_labels
        self.calls = []

    def nodes(self):
        self.calls.append(("nodes",))
        return copy.deepcopy(self.data["nodes"])

    def services(self, labels=None):
        self.calls.append(("services", labels))
        found = [s for s in self.data["services"] if not self.honour_labels or label_match(s, labels)]
        return copy.deepcopy(found)

    def tasks(self, service_ids, desired_state=None):
        service_ids = list(service_ids)
        self.calls.append(("tasks", sorted(service_ids), desired_state))
        return copy.deepcopy([t for t in self.data["tasks"] if t["ServiceID"] in service_ids
                              and (not desired_state or t["DesiredState"] == desired_state)])

    def inspect_network(self, network_id):
        self.calls.append(("inspect_network", network_id))
        return copy.deepcopy(self.data["networks"].get(network_id))


class NoDocker:
    """A client that must not be used: the inventory has to come from the cache."""

    def __getattr__(self, name):
        raise AssertionError("Docker was asked (%s) although the cache holds the answer" % name)


# ---- harness ----------------------------------------------------------------------------------

def make_plugin(client):
    plugin = swarm.InventoryModule()
    plugin._load_name = NAME
    plugin._redirected_names = [NAME]
    plugin.ansible_name = NAME
    plugin.ansible_aliases = [NAME]
    plugin._client = lambda: client
    return plugin


def run(tmp_path, client, use_cache=True, filename="spin_swarm.yml", **config):
    """``use_cache``: what ansible passes to parse(); False means --flush-cache."""
    path = tmp_path / filename
    path.write_text(yaml.safe_dump(dict({"plugin": NAME}, **config)))
    inventory = InventoryData()
    plugin = make_plugin(client)
    plugin.parse(inventory, DataLoader(), str(path), cache=use_cache)
    try:
        plugin.update_cache_if_changed()  # what ansible's auto plugin does after parse()
    except AttributeError:  # no cache configured
        pass
    return inventory


def hosts_of(inventory, group):
    return sorted(h.name for h in inventory.groups[group].get_hosts())


def children_of(inventory, group):
    return sorted(g.name for g in inventory.groups[group].child_groups)


def dump(inventory):
    """Everything the inventory would show: group and host names, memberships and all variables."""
    return json.dumps({
        "groups": {g.name: {"hosts": [h.name for h in g.hosts], "children": [c.name for c in g.child_groups],
                            "vars": g.vars} for g in inventory.groups.values()},
        "hosts": {h.name: dict(h.vars) for h in inventory.hosts.values()},
    }, sort_keys=True, default=str)


# ---- groups and hosts -------------------------------------------------------------------------

def test_every_tenant_nodes_stacks_and_services(tmp_path):
    inv = run(tmp_path, FakeSwarm())
    assert children_of(inv, "spin_nodes") == ["spin_managers", "spin_workers"]
    assert hosts_of(inv, "spin_managers") == ["mgr1"]
    assert hosts_of(inv, "spin_workers") == ["wrk1", "wrk2"]
    assert children_of(inv, "tenant_acme") == ["stack_shop", "stack_wiki_2"]  # '-' made safe
    assert children_of(inv, "tenant_globex") == ["stack_labs"]
    assert hosts_of(inv, "stack_shop") == ["shop_db", "shop_web"]
    assert hosts_of(inv, "stack_wiki_2") == ["wiki-2_app"]
    assert hosts_of(inv, "stack_labs") == ["labs_api"]
    # neither the platform's own service nor the one without spin.stack
    assert "spin_lb" not in inv.hosts and "stray" not in inv.hosts
    assert sorted(inv.hosts) == ["labs_api", "mgr1", "shop_db", "shop_web", "wiki-2_app", "wrk1", "wrk2"]


def test_node_variables(tmp_path):
    inv = run(tmp_path, FakeSwarm())
    mgr, wrk2 = inv.hosts["mgr1"].vars, inv.hosts["wrk2"].vars
    # the leader reports 0.0.0.0 (moby#35437): its manager address stands in
    assert mgr["ansible_host"] == "10.0.0.1" and mgr["spin_node_addr"] == "10.0.0.1"
    assert mgr["spin_node_leader"] is True and mgr["spin_node_role"] == "manager"
    assert mgr["spin_node_labels"] == {"spin.edge": "true"}
    assert mgr["spin_kind"] == "node"
    assert wrk2["ansible_host"] == "10.0.0.3"
    assert {k: wrk2[k] for k in ("spin_node_id", "spin_node_role", "spin_node_availability", "spin_node_state",
                                 "spin_node_engine_version", "spin_node_leader", "spin_node_platform")} == {
        "spin_node_id": "n3worker", "spin_node_role": "worker", "spin_node_availability": "drain",
        "spin_node_state": "ready", "spin_node_engine_version": "20.10.24+dfsg1", "spin_node_leader": False,
        "spin_node_platform": {"os": "linux", "architecture": "x86_64"}}
    assert "ansible_connection" not in wrk2


def test_service_variables(tmp_path):
    inv = run(tmp_path, FakeSwarm())
    web = inv.hosts["shop_web"].vars
    assert (web["spin_kind"], web["spin_tenant"], web["spin_stack"], web["spin_service"]) == \
        ("service", "acme", "shop", "web")
    assert web["spin_service_name"] == "shop_web" and web["spin_service_id"] == "s1"
    assert web["spin_service_image"] == "httpd" and web["spin_service_mode"] == "replicated"
    # 2 desired, one running and one still preparing; the shut-down task is not counted or listed
    assert (web["spin_service_replicas"], web["spin_service_running"]) == (2, 1)
    assert [(t["id"], t["slot"], t["node"], t["state"]) for t in web["spin_service_tasks"]] == [
        ("t1", 1, "wrk1", "running"), ("t2", 2, "wrk2", "preparing")]
    assert web["spin_service_tasks"][0]["addresses"] == ["10.0.9.3/24"]
    assert web["spin_service_ports"] == [{"target": 80, "published": 8080, "protocol": "tcp", "mode": "host"}]
    assert web["spin_service_endpoint_mode"] == "dnsrr"
    assert web["spin_service_networks"] == [{"name": "shop_default", "aliases": ["web"]}]
    assert web["spin_service_labels"]["com.docker.stack.namespace"] == "shop"
    db = inv.hosts["shop_db"].vars
    assert db["spin_service_running"] == 0
    assert db["spin_service_tasks"][0]["error"] == "task: non-zero exit (1)"
    assert "ansible_host" not in db and "ansible_connection" not in db


def test_global_service_and_name_without_service_label(tmp_path):
    labels = {"spin.tenant": "acme", "spin.stack": "mon"}
    services = [api_service("g1", "mon_agent", labels, mode={"Global": {}})]
    tasks = [api_task("a", "g1", "n2worker", None), api_task("b", "g1", "n3worker", None, state="starting")]
    inv = run(tmp_path, FakeSwarm(services=services, tasks=tasks))
    agent = inv.hosts["mon_agent"].vars
    assert agent["spin_service"] == "agent"  # from the name when spin.service is missing
    assert (agent["spin_service_mode"], agent["spin_service_replicas"], agent["spin_service_running"]) == \
        ("global", 2, 1)


def test_tasks_are_read_once_for_all_services_and_networks_once_each(tmp_path):
    client = FakeSwarm()
    run(tmp_path, client)
    assert [c for c in client.calls if c[0] == "tasks"] == [("tasks", ["s1", "s2", "s3", "s4"], "running")]
    assert sorted(c[1] for c in client.calls if c[0] == "inspect_network") == ["netacme", "netglobex"]


def test_services_as_hosts_false_lists_only_nodes(tmp_path):
    inv = run(tmp_path, FakeSwarm(), services_as_hosts=False)
    assert sorted(inv.hosts) == ["mgr1", "wrk1", "wrk2"]
    assert not [g for g in inv.groups if g.startswith(("tenant_", "stack_"))]


@pytest.mark.parametrize("choice, expected", [
    ("addr", "10.0.0.2"), ("hostname", "wrk1"), ("none", None)])
def test_node_ansible_host(tmp_path, choice, expected):
    inv = run(tmp_path, FakeSwarm(), node_ansible_host=choice)
    assert inv.hosts["wrk1"].vars.get("ansible_host") == expected


def test_node_with_a_taken_hostname_is_kept_under_another_name(tmp_path):
    nodes = NODES + [api_node("n4stale0000000000", "wrk1", addr="10.0.0.9", state="down")]
    inv = run(tmp_path, FakeSwarm(nodes=nodes))
    assert hosts_of(inv, "spin_workers") == ["wrk1", "wrk1_n4stale00000", "wrk2"]
    assert inv.hosts["wrk1_n4stale00000"].vars["spin_node_state"] == "down"
    assert inv.hosts["wrk1"].vars["spin_node_id"] == "n2worker"


# ---- tenant scoping (issue 5) -----------------------------------------------------------------

@pytest.mark.parametrize("honour_labels", [True, False], ids=["docker-filters", "filter-ignored"])
def test_tenant_sees_only_its_own_objects(tmp_path, honour_labels):
    client = FakeSwarm(honour_labels=honour_labels)
    inv = run(tmp_path, client, tenant="acme")
    assert ("services", {"spin.tenant": "acme"}) in client.calls  # asked Docker for acme's only
    assert sorted(inv.hosts) == ["shop_db", "shop_web", "wiki-2_app"]
    assert children_of(inv, "tenant_acme") == ["stack_shop", "stack_wiki_2"]
    text = dump(inv)
    for other in ("globex", "labs", "s4", "netglobex", "labs_default", "spin_lb", "stray"):
        assert other not in text
    # other tenants' services are not asked for their tasks or networks either
    assert [c for c in client.calls if c[0] == "tasks"] == [("tasks", ["s1", "s2", "s3"], "running")]
    assert ("inspect_network", "netglobex") not in client.calls


def test_tenant_view_leaves_nodes_out_unless_asked(tmp_path):
    inv = run(tmp_path, FakeSwarm(), tenant="acme")
    assert "spin_nodes" not in inv.groups and "mgr1" not in inv.hosts
    # tasks still name the node they run on
    assert inv.hosts["wiki-2_app"].vars["spin_service_tasks"][0]["node"] == "mgr1"
    inv = run(tmp_path, FakeSwarm(), tenant="acme", include_nodes=True)
    assert hosts_of(inv, "spin_workers") == ["wrk1", "wrk2"]
    assert "globex" not in dump(inv)
    inv = run(tmp_path, FakeSwarm(), include_nodes=False)
    assert "mgr1" not in inv.hosts and "labs_api" in inv.hosts


@pytest.mark.parametrize("tenant", ["", "  ", "acme=x"])
def test_a_blank_tenant_is_refused_not_read_as_every_tenant(tmp_path, tenant):
    client = FakeSwarm()
    with pytest.raises(AnsibleParserError, match="option 'tenant' must name one tenant"):
        run(tmp_path, client, tenant=tenant)
    assert client.calls == []


# ---- constructed ------------------------------------------------------------------------------

def test_keyed_groups_composed_groups_and_compose(tmp_path):
    inv = run(tmp_path, FakeSwarm(),
              keyed_groups=[{"key": "spin_node_labels | default({})", "prefix": "spin_nodes_label"},
                            {"key": "spin_service_image | default('')", "prefix": "image"}],
              groups={"spin_leader": "spin_node_leader | default(false)",
                      "spin_degraded": "spin_kind == 'service' and spin_service_running < spin_service_replicas"},
              compose={"spin_where": "spin_node_addr | default(spin_stack | default(''))"})
    assert hosts_of(inv, "spin_nodes_label_spin_edge_true") == ["mgr1"]
    assert hosts_of(inv, "spin_nodes_label_zone_a") == ["wrk1"]
    assert hosts_of(inv, "spin_nodes_label_zone_b") == ["wrk2"]
    assert hosts_of(inv, "image_httpd") == ["shop_web", "wiki-2_app"]
    assert hosts_of(inv, "image_mariadb_10_11") == ["shop_db"]
    assert hosts_of(inv, "spin_leader") == ["mgr1"]
    assert hosts_of(inv, "spin_degraded") == ["shop_db", "shop_web"]
    assert inv.hosts["wrk1"].vars["spin_where"] == "10.0.0.2"
    assert inv.hosts["labs_api"].vars["spin_where"] == "labs"


def test_no_default_keyed_groups(tmp_path):
    inv = run(tmp_path, FakeSwarm())
    assert not [g for g in inv.groups if "label" in g]


def test_strict_keyed_group_on_a_missing_variable_fails(tmp_path):
    with pytest.raises(AnsibleError, match="spin_node_labels"):
        run(tmp_path, FakeSwarm(), strict=True, keyed_groups=[{"key": "spin_node_labels", "prefix": "x"}])


# ---- values from Docker are never templated ---------------------------------------------------

def test_make_unsafe_strips_trust_everywhere():
    value = {trust_as_template("{{ k }}"): [trust_as_template("{{ a }}"), {"n": trust_as_template("{{ b }}")}],
             "i": 3, "b": True, "none": None}
    out = swarm.make_unsafe(value)
    assert out == {"{{ k }}": ["{{ a }}", {"n": "{{ b }}"}], "i": 3, "b": True, "none": None}
    key = next(k for k in out if k.startswith("{{"))
    assert not is_trusted_as_template(key)
    assert not is_trusted_as_template(out[key][0]) and not is_trusted_as_template(out[key][1]["n"])


@pytest.mark.parametrize("tagged", [False, True], ids=["plain", "tagged-trusted"])
def test_labels_that_look_like_templates_stay_text(tmp_path, tagged):
    # "tagged-trusted": even a client that handed back strings marked trusted must not make them templates
    evil = trust_as_template("{{ 6 * 7 }}") if tagged else "{{ 6 * 7 }}"
    nodes = [api_node("n9", "evil", labels={"note": evil})]
    services = [api_service("e1", "x_y", dict(spin("acme", "x", "y"), note=evil), image=evil)]
    inv = run(tmp_path, FakeSwarm(nodes=nodes, services=services, tasks=[]))
    image = inv.hosts["x_y"].vars["spin_service_image"]
    label = inv.hosts["evil"].vars["spin_node_labels"]["note"]
    assert image == evil and label == evil
    assert not is_trusted_as_template(image) and not is_trusted_as_template(label)
    templar = Templar(loader=DataLoader(), variables={"image": image, "trusted": trust_as_template(evil)})
    assert templar.template(trust_as_template("{{ image }}")) == evil
    # what would happen if it were trusted (before 2.19 the template renders to text)
    assert templar.template(trust_as_template("{{ trusted }}")) in (42, "42")


# ---- cache ------------------------------------------------------------------------------------

def cache_config(tmp_path, **extra):
    return dict({"cache": True, "cache_plugin": "jsonfile", "cache_connection": str(tmp_path / "cache")}, **extra)


def cache_store(tmp_path):
    """The cache as another ansible run would see it (through the loader's key and payload wrapping)."""
    return cache_loader.get("jsonfile", _uri=str(tmp_path / "cache"), _prefix="ansible_inventory_")


def cache_entries(tmp_path):
    store = cache_store(tmp_path)
    return {key: store.get(key) for key in store.keys()}  # noqa: SIM118 - a cache plugin, not a dict


def test_cache_is_written_then_read_instead_of_docker(tmp_path):
    first = run(tmp_path, FakeSwarm(), **cache_config(tmp_path))
    entries = cache_entries(tmp_path)
    assert len(entries) == 1
    (key, stored), = entries.items()
    assert key.startswith("spin.platform.swarm_")
    assert stored["format"] == swarm.CACHE_FORMAT
    assert sorted(s["name"] for s in stored["services"]) == ["labs_api", "shop_db", "shop_web", "wiki-2_app"]
    second = run(tmp_path, NoDocker(), **cache_config(tmp_path))  # a new plugin, so a new reader of the file
    assert dump(second) == dump(first)


def test_flush_cache_reads_docker_and_rewrites_the_cache(tmp_path):
    run(tmp_path, FakeSwarm(), **cache_config(tmp_path))
    fewer = FakeSwarm(services=SERVICES[:1])
    flushed = run(tmp_path, fewer, use_cache=False, **cache_config(tmp_path))  # --flush-cache
    assert ("nodes",) in fewer.calls
    assert sorted(h for h in flushed.hosts if "_" in h) == ["shop_web"]
    again = run(tmp_path, NoDocker(), **cache_config(tmp_path))
    assert sorted(h for h in again.hosts if "_" in h) == ["shop_web"]


def test_cache_entries_are_per_tenant(tmp_path):
    run(tmp_path, FakeSwarm(), **cache_config(tmp_path))
    client = FakeSwarm()
    # same file, now scoped to a tenant: the every-tenant entry must not be served
    inv = run(tmp_path, client, **cache_config(tmp_path, tenant="globex"))
    assert ("services", {"spin.tenant": "globex"}) in client.calls
    assert sorted(inv.hosts) == ["labs_api"]
    entries = list(cache_entries(tmp_path).values())
    assert len(entries) == 2
    tenant_entries = [e for e in entries if len(e["services"]) == 1]
    assert len(tenant_entries) == 1 and "acme" not in json.dumps(tenant_entries[0])
    assert sorted(run(tmp_path, NoDocker(), **cache_config(tmp_path, tenant="globex")).hosts) == ["labs_api"]


def test_cache_entry_of_another_format_is_read_again(tmp_path):
    run(tmp_path, FakeSwarm(), **cache_config(tmp_path))
    (key, data), = cache_entries(tmp_path).items()
    data["format"] = swarm.CACHE_FORMAT + 1
    cache_store(tmp_path).set(key, data)
    client = FakeSwarm()
    run(tmp_path, client, **cache_config(tmp_path))
    assert ("nodes",) in client.calls
    assert cache_entries(tmp_path)[key]["format"] == swarm.CACHE_FORMAT


def test_values_read_back_from_the_cache_are_not_trusted(tmp_path):
    evil = "{{ 6 * 7 }}"
    services = [api_service("e1", "x_y", spin("acme", "x", "y"), image=evil)]
    run(tmp_path, FakeSwarm(services=services, tasks=[]), **cache_config(tmp_path))
    image = run(tmp_path, NoDocker(), **cache_config(tmp_path)).hosts["x_y"].vars["spin_service_image"]
    assert image == evil and not is_trusted_as_template(image)


def test_without_cache_docker_is_read_every_time_and_nothing_written(tmp_path):
    for dummy in range(2):
        client = FakeSwarm()
        run(tmp_path, client, cache_connection=str(tmp_path / "cache"), cache_plugin="jsonfile")
        assert ("nodes",) in client.calls
    assert not (tmp_path / "cache").exists() or cache_entries(tmp_path) == {}


# ---- files and errors -------------------------------------------------------------------------

@pytest.mark.parametrize("name, ok", [
    ("spin_swarm.yml", True), ("acme.spin_swarm.yaml", True), ("docker_swarm.yml", False),
    ("spin_swarm.json", False), ("inventory.yml", False)])
def test_verify_file(tmp_path, name, ok):
    path = tmp_path / name
    path.write_text("plugin: %s\n" % NAME)
    assert make_plugin(FakeSwarm()).verify_file(str(path)) is ok


def test_docker_errors_become_parser_errors(tmp_path):
    class Broken(FakeSwarm):
        def nodes(self):
            raise SpinError("This node is not a swarm manager, so it cannot list the swarm's nodes")

    with pytest.raises(AnsibleParserError) as info:
        run(tmp_path, Broken())
    assert "spin_swarm.yml" in str(info.value) and "not a swarm manager" in str(info.value)


def test_unreachable_engine_is_a_readable_parser_error(tmp_path):
    pytest.importorskip("docker")
    path = tmp_path / "spin_swarm.yml"
    path.write_text("plugin: %s\ndocker_host: unix://%s/nothing.sock\ntimeout: 2\n" % (NAME, tmp_path))
    plugin = swarm.InventoryModule()
    plugin._load_name, plugin._redirected_names, plugin.ansible_name = NAME, [NAME], NAME
    with pytest.raises(AnsibleParserError, match="is not reachable.*Is dockerd running, and is docker_host right"):
        plugin.parse(InventoryData(), DataLoader(), str(path))


def test_wrong_plugin_name_is_refused(tmp_path):
    path = tmp_path / "spin_swarm.yml"
    path.write_text("plugin: community.docker.docker_swarm\n")
    with pytest.raises(AnsibleParserError, match="Incorrect plugin name"):
        make_plugin(FakeSwarm()).parse(InventoryData(), DataLoader(), str(path))


# ---- SwarmClient.nodes() / tasks(): the block added for this plugin ---------------------------

class FakeAPI:
    def __init__(self, tasks, gone=()):
        self._tasks, self.gone, self.calls = tasks, set(gone), []

    def nodes(self):
        return copy.deepcopy(NODES)

    def tasks(self, filters=None):
        self.calls.append(filters)
        docker = pytest.importorskip("docker")
        wanted = filters["service"]
        if isinstance(wanted, str):
            wanted = [wanted]
        missing = [s for s in wanted if s in self.gone]
        if missing:
            raise docker.errors.NotFound("service %s not found" % missing[0])
        state = filters.get("desired-state")
        return [t for t in self._tasks if t["ServiceID"] in wanted and (not state or t["DesiredState"] == state)]


def test_swarm_client_reads_tasks_in_one_call():
    api = FakeAPI(TASKS)
    client = SwarmClient(api=api)
    assert [t["ID"] for t in client.tasks(["s1", "s2"], desired_state="running")] == ["t1", "t2", "t3"]
    assert api.calls == [{"service": ["s1", "s2"], "desired-state": "running"}]
    assert client.tasks([]) == [] and len(api.calls) == 1
    assert [n["ID"] for n in client.nodes()] == ["n1manager", "n2worker", "n3worker"]


def test_swarm_client_asks_each_service_when_one_is_gone():
    api = FakeAPI(TASKS, gone=["s9"])
    client = SwarmClient(api=api)
    assert [t["ID"] for t in client.tasks(["s1", "s9", "s4"], desired_state="running")] == ["t1", "t2", "t5", "t6", "t7"]
    assert api.calls[0] == {"service": ["s1", "s9", "s4"], "desired-state": "running"}
    assert [c["service"] for c in api.calls[1:]] == ["s1", "s9", "s4"]


# ---- TLS and ssh:// options -> what the SDK is given ----------------------------------------------

def test_plain_tcp_and_unix_get_no_tls():
    assert swarm.tls_config("tcp://10.0.0.5:2375", {}) is None
    assert swarm.tls_config("unix:///var/run/docker.sock", {"tls": False, "validate_certs": False}) is None


@pytest.mark.parametrize("docker_host, options, said", [
    ("tcp://m:2376", {"ca_path": "/ca.pem"}, "ca_path set but neither tls nor validate_certs"),
    ("tcp://m:2376", {"client_cert": "/c", "client_key": "/k"}, "client_cert and client_key set but neither"),
    ("tcp://m:2376", {"tls": True, "ca_path": "/ca.pem"}, "ca_path is set but validate_certs is not"),
    ("tcp://m:2376", {"validate_certs": True, "client_cert": "/c"}, "client_cert and client_key go together"),
    ("ssh://admin@m", {"validate_certs": True}, "not ssh://admin@m"),
    ("unix:///var/run/docker.sock", {"tls": True}, "for a tcp:// docker_host"),
])
def test_tls_options_that_would_do_less_than_asked_are_refused(docker_host, options, said):
    with pytest.raises(swarm.TLSOptionError, match=said):
        swarm.tls_config(docker_host, options)


def test_validate_certs_checks_against_the_ca_and_shows_the_client_pair(tmp_path):
    pytest.importorskip("docker")
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("PEM\n")
    config = swarm.tls_config("tcp://m:2376", {"validate_certs": True, "ca_path": str(tmp_path / "ca.pem"),
                                               "client_cert": str(tmp_path / "cert.pem"),
                                               "client_key": str(tmp_path / "key.pem")})
    assert config.verify == str(tmp_path / "ca.pem")
    assert config.cert == (str(tmp_path / "cert.pem"), str(tmp_path / "key.pem"))
    # tls alone: encrypted, nothing checked
    assert swarm.tls_config("tcp://m:2376", {"tls": True}).verify is False
    # validate_certs without a CA: the controller's trusted CAs
    assert swarm.tls_config("tcp://m:2376", {"validate_certs": True}).verify is True


def test_a_missing_certificate_file_is_a_readable_parser_error(tmp_path):
    pytest.importorskip("docker")
    path = tmp_path / "spin_swarm.yml"
    path.write_text(yaml.safe_dump({"plugin": NAME, "docker_host": "tcp://127.0.0.1:9", "validate_certs": True,
                                    "ca_path": str(tmp_path / "nope.pem")}))
    plugin = swarm.InventoryModule()
    plugin._load_name, plugin._redirected_names, plugin.ansible_name = NAME, [NAME], NAME
    with pytest.raises(AnsibleParserError, match=r"spin_swarm.yml: ca_path: .*nope.pem is not a file"):
        plugin.parse(InventoryData(), DataLoader(), str(path))


def test_the_options_reach_the_client(tmp_path, monkeypatch):
    made = []

    def client(**kwargs):
        made.append(kwargs)
        return FakeSwarm()

    monkeypatch.setattr(swarm, "SwarmClient", client)
    path = tmp_path / "spin_swarm.yml"
    path.write_text(yaml.safe_dump({"plugin": NAME, "docker_host": "ssh://admin@m1", "use_ssh_client": True}))
    plugin = swarm.InventoryModule()
    plugin._load_name, plugin._redirected_names, plugin.ansible_name = NAME, [NAME], NAME
    plugin.parse(InventoryData(), DataLoader(), str(path))
    assert made == [{"docker_host": "ssh://admin@m1", "timeout": 60, "tls": None, "use_ssh_client": True}]


def test_the_ca_of_the_tls_options_wins_over_requests_ca_bundle(tmp_path, monkeypatch):
    # requests would let REQUESTS_CA_BUNDLE replace the session's CA on every request (set on this machine)
    docker = pytest.importorskip("docker")
    from ansible_collections.spin.platform.plugins.module_utils.engine import swarm as swarm_utils
    ca = tmp_path / "ca.pem"
    ca.write_text("PEM\n")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    api = swarm_utils._APIClient(base_url="tcp://127.0.0.1:9", version="1.41",
                                 tls=docker.tls.TLSConfig(ca_cert=str(ca), verify=str(ca)))
    assert api.merge_environment_settings("https://127.0.0.1:9/version", {}, False, None, None)["verify"] == str(ca)
    plain = docker.APIClient(base_url="tcp://127.0.0.1:9", version="1.41",
                             tls=docker.tls.TLSConfig(ca_cert=str(ca), verify=str(ca)))
    assert plain.merge_environment_settings("https://127.0.0.1:9/version", {}, False, None, None)["verify"] \
        == "/etc/ssl/certs/ca-certificates.crt"  # what the subclass is for
    unchecked = swarm_utils._APIClient(base_url="tcp://127.0.0.1:9", version="1.41", tls=docker.tls.TLSConfig(verify=False))
    assert unchecked.merge_environment_settings("https://127.0.0.1:9/version", {}, False, None, None)["verify"] is False
    local = swarm_utils._APIClient(base_url="unix:///var/run/docker.sock", version="1.41")
    assert local.merge_environment_settings("http+docker://localhost/version", {}, False, None, None)["verify"] \
        == "/etc/ssl/certs/ca-certificates.crt"  # no TLS options: requests' own behaviour
