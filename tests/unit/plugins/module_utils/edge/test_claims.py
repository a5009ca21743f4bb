"""claims.py: whose names a host-name rule takes under the route domain, and which routes of two stacks
cannot both be served (the first stored holds)."""
import copy

import pytest

from ansible_collections.spin.platform.plugins.module_utils.edge import claims, haproxy_cfg
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.routes_docs import (
    ROUTE_DOMAIN_CASES, doc, ep, lbs, rule, two_stacks)


def route(port, protocol="http", hostname=None, path=None):
    return {"port": port, "protocol": protocol, "hostname": hostname, "path": path}


def holder(*routes, stack="other", tenant="cory"):
    return {"stack": stack, "tenant": tenant, "routes": list(routes)}


@pytest.mark.parametrize("a, b, overlap", [
    ("www.example.org", "www.example.org", True),
    ("*.example.org", "www.example.org", True),
    ("www.example.org", "*.example.org", True),
    ("*.example.org", "a.b.example.org", True),       # '*.' covers deeper names too, as HAProxy's suffix match does
    ("*.example.org", "example.org", False),          # the wildcard needs a label before the suffix
    ("www.example.org", "api.example.org", False),
    ("*.a.example.org", "*.b.example.org", False),
    ("www.example.org", "xwww.example.org", False),
])
def test_two_hostnames_overlap_when_a_name_would_match_both(a, b, overlap):
    assert claims.hostnames_overlap(a, b) is overlap


@pytest.mark.parametrize("mine, held, why", [
    (route(80, hostname="a.example.org"), route(80, hostname="a.example.org"),
     "hostname 'a.example.org' is held by stack 'other' (tenant 'cory')"),
    (route(8000, hostname="a.example.org"), route(80, hostname="*.example.org"),
     "hostname 'a.example.org' overlaps '*.example.org', held by stack 'other' (tenant 'cory')"),
    (route(8000, "tcp"), route(8000, "http", hostname="a.example.org"),
     "port 8000 is served as http by stack 'other' (tenant 'cory'): use protocol http or another port"),
    (route(8000), route(8000, hostname="a.example.org"),
     "port 8000 is held by stack 'other' (tenant 'cory') (for hostname 'a.example.org'; a rule without a hostname "
     "takes the whole port)"),
    (route(8000, hostname="b.example.org"), route(8000),
     "port 8000 is held by stack 'other' (tenant 'cory')"),
    (route(8000, hostname="b.example.org"), route(8000, hostname="a.example.org"), None),   # host-name routing
    (route(8001), route(8000), None),
    (route(8000, "udp"), route(8000, "tcp"), None),          # a UDP port on the nodes, a TCP port on the edge
])
def test_why_a_route_cannot_be_served_beside_another_stacks(mine, held, why):
    assert claims.route_conflict(mine, held, holder(held)) == why


def test_a_stacks_own_routes_never_conflict_and_the_first_holder_is_named():
    mine = holder(route(8000), stack="magic")
    assert claims.claim_conflicts(mine, [holder(route(8000), stack="magic")]) == []
    first, second = holder(route(8000), stack="first"), holder(route(8000), stack="second")
    [(dummy, why)] = claims.claim_conflicts(mine, [first, second])
    assert why == "port 8000 is held by stack 'first' (tenant 'cory')"


def test_served_routes_leave_out_what_an_earlier_claim_holds():
    first = holder(route(8000), stack="first")
    second = holder(route(8000), route(8001), stack="second", tenant="dana")
    served, left_out = claims.served_routes([first, second])
    assert [[r["port"] for r in d["routes"]] for d in served] == [[8000], [8001]]
    assert [(stack, r["port"], why) for stack, r, why in left_out] == [
        ("second", 8000, "port 8000 is held by stack 'first' (tenant 'cory')")]


def test_the_platforms_own_routes_may_use_the_route_domain_itself():
    page = {"hostname": "localhost", "port": 80, "protocol": "http", "path": "/prometheus"}
    assert claims.trespass(page, claims.PLATFORM_TENANT, ["localhost"]) is None
    assert claims.trespass(page, "eve", ["localhost"]) == (
        "hostname 'localhost' is inside every tenant's names under the route domain 'localhost'")


def test_canonical_json_and_digest_are_stable():
    magic, dummy = two_stacks()
    again = copy.deepcopy(magic)
    assert claims.routes_digest(magic) == claims.routes_digest(again)
    again["routes"][0]["port"] = 1
    assert claims.routes_digest(magic) != claims.routes_digest(again)


@pytest.mark.parametrize("tenant, hostname, domain, taken", ROUTE_DOMAIN_CASES)
def test_whose_names_a_hostname_takes_under_the_route_domain(tenant, hostname, domain, taken):
    assert claims.names_taken(hostname, tenant, domain) == taken


def test_a_claim_stored_before_the_rule_never_holds_against_the_tenant_whose_names_it_takes():
    """A rule eve stored with an older spin.platform, inside cory's names: cory's claim is not refused as
    held by it, and the edge does not serve it (whatever the order of the stacks)."""
    legacy = doc("evil", tenant="eve", network="lb-evil", load_balancers=lbs(
        rule(hostname="a.eve.localhost"), rule(hostname="www.example.org"), rule(hostname="b.eve.localhost")))
    legacy["routes"][0]["hostname"] = "web.magic.cory.localhost"
    legacy["routes"][2]["hostname"] = "*.cory.localhost"
    del legacy["route_domain"], legacy["aliases"]
    cory = doc("magic", tenant="cory", network="lb-magic",
               endpoints=[dict(ep("web", 80), hostname="web.magic.cory.localhost")])
    assert claims.claim_conflicts(cory, [legacy]) == []
    served, left_out = claims.served_routes([legacy, cory])
    assert [r["hostname"] for r in served[0]["routes"]] == ["www.example.org"]
    assert [(stack, route["hostname"]) for stack, route, dummy in left_out] == [
        ("evil", "web.magic.cory.localhost"), ("evil", "*.cory.localhost")]
    assert "inside tenant 'cory''s names under the route domain 'localhost'" in left_out[0][2]
    text = haproxy_cfg.render([legacy, cory])
    assert "use_backend magic:web:80 if { req.hdr(host),field(1,:),lower -m str web.magic.cory.localhost }" in text
    assert "use_backend evil:web:80 if" in text and "cory.localhost }" not in text.split("evil:web:80 if")[1][:80]
