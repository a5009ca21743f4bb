"""lb.py with a fake Docker client: claims, stack networks, stored routes, checking, syncing an edge node."""
import base64
import json
import os
import re

import pytest

from ansible_collections.spin.platform.plugins.module_utils.deploy import lb_provision
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, haproxy_cfg, lb, lb_node
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

PLATFORM = {"edge_service": "edge", "network_prefix": "lb-", "ports": [80, 443, "8000-8002"],
            "certificates": [{"name": "wild", "file": "/etc/spin/wild.pem"}]}


class FakeClient(object):
    """The calls lb.py makes, on in-memory objects."""

    def __init__(self):
        self.configs_by_id = {}
        self.networks_list = []
        self.services_list = []
        self.running = []
        self.index = 0
        self.checks = []
        self.check_result = (0, "Configuration file is valid\n")
        self.removed = []
        self.has_image = True

    # configs
    def configs(self, labels=None):
        return [c for c in self.configs_by_id.values()
                if all((c["Spec"]["Labels"] or {}).get(k) == v for k, v in (labels or {}).items())]

    def create_config(self, name, data, labels=None):
        if any(c["Spec"]["Name"] == name for c in self.configs_by_id.values()):
            raise SpinError("Docker refused to create config '%s': config already exists" % name, status_code=409)
        self.index += 1
        cid = "c%d" % self.index
        self.configs_by_id[cid] = {"ID": cid, "Version": {"Index": self.index},
                                   "Spec": {"Name": name, "Labels": dict(labels or {}),
                                            "Data": base64.b64encode(data).decode("ascii")}}
        return cid

    def remove_config(self, config_id):
        self.removed.append(self.configs_by_id.pop(config_id)["Spec"]["Name"])

    def find_config(self, name):
        return next((c for c in self.configs_by_id.values() if c["Spec"]["Name"] == name), None)

    # networks, services, containers
    def networks(self, labels=None):
        return [n for n in self.networks_list
                if all((n.get("Labels") or {}).get(k) == v for k, v in (labels or {}).items())]

    def find_network(self, name):
        return next((n for n in self.networks_list if n["Name"] == name), None)

    def create_network(self, name, driver="overlay", attachable=False, labels=None, **dummy):
        self.networks_list.append({"Name": name, "Id": "id-" + name, "Driver": driver, "Labels": labels,
                                   "Attachable": attachable})
        return "id-" + name

    def remove_network(self, network_id):
        self.networks_list = [n for n in self.networks_list if n["Id"] != network_id]

    def services(self, labels=None):
        return self.services_list

    def containers(self, labels=None, status=None, every=False):
        return self.running

    # checking
    def inspect_image(self, name):
        return {"Config": {"Labels": {"spin.recipe": "r"}}} if self.has_image else None

    def exec_in(self, container_id, argv, files=None, directory="/tmp"):
        if argv[0] == "spin-edge-check":
            self.checks.append(("exec", argv, files))
            return self.check_result
        return 0, ""

    def run_once(self, image, argv, files=None, **kwargs):
        self.checks.append(("once", image, argv, files))
        return self.check_result


def platform(**extra):
    return haproxy.normalise_platform(dict(PLATFORM, **extra))


def routes(tenant, stack, *rules, **kwargs):
    return haproxy.stack_routes(tenant, stack, load_balancers={"lb": {"port_rules": list(rules)}} if rules else None,
                                platform=platform(), **kwargs)


def rule(hostname=None, port=80, path=None, protocol="http", service="web"):
    return {"source_port": port, "target_port": 80, "service": service, "hostname": hostname, "path": path,
            "priority": None, "protocol": protocol}


def held(stack, *rules, tenant="other"):
    return routes(tenant, stack, *rules)


def stored_docs(client):
    return {stack: entry["doc"] for stack, entry in lb.stored_routes(client, platform()).items()}


def seed_stack(client, tenant, stack, *rules):
    plan = lb.plan_stack_routes(client, tenant, stack, load_balancers={"lb": {"port_rules": list(rules)}},
                                platform=platform())
    lb.store_stack_routes(client, plan["routes"], platform())
    return plan


# ---- claims (pure) ----------------------------------------------------------------------------

@pytest.mark.parametrize("mine, others, fragment", [
    ([rule("www.example.org")], [held("magic", rule("www.example.org", port=8000), tenant="cory")],
     "hostname 'www.example.org' is held by stack 'magic' (tenant 'cory')"),
    ([rule("a.example.org")], [held("magic", rule("*.example.org"))],
     "hostname 'a.example.org' overlaps '*.example.org', held by stack 'magic'"),
    ([rule("*.example.org")], [held("magic", rule("a.b.example.org"))],
     "hostname '*.example.org' overlaps 'a.b.example.org'"),
    ([rule("a.example.org")], [held("magic", rule())], "port 80 is held by stack 'magic'"),
    ([rule()], [held("magic", rule("x.org"))],
     "port 80 is held by stack 'magic' (tenant 'other') (for hostname 'x.org'; a rule without a hostname takes"),
    ([rule(port=8000, protocol="tcp")], [held("magic", rule(port=8000))],
     "port 8000 is served as http by stack 'magic'"),
    ([rule("a.org", port=443, protocol="https")], [held("magic", rule("b.org", port=443))],
     "port 443 is served as http by stack 'magic'"),
])
def test_claims_refused(mine, others, fragment):
    doc = routes("me", "mine", *mine)
    with pytest.raises(SpinError) as err:
        lb.check_claims(doc, others)
    assert fragment in err.value.message
    assert err.value.message.startswith("rule 1 of stack 'mine' (load balancer 'lb' lb_config.port_rules[0]): ")
    assert "nothing was changed" in err.value.message
    assert len(err.value.details["conflicts"]) == 1


@pytest.mark.parametrize("mine, others", [
    ([rule("a.org")], [held("magic", rule("b.org"))]),                   # two names share port 80
    ([rule("a.org", path="/x")], [held("mine", rule("a.org"))]),          # the stack's own old routes
    ([rule("a.example.org")], [held("magic", rule("*.other.org"))]),
    ([rule(port=8001)], [held("magic", rule(port=8000))]),
    ([rule("x.org", port=443, protocol="https")], [held("magic", rule("y.org", port=443, protocol="https"))]),
])
def test_claims_allowed(mine, others):
    lb.check_claims(routes("me", "mine", *mine), others)


# ---- claims in Swarm: the first stored holds ------------------------------------------------------

def test_a_stack_gets_a_network_of_its_own_made_after_its_claim():
    client = FakeClient()
    plan = seed_stack(client, "cory", "magic", rule("www.example.org"))
    assert plan["network"] == "lb-magic" and plan["network_created"]
    net = client.find_network("lb-magic")
    assert net["Attachable"] and net["Labels"] == {lb.L_EDGE: "edge", lb.L_KIND: "stack-network",
                                                   lb.L_TENANT: "cory", lb.L_STACK: "magic"}
    plan2 = seed_stack(client, "bob", "seed", rule("www.example.com"))
    assert plan2["network"] == "lb-seed"


def test_a_network_of_that_name_that_is_not_the_stacks_is_refused():
    client = FakeClient()
    client.create_network("lb-magic", labels={"someone": "else"}, attachable=True)
    with pytest.raises(SpinError, match="network 'lb-magic' exists but is not the load balancer network of stack"):
        lb.ensure_stack_network(client, platform(), "cory", "magic")


def race(client, first, second):
    """Two deploys that both passed the early check, then both store their claim: ``first`` is
    stored first (a lower raft index); each then checks against everything stored."""
    docs = []
    for tenant, stack, r in (first, second):
        doc = routes(tenant, stack, r)
        doc["network"] = "lb-" + stack
        docs.append(doc)
    ids = [lb._create_routes_config(client, platform(), d) for d in docs]
    outcomes = []
    for doc, config_id in zip(docs, ids):
        stored = lb.stored_routes(client, platform())
        own = next(idx for idx, version in stored[doc["stack"]]["versions"] if version == doc)
        outcomes.append(not lb.claim_holds(stored, doc["stack"], own))
    return outcomes


@pytest.mark.parametrize("mine, theirs", [
    (rule(port=8000), rule(port=8000)),                      # one unconditional port
    (rule("www.example.org"), rule("www.example.org")),      # one hostname
    (rule("*.example.org"), rule("a.example.org")),          # overlapping names
    (rule(port=8001), rule("x.example.org", port=8001)),     # whole port against a hostname on it
])
def test_of_two_racing_claims_exactly_the_first_stored_wins(mine, theirs):
    client = FakeClient()
    assert race(client, ("cory", "magic", mine), ("bob", "seed", theirs)) == [True, False]


def test_the_loser_of_a_race_takes_its_claim_back_and_names_the_holder():
    client = FakeClient()
    racer = routes("cory", "magic", rule(port=8000))
    racer["network"] = "lb-magic"
    create = client.create_config

    def racing_create(name, data, labels=None):
        if labels.get(lb.L_STACK) == "seed":
            # the other deploy stores its claim after our early check, a moment before ours
            lb._create_routes_config(client, platform(), racer)
        return create(name, data, labels)
    client.create_config = racing_create
    mine = routes("bob", "seed", rule(port=8000))
    mine["network"] = "lb-seed"
    with pytest.raises(SpinError) as err:
        lb.claim_stack_routes(client, mine, platform())
    assert "port 8000 is held by stack 'magic' (tenant 'cory')" in err.value.message
    assert "nothing was changed" in err.value.message
    assert sorted(stored_docs(client)) == ["magic"]  # ours was taken back


def test_a_held_claim_beats_a_newer_conflicting_one_and_a_redeploy_keeps_its_own():
    client = FakeClient()
    seed_stack(client, "cory", "magic", rule(port=8000))
    # a racer slipped past the early check: stored later, it does not hold
    racer = routes("bob", "seed", rule(port=8000))
    racer["network"] = "lb-seed"
    lb._create_routes_config(client, platform(), racer)
    # magic redeploys with one more route: the racer's claim does not beat magic's held one
    again = lb.plan_stack_routes(client, "cory", "magic", load_balancers={"lb": {"port_rules": [
        rule(port=8000), rule(port=8001)]}}, platform=platform())
    assert again["claim"]["config"]
    stored = lb.stored_routes(client, platform())
    own = next(idx for idx, v in stored["magic"]["versions"] if v == again["routes"])
    assert lb.claim_holds(stored, "magic", own) == []
    seed_index = stored["seed"]["versions"][0][0]
    assert lb.claim_holds(stored, "seed", seed_index)


def test_check_mode_claims_nothing():
    client = FakeClient()
    plan = lb.plan_stack_routes(client, "cory", "magic", load_balancers={"lb": {"port_rules": [rule("a.org")]}},
                                platform=platform(), check_mode=True)
    assert plan["network"] == "lb-magic" and plan["claim"] is None
    assert client.configs() == [] and client.networks_list == []


def test_a_failed_deploy_takes_its_claim_back_and_an_older_version_stays():
    client = FakeClient()
    first = seed_stack(client, "cory", "magic", rule("a.org"))
    plan = lb.plan_stack_routes(client, "cory", "magic", load_balancers={"lb": {"port_rules": [rule("b.org")]}},
                                platform=platform())
    assert stored_docs(client)["magic"] == plan["routes"]  # served from the start of the deploy
    lb.release_claim(client, plan["claim"])
    assert stored_docs(client)["magic"] == first["routes"]


def test_a_stack_name_held_by_another_tenant_is_refused():
    client = FakeClient()
    seed_stack(client, "cory", "magic", rule("a.org"))
    with pytest.raises(SpinError, match="stack 'magic' belongs to tenant 'cory' on the load balancer"):
        lb.plan_stack_routes(client, "bob", "magic", load_balancers={"lb": {"port_rules": [rule("b.org")]}},
                             platform=platform())


# ---- plan, store, drop ------------------------------------------------------------------------

def test_plan_store_and_read_back():
    client = FakeClient()
    plan = seed_stack(client, "cory", "magic", rule("www.example.org"), rule("www.example.org", path="/api",
                                                                             service="api"))
    assert plan["network"] == "lb-magic" and plan["public_services"] == ["api", "web"]
    assert plan["routes"]["network"] == "lb-magic"
    assert "use_backend magic:api:80" in plan["config"]()
    kind, image, argv, files = client.checks[-1]
    assert kind == "once" and image == "spin/haproxy:2.6"
    # an empty crt-list for the HTTPS frontend, then placeholders for the platform's certificates
    assert argv[3:] == ["/var/lib/spin/edge/certs/crt-list", argv[4], "spin-cert-wild.pem"]
    assert list(files.values()) == [plan["config"]()]
    config = client.configs(labels={lb.L_KIND: "routes"})[0]
    assert config["Spec"]["Labels"] == {lb.L_EDGE: "edge", lb.L_KIND: "routes", lb.L_TENANT: "cory",
                                        lb.L_STACK: "magic", lb.L_NETWORK: "lb-magic"}
    assert "spin.stack" not in config["Spec"]["Labels"]  # spin_stack would prune it
    assert json.loads(base64.b64decode(config["Spec"]["Data"])) == plan["routes"]
    assert stored_docs(client) == {"magic": plan["routes"]}


def test_store_again_is_no_change_and_a_change_replaces_the_config():
    client = FakeClient()
    plan = seed_stack(client, "cory", "magic", rule("www.example.org"))
    assert lb.store_stack_routes(client, plan["routes"], platform()) is False
    plan2 = lb.plan_stack_routes(client, "cory", "magic", load_balancers={"lb": {"port_rules": [rule("w.example.org")]}},
                                 platform=platform())
    assert plan2["network"] == "lb-magic"
    assert stored_docs(client)["magic"] == plan2["routes"]  # the claim is stored first ...
    assert len(client.configs(labels={lb.L_KIND: "routes"})) == 2  # ... beside the old version
    assert lb.store_stack_routes(client, plan2["routes"], platform()) is True
    assert stored_docs(client)["magic"] == plan2["routes"]
    assert len(client.configs(labels={lb.L_KIND: "routes"})) == 1


def test_second_tenant_claiming_a_held_hostname_is_refused_and_nothing_changes():
    client = FakeClient()
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    before = json.dumps(client.configs(), sort_keys=True)
    with pytest.raises(SpinError) as err:
        lb.plan_stack_routes(client, "bob", "seed", load_balancers={"lb": {"port_rules": [rule("www.example.org")]}},
                             platform=platform())
    assert "hostname 'www.example.org' is held by stack 'magic' (tenant 'cory')" in err.value.message
    assert json.dumps(client.configs(), sort_keys=True) == before


def test_invalid_config_is_refused_naming_the_rule():
    client = FakeClient()
    plan = lb.plan_stack_routes(client, "cory", "magic", load_balancers={"lb": {"port_rules": [rule("a.org")]}},
                                platform=platform(), validate=False)
    line = plan["config"]().split("\n").index(next(x for x in plan["config"]().split("\n") if "use_backend" in x)) + 1
    client.check_result = (1, "[ALERT]    (1) : config : parsing [/tmp/spin-check-1.cfg:%d] : bad ACL\n"
                              "[ALERT]    (1) : config : Fatal errors found in configuration.\n" % line)
    with pytest.raises(SpinError) as err:
        lb.plan_stack_routes(client, "cory", "magic", load_balancers={"lb": {"port_rules": [rule("a.org")]}},
                             platform=platform())
    assert "HAProxy refused the new configuration (haproxy -c in a one-off container of spin/haproxy:2.6)" in \
        err.value.message
    assert "rule 1 of stack 'magic' (load balancer 'lb' lb_config.port_rules[0])" in err.value.message
    assert err.value.details["haproxy_errors"][0].endswith("bad ACL")


def test_check_runs_in_the_local_edge_container_when_there_is_one():
    client = FakeClient()
    client.running = [{"Id": "abcdef0123456789", "Created": 1}]
    lb.validate_config(client, "global\n", platform())
    kind, argv, files = client.checks[-1]
    assert kind == "exec" and argv[0] == "spin-edge-check" and len(argv) == 2  # the real certificates


def test_drop_frees_the_claims_and_refuses_another_tenant():
    client = FakeClient()
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    with pytest.raises(SpinError, match="stack 'magic' belongs to tenant 'cory' on the load balancer, not to 'bob'"):
        lb.drop_stack_routes(client, "bob", "magic", platform())
    assert lb.drop_stack_routes(client, "cory", "magic", platform(), check_mode=True) is True
    # the routes document and the certificate the platform issued for www.example.org (issue 20)
    assert sorted(c["Spec"]["Labels"]["spin.lb.kind"] for c in client.configs()) == ["certificate", "routes"]
    assert lb.drop_stack_routes(client, "cory", "magic", platform()) is True
    assert client.configs() == []
    assert lb.drop_stack_routes(client, "cory", "magic", platform()) is False
    assert seed_stack(client, "bob", "seed", rule("www.example.org"))["network"] == "lb-seed"


def test_storing_no_routes_drops_the_stack():
    client = FakeClient()
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    empty = haproxy.stack_routes("cory", "magic", platform=platform())
    assert lb.store_stack_routes(client, empty, platform()) is True
    assert client.configs() == []


def test_stored_routes_of_another_version_are_refused():
    client = FakeClient()
    client.create_config("edge.routes.x.1", json.dumps({"version": 99}).encode(),
                         {lb.L_EDGE: "edge", lb.L_KIND: "routes", lb.L_STACK: "x"})
    with pytest.raises(SpinError, match="have version 99"):
        lb.stored_routes(client, platform())


def test_routes_of_another_edge_are_not_seen():
    client = FakeClient()
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    assert lb.stored_routes(client, platform(edge_service="other")) == {}


# ---- the edge node ----------------------------------------------------------------------------

class FakeNode(lb_node.EdgeNode):
    """An EdgeNode on a temporary directory whose HAProxy master is simulated."""

    def __init__(self, p, running=True, fail_reload=False):
        super(FakeNode, self).__init__(p, sleep=lambda s: None)
        self.is_running = running
        self.fail_reload = fail_reload
        self.reloads = 0
        self.workers = [7]
        self.commands = []

    def _ask(self, sock_path, command, timeout=5.0):
        self.commands.append((os.path.basename(sock_path), command))
        if not self.is_running:
            raise OSError("no master")
        if command == "reload":
            self.reloads += 1
            if not self.fail_reload:
                self.workers = [self.workers[0] + 10]
            return ""
        if command == "show servers state":
            return "1\n# be_id be_name\n"
        failed = self.reloads if self.fail_reload else 0
        return ("#<PID> <type> <reloads> <uptime> <version>\n1 master %d [failed: %d] 0d00h00m01s 2.6\n# workers\n"
                "%s\n# old workers\n# programs\n" % (self.reloads, failed, "\n".join(
                    "%d worker 0 0d00h00m01s 2.6" % w for w in self.workers)))


@pytest.mark.parametrize("text, expected", [
    ("#<PID> <type> <reloads> <uptime> <version>\n1 master 3 [failed: 1] 0d 2.6\n# workers\n19 worker 0 0d 2.6\n"
     "# old workers\n7 worker 1 0d 2.6\n# programs\n",
     {"master": {"pid": 1, "reloads": 3, "failed": 1}, "workers": [19], "old_workers": [7]}),
    ("1               master          0               0d00h00m08s     2.6.12-1\n# workers\n8 worker 0 0d 2.6\n",
     {"master": {"pid": 1, "reloads": 0, "failed": 0}, "workers": [8], "old_workers": []}),
    ("", {"master": None, "workers": [], "old_workers": []}),
])
def test_parse_show_proc(text, expected):
    assert lb_node.parse_show_proc(text) == expected


def test_sync_writes_checks_reloads_then_does_nothing(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    client = FakeClient()
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    node = FakeNode(p)
    result = lb_node.sync_edge(client, p, node=node)
    assert result["changed"] and result["reloaded"] and result["stacks"] == ["magic"]
    assert ("admin.sock", "show servers state") in node.commands and ("master.sock", "reload") in node.commands
    text = (tmp_path / "edge" / "haproxy.cfg").read_text()
    assert "use_backend magic:web:80" in text and "'admin:pw'" in text
    assert oct((tmp_path / "edge" / "haproxy.cfg").stat().st_mode & 0o777) == "0o600"
    assert (tmp_path / "edge" / "run" / "servers.state").read_text().startswith("1\n")
    assert "pw" not in result["diff"]["after"]
    node.commands = []
    again = lb_node.sync_edge(client, p, node=node)
    assert not again["changed"] and not again["reloaded"] and node.commands == []


def test_sync_in_check_mode_checks_but_writes_nothing(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"))
    client = FakeClient()
    result = lb_node.sync_edge(client, p, check_mode=True, node=FakeNode(p))
    assert result["changed"] and not result["reloaded"]
    assert not (tmp_path / "edge").exists()  # not even the generated stats password
    assert len(client.checks) == 1


def test_sync_with_an_invalid_config_keeps_the_old_file(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    client = FakeClient()
    node = FakeNode(p)
    lb_node.sync_edge(client, p, node=node)
    old = (tmp_path / "edge" / "haproxy.cfg").read_text()
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    client.check_result = (1, "[ALERT]    (1) : config : something\n")
    with pytest.raises(SpinError, match="HAProxy refused the new configuration"):
        lb_node.sync_edge(client, p, node=node)
    assert (tmp_path / "edge" / "haproxy.cfg").read_text() == old


def test_failed_reload_puts_the_old_file_back(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    client = FakeClient()
    lb_node.sync_edge(client, p, node=FakeNode(p, running=False))
    old = (tmp_path / "edge" / "haproxy.cfg").read_text()
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    with pytest.raises(SpinError, match="could not load the new configuration"):
        lb_node.sync_edge(client, p, node=FakeNode(p, fail_reload=True))
    assert (tmp_path / "edge" / "haproxy.cfg").read_text() == old


def test_without_the_image_check_mode_skips_the_check_and_a_real_run_says_what_to_do(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    client = FakeClient()
    client.has_image = False
    assert lb_node.sync_edge(client, p, check_mode=True, node=FakeNode(p))["changed"]
    with pytest.raises(SpinError, match="image 'spin/haproxy:2.6' is not on this node.*images role"):
        lb_node.sync_edge(client, p, node=FakeNode(p))
    assert not (tmp_path / "edge" / "haproxy.cfg").exists()


def test_sync_without_a_running_edge_only_writes(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"), stats_password="pw")
    result = lb_node.sync_edge(FakeClient(), p, node=FakeNode(p, running=False))
    assert result["changed"] and not result["reloaded"]


def test_generated_stats_password_is_kept(tmp_path):
    p = platform(config_dir=str(tmp_path / "edge"))
    first = lb_node.EdgeNode(p).stats_password()
    assert len(first) == 32 and lb_node.EdgeNode(p).stats_password() == first
    assert oct((tmp_path / "edge" / "stats.password").stat().st_mode & 0o777) == "0o600"


# ---- provisioning parameters -------------------------------------------------------------------

def test_edge_container_spec():
    p = platform()
    spec = lb_provision.edge_container_spec(p, "sha256:img", "abc")
    assert spec["ports"] == {80: 80, 443: 443, 8000: 8000, 8001: 8001, 8002: 8002}
    assert spec["binds"] == ["/var/lib/spin/edge:/var/lib/spin/edge:rw",
                             "/etc/spin/wild.pem:/run/secrets/spin-cert-wild.pem:ro"]
    assert spec["command"] == ["/var/lib/spin/edge"] and spec["stop_signal"] == "SIGUSR1"
    assert spec["labels"][lb.L_RECIPE] == "abc" and spec["labels"]["spin.role"] == "edge"
    # the spec label changes with what needs a new container, and only then
    assert lb_provision.edge_container_spec(p, "sha256:img")["labels"]["spin.lb.spec"] == spec["labels"]["spin.lb.spec"]
    assert lb_provision.edge_container_spec(platform(ports=[80]), "sha256:img")["labels"]["spin.lb.spec"] != \
        spec["labels"]["spin.lb.spec"]
    stats = lb_provision.stats_service_params(p)
    assert stats["name"] == "edge_stats" and stats["networks"] == [{"name": "host", "aliases": []}]
    assert stats["command"] == ["TCP-LISTEN:8404,bind=127.0.0.1,fork,reuseaddr",
                                "UNIX-CONNECT:/var/lib/spin/edge/run/stats.sock"]
    assert stats["publish"] == []


def test_joining_a_network_is_tried_again_when_the_swarm_is_slow():
    calls = []

    class Client(object):
        def connect_network(self, network, container_id):
            calls.append(network)
            if len(calls) < 3:
                raise SpinError("Docker refused to connect container: attaching to network failed, make sure your "
                                "network options are correct and check manager logs: context deadline exceeded")
    lb_node._connect(Client(), "lb-magic", "c1", sleep=lambda s: None)
    assert calls == ["lb-magic"] * 3

    class Refusing(object):
        def connect_network(self, network, container_id):
            calls.append(network)
            raise SpinError("Docker refused: network lb-x not found")
    calls[:] = []
    with pytest.raises(SpinError, match="not found"):
        lb_node._connect(Refusing(), "lb-x", "c1", sleep=lambda s: None)
    assert calls == ["lb-x"]  # no point in asking again


# ---- the names on a stack's load balancer network (issue 17) ---------------------------------

def _stack_tasks(stack, service, aliases, hostname=None, route_host=None):
    """What the translator hands spin_stack: one service with the tenant's own aliases and host name."""
    return {"services": [{"name": "%s_%s" % (stack, service), "labels": {"spin.service": service},
                          "networks": [{"name": stack + "_default", "aliases": list(aliases)}],
                          "hostname": hostname, "replicas": 1}],
            "endpoints": [{"service": "%s_%s" % (stack, service), "compose_service": service, "target": 80,
                           "published": 80, "protocol": "tcp", "hostname": route_host, "key": "x-spin.route"}],
            "load_balancers": {}, "health_checks": {}, "files": {"compose": "docker-compose.yml"}}


def _names_on(network, service):
    """Every name Swarm's DNS answers for ``service``'s tasks on ``network``: the service's name and the
    attachment's aliases (each also as tasks.<name>), and the container's host name as it is."""
    names = {service["hostname"]} if service.get("hostname") else set()
    for attachment in service["networks"]:
        if attachment["name"] == network:
            for name in [service["name"]] + list(attachment["aliases"]):
                names |= {name, "tasks." + name}
    return names


def test_no_name_a_tenant_writes_reaches_the_names_the_edge_resolves():
    """eve names a public service after cory's Swarm service (magic_web) and gives it aliases: the edge
    resolves cory's backend by a name that none of eve's names on her load balancer network equals."""
    from ansible_collections.spin.platform.plugins.modules import spin_stack
    client = FakeClient()
    params = {"lb_platform": platform(), "platform": {}}
    victim = _stack_tasks("magic", "web", ["web", "www"], route_host="web.magic.cory.localhost")
    impostor = _stack_tasks("evil", "magic_web", ["magic_web", "tasks.magic_web", "web"],
                            hostname="www.evil.eve.localhost", route_host="magic-web.evil.eve.localhost")
    for tenant, stack, tasks in (("eve", "evil", impostor), ("cory", "magic", victim)):
        spin_stack.plan_routes(client, dict(params, tenant=tenant, stack=stack), tasks, False)
    text = haproxy_cfg.render(lb.claim_order(lb.stored_routes(client, platform())), platform())
    resolved = {}  # stack -> the name its backend's servers are resolved by
    for block in text.split("\nbackend ")[1:]:
        found = re.search(r"server-template \S+ \d+ (\S+):\d+", block)
        if found:
            resolved[block.split(":", 1)[0]] = found.group(1)
    assert set(resolved) == {"evil", "magic"}
    victims = _names_on("lb-magic", victim["services"][0])
    impostors = _names_on("lb-evil", impostor["services"][0])
    assert resolved["magic"] in victims  # the edge finds cory's tasks ...
    assert resolved["magic"] not in impostors  # ... and no name of eve's is that name
    assert resolved["evil"] in impostors
    # only the platform's alias is on the load balancer network; the tenant's stay on its own networks
    lb_attachment = [n for n in victim["services"][0]["networks"] if n["name"] == "lb-magic"]
    assert lb_attachment == [{"name": "lb-magic", "aliases": [haproxy.backend_alias("cory", "magic", "web")]}]
    assert victim["services"][0]["networks"][0] == {"name": "magic_default", "aliases": ["web", "www"]}


def test_moving_a_stack_off_the_pool_gives_its_services_the_platform_alias_only():
    """The pool design's stacks move to a network of their own: their public services join it with
    the platform's alias (what the edge resolves), and the stored routes name that alias."""
    class PoolClient(FakeClient):
        def __init__(self):
            super().__init__()
            self.updates = []

        def find_service(self, name):
            return {"ID": "s1", "Version": {"Index": 7}, "Spec": {
                "Name": name, "TaskTemplate": {"Networks": [{"Target": "id-magic_default", "Aliases": ["web"]}]}}} \
                if name == "magic_web" else None

        def update_service(self, service_id, version, spec):
            self.updates.append(spec)

        def remove_service(self, service_id):
            pass

    client = PoolClient()
    legacy = routes("cory", "magic", rule("a.org"))
    del legacy["aliases"], legacy["route_domain"]
    legacy["network"] = "lb-00"
    lb._create_routes_config(client, platform(), legacy)
    assert lb_provision.migrate_pool(client, platform())["stacks"] == ["magic"]
    alias = haproxy.backend_alias("cory", "magic", "web")
    assert client.updates[0]["TaskTemplate"]["Networks"] == [
        {"Target": "id-magic_default", "Aliases": ["web"]}, {"Target": "id-lb-magic", "Aliases": [alias]}]
    assert stored_docs(client)["magic"]["aliases"] == {"web": alias}


def test_the_manager_judges_host_names_under_the_route_domain_again():
    client = FakeClient()
    with pytest.raises(SpinError) as err:
        lb.plan_stack_routes(client, "eve", "evil", load_balancers={"lb": {"port_rules": [
            rule("*.cory.spin.example.org")]}}, platform=platform(), route_domain="spin.example.org")
    assert "hostname '*.cory.spin.example.org' is inside tenant 'cory''s names" in err.value.message
    assert client.configs() == [] and client.networks_list == []  # nothing claimed


def test_a_claim_stored_before_the_rule_does_not_refuse_the_tenant_whose_name_it_took():
    client = FakeClient()
    legacy = routes("eve", "evil", rule("a.eve.localhost"))
    legacy["routes"][0]["hostname"] = "web.magic.cory.localhost"
    del legacy["aliases"], legacy["route_domain"]
    legacy["network"] = "lb-evil"
    lb._create_routes_config(client, platform(), legacy)
    plan = lb.plan_stack_routes(client, "cory", "magic", endpoints=[{
        "service": "magic_web", "compose_service": "web", "target": 80, "published": 80, "protocol": "tcp",
        "hostname": "web.magic.cory.localhost", "key": "x-spin.route"}], platform=platform())
    assert plan["claim"]["config"]
    assert "use_backend magic:web:80 if { req.hdr(host),field(1,:),lower -m str web.magic.cory.localhost }" \
        in plan["config"]()
    assert "use_backend evil:" not in plan["config"]()


def test_check_of_a_first_https_config_needs_no_crt_list_on_disk(tmp_path):
    """The HTTPS frontend's crt-list is written by sync_edge: a check before that (check mode) checks the
    config with an empty list and writes nothing; a real run makes the empty list first (issue 20)."""
    client = FakeClient()
    client.running = [{"Id": "abcdef0123456789", "Created": 1}]
    p = platform(config_dir=str(tmp_path))
    text = haproxy_cfg.render([], p)
    crt_list = str(tmp_path / "certs" / "crt-list")
    assert " crt-list %s " % crt_list in text
    lb.validate_config(client, text, p, check_mode=True)
    files = client.checks[-1][2]
    assert " crt-list /dev/null " in list(files.values())[0] and not (tmp_path / "certs").exists()
    lb.validate_config(client, text, p)
    assert list(client.checks[-1][2].values())[0] == text and (tmp_path / "certs" / "crt-list").read_text() == ""
