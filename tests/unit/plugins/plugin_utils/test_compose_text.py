"""Reading a submission's files (compose_text.make_dir_reader / make_dir_stat) and optional env files
(issue 17): every OS error is a refusal that names the file and what to do, never a traceback; an
env_file with ``required: false`` is skipped only when it does not exist, and refused as documented
when it lies outside the submission (or is no regular file)."""
import os
import textwrap

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import compose, compose_text

LONG_NAME = "x" * 300
LONG_PATH = "d/" * 2100 + "f.env"


@pytest.fixture
def base(tmp_path):
    """A submission directory with every kind of thing a tenant can put in it, and a file outside."""
    sub = tmp_path / "submission"
    (sub / "dir.env").mkdir(parents=True)
    (sub / "ok.env").write_text("A=1\n")
    (tmp_path / "outside.env").write_text("STOLEN=another tenant's secret\n")
    (sub / "link-out.env").symlink_to(tmp_path / "outside.env")
    (sub / "loop1").symlink_to("loop2")
    (sub / "loop2").symlink_to("loop1")
    os.mkfifo(str(sub / "pipe.env"))
    (sub / "file.env").write_text("B=2\n")
    return sub


# (path, the refusal); none of these is a missing file
REFUSED = [
    ("dir.env", "'dir.env' is a directory, not a file: name a file inside the submission directory"),
    ("pipe.env", "'pipe.env' is a named pipe, not a regular file: only regular files of the submission are read; "
                 "put the file itself there"),
    ("loop1", "'loop1' is a symbolic link that loops (or a chain of too many links): put the file itself there"),
    (LONG_NAME, "'%s...' (300 characters) cannot be read: the name is too long for the file system (at most 255 "
                "bytes a name, 4096 a path): use a shorter name" % LONG_NAME[:60]),
    (LONG_PATH, "'%s...' (4205 characters) cannot be read: the name is too long for the file system (at most 255 "
                "bytes a name, 4096 a path): use a shorter name" % LONG_PATH[:60]),
    ("file.env/x", "'file.env/x' cannot be read: 'file.env' is a file, not a directory: give the path of a file "
                   "inside the submission directory"),
    ("a\x00b.env", "'a\\x00b.env' holds a NUL character, which no file name can: remove it"),
]


@pytest.mark.parametrize("path, message", REFUSED, ids=[r[0][:12] for r in REFUSED])
def test_the_reader_names_every_os_error(base, path, message):
    with pytest.raises(SpinError) as failed:
        compose_text.make_dir_reader(str(base))(path)
    assert failed.value.message == message
    assert not isinstance(failed.value, compose_text.MissingFile)


@pytest.mark.parametrize("path, message", [r for r in REFUSED if r[0] != "dir.env"],
                         ids=[r[0][:12] for r in REFUSED if r[0] != "dir.env"])
def test_the_stat_of_a_bind_mount_names_them_too(base, path, message):
    with pytest.raises(SpinError) as failed:
        compose_text.make_dir_stat(str(base))(path)
    assert failed.value.message == message


def test_a_missing_file_is_missing(base):
    with pytest.raises(compose_text.MissingFile) as failed:
        compose_text.make_dir_reader(str(base))("nope.env")
    assert failed.value.message == "'nope.env' does not exist in the submission directory"
    assert compose_text.make_dir_stat(str(base))("nope.env") == {"kind": "missing"}


def test_permission_denied_is_named(base):
    """As infra staff's unprivileged user (root reads everything): a child process as nobody."""
    if os.geteuid() != 0:
        pytest.skip("needs root to become another user")
    (base / "secret.env").write_text("S=1\n")
    (base / "secret.env").chmod(0o600)
    for directory in [base] + list(base.parents):
        if str(directory) in ("/", "/tmp"):
            break
        directory.chmod(0o755)
    read, stat = compose_text.make_dir_reader(str(base)), compose_text.make_dir_stat(str(base))
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: as nobody, report what the reader said
        os.close(reader)
        try:
            os.setgid(65534)
            os.setuid(65534)
            answers = []
            for call in (read, stat):
                try:
                    answers.append("no refusal: %r" % (call("secret.env"),))
                except SpinError as exc:
                    answers.append(exc.message)
                except Exception as exc:  # noqa: BLE001 - a crash is what this test looks for
                    answers.append("crash: %r" % exc)
            os.write(writer, "\n".join(answers).encode())
        finally:
            os._exit(0)
    os.close(writer)
    with os.fdopen(reader) as handle:
        answers = handle.read().splitlines()
    os.waitpid(pid, 0)
    refusal = ("'secret.env' cannot be read: permission denied; make it readable (chmod a+r, and a+x on its "
               "directories): the platform reads the submission as infra staff's user")
    assert answers == [refusal, "no refusal: {'kind': 'file', 'mode': 384, 'size': 4}"]


# ---- through the parser: file, service, key ----------------------------------------------------------

def parse(base, text):
    model, diagnostics = compose.parse_stack(textwrap.dedent(text), "docker-compose.yml",
                                             read_file=compose_text.make_dir_reader(str(base)),
                                             stat_file=compose_text.make_dir_stat(str(base)))
    return model, [diag.format_diagnostic(d) for d in diagnostics if d["severity"] == "error"]


@pytest.mark.parametrize("path, message", [
    ("../outside.env", "'../outside.env' points outside the submission directory: keep the file inside it"),
    ("/etc/passwd", "'/etc/passwd' is an absolute path: give a path relative to the submission directory"),
    ("link-out.env", "'link-out.env' is a symbolic link that points outside the submission directory: copy the "
                     "file into the directory instead"),
    ("dir.env", "'dir.env' is a directory, not a file: name a file inside the submission directory"),
    ("pipe.env", "'pipe.env' is a named pipe, not a regular file: only regular files of the submission are read; "
                 "put the file itself there"),
])
def test_an_optional_env_file_outside_the_submission_is_refused(base, path, message):
    model, errors = parse(base, """\
        services:
          web:
            image: httpd
            env_file: [ok.env, {path: "%s", required: false}]
        """ % path)
    assert errors == ["docker-compose.yml: service 'web': key 'env_file': " + message]
    assert "STOLEN" not in model["services"]["web"]["environment"]


def test_an_optional_env_file_that_does_not_exist_is_skipped(base):
    model, errors = parse(base, """\
        services:
          web:
            image: httpd
            env_file: [ok.env, {path: nope.env, required: false}]
        """)
    assert errors == [] and model["services"]["web"]["environment"] == {"A": "1"}


@pytest.mark.parametrize("text, key", [
    ("services: {web: {image: httpd, env_file: [pipe.env]}}", "service 'web': key 'env_file'"),
    ("services: {web: {image: httpd, label_file: loop1}}", "service 'web': key 'label_file'"),
    ("services: {web: {image: httpd}}\nsecrets: {pw: {file: %s}}" % LONG_NAME, "key 'secrets.pw.file'"),
    ("services: {web: {image: httpd}}\nconfigs: {conf: {file: dir.env}}", "key 'configs.conf.file'"),
    ("services: {web: {image: httpd, volumes: ['./pipe.env:/etc/app.conf']}}", "service 'web': key 'volumes[0]'"),
    ("services: {web: {image: httpd, extends: {file: loop1, service: base}}}", "service 'web': key 'extends.file'"),
])
def test_every_file_a_compose_file_names_is_refused_in_words(base, text, key):
    dummy, errors = parse(base, text)
    assert len(errors) == 1 and errors[0].startswith("docker-compose.yml: %s: '" % key), errors
