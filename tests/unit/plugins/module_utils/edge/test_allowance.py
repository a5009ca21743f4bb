"""A tenant's allowance of ports and host names (spin_tenants.<name>.ports / .hostnames): the
registry's check, the role's check against the edge's settings, and the one verdict on a stack."""
import os

import pytest

from ansible_collections.spin.platform.plugins.module_utils.edge import allowance
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_settings
from ansible_collections.spin.platform.plugins.plugin_utils import tenants
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils.submission import check_submission
from ansible_collections.spin.platform.tests.unit import tenant_tree

ROUTE_DOMAIN_STACK = "services:\n  web:\n    image: httpd\n"


@pytest.mark.parametrize("entry, message", [
    ({"ports": []}, "where.ports must be a non-empty list"),
    ({"ports": "8003"}, "where.ports must be a non-empty list"),
    ({"ports": [True]}, "where.ports must be a non-empty list"),
    ({"ports": ["80-x"]}, "where.ports: '80-x' is not a port or a range like 8000-8009"),
    ({"ports": [70000]}, "where.ports: '70000' is not a port"),
    ({"hostnames": "*.a.org"}, "where.hostnames must be a non-empty list"),
    ({"hostnames": ["*"]}, "where.hostnames[0]: '*' is not a host name or a pattern"),
    ({"hostnames": ["*.org"]}, "where.hostnames[0]: '*.org' is not a host name or a pattern"),
    ({"hostnames": ["a b.org"]}, "where.hostnames[0]: 'a b.org' is not a host name"),
])
def test_check_refuses_malformed_allowances(entry, message):
    errors = allowance.check(entry, "where")
    assert len(errors) == 1 and errors[0].startswith(message), errors


def test_check_accepts_ports_ranges_and_patterns():
    assert allowance.check({"ports": [8003, "8100-8109"], "hostnames": ["*.cory.example.org", "cory.org"]}, "w") == []
    assert allowance.check({"uid": 1}, "w") == []


def test_within_platform_only_narrows_the_edge():
    lb = {"ports": [80, 443, "8000-8009"], "hostnames": ["*.example.org"]}
    assert allowance.within_platform({"ports": [80, "8003-8004"], "hostnames": ["*.cory.example.org"]}, "t", lb) == []
    errors = allowance.within_platform({"ports": ["8008-8011"], "hostnames": ["cory.other.org"]}, "t", lb)
    assert errors == [
        "t.ports: 8010-8011 are not among the edge's ports (spin_lb_ports: 80, 443, 8000-8009): a tenant's ports "
        "are some of those",
        "t.hostnames[0]: 'cory.other.org' is not among the names the edge serves (spin_lb_hostnames: "
        "'*.example.org')"]
    # without settings, the edge's defaults: 80, 443, 8000-8009 and every name
    assert allowance.within_platform({"ports": [22]}, "t", None) == [
        "t.ports: 22 is not among the edge's ports (spin_lb_ports: 80, 443, 8000-8009): a tenant's ports are some "
        "of those"]


def test_of_normalises_and_none_without_allowance():
    assert allowance.of("cory", {"uid": 1000}) is None
    assert allowance.of("cory", None) is None
    expected = {"tenant": "cory", "ports": {8003, 8004}, "hostnames": None}
    assert allowance.of("cory", {"ports": ["8003-8004"]}) == expected
    assert allowance.of("cory", {"hostnames": ["*.Cory.Org"]})["hostnames"] == ["*.cory.org"]


def test_registry_accepts_allowance_and_names_its_mistakes():
    pol = policy_settings.merge_policy({"spin_tenants": {"cory": {"uid": 1000, "gid": 1000, "ports": [8003],
                                                         "hostnames": ["*.cory.example.org"]}}})
    assert pol["tenants"]["cory"]["ports"] == [8003]
    with pytest.raises(SpinError) as info:
        policy_settings.merge_policy({"spin_tenants": {"cory": {"uid": 1000, "ports": ["x"], "hostname": ["a.b.c"]}}})
    assert "spin_tenants.cory: unknown key 'hostname' (did you mean 'hostnames'?)" in info.value.message
    assert "spin_tenants.cory.ports: 'x' is not a port" in info.value.message


def test_onboard_records_the_allowance_and_refuses_more_than_the_edge():
    entry = {"name": "cory", "uid": 51234, "gid": 51234, "ports": ["8003-8004"], "hostnames": ["*.cory.example.org"]}
    lb = {"ports": [80, "8000-8009"], "hostnames": ["*.example.org"]}
    registry = tenants.onboard({}, entry, lb_platform=lb)
    assert registry["cory"]["ports"] == ["8003-8004"]
    assert registry["cory"]["hostnames"] == ["*.cory.example.org"]
    with pytest.raises(SpinError) as info:
        tenants.onboard({}, dict(entry, ports=[443], hostnames=["*.cory.org"]), lb_platform=lb)
    assert "tenant_entry.ports: 443 is not among the edge's ports" in info.value.message
    assert "tenant_entry.hostnames[0]: '*.cory.org' is not among the names the edge serves" in info.value.message
    # a tenant without an allowance is recorded without one
    assert set(tenants.onboard({}, {"name": "dana", "uid": 51235, "gid": 51235})["dana"]) == {"uid", "gid", "paths"}


# ---------------------------------------------------------------------------------------------
# the one verdict (check_submission): the controller refuses what lies outside the allowance

def verdict(tmp_path, compose, rancher=None, **entry):
    root, directory = tenant_tree.submission(tmp_path, "cory", "site")
    with open(os.path.join(directory, "docker-compose.yml"), "w") as handle:
        handle.write(compose)
    if rancher:
        with open(os.path.join(directory, "rancher-compose.yml"), "w") as handle:
            handle.write(rancher)
    tenant_tree.hand_in(directory)
    args = {"tenant": "cory", "stack": "site", "compose_file": "docker-compose.yml",
            "rancher_compose_file": "rancher-compose.yml" if rancher else None, "variables": {}, "policy": None,
            "global_fs_roots": None, "submission_roots": [root],
            "lb_platform": {"hostnames": ["*.example.org"]}, "platform": {"route_domain": "example.org"},
            "tenants": tenant_tree.registry("cory", **entry)}
    _model, facts, tasks = check_submission(args, [directory])
    errors = ["%s: service '%s': key '%s': %s" % (d["file"], d["service"], d["key"], d["message"])
              for d in facts["diagnostics"] if d["severity"] == "error"]
    return errors, tasks


PUBLISH_8005 = "services:\n  web:\n    image: httpd\n    ports: ['8005:80']\n"


def test_a_port_outside_the_allowance_is_refused_with_what_to_write(tmp_path):
    errors, tasks = verdict(tmp_path, PUBLISH_8005, ports=[8003, "8100-8101"])
    assert tasks is None
    assert errors == [
        "docker-compose.yml: service 'web': key 'ports[0]': port 8005 is not one tenant 'cory' may publish: use one "
        "of 8003 (the tenant's allowance, spin_tenants.cory.ports; infra staff change it with the role "
        "spin.platform.tenant)"]


def test_a_port_inside_the_allowance_and_no_allowance_at_all_pass(tmp_path):
    errors, tasks = verdict(tmp_path, PUBLISH_8005, ports=["8005"])
    assert errors == [] and tasks is not None
    errors, tasks = verdict(tmp_path, PUBLISH_8005)  # today's behaviour: the edge's ports
    assert errors == [] and tasks is not None
    # a hostnames-only allowance leaves the ports alone
    errors, tasks = verdict(tmp_path, PUBLISH_8005, hostnames=["*.cory.example.org"])
    assert errors == [] and tasks is not None


RANCHER_LB = ("services:\n  front:\n    lb_config:\n      port_rules:\n"
              "      - {source_port: 8003, target_port: 80, service: web, hostname: %s}\n")
COMPOSE_LB = "services:\n  web:\n    image: httpd\n  front:\n    image: rancher/lb-service-haproxy\n"


def test_a_hostname_outside_the_allowance_is_refused(tmp_path):
    # (the platform's route domain here is example.org: cory.example.org is cory's, www.example.org tenant www's)
    errors, tasks = verdict(tmp_path, COMPOSE_LB, RANCHER_LB % "cory.example.org", hostnames=["*.cory.example.org"])
    assert tasks is None
    assert errors == [
        "rancher-compose.yml: service 'front': key 'lb_config.port_rules[0].hostname': hostname 'cory.example.org' is "
        "not one tenant 'cory' may claim: use a name matching '*.cory.example.org' (the tenant's allowance, "
        "spin_tenants.cory.hostnames; infra staff change it with the role spin.platform.tenant)"]
    errors, tasks = verdict(tmp_path, COMPOSE_LB, RANCHER_LB % "www.cory.example.org", hostnames=["*.cory.example.org"],
                            ports=[8003])
    assert errors == [] and tasks is not None
    # the rule's port is narrowed too
    errors, _tasks = verdict(tmp_path, COMPOSE_LB, RANCHER_LB % "www.cory.example.org", ports=[8004])
    assert [e.split(": ", 3)[2] for e in errors] == ["key 'lb_config.port_rules[0]'"]
    assert "port 8003 is not one tenant 'cory' may publish: use one of 8004" in errors[0]


def test_the_platform_names_and_automatic_routes_are_not_narrowed(tmp_path):
    # no published port: the platform's automatic route on port 80 at <service>.<stack>.<tenant>.<domain>
    # (the allowance's pattern does not match the platform's name web.site.cory.example.org)
    errors, tasks = verdict(tmp_path, ROUTE_DOMAIN_STACK, ports=[8003], hostnames=["*.cory-www.example.org"])
    assert errors == [] and tasks["endpoints"] and tasks["endpoints"][0]["published"] == 80
    # "80:80" written by the tenant is a port it publishes: narrowed; the host name the platform gives it is not
    shared = "services:\n  web:\n    image: httpd\n    ports: ['80:80']\n"
    errors, tasks = verdict(tmp_path, shared, hostnames=["*.cory-www.example.org"])
    assert errors == [] and tasks["endpoints"][0]["hostname"] == "web.site.cory.example.org"
    errors, tasks = verdict(tmp_path, shared, ports=[8003])
    assert tasks is None and "port 80 is not one tenant 'cory' may publish" in errors[0]
