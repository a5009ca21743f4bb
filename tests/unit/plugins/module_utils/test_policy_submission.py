"""submission (the controller side of spin_policy / spin_stack): where it finds the tenant's
files and what it reads."""
import os

import pytest

from ansible_collections.spin.platform.plugins.module_utils.submission import locate, read_submission
from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError


def test_locate(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "x.yml").write_text("")
    assert locate("/abs/x.yml", [str(tmp_path)]) == "/abs/x.yml"
    # the working directory first, then the playbook's directory
    assert locate("x.yml", [str(tmp_path / "a"), str(tmp_path / "b")]) == str(tmp_path / "b" / "x.yml")
    assert locate("nothing.yml", [str(tmp_path / "a"), str(tmp_path / "b")]) == str(tmp_path / "a" / "nothing.yml")


def submission(tmp_path):
    directory = tmp_path / "sub"
    directory.mkdir()
    (directory / "docker-compose.yml").write_text("services: {}\n")
    (directory / "conf").mkdir()
    (directory / "conf" / "rancher-compose.yml").write_text("services: {}\n")
    (directory / "app.env").write_text("A=1\n")
    (tmp_path / "outside.yml").write_text("services: {}\n")
    return directory


def test_read_submission_reads_inside_and_records_every_file(tmp_path):
    directory = submission(tmp_path)
    texts, names, reader, seen = read_submission(str(directory / "docker-compose.yml"),
                                                 str(directory / "conf" / "rancher-compose.yml"))
    assert names == {"compose": "docker-compose.yml", "rancher": os.path.join("conf", "rancher-compose.yml")}
    assert texts == {"compose": "services: {}\n", "rancher": "services: {}\n"}
    assert reader("app.env") == "A=1\n"
    assert sorted(seen) == ["app.env", "conf/rancher-compose.yml", "docker-compose.yml"]
    with pytest.raises(SpinError):
        reader("../outside.yml")


def test_read_submission_refuses_rancher_outside(tmp_path):
    directory = submission(tmp_path)
    with pytest.raises(SpinError) as info:
        read_submission(str(directory / "docker-compose.yml"), str(tmp_path / "outside.yml"))
    assert "outside the submission directory" in info.value.message


def test_read_submission_missing_compose(tmp_path):
    with pytest.raises(SpinError) as info:
        read_submission(str(tmp_path / "docker-compose.yml"), None)
    assert "does not exist" in info.value.message


def test_check_submission_judges_on_the_controller(tmp_path):
    from ansible_collections.spin.platform.plugins.module_utils.submission import check_submission
    directory = tmp_path / "sub"
    directory.mkdir()
    (directory / "docker-compose.yml").write_text(
        "services:\n"
        "  web:\n    image: httpd\n    privileged: true\n    env_file: app.env\n"
        "    volumes: ['/global/cfs/cdirs/cory:/d:ro']\n    user: '1000'\n"
        "  agent:\n    image: httpd\n    deploy: {mode: global}\n")
    (directory / "rancher-compose.yml").write_text("services:\n  web:\n    scale: 3\n")
    (directory / "app.env").write_text("A=1\n")
    args = {"tenant": "cory", "stack": "demo", "compose_file": "docker-compose.yml",
            "rancher_compose_file": "rancher-compose.yml", "variables": {}, "policy": None,
            "global_fs_roots": None,
            "tenants": {"cory": {"uid": 1000, "gid": 1000, "paths": ["/global/cfs/cdirs/cory"]}}}
    model, facts = check_submission(args, [str(directory)])
    assert [v["rule"] for v in facts["violations"]] == ["privileged"]
    assert facts["replicas"] == {"web": 3, "agent": "global"}
    assert facts["binds"] == [{"service": "web", "key": "volumes", "source": "/global/cfs/cdirs/cory",
                               "read_only": True}]
    assert facts["files"] == {"compose": "docker-compose.yml", "rancher": "rancher-compose.yml"}
    assert facts["error_count"] == 0 and facts["compose_path"] == str(directory / "docker-compose.yml")
    # the digest covers every file read, the env_file too
    (directory / "app.env").write_text("A=2\n")
    assert check_submission(args, [str(directory)])[1]["input_digest"] != facts["input_digest"]
    assert model["services"]["web"]["cap_drop"] == ["ALL"]
    assert model["services"]["web"]["cap_add"] == ["NET_BIND_SERVICE"]
