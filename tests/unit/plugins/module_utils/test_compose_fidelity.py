"""Compose as Compose defines it (issue 8): each construct of real-world compose files -> what the
stack model makes of it, or the message that names the file, service, key and the fix."""
import base64
import textwrap

import pytest

from ansible_collections.spin.platform.plugins.module_utils import compose, translate


def parse(text, env=None, files=None, profiles=None, modes=None):
    files = files or {}

    def read_file(path):
        from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError
        key = path[2:] if path.startswith("./") else path
        if key not in files or files[key] is None:
            raise SpinError("'%s' does not exist in the submission directory (or is not a file)" % path)
        return files[key]

    return compose.parse_stack(textwrap.dedent(text), "docker-compose.yml", read_file=read_file, env=env,
                               profiles=profiles)


def errors(diagnostics, severity="error"):
    return [compose.format_diagnostic(d) for d in diagnostics if d["severity"] == severity]


def warnings(diagnostics):
    return errors(diagnostics, "warning")


# ---- depends_on conditions, required: false, one-off jobs --------------------------------------

CONDITIONS = """
services:
  web:
    image: httpd
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
      cache: {condition: service_started, required: false}
  migrate:
    image: app
    command: ./manage.py migrate
    depends_on: [db]
  db:
    image: postgres
    healthcheck: {test: [CMD, pg_isready], interval: 5s}
"""


def test_depends_on_conditions_become_what_the_deploy_waits_for():
    model, diagnostics = parse(CONDITIONS)
    assert errors(diagnostics) == []
    assert warnings(diagnostics) == [
        "docker-compose.yml: service 'web': key 'depends_on.cache': warning: service 'cache' is not deployed; it is "
        "not required (required: false), so 'web' starts without it"]
    web, migrate = model["services"]["web"], model["services"]["migrate"]
    assert web["depends_on"] == ["db", "migrate"]
    assert web["depends_on_conditions"] == {"db": "service_healthy", "migrate": "service_completed_successfully"}
    # the one-off runs once, as Compose's container does: a Swarm job that is not restarted
    assert migrate["deploy"]["mode"] == "replicated-job" and migrate["deploy"]["replicas"] == 1
    assert migrate["restart_policy"]["condition"] == "none"
    assert model["services"]["db"]["deploy"]["mode"] == "replicated"
    tasks = translate.stack_to_tasks(model, "demo", "st")
    assert tasks["wait_for"] == {"st_web": ["st_db", "st_migrate"]}
    assert [(p["name"], p["mode"], p["replicas"]) for p in tasks["services"]] == [
        ("st_db", "replicated", 1), ("st_migrate", "replicated-job", 1), ("st_web", "replicated", 1)]


@pytest.mark.parametrize("extra, expected", [
    ("    healthcheck: {disable: true}\n",
     ["docker-compose.yml: service 'web': key 'depends_on.db.condition': service_healthy needs a healthcheck, and "
      "'db' switches it off: give 'db' a healthcheck, or write condition: service_started"]),
    ("", []),  # no healthcheck key: the image's own healthcheck (MariaDB's) decides
])
def test_service_healthy_needs_a_healthcheck(extra, expected):
    text = ("services:\n  web:\n    image: httpd\n    depends_on: {db: {condition: service_healthy}}\n"
            "  db:\n    image: mariadb\n" + extra)
    assert errors(parse(text)[1]) == expected


def test_a_one_off_that_restarts_always_is_restarted_only_on_failure():
    model, diagnostics = parse("""
    services:
      web: {image: httpd, depends_on: {init: {condition: service_completed_successfully}}}
      init: {image: app, restart: always, deploy: {update_config: {parallelism: 2}}}
    """)
    assert warnings(diagnostics) == [
        "docker-compose.yml: service 'init': key 'deploy.update_config': warning: ignored: 'init' runs once (others "
        "wait for it with service_completed_successfully), so it has no rolling updates",
        "docker-compose.yml: service 'init': key 'restart': warning: 'init' runs once (others wait for it with "
        "service_completed_successfully): it is restarted only on failure"]
    init = model["services"]["init"]
    assert init["restart_policy"]["condition"] == "on-failure" and init["deploy"]["update_config"] is None


@pytest.mark.parametrize("mode, replicas", [("replicated-job", 3), ("global-job", None)])
def test_deploy_mode_jobs(mode, replicas):
    scale = "replicas: 3" if replicas else ""
    model, diagnostics = parse("services:\n  j:\n    image: app\n    deploy: {mode: %s, %s}\n" % (mode, scale))
    assert errors(diagnostics) == []
    assert model["services"]["j"]["deploy"]["mode"] == mode
    assert model["services"]["j"]["deploy"]["replicas"] == replicas


def test_a_missing_required_dependency_is_an_error():
    assert errors(parse("services:\n  web: {image: x, depends_on: {cache: {condition: service_started}}}\n")[1]) == [
        "docker-compose.yml: service 'web': key 'depends_on': service 'cache' does not exist"]


# ---- ulimits, tty, stdin_open ------------------------------------------------------------------

def test_ulimits_tty_and_stdin_open_reach_the_service():
    model, diagnostics = parse("""
    services:
      es:
        image: elasticsearch
        tty: true
        stdin_open: true
        ulimits:
          memlock: {soft: -1, hard: -1}
          nofile: {soft: 65536, hard: 65536}
          nproc: 4096
    """)
    assert diagnostics == []
    es = model["services"]["es"]
    assert (es["tty"], es["stdin_open"]) == (True, True)
    assert es["ulimits"] == {"memlock": {"soft": -1, "hard": -1}, "nofile": {"soft": 65536, "hard": 65536},
                             "nproc": {"soft": 4096, "hard": 4096}}


@pytest.mark.parametrize("body, expected", [
    ("nofiles: 10", "key 'ulimits.nofiles': 'nofiles' is not a ulimit (did you mean 'nofile'?)"),
    ("nofile: {soft: 10}", "key 'ulimits.nofile': give both soft and hard, like {soft: 20000, hard: 40000}"),
    ("nofile: {soft: 10, hard: 5}", "key 'ulimits.nofile': the soft limit 10 is above the hard limit 5"),
    ("nofile: {soft: 1, hard: 2, max: 3}", "key 'ulimits.nofile.max': unknown key"),
    ("nofile: many", "key 'ulimits.nofile': must be a number or {soft, hard}, not 'many'"),
])
def test_ulimit_errors(body, expected):
    text = "services:\n  s:\n    image: x\n    ulimits: {%s}\n" % body
    assert errors(parse(text)[1]) == ["docker-compose.yml: service 's': " + expected]


# ---- profiles ----------------------------------------------------------------------------------

PROFILES = """
services:
  web:
    image: httpd
    depends_on: [db]
  db:
    image: postgres
  migrate:
    image: app
    profiles: [tools]
    command: migrate --drop-all
  debug:
    build: .
    profiles: [debug, dev]
    depends_on: [db]
"""


@pytest.mark.parametrize("profiles, env, deployed, inactive", [
    (None, None, ["web", "db"], {"migrate": ["tools"], "debug": ["debug", "dev"]}),
    (["tools"], None, ["web", "db", "migrate"], {"debug": ["debug", "dev"]}),
    (None, {"COMPOSE_PROFILES": "dev, tools"}, ["web", "db", "migrate", "debug"], {}),
    ([], {"COMPOSE_PROFILES": "tools"}, ["web", "db"], {"migrate": ["tools"], "debug": ["debug", "dev"]}),
    (["*"], None, ["web", "db", "migrate", "debug"], {}),
])
def test_profiles_select_the_services(profiles, env, deployed, inactive):
    model, diagnostics = parse(PROFILES, env=env, profiles=profiles)
    # debug's build: without image would be refused, but debug is not deployed unless its profile is active
    expected = [] if "debug" in inactive else [
        "docker-compose.yml: service 'debug': key 'build': build without image is not supported: spin.platform "
        "builds nothing and has no registry; build the image on the nodes and name it with image:"]
    assert errors(diagnostics) == expected
    assert list(model["services"]) == deployed
    assert model["inactive"] == inactive


def test_a_required_dependency_on_a_service_of_an_inactive_profile_names_the_profile():
    text = PROFILES.replace("    depends_on: [db]\n  db:", "    depends_on: [db, migrate]\n  db:")
    assert errors(parse(text)[1]) == [
        "docker-compose.yml: service 'web': key 'depends_on': service 'migrate' is not deployed: its profiles "
        "(tools) are not active; add tools to spin_compose_profiles in the vars file (or COMPOSE_PROFILES in .env), "
        "or write required: false under depends_on.migrate"]


def test_profile_names_are_checked():
    assert errors(parse("services:\n  a: {image: x, profiles: ['bad name']}\n")[1]) == [
        "docker-compose.yml: service 'a': key 'profiles': 'bad name' is not a profile name: letters, digits, '_', "
        "'.' and '-'"]


# ---- healthcheck without test: the image's own, tuned --------------------------------------------

@pytest.mark.parametrize("body, model_check, params_check", [
    ("{interval: 10s, retries: 5}", {"test": None, "interval": 10 * 10**9, "timeout": None, "start_period": None,
                                     "retries": 5},
     {"test": None, "interval": "10s", "timeout": None, "retries": 5, "start_period": None}),
    ("{}", {"test": None, "interval": None, "timeout": None, "start_period": None, "retries": None}, None),
    ("{test: [NONE]}", {"disable": True}, {"test": ["NONE"]}),
])
def test_a_healthcheck_without_test_keeps_the_images(body, model_check, params_check):
    model, diagnostics = parse("services:\n  db:\n    image: mariadb\n    healthcheck: %s\n" % body)
    assert diagnostics == []
    assert model["services"]["db"]["healthcheck"] == model_check
    assert translate.stack_to_tasks(model, "demo", "st")["services"][0]["healthcheck"] == params_check


# ---- $ handling: once per value, even in anchors used twice ----------------------------------------

def test_a_value_in_an_anchor_used_twice_is_interpolated_once():
    model, diagnostics = parse("""
    x-env: &env
      GREETING: hello
      LITERAL: "$${GREETING}"
      PRICE: "5$$"
    services:
      a: {image: x, environment: *env}
      b: {image: x, environment: *env}
      c:
        image: x
        environment:
          <<: *env
          OWN: "${GREETING:-hi}"
    """, env={"GREETING": "from-vars"})
    assert diagnostics == []
    for name in ("a", "b"):
        assert model["services"][name]["environment"] == {"GREETING": "hello", "LITERAL": "${GREETING}",
                                                          "PRICE": "5$"}
    assert model["services"]["c"]["environment"]["OWN"] == "from-vars"
    assert model["services"]["c"]["environment"]["LITERAL"] == "${GREETING}"


@pytest.mark.parametrize("value, env, expected", [
    ("${UNSET}", {}, ""),
    ("a${UNSET:-b}c", {}, "abc"),
    ("${EMPTY:-d}", {"EMPTY": ""}, "d"),
    ("${EMPTY-d}", {"EMPTY": ""}, ""),
    ("$$HOME/$${X}", {}, "$HOME/${X}"),
    ("${A:-${B:-nested}}", {}, "nested"),
])
def test_dollar_handling_as_compose(value, env, expected):
    model, _ = parse("services:\n  a:\n    image: x\n    environment: {V: '%s'}\n" % value, env=env)
    assert model["services"]["a"]["environment"]["V"] == expected


@pytest.mark.parametrize("value, message", [
    ("$1", "a '$' that starts no variable in '$1': write '$$' for a literal dollar sign"),
    ("x$", "a '$' that starts no variable in 'x$': write '$$' for a literal dollar sign"),
    ("${A?set A in .env}", "variable 'A' is not set: set A in .env"),
])
def test_what_compose_refuses_is_refused(value, message):
    assert errors(parse("services:\n  a:\n    image: x\n    environment: {V: '%s'}\n" % value)[1]) == [
        "docker-compose.yml: service 'a': key 'environment.V': " + message]


# ---- ports: loopback, long-syntax ranges --------------------------------------------------------

def test_long_syntax_port_ranges():
    model, diagnostics = parse("""
    services:
      ftp:
        image: x
        ports:
          - {target: "21000-21002", published: "8001-8003"}
          - {target: 21, published: 8000, protocol: tcp}
    """)
    assert diagnostics == []
    assert [(p["published"], p["target"]) for p in model["services"]["ftp"]["ports"]] == [
        (8001, 21000), (8002, 21001), (8003, 21002), (8000, 21)]


@pytest.mark.parametrize("ports, expected", [
    ('{target: "80-81", published: "8000-8002"}', "key 'ports[0]': '8000-8002:80-81': the published and container "
                                                  "port ranges must have the same length"),
    ('{target: "81-80"}', "key 'ports[0].target': port range '81-80' runs backwards"),
])
def test_long_syntax_port_range_errors(ports, expected):
    assert errors(parse("services:\n  s:\n    image: x\n    ports: [%s]\n" % ports)[1]) == [
        "docker-compose.yml: service 's': " + expected]


# ---- links in every form, container_name as a host name --------------------------------------------

def test_links_and_container_name_become_network_aliases():
    model, diagnostics = parse("""
    services:
      web:
        image: httpd
        links: [db, "db:database", cache]
        environment: {DB_HOST: mydb}
      worker:
        image: app
        links: ["db:mysql"]
      db:
        image: mariadb
        container_name: mydb
      cache:
        image: redis
    """)
    assert diagnostics == []
    assert model["services"]["web"]["links"] == {"db": ["db", "database"], "cache": ["cache"]}
    tasks = translate.stack_to_tasks(model, "demo", "st")
    aliases = {p["name"]: p["networks"][0]["aliases"] for p in tasks["services"]}
    assert aliases["st_db"] == ["db", "mydb", "database", "mysql"]
    assert aliases["st_cache"] == ["cache"]
    assert [p["name"] for p in tasks["services"]] == ["st_db", "st_worker", "st_cache", "st_web"]


def test_two_services_cannot_share_a_container_name():
    assert errors(parse("services:\n  a: {image: x, container_name: app}\n  b: {image: x, container_name: app}\n")[1]) \
        == ["docker-compose.yml: service 'a': key 'container_name': 'app' is also the container_name of service 'b': "
            "give each its own name",
            "docker-compose.yml: service 'b': key 'container_name': 'app' is also the container_name of service 'a': "
            "give each its own name"]


# ---- sizes as Compose writes them ------------------------------------------------------------------

def test_sizes_as_compose_writes_them():
    model, diagnostics = parse("""
    services:
      app:
        image: x
        mem_limit: 512MiB
        mem_reservation: 256m
        tmpfs: ["/cache:size=64Mi"]
        deploy: {resources: {limits: {memory: 512MiB}}}
    """)
    assert diagnostics == []
    app = model["services"]["app"]
    assert app["deploy"]["resources"]["limits"]["memory"] == 512 * 1024**2
    assert app["deploy"]["resources"]["reservations"]["memory"] == 256 * 1024**2
    assert app["volumes"][0]["tmpfs_size"] == 64 * 1024**2
