"""Compose as Compose defines it (issue 8): each construct of real-world compose files -> what the
stack model makes of it, or the message that names the file, service, key and the fix."""
import base64
import textwrap

import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.plugins.plugin_utils import compose_text
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag


def parse(text, env=None, files=None, profiles=None, modes=None):
    files = files or {}

    def read_file(path):
        key = path[2:] if path.startswith("./") else path
        if key not in files or files[key] is None:
            raise compose_text.MissingFile("'%s' does not exist in the submission directory" % path)
        return files[key]

    return compose.parse_stack(textwrap.dedent(text), "docker-compose.yml", read_file=read_file, env=env,
                               profiles=profiles)


def errors(diagnostics, severity="error"):
    return [diag.format_diagnostic(d) for d in diagnostics if d["severity"] == severity]


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
    assert errors(diagnostics) == []
    assert list(model["services"]) == deployed
    # debug is built from the submission (build: without image) when its profile is active
    if "debug" in deployed:
        assert model["services"]["debug"]["build"]["context"] == "."
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
    model, dummy = parse("services:\n  a:\n    image: x\n    environment: {V: '%s'}\n" % value, env=env)
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


# ---- relative bind mounts: files become configs, directories are refused with the fix -------------

def _submission(tmp_path, text, files):
    for name, content in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content is None:
            path.mkdir(exist_ok=True)
        else:
            path.write_text(content)
    (tmp_path / "docker-compose.yml").write_text(textwrap.dedent(text))
    return compose.parse_stack((tmp_path / "docker-compose.yml").read_text(), "docker-compose.yml",
                               read_file=compose_text.make_dir_reader(str(tmp_path)),
                               stat_file=compose_text.make_dir_stat(str(tmp_path)))


def test_relative_bind_mounts_of_files_become_content_hashed_configs(tmp_path):
    (tmp_path / "bin").mkdir()
    model, diagnostics = _submission(tmp_path, """
    services:
      proxy:
        image: nginx
        volumes:
          - ./nginx.conf:/etc/nginx/nginx.conf:ro
          - type: bind
            source: conf.d/app.conf
            target: /etc/nginx/conf.d/default.conf
            read_only: true
          - ./bin/entry.sh:/docker-entrypoint.d/40-entry.sh
      app:
        image: app
        volumes: ["./nginx.conf:/srv/nginx.conf:ro"]
    configs:
      nginx.conf: {content: declared}
    """, {"nginx.conf": "events {}\n", "conf.d/app.conf": "server {}\n", "bin/entry.sh": "#!/bin/sh\n"})
    (tmp_path / "bin" / "entry.sh").chmod(0o755)
    model, diagnostics = compose.parse_stack((tmp_path / "docker-compose.yml").read_text(), "docker-compose.yml",
                                             read_file=compose_text.make_dir_reader(str(tmp_path)),
                                             stat_file=compose_text.make_dir_stat(str(tmp_path)))
    assert errors(diagnostics) == []
    assert warnings(diagnostics) == [
        "docker-compose.yml: service 'proxy': key 'volumes[2]': warning: './bin/entry.sh' becomes a Swarm config, "
        "mounted read-only: the service cannot change the file (append ':ro' to say so)"]
    proxy = model["services"]["proxy"]
    assert proxy["volumes"] == []
    assert proxy["configs"] == [
        {"source": "nginx.conf-2", "target": "/etc/nginx/nginx.conf", "uid": "0", "gid": "0", "mode": 0o444},
        {"source": "app.conf", "target": "/etc/nginx/conf.d/default.conf", "uid": "0", "gid": "0", "mode": 0o444},
        {"source": "entry.sh", "target": "/docker-entrypoint.d/40-entry.sh", "uid": "0", "gid": "0", "mode": 0o555}]
    # the same file in two services is one config; a declared config of that name keeps its own
    assert model["services"]["app"]["configs"][0]["source"] == "nginx.conf-2"
    assert base64.b64decode(model["configs"]["nginx.conf-2"]["content"]) == b"events {}\n"
    assert model["configs"]["nginx.conf-2"]["source_file"] == "./nginx.conf"
    assert base64.b64decode(model["configs"]["nginx.conf"]["content"]) == b"declared"
    tasks = translate.stack_to_tasks(model, "demo", "st")
    names = [c["name"] for c in tasks["configs"]]
    assert "st_nginx.conf-2_%s" % __import__("hashlib").sha256(b"events {}\n").hexdigest()[:10] in names


@pytest.mark.parametrize("volume, files, store", [
    # a directory, read-only or read-write as the file says (issue 18): an entry of the stack's bind store
    ("./html:/usr/share/nginx/html:ro", {"html/index.html": "hi", "html/sub": None},
     {"html": {"source": "./html", "kind": "dir", "read_only": True}}),
    ("./frontend/src:/code/src", {"frontend/src/a.js": "x"},
     {"frontend-src": {"source": "./frontend/src", "kind": "dir", "read_only": False}}),
    (".:/code", {}, {"submission": {"source": ".", "kind": "dir", "read_only": False}}),
    ("./empty:/srv", {"empty": None}, {"empty": {"source": "./empty", "kind": "dir", "read_only": False}}),
    # a path that is not there: Compose makes an empty directory, so does the platform (with a warning)
    ("./data:/var/lib/postgresql/data", {}, {"data": {"source": "./data", "kind": "missing", "read_only": False}}),
    # a file too large for a Swarm config takes the same path
    ("./sample.log:/data/sample.log:ro", {"sample.log": "x" * (600 * 1024)},
     {"sample.log": {"source": "./sample.log", "kind": "file", "read_only": True}}),
])
def test_relative_bind_mounts_of_directories_go_to_the_bind_store(tmp_path, volume, files, store):
    model, diagnostics = _submission(tmp_path, "services:\n  s:\n    image: x\n    volumes: ['%s']\n" % volume, files)
    assert errors(diagnostics) == []
    assert {k: {f: v[f] for f in ("source", "kind", "read_only")} for k, v in model["bind_store"].items()} == store
    key = list(store)[0]
    target = volume.split(":")[1]
    assert model["services"]["s"]["volumes"] == [{"type": "store", "source": key, "target": target,
                                                  "read_only": store[key]["read_only"], "tmpfs_size": None,
                                                  "tmpfs_mode": None, "nocopy": False}]
    assert model["bind_store"][key]["mounts"] == [{"service": "s", "key": "volumes[0]", "file": "docker-compose.yml",
                                                   "target": target, "read_only": store[key]["read_only"]}]


def test_a_bind_of_a_path_that_is_not_there_warns_and_names_the_faster_way():
    model, diagnostics = parse("services:\n  db:\n    image: postgres\n    volumes: ['./pgdata:/var/lib/postgresql/data']\n"
                               , files={})
    assert warnings(diagnostics) == [
        "docker-compose.yml: service 'db': key 'volumes[0]': warning: './pgdata' does not exist in the submission "
        "directory: the service gets an empty directory there (as Compose makes one on the host), in the stack's bind "
        "store, and what it writes there is kept across deploys; data only this service uses is faster in a named "
        "volume: write 'pgdata:/var/lib/postgresql/data' and declare it under the top-level volumes"]


def test_one_directory_bound_by_two_services_is_one_entry_read_write_if_either_writes(tmp_path):
    model, diagnostics = _submission(tmp_path, """
        services:
          web: {image: nginx, volumes: ['./app:/var/www/html:ro']}
          php: {image: php, volumes: ['./app:/var/www/html']}
        """, {"app/index.php": "<?php"})
    assert errors(diagnostics) == []
    assert list(model["bind_store"]) == ["app"] and model["bind_store"]["app"]["read_only"] is False
    assert [m["service"] for m in model["bind_store"]["app"]["mounts"]] == ["web", "php"]


def test_a_relative_bind_outside_the_submission_is_still_refused(tmp_path):
    _model, diagnostics = _submission(tmp_path, "services:\n  s:\n    image: x\n    volumes: ['../secrets.env:/x']\n",
                                      {})
    assert errors(diagnostics) == ["docker-compose.yml: service 's': key 'volumes[0]': '../secrets.env' points "
                                   "outside the submission directory: keep the file inside it"]


def test_a_symbolic_link_that_leads_out_is_not_followed(tmp_path):
    (tmp_path / "passwd").symlink_to("/etc/passwd")
    model, diagnostics = _submission(tmp_path, "services:\n  s:\n    image: x\n    volumes: ['./passwd:/p:ro']\n", {})
    assert errors(diagnostics) == [
        "docker-compose.yml: service 's': key 'volumes[0]': './passwd' is a symbolic link that points outside the "
        "submission directory: copy the file into the directory instead"]


def test_nocopy_reaches_the_mount():
    model, diagnostics = parse("""
    services:
      s:
        image: x
        volumes:
          - data:/a:nocopy
          - {type: volume, source: data, target: /b, volume: {nocopy: true}}
          - data:/c
    volumes: {data: {}}
    """)
    assert diagnostics == []
    mounts = translate.stack_to_tasks(model, "demo", "st")["services"][0]["mounts"]
    assert [(m["target"], m["volume_nocopy"]) for m in mounts] == [("/a", True), ("/b", True), ("/c", False)]


@pytest.mark.parametrize("options", [["no-new-privileges:true"], ["no-new-privileges=true"], ["no-new-privileges"]])
def test_no_new_privileges_that_policy_allows_also_translates(options):
    model, diagnostics = parse("services:\n  s:\n    image: x\n    security_opt: %s\n" % options)
    assert diagnostics == []
    assert translate.stack_to_tasks(model, "demo", "st")["services"][0]["name"] == "st_s"


def test_the_review_file_of_a_global_service_is_valid_spin_service_input():
    import yaml
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
    from ansible_collections.spin.platform.plugins.modules import spin_service
    model, dummy = parse("services:\n  agent:\n    image: x\n    deploy: {mode: global}\n  once:\n    image: x\n"
                         "    deploy: {mode: global-job}\n")
    tasks = yaml.safe_load(translate.render_task_file(translate.stack_to_tasks(model, "demo", "st"), "demo", "st"))
    services = [task["spin.platform.spin_service"] for task in tasks if "spin.platform.spin_service" in task]
    assert [(p["name"], p["mode"], "replicas" in p) for p in services] == [
        ("st_agent", "global", False), ("st_once", "global-job", False)]
    for params in services:
        result = ArgumentSpecValidator(spin_service.argument_spec()).validate(params)
        assert result.error_messages == []


# ---- issue 18: shm_size, UDP, volumes_from ------------------------------------------------------

@pytest.mark.parametrize("body, mounts, expected", [
    ("shm_size: 256m", [("tmpfs", None, "/dev/shm", 256 * 1024 ** 2, 0o1777)], []),
    ("shm_size: '1gb'", [("tmpfs", None, "/dev/shm", 1024 ** 3, 0o1777)], []),
    ("shm_size: 256m\n    tmpfs: ['/dev/shm:size=64m']", [("tmpfs", None, "/dev/shm", 64 * 1024 ** 2, None)],
     ["docker-compose.yml: service 's': key 'shm_size': a mount on /dev/shm is given too: give shm_size or the mount, "
      "not both"]),
    ("shm_size: lots", [], ["docker-compose.yml: service 's': key 'shm_size': 'lots' is not a size (write it like "
                            "512M or 2G)"]),
])
def test_shm_size_becomes_a_tmpfs_on_dev_shm(body, mounts, expected):
    model, diagnostics = parse("services:\n  s:\n    image: postgres\n    %s\n" % body)
    assert errors(diagnostics) == expected
    assert [(v["type"], v["source"], v["target"], v["tmpfs_size"], v["tmpfs_mode"])
            for v in model["services"]["s"]["volumes"]] == mounts


def test_udp_ports_are_published_by_the_service_in_host_mode():
    model, diagnostics = parse("services:\n  dns:\n    image: coredns/coredns\n    ports: ['8053:53/udp', '8053:53']\n")
    assert errors(diagnostics) == []
    tasks = translate.stack_to_tasks(model, "demo", "st")
    dns = tasks["services"][0]
    assert dns["publish"] == [{"published_port": 8053, "target_port": 53, "protocol": "udp", "mode": "host"}]
    assert [(e["protocol"], e["published"]) for e in tasks["endpoints"]] == [("udp", 8053), ("tcp", 8053)]


VOLUMES_FROM = """
services:
  php:
    image: php:fpm
    volumes: ['./app:/var/www/html', 'sessions:/var/lib/php/sessions', /var/cache/app, {type: tmpfs, target: /tmp}]
  nginx:
    image: nginx
    volumes_from: ['php:ro']
    volumes: ['./nginx.conf:/etc/nginx/nginx.conf:ro']
  backup:
    image: alpine
    volumes_from: [php, 'container:legacy']
volumes:
  sessions: {}
"""


def test_volumes_from_a_service_of_the_stack_gives_the_same_mounts(tmp_path):
    model, diagnostics = _submission(tmp_path, VOLUMES_FROM, {"app/index.php": "<?php", "nginx.conf": "events {}"})
    assert errors(diagnostics) == []
    shown = {name: [(v["type"], v["source"], v["target"], v["read_only"]) for v in svc["volumes"]]
             for name, svc in model["services"].items()}
    # the anonymous volume is now a named one both see (one copy), tmpfs stays the service's own
    assert shown["php"] == [("store", "app", "/var/www/html", False),
                            ("volume", "sessions", "/var/lib/php/sessions", False),
                            ("volume", "php-var-cache-app", "/var/cache/app", False), ("tmpfs", None, "/tmp", False)]
    assert shown["nginx"] == [("store", "app", "/var/www/html", True),
                              ("volume", "sessions", "/var/lib/php/sessions", True),
                              ("volume", "php-var-cache-app", "/var/cache/app", True)]
    assert shown["backup"] == shown["php"][:3]
    assert "php-var-cache-app" in model["volumes"]
    # the service starts after the one it takes the volumes of; a container outside the stack is the policy's
    assert model["services"]["nginx"]["depends_on"] == ["php"]
    assert model["services"]["backup"]["volumes_from"] == ["container:legacy"]
    assert model["services"]["nginx"]["volumes_from"] == []
    assert [m["service"] for m in model["bind_store"]["app"]["mounts"]] == ["php", "nginx", "backup"]


@pytest.mark.parametrize("entry, message", [
    ("ghost", "service 'ghost' does not exist"),
    ("s", "a service cannot take its own volumes"),
    ("php:rx", "'php:rx' is not a volumes_from entry: write a service name, 'service:ro' or 'service:rw'"),
])
def test_volumes_from_what_is_not_a_service_of_the_stack(entry, message):
    _model, diagnostics = parse("services:\n  php: {image: php}\n  s:\n    image: x\n    volumes_from: ['%s']\n" % entry)
    assert errors(diagnostics) == ["docker-compose.yml: service 's': key 'volumes_from[0]': " + message]
