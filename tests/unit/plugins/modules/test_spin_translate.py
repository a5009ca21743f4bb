"""The spin_translate module is documentation only: its action plugin does the work on the controller
(tests/unit/plugins/action/test_spin_translate.py, which also checks that what it documents is what the
action returns; ansible-test runs this file where no controller code can be imported). Its examples may
use only what it documents (its options against the action's SPEC: tests/unit/plugins/test_module_docs.py)."""
import yaml

from ansible_collections.spin.platform.plugins.modules import spin_translate
from ansible_collections.spin.platform.tests.unit.spec_docs import fragment_options


def test_every_example_names_documented_options_only():
    doc = yaml.safe_load(spin_translate.DOCUMENTATION)
    options = set(doc["options"]) | set(fragment_options(doc.get("extends_documentation_fragment")))
    for task in yaml.safe_load(spin_translate.EXAMPLES):
        args = task["spin.platform.spin_translate"]
        assert set(args) <= options, (task["name"], set(args) - options)
