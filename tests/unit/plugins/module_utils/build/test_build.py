"""Images built from the submission: compose build normalised, Dockerfile bases, the build policy,
.dockerignore and the content-hash tag (the context archive: plugin_utils/test_build_context.py)."""

import pytest

from ansible_collections.spin.platform.plugins.module_utils.build import build
from ansible_collections.spin.platform.plugins.module_utils.policy import policy
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_settings


# ---- compose build -> model -------------------------------------------------------------------

def test_a_string_is_the_context():
    model, problems = build.normalise("./app/")
    assert problems == []
    assert model["context"] == "app" and model["dockerfile"] == "Dockerfile"


def test_args_without_value_take_the_stacks_variable_or_are_left_out():
    model = build.normalise({"context": ".", "args": ["A=1", "B", "C"]}, env={"B": "b"})[0]
    assert model["args"] == {"A": "1", "B": "b"}
    model = build.normalise({"args": {"A": None, "N": 3}}, env={"A": "a"})[0]
    assert model["args"] == {"A": "a", "N": "3"}


@pytest.mark.parametrize("value, key, fragment", [
    ({"context": "/srv"}, "build.context", "outside the submission directory"),
    ({"context": "a/../../b"}, "build.context", "outside the submission directory"),
    ({"context": "https://example.org/app.git"}, "build.context", "remote context"),
    ({"dockerfile": "/etc/Dockerfile"}, "build.dockerfile", "absolute"),
    ({"privileged": True}, "build.privileged", "never run privileged"),
    ({"additional_contexts": {"x": "."}}, "build.additional_contexts", "one context"),
    ({"args": "A=1"}, "build.args", "mapping or a list"),
    (["."], "build", "directory name or a mapping"),
])
def test_refused_build_values_name_their_key(value, key, fragment):
    _model, problems = build.normalise(value)
    assert [(p[0], p[1]) for p in problems] == [("error", key)]
    assert fragment in problems[0][2]


# ---- Dockerfiles ----------------------------------------------------------------------------------

def bases(text, args=None):
    found = build.dockerfile_bases(text, args)
    return [(b["line"], b["image"]) for b in found["bases"]], [p["line"] for p in found["problems"]]


def test_from_lines_stages_and_copy_from():
    text = ("# syntax comment\nARG BASE=spin/base:bookworm\nFROM ${BASE} AS build\nRUN make\n"
            "FROM scratch\nCOPY --from=build /out /out\nCOPY --from=0 /x /x\nCOPY --from=httpd:2.4 /etc/a /a\n"
            "FROM build\n")
    assert bases(text) == ([(3, "spin/base:bookworm"), (5, None), (8, "httpd:2.4"), (9, None)], [])


def test_build_args_override_arg_defaults_and_an_open_arg_is_unresolved():
    assert bases("ARG B=spin/base\nFROM $B\n", {"B": "httpd"}) == ([(2, "httpd")], [])
    assert bases("ARG B\nFROM $B\n") == ([], [2])
    assert bases("ARG B\nFROM ${B:-spin/base}\n") == ([(2, "spin/base")], [])


def test_continuation_lines_and_platform_flags():
    assert bases("FROM \\\n  --platform=linux/amd64 \\\n  spin/base:bookworm\nRUN true\n") == (
        [(1, "spin/base:bookworm")], [])


def judge(text, pol=None, spec=None):
    pol = pol or policy_settings.merge_policy({})
    spec = spec or {"context": ".", "dockerfile": "Dockerfile", "dockerfile_inline": None, "args": {}}
    return [policy_settings.format_violation(v)
            for v in build.check("app", spec, text, pol, "docker-compose.yml", policy.image_allowed, policy_settings.violation)]


def test_base_images_only_from_allowed_names_and_registries():
    assert judge("FROM spin/base:bookworm\nFROM httpd:2.4\n") == []
    assert judge("FROM someone/toolbox:latest\n") == [
        "Dockerfile: service 'app': key 'build': [build] line 1: base image 'someone/toolbox:latest' "
        "is not among the images a build may start from (httpd, mysql, mariadb, spin/httpd, spin/mariadb, spin/base); "
        "start FROM one of them, or ask the platform staff to allow yours"]
    pol = policy_settings.merge_policy({"spin_policy": {"registries": ["reg.example.org/science"]}})
    assert judge("FROM reg.example.org/science/python:3\n", pol) == []
    assert len(judge("FROM reg.example.org/other/python:3\n", pol)) == 1


def test_an_unresolved_or_missing_from_is_refused():
    assert "line 2: base name ($B) should not be blank" in judge("ARG B\nFROM $B\n")[0]
    assert "line 1: no build stage in current context: only ARG may come before the first FROM" in \
        judge("RUN true\n")[0]
    assert "the Dockerfile has no FROM line" in judge("ARG B=1\n")[0]


def test_build_network_secrets_and_ssh_are_refused_by_the_policy():
    spec = {"context": ".", "network": "host", "secrets": ["t"], "ssh": ["default"]}
    model = {"services": {"app": {"image": None, "build": spec}}}
    pol = policy_settings.merge_policy({"spin_tenants": {"cory": {"uid": 1000, "gid": 1000}}})
    found = [(v["rule"], v["key"]) for v in policy.evaluate(model, "cory", pol["tenants"]["cory"], pol, stack="s")]
    assert ("build", "build.network") in found and ("build", "build.secrets") in found
    assert ("build", "build.ssh") in found
    allowed = policy_settings.merge_policy({"spin_tenants": {"cory": {"uid": 1000, "gid": 1000}},
                                            "spin_policy": {"build_network": True}})
    model["services"]["app"]["build"] = {"context": ".", "network": "default"}
    assert [v for v in policy.evaluate(model, "cory", allowed["tenants"]["cory"], allowed, stack="s")
            if v["rule"] == "build"] == []


# ---- names ------------------------------------------------------------------------------------------

def test_image_name_with_and_without_a_registry():
    digest = "0123456789abcdef" + "0" * 48
    assert build.image_name("spin-registry:5000", "cory", "magic", "app_1", digest) == \
        "spin-registry:5000/cory/magic-app-1:0123456789abcdef"
    assert build.image_name(None, "cory", "magic", "app", digest) == "cory/magic-app:0123456789abcdef"


def test_the_content_digest_follows_every_option_that_shapes_the_image():
    spec = {"dockerfile": "Dockerfile", "dockerfile_inline": None, "args": {"A": "1"}, "target": None}
    one = build.content_digest("a" * 64, spec)
    assert one == build.content_digest("a" * 64, dict(spec))
    assert one != build.content_digest("b" * 64, spec)
    assert one != build.content_digest("a" * 64, dict(spec, args={"A": "2"}))
    assert one != build.content_digest("a" * 64, dict(spec, target="prod"))


# ---- .dockerignore ----------------------------------------------------------------------------------

@pytest.mark.parametrize("rules, path, excluded", [
    ("*.log", "a.log", True),
    ("*.log", "dir/a.log", False),
    ("**/*.log", "dir/a.log", True),
    ("node_modules", "node_modules/x/y.js", True),
    ("secret/\n!secret/keep", "secret/keep", False),
    ("secret/\n!secret/keep", "secret/other", True),
    ("# comment\n\n/build", "build/out", True),
    ("a?c", "abc", True),
    ("[ab].txt", "b.txt", True),
    ("*\n!src", "src/main.c", False),
    ("*\n!src", "README", True),
])
def test_dockerignore(rules, path, excluded):
    assert build.IgnoreRules(rules).excluded(path) is excluded


# ---- holes: what the engine's builder starts from or fetches, which the policy must judge ------------

HAPROXY = "'spin/haproxy:2.6'"  # the edge's image: not among the images a build may start from


@pytest.mark.parametrize("text, args, fragment", [
    # a byte-order mark: Docker strips it, so line 1 is a FROM (and COPY --from=0 copies from it)
    ("\ufeffFROM spin/haproxy:2.6\nFROM spin/base:bookworm\nCOPY --from=0 /etc/haproxy/haproxy.cfg /x\n",
     None, HAPROXY),
    # "# escape=" after a comment is a comment: "\" still continues lines and "`" does not
    ("# c\n# escape=`\nFROM spin/base:bookworm\nRUN echo `\nFROM spin/haproxy:2.6\n", None, HAPROXY),
    # a no-break space after the escape: Go's continuation needs only spaces and tabs there
    ("FROM spin/base:bookworm\nRUN echo \\\u00a0\nFROM spin/haproxy:2.6\n", None, HAPROXY),
    # ${X:+word} is word when X is set
    ("ARG X=httpd\nFROM ${X:+spin/haproxy:2.6}\n", None, HAPROXY),
    # the proxy build args reach FROM without an ARG line
    ("FROM ${HTTP_PROXY:-spin/base:bookworm}\n", {"HTTP_PROXY": "spin/haproxy:2.6"}, HAPROXY),
    # COPY --from names only earlier stages: the stage's own name is an image
    ("FROM spin/base:bookworm AS haproxy\nCOPY --from=haproxy /etc/haproxy/haproxy.cfg /x\n", None, "'haproxy'"),
    # an ONBUILD trigger runs when a later stage starts FROM this one
    ("FROM spin/base:bookworm AS a\nONBUILD COPY --from=spin/haproxy:2.6 /etc/haproxy/haproxy.cfg /x\nFROM a\n",
     None, HAPROXY),
    # ADD fetches URLs on the build node's network ("no network" covers RUN only)
    ("FROM spin/base:bookworm\nADD http://127.0.0.1:8080/x /x\n", None, "http://127.0.0.1:8080/x"),
    ("FROM spin/base:bookworm\nADD \"http://127.0.0.1:8080/x\" /x\n", None, "http://127.0.0.1:8080/x"),
    ("FROM spin/base:bookworm\nARG U=http://127.0.0.1:8080/x\nADD $U /x\n", None, "$U"),
    ("FROM spin/base:bookworm AS a\nONBUILD ADD http://127.0.0.1:8080/x /x\nFROM a\n", None,
     "http://127.0.0.1:8080/x"),
], ids=["byte-order-mark", "escape-after-comment", "no-break-space-continuation", "arg-plus-modifier", "proxy-build-arg",
        "copy-from-own-stage-name", "onbuild-copy-from", "add-url", "add-quoted-url", "add-url-from-arg",
        "onbuild-add-url"])
def test_every_image_and_remote_source_the_builder_uses_is_judged(text, args, fragment):
    spec = {"context": ".", "dockerfile": "Dockerfile", "dockerfile_inline": None, "args": args or {}}
    found = judge(text, spec=spec)
    assert any(fragment in message for message in found), found


# ---- the verdict's messages, and images of the platform and of tenants --------------------------------

ALLOWED = "(httpd, mysql, mariadb, spin/httpd, spin/mariadb, spin/base)"


@pytest.mark.parametrize("text, expected", [
    ("\ufeffFROM spin/haproxy:2.6\n",
     "app/Dockerfile: service 'app': key 'build': [build] line 1: base image 'spin/haproxy:2.6' is not among the "
     "images a build may start from %s; images of the platform (spin/...) and of tenants are allowed by name only; "
     "start FROM one of them, or ask the platform staff to allow yours" % ALLOWED),
    ("ARG X=httpd\nFROM ${X:+someone/tool:1}\n",
     "app/Dockerfile: service 'app': key 'build': [build] line 2: base image 'someone/tool:1' (FROM "
     "${X:+someone/tool:1}) is not among the images a build may start from %s; start FROM one of them, or ask the "
     "platform staff to allow yours" % ALLOWED),
    ("FROM spin/base:bookworm AS mysql2\nCOPY --from=mysql2 /x /y\n",
     "app/Dockerfile: service 'app': key 'build': [build] line 2: COPY --from image 'mysql2' is not among the images "
     "a build may start from %s; 'mysql2' is a stage of this Dockerfile, but COPY --from names only the stages before "
     "it; copy from an earlier stage or one of them, or ask the platform staff to allow yours" % ALLOWED),
    ("FROM spin/base:bookworm\nADD https://example.org/x.tgz /x\n",
     "app/Dockerfile: service 'app': key 'build': [build] line 2: ADD https://example.org/x.tgz: the engine would "
     "fetch it on the build node's network, which builds do not have; download it into the build context and COPY "
     "it"),
    ("FROM spin/base:bookworm\nRUN --mount=type=cache,target=/c make\n",
     "app/Dockerfile: service 'app': key 'build': [build] line 2: RUN --mount needs BuildKit (the platform builds "
     "with Docker 20.10's classic builder, which refuses it); correct the Dockerfile: the build would fail there"),
])
def test_a_refusal_names_the_dockerfile_its_line_and_what_the_builder_reads(text, expected):
    spec = {"context": "app", "dockerfile": "Dockerfile", "dockerfile_inline": None, "args": {}}
    assert judge(text, spec=spec) == [expected]


def test_an_inline_dockerfile_is_named_by_the_compose_file_and_its_key():
    spec = {"context": ".", "dockerfile": None, "dockerfile_inline": "FROM someone/tool:1\n", "args": {}}
    assert judge(spec["dockerfile_inline"], spec=spec)[0].startswith(
        "docker-compose.yml: service 'app': key 'build.dockerfile_inline': [build] line 1: base image 'someone/tool:1'")


@pytest.mark.parametrize("image, allowed", [
    ("reg.example.org/science/python:3", True),
    ("reg.example.org/science/spin/haproxy:2.6", True),  # a prefix of the registry: not the platform's namespace
    ("reg.example.org/spin/haproxy:2.6", False),  # the platform's images, through the registry
    ("reg.example.org/cory/magic-web:0123456789abcdef", False),  # another tenant's build
    ("reg.example.org/eve/magic-web:0123456789abcdef", False),  # the tenant's own: by name only too
    ("reg.example.org/spin/base:bookworm", False),  # allowed by name (spin/base), not with a registry
    ("spin/base:bookworm", True),
    ("cory/magic-web:0123456789abcdef", False),
])
def test_images_of_the_platform_and_of_tenants_are_allowed_by_name_only(image, allowed):
    pol = policy_settings.merge_policy({"spin_policy": {"registries": ["reg.example.org"]},
                                        "spin_tenants": {"cory": {"uid": 1000, "gid": 1000},
                                                         "eve": {"uid": 1001, "gid": 1001}}})
    assert (judge("FROM %s\n" % image, pol) == []) is allowed
    named = policy_settings.merge_policy({"spin_policy": {"registries": ["reg.example.org"],
                                                          "build_base_images": ["reg.example.org/cory/*"]},
                                          "spin_tenants": {"cory": {"uid": 1000, "gid": 1000}}})
    assert judge("FROM reg.example.org/cory/magic-web:0123456789abcdef\n", named) == []


@pytest.mark.parametrize("text", ["FROM 0\n", "FROM 065698100f6d\n", "FROM sha256:065698100f6d\n",
                                  "FROM spin/base:bookworm\nCOPY --from=cafe /x /y\n"])
def test_an_image_id_or_its_start_is_refused_whatever_the_patterns(text):
    everything = policy_settings.merge_policy({"spin_policy": {"images": ["*"]}})
    found = judge(text, everything)
    assert len(found) == 1 and "can name an image by its ID" in found[0], found
    assert judge("FROM cafe:1\n", everything) == []  # a tag: a name, never an ID


def test_a_build_never_starts_from_another_tenants_image_through_a_wildcard():
    pol = policy_settings.merge_policy({"spin_policy": {"images": ["*"]},
                                        "spin_tenants": {"cory": {"uid": 1000, "gid": 1000},
                                                         "eve": {"uid": 1001, "gid": 1001}}})
    found = [policy_settings.format_violation(v) for v in build.check(
        "app", {"context": ".", "dockerfile": "Dockerfile", "dockerfile_inline": None, "args": {}},
        "FROM eve/site-app:0123456789abcdef\nFROM cory/site-app:0123456789abcdef\n", pol, "docker-compose.yml",
        policy.image_allowed, policy_settings.violation, tenant="eve")]
    assert found == ["Dockerfile: service 'app': key 'build': [build] line 2: base image "
                     "'cory/site-app:0123456789abcdef' is tenant 'cory''s image (its builds are tagged cory/...): a "
                     "stack runs and builds from the platform's allowed images and its own tenant's only; start FROM "
                     "one of the platform's allowed images, or one of your own"]
