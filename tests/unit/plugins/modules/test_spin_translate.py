"""The spin_translate module is documentation only: its action plugin does the work on the controller
(tests/unit/plugins/action/test_spin_translate.py). What it documents must be what the action returns,
and its examples may use only what it documents (its options against the action's SPEC:
tests/unit/plugins/test_module_docs.py)."""
import os

import yaml

from ansible_collections.spin.platform.plugins.action import spin_translate as action
from ansible_collections.spin.platform.plugins.modules import spin_translate
from ansible_collections.spin.platform.tests.unit import tenant_tree
from ansible_collections.spin.platform.tests.unit.plugins.action.action_runner import run
from ansible_collections.spin.platform.tests.unit.spec_docs import fragment_options


def test_the_documented_return_values_are_what_the_action_returns(tmp_path):
    root, directory = tenant_tree.submission(tmp_path)
    with open(os.path.join(directory, "docker-compose.yml"), "w") as handle:
        handle.write("services:\n  web:\n    image: httpd\n")
    tenant_tree.hand_in(directory)
    result = run(action, root, directory, str(tmp_path / "st.tasks.yml"))
    documented = yaml.safe_load(spin_translate.RETURN)
    assert set(documented) <= set(result), set(documented) - set(result)
    assert {k for k in result if k not in ("changed", "invocation", "warnings", "diff")} == set(documented)


def test_every_example_names_documented_options_only():
    doc = yaml.safe_load(spin_translate.DOCUMENTATION)
    options = set(doc["options"]) | set(fragment_options(doc.get("extends_documentation_fragment")))
    for task in yaml.safe_load(spin_translate.EXAMPLES):
        args = task["spin.platform.spin_translate"]
        assert set(args) <= options, (task["name"], set(args) - options)
