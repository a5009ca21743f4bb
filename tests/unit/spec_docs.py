"""A module's documented options against its argument spec, suboptions included (shared by the docs
tests of every module and the module tests' check_docs fixture)."""


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
