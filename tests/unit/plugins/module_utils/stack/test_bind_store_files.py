"""bind_store_files: the bind store's files read and written without following a link. A container of
the tenant's may plant a link anywhere in a read-write directory; nothing here may read or write
through one (bind_store.py's tests cover what is written when)."""
import hashlib
import io
import json
import os
import stat
import tarfile

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.stack import bind_store_files as files


@pytest.fixture
def top(tmp_path):
    """A directory descriptor of the store's top, and the directory; closed after the test."""
    directory = tmp_path / "top"
    directory.mkdir()
    fd = files.open_dir(str(directory))
    yield fd, directory
    os.close(fd)


@pytest.fixture
def outside(tmp_path):
    """What a planted link points at: nothing here may change it."""
    target = tmp_path / "outside"
    target.mkdir()
    (target / "passwd").write_text("root:x:0:0\n")
    return target


def test_shown():
    assert (files.shown("conf/a.ini", "config"), files.shown("", "config")) == ("config/conf/a.ini", "config")


def test_open_dir_creates_the_store_only_when_asked(tmp_path):
    with pytest.raises(SpinError, match="^the bind store %s cannot be opened: " % (tmp_path / "store")):
        files.open_dir(str(tmp_path / "store"))
    fd = files.open_dir(str(tmp_path / "store" / "sub"), create=True)
    os.close(fd)
    assert stat.S_IMODE(os.stat(str(tmp_path / "store" / "sub")).st_mode) & 0o022 == 0


def test_open_dir_refuses_a_link(tmp_path, outside):
    os.symlink(str(outside), str(tmp_path / "store"))
    with pytest.raises(SpinError):
        files.open_dir(str(tmp_path / "store"))


def test_lstat_does_not_follow_and_is_none_for_what_is_not_there(top, outside):
    fd, directory = top
    os.symlink(str(outside), str(directory / "link"))
    (directory / "file").write_text("x")
    assert stat.S_ISLNK(files.lstat("link", fd).st_mode)
    assert files.lstat("missing", fd) is None
    assert files.lstat("file/below", fd) is None        # ENOTDIR: a file where a directory would be


def test_walk_to_opens_the_parent_one_component_at_a_time(top):
    fd, directory = top
    (directory / "a" / "b").mkdir(parents=True)
    parent, name = files.walk_to(fd, "a/b/c.txt")
    try:
        assert name == "c.txt" and os.path.samestat(os.fstat(parent), os.stat(str(directory / "a" / "b")))
    finally:
        os.close(parent)
    assert files.walk_to(fd, "missing/c.txt") is None


def test_walk_to_never_passes_a_link_and_replaces_it_when_creating(top, outside):
    fd, directory = top
    os.symlink(str(outside), str(directory / "conf"))
    assert files.walk_to(fd, "conf/passwd") is None
    parent, name = files.walk_to(fd, "conf/passwd", create=(0o750, None, None))
    os.close(parent)
    assert name == "passwd" and not os.path.islink(str(directory / "conf"))
    assert stat.S_IMODE(os.stat(str(directory / "conf")).st_mode) == 0o750
    assert os.listdir(str(outside)) == ["passwd"]


def test_remove_entry_removes_a_tree_a_file_or_a_link_never_its_target(top, outside):
    fd, directory = top
    (directory / "tree" / "deep").mkdir(parents=True)
    (directory / "tree" / "deep" / "f").write_text("x")
    (directory / "file").write_text("x")
    os.symlink(str(outside), str(directory / "link"))
    for name in ("tree", "file", "link", "missing"):
        files.remove_entry(fd, name)
    assert os.listdir(str(directory)) == [] and os.listdir(str(outside)) == ["passwd"]


def test_actual_describes_what_is_there_now(top, outside):
    fd, directory = top
    (directory / "d").mkdir(mode=0o750)
    os.chmod(str(directory / "d"), 0o750)
    (directory / "d" / "f").write_bytes(b"hello\n")
    os.chmod(str(directory / "d" / "f"), 0o640)
    os.symlink("f", str(directory / "d" / "l"))
    digest = hashlib.sha256(b"hello\n").hexdigest()
    assert files.actual(fd, "d", None) == ["d", "d", 0o750]
    assert files.actual(fd, "d/l", None) == ["d/l", "l", "f"]
    # the content is read only when the manifest expects a file of that size
    assert files.actual(fd, "d/f", None) == ["d/f", "f", 0o640, 6, ""]
    assert files.actual(fd, "d/f", ["d/f", "f", 0o640, 5, "x"]) == ["d/f", "f", 0o640, 6, ""]
    assert files.actual(fd, "d/f", ["d/f", "f", 0o640, 6, "x"]) == ["d/f", "f", 0o640, 6, digest]
    assert files.actual(fd, "d/none", None) is None
    os.symlink(str(outside), str(directory / "via"))
    assert files.actual(fd, "via/passwd", None) is None       # not reachable without a link


def test_actual_of_the_top_itself(top):
    fd, directory = top
    os.chmod(str(directory), 0o755)
    assert files.actual(fd, "", None) == ["", "d", 0o755]


def member(name, kind="f", data=b""):
    info = tarfile.TarInfo(name)
    info.type = {"f": tarfile.REGTYPE, "d": tarfile.DIRTYPE, "l": tarfile.SYMTYPE}[kind]
    info.size = len(data) if kind == "f" else 0
    return info, io.BytesIO(data) if kind == "f" else None


def entry(*manifest, key="conf"):
    return {"key": key, "manifest": [list(item) for item in manifest], "digest": "sha256:0", "read_only": True}


def sha(data):
    return hashlib.sha256(data).hexdigest()


def test_writer_writes_the_manifests_files_with_their_modes(top):
    fd, directory = top
    writer = files.Writer(entry(["sub", "d", 0o750], ["sub/a.ini", "f", 0o640, 2, sha(b"a\n")],
                                ["sub/l", "l", "a.ini"]), fd, None, None)
    for rel, kind, data in (("sub", "d", b""), ("sub/a.ini", "f", b"a\n"), ("sub/l", "l", b"")):
        info, stream = member("conf/" + rel, kind, data)
        if kind == "l":
            info.linkname = "a.ini"
        writer.member(rel, info, stream)
    assert (directory / "sub" / "a.ini").read_bytes() == b"a\n"
    assert stat.S_IMODE(os.stat(str(directory / "sub" / "a.ini")).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(str(directory / "sub")).st_mode) == 0o750
    assert os.readlink(str(directory / "sub" / "l")) == "a.ini"
    assert writer.missing() == [] and sorted(os.listdir(str(directory / "sub"))) == ["a.ini", "l"]


def test_writer_replaces_a_planted_link_never_writing_through_it(top, outside):
    fd, directory = top
    os.symlink(str(outside / "passwd"), str(directory / "a.ini"))
    writer = files.Writer(entry(["a.ini", "f", 0o644, 2, sha(b"a\n")]), fd, None, None)
    writer.member("a.ini", *member("conf/a.ini", "f", b"a\n"))
    assert not os.path.islink(str(directory / "a.ini")) and (directory / "a.ini").read_bytes() == b"a\n"
    assert (outside / "passwd").read_text() == "root:x:0:0\n"


def test_writer_refuses_what_the_verdict_did_not_see_and_leaves_no_temporary_file(top):
    fd, directory = top
    writer = files.Writer(entry(["a.ini", "f", 0o644, 2, sha(b"a\n")]), fd, None, None)
    with pytest.raises(SpinError, match="^the bind store archive holds conf/other.ini, which the verdict did not see"):
        writer.member("other.ini", *member("conf/other.ini", "f", b"x"))
    with pytest.raises(SpinError, match="^conf/a.ini in the bind store archive is not the file the verdict saw"):
        writer.member("a.ini", *member("conf/a.ini", "f", b"b\n"))
    with pytest.raises(SpinError, match="which the verdict did not see"):
        writer.member("a.ini", *member("conf/a.ini", "d"))           # a directory where a file was seen
    assert os.listdir(str(directory)) == [] and writer.missing() == ["a.ini"]


def test_writer_leaves_alone_what_is_not_asked_for(top):
    fd, directory = top
    (directory / "a.ini").write_text("the service's own\n")
    writer = files.Writer(entry(["a.ini", "f", 0o644, 2, sha(b"a\n")]), fd, None, None, only=set())
    writer.member("a.ini", *member("conf/a.ini", "f", b"a\n"))
    assert (directory / "a.ini").read_text() == "the service's own\n" and writer.missing() == []


def test_writer_of_a_file_entry_writes_the_stacks_file_by_its_name(top):
    fd, directory = top
    writer = files.Writer(entry(["", "f", 0o600, 3, sha(b"pw\n")], key="secret.txt"), fd, None, None,
                          file_name="secret.txt")
    writer.member("", *member("secret.txt", "f", b"pw\n"))
    assert (directory / "secret.txt").read_bytes() == b"pw\n"
    assert stat.S_IMODE(os.stat(str(directory / "secret.txt")).st_mode) == 0o600


def test_write_state_records_the_deploy_out_of_the_containers_reach(top):
    fd, directory = top
    files.write_state(fd, entry(["a", "f", 0o644, 1, "x"]), "/srv/store/t/s/conf")
    state = directory / files.STATE_DIR
    assert stat.S_IMODE(os.stat(str(state)).st_mode) == 0o700 and os.listdir(str(state)) == ["conf.json"]
    assert json.loads((state / "conf.json").read_text()) == {
        "digest": "sha256:0", "path": "/srv/store/t/s/conf", "read_only": True, "manifest": [["a", "f", 420, 1, "x"]]}


def test_members_splits_each_name_into_the_entry_and_its_path(tmp_path):
    archive = str(tmp_path / "binds.tar")
    with tarfile.open(archive, "w") as tar:
        for name, kind, data in (("conf", "d", b""), ("conf/a.ini", "f", b"a\n"), ("secret.txt", "f", b"pw")):
            info, stream = member(name, kind, data)
            tar.addfile(info, stream)
    found = [(key, rel, data.read() if data else None) for key, rel, _member, data in files.members(archive)]
    assert found == [("conf", "", None), ("conf", "a.ini", b"a\n"), ("secret.txt", "", b"pw")]


def test_stack_fd_of_makes_the_tenants_and_stacks_directories(top):
    fd, directory = top
    stack_fd = files.stack_fd_of(fd, "cory", "magic")
    os.close(stack_fd)
    assert (directory / "cory" / "magic").is_dir()


def test_stack_fd_of_refuses_a_file_or_link_where_a_directory_belongs(top, outside):
    fd, directory = top
    os.symlink(str(outside), str(directory / "cory"))
    with pytest.raises(SpinError, match="^the bind store holds cory where a directory belongs"):
        files.stack_fd_of(fd, "cory", "magic")
    assert os.listdir(str(outside)) == ["passwd"]


def test_drop_removes_a_file_and_only_an_empty_directory(top):
    fd, directory = top
    (directory / "full").mkdir()
    (directory / "full" / "kept").write_text("the service's")
    (directory / "empty").mkdir()
    (directory / "f").write_text("x")
    for rel in ("full", "empty", "f", "missing", "missing/below"):
        files.drop(fd, rel)
    assert os.listdir(str(directory)) == ["full"]
