"""The collection builds with ansible-galaxy, installs, and every plugin's and role's documentation
renders from the installed copy (what users of a release get)."""
import os
import subprocess
import sys

import pytest
import tracebacks

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
                 if name.endswith(".py") and not name.startswith("_"))
ROLES = sorted(name for name in os.listdir(os.path.join(ROOT, "roles"))
               if os.path.isfile(os.path.join(ROOT, "roles", name, "meta", "argument_specs.yml")))


def _run(*argv, cwd=None, env=None):
    env = dict(env if env is not None else os.environ, **tracebacks.ENV)
    proc = subprocess.run(argv, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False)
    tracebacks.assert_none(proc.stdout, " ".join(argv))
    assert proc.returncode == 0, "%s failed:\n%s" % (" ".join(argv), proc.stdout[-3000:])
    return proc.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    work = tmp_path_factory.mktemp("galaxy")
    # outside the checkout, with an ansible.cfg of its own: nothing may resolve through the
    # checkout's link (ansible-galaxy would even call the collection installed already)
    (work / "ansible.cfg").write_text("[defaults]\ncollections_path = %s\n" % (work / "collections"))
    where = {"cwd": str(work), "env": dict(os.environ, ANSIBLE_CONFIG=str(work / "ansible.cfg"), ANSIBLE_NOCOLOR="1")}
    _run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", ROOT, "--output-path", str(work), **where)
    tarballs = [name for name in os.listdir(work) if name.endswith(".tar.gz")]
    assert len(tarballs) == 1, tarballs
    listing = _run("tar", "tzf", str(work / tarballs[0]))
    for unwanted in ("playbooks/collections/", ".venv/", "__pycache__"):
        assert unwanted not in listing, unwanted
    _run(os.path.join(BIN, "ansible-galaxy"), "collection", "install", str(work / tarballs[0]), "-p",
         str(work / "collections"), **where)
    assert os.path.isfile(os.path.join(work, "collections", "ansible_collections", "spin", "platform", "MANIFEST.json"))
    return where


@pytest.mark.parametrize("module", MODULES)
def test_module_docs_render_from_the_installed_collection(installed, module):
    out = _run(os.path.join(BIN, "ansible-doc"), "spin.platform." + module, **installed)
    assert "spin.platform.%s" % module in out and "OPTIONS" in out


def test_inventory_plugin_docs_render(installed):
    out = _run(os.path.join(BIN, "ansible-doc"), "-t", "inventory", "spin.platform.swarm", **installed)
    assert "spin.platform.swarm" in out


@pytest.mark.parametrize("role", ROLES)
def test_role_argument_specs_render(installed, role):
    out = _run(os.path.join(BIN, "ansible-doc"), "-t", "role", "spin.platform." + role, **installed)
    assert "ENTRY POINT: *main*" in out or "ENTRY POINT: main" in out


# what a checkout accumulates and no release may carry: the tools' virtualenvs (./spin's, the bench's), caches
# (the oldest-core venv), ansible-test's output, the link that makes the checkout a collection, byte code
LEFT_BEHIND = (".venv/bin/python-marker", ".venv-bench/bin/python-marker", ".cache/venv-oldest/marker",
               "tests/output/junit/marker.xml", "plugins/module_utils/__pycache__/marker.cpython-311.pyc")


def test_the_artifact_leaves_out_what_a_checkout_accumulates(tmp_path):
    # a copy of the tracked files plus those leftovers, so the test holds whether or not this checkout has them
    tree = tmp_path / "checkout"
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, stdout=subprocess.PIPE, check=True).stdout
    for name in filter(None, listed.decode("utf-8").split("\0")):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source) and not os.path.islink(source):
            os.makedirs(tree / os.path.dirname(name), exist_ok=True)
            with open(source, "rb") as reader, open(tree / name, "wb") as writer:
                writer.write(reader.read())
    for name in LEFT_BEHIND:
        os.makedirs(tree / os.path.dirname(name), exist_ok=True)
        (tree / name).write_text("left behind\n")
    os.makedirs(tree / "playbooks" / "collections" / "ansible_collections" / "spin")
    os.symlink("../../../..", tree / "playbooks" / "collections" / "ansible_collections" / "spin" / "platform")
    env = dict(os.environ, ANSIBLE_CONFIG=str(tmp_path / "none.cfg"), ANSIBLE_NOCOLOR="1")
    _run(os.path.join(BIN, "ansible-galaxy"), "collection", "build", str(tree), "--output-path", str(tmp_path),
         cwd=str(tmp_path), env=env)
    tarball = [name for name in os.listdir(tmp_path) if name.endswith(".tar.gz")]
    listing = _run("tar", "tzf", str(tmp_path / tarball[0])).splitlines()
    assert "plugins/inventory/swarm.py" in listing and "galaxy.yml" not in listing  # the listing is what it seems
    for top in (".venv", ".venv-bench", ".cache", "tests/output", "playbooks/collections", "__pycache__"):
        assert not [name for name in listing if name == top or name.startswith(top + "/") or "/%s/" % top in name
                    or name.endswith("/" + top)], top
