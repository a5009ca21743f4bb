"""Every plugin's and role's documentation as the ecosystem reads it: ansible-doc loads it (doc
fragments merged) as JSON and renders it as text; antsibull-docs-parser (the docsite's parser) reads
every line of markup. It catches what a YAML load alone does not: markup whose value ends early at a
``)`` inside it, option and return value references that name nothing, flow mappings cut at commas,
a play among the task examples, raw markup left in what ansible-doc prints."""
import json
import os
import re
import subprocess
import sys
import tempfile

import pytest
import yaml

from antsibull_docs_parser import dom
from antsibull_docs_parser.parser import Context, parse

from ansible_collections.spin.platform.tests.conftest import collections_root

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__)))))
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                 if name.endswith(".py") and not name.startswith("_"))
INVENTORY = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "inventory"))
                   if name.endswith(".py") and not name.startswith("_"))
ROLES = sorted(name for name in os.listdir(os.path.join(ROOT, "roles"))
               if os.path.isfile(os.path.join(ROOT, "roles", name, "meta", "argument_specs.yml")))
PLAY_KEYS = {"hosts", "tasks", "roles", "pre_tasks", "post_tasks", "handlers", "gather_facts", "import_playbook"}
RETURN_KEYS = {"description", "returned", "type", "elements", "sample", "contains", "choices", "version_added",
               "version_added_collection"}
RAW_MARKUP = re.compile(r"\b(?:[BCIMOUVE]|RV)\([^)]")


def _ansible_doc(collections_path, *args):
    # the ansible-doc of the ansible-core under test, also where it is not installed with its scripts and
    # entry points (ansible-test units puts it on PYTHONPATH); run outside the checkout, so that no
    # ansible.cfg applies: the collection comes from collections_path only
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections_path, ANSIBLE_NOCOLOR="1")
    env.pop("ANSIBLE_CONFIG", None)
    with tempfile.TemporaryDirectory(prefix="spin-doc-") as cwd:
        proc = subprocess.run([sys.executable, "-m", "ansible.cli.doc"] + list(args), cwd=cwd, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    said = _without_library_warnings(proc.stderr)
    assert proc.returncode == 0 and not said.strip(), "ansible-doc %s:\n%s" % (" ".join(args), proc.stderr)
    return proc.stdout


# Python's own warning lines (``<file>.py:<line>: <Category>Warning: ...`` and the source line under it)
_PY_WARNING = re.compile(r"^(?P<path>\S+\.py):\d+: \w*Warning: .*\n(?:[ \t]+.*\n?)?", re.M)


def _without_library_warnings(stderr):
    """stderr without the Python warnings that a library prints while Ansible imports it (ansible-test's
    own virtualenvs take unpinned libraries, e.g. a cryptography that deprecates what ansible-core
    imports); a warning from the collection's own code, and every warning of ansible-doc, stay."""
    return _PY_WARNING.sub(lambda m: m.group(0) if "ansible_collections/spin/platform" in m.group("path")
                           else "", stderr)


@pytest.mark.parametrize("stderr, left", [
    ("/x/ansible/_internal/_ssh/_ssh_agent.py:18: CryptographyDeprecationWarning: DSA is deprecated.\n"
     "  from cryptography.hazmat.primitives.asymmetric.dsa import (\n", ""),
    ("/c/ansible_collections/spin/platform/plugins/modules/spin_stack.py:3: UserWarning: x\n  import y\n",
     "/c/ansible_collections/spin/platform/plugins/modules/spin_stack.py:3: UserWarning: x\n  import y\n"),
    ("[WARNING]: module documentation for spin_stack could not be parsed\n",
     "[WARNING]: module documentation for spin_stack could not be parsed\n"),
])
def test_only_a_librarys_own_python_warning_is_left_out(stderr, left):
    assert _without_library_warnings(stderr) == left


def _load_docs():
    """{(plugin type, short name): ansible-doc's JSON for it}, every plugin and role in one ansible-doc
    call (``--metadata-dump`` gives what ``--json -t <type>`` gives, all types at once, and fails on
    any plugin whose docs do not load)."""
    dump = json.loads(_ansible_doc(collections_root(ROOT), "--metadata-dump", "spin.platform"))["all"]
    found = {}
    for kind, names in (("module", MODULES), ("inventory", INVENTORY), ("role", ROLES)):
        fqcns = ["spin.platform." + name for name in names]
        assert sorted(dump.get(kind) or {}) == sorted(fqcns), kind
        found.update({(kind, fqcn.rsplit(".", 1)[1]): dump[kind][fqcn] for fqcn in fqcns})
    return found


# Loaded once, when the tests are collected: ansible-test units runs every test in a fork of its own,
# where a fixture's work would be done again for each test (an ansible-doc call per test).
try:
    DOCS, DOCS_PROBLEM = _load_docs(), None
except AssertionError as exc:
    DOCS, DOCS_PROBLEM = None, exc


@pytest.fixture
def docs():
    if DOCS_PROBLEM is not None:
        raise DOCS_PROBLEM
    return DOCS


def _texts(node, where):
    """(where, text) for every documentation string under a doc, options, return values or attributes."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "short_description", "notes", "requirements", "details") and value:
                for text in value if isinstance(value, list) else [value]:
                    yield "%s.%s" % (where, key), text
            elif key in ("options", "suboptions", "contains", "attributes", "seealso", "doc", "return",
                         "entry_points") or where.endswith((".options", ".suboptions", ".contains", ".attributes",
                                                            ".return", ".entry_points")):
                yield from _texts(value, "%s.%s" % (where, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _texts(item, "%s[%d]" % (where, index))


def _names(fields, child="suboptions"):
    """Every option (or return value) path as O()/RV() name it: a.b for suboption b of a."""
    names = set()
    for name, field in (fields or {}).items():
        names.add(name)
        names.update("%s.%s" % (name, sub) for sub in _names(field.get(child), child))
    return names


def _balanced(text):
    return all(text.count(opening) == text.count(closing) for opening, closing in ("()", "[]", "{}"))


def _scopes(kind, name, entry):
    """(context, option names, return value names, texts) of a plugin, or of each entry point of a role."""
    plugin = dom.PluginIdentifier(fqcn="spin.platform." + name, type=kind)
    if kind == "role":
        for entry_point, spec in (entry.get("entry_points") or {}).items():
            yield (Context(current_plugin=plugin, role_entrypoint=entry_point), _names(spec.get("options")), set(),
                   _texts(spec, "%s.entry_points.%s" % (name, entry_point)))
    else:
        doc = entry.get("doc") or {}
        yield (Context(current_plugin=plugin), _names(doc.get("options")), _names(entry.get("return"), "contains"),
               _texts(entry, name))


def _check_markup(kind, name, entry):
    problems = []
    for context, options, returns, texts in _scopes(kind, name, entry):
        for where, text in texts:
            try:
                paragraphs = parse(text, context, errors="exception", strict=True)
            except ValueError as exc:
                problems.append("%s: %s" % (where, exc))
                continue
            for part in (part for paragraph in paragraphs for part in paragraph):
                if isinstance(part, (dom.OptionValuePart, dom.CodePart)):
                    value = part.value if isinstance(part, dom.OptionValuePart) else part.text
                    if not _balanced(value):
                        problems.append("%s: markup ends inside its value: %r" % (where, value))
                own = getattr(part, "plugin", None) in (None, context.current_plugin)
                if isinstance(part, dom.OptionNamePart) and own and re.sub(r"\[[^]]*\]", "", part.name) not in options:
                    problems.append("%s: O(%s) names no option" % (where, part.name))
                if isinstance(part, dom.ReturnValuePart) and own \
                        and re.sub(r"\[[^]]*\]", "", part.name) not in returns:
                    problems.append("%s: RV(%s) names no return value" % (where, part.name))
    return problems


@pytest.mark.parametrize("kind, name", [("module", m) for m in MODULES] + [("inventory", i) for i in INVENTORY]
                         + [("role", r) for r in ROLES])
def test_markup_reads_as_the_docsite_reads_it(docs, kind, name):
    assert _check_markup(kind, name, docs[(kind, name)]) == []


@pytest.mark.parametrize("name", MODULES)
def test_examples_are_tasks_and_return_values_are_documented(docs, name):
    entry = docs[("module", name)]
    examples = yaml.safe_load(entry["examples"])
    assert isinstance(examples, list) and examples
    for task in examples:
        assert task.get("name"), task
        assert not PLAY_KEYS & set(task), "a play among the tasks: %s" % task["name"]
        actions = [key for key in task if "." in key] + (["block"] if "block" in task else [])
        assert len(actions) == 1, "%s: one module (by FQCN) or a block, got %s" % (task["name"], actions)

    def walk(fields, path):
        for field, value in fields.items():
            assert isinstance(value, dict) and value.get("description") and value.get("type"), path + field
            assert set(value) <= RETURN_KEYS, "%s: unknown keys %s" % (path + field, sorted(set(value) - RETURN_KEYS))
            walk(value.get("contains") or {}, path + field + ".")
    walk(entry.get("return") or {}, "")


def test_ansible_doc_renders_no_raw_markup(collections_path):
    text = _ansible_doc(collections_path, "-t", "module", *["spin.platform." + m for m in MODULES])
    text += _ansible_doc(collections_path, "-t", "inventory", *["spin.platform." + i for i in INVENTORY])
    for module in MODULES:
        assert "spin.platform.%s" % module in text
    # the examples are YAML as written; everything else is prose ansible-doc has rendered
    prose = re.sub(r"EXAMPLES:.*?(?=RETURN VALUES:|> MODULE |\Z)", "", text, flags=re.S)
    assert [line for line in prose.splitlines() if RAW_MARKUP.search(line)] == []
