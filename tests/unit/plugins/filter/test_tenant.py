"""The role tenant's filters (filter/tenant.py): the names Ansible finds them by, the values a play
hands them (Ansible's own string and container types) made plain, and a refusal raised as the filter
error Ansible reports. What the registry rules are is plugin_utils/test_tenants.py's."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spin.platform.plugins.filter import tenant

FS = {"cfs": {"src": "nfs1:/cfs", "path": "/global/cfs", "fstype": "nfs4"}}
CORY = {"name": "cory", "uid": 51000, "gid": 51000, "paths": ["/global/cfs/cdirs/cory"]}


class Tagged(str):
    """A string as a play hands it over (ansible-core's templated and tagged strings are str subclasses)."""


def tagged(value):
    if isinstance(value, dict):
        return {Tagged(k): tagged(v) for k, v in value.items()}
    if isinstance(value, list):
        return tuple(tagged(v) for v in value)
    return Tagged(value) if isinstance(value, str) else value


def test_the_filters_ansible_finds():
    assert tenant.FilterModule().filters() == {
        "tenant_onboard": tenant.tenant_onboard, "tenant_offboard": tenant.tenant_offboard,
        "tenant_directories": tenant.tenant_directories, "tenant_filesystems": tenant.tenant_filesystems}


def test_onboard_takes_what_a_play_hands_it_and_returns_plain_data():
    # a play's values arrive as str subclasses and tuples; the registry the role writes must be plain
    registry = tenant.tenant_onboard({}, tagged(CORY), tagged(FS))
    assert registry == {"cory": {"uid": 51000, "gid": 51000, "paths": ["/global/cfs/cdirs/cory"]}}
    assert not isinstance(registry["cory"]["paths"][0], Tagged) and not isinstance(list(registry)[0], Tagged)


def test_a_refusal_is_a_filter_error_with_the_message():
    with pytest.raises(AnsibleFilterError) as raised:
        tenant.tenant_onboard({}, dict(CORY, uid=0), FS)
    assert raised.value.message.startswith("tenant 'cory' cannot be onboarded")
    assert "uid 0 is below 1000" in raised.value.message


def test_onboard_passes_the_minimum_uid_on():
    assert tenant.tenant_onboard({}, dict(CORY, uid=600), FS, min_uid=500)["cory"]["uid"] == 600
    with pytest.raises(AnsibleFilterError, match="below 1000"):
        tenant.tenant_onboard({}, dict(CORY, uid=600), FS)


def test_offboard():
    assert tenant.tenant_offboard({"cory": {}, "magic": {"uid": 1}}, Tagged("cory")) == {"magic": {"uid": 1}}


def test_directories_in_the_mode_given():
    dirs = tenant.tenant_directories(CORY, FS, mode="0700")
    assert dirs[-1] == {"path": "/global/cfs/cdirs/cory", "kind": "tenant", "owner": 51000, "group": 51000,
                        "mode": "0700"}
    assert tenant.tenant_directories(CORY, FS)[-1]["mode"] == "0750"


def test_filesystems_of_no_file_systems_is_none():
    assert [f["name"] for f in tenant.tenant_filesystems(CORY, FS)] == ["cfs"]
    assert tenant.tenant_filesystems(CORY) == [] and tenant.tenant_filesystems(CORY, None) == []
