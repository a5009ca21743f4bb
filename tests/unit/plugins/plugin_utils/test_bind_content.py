"""bind_content (issue 18): what a relative bind mount hands over, read on the controller as the
tenant's own files, within the stack's limits, into a manifest and an archive that match."""
import hashlib
import io
import os
import tarfile

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import bind_content, submission_tree
from ansible_collections.spin.platform.tests.unit import tenant_tree


def tree_with(tmp_path, files):
    root, directory = tenant_tree.submission(tmp_path, "demo", "st")
    for rel, content in files.items():
        path = os.path.join(directory, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        if content is None:
            os.makedirs(path, exist_ok=True)
        elif isinstance(content, tuple):
            os.symlink(content[1], path)
        else:
            with open(path, "wb") as out:
                out.write(content)
    tenant_tree.hand_in(directory)
    for base, dirs, names in os.walk(directory):
        for name in dirs + names:
            if os.path.islink(os.path.join(base, name)):
                os.lchown(os.path.join(base, name), tenant_tree.UID, tenant_tree.GID)
    return directory, submission_tree.locate(directory, [root], tenant_tree.registry())


def budget(max_bytes=1 << 20, max_files=100):
    return bind_content.Budget(max_bytes, max_files)


def test_a_directory_becomes_a_manifest_of_names_kinds_modes_and_content(tmp_path):
    directory, tree = tree_with(tmp_path, {"app/index.php": b"<?php", "app/lib": None, "app/lib/a.php": b"a",
                                           "app/current": ("link", "lib")})
    os.chmod(os.path.join(directory, "app", "lib", "a.php"), 0o755)
    found = bind_content.read(directory, "./app", "dir", budget(), tree)
    assert found["manifest"] == [
        ["current", "l", "lib"],
        ["index.php", "f", 0o644, 5, hashlib.sha256(b"<?php").hexdigest()],
        ["lib", "d", 0o755],
        ["lib/a.php", "f", 0o755, 1, hashlib.sha256(b"a").hexdigest()]]
    assert (found["bytes"], found["files"]) == (6, 2)
    assert found["digest"] == bind_content.digest(found["manifest"])
    # the same content gives the same digest; a changed byte another
    assert bind_content.read(directory, "app", "dir", budget(), tree)["digest"] == found["digest"]
    with open(os.path.join(directory, "app", "index.php"), "wb") as out:
        out.write(b"<?PHP")
    assert bind_content.read(directory, "./app", "dir", budget(), tree)["digest"] != found["digest"]


def test_the_archive_holds_exactly_the_manifest(tmp_path):
    directory, tree = tree_with(tmp_path, {"conf/a.yml": b"a: 1", "big.log": b"x" * 1000})
    entries = []
    for key, source, kind in (("conf", "./conf", "dir"), ("big.log", "./big.log", "file")):
        found = bind_content.read(directory, source, kind, budget(), tree)
        entries.append({"key": key, "source": source, "kind": kind, "digest": found["digest"]})
    data = bind_content.packed_bytes(directory, entries, tree)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        members = [(m.name, m.type, m.uid, m.mtime) for m in tar.getmembers()]
        assert tar.extractfile("big.log").read() == b"x" * 1000
    assert members == [("conf", tarfile.DIRTYPE, 0, 0), ("conf/a.yml", tarfile.REGTYPE, 0, 0),
                       ("big.log", tarfile.REGTYPE, 0, 0)]
    assert bind_content.packed_bytes(directory, entries, tree) == data   # deterministic


def test_a_directory_that_changed_after_the_verdict_is_refused_when_packed(tmp_path):
    directory, tree = tree_with(tmp_path, {"conf/a.yml": b"a: 1"})
    found = bind_content.read(directory, "./conf", "dir", budget(), tree)
    with open(os.path.join(directory, "conf", "a.yml"), "wb") as out:
        out.write(b"a: 2")
    with pytest.raises(SpinError) as info:
        bind_content.packed_bytes(directory, [{"key": "conf", "source": "./conf", "kind": "dir",
                                               "digest": found["digest"]}], tree)
    assert info.value.message == ("'./conf' changed while the deploy read it: leave the submission alone while it is "
                                  "deployed, and run again")


@pytest.mark.parametrize("limits, message", [
    ({"max_files": 2}, "'./app/c' takes the stack's bind mounts over 2 files, the platform's limit "
                       "(spin_policy.bind_store_files): bind a smaller directory, or put the files into the image "
                       "(build:)"),
    ({"max_bytes": 2048}, "'./app/b' takes the stack's bind mounts over 2048 bytes (2 KiB), the platform's limit "
                          "(spin_policy.bind_store_bytes): bind a smaller directory, or put the files into the image "
                          "(build:)"),
])
def test_the_stacks_limits_are_named_with_the_path_that_passes_them(tmp_path, limits, message):
    directory, tree = tree_with(tmp_path, {"app/a": b"x" * 1500, "app/b": b"x" * 1500, "app/c": b"x"})
    with pytest.raises(SpinError) as info:
        bind_content.read(directory, "./app", "dir", budget(**limits), tree)
    assert info.value.message == message


def test_a_named_pipe_is_refused_by_name(tmp_path):
    directory, tree = tree_with(tmp_path, {"app/a": b"x"})
    os.mkfifo(os.path.join(directory, "app", "pipe"))
    tenant_tree.hand_in(directory)
    with pytest.raises(SpinError) as info:
        bind_content.read(directory, "./app", "dir", budget())
    assert info.value.message == ("'./app/pipe' is not a file, directory or link (a socket, device or pipe cannot be "
                                  "handed over): remove it from the submission")
    # the tenant tree refuses it first, by its path
    with pytest.raises(SpinError) as info:
        bind_content.read(directory, "./app", "dir", budget(), tree)
    assert info.value.message.endswith("app/pipe is not a regular file (a directory, FIFO, socket or device): only "
                                       "plain files are read")


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another uid needs root")
def test_a_file_of_another_owner_below_the_directory_is_refused(tmp_path):
    directory, tree = tree_with(tmp_path, {"app/a": b"x", "app/b": b"y"})
    os.chown(os.path.join(directory, "app", "b"), 1001, 1001)
    with pytest.raises(SpinError) as info:
        bind_content.read(directory, "./app", "dir", budget(), tree)
    assert "app/b is owned by uid 1001 (no tenant), not by tenant 'demo'" in info.value.message


def test_a_link_out_of_the_submission_is_kept_as_a_link_and_never_read(tmp_path):
    directory, tree = tree_with(tmp_path, {"app/passwd": ("link", "/etc/passwd")})
    found = bind_content.read(directory, "./app", "dir", budget(), tree)
    assert found["manifest"] == [["passwd", "l", "/etc/passwd"]] and found["bytes"] == 0


def test_the_audit_digest_names_the_directories_a_stack_hands_over(tmp_path):
    """A record names exactly the input it judged: a changed file of a bound directory is a new digest."""
    from ansible_collections.spin.platform.plugins.plugin_utils.submission import check_submission
    directory, _tree = tree_with(tmp_path, {"docker-compose.yml": b"services:\n  web:\n    image: httpd\n"
                                            b"    volumes: ['./site:/var/www/html:ro']\n",
                                            "site/index.html": b"one"})
    args = {"tenant": "demo", "stack": "st", "compose_file": os.path.join(directory, "docker-compose.yml"),
            "submission_roots": [os.path.dirname(os.path.dirname(directory))], "tenants": tenant_tree.registry()}
    first = check_submission(dict(args), [directory])[1]["input_digest"]
    with open(os.path.join(directory, "site", "index.html"), "wb") as out:
        out.write(b"two")
    assert check_submission(dict(args), [directory])[1]["input_digest"] != first


def test_a_path_the_submission_does_not_have_packs_nothing_and_a_vanished_one_is_named(tmp_path):
    directory, tree = tree_with(tmp_path, {"conf/a.yml": b"a: 1"})
    found = bind_content.read(directory, "./conf", "dir", budget(), tree)
    entries = [{"key": "data", "source": "./data", "kind": "missing", "digest": bind_content.digest([])},
               {"key": "conf", "source": "./conf", "kind": "dir", "digest": found["digest"]}]
    with tarfile.open(fileobj=io.BytesIO(bind_content.packed_bytes(directory, entries, tree))) as tar:
        assert tar.getnames() == ["conf", "conf/a.yml"]
    # the directory went away between the verdict and the deploy: named, never a traceback
    os.rename(os.path.join(directory, "conf"), os.path.join(directory, "gone"))
    with pytest.raises(SpinError) as info:
        bind_content.packed_bytes(directory, entries[1:], tree)
    assert "conf" in info.value.message and "No such file or directory" in info.value.message
