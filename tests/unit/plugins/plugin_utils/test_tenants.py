"""Onboarding checks and the directories the role tenant creates."""
import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import tenants
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

FS = {"cfs": {"src": "nfs1:/cfs", "path": "/global/cfs", "fstype": "nfs4"},
      "homes": {"src": "homes", "path": "/global/homes", "fstype": "gpfs"}}
REGISTRY = {"magic": {"uid": 51001, "gid": 51001, "paths": ["/global/cfs/cdirs/magic"]}}
CORY = {"name": "cory", "uid": 51000, "gid": 51000, "paths": ["/global/cfs/cdirs/cory", "/global/homes/c/cory"],
        "quota": {"replicas": 10}}


def test_onboard_records_exactly_the_registry_keys():
    new = tenants.onboard(REGISTRY, CORY, FS)
    assert new == dict(REGISTRY, cory={"uid": 51000, "gid": 51000, "quota": {"replicas": 10},
                                       "paths": ["/global/cfs/cdirs/cory", "/global/homes/c/cory"]})
    assert REGISTRY == {"magic": {"uid": 51001, "gid": 51001, "paths": ["/global/cfs/cdirs/magic"]}}
    # onboarding again (an update) is allowed and gives the same registry
    assert tenants.onboard(new, CORY, FS) == new


@pytest.mark.parametrize("change, message", [
    ({"name": "Cory_1"}, "name 'Cory_1' is not a safe tenant name"),
    ({"name": "../etc"}, "is not a safe tenant name"),
    ({"uid": 51001}, "uid 51001 already belongs to tenant 'magic'"),
    ({"uid": 0}, "uid 0 is below 1000: 0 is root"),
    ({"gid": "51000"}, "gid must be a number"),
    ({"uid": True}, "uid must be a number"),
    ({"paths": ["/srv/cory"]}, "path /srv/cory is on no global file system"),
    ({"paths": ["/global/cfs/cdirs/../../../etc"]}, "must be absolute and normalised"),
    ({"paths": ["global/cfs/x"]}, "must be absolute and normalised"),
    ({"paths": ["/global/cfs"]}, "is the file system's mount point itself"),
    ({"quota": {"replicas": -1}}, "quota.replicas must be a whole number >= 0"),
    ({"ports": [8080]}, "tenant_entry.ports: 8080 is not among the edge's ports"),
    ({"ports": [80], "hostname": ["a.b.c"]}, "unknown key 'hostname'"),
])
def test_onboard_refuses_naming_the_problem(change, message):
    entry = dict(CORY, **change)
    with pytest.raises(SpinError) as caught:
        tenants.onboard(REGISTRY, entry, FS)
    assert message in caught.value.message
    assert caught.value.message.startswith("tenant %r cannot be onboarded" % entry["name"])


def test_every_problem_at_once():
    errors = tenants.check_entry({"name": "X", "uid": 0, "gid": 0, "paths": ["/srv"]}, REGISTRY, FS)
    assert len(errors) == 4


def test_policy_roots_count_when_no_file_system_is_named():
    assert tenants.onboard({}, dict(CORY, paths=["/global/cfs/cdirs/cory"]))["cory"]["paths"] == \
        ["/global/cfs/cdirs/cory"]
    with pytest.raises(SpinError, match="on no global file system"):
        tenants.onboard({}, dict(CORY, paths=["/global/cfs/cdirs/cory"]), roots=["/data"])


def test_directories_top_down_with_the_o_x_chain():
    dirs = tenants.directories(CORY, FS, mode="0750")
    assert dirs == [
        {"path": "/global/cfs", "kind": "parent", "mode": "o+x"},
        {"path": "/global/cfs/cdirs", "kind": "parent", "mode": "o+x"},
        {"path": "/global/cfs/cdirs/cory", "kind": "tenant", "owner": 51000, "group": 51000, "mode": "0750"},
        {"path": "/global/homes", "kind": "parent", "mode": "o+x"},
        {"path": "/global/homes/c", "kind": "parent", "mode": "o+x"},
        {"path": "/global/homes/c/cory", "kind": "tenant", "owner": 51000, "group": 51000, "mode": "0750"},
    ]
    # nothing above the mount point is touched
    assert not [d for d in dirs if d["path"] in ("/", "/global")]


def test_filesystems_of_and_offboard():
    assert [f["name"] for f in tenants.filesystems_of(CORY, FS)] == ["cfs", "homes"]
    assert tenants.filesystems_of(CORY, {}) == []
    assert tenants.offboard(dict(REGISTRY, cory={}), "cory") == REGISTRY
    assert tenants.offboard(REGISTRY, "nobody") == REGISTRY
