"""spin.platform.spin_policy through ansible-playbook against the real engine: a refused stack names
every cause and leaves nothing on the swarm; an allowed one passes; ownership, the quota over the
tenant's other stacks, symbolic links and the engine's no-new-privileges are checked on the manager."""
import json
import os
import shutil
import textwrap
import time

import pytest
from stacklib import hand_in, submission_dir

PLAYBOOK = "tests/integration/playbooks/policy.yml"

REFUSED = """\
services:
  web:
    image: evil/miner
    privileged: true
    user: root
    ports: ["22:22"]
    volumes:
      - /global/cfs/cdirs/cory:/data
      - /var/run/docker.sock:/var/run/docker.sock
    security_opt: [seccomp=unconfined]
"""

ALLOWED = """\
version: '2'
services:
  web:
    image: httpd
    ports:
      - 80:80
    links:
      - db:db
  db:
    image: mysql
    environment:
      MYSQL_ROOT_PASSWORD: s3cr3t
"""
ALLOWED_RANCHER = """\
version: '2'
services:
  web:
    scale: 2
  db:
    scale: 1
"""


@pytest.fixture
def stack(prefix):
    return "pol" + prefix  # this helper's Docker name prefix


@pytest.fixture
def submission(tmp_path):
    """The tenant's files, written in a scratch directory; run_policy hands them in as the tenant's."""
    def write(compose_text, rancher_text=None):
        directory = tmp_path / "submission"
        directory.mkdir(exist_ok=True)
        (directory / "docker-compose.yml").write_text(compose_text)
        if rancher_text is not None:
            (directory / "rancher-compose.yml").write_text(rancher_text)
        return directory
    return write


def tenants(global_root="/global"):
    return {"cory": {"uid": 1000, "gid": 1000, "paths": [global_root + "/cfs/cdirs/cory"]},
            "other": {"uid": 1001, "gid": 1001, "paths": [], "quota": {"replicas": 10}}}


def handed_in(tmp_path, directory, tenant, stack, registry):
    """The files written in ``directory`` as ``tenant``'s submission ``<root>/<tenant>/<stack>/``,
    owned by the tenant's uid in ``registry``. The root is the test's own: its registry gives cory
    and other uids that the local platform's registry gives other tenants."""
    entry = registry[tenant]
    target = submission_dir(tenant, stack, entry["uid"], entry["gid"], root=str(tmp_path / "submissions"))
    shutil.copytree(str(directory), str(target), dirs_exist_ok=True)
    hand_in(target, entry["uid"], entry["gid"])
    return target


def run_policy(playbook, tmp_path, stack, directory, tenant="cory", rancher=False, check=True, extra=None,
               registry=None, args=()):
    registry = registry or tenants()
    submitted = handed_in(tmp_path, directory, tenant, stack, registry)
    variables = {"pol_tenant": tenant, "pol_stack": stack,
                 "pol_compose_file": str(submitted / "docker-compose.yml"),
                 "pol_result_file": str(tmp_path / "result.json"),
                 "pol_tenants": registry, "pol_submission_roots": [str(tmp_path / "submissions")]}
    if rancher:
        variables["pol_rancher_compose_file"] = str(submitted / "rancher-compose.yml")
    variables.update(extra or {})
    if (tmp_path / "result.json").exists():
        (tmp_path / "result.json").unlink()
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(variables))
    result = playbook(PLAYBOOK, "-e", "@%s" % vars_file, *args, check=check)
    stored = tmp_path / "result.json"
    result.data = json.loads(stored.read_text()) if stored.exists() else None
    return result


def stack_objects(docker_client, stack):
    """Every object on the engine labelled for the stack or named like its objects."""
    api = docker_client.api
    found = []
    listings = [("service", api.services(), lambda o: o["Spec"]["Name"], lambda o: o["Spec"].get("Labels")),
                ("network", api.networks(), lambda o: o["Name"], lambda o: o.get("Labels")),
                ("volume", api.volumes().get("Volumes") or [], lambda o: o["Name"], lambda o: o.get("Labels")),
                ("secret", api.secrets(), lambda o: o["Spec"]["Name"], lambda o: o["Spec"].get("Labels")),
                ("config", api.configs(), lambda o: o["Spec"]["Name"], lambda o: o["Spec"].get("Labels"))]
    for kind, items, name_of, labels_of in listings:
        for item in items:
            labels = labels_of(item) or {}
            if labels.get("spin.stack") == stack or name_of(item).startswith(stack + "_"):
                found.append((kind, name_of(item)))
    return found


def test_refused_stack_names_every_cause_and_creates_nothing(playbook, docker_client, tmp_path, stack, submission):
    directory = submission(REFUSED)
    audit_log = tmp_path / "audit" / "audit.jsonl"
    result = run_policy(playbook, tmp_path, stack, directory, check=False,
                        extra={"pol_audit_log": str(audit_log)})
    assert result.rc != 0
    out = result.output
    assert "stack '%s' of tenant 'cory' is refused" % stack in out
    for line in [
        "docker-compose.yml: service 'web': key 'image': [image] image 'evil/miner' is not among the images",
        "docker-compose.yml: service 'web': key 'privileged': [privileged]",
        "docker-compose.yml: service 'web': key 'user': [global-fs-user] mounts /global/cfs/cdirs/cory but runs "
        "as root; run as the tenant's uid: add \"user: 1000:1000\"",
        "docker-compose.yml: service 'web': key 'volumes': [global-fs-read-only] /global/cfs/cdirs/cory is "
        "mounted read-write",
        "docker-compose.yml: service 'web': key 'volumes': [docker-socket] bind mount of /var/run/docker.sock",
        # which ports may be published is the edge's (spin_lb_ports), checked with the policy: one verdict
        "docker-compose.yml: service 'web': key 'ports[0]': port 22 is not one the platform lets stacks publish: "
        "use one of 80, 443, 8000-8009 (the platform variable lb_ports)",
        "docker-compose.yml: service 'web': key 'security_opt': [security-opt] 'seccomp=unconfined'",
    ]:
        assert line in out, line
    assert stack_objects(docker_client, stack) == []
    [record] = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert (record["tenant"], record["stack"], record["action"], record["verdict"]) == ("cory", stack,
                                                                                        "check", "refused")
    assert record["violations"] == sorted(["image", "privileged", "global-fs-user", "global-fs-read-only",
                                           "docker-socket", "security-opt"])
    assert record["errors"] == 1  # the port, refused by the load balancer's rules
    assert record["input_digest"].startswith("sha256:")
    assert oct(os.stat(audit_log).st_mode & 0o777) == "0o640"


def test_allowed_stack_passes_in_normal_and_check_mode(playbook, docker_client, tmp_path, stack, submission):
    directory = submission(ALLOWED, ALLOWED_RANCHER)
    for args in ((), ("--check",)):
        result = run_policy(playbook, tmp_path, stack, directory, rancher=True, args=args)
        data = result.data
        assert data["changed"] is False and data["allowed"] is True and data["violations"] == [] and data["messages"] == []
        assert data["replicas"]["stack"] == 3 and data["replicas"]["quota"] == 10
    assert stack_objects(docker_client, stack) == []


def test_parse_errors_refuse_too(playbook, tmp_path, stack, submission):
    directory = submission("services:\n  web:\n    imagee: httpd\n")
    result = run_policy(playbook, tmp_path, stack, directory, check=False)
    assert result.rc != 0
    assert "docker-compose.yml: service 'web': key 'imagee': unknown key (did you mean 'image'?)" in result.output


@pytest.fixture
def foreign_network(docker_client, stack):
    network = docker_client.networks.create("%s_default" % stack, driver="overlay",
                                            labels={"spin.stack": stack, "spin.tenant": "cory"})
    yield network
    network.remove()


def test_another_tenants_stack_is_refused(playbook, docker_client, tmp_path, stack, submission, foreign_network):
    directory = submission(ALLOWED, ALLOWED_RANCHER)
    result = run_policy(playbook, tmp_path, stack, directory, tenant="other", rancher=True, check=False)
    assert result.rc != 0
    assert "key 'spin_stack': [ownership] stack '%s' belongs to tenant 'cory'; choose another stack name" % stack \
        in result.output
    # the owner itself may go on
    allowed = run_policy(playbook, tmp_path, stack, directory, tenant="cory", rancher=True)
    assert allowed.data["allowed"] is True


@pytest.fixture
def unlabelled_volume(docker_client, stack):
    volume = docker_client.volumes.create("%s_data" % stack)
    yield volume
    volume.remove()


def test_unlabelled_object_named_like_the_stack_is_refused(playbook, tmp_path, stack, submission, unlabelled_volume):
    directory = submission(ALLOWED)
    result = run_policy(playbook, tmp_path, stack, directory, check=False)
    assert result.rc != 0
    assert "stack '%s' has objects that belong to no tenant (volume '%s_data')" % (stack, stack) in result.output


@pytest.fixture
def other_stack_service(docker_client, stack):
    """A service of tenant 'other' in another stack: 9 replicas that never start (no node matches)."""
    name = "%sb_web" % stack
    service = docker_client.services.create(
        "httpd:latest", name=name, mode={"Replicated": {"Replicas": 9}},
        constraints=["node.labels.pol-nowhere==true"],
        labels={"spin.tenant": "other", "spin.stack": stack + "b"})
    yield service
    service.remove()


def test_quota_counts_the_tenants_other_stacks(playbook, tmp_path, stack, submission, other_stack_service):
    directory = submission(ALLOWED, ALLOWED_RANCHER)
    result = run_policy(playbook, tmp_path, stack, directory, tenant="other", rancher=True,
                        extra={"pol_fail_on_violation": False})
    data = result.data
    assert data["allowed"] is False
    assert data["replicas"] == {"stack": 3, "other_stacks": 9, "quota": 10}
    assert [v["rule"] for v in data["violations"]] == ["replica-quota"]
    assert "the stack asks for 3 replicas (db 1, web 2) and the tenant's other stacks run 9: 12 in all, over " \
           "tenant 'other''s quota of 10" in data["messages"][0]


def test_symbolic_link_out_of_the_tenants_path_is_refused(playbook, tmp_path, stack, submission):
    root = tmp_path / "global"
    cory = root / "cfs" / "cdirs" / "cory"
    cory.mkdir(parents=True)
    (cory / "data").mkdir()
    (cory / "escape").symlink_to("/etc")
    directory = submission(textwrap.dedent("""\
        services:
          web:
            image: httpd
            user: "1000:1000"
            volumes:
              - %s/data:/data:ro
              - %s/escape:/more:ro
        """ % (cory, cory)))
    result = run_policy(playbook, tmp_path, stack, directory, registry=tenants(str(root)),
                        extra={"pol_global_fs_roots": [str(root / "cfs")], "pol_fail_on_violation": False})
    data = result.data
    assert [(v["rule"], v["service"]) for v in data["violations"]] == [("host-path", "web")]
    assert "%s/escape (which resolves to /etc) is outside the allowed host paths" % cory in data["messages"][0]


@pytest.fixture
def running_task(docker_client, stack):
    service = docker_client.services.create("httpd:latest", name="%s_probe" % stack,
                                            labels={"spin.tenant": "cory", "spin.stack": stack},
                                            endpoint_spec=None)
    deadline = time.time() + 60
    while time.time() < deadline:
        if any(t["Status"]["State"] == "running" for t in service.tasks()):
            break
        time.sleep(0.5)
    else:
        pytest.fail("the probe service did not start: %s" % service.tasks())
    yield service
    service.remove()


def test_engine_no_new_privileges_seen_in_a_running_task(playbook, tmp_path, stack, submission, running_task):
    directory = submission(ALLOWED)
    data = run_policy(playbook, tmp_path, stack, directory).data
    assert data["allowed"] is True
    newest = data["engine"]["newest_container"]
    assert newest is not None and newest["name"].startswith("%s_probe." % stack)
    assert newest["no_new_privs"] is True
    assert data["engine"]["daemon_json"] is True


def test_a_tenants_own_allowance_of_ports_is_the_verdict(playbook, docker_client, tmp_path, stack, submission):
    """spin_tenants.<name>.ports narrows the edge's ports for that tenant: the same stack is refused
    for a tenant allowed 8003 only and passes for one allowed 8005, nothing created either way."""
    directory = submission("services:\n  web:\n    image: httpd\n    ports: ['8005:80']\n")
    registry = tenants()
    registry["cory"]["ports"] = [8003]
    refused = run_policy(playbook, tmp_path, stack, directory, registry=registry, check=False)
    assert refused.rc != 0
    assert ("docker-compose.yml: service 'web': key 'ports[0]': port 8005 is not one tenant 'cory' may publish: "
            "use one of 8003 (the tenant's allowance, spin_tenants.cory.ports; infra staff change it with the role "
            "spin.platform.tenant)") in refused.output
    registry["cory"]["ports"] = ["8004-8005"]
    allowed = run_policy(playbook, tmp_path, stack, directory, registry=registry, check=False)
    assert allowed.rc == 0, allowed.output
    assert allowed.data["allowed"] is True and allowed.data["violations"] == [] and allowed.data["messages"] == []
    assert stack_objects(docker_client, stack) == []
