"""The role global_fs's decisions: which file systems a host carries, which labels a node gets."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.spin.platform.plugins.filter.global_fs import fs_failures, fs_labels, host_filesystems
from ansible_collections.spin.platform.plugins.modules.spin_node_labels import desired_labels

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


@pytest.mark.parametrize("current, labels, prefix, new, added, removed", [
    ({"spin.edge": "true"}, {"spin.fs.cfs": True}, "spin.fs.",
     {"spin.edge": "true", "spin.fs.cfs": "true"}, {"spin.fs.cfs": "true"}, []),
    ({"spin.edge": "true", "spin.fs.cfs": "true", "spin.fs.old": "true"}, {"spin.fs.cfs": "true"}, "spin.fs.",
     {"spin.edge": "true", "spin.fs.cfs": "true"}, {}, ["spin.fs.old"]),
    ({"spin.fs.old": "true", "rack": "a1"}, {}, "", {"spin.fs.old": "true", "rack": "a1"}, {}, []),
    (None, {}, "spin.fs.", {}, {}, []),
])
def test_desired_labels(current, labels, prefix, new, added, removed):
    assert desired_labels(current, labels, prefix) == (new, added, removed)


class FakeModule:
    def __init__(self, params, check_mode=False):
        self.params = params
        self.check_mode = check_mode


class Nodes:
    def __init__(self, labels):
        self.node = {"ID": "n1id", "Version": {"Index": 7}, "Description": {"Hostname": "n1"},
                     "Spec": {"Labels": dict(labels), "Availability": "active", "Role": "worker"}}
        self.updates = []

    def nodes(self):
        return [self.node]

    def update_node(self, node_id, version, spec):
        self.updates.append((node_id, version, spec))


def test_node_labels_run_updates_once_and_only_outside_check_mode():
    from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
    from ansible_collections.spin.platform.plugins.modules.spin_node_labels import run

    client = Nodes({"spin.edge": "true", "spin.fs.gone": "true"})
    params = {"node": "n1", "labels": {"spin.fs.cfs": "true"}, "prefix": "spin.fs."}
    checked = run(FakeModule(params, check_mode=True), client)
    assert checked["changed"] and checked["removed"] == ["spin.fs.gone"] and client.updates == []
    done = run(FakeModule(params), client)
    assert done["labels"] == {"spin.edge": "true", "spin.fs.cfs": "true"}
    [(node_id, version, spec)] = client.updates
    assert (node_id, version, spec["Role"], spec["Labels"]) == ("n1id", 7, "worker", done["labels"])
    client.node["Spec"]["Labels"] = done["labels"]
    assert not run(FakeModule(params), client)["changed"] and len(client.updates) == 1
    with pytest.raises(SpinError, match="no swarm node has the ID or hostname 'n9'"):
        run(FakeModule(dict(params, node="n9")), client)
