"""Files of the submission: env_file, label_file, secret and config files, and the directory reader
(compose_text); extends is in test_compose_extends.py."""
import base64

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.plugins.plugin_utils import compose_text
from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import (
    messages, parse, service_doc)


ENV_FILES = [
    ("A=1\nB=two words\n", {"A": "1", "B": "two words"}),
    ("# comment\n\nexport A=1\n", {"A": "1"}),
    ("A=unquoted # comment\n", {"A": "unquoted"}),
    ("A='single ${X} $$'\n", {"A": "single ${X} $$"}),
    ('A="line\\nnext ${X}"\n', {"A": "line\nnext x"}),
    ("A=${X}\nB=${A}-b\n", {"A": "x", "B": "x-b"}),
    ("A=\n", {"A": ""}),
    ("X\n", {"X": "x"}),
    ("A=1\nA=2\n", {"A": "2"}),
]


@pytest.mark.parametrize("text, expected", ENV_FILES)
def test_env_file_syntax(text, expected):
    values, problems, unresolved = compose.parse_env_file(text, {"X": "x"})
    assert (values, problems, unresolved) == (expected, [], [])


def test_env_file_problems():
    values, problems, unresolved = compose.parse_env_file("A B=1\nC='x\nD=${NOPE}\nE=1\nMISSING\nF=${G:?give G}\n", {})
    assert values == {"D": "", "E": "1"}
    assert problems == ["line 1: 'A B=1' is not KEY=VALUE", "line 2: a single quote without its closing quote",
                        "line 6: variable 'G' is not set: give G"]
    assert unresolved == ["MISSING"]


def test_env_file_forms_and_order(submission):
    submission("a.env", "A=from-a\nB=from-a\n")
    submission("b.env", "B=from-b\nC=from-b\n")
    submission("labels.txt", "l1=x\nl2=y\n")
    text = service_doc("""\
        env_file: [a.env, {path: b.env}, {path: missing.env, required: false}]
        environment: {C: from-environment}
        label_file: labels.txt
        labels: {l2: z}
        """)
    model, diagnostics = parse(text, read_file=submission.reader)
    assert diagnostics == []
    svc = model["services"]["s"]
    assert svc["environment"] == {"A": "from-a", "B": "from-b", "C": "from-environment"}
    assert svc["labels"] == {"l1": "x", "l2": "z"}


def test_env_file_string_form_and_errors(submission):
    submission("bad.env", "OK=1\nnot a var\n")
    model, diagnostics = parse(service_doc("env_file: bad.env"), read_file=submission.reader)
    assert model["services"]["s"]["environment"] == {"OK": "1"}
    assert messages(diagnostics) == ["bad.env: service 's': line 2: 'not a var' is not KEY=VALUE"]
    _model, diagnostics = parse(service_doc("env_file: [missing.env]"), read_file=submission.reader)
    assert messages(diagnostics) == ["docker-compose.yml: service 's': key 'env_file': 'missing.env' does not exist "
                                     "in the submission directory"]
    _model, diagnostics = parse(service_doc("env_file: [{paht: a.env}]"), read_file=submission.reader)
    assert messages(diagnostics) == ["docker-compose.yml: service 's': key 'env_file[0].paht': unknown key "
                                     "(did you mean 'path'?)"]


def test_secret_and_config_files_are_read_and_encoded(submission):
    submission("secrets/pw.txt", b"s3cret\xff\n")   # binary survives exactly
    submission("app.conf", "port = 80\n")
    text = "services: {s: {image: x}}\nsecrets: {pw: {file: ./secrets/pw.txt}}\nconfigs: {conf: {file: app.conf}}\n"
    model, diagnostics = parse(text, read_file=submission.reader)
    assert diagnostics == []
    assert base64.b64decode(model["secrets"]["pw"]["content"]) == b"s3cret\xff\n"
    assert base64.b64decode(model["configs"]["conf"]["content"]) == b"port = 80\n"


@pytest.mark.parametrize("path, message", [
    ("/etc/passwd", "'/etc/passwd' is an absolute path: give a path relative to the submission directory"),
    ("~/.ssh/id_rsa", "'~/.ssh/id_rsa' is an absolute path: give a path relative to the submission directory"),
    ("../outside.txt", "'../outside.txt' points outside the submission directory: keep the file inside it"),
    ("a/../../outside.txt", "'a/../../outside.txt' points outside the submission directory: keep the file inside it"),
    ("link.txt", "'link.txt' is a symbolic link that points outside the submission directory: copy the file into "
                 "the directory instead"),
    ("dirlink/x.txt", "'dirlink/x.txt' is a symbolic link that points outside the submission directory: copy the "
                      "file into the directory instead"),
    ("nope.txt", "'nope.txt' does not exist in the submission directory"),
    ("sub", "'sub' is a directory, not a file: name a file inside the submission directory"),
    ("", "an empty path: name a file inside the submission directory"),
])
def test_dir_reader_refuses_escapes(tmp_path, path, message):
    base = tmp_path / "submission"
    (base / "sub").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("secret of another tenant")
    (base / "link.txt").symlink_to(tmp_path / "outside.txt")
    (base / "dirlink").symlink_to(tmp_path)
    with pytest.raises(SpinError) as info:
        compose_text.make_dir_reader(str(base))(path)
    assert info.value.message == message


def test_dir_reader_reads_inside_and_follows_inner_links(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f.txt").write_text("inside")
    (tmp_path / "inner.txt").symlink_to(tmp_path / "a" / "f.txt")
    read = compose_text.make_dir_reader(str(tmp_path))
    assert read("a/f.txt") == "inside"
    assert read("./a/../a/f.txt") == "inside"
    assert read("inner.txt") == "inside"


def test_dir_reader_size_limit(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 101)
    with pytest.raises(SpinError) as info:
        compose_text.make_dir_reader(str(tmp_path), max_bytes=100)("big")
    assert info.value.message == "'big' is larger than 100 bytes: refused"


def test_secret_path_escape_is_a_diagnostic(submission, tmp_path):
    text = "services: {s: {image: x}}\nsecrets: {pw: {file: ../../etc/shadow}}\n"
    _model, diagnostics = parse(text, read_file=submission.reader)
    assert messages(diagnostics) == ["docker-compose.yml: key 'secrets.pw.file': '../../etc/shadow' points outside "
                                     "the submission directory: keep the file inside it"]
