"""A sample of issue 18's laptop fixtures (tests/unit/fixtures/compose/) deployed on the real engine,
each as its tenant hands it in: its override file, include:, directory binds, volumes_from and large
files exactly as written. Only the images change, to the ones this machine has (no registry: ``httpd``
for the web and application images, ``mariadb`` for the databases) and, where the image's own
command has no meaning for httpd, that command line goes. Each sample must deploy, run every service
and serve what its directories hold. Stacks are c18-*; the bind store is the test's own."""
import functools
import os
import re
import shutil
import subprocess
import time
import uuid

import pytest
from conftest import run_playbook
from stacklib import Tenant, hand_in, write_inventory

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "unit", "fixtures", "compose")
STORE = "/srv/spin/c18-binds"
# a tenant of the test's own (its replica quota is not shared with other tests' stacks)
TENANT, UID = "c18t", 18018
PLATFORM = {"spin_platform": {"bind_store": STORE},
            "spin_tenants": {TENANT: {"uid": UID, "gid": UID, "quota": {"replicas": 40}}}}
DATABASES = re.compile(r"postgres|mariadb|mysql|mongo|redis")


def _local_images(directory, database="mariadb"):
    """Every compose file of the copied submission with its images swapped for this machine's
    (``database``: what stands in for a database's image)."""
    for base, dummy, names in os.walk(directory):
        for name in names:
            if not name.endswith((".yml", ".yaml")) or name == "vars.yml":
                continue
            path = os.path.join(base, name)
            text = open(path).read()
            if "services:" not in text:
                continue
            text = re.sub(r"(?m)^(\s+image:\s*)(\S.*)$",
                          lambda m: m.group(1) + (database if DATABASES.search(m.group(2)) else "httpd"), text)
            text = re.sub(r"(?m)^\s+command:\s*[^\[\n].*\n", "", text)
            with open(path, "w") as handle:
                handle.write(text)


@pytest.fixture
def laptop(tmp_path, docker_client):
    inventory = write_inventory(tmp_path, **PLATFORM)
    made = []

    def submit(name, database="mariadb"):
        stack = "c18-" + uuid.uuid4().hex[:6]
        t = Tenant(tmp_path, docker_client, functools.partial(run_playbook, inventory=inventory), stack,
                   tenant=TENANT, uid=UID, gid=UID)
        shutil.rmtree(str(t.dir))
        shutil.copytree(os.path.join(FIXTURES, name), str(t.dir))
        os.chown(str(t.dir), t.uid, t.gid)
        os.chmod(str(t.dir), 0o750)
        _local_images(str(t.dir), database)
        made.append(t)
        return t

    yield submit
    for t in made:
        hand_in(t.dir, t.uid, t.gid)
        t.playbook("playbooks/remove.yml", "-e", "spin_submission=%s" % t.dir, "-e", "spin_remove_volumes=true",
                   check=False)
        t.discard()
        shutil.rmtree(os.path.join(STORE, TENANT, t.stack), ignore_errors=True)


def _deploy(t):
    """Deploy the submission directory as staff name it (its own vars.yml, if any, and override file)."""
    hand_in(t.dir, t.uid, t.gid)
    return t.playbook("playbooks/deploy.yml", "-e", "spin_submission=%s" % t.dir)


def _curl(url, tries=30):
    for dummy in range(tries):
        out = subprocess.run(["curl", "-s", "--max-time", "3", url], stdout=subprocess.PIPE, text=True, check=False)
        if out.returncode == 0 and out.stdout and "503 Service" not in out.stdout:
            return out.stdout
        time.sleep(1)
    return None


def _in(t, service, command):
    return t.exec_in("%s_%s" % (t.stack, service), ["sh", "-c", command]).output.decode()


def _all_running(t):
    for name in t.services():
        assert t.running(name), name


@pytest.mark.parametrize("name, check", [
    # the override file beside the compose file: its port (on the route), its source bind, its variable
    ("override-dev", lambda t: (
        "DEBUG=1" in _in(t, "web", "env") and "VERSION = '1.4'" in _in(t, "web", "cat /srv/portal/src/portal/version.py")
        and _curl("http://web.%s.c18t.localhost/" % t.stack) is not None)),
    # include: db/compose.yaml with its own .env and its ./init directory, read-only (httpd stands in for its
    # postgres: the MariaDB stand-in would run the PostgreSQL schema in it)
    ("include-db", lambda t: "CREATE TABLE runs" in _in(t, "db", "cat /docker-entrypoint-initdb.d/01-schema.sql")),
    # volumes_from php: nginx serves php's ./app directory from the bind store, through the edge
    ("volumes-from-fpm", lambda t: _curl("http://nginx.%s.c18t.localhost/index.php" % t.stack) == "<?php phpinfo();\n"),
    # ./src bound read-write into the web root
    ("php-apache-src", lambda t: (_curl("http://web.%s.c18t.localhost/css/style.css" % t.stack)
                                  == "body { font-family: sans-serif; }\n")),
    # a 745 KiB log sample, too large for a config, in the bind store as a file
    ("log-sample", lambda t: _in(t, "report", "wc -c < /data/access.log").strip() == str(
        os.path.getsize(os.path.join(FIXTURES, "log-sample", "samples", "access.log")))),
])
def test_a_sample_of_the_laptop_fixtures_runs(laptop, name, check):
    t = laptop(name, "httpd" if name == "include-db" else "mariadb")
    _deploy(t)
    _all_running(t)
    assert check(t)
