"""policy_settings: the platform's policy (spin_policy) merged onto the defaults, and every mistake in it
named at once."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_settings


def test_merge_policy_defaults_and_overrides():
    pol = policy_settings.merge_policy({"spin_policy": {"proxy_ports": [80, "8080-8081"],
                                                        "name_patterns": {"stack": "^[a-z]+$"},
                                                        "cap_add": ["cap_chown"]}})
    assert pol["proxy_ports"] == [80, "8080-8081"]
    assert policy_settings.port_numbers(pol["proxy_ports"]) == [80, 8080, 8081]
    assert pol["name_patterns"]["stack"] == "^[a-z]+$"
    assert pol["name_patterns"]["tenant"] == policy_settings.DEFAULT_POLICY["name_patterns"]["tenant"]
    assert pol["cap_add"] == ["CHOWN"]
    assert pol["global_fs_roots"] == policy_settings.DEFAULT_POLICY["global_fs_roots"]
    assert pol["tenants"] == {}
    assert policy_settings.merge_policy(None)["proxy_ports"] == [80, 443]


@pytest.mark.parametrize("platform_vars, needle", [
    ({"spin_policy": {"proxy_port": []}}, "unknown key (did you mean 'proxy_ports'?)"),
    ({"spin_policy": {"proxy_ports": ["80-70"]}}, "spin_policy.proxy_ports must be"),
    ({"spin_policy": {"published_ports": ["8000-8999"]}},
     "spin_policy.published_ports: the ports stacks may publish are the edge's, spin_lb_ports (one setting for the "
     "policy and the load balancer); remove published_ports"),
    ({"spin_policy": {"global_fs_read_write": "yes"}}, "spin_policy.global_fs_read_write must be true or false"),
    ({"spin_policy": {"global_fs_roots": ["/x"]}}, "set spin_global_fs_roots instead"),
    ({"spin_policy": {"name_patterns": {"stack": "(["}}}, "not a regular expression"),
    ({"spin_policy": {"disabled_rules": ["privileges"]}}, "unknown rule 'privileges' (did you mean 'privileged'?)"),
    ({"spin_policy": {"host_path_roots": ["srv"]}}, "host_path_roots must hold absolute paths"),
    ({"spin_global_fs_roots": ["global"]}, "spin_global_fs_roots must be a list of absolute paths"),
    ({"spin_tenants": {"x": {"uid": 0, "gid": 1}}}, "spin_tenants.x.uid must be a number > 0"),
    ({"spin_tenants": {"x": {"uid": 5}, "y": {"uid": 5}}}, "spin_tenants.y.uid 5 is also tenant 'x''s"),
    ({"spin_tenants": {"x": {"uid": 5, "paths": ["rel"]}}}, "spin_tenants.x.paths must be a list of absolute"),
    ({"spin_tenants": {"x": {"uid": 5, "quota": {"replicas": -1}}}}, "quota.replicas must be a whole number"),
    ({"spin_tenants": {"x": {"uid": 5, "gdi": 5}}}, "unknown key 'gdi' (did you mean 'gid'?)"),
])
def test_merge_policy_refuses_mistakes(platform_vars, needle):
    with pytest.raises(SpinError) as info:
        policy_settings.merge_policy(platform_vars)
    assert needle in info.value.message


def test_merge_policy_reports_every_mistake():
    with pytest.raises(SpinError) as info:
        policy_settings.merge_policy({"spin_policy": {"a": 1, "b": 2}, "spin_tenants": {"x": {"uid": 0}}})
    assert "3 error(s)" in info.value.message
