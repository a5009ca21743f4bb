"""A build context read from a hostile submission: every OS error becomes a refusal that names the
key, the path and what to do (never a traceback), and nothing outside the submission is read, also
when a file is swapped while the context is read; and what the deterministic archive keeps."""
import builtins
import io
import os
import signal
import shutil
import stat
import tarfile
import tempfile
import time

import pytest

from ansible_collections.spin.platform.plugins.module_utils.build import build
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import build_context

NOBODY = 65534


@pytest.fixture(autouse=True)
def time_limit():
    """A reader that blocks (a named pipe opened for reading waits for a writer) fails the test."""
    def stop(_signum, _frame):
        raise TimeoutError("the context reader blocked for 20 s")
    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def spec(context="app", **extra):
    out = {"context": context, "dockerfile": "Dockerfile", "dockerfile_inline": None, "args": {}, "target": None,
           "labels": {}, "network": None, "secrets": [], "ssh": []}
    out.update(extra)
    return out


@pytest.fixture
def submission():
    """A submission directory every user may enter (the permission tests read it as nobody)."""
    base = tempfile.mkdtemp(prefix="h1-ctx-")
    os.chmod(base, 0o755)
    app = os.path.join(base, "app")
    os.makedirs(os.path.join(app, "src"))
    with open(os.path.join(app, "Dockerfile"), "w") as handle:
        handle.write("FROM spin/base:bookworm\nCOPY src /src\n")
    with open(os.path.join(app, "src", "victim.txt"), "w") as handle:
        handle.write("tenant data\n")
    for root, dirs, files in os.walk(base):
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o755)
        for name in files:
            os.chmod(os.path.join(root, name), 0o644)
    yield base
    shutil.rmtree(base)


def refusal(call):
    """Run ``call``; -> the SpinError's message. Any other exception (an OSError) fails the test."""
    with pytest.raises(SpinError) as caught:
        call()
    return caught.value.message


def as_nobody(call):
    """``call()`` in a child process running as nobody (root reads everything) -> ("ok"|"refused"|"crashed", text)."""
    if os.geteuid() != 0:
        return _outcome(call)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_end)
        try:
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            kind, text = _outcome(call)
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            kind, text = "crashed", repr(exc)
        os.write(write_end, ("%s\n%s" % (kind, text)).encode())
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as handle:
        data = handle.read()
    os.waitpid(pid, 0)
    kind, _newline, text = data.partition("\n")
    return kind, text


def _outcome(call):
    try:
        call()
    except SpinError as exc:
        return "refused", exc.message
    except Exception as exc:  # noqa: BLE001 - the bug these tests look for
        return "crashed", "%s: %s" % (type(exc).__name__, exc)
    return "ok", ""


def test_a_path_longer_than_the_engine_can_unpack_is_refused_by_name(submission):
    directory = os.path.join(submission, "app", "src")
    os.chdir(directory)
    for _level in range(18):  # 18 x 251 bytes: past Linux's 4096-byte PATH_MAX
        os.mkdir("d" * 250)
        os.chdir("d" * 250)
    open("deep.txt", "w").close()
    os.chdir("/")
    message = refusal(lambda: build_context.pack(submission, spec()))
    assert "build.context 'app'" in message and "src/dddd" in message and "bytes" in message, message


@pytest.mark.parametrize("make, fragment", [
    (lambda app: os.chmod(os.path.join(app, "src", "victim.txt"), 0o600), "'src/victim.txt': permission denied"),
    (lambda app: os.chmod(os.path.join(app, "src"), 0o700), "'src': permission denied"),
    (lambda app: os.chmod(os.path.join(app, "Dockerfile"), 0o600), "'Dockerfile': permission denied"),
], ids=["file", "directory", "dockerfile"])
def test_what_the_platform_may_not_read_is_refused_by_name(submission, make, fragment):
    make(os.path.join(submission, "app"))
    kind, text = as_nobody(lambda: build_context.pack(submission, spec()))
    assert kind == "refused", text
    assert fragment in text and "readable" in text, text


def test_an_unreadable_dockerfile_is_refused_when_it_is_read(submission):
    os.chmod(os.path.join(submission, "app", "Dockerfile"), 0o600)
    kind, text = as_nobody(lambda: build_context.read_dockerfile(submission, spec()))
    assert kind == "refused" and "permission denied" in text, text


def test_a_link_loop_as_the_dockerfile_is_refused_by_name(submission):
    app = os.path.join(submission, "app")
    os.remove(os.path.join(app, "Dockerfile"))
    os.symlink("Dockerfile", os.path.join(app, "Dockerfile"))
    message = refusal(lambda: build_context.pack(submission, spec()))
    assert "build.dockerfile 'Dockerfile'" in message and "loop" in message, message


def swap_on_open(monkeypatch, name, swap):
    """When the context reader first opens a file called ``name``, ``swap(path)`` it first: the file
    changes between the directory listing and the open, as a tenant racing the deploy would do."""
    real_open, real_os_open = builtins.open, os.open
    done = []

    def path_of(path, dir_fd):
        if dir_fd is not None:
            return os.path.join(os.readlink("/proc/self/fd/%d" % dir_fd), path)
        return path

    def hook(path, dir_fd=None):
        if not done and isinstance(path, (str, bytes)) and os.path.basename(os.fsdecode(path)) == name:
            done.append(path)
            swap(path_of(os.fsdecode(path), dir_fd))

    def fake_open(file, *args, **kwargs):
        hook(file)
        return real_open(file, *args, **kwargs)

    def fake_os_open(path, flags, mode=0o777, *, dir_fd=None):
        hook(path, dir_fd)
        return real_os_open(path, flags, mode, dir_fd=dir_fd)
    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    return done


def to_link(target):
    def swap(path):
        os.remove(path)
        os.symlink(target, path)
    return swap


def to_fifo(path):
    os.remove(path)
    os.mkfifo(path)


@pytest.mark.parametrize("swap, fragment", [
    (os.remove, "vanished"),
    (to_link("/etc/passwd"), "symbolic link"),
    (to_link("victim.txt"), "symbolic link"),
    (to_fifo, "changed"),
], ids=["vanishes", "becomes-a-link-out", "becomes-a-link-loop", "becomes-a-pipe"])
def test_a_file_that_changes_while_it_is_read_is_refused_and_nothing_outside_is_read(
        submission, monkeypatch, swap, fragment):
    out = io.BytesIO()
    done = swap_on_open(monkeypatch, "victim.txt", swap)
    message = refusal(lambda: build_context.pack(submission, spec(), out=out))
    monkeypatch.undo()
    assert done, "the reader never opened the file"
    assert "'src/victim.txt'" in message and fragment in message, message
    assert b"root:x:0:0" not in out.getvalue()


def test_a_special_file_is_refused_by_name(submission):
    os.mkfifo(os.path.join(submission, "app", "src", "pipe"))
    message = refusal(lambda: build_context.pack(submission, spec()))
    assert "'src/pipe' is not a file, directory or link" in message, message


def test_the_dockerfile_judged_is_the_one_in_the_archive(submission):
    out = io.BytesIO()
    packed = build_context.pack(submission, spec(), out=out)
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        sent = tar.extractfile(packed["dockerfile"]).read()
    assert packed["dockerfile_bytes"] == sent == b"FROM spin/base:bookworm\nCOPY src /src\n"
    assert stat.S_ISREG(os.lstat(os.path.join(submission, "app", "Dockerfile")).st_mode)


# ---- only the tenant's own files are packed (submission_tree) -------------------------------------

def _tenant_context(tmp_path):
    from ansible_collections.spin.platform.plugins.plugin_utils import submission_tree
    from ansible_collections.spin.platform.tests.unit import tenant_tree
    root, directory = tenant_tree.submission(tmp_path, "eve", "site")
    os.makedirs(os.path.join(directory, "app", "site"))
    with open(os.path.join(directory, "app", "Dockerfile"), "w") as handle:
        handle.write("FROM httpd\nCOPY site/ /var/www/html/\n")
    with open(os.path.join(directory, "app", "site", "index.html"), "w") as handle:
        handle.write("eve's page\n")
    os.symlink("index.html", os.path.join(directory, "app", "site", "home.html"))
    tenant_tree.hand_in(directory)
    os.lchown(os.path.join(directory, "app", "site", "home.html"), tenant_tree.UID, tenant_tree.GID)
    tree = submission_tree.locate(directory, [root], dict(tenant_tree.registry("eve"), cory={"uid": 1001}))
    return directory, tree


def test_a_context_of_the_tenants_own_files_packs_as_without_the_check(tmp_path):
    directory, tree = _tenant_context(tmp_path)
    assert build_context.pack(directory, spec(), tree=tree)["sha256"] == build_context.pack(directory, spec())["sha256"]


def test_a_file_others_may_write_is_not_packed(tmp_path):
    directory, tree = _tenant_context(tmp_path)
    page = os.path.join(directory, "app", "site", "index.html")
    os.chmod(page, 0o666)
    with pytest.raises(SpinError) as info:
        build_context.pack(directory, spec(), tree=tree)
    assert info.value.message.startswith("%s is writable by others" % page)


@pytest.mark.skipif(os.getuid() != 0, reason="giving a file to another uid needs root")
@pytest.mark.parametrize("path", [("app", "site", "index.html"), ("app", "site"), ("app", "site", "home.html"),
                                  ("app", "Dockerfile")])
def test_another_tenants_file_in_the_context_is_not_packed(tmp_path, path):
    """cory's file hard-linked (or copied with its owner) into eve's build context would land in eve's image."""
    directory, tree = _tenant_context(tmp_path)
    target = os.path.join(directory, *path)
    os.lchown(target, 1001, 1001)
    with pytest.raises(SpinError) as info:
        build_context.pack(directory, spec(), tree=tree)
    assert "%s is owned by uid 1001 (tenant 'cory'), not by tenant 'eve'" % target in info.value.message


# ---- the context archive: what it keeps, its hash, where the Dockerfile comes from --------------------

@pytest.fixture
def packed_submission(tmp_path):
    """A submission with a .dockerignore, a link and a file it leaves out (what the archive keeps)."""
    app = tmp_path / "app"
    (app / "src").mkdir(parents=True)
    (app / "Dockerfile").write_text("FROM spin/base:bookworm\nCOPY src /src\n")
    (app / "src" / "main.sh").write_text("echo hi\n")
    os.chmod(app / "src" / "main.sh", 0o755)
    (app / "debug.log").write_text("noise\n")
    (app / ".dockerignore").write_text("*.log\nDockerfile\n")
    os.symlink("main.sh", app / "src" / "run")
    (tmp_path / "docker-compose.yml").write_text("services: {}\n")
    return tmp_path


def members(submission_dir, build_spec):
    out = io.BytesIO()
    packed = build_context.pack(str(submission_dir), build_spec, out=out)
    out.seek(0)
    with tarfile.open(fileobj=out) as tar:
        return packed, {m.name: m for m in tar.getmembers()}


def test_the_archive_keeps_what_dockerignore_keeps_links_as_links_and_the_dockerfile(packed_submission):
    packed, found = members(packed_submission, spec())
    assert sorted(found) == [".dockerignore", "Dockerfile", "src", "src/main.sh", "src/run"]
    assert found["src/run"].issym() and found["src/run"].linkname == "main.sh"
    assert found["src/main.sh"].mode == 0o755 and found["src/main.sh"].mtime == 0 and found["src/main.sh"].uid == 0
    assert packed["dockerfile"] == "Dockerfile" and packed["files"] == 3


def test_the_same_content_gives_the_same_hash_and_any_change_another(packed_submission):
    first = build_context.pack(str(packed_submission), spec())["sha256"]
    later = time.time() + 100
    os.utime(packed_submission / "app" / "src" / "main.sh", (later, later))
    assert build_context.pack(str(packed_submission), spec())["sha256"] == first
    (packed_submission / "app" / "debug.log").write_text("ignored, so no change\n")
    assert build_context.pack(str(packed_submission), spec())["sha256"] == first
    (packed_submission / "app" / "src" / "main.sh").write_text("echo bye\n")
    assert build_context.pack(str(packed_submission), spec())["sha256"] != first


def test_a_dockerfile_outside_the_context_and_an_inline_one_travel_in_the_archive(packed_submission):
    (packed_submission / "Dockerfile.prod").write_text("FROM spin/base:bookworm\n")
    packed, found = members(packed_submission, spec(dockerfile="../Dockerfile.prod"))
    assert packed["dockerfile"] == build.INLINE_DOCKERFILE and build.INLINE_DOCKERFILE in found
    packed, found = members(packed_submission, spec(dockerfile=None, dockerfile_inline="FROM spin/base:bookworm\n"))
    assert packed["dockerfile"] == build.INLINE_DOCKERFILE


@pytest.mark.parametrize("make, fragment", [
    (lambda d: os.symlink("/etc", d / "outside"), "leads outside the submission directory"),
    (lambda d: (d / "file").write_text("x"), "is not a directory"),
])
def test_contexts_outside_or_not_directories_are_refused(packed_submission, make, fragment):
    make(packed_submission)
    name = "outside" if "outside" in fragment else "file"
    with pytest.raises(SpinError, match=fragment):
        build_context.pack(str(packed_submission), spec(context=name))


def test_a_missing_dockerfile_and_a_context_too_large_are_refused(packed_submission):
    with pytest.raises(SpinError, match="does not exist in the build context"):
        build_context.pack(str(packed_submission), spec(dockerfile="Dockerfile.missing"))
    with pytest.raises(SpinError, match="more than 0 MB"):
        build_context.pack(str(packed_submission), spec(), max_bytes=4)
