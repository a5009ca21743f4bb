import base64
import hashlib
import os

import pytest
import yaml

from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SEED = os.path.join(ROOT, "examples", "seed")
OWNER = {"spin.tenant": "nersc", "spin.stack": "seed", "com.docker.stack.namespace": "seed"}


def model_of(text, rancher=None, env=None):
    model, diagnostics = compose.parse_stack(text, "docker-compose.yml", rancher, "rancher-compose.yml",
                                             env=env or {})
    assert not diag.has_errors(diagnostics), diagnostics
    return model


def tasks_of(text, rancher=None, env=None, platform=None, stack="seed"):
    return translate.stack_to_tasks(model_of(text, rancher, env), "nersc", stack, platform)


def service(tasks, name):
    return next(s for s in tasks["services"] if s["name"] == name)


def _read(name):
    with open(os.path.join(SEED, name)) as handle:
        return handle.read()


def _seed_service(name, image, replicas, env, labels_service, secrets=(), secret_env=None):
    labels = dict(OWNER, **{"spin.service": labels_service})
    return {
        "name": name, "state": "present", "image": image, "command": None, "entrypoint": None, "env": env,
        "secret_env": secret_env or {}, "workdir": None, "user": None, "hostname": None, "labels": labels, "container_labels": labels,
        "mode": "replicated", "replicas": replicas,
        "networks": [{"name": "seed_default", "aliases": [labels_service]}],
        "endpoint_mode": "dnsrr", "publish": [], "mounts": [], "healthcheck": None, "restart_policy": None,
        "resources": None, "placement": None, "update_config": None, "rollback_config": None,
        "secrets": list(secrets), "configs": [], "cap_add": [], "cap_drop": [], "read_only": False, "init": False,
        "stop_grace_period": None, "stop_signal": None, "logging": None, "sysctls": {}, "ulimits": [], "tty": True,
        "stdin_open": False, "image_volumes": True, "pin_to_data": True, "wait": True,
        "wait_timeout": 180, "monitor_window": 5,
    }


def test_seed_example():
    """The verbatim seed: db gets a generated root password (a secret the deploy fills once), both
    keep their terminal, and web, which publishes nothing but serves HTTP, gets a route of its own."""
    tasks = tasks_of(_read("docker-compose.yml"), _read("rancher-compose.yml"))
    generated = {"secret_name": "seed_db_root_password", "target": "db_root_password", "uid": "0", "gid": "0",
                 "mode": 0o444}
    assert tasks == {
        "networks": [{"name": "seed_default", "driver": "overlay", "internal": False, "attachable": False,
                      "driver_opts": {}, "labels": OWNER}],
        "volumes": [], "configs": [],
        "secrets": [{"name": "seed_db_root_password", "data": None, "generate": True,
                     "labels": dict(OWNER, **{"spin.generated": "MYSQL_ROOT_PASSWORD_FILE", "spin.service": "db"})}],
        "services": [
            _seed_service("seed_db", "mysql", 1, {"MYSQL_DATABASE": "magic", "MYSQL_USER": "cory",
                                                  "MYSQL_ROOT_PASSWORD_FILE": "/run/secrets/db_root_password"},
                          "db", [generated], secret_env={"MYSQL_PASSWORD": "MyOwnPass"}),
            _seed_service("seed_web", "httpd", 2, {}, "web"),
        ],
        "endpoints": [{"service": "seed_web", "compose_service": "web", "target": 80, "published": 80,
                       "protocol": "tcp", "hostname": "web.seed.nersc.localhost", "key": "x-spin.route",
                       "origin": "service 'web' automatic route"}],
        "wait_for": {}, "bind_store": None,
    }


def test_service_params_are_exactly_the_spin_service_options():
    tasks = tasks_of(_read("docker-compose.yml"))
    for params in tasks["services"]:
        assert tuple(params) == translate.SERVICE_PARAM_KEYS


FULL = """
services:
  app:
    image: app:1
    command: serve --port 8080
    entrypoint: [tini, --]
    environment: {MODE: prod}
    working_dir: /srv
    user: '1000:1000'
    hostname: app
    labels: {team: x}
    ports: ['8080:8080', {target: 9090, protocol: udp}]
    volumes: ['data:/data:ro', '/global/cfs/proj:/proj', 'shared:/shared']
    tmpfs: ['/run:size=16m,mode=0700']
    networks: {front: {aliases: [api]}, back: null}
    healthcheck: {test: [CMD, /healthz], interval: 1m30s, timeout: 500ms, retries: 3, start_period: 10s}
    deploy:
      replicas: 3
      labels: {tier: app}
      endpoint_mode: vip
      resources: {limits: {cpus: '0.5', memory: 512M, pids: 100}, reservations: {memory: 64M}}
      placement: {constraints: [node.role==worker], preferences: [{spread: node.labels.rack}],
                  max_replicas_per_node: 1}
      update_config: {parallelism: 2, delay: 10s, order: start-first, monitor: 1m, failure_action: rollback,
                      max_failure_ratio: 0.5}
      rollback_config: {parallelism: 1}
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 2m}
    secrets: [pw, {source: ext, target: /etc/ext.pem, uid: '33', mode: 0400}]
    configs: [conf]
    cap_add: [NET_BIND_SERVICE]
    cap_drop: [ALL]
    read_only: true
    init: true
    stop_grace_period: 1m
    stop_signal: SIGINT
    logging: {driver: json-file, options: {max-size: 10m}}
    sysctls: {net.core.somaxconn: 1024}
    ulimits: {nproc: 65535, nofile: {soft: 20000, hard: 40000}}
    tty: true
    stdin_open: true
networks:
  front: {labels: {purpose: web}}
  back: {internal: true, driver_opts: {encrypted: ''}}
volumes:
  data: {driver_opts: {type: nfs, o: 'addr=10.0.0.1', device: ':/export'}}
  shared: {external: true, name: projects_shared}
secrets:
  pw: {environment: PW}
  ext: {external: true, name: site_cert}
configs:
  conf: {content: 'key = value'}
"""


def _sha10(data):
    return hashlib.sha256(data).hexdigest()[:10]


def test_every_field_translates():
    tasks = tasks_of(FULL, env={"PW": "hunter2"})
    app = service(tasks, "seed_app")
    marks = dict(OWNER, **{"spin.service": "app"})
    assert app == {
        "name": "seed_app", "state": "present", "image": "app:1",
        "command": ["serve", "--port", "8080"], "entrypoint": ["tini", "--"], "env": {"MODE": "prod"}, "secret_env": {},
        "workdir": "/srv", "user": "1000:1000", "hostname": "app",
        "labels": dict(marks, tier="app"), "container_labels": dict(marks, team="x"),
        "mode": "replicated", "replicas": 3,
        "networks": [{"name": "seed_front", "aliases": ["app", "api"]}, {"name": "seed_back", "aliases": ["app"]}],
        "endpoint_mode": "vip", "publish": [],
        "mounts": [
            {"type": "volume", "source": "seed_data", "target": "/data", "readonly": True, "volume_driver": "local",
             "volume_options": {"type": "nfs", "o": "addr=10.0.0.1", "device": ":/export"}, "volume_labels": None, "tmpfs_size": None,
             "tmpfs_mode": None, "volume_nocopy": False},
            {"type": "bind", "source": "/global/cfs/proj", "target": "/proj", "readonly": False,
             "volume_driver": None, "volume_options": None, "volume_labels": None, "tmpfs_size": None, "tmpfs_mode": None, "volume_nocopy": False},
            {"type": "volume", "source": "projects_shared", "target": "/shared", "readonly": False,
             "volume_driver": None, "volume_options": None, "volume_labels": None, "tmpfs_size": None, "tmpfs_mode": None, "volume_nocopy": False},
            {"type": "tmpfs", "source": None, "target": "/run", "readonly": False, "volume_driver": None,
             "volume_options": None, "volume_labels": None, "tmpfs_size": 16 * 1024 * 1024, "tmpfs_mode": 0o700, "volume_nocopy": False},
        ],
        "healthcheck": {"test": ["CMD", "/healthz"], "interval": "1m30s", "timeout": "500ms", "retries": 3,
                        "start_period": "10s"},
        "restart_policy": {"condition": "on-failure", "delay": "5s", "max_attempts": 3, "window": "2m"},
        "resources": {"limits": {"cpus": 0.5, "memory": 512 * 1024 * 1024, "pids": 100},
                      "reservations": {"cpus": None, "memory": 64 * 1024 * 1024}},
        "placement": {"constraints": ["node.role==worker"], "preferences": [{"spread": "node.labels.rack"}],
                      "max_replicas": 1},
        "update_config": {"parallelism": 2, "delay": "10s", "failure_action": "rollback", "monitor": "1m",
                          "max_failure_ratio": 0.5, "order": "start-first"},
        "rollback_config": {"parallelism": 1, "delay": None, "failure_action": None, "monitor": None,
                            "max_failure_ratio": None, "order": None},
        "secrets": [{"secret_name": "seed_pw_" + _sha10(b"hunter2"), "target": "pw", "uid": "0", "gid": "0",
                     "mode": 0o444},
                    {"secret_name": "site_cert", "target": "/etc/ext.pem", "uid": "33", "gid": "0", "mode": 0o400}],
        "configs": [{"config_name": "seed_conf_" + _sha10(b"key = value"), "target": "/conf", "uid": "0", "gid": "0",
                     "mode": 0o444}],
        "cap_add": ["NET_BIND_SERVICE"], "cap_drop": ["ALL"], "read_only": True, "init": True,
        "stop_grace_period": "1m", "stop_signal": "SIGINT",
        "logging": {"driver": "json-file", "options": {"max-size": "10m"}},
        "sysctls": {"net.core.somaxconn": "1024"},
        "ulimits": [{"name": "nofile", "soft": 20000, "hard": 40000}, {"name": "nproc", "soft": 65535, "hard": 65535}],
        "tty": True, "stdin_open": True, "image_volumes": True, "pin_to_data": True, "wait": True,
        "wait_timeout": 180, "monitor_window": 5,
    }
    assert tasks["networks"] == [
        {"name": "seed_front", "driver": "overlay", "internal": False, "attachable": False, "driver_opts": {},
         "labels": dict(OWNER, purpose="web")},
        {"name": "seed_back", "driver": "overlay", "internal": True, "attachable": False,
         "driver_opts": {"encrypted": ""}, "labels": OWNER}]
    assert tasks["volumes"] == [{"name": "seed_data", "driver": "local",
                                 "driver_opts": {"type": "nfs", "o": "addr=10.0.0.1", "device": ":/export"},
                                 "labels": OWNER}]
    assert tasks["secrets"] == [{"name": "seed_pw_" + _sha10(b"hunter2"),
                                 "data": base64.b64encode(b"hunter2").decode(), "labels": OWNER, "generate": False}]
    assert tasks["configs"] == [{"name": "seed_conf_" + _sha10(b"key = value"),
                                 "data": base64.b64encode(b"key = value").decode(), "labels": OWNER}]
    assert tasks["endpoints"] == [
        {"service": "seed_app", "compose_service": "app", "target": 8080, "published": 8080, "protocol": "tcp",
         "index": 0},
        {"service": "seed_app", "compose_service": "app", "target": 9090, "published": None, "protocol": "udp",
         "index": 1}]


def test_secret_names_change_with_content():
    text = "services: {s: {image: x, secrets: [pw]}}\nsecrets: {pw: {environment: PW}}\n"
    first = tasks_of(text, env={"PW": "one"})["secrets"][0]["name"]
    second = tasks_of(text, env={"PW": "two"})["secrets"][0]["name"]
    assert first != second and first.startswith("seed_pw_") and second.startswith("seed_pw_")
    assert tasks_of(text, env={"PW": "one"})["secrets"][0]["name"] == first


def test_link_aliases_go_on_the_target_attachments():
    text = "services:\n  web: {image: x, links: ['db:database', 'cache']}\n  cron: {image: x, links: ['db:mysql']}\n" \
           "  db: {image: x, networks: {default: {aliases: [primary]}}}\n  cache: {image: x}\n"
    tasks = tasks_of(text)
    assert service(tasks, "seed_db")["networks"] == [{"name": "seed_default",
                                                      "aliases": ["db", "primary", "database", "mysql"]}]
    assert service(tasks, "seed_cache")["networks"] == [{"name": "seed_default", "aliases": ["cache"]}]


@pytest.mark.parametrize("deploy, platform, expected", [
    ("", None, "dnsrr"),
    ("", {"endpoint_mode": "vip"}, "vip"),
    ("deploy: {endpoint_mode: vip}", None, "vip"),
    ("deploy: {endpoint_mode: dnsrr}", {"endpoint_mode": "vip"}, "dnsrr"),
])
def test_endpoint_mode(deploy, platform, expected):
    text = "services:\n  s:\n    image: x\n    %s\n" % deploy
    assert tasks_of(text, platform=platform)["services"][0]["endpoint_mode"] == expected


def test_platform_wait_defaults():
    params = tasks_of("services: {s: {image: x}}", platform={"wait": False, "wait_timeout": 30})["services"][0]
    assert (params["wait"], params["wait_timeout"]) == (False, 30)


@pytest.mark.parametrize("text, expected", [
    ("services: {s: {image: x, deploy: {mode: global}}}", ("global", None)),
    ("services: {s: {image: x}}", ("replicated", 1)),
    ("services: {s: {image: x}}\n", ("replicated", 0)),
])
def test_mode_and_replicas(text, expected):
    rancher = "services: {s: {start_on_create: false}}" if text.endswith("\n") else None
    params = tasks_of(text, rancher)["services"][0]
    assert (params["mode"], params["replicas"]) == expected


def test_healthcheck_disable():
    params = tasks_of("services: {s: {image: x, healthcheck: {disable: true}}}")["services"][0]
    assert params["healthcheck"] == {"test": ["NONE"]}


def test_external_network_is_joined_not_created():
    tasks = tasks_of("services: {s: {image: x, networks: [proxy]}}\nnetworks: {proxy: {external: {name: traefik}}}")
    assert tasks["networks"] == []
    assert tasks["services"][0]["networks"] == [{"name": "traefik", "aliases": ["s"]}]


def test_owner_labels_always_win():
    model = model_of("services: {s: {image: x}}")
    model["services"]["s"]["labels"] = {"spin.tenant": "someone-else"}   # as if compose had not refused it
    model["services"]["s"]["deploy"]["labels"] = {"spin.stack": "other"}
    params = translate.stack_to_tasks(model, "nersc", "seed")["services"][0]
    assert params["labels"]["spin.stack"] == "seed" and params["container_labels"]["spin.tenant"] == "nersc"


# ---------------------------------------------------------------------------------------------
# start order

ORDER = [
    ("a: {depends_on: [b]}\n  b: {}", ["b", "a"]),
    ("a: {}\n  b: {}\n  c: {}", ["a", "b", "c"]),
    ("web: {links: [db]}\n  db: {}", ["db", "web"]),
    ("a: {depends_on: [c]}\n  b: {depends_on: [c]}\n  c: {}", ["c", "a", "b"]),
    ("a: {depends_on: [b, c]}\n  b: {links: [c]}\n  c: {depends_on: [d]}\n  d: {}", ["d", "c", "b", "a"]),
    ("a: {depends_on: {b: {condition: service_healthy}}}\n  b: {}\n  c: {depends_on: [a]}", ["b", "a", "c"]),
]


@pytest.mark.parametrize("services, expected", ORDER)
def test_start_order(services, expected):
    text = "services:\n  " + services.replace("{}", "{image: x}").replace("{depends", "{image: x, depends") \
        .replace("{links", "{image: x, links")
    tasks = tasks_of(text)
    assert [s["name"] for s in tasks["services"]] == ["seed_" + n for n in expected]


@pytest.mark.parametrize("deps, first, loop", [
    ({"a": ["b"], "b": ["a"]}, "a", "a -> b -> a"),
    ({"a": ["b"], "b": ["c"], "c": ["a"]}, "a", "a -> b -> c -> a"),
    ({"x": [], "a": ["b"], "b": ["c"], "c": ["b"]}, "b", "b -> c -> b"),   # a waits on the loop, is not in it
])
def test_cycle_is_an_error_naming_the_services(deps, first, loop):
    model = model_of("services:\n" + "".join("  %s: {image: x}\n" % n for n in deps))
    for name, targets in deps.items():
        model["services"][name]["depends_on"] = targets
    with pytest.raises(SpinError) as info:
        translate.stack_to_tasks(model, "nersc", "seed")
    assert info.value.diagnostics == [{
        "severity": "error", "file": "docker-compose.yml", "service": first, "key": "depends_on",
        "message": "services depend on each other in a loop: %s; remove one depends_on or link" % loop}]


# ---------------------------------------------------------------------------------------------
# what cannot be translated

@pytest.mark.parametrize("key, value, reason", [
    ("privileged", True, "Swarm cannot run privileged containers"),
    ("network_mode", "host", "Swarm services join networks; remove network_mode"),
    ("devices", [{"source": "/dev/kvm", "target": "/dev/kvm", "permissions": "rwm"}],
     "Swarm cannot give a service host devices"),
    ("pid", "host", "Swarm cannot share a PID namespace"),
    ("use_api_socket", True, "the Docker API is never given to a service"),
])
def test_keys_for_policy_never_pass_silently(key, value, reason):
    model = model_of("services: {s: {image: x}}")
    model["services"]["s"][key] = value
    with pytest.raises(SpinError) as info:
        translate.stack_to_tasks(model, "nersc", "seed")
    assert info.value.message == "the stack cannot be translated:\ndocker-compose.yml: service 's': key '%s': cannot be " \
                                 "translated: %s" % (key, reason)


@pytest.mark.parametrize("tenant, stack, message", [
    ("nersc", "Seed", "the stack name 'Seed' must be lower-case letters, digits, '_' and '-'"),
    ("", "seed", "the tenant name '' must be lower-case letters, digits, '_' and '-'"),
    ("nersc", "a b", "the stack name 'a b' must be lower-case letters, digits, '_' and '-'"),
])
def test_bad_names(tenant, stack, message):
    with pytest.raises(SpinError) as info:
        translate.stack_to_tasks(model_of("services: {s: {image: x}}"), tenant, stack)
    assert info.value.diagnostics[0]["message"] == message


def test_too_long_names():
    name = "s" * 60
    with pytest.raises(SpinError) as info:
        translate.stack_to_tasks(model_of("services: {%s: {image: x}}" % name), "nersc", "seed")
    assert info.value.diagnostics == [{
        "severity": "error", "file": "docker-compose.yml", "service": name, "key": None,
        "message": "'seed_%s' is longer than 63 characters: use a shorter stack or service name" % name}]


def test_undeclared_reference_in_a_hand_made_model():
    model = model_of("services: {s: {image: x}}")
    model["services"]["s"]["secrets"] = [{"source": "ghost", "target": "g", "uid": "0", "gid": "0", "mode": 0o444}]
    with pytest.raises(SpinError) as info:
        translate.stack_to_tasks(model, "nersc", "seed")
    assert info.value.diagnostics[0]["message"] == "secret 'ghost' is not declared under the top-level secrets"


# ---------------------------------------------------------------------------------------------
# the reviewable task file

def test_render_task_file():
    tasks = tasks_of(FULL, env={"PW": "hunter2"})
    text = translate.render_task_file(tasks, "nersc", "seed")
    assert text == translate.render_task_file(tasks, "nersc", "seed")
    assert "hunter2" not in text and base64.b64encode(b"hunter2").decode() not in text
    assert text.startswith("# Stack 'seed' of tenant 'nersc'")
    assert "#   8080/tcp -> seed_app:8080\n#   (any)/udp -> seed_app:9090\n" in text
    entries = yaml.safe_load(text)
    assert [(e["name"], [k for k in e if k != "name"][0]) for e in entries] == [
        ("Network seed_front", "spin.platform.spin_network"), ("Network seed_back", "spin.platform.spin_network"),
        ("Volume seed_data", "spin.platform.spin_volume"),
        ("Secret seed_pw_" + _sha10(b"hunter2"), "spin.platform.spin_secret"),
        ("Config seed_conf_" + _sha10(b"key = value"), "spin.platform.spin_config"),
        ("Service seed_app", "spin.platform.spin_service")]
    params = entries[-1]["spin.platform.spin_service"]
    assert tuple(params) == translate.SERVICE_PARAM_KEYS
    assert params == tasks["services"][0]
    secret = entries[3]["spin.platform.spin_secret"]
    assert secret["data"] == "<redacted: 7 bytes>"
    assert hashlib.sha256(b"hunter2").hexdigest()[:11] not in text
    assert entries[4]["spin.platform.spin_config"]["data"] == base64.b64encode(b"key = value").decode()


def test_the_review_file_keeps_a_tenants_template_as_text_when_ansible_reads_it(tmp_path):
    """The review file is run with ansible-playbook, which templates what a task file says: a tenant's
    {{ ... }} (value or key) must stay text there, while the file's own text is templated as usual."""
    import inspect

    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    hostile = "{{ lookup('pipe', 'id > %s') }}" % (tmp_path / "ran")
    model, diagnostics = compose.parse_stack(yaml.safe_dump({"services": {"web": {
        "image": "httpd", "environment": {"GREETING": hostile}, "labels": {"x{{ 1 }}": "{% raw %}"}}}}),
        "docker-compose.yml")
    assert not [d for d in diagnostics if d["severity"] == "error"]
    text = translate.render_task_file(translate.stack_to_tasks(model, "demo", "seed"), "demo", "seed")
    path = tmp_path / "seed.tasks.yml"
    path.write_text(text + "- name: the reviewer's own line\n  ansible.builtin.debug: {msg: '{{ 1 + 1 }}'}\n")
    loader = DataLoader()
    # read as a playbook's task file is read (ansible-core 2.19 trusts such files' text as templates)
    trusted = {"trusted_as_template": True} if "trusted_as_template" in inspect.signature(
        loader.load_from_file).parameters else {}
    tasks = loader.load_from_file(str(path), **trusted)
    templar = Templar(loader=loader)
    assert str(templar.template(tasks[-1]["ansible.builtin.debug"]["msg"])) == "2"   # the file's own text is templated
    params = next(t["spin.platform.spin_service"] for t in tasks if "spin.platform.spin_service" in t)
    assert templar.template(params["env"]["GREETING"]) == hostile
    assert templar.template(params["container_labels"])["x{{ 1 }}"] == "{% raw %}"
    assert not (tmp_path / "ran").exists()
    assert "GREETING: !unsafe '{{ lookup(''pipe'', ''id > " in text
