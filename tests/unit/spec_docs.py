"""A module's documented options against its argument spec, suboptions included (shared by the docs
tests of every module and the module tests' check_docs fixture); the options its doc fragments add."""
import importlib

import yaml

PACKAGE = "ansible_collections.spin.platform.plugins"


def assert_options_match(doc_options, spec, path=""):
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
            assert_options_match(doc.get("suboptions") or {}, opt.get("options") or {}, path + name + ".")


def fragment_options(names):
    """The options the doc fragments ``names`` (extends_documentation_fragment) add to a module's."""
    options = {}
    for name in names or []:
        # spin.platform.<file> is the file's DOCUMENTATION, spin.platform.<file>.<var> its <VAR>
        parts = name.split(".")[2:]
        fragment = importlib.import_module("%s.doc_fragments.%s" % (PACKAGE, parts[0]))
        text = getattr(fragment.ModuleDocFragment, parts[1].upper() if len(parts) > 1 else "DOCUMENTATION")
        options.update(yaml.safe_load(text)["options"])
    return options
