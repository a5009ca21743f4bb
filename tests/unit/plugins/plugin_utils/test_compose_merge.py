"""Several compose files as one (issue 18): override files merged as ``docker compose -f a -f b``
merges them, ``!reset`` and ``!override``, and ``include:``, every file read from the submission."""
import textwrap

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.plugin_utils import compose, compose_text


def parse(main, files=None, env=None):
    files = {name: textwrap.dedent(text) for name, text in (files or {}).items()}

    def read_file(path):
        key = path[2:] if path.startswith("./") else path
        if key not in files:
            raise compose_text.MissingFile("'%s' does not exist in the submission directory" % path)
        return files[key]

    overrides = [name for name in files if name.startswith("override")]
    return compose.parse_stack(textwrap.dedent(main), "docker-compose.yml", read_file=read_file, env=env,
                               override_names=sorted(overrides))


def errors(diagnostics, severity="error"):
    return [diag.format_diagnostic(d) for d in diagnostics if d["severity"] == severity]


BASE = """
services:
  web:
    image: httpd:2.4
    command: [httpd, -DFOREGROUND]
    environment: {A: "1", B: "2"}
    labels: [team=science]
    ports: ["80:80"]
    volumes: [data:/data, conf:/etc/conf]
    healthcheck: {test: [CMD, ok], interval: 30s}
    deploy: {replicas: 2, resources: {limits: {memory: 256m}}}
    cap_add: [CHOWN]
volumes: {data: {}, conf: {}}
"""

# (what the override file says, model path, what the merged service holds)
MERGES = [
    # scalars replace
    ("web: {image: 'httpd:2.6'}", "image", "httpd:2.6"),
    # command, entrypoint and healthcheck.test are replaced, not appended
    ("web: {command: [httpd, -X]}", "command", ["httpd", "-X"]),
    ("web: {healthcheck: {test: [CMD, other]}}", "healthcheck.test", ["CMD", "other"]),
    ("web: {healthcheck: {test: [CMD, other]}}", "healthcheck.interval", 30 * 10 ** 9),
    # mappings merge, in either syntax
    ("web: {environment: [B=3, C=4]}", "environment", {"A": "1", "B": "3", "C": "4"}),
    ("web: {labels: {tier: front}}", "labels", {"team": "science", "tier": "front"}),
    ("web: {deploy: {replicas: 3}}", "deploy.replicas", 3),
    ("web: {deploy: {replicas: 3}}", "deploy.resources.limits.memory", 256 * 1024 ** 2),
    # volumes merge by target: the same target is replaced, a new one is added
    ("web: {volumes: ['other:/data', 'logs:/logs']}\nvolumes: {other: {}, logs: {}}", "volumes",
     [("volume", "other", "/data"), ("volume", "conf", "/etc/conf"), ("volume", "logs", "/logs")]),
    # other sequences append what they do not hold yet
    ("web: {cap_add: [CHOWN, KILL]}", "cap_add", ["CHOWN", "KILL"]),
    ("web: {ports: ['80:80', '443:443']}", "ports", [(80, 80), (443, 443)]),
    # !reset drops what the file before set; !override replaces it whole
    ("web: {ports: !reset []}", "ports", []),
    ("web: {environment: {B: !reset null}}", "environment", {"A": "1"}),
    ("web: {ports: !override ['443:443']}", "ports", [(443, 443)]),
    ("web: {environment: !override {Z: '9'}}", "environment", {"Z": "9"}),
]


def _shown(service, path):
    value = service
    for part in path.split("."):
        value = value[part]
    if path == "volumes":
        return [(v["type"], v["source"], v["target"]) for v in value]
    if path == "ports":
        return [(p["published"], p["target"]) for p in value]
    return value


@pytest.mark.parametrize("override, path, expected", MERGES)
def test_an_override_file_merges_as_compose_merges(override, path, expected):
    service_part, _sep, top_level = override.partition("\n")
    model, diagnostics = parse(BASE, {"override.yml": "services:\n  %s\n%s" % (service_part, top_level)})
    assert errors(diagnostics) == []
    assert _shown(model["services"]["web"], path) == expected


def test_an_override_file_adds_services_and_top_level_entries():
    model, diagnostics = parse(BASE, {"override.yml": """
        services:
          worker: {image: 'app:1', volumes: [cache:/cache]}
        volumes:
          cache: {labels: {kind: cache}}
          data: {labels: {kept: "yes"}}
        """})
    assert errors(diagnostics) == []
    assert sorted(model["services"]) == ["web", "worker"]
    assert model["volumes"]["cache"]["labels"] == {"kind": "cache"}
    assert model["volumes"]["data"]["labels"] == {"kept": "yes"}


def test_several_override_files_merge_in_order():
    model, _diagnostics = parse(BASE, {"override-1.yml": "services: {web: {image: 'a:1', environment: {C: x}}}",
                                       "override-2.yml": "services: {web: {image: 'b:2'}}"})
    assert model["services"]["web"]["image"] == "b:2"
    assert model["services"]["web"]["environment"] == {"A": "1", "B": "2", "C": "x"}


def test_each_file_is_interpolated_once_before_the_merge():
    model, _diagnostics = parse("services: {web: {image: 'httpd:${TAG}'}}\n",
                                {"override.yml": "services: {web: {environment: {X: '$${TAG}'}}}"}, env={"TAG": "2"})
    assert model["services"]["web"]["image"] == "httpd:2"
    assert model["services"]["web"]["environment"] == {"X": "${TAG}"}


def test_a_message_names_the_file_that_wrote_the_key():
    _model, diagnostics = parse(BASE, {"override.yml": "services: {web: {imagee: x, deploy: {replicas: many}}}"})
    assert errors(diagnostics) == [
        "override.yml: service 'web': key 'deploy.replicas': must be a number of replicas, not 'many'",
        "override.yml: service 'web': key 'imagee': unknown key (did you mean 'image'?)"]


def test_an_override_file_that_is_not_there_or_broken_is_named():
    _model, diagnostics = parse(BASE, {"override.yml": "services: [web]\n"})
    assert errors(diagnostics) == ["override.yml: key 'services': must be a mapping of services, not a list"]


# ---- include ---------------------------------------------------------------------------------

INCLUDING = """
include:
  - infra/compose.yml
services:
  app:
    image: app:1.0
    depends_on: [cache]
    volumes: [./app.conf:/etc/app.conf:ro]
"""


def test_included_services_join_the_stack_with_paths_relative_to_their_own_directory():
    model, diagnostics = parse(INCLUDING, {
        "app.conf": "a", "infra/.env": "REDIS_TAG=7\n", "infra/redis.conf": "maxmemory 1mb\n",
        "infra/compose.yml": """
            services:
              cache:
                image: redis:${REDIS_TAG}
                volumes: [./redis.conf:/usr/local/etc/redis/redis.conf:ro, cache:/data]
            volumes:
              cache: {}
            """})
    assert errors(diagnostics) == []
    assert sorted(model["services"]) == ["app", "cache"]
    # its own .env gives its variables, and ./redis.conf is its directory's file
    assert model["services"]["cache"]["image"] == "redis:7"
    assert model["configs"]["redis.conf"]["source_file"] == "./infra/redis.conf"
    assert "cache" in model["volumes"]


def test_the_including_stacks_variables_override_the_included_env():
    model, _diagnostics = parse(INCLUDING, {"app.conf": "a", "infra/.env": "REDIS_TAG=7\n",
                                            "infra/compose.yml": "services: {cache: {image: 'redis:${REDIS_TAG}'}}"},
                                env={"REDIS_TAG": "6"})
    assert model["services"]["cache"]["image"] == "redis:6"


@pytest.mark.parametrize("included, expected", [
    ("services: {app: {image: 'other:2'}}",
     ["docker-compose.yml: key 'include[0]': service 'app' of infra/compose.yml is defined differently in the stack "
      "already: compose does not merge what it includes; rename one, or change it with extends or an override file",
      "docker-compose.yml: service 'app': key 'depends_on': service 'cache' does not exist"]),
    ("include: [../docker-compose.yml]\nservices: {cache: {image: redis}}",
     ["infra/compose.yml: key 'include[0]': include loop: docker-compose.yml -> infra/compose.yml -> "
      "docker-compose.yml: remove one of the includes"]),
    ("services: {cache: {image: redis, imagee: x}}",
     ["infra/compose.yml: service 'cache': key 'imagee': unknown key (did you mean 'image'?)"]),
])
def test_what_an_include_cannot_do_is_named(included, expected):
    _model, diagnostics = parse(INCLUDING, {"app.conf": "a", "infra/compose.yml": included})
    assert errors(diagnostics) == expected


@pytest.mark.parametrize("entry, expected", [
    ("- /etc/compose.yml", "'/etc/compose.yml' is an absolute path: give a path relative to the submission directory"),
    ("- ../../other/compose.yml", "'../../other/compose.yml' points outside the submission directory: keep the file "
                                  "inside it"),
    ("- {path: infra/compose.yml, extra: 1}", "unknown key"),
    ("- {env_file: x.env}", "needs path: the compose file(s) to include"),
    ("- 3", "must be a path or a mapping with path, not a number"),
])
def test_an_include_entry_is_checked(entry, expected):
    text = "include:\n  %s\nservices: {a: {image: x}}\n" % entry

    def read_file(path):
        return compose_text.make_dir_reader("/nonexistent")(path)

    _model, diagnostics = compose.parse_stack(text, "docker-compose.yml", read_file=read_file)
    assert [d["message"] for d in diagnostics if d["severity"] == "error"][0].startswith(expected)


def test_an_include_with_env_file_and_several_paths():
    model, diagnostics = parse("include:\n  - {path: [infra/a.yml, infra/b.yml], env_file: infra/vars.env}\n"
                               "services: {app: {image: x}}\n",
                               {"infra/vars.env": "TAG=3\n", "infra/a.yml": "services: {cache: {image: 'redis:1'}}",
                                "infra/b.yml": "services: {cache: {image: 'redis:${TAG}'}}"})
    assert errors(diagnostics) == []
    assert model["services"]["cache"]["image"] == "redis:3"
