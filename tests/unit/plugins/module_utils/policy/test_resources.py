"""resources.py and the policy's CPU and memory rules (resource-quota, resource-size): defaults where
a service names none, sums over the tenant's stacks, refusals that give the numbers and the line to
write."""
import textwrap

import pytest

from ansible_collections.spin.platform.plugins.module_utils.policy import (
    policy, policy_facts, policy_settings, resources)
from ansible_collections.spin.platform.plugins.plugin_utils import compose

GIB = 1024 ** 3
MIB = 1024 ** 2


def res(lc=None, lm=None, rc=None, rm=None):
    return {"limits": {"cpus": lc, "memory": lm}, "reservations": {"cpus": rc, "memory": rm}}


DEFAULTS = res(1.0, GIB)


@pytest.mark.parametrize("given, expected", [
    (None, res(1.0, GIB)),                                     # nothing named: the defaults
    (res(0.5), res(0.5, GIB)),                                 # only what is missing
    (res(lm=256 * MIB), res(1.0, 256 * MIB)),
    (res(rc=0.25, rm=2 * GIB), res(1.0, 2 * GIB, 0.25, 2 * GIB)),  # a default limit never below the reservation
    (res(lm=512 * MIB, rm=256 * MIB), res(1.0, 512 * MIB, None, 256 * MIB)),
])
def test_with_defaults(given, expected):
    assert resources.with_defaults(given, DEFAULTS) == expected


@pytest.mark.parametrize("value, expected, errors", [
    (None, res(), []),
    ({"limits": {"cpus": 2, "memory": "512m"}}, res(2.0, 512 * MIB), []),
    ({"reservations": {"memory": 1024}}, res(rm=1024), []),
    ({"limits": {"cpus": "lots"}}, res(), ["q.limits.cpus: 'lots' is not a number of CPUs (write it like 0.5 or 2)"]),
    ({"limits": {"memory": "1x"}}, res(), ["q.limits.memory: '1x' is not a size (write it like 512M or 2G)"]),
    ({"limit": {}}, res(), ["q must be a mapping with limits and reservations, each {cpus, memory}"]),
    ({"limits": {"mem": 1}}, res(), ["q.limits must be a mapping with cpus and memory"]),
])
def test_normalise(value, expected, errors):
    assert resources.normalise(value, "q") == (expected, errors)


@pytest.mark.parametrize("spec, expected", [
    (None, res()),
    ({"Limits": {"NanoCPUs": 500000000, "MemoryBytes": 268435456}}, res(0.5, 256 * MIB)),
    ({"Reservations": {"NanoCPUs": 2000000000}}, res(rc=2.0)),
])
def test_from_spec(spec, expected):
    assert resources.from_spec(spec) == expected


@pytest.mark.parametrize("dim, value, text", [
    ("cpus", 1, "1 CPU"), ("cpus", 1.5, "1.5 CPUs"), ("cpus", 0.25, "0.25 CPUs"), ("cpus", 16, "16 CPUs"),
    ("memory", GIB, "1 GiB"), ("memory", 1.5 * GIB, "1.5 GiB"), ("memory", 512 * MIB, "512 MiB"),
    ("memory", None, "no quota"),
])
def test_amount(dim, value, text):
    assert resources.amount(dim, value) == text


@pytest.mark.parametrize("dim, value, text", [
    ("cpus", 2.0, "2"), ("cpus", 0.5, "0.5"), ("memory", 8 * GIB, "8G"), ("memory", 1536 * MIB, "1536M"),
    ("memory", 23.4 * GIB, "23961M"),
])
def test_compose_value(dim, value, text):
    assert resources.compose_value(dim, value) == text


def test_total_and_over_quota():
    mine = [("web", res(1.0, GIB), 2), ("db", res(0.5, 2 * GIB, None, GIB), 1)]
    sums = resources.total(mine)
    assert sums[("limits", "cpus")] == 2.5 and sums[("limits", "memory")] == 4 * GIB
    assert sums[("reservations", "memory")] == GIB and sums[("reservations", "cpus")] == 0
    quota = {("limits", "cpus"): 4, ("limits", "memory"): 5 * GIB, ("reservations", "cpus"): None,
             ("reservations", "memory"): GIB}
    others = {("limits", "memory"): 2 * GIB}
    found = resources.over_quota(mine, others, quota)
    assert found == [("limits", "memory", 4 * GIB, 6 * GIB, 5 * GIB, "db 1 x 2 GiB, web 2 x 1 GiB")]
    assert resources.over_quota(mine, {}, quota) == []


def test_largest_node_counts_only_ready_active_nodes():
    nodes = [{"state": "ready", "availability": "active", "cpus": 2.0, "memory": 8 * GIB},
             {"state": "ready", "availability": "drain", "cpus": 64.0, "memory": 512 * GIB},
             {"state": "down", "availability": "active", "cpus": 32.0, "memory": 256 * GIB},
             {"state": "ready", "availability": "active", "cpus": 4.0, "memory": 4 * GIB}]
    assert resources.largest_node(nodes) == {"cpus": 4.0, "memory": 8 * GIB}
    assert resources.largest_node([]) == {"cpus": 0, "memory": 0}


def test_usage_rows_give_percentages():
    rows = resources.usage_rows({("limits", "cpus"): 2.0, ("limits", "memory"): 3 * GIB},
                                {("limits", "cpus"): 16, ("limits", "memory"): 16 * GIB,
                                 ("reservations", "cpus"): None, ("reservations", "memory"): 8 * GIB})
    assert [(r["what"], r["used"], r["quota"], r["percent"]) for r in rows] == [
        ("limits.cpus", "2 CPUs", "16 CPUs", 12), ("limits.memory", "3 GiB", "16 GiB", 19),
        ("reservations.cpus", "0 CPUs", "no quota", None), ("reservations.memory", "0 MiB", "8 GiB", 0)]


# ---- the policy: defaults applied, quotas and sizes refused ---------------------------------------

TENANTS = {
    "cory": {"uid": 1000, "gid": 1000,
             "quota": {"replicas": 10, "limits": {"cpus": 4, "memory": "4g"}, "reservations": {"memory": "1g"}}},
    "magic": {"uid": 1001, "gid": 1001},
}


def parse(text):
    model, diagnostics = compose.parse_stack(textwrap.dedent(text), "docker-compose.yml")
    assert not [d for d in diagnostics if d["severity"] == "error"], diagnostics
    return model


def judge(text, tenant="cory", spin_policy=None, **kwargs):
    pol = policy_settings.merge_policy({"spin_tenants": TENANTS, "spin_policy": spin_policy or {}})
    entry = pol["tenants"].get(tenant)
    model = policy.apply_policy_defaults(parse(text), tenant, entry, pol)
    found = policy.evaluate(model, tenant, entry, pol, stack="demo", **kwargs)
    return [policy_settings.format_violation(v) for v in found]


def test_defaults_reach_every_service_that_names_none():
    pol = policy_settings.merge_policy({"spin_tenants": TENANTS})
    model = policy.apply_policy_defaults(parse("""
        services:
          web: {image: httpd}
          db: {image: mysql, deploy: {resources: {limits: {memory: 256m}, reservations: {cpus: '0.5'}}}}
        """), "cory", TENANTS["cory"], pol)
    assert model["services"]["web"]["deploy"]["resources"] == {
        "limits": {"cpus": 1.0, "memory": GIB, "pids": None}, "reservations": {"cpus": None, "memory": None}}
    assert model["services"]["db"]["deploy"]["resources"] == {
        "limits": {"cpus": 1.0, "memory": 256 * MIB, "pids": None}, "reservations": {"cpus": 0.5, "memory": None}}


def test_platform_defaults_are_platform_variables():
    pol = policy_settings.merge_policy({"spin_policy": {"default_resources": {"limits": {"memory": "256m"}},
                                                        "default_resource_quota": {"limits": {"cpus": 2}}}})
    assert pol["default_resources"] == res(1.0, 256 * MIB)
    assert pol["default_resource_quota"] == res(2.0, 16 * GIB, 4.0, 8 * GIB)


@pytest.mark.parametrize("spin_policy, message", [
    ({"default_resources": {"limits": {"memory": "lots"}}},
     "spin_policy.default_resources.limits.memory: 'lots' is not a size (write it like 512M or 2G)"),
    ({"default_resource_quota": []},
     "spin_policy.default_resource_quota must be a mapping with limits and reservations, each {cpus, memory}"),
])
def test_bad_platform_defaults_are_refused(spin_policy, message):
    with pytest.raises(Exception) as err:
        policy_settings.merge_policy({"spin_policy": spin_policy})
    assert message in str(err.value)


@pytest.mark.parametrize("quota, errors", [
    ({"replicas": 3, "limits": {"cpus": 2, "memory": "2g"}, "reservations": {"cpus": 1}}, []),
    ({"limits": {"cpus": "x"}}, ["spin_tenants.t.quota.limits.cpus: 'x' is not a number of CPUs (write it like 0.5 or 2)"]),
    ({"cpu": 2}, ["spin_tenants.t.quota must be a mapping with replicas, limits and reservations"]),
])
def test_registry_quota_shapes(quota, errors):
    assert policy_settings.validate_tenants({"t": {"uid": 1500, "quota": quota}}) == errors


# allowed and refused, with the full message a tenant reads
QUOTA_CASES = [
    # 2 x 1 CPU + 1 CPU of the defaults: 3 of cory's 4
    ("allowed", "services:\n  web: {image: httpd, scale: 2}\n  db: {image: mysql}\n", {}, []),
    ("memory over", "services:\n  web: {image: httpd, scale: 3, deploy: {resources: {limits: {memory: 2g}}}}\n", {},
     ["docker-compose.yml: key 'deploy.resources.limits.memory': [resource-quota] the memory limits of the stack's "
      "services come to 6 GiB (web 3 x 2 GiB): 6 GiB in all, over tenant 'cory''s quota of 4 GiB; lower "
      "deploy.resources.limits.memory (or the replicas) by 2 GiB in all, or ask the platform staff for a larger "
      "quota (spin_tenants.cory.quota.limits.memory)"]),
    ("other stacks count", "services:\n  web: {image: httpd}\n",
     {"other_usage": {("limits", "cpus"): 3.5}},
     ["docker-compose.yml: key 'deploy.resources.limits.cpus': [resource-quota] the CPU limits of the stack's "
      "services come to 1 CPU (web 1 x 1 CPU) and those of the tenant's other stacks to 3.5 CPUs: 4.5 CPUs in all, "
      "over tenant "
      "'cory''s quota of 4 CPUs; lower deploy.resources.limits.cpus (or the replicas) by 0.5 CPUs in all, or ask "
      "the platform staff for a larger quota (spin_tenants.cory.quota.limits.cpus)"]),
    ("reservation over", "services:\n  db: {image: mysql, deploy: {resources: {reservations: {memory: 2g}}}}\n", {},
     ["docker-compose.yml: key 'deploy.resources.reservations.memory': [resource-quota] the memory reservations "
      "of the stack's services come to 2 GiB (db 1 x 2 GiB): 2 GiB in all, over tenant 'cory''s quota of 1 GiB; lower "
      "deploy.resources.reservations.memory (or the replicas) by 1 GiB in all, or ask the platform staff for a "
      "larger quota (spin_tenants.cory.quota.reservations.memory)"]),
    ("larger than any node", "services:\n  web: {image: httpd, deploy: {resources: {reservations: {cpus: '3'}}}}\n",
     {"biggest": {"cpus": 2.0, "memory": 8 * GIB}},
     # a reservation of 3 CPUs lifts the default limit to 3 too: both are more than the node has
     ["docker-compose.yml: service 'web': key 'deploy.resources.limits.cpus': [resource-size] asks for 3 CPUs per "
      "replica as its limit, more than any node has (the largest has 2 CPUs); write at most "
      "deploy.resources.limits.cpus: 2",
      "docker-compose.yml: service 'web': key 'deploy.resources.reservations.cpus': [resource-size] asks for 3 CPUs "
      "per replica as its reservation, more than any node has (the largest has 2 CPUs); write at most "
      "deploy.resources.reservations.cpus: 2"]),
    ("no node facts, no size rule", "services:\n  web: {image: httpd, deploy: {resources: {limits: {cpus: '3'}}}}\n",
     {}, []),
]


@pytest.mark.parametrize("case, text, kwargs, expected", QUOTA_CASES, ids=[c[0] for c in QUOTA_CASES])
def test_resource_rules(case, text, kwargs, expected):
    assert judge(text, **kwargs) == expected


def test_default_quota_applies_without_an_entry():
    # magic has no quota of its own: 17 x the default 1 CPU is over the default 16 (and 10 replicas)
    found = judge("services:\n  web: {image: httpd, scale: 17}\n", tenant="magic")
    assert any("[resource-quota]" in m and "over tenant 'magic''s quota of 16 CPUs" in m for m in found)


def test_manager_side_quota_counts_other_stacks_and_node_sizes():
    pol = policy_settings.merge_policy({"spin_tenants": TENANTS})
    model = {"services": {"web": {"deploy": {"mode": "replicated", "replicas": 2,
                                             "resources": res(1.0, GIB)}}}}
    found = policy_facts.quota_violations(model, "cory", TENANTS["cory"], pol, other_replicas=0,
                                          other_usage={("limits", "memory"): 3 * GIB},
                                          biggest={"cpus": 0.5, "memory": 64 * GIB})
    assert sorted(v["rule"] for v in found) == ["resource-quota", "resource-size"]
