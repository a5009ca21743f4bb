"""submission (the controller side of spin_policy / spin_stack): where it finds the tenant's
files and what it reads."""
import os

import pytest

from ansible_collections.spin.platform.plugins.plugin_utils.submission import check_submission, locate, read_submission
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.tests.unit import tenant_tree


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
    assert names == {"compose": "docker-compose.yml", "rancher": os.path.join("conf", "rancher-compose.yml"),
                     "overrides": []}
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


def _write(directory, files):
    for name, text in files.items():
        path = os.path.join(directory, name)
        with open(path, "wb") as handle:
            handle.write(text if isinstance(text, bytes) else text.encode())
    tenant_tree.hand_in(directory)


def test_check_submission_judges_on_the_controller(tmp_path):
    root, directory = tenant_tree.submission(tmp_path, "cory", "sub")
    _write(directory, {
        "docker-compose.yml": "services:\n"
        "  web:\n    image: httpd\n    privileged: true\n    env_file: app.env\n"
        "    volumes: ['/global/cfs/cdirs/cory:/d:ro']\n    user: '1000'\n"
        "  agent:\n    image: httpd\n    deploy: {mode: global}\n",
        "rancher-compose.yml": "services:\n  web:\n    scale: 3\n", "app.env": "A=1\n"})
    args = {"tenant": "cory", "stack": "demo", "compose_file": "docker-compose.yml",
            "rancher_compose_file": "rancher-compose.yml", "variables": {}, "policy": None,
            "global_fs_roots": None, "submission_roots": [root],
            "tenants": tenant_tree.registry("cory", paths=["/global/cfs/cdirs/cory"])}
    model, facts, tasks = check_submission(args, [directory])
    assert tasks is None  # refused: nothing to apply
    assert [v["rule"] for v in facts["violations"]] == ["privileged"]
    assert facts["replicas"] == {"web": 3, "agent": "global"}
    assert facts["binds"] == [{"service": "web", "key": "volumes", "source": "/global/cfs/cdirs/cory",
                               "read_only": True}]
    assert facts["files"] == {"compose": "docker-compose.yml", "rancher": "rancher-compose.yml"}
    assert facts["error_count"] == 0 and facts["compose_path"] == os.path.join(directory, "docker-compose.yml")
    # the digest covers every file read, the env_file too
    _write(directory, {"app.env": "A=2\n"})
    assert check_submission(args, [directory])[1]["input_digest"] != facts["input_digest"]
    assert model["services"]["web"]["cap_drop"] == ["ALL"]
    assert model["services"]["web"]["cap_add"] == ["NET_BIND_SERVICE"]


# ---- submission roots: files are read from where the platform says, nothing else ----------------

def _args(compose_file, roots, **extra):
    return dict({"tenant": "demo", "stack": "st", "compose_file": compose_file, "rancher_compose_file": None,
                 "variables": {}, "policy": None, "global_fs_roots": None, "submission_roots": roots,
                 "tenants": tenant_tree.registry()}, **extra)


def test_a_file_outside_the_submission_roots_is_refused_unread(tmp_path):
    root, _directory = tenant_tree.submission(tmp_path)
    with pytest.raises(SpinError) as info:
        check_submission(_args("/etc/shadow", [root]), [str(tmp_path)])
    assert info.value.message == (
        "compose_file /etc/shadow is outside the submission roots (%s): tenants' files are read only from there, "
        "from <root>/<tenant>/<stack>/ (infra staff set the roots: spin_submission_roots)" % root)


def test_a_symbolic_link_that_leads_out_of_the_roots_is_refused(tmp_path):
    root, directory = tenant_tree.submission(tmp_path)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "docker-compose.yml").write_text("services: {web: {image: httpd}}\n")
    os.symlink(str(tmp_path / "elsewhere" / "docker-compose.yml"), os.path.join(directory, "docker-compose.yml"))
    with pytest.raises(SpinError) as info:
        check_submission(_args(os.path.join(directory, "docker-compose.yml"), [root]), [str(tmp_path)])
    assert "(a symbolic link to %s) is outside the submission roots" % (
        tmp_path / "elsewhere" / "docker-compose.yml") in info.value.message


@pytest.mark.parametrize("content", [
    "root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n",
    "root: $6$salt$hash\nbob: s3cret-password\n",
    b"\x7fELF\x02\x01\x01\x00\x00\x00secret",
    "- first secret line\n- second secret line\n",
])
def test_a_file_that_is_not_a_compose_file_is_refused_without_its_content(tmp_path, content):
    root, directory = tenant_tree.submission(tmp_path)
    _write(directory, {"shadow": content})
    model, facts, tasks = check_submission(_args("shadow", [root]), [directory])
    messages = [d["message"] for d in facts["diagnostics"]]
    assert len(messages) == 1 and tasks is None
    assert messages[0].startswith("is not a compose file") or messages[0].startswith("must be a mapping")
    for secret in ("root", "daemon", "salt", "s3cret", "ELF", "secret line", "bob"):
        assert secret not in messages[0]


def test_dotenv_gives_defaults_that_the_vars_file_overrides(tmp_path):
    root, directory = tenant_tree.submission(tmp_path)
    _write(directory, {"docker-compose.yml":
                       "services:\n  web:\n    image: 'httpd:${TAG}'\n    environment: {GREETING: '${GREETING}', "
                       "ONLY: $ONLY}\n  debug:\n    image: httpd\n    profiles: [debug]\n",
                       ".env": "TAG=2.4\nGREETING=from-dotenv\nONLY=dotenv\nCOMPOSE_PROFILES=debug\n"})
    model, facts, tasks = check_submission(_args("docker-compose.yml", [root],
                                                 variables={"GREETING": "from-vars"}), [directory])
    assert facts["diagnostics"] == [] and tasks is not None
    web = model["services"]["web"]
    assert web["image"] == "httpd:2.4"
    assert web["environment"] == {"GREETING": "from-vars", "ONLY": "dotenv"}
    assert sorted(model["services"]) == ["debug", "web"]  # COMPOSE_PROFILES from .env
    # the vars file's profiles win over .env
    model, facts, tasks = check_submission(_args("docker-compose.yml", [root], profiles=[]), [directory])
    assert sorted(model["services"]) == ["web"] and facts["inactive"] == {"debug": ["debug"]}
    # .env is part of the input the audit digest covers
    before = facts["input_digest"]
    _write(directory, {".env": "TAG=2.4\nGREETING=x\nONLY=y\n"})
    assert check_submission(_args("docker-compose.yml", [root], profiles=[]), [directory])[1]["input_digest"] != before


# ---- host names under another tenant's automatic-route domain (issue 17) ------------------------

@pytest.mark.parametrize("hostname, refused", [
    ("*.cory.spin.example.org", True),
    ("web.magic.cory.spin.example.org", True),
    ("*.spin.example.org", True),
    ("www.eve.spin.example.org", False),
    ("www.example.org", False),
])
@pytest.mark.parametrize("entry", [{"uid": 1002, "gid": 1002},
                                   {"uid": 1002, "gid": 1002, "hostnames": ["*.spin.example.org", "*.example.org"]}])
def test_the_controllers_verdict_keeps_a_tenant_out_of_another_tenants_route_domain(tmp_path, hostname, refused, entry):
    """With or without a host-name allowance, whether or not cory exists: the platform's route_domain
    (spin_platform) decides."""
    root, directory = tenant_tree.submission(tmp_path, "eve", "evil")
    _write(directory, {
        "docker-compose.yml": "services:\n  web:\n    image: httpd\n  lb:\n    image: rancher/lb-service-haproxy\n",
        "rancher-compose.yml": "services:\n  lb:\n    lb_config:\n      port_rules:\n      - {source_port: 80, "
                               "target_port: 80, service: web, hostname: '%s'}\n" % hostname})
    entry = dict(entry, uid=tenant_tree.UID, gid=tenant_tree.GID)
    args = _args("docker-compose.yml", [root], tenant="eve", stack="evil",
                 rancher_compose_file="rancher-compose.yml", tenants={"eve": entry},
                 platform={"route_domain": "spin.example.org"})
    dummy, facts, tasks = check_submission(args, [directory])
    errors = [d for d in facts["diagnostics"] if d["severity"] == "error"]
    if refused:
        assert tasks is None and len(errors) == 1, errors
        assert (errors[0]["file"], errors[0]["service"], errors[0]["key"]) == (
            "rancher-compose.yml", "lb", "lb_config.port_rules[0].hostname")
        assert errors[0]["message"].startswith("hostname '%s' is inside " % hostname)
        assert "use a name under 'eve.spin.example.org'" in errors[0]["message"]
    else:
        assert errors == [] and tasks is not None
