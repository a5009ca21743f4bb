"""Shared helpers for the integration tests: they drive the real Docker engine and ansible-playbook."""
import os
import re
import subprocess
import sys
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.dirname(__file__))  # stacklib
import tracebacks  # noqa: E402 - from the directory just put on the path

BIN = os.path.dirname(sys.executable)


def pytest_collection_modifyitems(items):
    for item in items:
        item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def docker_client():
    docker = pytest.importorskip("docker")
    client = docker.from_env(timeout=120)
    try:
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means there is no engine to test
        pytest.fail("no Docker engine answers (run ./spin up first): %s" % exc)
    return client


@pytest.fixture
def prefix():
    """A unique, short name prefix for the objects one test makes."""
    return "it" + uuid.uuid4().hex[:6]


class PlaybookResult:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.output = proc.stdout

    def recap(self, host="local"):
        match = re.search(r"^%s\s+:\s+(.*)$" % re.escape(host), self.output, re.M)
        assert match, "no PLAY RECAP for %s in:\n%s" % (host, self.output[-3000:])
        return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


# SPIN_TEST_INVENTORY: another inventory for the tests' playbooks, e.g. one whose spin_lb_* variables
# name an edge of a developer's own beside the shared one
INVENTORY = os.environ.get("SPIN_TEST_INVENTORY", "inventory/local.yml")


def run_playbook(playbook, *args, inventory=None, env=None, check=True):
    """Run ansible-playbook from the checkout; fail the test with the output's tail when it fails, and
    whenever the output holds a traceback of the collection's code (whatever the return code)."""
    inventory = inventory or INVENTORY
    cmd = [os.path.join(BIN, "ansible-playbook"), "-i", inventory, playbook, *args]
    full_env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_FORCE_COLOR="0",
                    ANSIBLE_NOCOLOR="1", PATH=BIN + os.pathsep + os.environ.get("PATH", ""), **tracebacks.ENV)
    full_env.update(env or {})
    proc = subprocess.run(cmd, cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, check=False)
    result = PlaybookResult(proc)
    crashes = tracebacks.collection_tracebacks(result.output)
    if crashes:
        pytest.fail("%s (rc=%s) printed a traceback of the collection's code:\n%s"
                    % (" ".join(cmd), result.rc, tracebacks.describe(crashes)))
    if check and result.rc != 0:
        pytest.fail("%s failed (rc=%s):\n%s" % (" ".join(cmd), result.rc, result.output[-6000:]))
    return result


@pytest.fixture
def playbook():
    return run_playbook
