"""The pins of the unit tests' own virtualenv (tests/unit/constraints.txt, which `ansible-test units --venv`
reads) are constraints.txt's: the unit tests run on the versions everything else is tested with."""
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PIN = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+)$")


def pins(path):
    found = {}
    with open(os.path.join(ROOT, path)) as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#"):
                match = PIN.match(line)
                assert match, "%s: %r is not a name==version pin" % (path, line)
                found[match.group(1).lower().replace("_", "-")] = match.group(2)
    return found


def test_unit_constraints_are_the_project_pins():
    unit, project = pins("tests/unit/constraints.txt"), pins("constraints.txt")
    assert {name: version for name, version in unit.items() if project.get(name) != version} == {}


def test_every_unit_requirement_is_pinned():
    with open(os.path.join(ROOT, "tests", "unit", "requirements.txt")) as handle:
        wanted = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    unit = pins("tests/unit/constraints.txt")
    assert [name for name in wanted if name.lower().replace("_", "-") not in unit] == []
