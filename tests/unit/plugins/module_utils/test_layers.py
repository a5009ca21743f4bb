"""module_utils's subpackages are layers: each imports only the ones below it (LAYERS, lowest first), so
that a newcomer can read them bottom-up and no import cycle can form between them (docs/design.md)."""
import ast
import os

import pytest

ROOT = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "module_utils")
PREFIX = "ansible_collections.spin.platform.plugins.module_utils."
# lowest first; packages on one line may not import each other
LAYERS = [("common",), ("engine",), ("build", "fs", "worker"), ("edge",), ("policy",), ("stack",), ("monitor",),
          ("deploy",)]
RANK = {package: rank for rank, names in enumerate(LAYERS) for package in names}


def imported_packages(path):
    """{package} that the file at ``path`` imports from module_utils."""
    with open(path) as handle:
        tree = ast.parse(handle.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PREFIX):
            found.add(node.module[len(PREFIX):].split(".")[0])
    return found


def module_files():
    for package in sorted(os.listdir(ROOT)):
        folder = os.path.join(ROOT, package)
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
            if name.endswith(".py"):
                yield package, os.path.join(folder, name)


def test_every_file_lies_in_a_package_of_the_layers():
    loose = [name for name in os.listdir(ROOT) if name.endswith(".py")]
    assert loose == []
    assert sorted({package for package, dummy in module_files()}) == sorted(RANK)


@pytest.mark.parametrize("package, path", list(module_files()), ids=lambda v: os.path.basename(str(v)))
def test_a_file_imports_only_its_own_package_and_the_layers_below(package, path):
    upward = sorted(other for other in imported_packages(path) - {package} if RANK[other] >= RANK[package])
    assert upward == [], "%s/%s imports %s, which is not below %s (LAYERS)" % (
        package, os.path.basename(path), ", ".join(upward), package)


def test_the_check_sees_an_upward_import(tmp_path):
    path = tmp_path / "x.py"
    path.write_text("from %sdeploy.stack_run import run\nfrom %scommon import errors\n" % (PREFIX, PREFIX))
    assert imported_packages(str(path)) == {"deploy", "common"}
