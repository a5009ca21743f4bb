"""The reviewed task file is the deploy: translate a stack with playbooks/translate.yml, run the
written file unchanged (spin_network, spin_volume, spin_secret, spin_service), run it again
(nothing changes), deploy the same submission with playbooks/deploy.yml (spin_stack finds
nothing to do, Swarm's version indexes stay), then remove the stack."""
import base64
import hashlib
import time

import pytest
import yaml
from stacklib import discard, hand_in, registry, submission_dir

PASSWORD = "r00t-%s\n"     # with the trailing newline a text editor leaves; the secret keeps it
COMPOSE = """\
version: '3.8'
services:
  web:
    image: httpd
    networks: [back]
    depends_on: [db]
    # the review file holds the stack's Swarm objects; the edge's routes are spin_stack's and
    # spin_lb's (docs/load-balancer.md), so this stack has none
    x-spin: {route: false}
  db:
    image: mysql
    environment:
      MYSQL_ROOT_PASSWORD_FILE: /run/secrets/db_root_password
      MYSQL_DATABASE: app
    secrets: [db_root_password]
    volumes: [dbdata:/var/lib/mysql]
    networks: [back]
networks:
  back: {}
volumes:
  dbdata: {}
secrets:
  db_root_password:
    file: ./db_root_password.txt
"""
APPLY = """\
- name: Apply the reviewed tasks of a stack
  hosts: swarm_managers[0]
  gather_facts: false
  module_defaults:
    spin.platform.spin_secret:
      data_file: {submission}
  tasks:
    - name: The reviewed tasks, unchanged
      ansible.builtin.include_tasks: {tasks}
"""


def stack_objects(docker_client, stack):
    label = {"label": "spin.stack=" + stack}
    return {
        "services": sorted(s.name for s in docker_client.services.list(filters=label)),
        "networks": sorted(n.name for n in docker_client.networks.list(filters=label)),
        "volumes": sorted(v.name for v in docker_client.volumes.list(filters=label)),
        "secrets": sorted(s.name for s in docker_client.secrets.list(filters=label)),
        "configs": sorted(c.name for c in docker_client.configs.list(filters=label)),
        "containers": sorted(c.name for c in docker_client.containers.list(all=True, filters=label)),
    }


def versions(docker_client, stack):
    return {s.name: s.attrs["Version"]["Index"]
            for s in docker_client.services.list(filters={"label": "spin.stack=" + stack})}


def running(docker_client, service):
    tasks = docker_client.services.get(service).tasks(filters={"desired-state": "running"})
    return [t for t in tasks if t["Status"]["State"] == "running"]


def named(sub):
    """The submission as staff name it on the command line: its vars file."""
    return "spin_submission=%s" % (sub / "vars.yml")


@pytest.fixture
def submission(docker_client, playbook, prefix):
    """Tenant demo's submission directory; the stack and the directory are removed afterwards
    whatever happened."""
    stack = "res" + prefix
    demo = registry()["demo"]
    sub = submission_dir("demo", stack, demo["uid"], demo["gid"])
    password = PASSWORD % prefix
    (sub / "docker-compose.yml").write_text(COMPOSE)
    (sub / "db_root_password.txt").write_text(password)
    (sub / "vars.yml").write_text(yaml.safe_dump({"spin_stack": stack, "spin_compose_file": "docker-compose.yml"}))
    hand_in(sub, demo["uid"], demo["gid"])
    yield stack, sub, password
    playbook("playbooks/remove.yml", "-e", named(sub), "-e", "spin_remove_volumes=true", check=False)
    discard(sub)
    for service in docker_client.services.list(filters={"label": "spin.stack=" + stack}):
        service.remove()
    for kind in ("networks", "secrets", "volumes"):
        for obj in getattr(docker_client, kind).list(filters={"label": "spin.stack=" + stack}):
            try:
                obj.remove()
            except Exception:  # noqa: BLE001 - best effort; the test itself asserts that nothing is left
                pass


def test_the_reviewed_task_file_is_the_deploy(docker_client, playbook, submission, tmp_path):
    stack, sub, password = submission
    vars_file = named(sub)
    web, db = stack + "_web", stack + "_db"
    digest = hashlib.sha256(password.encode()).hexdigest()
    secret = "%s_db_root_password_%s" % (stack, digest[:10])

    # (1) translate: the file names every object, and shows the secret only as its size
    tasks = tmp_path / "review" / "tasks.yml"
    playbook("playbooks/translate.yml", "-e", vars_file, "-e", "spin_translate_dest=%s" % tasks)
    text = tasks.read_text()
    assert password.strip() not in text and base64.b64encode(password.encode()).decode() not in text
    written = yaml.safe_load(text)
    modules = [next(k for k in task if k.startswith("spin.platform.")) for task in written]
    assert modules == ["spin.platform.spin_network", "spin.platform.spin_volume", "spin.platform.spin_secret",
                       "spin.platform.spin_service", "spin.platform.spin_service"]
    assert written[2]["spin.platform.spin_secret"]["name"] == secret
    assert written[2]["spin.platform.spin_secret"]["data"] == "<redacted: %d bytes>" % len(password.encode())
    assert digest not in text   # no full digest: it would confirm guesses at the password

    # (2) run the written file unchanged; the secret's content comes from the submission directory
    apply = tmp_path / "apply.yml"
    apply.write_text(APPLY.format(submission=sub, tasks=tasks))
    started = time.monotonic()
    first = playbook(str(apply))
    print("first run of the reviewed file: %.1f s" % (time.monotonic() - started))
    assert first.recap()["changed"] == 5 and first.recap()["failed"] == 0
    objects = stack_objects(docker_client, stack)
    assert objects["services"] == sorted([web, db])
    assert objects["networks"] == [stack + "_back"]
    assert objects["volumes"] == [stack + "_dbdata"]
    assert objects["secrets"] == [secret]
    assert len(running(docker_client, web)) == 1 and len(running(docker_client, db)) == 1
    # the database was initialised with the secret's bytes (the newline is the file's; the entrypoint's
    # $(< file) drops it, as it would for a secret made by spin_stack)
    container = docker_client.containers.list(filters={"label": "com.docker.swarm.service.name=" + db})[0]
    assert container.exec_run(["cat", "/run/secrets/db_root_password"]).output == password.encode()
    login = container.exec_run(["mariadb", "-uroot", "-p" + password.strip(), "-e", "SELECT 1"])
    assert login.exit_code == 0, login.output
    wrong = container.exec_run(["mariadb", "-uroot", "-pwrong", "-e", "SELECT 1"])
    assert wrong.exit_code != 0

    # (3) again: nothing changes, in check mode neither
    before = versions(docker_client, stack)
    assert playbook(str(apply)).recap()["changed"] == 0
    assert playbook(str(apply), "--check", "--diff").recap()["changed"] == 0
    assert versions(docker_client, stack) == before

    # (4) the tenant's deploy of the same files finds nothing to do: the reviewed file was the deploy
    deployed = playbook("playbooks/deploy.yml", "-e", vars_file)
    assert deployed.recap()["changed"] == 0 and deployed.recap()["failed"] == 0, deployed.output[-5000:]
    assert "0 created, 0 updated, 0 removed, 2 unchanged" in deployed.output
    assert versions(docker_client, stack) == before
    assert stack_objects(docker_client, stack)["secrets"] == [secret]

    # (5) remove the stack with its volumes: nothing labelled for it is left
    removed = playbook("playbooks/remove.yml", "-e", vars_file, "-e", "spin_remove_volumes=true")
    assert "could not remove" not in removed.output
    left = wait_until_gone(docker_client, stack)
    assert left == {"services": [], "networks": [], "volumes": [], "secrets": [], "configs": [], "containers": []}


def wait_until_gone(docker_client, stack, timeout=60):
    """The stack's objects once its task containers are gone (Docker removes them after the services)."""
    deadline = time.monotonic() + timeout
    left = stack_objects(docker_client, stack)
    while (left["containers"] or left["services"]) and time.monotonic() < deadline:
        time.sleep(1)
        left = stack_objects(docker_client, stack)
    return left


def test_a_changed_secret_file_is_refused(docker_client, playbook, submission, tmp_path):
    """The content run is the content reviewed: a secret file edited after the review stops the run
    at the secret, before any service is created."""
    stack, sub, password = submission
    tasks = tmp_path / "tasks.yml"
    playbook("playbooks/translate.yml", "-e", named(sub), "-e", "spin_translate_dest=%s" % tasks)
    (sub / "db_root_password.txt").write_text(password.upper())
    apply = tmp_path / "apply.yml"
    apply.write_text(APPLY.format(submission=sub, tasks=tasks))
    refused = playbook(str(apply), check=False)
    assert refused.rc != 0
    assert "no file under %s has the reviewed content (%d bytes" % (sub, len(password.encode())) in refused.output
    objects = stack_objects(docker_client, stack)
    assert objects["services"] == [] and objects["secrets"] == []
