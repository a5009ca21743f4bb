"""spin_node_labels: the labels a node should carry from the file systems seen mounted on it, and run()
updating a node once, only outside check mode."""
import pytest

from ansible_collections.spin.platform.plugins.modules.spin_node_labels import desired_labels


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
