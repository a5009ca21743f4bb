"""Every module's DOCUMENTATION (with its doc fragments) says exactly what its argument spec does:
the same options, types, defaults, choices and required flags. Internal options (a leading '_',
filled in by an action plugin) are not documented."""
import importlib

import pytest
import yaml


MODULES = ["spin_audit", "spin_build", "spin_config", "spin_lb", "spin_mount", "spin_network", "spin_node_labels", "spin_policy",
           "spin_registry_image", "spin_secret", "spin_service", "spin_stack", "spin_translate", "spin_volume"]
PACKAGE = "ansible_collections.spin.platform.plugins"


def _fragment_options(names):
    options = {}
    for name in names or []:
        # spin.platform.<file> is the file's DOCUMENTATION, spin.platform.<file>.<var> its <VAR>
        parts = name.split(".")[2:]
        fragment = importlib.import_module("%s.doc_fragments.%s" % (PACKAGE, parts[0]))
        text = getattr(fragment.ModuleDocFragment, parts[1].upper() if len(parts) > 1 else "DOCUMENTATION")
        options.update(yaml.safe_load(text)["options"])
    return options


def _argument_spec(name, module):
    if hasattr(module, "argument_spec"):
        return module.argument_spec()
    # an action-only module: its action plugin holds the spec
    return importlib.import_module("%s.action.%s" % (PACKAGE, name)).SPEC


def _walk(doc_options, spec, path=""):
    assert sorted(doc_options) == sorted(spec), path or "top level"
    for name, doc in doc_options.items():
        opt = spec[name]
        for key in ("type", "default", "choices", "required", "elements", "aliases"):
            documented = doc.get(key, False if key == "required" else None)
            coded = opt.get(key, False if key == "required" else None)
            if key == "type":
                coded = coded or "str"
            assert documented == coded, "%s: %s documented %r, coded %r" % (path + name, key, documented, coded)
        assert doc.get("description"), path + name + " has no description"
        if "suboptions" in doc or "options" in opt:
            _walk(doc.get("suboptions") or {}, opt.get("options") or {}, path + name + ".")


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_the_argument_spec(name):
    module = importlib.import_module("%s.modules.%s" % (PACKAGE, name))
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = dict(doc.get("options") or {}, **_fragment_options(doc.get("extends_documentation_fragment")))
    options = {k: v for k, v in options.items() if not k.startswith("_")}
    spec = {k: v for k, v in _argument_spec(name, module).items() if not k.startswith("_")}
    _walk(options, spec)
    assert doc["short_description"] and doc["description"]
    for attribute in ("check_mode", "diff_mode", "idempotent"):
        assert doc["attributes"][attribute]["support"] in ("full", "partial", "none"), attribute
    assert yaml.safe_load(module.EXAMPLES)
    assert isinstance(yaml.safe_load(module.RETURN), dict)


def test_every_module_is_checked():
    import os
    here = os.path.join(os.path.dirname(importlib.import_module(PACKAGE + ".modules.spin_stack").__file__))
    assert sorted(f[:-3] for f in os.listdir(here) if f.endswith(".py") and not f.startswith("_")) == MODULES
