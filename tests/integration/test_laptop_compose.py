"""The laptop's compose files, unchanged, on the real engine (issue 18).

One stack that a laptop would run with ``docker compose up``: a read-only directory bind served
through the edge at the service's route (its ``8080:80`` is outside the edge's list: the deploy
warns with the URL), a read-write directory the service writes into, ``shm_size``, ``volumes_from``
and a UDP port published by the service itself. Then the rhythm: a changed file shows in
``--check --diff`` and changes nothing, the deploy syncs it and the service serves it, the same
files again change nothing; a link a container planted in a read-write directory is replaced, never
written through (the host's file stays); the stack's limits refuse with the limit's name; removal
keeps what the service wrote unless the volumes go too. Stacks and the store are this test's own
(c18-*, /srv/spin/c18-binds)."""
import functools
import os
import re
import shutil
import socket
import subprocess
import time
import uuid

import pytest
from conftest import run_playbook
from stacklib import Tenant, write_inventory

STORE = "/srv/spin/c18-binds"
# a tenant of the test's own (its replica quota is not shared with other tests' stacks)
TENANT, UID = "c18t", 18018
PLATFORM = {"spin_platform": {"bind_store": STORE},
            "spin_tenants": {TENANT: {"uid": UID, "gid": UID, "quota": {"replicas": 40}}}}
PAGE = "<h1>from the submission's ./site</h1>\n"
COMPOSE = """\
services:
  web:
    image: httpd
    ports: ["8080:80"]
    volumes:
      - ./site:/var/www/html:ro
    shm_size: 64m
  writer:
    image: httpd
    command: [sh, -c, 'echo "written by the service" > /data/from-service.txt; exec httpd-foreground']
    volumes:
      - ./data:/data
      - ./conf:/etc/app
  reader:
    image: httpd
    volumes_from: ["web:ro"]
  echo:
    image: httpd
    command: [perl, -MIO::Socket::INET, -e, 'my $$s = IO::Socket::INET->new(LocalPort => 5353, Proto => "udp")
      or die "$$!"; while (1) { my $$m; $$s->recv($$m, 512); $$s->send("echo:" . $$m) }']
    ports: ["8007:5353/udp"]
"""


@pytest.fixture
def platform(tmp_path):
    """ansible-playbook on an inventory whose bind store is this test's own."""
    inventory = write_inventory(tmp_path, **PLATFORM)
    return functools.partial(run_playbook, inventory=inventory)


@pytest.fixture
def stack(tmp_path, docker_client, platform):
    t = Tenant(tmp_path, docker_client, platform, "c18-" + uuid.uuid4().hex[:6], tenant=TENANT, uid=UID, gid=UID)
    yield t
    t.remove("-e", "spin_remove_volumes=true", check=False)
    t.discard()
    shutil.rmtree(os.path.join(STORE, TENANT, t.stack), ignore_errors=True)


def _write(stack, page=PAGE):
    stack.write(COMPOSE)
    for name, text in (("site/index.html", page), ("site/css/site.css", "body {}\n"), ("conf/app.conf", "a = 1\n")):
        path = stack.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _said(result):
    """A playbook's output as one line of words (warnings and messages wrap)."""
    return " ".join(result.output.replace("\\n", "\n").split())


def _curl(url, tries=30):
    for dummy in range(tries):
        out = subprocess.run(["curl", "-s", "--max-time", "3", url], stdout=subprocess.PIPE, text=True, check=False)
        if out.returncode == 0 and out.stdout:
            return out.stdout
        time.sleep(1)
    return None


def _store_dirs(stack):
    return sorted(os.listdir(os.path.join(STORE, TENANT, stack.stack)))


def _exec(stack, service, command):
    result = stack.exec_in("%s_%s" % (stack.stack, service), ["sh", "-c", command])
    return result.exit_code, result.output.decode()


def test_a_laptops_stack_runs_unchanged_and_its_directories_follow_the_submission(stack, docker_client):
    _write(stack)
    first = stack.deploy()
    url = "http://web.%s.c18t.localhost/" % stack.stack
    # the laptop's 8080:80: served at the service's own route, and the deploy says where
    assert "port 8080 is not one the edge publishes, so the service's port 80 is served as HTTP at %s" % url \
        in _said(first)
    assert _curl(url) == PAGE

    # the read-only directory: a version by content, the tenant's files; the read-write ones in place
    site = [d for d in _store_dirs(stack) if d.startswith("site@")]
    assert len(site) == 1 and {"data", "conf", ".spin"} <= set(_store_dirs(stack))
    owner = os.stat(os.path.join(STORE, TENANT, stack.stack, site[0], "index.html")).st_uid
    assert owner == stack.uid
    web = stack.services()[stack.stack + "_web"].attrs["Spec"]["TaskTemplate"]["ContainerSpec"]
    mounts = {m["Target"]: m for m in web["Mounts"]}
    assert mounts["/var/www/html"]["Source"] == os.path.join(STORE, TENANT, stack.stack, site[0])
    assert mounts["/var/www/html"].get("ReadOnly") is True
    # shm_size: a tmpfs of that size at /dev/shm
    assert mounts["/dev/shm"]["Type"] == "tmpfs" and mounts["/dev/shm"]["TmpfsOptions"]["SizeBytes"] == 64 * 1024 ** 2
    assert _exec(stack, "web", "df -k /dev/shm | tail -1")[1].split()[1] == str(64 * 1024)

    # the service wrote into its read-write directory: the file is in the store, on the host
    written = os.path.join(STORE, TENANT, stack.stack, "data", "from-service.txt")
    for dummy in range(30):
        if os.path.exists(written):
            break
        time.sleep(1)
    assert open(written).read() == "written by the service\n"

    # volumes_from web:ro: the same directory, read-only
    text = _exec(stack, "reader", "cat /var/www/html/index.html; touch /var/www/html/x 2>/dev/null || echo ro")[1]
    assert text.splitlines() == [PAGE.strip(), "ro"], text

    # UDP: published by the service itself, in host mode, on this node
    echo = stack.services()[stack.stack + "_echo"].attrs
    assert [(p["Protocol"], p["PublishMode"], p["PublishedPort"], p["TargetPort"])
            for p in echo["Spec"]["EndpointSpec"]["Ports"]] == [("udp", "host", 8007, 5353)]
    answer = None
    for dummy in range(20):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.settimeout(1)
            try:
                udp.sendto(b"ping", ("127.0.0.1", 8007))
                answer = udp.recvfrom(512)[0]
                break
            except OSError:
                time.sleep(1)
    assert answer == b"echo:ping"

    # a changed file: --check --diff names it and changes nothing
    versions = stack.versions()
    (stack.dir / "site" / "index.html").write_text("<h1>changed</h1>\n")
    checked = stack.deploy("--check", "--diff")
    said = _said(checked)
    assert re.search(r"site/index\.html\W+file, 17 bytes, mode 0\d{3}, sha256 [0-9a-f]{12}", said), said[-4000:]
    assert stack.versions() == versions and _store_dirs(stack) == sorted(site + ["data", "conf", ".spin"])

    # the deploy syncs it (a new version, the old one gone once the service runs it) and web serves it
    stack.deploy()
    assert _curl(url) == "<h1>changed</h1>\n"
    now = [d for d in _store_dirs(stack) if d.startswith("site@")]
    assert len(now) == 1 and now != site
    assert stack.versions()[stack.stack + "_web"] != versions[stack.stack + "_web"]
    # what the service wrote stayed
    assert os.path.exists(written)

    # the same files again: nothing of the stack changes (the shared edge may reload for other stacks)
    versions, store = stack.versions(), _store_dirs(stack)
    again = stack.deploy("-v")
    assert "actions: []" in again.output, again.output[-3000:]
    assert stack.versions() == versions and _store_dirs(stack) == store


def test_a_link_planted_in_a_read_write_directory_is_never_written_through(stack, tmp_path):
    """Security, on the real engine: the service (root in its container) replaces a file of its read-write
    directory with a link to a host path; the next deploy syncs the submission's changed file there. A
    sync that followed the link would write the host's file (the unit test shows a naive one does)."""
    victim = "/tmp/c18-victim-%s" % uuid.uuid4().hex[:8]
    with open(victim, "w") as handle:
        handle.write("the host's own file\n")
    try:
        _write(stack)
        stack.deploy()
        text = _exec(stack, "writer", "rm /etc/app/app.conf && ln -s %s /etc/app/app.conf && echo planted" % victim)[1]
        assert "planted" in text, text
        assert os.path.islink(os.path.join(STORE, TENANT, stack.stack, "conf", "app.conf"))
        (stack.dir / "conf" / "app.conf").write_text("a = 2\n")
        stack.deploy()
        assert open(victim).read() == "the host's own file\n"
        synced = os.path.join(STORE, TENANT, stack.stack, "conf", "app.conf")
        assert not os.path.islink(synced) and open(synced).read() == "a = 2\n"
    finally:
        os.unlink(victim)


def test_the_stacks_limits_are_named_and_nothing_is_created(tmp_path, docker_client):
    inventory = write_inventory(tmp_path, spin_policy={"bind_store_files": 2}, **PLATFORM)
    t = Tenant(tmp_path, docker_client, functools.partial(run_playbook, inventory=inventory),
               "c18-" + uuid.uuid4().hex[:6], tenant=TENANT, uid=UID, gid=UID)
    try:
        _write(t)
        refused = t.deploy(check=False)
        assert refused.rc != 0
        assert ("service 'web': key 'volumes[0]': './site/css/site.css' takes the stack's bind mounts over 2 files, "
                "the platform's limit (spin_policy.bind_store_files)") in _said(refused)
        assert t.objects()["services"] == [] and not os.path.exists(os.path.join(STORE, TENANT, t.stack))
    finally:
        t.remove(check=False)
        t.discard()


def test_removal_keeps_what_the_service_wrote_unless_the_volumes_go(stack):
    _write(stack)
    stack.deploy()
    base = os.path.join(STORE, TENANT, stack.stack)
    stack.remove()
    assert _store_dirs(stack) == ["conf", "data"]
    stack.remove("-e", "spin_remove_volumes=true")
    assert not os.path.exists(base)
