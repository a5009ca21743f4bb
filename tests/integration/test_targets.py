"""One pytest case per Ansible integration target (community.docker's layout, run without ansible-test)."""
import os

import pytest

TARGETS = os.path.join(os.path.dirname(__file__), "targets")
NAMES = sorted(
    name for name in os.listdir(TARGETS) if os.path.isfile(os.path.join(TARGETS, name, "tasks", "main.yml"))
) if os.path.isdir(TARGETS) else []


@pytest.mark.parametrize("target", NAMES)
def test_target(target, playbook, prefix):
    result = playbook("tests/integration/run_target.yml", "-e", "spin_target=" + target,
                      "-e", "spin_test_prefix=" + prefix)
    assert result.recap()["failed"] == 0
