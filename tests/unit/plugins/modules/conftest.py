"""Fixtures for the module tests: the fake SwarmClient (tests/unit/fake_swarm.py), which keeps
networks, volumes, secrets and configs in the shapes Docker answers with and records every change,
so that a test can compare what a module does with what StackReconciler does; and a docs check."""
import pytest
import yaml

from ansible_collections.spin.platform.plugins.doc_fragments.docker import ModuleDocFragment
from ansible_collections.spin.platform.tests.unit.fake_swarm import FakeSwarm
from ansible_collections.spin.platform.tests.unit.spec_docs import assert_options_match


@pytest.fixture
def fake_swarm():
    """The FakeSwarm class: call it for each fake engine a test needs."""
    return FakeSwarm


@pytest.fixture
def check_docs():
    """The module's DOCUMENTATION (with the docker fragment) says what its argument_spec does;
    its attributes, EXAMPLES and RETURN parse."""
    def check(module):
        doc = yaml.safe_load(module.DOCUMENTATION)
        options = dict(doc["options"], **yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
        assert_options_match(options, module.argument_spec())
        assert {k: v["support"] for k, v in doc["attributes"].items() if k in ("check_mode", "diff_mode",
                                                                               "idempotent")} == {
            "check_mode": "full", "diff_mode": "full", "idempotent": "full"}
        assert "spin.platform.docker" in doc["extends_documentation_fragment"]
        assert yaml.safe_load(module.EXAMPLES)
        assert set(yaml.safe_load(module.RETURN)) == {"changed", "name", "id", "diff"}
        return doc
    return check
