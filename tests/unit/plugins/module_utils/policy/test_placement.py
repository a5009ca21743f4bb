"""Placement by data: a service that mounts a global file system runs only on nodes labelled for
it, and a stack whose file system no node carries is refused on the manager, naming it."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.policy import placement
from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.modules import spin_policy

FS = {"cfs": {"src": "nfs1:/cfs", "path": "/global/cfs", "fstype": "nfs4"},
      "cdirs": {"src": "nfs2:/cdirs", "path": "/global/cfs/cdirs", "fstype": "nfs4"},
      "homes": {"src": "homes", "path": "/global/homes", "fstype": "gpfs"}}


def node(host, labels, state="ready", availability="active"):
    return {"ID": host + "-id", "Description": {"Hostname": host},
            "Spec": {"Labels": labels, "Availability": availability}, "Status": {"State": state}}


@pytest.mark.parametrize("source, expected", [
    ("/global/cfs/projects/x", "cfs"),
    ("/global/cfs", "cfs"),
    ("/global/cfs/cdirs/cory", "cdirs"),       # the deepest mount point holds it
    ("/global/cfsx/data", None),               # a sibling with the same prefix is not inside
    ("/global/homes/c/cory/../magic", "homes"),
    ("/srv/data", None),
])
def test_filesystem_of(source, expected):
    assert placement.filesystem_of(source, FS) == expected


COMPOSE = """
services:
  web:
    image: httpd
    user: "1000:1000"
    volumes:
      - /global/cfs/cdirs/cory:/data:ro
      - /global/homes/c/cory:/home:ro
      - data:/var/cache
    deploy:
      placement:
        constraints: [node.role==worker, "node.labels.spin.fs.cdirs==true"]
  db:
    image: mariadb
    volumes: [data:/var/lib/mysql]
volumes:
  data: {}
"""


def test_translate_adds_one_constraint_per_file_system_after_the_tenants_own():
    model, diagnostics = compose.parse_stack(COMPOSE, "docker-compose.yml")
    assert not diag.has_errors(diagnostics)
    tasks = translate.stack_to_tasks(model, "cory", "magic", filesystems=FS)
    web = next(s for s in tasks["services"] if s["name"] == "magic_web")
    db = next(s for s in tasks["services"] if s["name"] == "magic_db")
    assert web["placement"]["constraints"] == ["node.role==worker", "node.labels.spin.fs.cdirs==true",
                                               "node.labels.spin.fs.homes==true"]
    assert db["placement"] is None
    # no spin_global_fs (a platform that names none): nothing changes
    plain = translate.stack_to_tasks(model, "cory", "magic")
    assert next(s for s in plain["services"] if s["name"] == "magic_web")["placement"]["constraints"] == \
        ["node.role==worker", "node.labels.spin.fs.cdirs==true"]


def test_with_fs_constraints_from_no_placement():
    assert placement.with_fs_constraints(None, ["cfs"]) == {
        "constraints": ["node.labels.spin.fs.cfs==true"], "preferences": [], "max_replicas": None}
    assert placement.with_fs_constraints(None, []) is None


def test_carried_filesystems_counts_only_nodes_that_can_run_tasks():
    nodes = [node("n1", {"spin.fs.cfs": "true", "spin.edge": "true"}),
             node("n2", {"spin.fs.cfs": "true", "spin.fs.homes": "true"}, availability="drain"),
             node("n3", {"spin.fs.homes": "true"}, state="down"),
             node("n4", {"spin.fs.cdirs": "false"})]
    assert placement.carried_filesystems(nodes) == {"cfs": ["n1"]}


def test_violations_name_the_file_system_that_no_node_carries():
    binds = [{"service": "web", "key": "volumes", "source": "/global/cfs/cdirs/cory", "read_only": True},
             {"service": "web", "key": "volumes", "source": "/global/cfs/x", "read_only": True},
             {"service": "app", "key": "volumes", "source": "/srv/other", "read_only": True}]
    found = placement.placement_violations(binds, FS, [node("n1", {"spin.fs.cfs": "true"})],
                                           {"compose": "compose.yml"})
    assert len(found) == 1
    assert found[0]["rule"] == "global-fs-placement" and found[0]["file"] == "compose.yml"
    assert found[0]["service"] == "web"
    assert "the global file system 'cdirs', which no node carries now" in found[0]["message"]
    assert "spin.fs.cdirs=true" in found[0]["message"]


@pytest.mark.parametrize("bad, message", [
    ({"CFS": {"path": "/g", "fstype": "nfs"}}, "the name must be lower-case"),
    ({"cfs": {"path": "g", "fstype": "nfs"}}, "spin_global_fs.cfs.path must be the absolute mount point"),
    ({"cfs": {"path": "/", "fstype": "nfs"}}, "spin_global_fs.cfs.path must be the absolute mount point"),
    ({"cfs": {"path": "/g"}}, "spin_global_fs.cfs.fstype is required"),
    ({"cfs": {"path": "/g", "fstype": "nfs", "mountpoint": "/x"}}, "unknown key 'mountpoint'"),
    (["cfs"], "spin_global_fs must be a mapping"),
])
def test_check_filesystems_refuses_mistakes(bad, message):
    with pytest.raises(SpinError, match=message):
        placement.check_filesystems(bad)


class Nodes:
    """The swarm as the manager sees it, for spin_policy's run()."""

    def __init__(self, nodes):
        self._nodes = nodes

    def nodes(self):
        return self._nodes

    def info(self):
        return {"Swarm": {"Nodes": len(self._nodes)}}

    def containers(self, labels=None, status=None):
        return []

    def services(self, labels=None):
        return []

    networks = volumes = secrets = configs = services


def _params(tmp_path, binds):
    return {"tenant": "cory", "stack": "magic", "tenants": {"cory": {"uid": 1000, "gid": 1000,
                                                                     "paths": ["/global/cfs/cdirs/cory"]}},
            "global_fs_roots": None, "global_fs": FS, "policy": {"require_no_new_privileges": False},
            "docker_host": "tcp://127.0.0.1:1", "daemon_json": "/nonexistent", "audit_log": "",
            "_controller": {"violations": [], "replicas": {"web": 1}, "binds": binds, "input_digest": "sha256:00",
                            "files": {"compose": "docker-compose.yml"}, "error_count": 0}}


def test_the_manager_refuses_before_anything_is_created(tmp_path):
    binds = [{"service": "web", "key": "volumes", "source": "/global/cfs/cdirs/cory/data", "read_only": True}]
    refused = spin_policy.run(_params(tmp_path, binds), Nodes([node("n1", {"spin.fs.cfs": "true"})]))
    assert [v["rule"] for v in refused["violations"]] == ["global-fs-placement"]
    allowed = spin_policy.run(_params(tmp_path, binds), Nodes([node("n1", {"spin.fs.cdirs": "true"})]))
    assert allowed["violations"] == [] and allowed["allowed"]
