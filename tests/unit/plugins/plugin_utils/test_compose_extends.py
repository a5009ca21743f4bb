"""compose_extends: a service's extends:, in the same file or another file of the submission (whose paths
are relative to that file), merged as docker compose merges it; what extends cannot do, named."""
import pytest

from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import GiB, messages, parse


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
