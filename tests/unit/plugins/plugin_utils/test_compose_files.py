"""Files of the submission: env_file, label_file, secret and config files, extends, and the
directory reader (compose_text, compose_extends)."""
import base64

import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.plugins.plugin_utils import compose_text
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import (
    GiB, messages, parse, service_doc)


# ---------------------------------------------------------------------------------------------
# files of the submission: env_file, label_file, secrets, extends, and the directory reader

@pytest.fixture
def submission(tmp_path):
    def write(name, text):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    write.dir = tmp_path
    write.reader = compose_text.make_dir_reader(str(tmp_path))
    return write


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


def test_extends_in_the_same_file():
    text = """
services:
  base:
    image: base:1
    command: [serve]
    environment: {A: base, B: base}
    ports: ['80']
    volumes: ['data:/data', 'data:/cache']
    labels: [x=1]
    deploy: {resources: {limits: {memory: 1g}}}
  web:
    extends: base
    command: [other]
    environment: [B=web]
    ports: ['81']
    volumes: ['/srv:/data:ro']
    labels: {y: '2'}
    deploy: {resources: {limits: {cpus: '1'}}}
volumes: {data: {}}
"""
    model, diagnostics = parse(text)
    assert diagnostics == []
    web = model["services"]["web"]
    assert web["image"] == "base:1"
    assert web["command"] == ["other"]
    assert web["environment"] == {"A": "base", "B": "web"}
    assert [p["target"] for p in web["ports"]] == [80, 81]
    assert [(v["source"], v["target"]) for v in web["volumes"]] == [("/srv", "/data"), ("data", "/cache")]
    assert web["labels"] == {"x": "1", "y": "2"}
    assert web["deploy"]["resources"]["limits"] == {"cpus": 1.0, "memory": GiB, "pids": None}


def test_extends_another_file_resolves_its_paths(submission):
    submission("common/base.yml", "services:\n  app:\n    image: 'app:${TAG:-1}'\n    env_file: app.env\n"
                                  "  deeper:\n    extends: {file: ../more.yml, service: root}\n")
    submission("common/app.env", "FROM_BASE=1\n")
    submission("more.yml", "services:\n  root:\n    image: root\n    user: nobody\n")
    text = "services:\n  web:\n    extends: {file: common/base.yml, service: app}\n  job:\n" \
           "    extends: {file: ./common/base.yml, service: deeper}\n"
    model, diagnostics = parse(text, read_file=submission.reader)
    assert diagnostics == []
    assert model["services"]["web"]["image"] == "app:1"
    assert model["services"]["web"]["environment"] == {"FROM_BASE": "1"}
    assert model["services"]["job"]["image"] == "root"
    assert model["services"]["job"]["user"] == "nobody"


EXTENDS_ERRORS = [
    ("services:\n  a: {extends: b}\n  b: {extends: {service: a}, image: x}\n",
     ["docker-compose.yml: service 'b': key 'extends': extends loop: a -> b -> a: remove one of the extends"]),
    ("services:\n  a: {extends: a, image: x}\n",
     ["docker-compose.yml: service 'a': key 'extends': extends loop: a -> a: remove one of the extends"]),
    ("services:\n  a: {extends: basee, image: x}\n  base: {image: y}\n",
     ["docker-compose.yml: service 'a': key 'extends': service 'basee' is not in docker-compose.yml "
      "(did you mean 'base'?)"]),
    ("services:\n  a: {extends: {file: other.yml, service: x}, image: x}\n",
     ["docker-compose.yml: service 'a': key 'extends.file': 'other.yml' does not exist in the submission directory"]),
    ("services:\n  a: {extends: {file: ../other.yml, service: x}, image: x}\n",
     ["docker-compose.yml: service 'a': key 'extends.file': '../other.yml' points outside the submission directory: "
      "keep the file inside it"]),
    ("services:\n  a: {extends: {servce: x}, image: x}\n",
     ["docker-compose.yml: service 'a': key 'extends.servce': unknown key (did you mean 'service'?)"]),
    ("services:\n  a: {extends: {file: loop.yml, service: x}, image: x}\n",
     ["loop.yml: service 'y': key 'extends': extends loop: loop.yml:x -> loop.yml:y -> loop.yml:x: remove one of "
      "the extends"]),
    ("services:\n  a: {extends: {file: broken.yml, service: x}, image: x}\n",
     ["broken.yml: line 1, column 12: expected the node content, but found '<stream end>' (while parsing a flow "
      "node)"]),
]


@pytest.mark.parametrize("text, expected", EXTENDS_ERRORS)
def test_extends_errors(submission, text, expected):
    submission("loop.yml", "services:\n  x: {extends: y}\n  y: {extends: x, image: z}\n")
    submission("broken.yml", "services: [")
    _model, diagnostics = parse(text, read_file=submission.reader)
    assert messages(diagnostics) == expected
