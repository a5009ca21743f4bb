"""policy_facts: the rules only the manager can judge, from what it sees: who owns a stack's objects, the
engine's settings, the bind mounts as they resolve on the host."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.policy import policy_facts
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.policy.policy_cases import (
    labels, make_policy, service)


@pytest.mark.parametrize("objects, messages", [
    ([], []),
    ([{"kind": "service", "name": "magic_web", "labels": labels("other", "magic")}], []),
    ([{"kind": "network", "name": "magic_default", "labels": labels("cory", "magic")}],
     ["stack 'magic' belongs to tenant 'cory'"]),
    # the labels decide, whatever the name
    ([{"kind": "service", "name": "innocent", "labels": labels("cory", "magic")}],
     ["stack 'magic' belongs to tenant 'cory'"]),
    ([{"kind": "volume", "name": "magic_data", "labels": {}}],
     ["stack 'magic' has objects that belong to no tenant (volume 'magic_data'): they were not made by the "
      "platform"]),
    ([{"kind": "service", "name": "magic_web", "labels": {"spin.stack": "magic"}}],
     ["stack 'magic' has objects that belong to no tenant (service 'magic_web'): they were not made by the "
      "platform"]),
    ([{"kind": "service", "name": "magic_web", "labels": labels("cory", "magic")},
      {"kind": "network", "name": "magic_default", "labels": labels("cory", "magic")},
      {"kind": "secret", "name": "magic_pw_0123456789", "labels": labels("magic", "magic")}],
     ["stack 'magic' belongs to tenant 'cory'", "stack 'magic' belongs to tenant 'magic'"]),
])
def test_check_ownership(objects, messages):
    violations = policy_facts.check_ownership(objects, "other", "magic")
    assert [v["message"] for v in violations] == messages
    assert all(v["rule"] == "ownership" and v["key"] == "spin_stack" for v in violations)


def test_check_ownership_name_collision_names_the_holder():
    objects = [{"kind": "service", "name": "magic_web", "labels": labels("cory", "elsewhere")}]
    [v] = policy_facts.check_ownership(objects, "other", "magic")
    assert v["message"] == ("stack 'magic' belongs to tenant 'cory' (service 'magic_web' named like this "
                            "stack's objects, of stack 'elsewhere')")


@pytest.mark.parametrize("facts, rules, warned", [
    ({"daemon_json": True, "dockerd_flag": None, "newest_container": None}, [], False),
    ({"daemon_json": None, "dockerd_flag": True, "newest_container": None}, [], False),
    ({"daemon_json": None, "dockerd_flag": None, "newest_container": {"name": "a", "no_new_privs": True}}, [], False),
    ({"daemon_json": False, "dockerd_flag": False, "newest_container": None}, ["engine-no-new-privileges"], False),
    ({"daemon_json": True, "dockerd_flag": None, "newest_container": {"name": "a", "no_new_privs": False}},
     ["engine-no-new-privileges"], False),
    ({"daemon_json": None, "dockerd_flag": None, "newest_container": None}, [], True),
])
def test_engine_violations(facts, rules, warned):
    violations, warnings = policy_facts.engine_violations(facts, make_policy())
    assert [v["rule"] for v in violations] == rules
    assert bool(warnings) == warned
    assert policy_facts.engine_violations(facts, make_policy({"require_no_new_privileges": False})) == ([], [])


@pytest.mark.parametrize("source, resolved, rules", [
    ("/global/cfs/cdirs/cory/data", "/global/cfs/cdirs/cory/data", []),
    ("/global/cfs/cdirs/cory/data", "/global/cfs/cdirs/cory/real", []),
    ("/global/cfs/cdirs/cory/link", "/etc", ["host-path"]),
    ("/global/cfs/cdirs/cory/link", "/global/cfs/cdirs/magic", ["global-fs-path"]),
    ("/global/cfs/cdirs/cory/link", "/run/docker.sock", ["docker-socket"]),
    ("/global/cfs/cdirs/cory/link", None, []),
])
def test_resolved_bind_violations(source, resolved, rules):
    pol = make_policy()
    model = service('volumes: ["%s:/d:ro"]\nuser: "1000"' % source)
    binds = policy_facts.bind_mounts(model)
    assert binds == [{"service": "s", "key": "volumes", "source": source, "read_only": True}]
    binds[0]["resolved"] = resolved
    violations = policy_facts.resolved_bind_violations(binds, "cory", pol["tenants"]["cory"], pol)
    assert [v["rule"] for v in violations] == rules
    if rules:
        assert "resolves to %s" % resolved in violations[0]["message"]
