"""Every module's DOCUMENTATION (with its doc fragments) says exactly what its argument spec does:
the same options, types, defaults, choices and required flags. Internal options (a leading '_',
filled in by an action plugin) are not documented."""
import importlib

import pytest
import yaml

from ansible_collections.spin.platform.tests.unit.spec_docs import assert_options_match, fragment_options


MODULES = ["spin_audit", "spin_build", "spin_config", "spin_converge", "spin_lb", "spin_mount", "spin_network", "spin_node_labels", "spin_policy",
           "spin_registry_image", "spin_secret", "spin_service", "spin_stack", "spin_status", "spin_translate",
           "spin_volume"]
PACKAGE = "ansible_collections.spin.platform.plugins"


def _argument_spec(name, module):
    if hasattr(module, "argument_spec"):
        return module.argument_spec()
    # an action-only module: its action plugin holds the spec
    return importlib.import_module("%s.action.%s" % (PACKAGE, name)).SPEC


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_the_argument_spec(name):
    module = importlib.import_module("%s.modules.%s" % (PACKAGE, name))
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc.get("options") or {}, **fragment_options(doc.get("extends_documentation_fragment")))
    options = {k: v for k, v in options.items() if not k.startswith("_")}
    spec = {k: v for k, v in _argument_spec(name, module).items() if not k.startswith("_")}
    assert_options_match(options, spec)
    assert doc["short_description"] and doc["description"]
    for attribute in ("check_mode", "diff_mode", "idempotent"):
        assert doc["attributes"][attribute]["support"] in ("full", "partial", "none"), attribute
    assert yaml.safe_load(module.EXAMPLES)
    assert isinstance(yaml.safe_load(module.RETURN), dict)


def test_every_module_is_checked():
    import os
    here = os.path.join(os.path.dirname(importlib.import_module(PACKAGE + ".modules.spin_stack").__file__))
    assert sorted(f[:-3] for f in os.listdir(here) if f.endswith(".py") and not f.startswith("_")) == MODULES
