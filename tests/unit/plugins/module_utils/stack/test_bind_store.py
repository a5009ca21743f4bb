"""The bind store (issue 18): a stack's relative directory binds synced on the manager, read-only
ones as versions by content, read-write ones in place; nothing written through a link a container
planted; the diff names the files that change."""
import hashlib
import io
import os
import stat
import tarfile

import pytest

from ansible_collections.spin.platform.plugins.module_utils.stack import bind_store
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

UID = 1000 if os.getuid() == 0 else os.getuid()
GID = 1000 if os.getuid() == 0 else os.getgid()


def manifest_of(files):
    """{relpath: bytes | None (a directory) | ('link', target)} -> manifest entries, as bind_content makes them."""
    out = []
    for rel in sorted(files):
        content = files[rel]
        if content is None:
            out.append([rel, "d", 0o755])
        elif isinstance(content, tuple):
            out.append([rel, "l", content[1]])
        else:
            out.append([rel, "f", 0o644, len(content), hashlib.sha256(content).hexdigest()])
    return out


def archive(tmp_path, entries, extra=None):
    """The controller's archive of ``entries`` ({key: files}); ``extra``: members the verdict never saw."""
    path = tmp_path / "binds.tar"
    with tarfile.open(str(path), "w", format=tarfile.PAX_FORMAT) as tar:
        for key, files in entries.items():
            if isinstance(files, bytes):
                info = tarfile.TarInfo(key)
                info.size = len(files)
                tar.addfile(info, io.BytesIO(files))
                continue
            info = tarfile.TarInfo(key)
            info.type = tarfile.DIRTYPE
            tar.addfile(info)
            for rel, content in sorted(dict(files, **(extra or {})).items()):
                info = tarfile.TarInfo("%s/%s" % (key, rel))
                if content is None:
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
                elif isinstance(content, tuple):
                    info.type, info.linkname = tarfile.SYMTYPE, content[1]
                    tar.addfile(info)
                else:
                    info.size, info.mode = len(content), 0o644
                    tar.addfile(info, io.BytesIO(content))
    return str(path)


def store_of(root, entries, read_only=True):
    """The translator's bind_store for ``entries`` ({key: files dict, or bytes for a file entry})."""
    items = []
    for key, files in entries.items():
        if isinstance(files, bytes):
            manifest = [["", "f", 0o644, len(files), hashlib.sha256(files).hexdigest()]]
            kind = "file"
        else:
            manifest, kind = manifest_of(files), "dir"
        digest = hashlib.sha256(repr(manifest).encode()).hexdigest()
        items.append({"key": key, "source": "./" + key, "kind": kind, "read_only": read_only, "digest": digest,
                      "manifest": manifest, "path": bind_store.entry_path(str(root), "demo", "st", key, digest,
                                                                          read_only)})
    return {"root": str(root), "tenant": "demo", "stack": "st", "entries": items}


def deploy(tmp_path, root, entries, read_only=True, extra=None):
    store = store_of(root, entries, read_only)
    plans = bind_store.plan(store)
    bind_store.apply(plans, store, archive(tmp_path, entries, extra), UID, GID)
    return store, plans


SITE = {"index.html": b"<h1>hi</h1>", "css": None, "css/site.css": b"body {}", "latest": ("link", "index.html")}


def test_a_read_only_directory_is_created_owned_by_the_tenant_and_then_left_alone(tmp_path):
    root = tmp_path / "store"
    store, plans = deploy(tmp_path, root, {"html": SITE})
    assert [(p.action, p.added) for p in plans] == [("create", ["css", "css/site.css", "index.html", "latest"])]
    path = store["entries"][0]["path"]
    assert path == str(root / "demo" / "st" / ("html@" + store["entries"][0]["digest"][:12]))
    assert (root / "demo" / "st" / os.path.basename(path) / "css" / "site.css").read_bytes() == b"body {}"
    assert os.readlink(os.path.join(path, "latest")) == "index.html"
    info = os.stat(os.path.join(path, "index.html"))
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (UID, 0o644)
    # the record is out of every container's reach (only <key>... directories are mounted)
    assert (root / "demo" / "st" / ".spin" / "html.json").exists()
    again = bind_store.plan(store)
    assert [(p.action, p.added, p.changed, p.removed) for p in again] == [("none", [], [], [])]
    assert bind_store.diff(again) == {"before": {}, "after": {}}


def test_changed_content_is_a_new_version_the_diff_names_the_files_and_the_old_goes_after_success(tmp_path):
    root = tmp_path / "store"
    old_store, _plans = deploy(tmp_path, root, {"html": SITE})
    changed = dict(SITE, **{"index.html": b"<h1>new</h1>", "js": None, "js/app.js": b"go()"})
    del changed["css/site.css"]
    new_store = store_of(root, {"html": changed})
    plans = bind_store.plan(new_store)
    assert [(p.action, p.added, p.changed, p.removed) for p in plans] == [
        ("create", ["js", "js/app.js"], ["index.html"], ["css/site.css"])]
    diff = bind_store.diff(plans)
    title = "bind store %s" % new_store["entries"][0]["path"]
    assert diff["before"][title] == {"html/index.html": "file, 11 bytes, mode 0644, sha256 %s"
                                     % hashlib.sha256(b"<h1>hi</h1>").hexdigest()[:12],
                                     "html/css/site.css": "file, 7 bytes, mode 0644, sha256 %s"
                                     % hashlib.sha256(b"body {}").hexdigest()[:12]}
    assert sorted(diff["after"][title]) == ["html/index.html", "html/js", "html/js/app.js"]
    bind_store.apply(plans, new_store, archive(tmp_path, {"html": changed}), UID, GID)
    # both versions exist until the deploy succeeded: the old tasks (and an undo) still mount the old one
    assert os.path.isdir(old_store["entries"][0]["path"]) and os.path.isdir(new_store["entries"][0]["path"])
    assert bind_store.prune(new_store) == [old_store["entries"][0]["path"]]
    assert sorted(os.listdir(str(root / "demo" / "st"))) == sorted([".spin", os.path.basename(
        new_store["entries"][0]["path"])])


def test_a_read_write_directory_is_synced_in_place_and_keeps_what_the_service_wrote(tmp_path):
    root = tmp_path / "store"
    store, _plans = deploy(tmp_path, root, {"app": SITE}, read_only=False)
    path = store["entries"][0]["path"]
    assert path == str(root / "demo" / "st" / "app")
    with open(os.path.join(path, "uploads.db"), "wb") as out:        # the service's own data
        out.write(b"rows")
    with open(os.path.join(path, "index.html"), "wb") as out:        # the service changed a file of the submission
        out.write(b"defaced")
    changed = dict(SITE, **{"css/site.css": b"body {color: red}"})
    del changed["latest"]
    store = store_of(root, {"app": changed}, read_only=False)
    plans = bind_store.plan(store)
    assert [(p.action, p.added, p.changed, p.removed) for p in plans] == [
        ("update", [], ["css/site.css", "index.html"], ["latest"])]
    bind_store.apply(plans, store, archive(tmp_path, {"app": changed}), UID, GID)
    assert open(os.path.join(path, "index.html"), "rb").read() == b"<h1>hi</h1>"
    assert open(os.path.join(path, "css", "site.css"), "rb").read() == b"body {color: red}"
    assert not os.path.lexists(os.path.join(path, "latest"))
    assert open(os.path.join(path, "uploads.db"), "rb").read() == b"rows"
    assert [p.action for p in bind_store.plan(store)] == ["none"]


@pytest.mark.skipif(os.getuid() != 0, reason="giving a directory to another uid needs root")
def test_a_read_write_directory_the_service_took_over_keeps_its_owner_and_mode(tmp_path):
    """A database's entrypoint chowns its data directory (./data:/var/lib/postgresql/data) and wants 0700:
    a later sync must not give it back to the tenant."""
    root = tmp_path / "store"
    store, _plans = deploy(tmp_path, root, {"data": {"PG_VERSION": b"16", "base": None, "base/1": b"x"}},
                           read_only=False)
    path = store["entries"][0]["path"]
    for name in ("", "base", "base/1"):
        os.chown(os.path.join(path, name), 999, 999)
    os.chmod(path, 0o700)
    store, _plans = deploy(tmp_path, root, {"data": {"PG_VERSION": b"17", "base": None, "base/1": b"x"}},
                           read_only=False)
    info = os.stat(path)
    assert (info.st_uid, stat.S_IMODE(info.st_mode)) == (999, 0o700)
    # only what differs is written: the unchanged file and directory keep the owner the service gave them
    assert [os.stat(os.path.join(path, n)).st_uid for n in ("base", "base/1", "PG_VERSION")] == [999, 999, UID]
    assert open(os.path.join(path, "PG_VERSION"), "rb").read() == b"17"


def test_a_link_a_container_planted_is_replaced_never_written_through(tmp_path):
    """Security: a read-write directory is the tenant's containers' to change; the manager writes it as
    root. A link planted where the submission has a file (or a directory) must not lead the sync out of
    the store (a naive open() by path writes into the link's target: see the report)."""
    root = tmp_path / "store"
    victim = tmp_path / "victim"
    victim.write_bytes(b"root's file")
    outside = tmp_path / "outside"
    outside.mkdir()
    store, _plans = deploy(tmp_path, root, {"app": SITE}, read_only=False)
    path = store["entries"][0]["path"]
    os.unlink(os.path.join(path, "index.html"))
    os.symlink(str(victim), os.path.join(path, "index.html"))
    os.rename(os.path.join(path, "css"), os.path.join(path, "css.old"))
    os.symlink(str(outside), os.path.join(path, "css"))
    plans = bind_store.plan(store)
    # the planted links are what is there now: changed (css/site.css cannot be reached without a link: missing)
    assert [(p.action, p.added, p.changed) for p in plans] == [("update", ["css/site.css"], ["css", "index.html"])]
    bind_store.apply(plans, store, archive(tmp_path, {"app": SITE}), UID, GID)
    assert victim.read_bytes() == b"root's file" and os.listdir(str(outside)) == []
    assert not os.path.islink(os.path.join(path, "index.html")) and not os.path.islink(os.path.join(path, "css"))
    assert open(os.path.join(path, "css", "site.css"), "rb").read() == b"body {}"


def test_a_link_where_the_stack_directory_belongs_is_refused(tmp_path):
    root = tmp_path / "store"
    (root / "demo").mkdir(parents=True)
    os.symlink(str(tmp_path), str(root / "demo" / "st"))
    store = store_of(root, {"html": SITE})
    with pytest.raises(SpinError):
        bind_store.apply(bind_store.plan(store), store, archive(tmp_path, {"html": SITE}), UID, GID)
    assert not (tmp_path / ".spin").exists()


@pytest.mark.parametrize("extra, content, message", [
    ({"evil.sh": b"x"}, None, "the bind store archive holds html/evil.sh, which the verdict did not see"),
    (None, b"<h1>changed after the verdict</h1>", "html/index.html in the bind store archive is not the file the "
                                                  "verdict saw"),
])
def test_an_archive_that_is_not_what_the_verdict_saw_is_refused(tmp_path, extra, content, message):
    root = tmp_path / "store"
    store = store_of(root, {"html": SITE})
    sent = dict(SITE, **({"index.html": content} if content else {}))
    with pytest.raises(SpinError) as info:
        bind_store.apply(bind_store.plan(store), store, archive(tmp_path, {"html": sent}, extra), UID, GID)
    assert message in info.value.message
    # nothing of it is in place: a read-only version appears only complete
    assert not os.path.exists(store["entries"][0]["path"])


@pytest.mark.parametrize("read_only", [True, False])
def test_a_large_file_takes_the_same_path(tmp_path, read_only):
    root = tmp_path / "store"
    data = b"line\n" * 200000
    store, plans = deploy(tmp_path, root, {"sample.log": data}, read_only=read_only)
    path = store["entries"][0]["path"]
    assert open(path, "rb").read() == data and os.stat(path).st_uid == UID
    assert [p.action for p in bind_store.plan(store)] == ["none"]


def test_an_empty_directory_for_a_path_the_submission_does_not_have(tmp_path):
    root = tmp_path / "store"
    store, plans = deploy(tmp_path, root, {"data": {}}, read_only=False)
    assert plans[0].action == "create" and os.listdir(store["entries"][0]["path"]) == []
    assert [p.action for p in bind_store.plan(store)] == ["none"]


def test_a_removed_stack_keeps_its_read_write_data_unless_asked(tmp_path):
    root = tmp_path / "store"
    deploy(tmp_path, root, {"html": SITE})
    deploy(tmp_path, root, {"data": {"a": b"1"}}, read_only=False)
    removed, kept = bind_store.remove(str(root), "demo", "st", check_mode=True)
    assert sorted(os.path.basename(p) for p in removed)[0] == ".spin" and kept == [str(root / "demo" / "st" / "data")]
    removed, kept = bind_store.remove(str(root), "demo", "st")
    assert os.listdir(str(root / "demo" / "st")) == ["data"]
    removed, kept = bind_store.remove(str(root), "demo", "st", remove_data=True)
    assert kept == [] and not (root / "demo" / "st").exists()


def _node(name, labels=None, state="ready"):
    return {"ID": name, "Spec": {"Labels": labels or {}, "Availability": "active"}, "Status": {"State": state}}


GLOBAL = {"spin": {"path": "/global/spin"}}


@pytest.mark.parametrize("root, filesystems, nodes, problem", [
    ("/srv/spin/binds", None, [_node("a")], None),
    ("/srv/spin/binds", None, [_node("a"), _node("b"), _node("c", state="down")],
     "the bind store /srv/spin/binds lies on no global file system (spin_global_fs) and the swarm has 2 nodes"),
    ("/global/spin/binds", GLOBAL, [_node("a", {"spin.fs.spin": "true"}), _node("b")], None),
    ("/global/spin/binds", GLOBAL, [_node("a"), _node("b", {"spin.fs.spin": "true"}, state="down")],
     "the bind store /global/spin/binds is on the global file system 'spin', which no node carries now"),
    ("/global/spinner/binds", GLOBAL, [_node("a"), _node("b")], "lies on no global file system"),
])
def test_a_store_every_node_that_runs_a_task_cannot_see_is_refused(root, filesystems, nodes, problem):
    found = bind_store.shared_problem(root, filesystems, nodes)
    assert (found is None) if problem is None else problem in found, found


@pytest.mark.parametrize("root", ["relative/path", "/", "/srv/../etc", None])
def test_the_store_root_is_an_absolute_normalised_directory(root):
    with pytest.raises(SpinError):
        bind_store.check_root(root)
