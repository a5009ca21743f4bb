"""lb.py with a fake Docker client: claims, stack networks, stored routes, checking, syncing an edge node."""
import base64
import json
import re

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, haproxy_cfg, lb
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import (
    FakeClient, platform, routes, rule, seed_stack, stored_docs)
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.routes_docs import page


def held(stack, *rules, tenant="other"):
    return routes(tenant, stack, *rules)


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


# the platform's own page on the edge (the monitoring role's Prometheus), at the route domain itself

def test_store_the_platform_page_with_its_network_then_no_change():
    client = FakeClient()
    p = platform()
    network = p["network_prefix"] + "spin_monitoring"
    first = lb.store_platform_routes(client, page(), p)
    assert first["changed"] and first["network"] == network
    assert first["attachments"] == {"prometheus": {"name": network,
                                                   "aliases": [haproxy.backend_alias("_platform", "spin_monitoring",
                                                                                     "prometheus")]}}
    net = client.find_network(network)
    assert net["Attachable"] and net["Labels"]["spin.lb.tenant"] == "_platform"
    assert not lb.store_platform_routes(client, page(), p)["changed"]
    assert lb.stored_routes(client, p)["spin_monitoring"]["doc"]["tenant"] == "_platform"


def test_a_platform_page_never_takes_a_host_name_a_stack_holds():
    client = FakeClient()
    # a route stored before the rule existed (by hand): the platform page does not take it over
    seed_stack(client, "cory", "magic", rule("www.example.org"))
    with pytest.raises(SpinError, match="held by stack 'magic'"):
        lb.store_platform_routes(client, haproxy.platform_routes("spin_monitoring", [
            {"service": "prometheus", "target_port": 9090, "hostname": "www.example.org"}], "localhost"), platform())


# ---- a converge of many stacks: each stored document decoded once, the claims that hold worked out once ----

def _many(client, count):
    for n in range(count):
        seed_stack(client, "t%d" % (n % 3), "s%03d" % n, rule("s%03d.example.org" % n))


def _count_calls(monkeypatch, owner, name):
    calls = []
    real = getattr(owner, name)

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)
    monkeypatch.setattr(owner, name, counting)
    return calls


def test_each_stored_document_is_decoded_once_while_its_config_is_listed(monkeypatch):
    client = FakeClient()
    _many(client, 6)
    first = lb.stored_routes(client, platform())
    loads = []

    class CountingJson(object):
        def __getattr__(self, name):
            return getattr(json, name)

        def loads(self, text):
            loads.append(text)
            return json.loads(text)
    monkeypatch.setattr(lb, "json", CountingJson())
    again = lb.stored_routes(client, platform())
    assert loads == []
    assert {name: entry["doc"] for name, entry in again.items()} == {name: e["doc"] for name, e in first.items()}
    # a new version is decoded (once); the others are still the documents read before
    lb.plan_stack_routes(client, "t1", "s001", load_balancers={"lb": {"port_rules": [rule("new.example.org")]}},
                         platform=platform())
    later = lb.stored_routes(client, platform())
    assert len(loads) == 1 and later["s001"]["doc"]["routes"][0]["hostname"] == "new.example.org"
    assert later["s002"]["doc"] is first["s002"]["doc"]


def test_a_document_that_is_not_json_is_refused_every_time_it_is_read():
    client = FakeClient()
    _many(client, 1)
    config = next(iter(client.configs_by_id.values()))
    config["Spec"]["Data"] = base64.b64encode(b"{not json").decode("ascii")
    for dummy in range(2):
        with pytest.raises(SpinError, match="are not JSON"):
            lb.stored_routes(client, platform())


def test_the_claims_that_hold_are_worked_out_once_per_stored_set(monkeypatch):
    client = FakeClient()
    _many(client, 12)
    checks = _count_calls(monkeypatch, lb.claims, "claim_conflicts")
    stored = lb.stored_routes(client, platform())
    first = lb.holders(stored, "s003")
    worked_out = len(checks)
    assert worked_out >= 12
    # every other stack of the same stored set asks again: no claim is checked again
    for n in range(12):
        lb.holders(lb.stored_routes(client, platform()), "s%03d" % n)
    assert len(checks) == worked_out
    assert sorted(d["stack"] for d in first) == ["s%03d" % n for n in range(12) if n != 3]
    # a conflicting claim stored by hand (a race's loser, before it took it back) changes the set: worked out
    # again, and the newer claim does not hold
    client.create_config("edge.routes.late.x", json.dumps(
        routes("t9", "late", rule("s005.example.org"))).encode("utf-8"),
        labels={lb.L_EDGE: "edge", lb.L_KIND: "routes", lb.L_TENANT: "t9", lb.L_STACK: "late"})
    holding = lb.holders(lb.stored_routes(client, platform()), "s000")
    assert len(checks) > worked_out
    assert "late" not in [d["stack"] for d in holding] and "s005" in [d["stack"] for d in holding]
