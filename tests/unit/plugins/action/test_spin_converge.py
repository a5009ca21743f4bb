"""spin_converge's controller half: which directories are submissions, and the arguments sent once."""
import os

from ansible_collections.spin.platform.plugins.action.spin_converge import shared_arguments, submissions


def test_submissions_are_the_registry_tenants_stack_directories(tmp_path):
    root = tmp_path / "root"
    for path in ("cory/magic", "cory/blog", "dana/shop", "stranger/x"):
        (root / path).mkdir(parents=True)
    (root / "cory" / "notes.txt").write_text("not a stack")
    os.symlink(str(root / "dana" / "shop"), str(root / "cory" / "linked"))
    tenants = {"cory": {"uid": 1001}, "dana": {"uid": 1002}, "erin": {"uid": 1003}}
    found, skipped = submissions([str(root), str(tmp_path / "missing")], tenants)
    # a link is listed too: spin_stack refuses it by name (a submission reached through a link)
    assert found == [str(root / "cory" / n) for n in ("blog", "linked", "magic")] + [str(root / "dana" / "shop")]
    assert skipped == [str(root / "stranger")]
    found, skipped = submissions([str(root)], tenants, only=["dana"])
    assert found == [str(root / "dana" / "shop")] and skipped == []


def test_shared_arguments_are_sent_once_and_private_ones_per_stack():
    stacks = [{"tenant": "a", "stack": "x", "policy": {"p": 1}, "wait": True, "_tasks": {"t": 1}, "public_host": "h"},
              {"tenant": "b", "stack": "y", "policy": {"p": 1}, "wait": True, "_tasks": {"t": 1}, "public_host": "k"}]
    common, rest = shared_arguments(stacks)
    assert common == {"policy": {"p": 1}, "wait": True}
    assert rest == [{"tenant": "a", "stack": "x", "_tasks": {"t": 1}, "public_host": "h"},
                    {"tenant": "b", "stack": "y", "_tasks": {"t": 1}, "public_host": "k"}]
    assert shared_arguments([]) == ({}, [])
