"""The role global_fs's decisions: which file systems a host carries, which labels a node gets."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spin.platform.plugins.filter.global_fs import fs_failures, fs_labels, host_filesystems


FS = {"cfs": {"src": "nfs1:/cfs", "path": "/global/cfs", "fstype": "nfs4", "opts": "hard,ro"},
      "homes": {"src": "homes", "path": "/global/homes", "fstype": "gpfs"},
      "gpu": {"src": "nfs2:/scratch", "path": "/global/scratch", "fstype": "nfs", "groups": ["gpu_nodes"]},
      "old": {"src": "nfs3:/old", "path": "/global/old", "fstype": "nfs", "state": "absent"}}


def test_host_filesystems_by_group_and_kind():
    here = host_filesystems(FS, ["swarm_workers"])
    assert [f["name"] for f in here] == ["cfs", "homes", "old"]
    cfs, homes, old = here
    assert cfs == {"name": "cfs", "src": "nfs1:/cfs", "path": "/global/cfs", "fstype": "nfs4", "opts": "hard,ro",
                   "dump": 0, "passno": 0, "state": "mounted", "verify": False}
    assert homes["verify"] is True and homes["opts"] == "defaults"
    assert old["state"] == "absent"
    assert [f["name"] for f in host_filesystems(FS, ["swarm_workers", "gpu_nodes"])] == ["cfs", "gpu", "homes", "old"]
    assert host_filesystems(None, []) == []


@pytest.mark.parametrize("bad, message", [
    ({"cfs": {"path": "/g", "fstype": "nfs", "state": "unmounted"}}, "state must be mounted or absent"),
    ({"Bad_Name": {"path": "/g", "fstype": "nfs"}}, "lower-case"),
])
def test_host_filesystems_refuses_mistakes(bad, message):
    with pytest.raises(AnsibleFilterError, match=message):
        host_filesystems(bad, [])


def result(name, state="mounted", **values):
    return dict({"item": {"name": name, "state": state}, "changed": False}, **values)


def test_labels_only_for_what_was_seen_mounted_and_answering():
    results = [result("cfs", mounted=True, healthy=True),
               result("homes", failed=True, msg="not mounted", mounted=False),
               result("hung", failed=True, msg="does not answer", mounted=True, healthy=False),
               result("old", state="absent", mounted=False, action="unmount"),
               result("new", mounted=False, action="mount")]
    assert fs_labels(results) == {"spin.fs.cfs": "true"}
    # check mode: a mount that would be made keeps (or gets) its label, as the real run would
    assert fs_labels(results, check_mode=True) == {"spin.fs.cfs": "true", "spin.fs.new": "true"}
    assert fs_failures(results) == ["homes: not mounted", "hung: does not answer"]
