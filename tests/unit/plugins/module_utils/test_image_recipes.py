# -*- coding: utf-8 -*-
"""The platform's images that run collection code (the scheduler, the swarm exporter) carry exactly the
module_utils files their script imports, directly or through each other (roles/images/defaults/main.yml,
``collection_files``): one missing fails at the container's start, one extra is dead weight."""
from __future__ import annotations

import ast
import os

import pytest
import yaml

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


PREFIX = "ansible_collections.spin.platform.plugins.module_utils."


def _imports(path):
    """The module_utils files a file imports, as ``<package>/<module>``."""
    found = set()
    with open(path) as handle:
        tree = ast.parse(handle.read())
    for item in ast.walk(tree):
        if isinstance(item, ast.ImportFrom) and (item.module or "").startswith(PREFIX):
            parts = item.module[len(PREFIX):].split(".")
            if len(parts) == 2:
                found.add("/".join(parts))
            else:           # from <module_utils>.<package> import <module>, ...
                found.update("%s/%s" % (parts[0], alias.name) for alias in item.names)
    return found


@pytest.mark.parametrize("recipe_name, script", [("jobs", "jobs/spin-job-scheduler"),
                                                 ("monitoring", "monitoring/spin-swarm-exporter")])
def test_the_image_carries_every_file_its_script_imports(recipe_name, script):
    with open(os.path.join(ROOT, "roles", "images", "defaults", "main.yml")) as handle:
        recipe = next(r for r in yaml.safe_load(handle)["images_recipes"] if r["recipe"] == recipe_name)
    carried = {p[len("plugins/module_utils/"):-len(".py")] for p in recipe["collection_files"]}
    path = os.path.join(ROOT, "roles", "images", "files", script)
    wanted, seen = _imports(path), set()
    while wanted - seen:
        name = sorted(wanted - seen)[0]
        seen.add(name)
        wanted |= _imports(os.path.join(ROOT, "plugins", "module_utils", name + ".py"))
    assert seen == carried
    assert os.stat(path).st_mode & 0o111
