"""A secret rotated without downtime (issue 20, docs/compose-keys.md "Rotating a secret or config").

The seed's shape with its password in a file, as tenant j20a (an inventory of the test's own): web x2
(httpd, behind the edge) and db (MariaDB from the platform's ``mysql`` image) both use the secret
``db_password`` (the file ``db_password.txt``); ``other`` uses nothing. The file changes and the stack
is deployed again while a bounded load (at most 20,000 requests, at most 180 s) runs through the
edge: ``--check --diff`` shows the new secret's name and no byte of either password; the deploy
updates web (start-first, no port of its own) and db (stop-first: its data volume) and nothing
else, the old secret is gone after it, and 0 requests failed. MariaDB sets a user's password only
when it makes its data directory: the new file alone does not change it (the new password is
refused), the ALTER USER step docs/compose-keys.md gives does (then the new one is accepted).
"""
import http.client
import threading
import time
import uuid

import pytest
from stacklib import Tenant, write_inventory

TENANT, UID = "j20a", 2020
MAX_REQUESTS, MAX_SECONDS = 20000, 180
OLD, NEW = "FirstPass1", "SecondPass2"
COMPOSE = """services:
  web:
    image: httpd
    links: [db]
    secrets: [db_password]
  db:
    image: mysql
    environment:
      MYSQL_DATABASE: magic
      MYSQL_USER: cory
      MYSQL_PASSWORD_FILE: /run/secrets/db_password
    secrets: [db_password]
  other:
    image: httpd
    x-spin: {route: false}
secrets:
  db_password:
    file: ./db_password.txt
"""


@pytest.fixture
def stack(tmp_path, docker_client, playbook):
    inventory = write_inventory(tmp_path, spin_tenants={TENANT: {"uid": UID, "gid": UID}})
    made = Tenant(None, docker_client, lambda *a, **k: playbook(*a, inventory=inventory, **k),
                  "j20-rot-" + uuid.uuid4().hex[:4], tenant=TENANT, uid=UID, gid=UID)
    yield made
    made.remove("-e", "spin_remove_volumes=true", check=False)
    made.discard()


class Load(object):
    """GET / through the edge with the route's host name, one connection per request, until told to
    stop, MAX_REQUESTS were sent or MAX_SECONDS passed."""

    def __init__(self, host):
        self.host, self.ok, self.failed, self.errors = host, 0, 0, {}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        deadline = time.monotonic() + MAX_SECONDS
        while not self.stop.is_set() and self.ok + self.failed < MAX_REQUESTS and time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", 80, timeout=5)
                conn.request("GET", "/", headers={"Host": self.host})
                answer = conn.getresponse()
                answer.read()
                conn.close()
                what = answer.status
            except (OSError, http.client.HTTPException) as exc:
                what = type(exc).__name__
            if what == 200:
                self.ok += 1
            else:
                self.failed += 1
                self.errors[what] = self.errors.get(what, 0) + 1


def mariadb(stack, user, password, sql):
    return stack.exec_in("%s_db" % stack.stack, ["mariadb", "-u" + user, "-p" + password, "magic", "-e", sql])


def ready(stack, password):
    """cory gets in with ``password`` (asked again for at most 60 s while the server starts)."""
    deadline = time.monotonic() + 60
    while True:
        if mariadb(stack, "cory", password, "SELECT 1").exit_code == 0:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(2)


def test_a_rotated_password_file_rolls_out_with_no_failed_request(stack, docker_client):
    stack.write(COMPOSE, "services:\n  web:\n    scale: 2\n", **{"db_password.txt": OLD + "\n"})
    stack.deploy()
    names = ["%s_%s" % (stack.stack, s) for s in ("web", "db", "other")]
    # no UpdateConfig at all is Docker's stop-first
    orders = {n: (docker_client.services.get(n).attrs["Spec"].get("UpdateConfig") or {}).get("Order", "stop-first")
              for n in names}
    assert orders == {names[0]: "start-first", names[1]: "stop-first", names[2]: "start-first"}
    old_secret = [s.name for s in docker_client.secrets.list(filters={"label": "spin.stack=" + stack.stack})
                  if s.name.startswith("%s_db_password_" % stack.stack)]
    assert len(old_secret) == 1
    assert ready(stack, OLD)
    before = {n: (s.attrs["Version"]["Index"], s.attrs["UpdatedAt"])
              for n, s in ((n, docker_client.services.get(n)) for n in names)}

    (stack.dir / "db_password.txt").write_text(NEW + "\n")
    diff = stack.deploy("--check", "--diff").output
    assert "0 created, 2 updated, 0 removed, 1 unchanged" in diff, diff[-3000:]
    assert "-    secret %s: exists" % old_secret[0] in diff
    assert "+    secret %s_db_password_" % stack.stack in diff
    assert OLD not in diff and NEW not in diff

    load = Load("web.%s.%s.localhost" % (stack.stack, TENANT))
    load.thread.start()
    time.sleep(2)
    try:
        said = stack.deploy().output
    finally:
        time.sleep(2)
        load.stop.set()
        load.thread.join()
    print("rotation under load: %d requests, %d failed %s" % (load.ok + load.failed, load.failed, load.errors))
    assert "0 created, 2 updated, 0 removed, 1 unchanged" in said
    assert load.ok > 0 and load.failed == 0, load.errors

    after = {n: (s.attrs["Version"]["Index"], s.attrs["UpdatedAt"])
             for n, s in ((n, docker_client.services.get(n)) for n in names)}
    assert after[names[2]] == before[names[2]]                  # other: untouched
    assert all(after[n] != before[n] for n in names[:2])        # web and db: rolled
    for name in names[:2]:
        status = docker_client.services.get(name).attrs.get("UpdateStatus") or {}
        assert status.get("State") == "completed", (name, status)
    now = [s.name for s in docker_client.secrets.list(filters={"label": "spin.stack=" + stack.stack})
           if s.name.startswith("%s_db_password_" % stack.stack)]
    assert len(now) == 1 and now != old_secret                 # the old secret is gone after the update

    # the database kept the password it was made with: the new file alone does not change it
    assert ready(stack, OLD)
    assert mariadb(stack, "cory", NEW, "SELECT 1").exit_code != 0
    step = stack.exec_in("%s_db" % stack.stack, ["sh", "-c", 'mariadb -uroot -p"$(cat /run/secrets/db_root_password)" '
                         '-e "ALTER USER \'cory\'@\'%\' IDENTIFIED BY \'$(cat /run/secrets/db_password)\'"'])
    assert step.exit_code == 0, step.output
    assert mariadb(stack, "cory", NEW, "SELECT 1").exit_code == 0
    assert mariadb(stack, "cory", OLD, "SELECT 1").exit_code != 0
