"""submission_tree: the tenant of a submission is the directory it lies in, and a file counts as the
tenant's only when the tenant owns it (and every directory above it) and nobody else can write it."""
import os

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import submission_tree
from ansible_collections.spin.platform.tests.unit import tenant_tree

ROOT_ONLY = pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another uid needs root")
OTHER_UID = 1001


def tenants():
    return dict(tenant_tree.registry("eve"), cory={"uid": OTHER_UID, "gid": OTHER_UID})


def eve(tmp_path, files=None):
    root, directory = tenant_tree.submission(tmp_path, "eve", "site")
    for name, text in (files or {"docker-compose.yml": "services: {}\n"}).items():
        with open(os.path.join(directory, name), "w") as handle:
            handle.write(text)
    tenant_tree.hand_in(directory)
    return root, directory


def test_the_tenant_is_the_directory_the_path_lies_in(tmp_path):
    root, directory = eve(tmp_path)
    tree = submission_tree.locate(os.path.join(directory, "docker-compose.yml"), [root], tenants())
    assert (tree.tenant, tree.uid, tree.directory) == ("eve", tenant_tree.UID, os.path.join(root, "eve"))
    assert tree.read(os.path.join(directory, "docker-compose.yml"), 100) == b"services: {}\n"


def test_a_directory_that_is_no_tenants_is_refused(tmp_path):
    root, directory = eve(tmp_path)
    with pytest.raises(SpinError) as info:
        submission_tree.locate(directory, [root], tenant_tree.registry("cory"))
    assert "which is no tenant's directory: there is no tenant 'eve' in the registry" in info.value.message


def test_a_file_directly_in_the_root_is_no_tenants(tmp_path):
    root, directory = eve(tmp_path)
    loose = os.path.join(root, "docker-compose.yml")
    open(loose, "w").close()
    with pytest.raises(SpinError) as info:
        submission_tree.locate(loose, [root], tenants())
    assert info.value.message == ("submission %s lies directly in the submission root %s: submissions live in "
                                  "<root>/<tenant>/<stack>/" % (loose, root))


def test_a_tenant_without_a_uid_owns_nothing(tmp_path):
    root, directory = eve(tmp_path)
    with pytest.raises(SpinError) as info:
        submission_tree.locate(directory, [root], {"eve": {"paths": []}})
    assert "tenant 'eve' has no uid in the registry" in info.value.message


def test_a_path_through_a_link_below_the_root_is_refused(tmp_path):
    """eve's stack directory is a link to another of her directories: staff must name it by its own path."""
    root, directory = eve(tmp_path)
    link = os.path.join(root, "eve", "alias")
    os.symlink(directory, link)
    with pytest.raises(SpinError) as info:
        submission_tree.locate(link, [root], tenants())
    assert "goes through a symbolic link to %s" % directory in info.value.message


@pytest.mark.parametrize("mode, who", [(0o666, "others"), (0o664, "its group")])
def test_a_file_that_others_may_write_is_refused(tmp_path, mode, who):
    root, directory = eve(tmp_path)
    path = os.path.join(directory, "docker-compose.yml")
    os.chmod(path, mode)
    tree = submission_tree.locate(path, [root], tenants())
    with pytest.raises(SpinError) as info:
        tree.read(path, 100)
    assert info.value.message == ("%s is writable by %s: nobody but the tenant may change a submission "
                                  "(chmod go-w %s)" % (path, who, path))


def test_a_directory_that_others_may_write_is_refused(tmp_path):
    root, directory = eve(tmp_path)
    os.chmod(directory, 0o777)
    tree = submission_tree.locate(directory, [root], tenants())
    with pytest.raises(SpinError) as info:
        tree.read(os.path.join(directory, "docker-compose.yml"), 100)
    assert "%s is writable by others" % directory in info.value.message


def test_a_root_that_anybody_may_write_is_refused(tmp_path):
    """In a world-writable root (/tmp) anybody makes the directory of a tenant that has none yet."""
    root, directory = eve(tmp_path)
    os.chmod(root, 0o1777)
    tree = submission_tree.locate(directory, [root], tenants())
    with pytest.raises(SpinError) as info:
        tree.check_dir(directory)
    assert "the submission root %s is writable by group or others" % root in info.value.message


@ROOT_ONLY
def test_another_tenants_file_in_the_submission_is_refused_by_name(tmp_path):
    """cory's file copied (or hard-linked) into eve's submission stays cory's: refused, naming cory."""
    root, directory = eve(tmp_path, {"docker-compose.yml": "services: {}\n", "secret.txt": "cory's\n"})
    path = os.path.join(directory, "secret.txt")
    os.chown(path, OTHER_UID, OTHER_UID)
    tree = submission_tree.locate(directory, [root], tenants())
    with pytest.raises(SpinError) as info:
        tree.read(path, 100)
    assert info.value.message == (
        "%s is owned by uid %d (tenant 'cory'), not by tenant 'eve' (uid %d): a submission holds only its tenant's "
        "own files; the tenant copies the file in as itself (chown %d %s)"
        % (path, OTHER_UID, tenant_tree.UID, tenant_tree.UID, path))


@ROOT_ONLY
def test_a_tenant_directory_owned_by_somebody_else_is_refused(tmp_path):
    """Made by another user before the tenant was onboarded: not the tenant's, whatever its name."""
    root, directory = eve(tmp_path)
    os.chown(os.path.join(root, "eve"), 0, 0)
    tree = submission_tree.locate(directory, [root], tenants())
    with pytest.raises(SpinError) as info:
        tree.check_dir(directory)
    assert "%s is owned by uid 0 (no tenant), not by tenant 'eve'" % os.path.join(root, "eve") in info.value.message


def test_a_fifo_is_refused_without_being_opened(tmp_path):
    """Opening a FIFO would block the controller until somebody writes to it."""
    root, directory = eve(tmp_path)
    path = os.path.join(directory, "pipe")
    os.mkfifo(path, 0o644)
    tenant_tree.hand_in(directory)
    tree = submission_tree.locate(directory, [root], tenants())
    with pytest.raises(SpinError) as info:
        tree.read(path, 100)
    assert "%s is not a regular file" % path in info.value.message


def test_a_directory_swapped_for_a_link_after_the_check_is_not_followed(tmp_path):
    """The files are opened one component at a time without following links: a directory replaced
    by a link between the caller's check (realpath) and the read is refused, not followed."""
    root, directory = eve(tmp_path, {"docker-compose.yml": "services: {}\n"})
    os.makedirs(os.path.join(directory, "conf"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "app.conf").write_text("not eve's\n")
    tenant_tree.hand_in(str(elsewhere))
    tenant_tree.hand_in(directory)
    tree = submission_tree.locate(directory, [root], tenants())
    real = os.path.join(directory, "conf", "app.conf")   # what the caller resolved before the swap
    os.rmdir(os.path.join(directory, "conf"))
    os.symlink(str(elsewhere), os.path.join(directory, "conf"))
    with pytest.raises(SpinError) as info:
        tree.read(real, 100)
    assert "is a symbolic link where a file or directory is expected" in info.value.message


def test_a_file_larger_than_the_limit_is_refused(tmp_path):
    root, directory = eve(tmp_path, {"big": "x" * 101})
    tree = submission_tree.locate(directory, [root], tenants())
    with pytest.raises(SpinError) as info:
        tree.read(os.path.join(directory, "big"), 100)
    assert "is larger than 100 bytes: refused" in info.value.message


def test_a_file_that_vanished_is_named_not_a_traceback(tmp_path):
    root, directory = eve(tmp_path)
    tree = submission_tree.locate(directory, [root], tenants())
    with pytest.raises(SpinError) as info:
        tree.read(os.path.join(directory, "gone.yml"), 100)
    assert info.value.message == "%s cannot be read: No such file or directory" % os.path.join(directory, "gone.yml")
