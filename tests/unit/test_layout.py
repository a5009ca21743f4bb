"""The unit tests are laid out as plugins/ is: the tests of plugins/<dir>/<name>.py are in
tests/unit/plugins/<dir>/test_<name>.py, so whoever changes a plugin file knows where its tests are
(doc fragments are YAML read by the docs tests, tests/unit/plugins/test_*_docs.py)."""
import os

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def plugin_files():
    plugins = os.path.join(ROOT, "plugins")
    for folder, dirs, files in os.walk(plugins):
        dirs[:] = sorted(d for d in dirs if d not in ("doc_fragments", "__pycache__"))
        for name in sorted(files):
            if name.endswith(".py") and name != "__init__.py":
                yield os.path.relpath(os.path.join(folder, name), plugins)


def test_every_plugin_file_has_a_test_file_of_its_name():
    missing = []
    for rel in plugin_files():
        folder, name = os.path.split(rel)
        expected = os.path.join("tests", "unit", "plugins", folder, "test_" + name)
        if not os.path.isfile(os.path.join(ROOT, expected)):
            missing.append("plugins/%s: write its unit tests in %s" % (rel, expected))
    assert missing == [], "%d plugin files without a test file of their name:\n%s" % (
        len(missing), "\n".join(missing))


def test_the_layout_finds_the_plugin_files():
    # a rule checked over nothing passes: the walk must see the modules, action plugins and utils
    found = set(plugin_files())
    assert {"modules/spin_stack.py", "action/spin_stack.py", "module_utils/edge/lb.py",
            "plugin_utils/compose.py"} <= found
