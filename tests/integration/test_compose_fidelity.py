"""Compose as Compose defines it, on the real engine (issue 8). One deploy, checked many ways:

- a relative bind mount of a file (./index.html) becomes a Swarm config: web serves the file's bytes;
- .env gives the variables; a service of an inactive profile is not deployed;
- depends_on conditions order the start: migrate (a one-off, service_completed_successfully) starts
  only once db is healthy, web only once db is healthy and migrate completed;
- web publishes nothing but serves HTTP: its automatic route answers through the edge;
- the same files again change nothing.

And a service that cannot start is reported with its container's own last output lines, in the
task's error and in the audit record."""
import json
import re
import subprocess
import time

import pytest
from stacklib import Tenant

PAGE = "<h1>served from the submission's own index.html</h1>\n"
COMPOSE = """\
services:
  web:
    image: httpd
    volumes:
      - ./index.html:/var/www/html/index.html:ro
    environment:
      GREETING: ${GREETING}
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  migrate:
    image: mariadb
    command: [sh, -c, 'mariadb -h db -u app -p"$$APP_PASSWORD" app -e "CREATE TABLE IF NOT EXISTS t (i INT)" && echo migrated']
    environment: {APP_PASSWORD: "${APP_PASSWORD}"}
    depends_on:
      db: {condition: service_healthy}
  db:
    image: mariadb
    environment: {MYSQL_DATABASE: app, MYSQL_USER: app, MYSQL_PASSWORD: "${APP_PASSWORD}"}
  debug:
    image: httpd
    profiles: [debug]
    command: [sh, -c, 'exit 1']
"""
DOTENV = "GREETING=hello from .env\nAPP_PASSWORD=app-pass-%s\n"


@pytest.fixture
def stack(tmp_path, docker_client, playbook, prefix):
    t = Tenant(tmp_path, docker_client, playbook, prefix)
    yield t
    t.remove("-e", "spin_remove_volumes=true", check=False)
    t.discard()


def _ts(text):
    """Docker's RFC 3339 time with nanoseconds -> a comparable string (same zone, same width)."""
    head, dummy, frac = text.rstrip("Z").partition(".")
    return head + "." + (frac + "000000000")[:9]


def _tasks(docker_client, name):
    return docker_client.services.get(name).tasks()


def test_one_deploy_configs_profiles_order_and_the_automatic_route(stack, docker_client, playbook):
    stack.write(COMPOSE, **{"index.html": PAGE, ".env": DOTENV % stack.stack})
    first = stack.deploy()
    web, migrate, db = (stack.stack + "_" + name for name in ("web", "migrate", "db"))

    # profiles: debug is not deployed
    assert set(stack.services()) == {web, migrate, db}

    # the automatic route: web answers at its own host name, with the file's bytes (a config)
    url = re.search(r"web: (http://web\.%s\.demo\.localhost(?::\d+)?/)" % stack.stack, first.output)
    assert url, first.output[-3000:]
    page = subprocess.run(["curl", "-s", "--max-time", "5", url.group(1)], stdout=subprocess.PIPE, text=True,
                          check=False).stdout
    assert page == PAGE
    spec = stack.services()[web].attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert [(c["File"]["Name"], c["File"]["Mode"]) for c in spec["Configs"]] == [("/var/www/html/index.html", 0o444)]
    assert spec["Configs"][0]["ConfigName"].startswith(stack.stack + "_index.html_")
    assert not spec.get("Mounts")
    # .env gave the variables
    assert "GREETING=hello from .env" in spec["Env"]

    # the start order: migrate ran once, after db was healthy; web started after both
    db_running = min(_ts(t["Status"]["Timestamp"]) for t in _tasks(docker_client, db)
                     if t["Status"]["State"] == "running")
    jobs = _tasks(docker_client, migrate)
    assert [t["Status"]["State"] for t in jobs] == ["complete"]
    assert "migrated" in b"".join(docker_client.services.get(migrate).logs(stdout=True)).decode()
    assert _ts(docker_client.services.get(migrate).attrs["CreatedAt"]) >= db_running
    migrated = _ts(jobs[0]["Status"]["Timestamp"])
    assert _ts(docker_client.services.get(web).attrs["CreatedAt"]) >= max(db_running, migrated)

    # the same files again: nothing changes, the job does not run again
    before = stack.versions()
    again = stack.deploy()
    assert again.recap()["changed"] == 0 and stack.versions() == before
    assert len(_tasks(docker_client, migrate)) == 1


def test_a_failed_start_quotes_the_containers_own_last_output(stack, docker_client):
    # the healthcheck keeps the task from counting as running before it exits (no monitor window here)
    stack.write("services:\n  app:\n    image: httpd\n    restart: 'no'\n    command: [sh, -c, 'echo starting; "
                "echo \"app: cannot read /etc/app/app.conf: no such file\" >&2; exit 3']\n"
                "    healthcheck: {test: [CMD, 'true'], interval: 2s}\n")
    failed = stack.deploy(check=False)
    assert failed.rc != 0
    said = " ".join(failed.output.replace("\\n", "\n").replace("''", "'").split())
    assert "task: non-zero exit (3) (1 failed attempts); the container's last output:" in said
    # both lines, as the container wrote them (stdout and stderr interleave by time)
    assert "starting" in said.split("last output:", 1)[1]
    assert "app: cannot read /etc/app/app.conf: no such file" in said.split("last output:", 1)[1]
    with open("/var/log/spin/audit.jsonl") as handle:
        records = [json.loads(line) for line in handle if stack.stack in line]
    assert records[-1]["outcome"] == "failed"
    assert "app: cannot read /etc/app/app.conf: no such file" in records[-1]["cause"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(stack.objects().values()):
        time.sleep(1)
    assert stack.objects() == {"services": [], "networks": [], "secrets": [], "volumes": []}
