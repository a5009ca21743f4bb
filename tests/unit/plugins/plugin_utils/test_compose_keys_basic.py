"""compose_keys_basic, through parse_stack: the command line, environment, labels, user, hostname,
capabilities, ulimits, build, the compose v2 resources and the keys carried for policy (input -> model,
and the exact diagnostics)."""
import pytest

from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import (
    GiB, MiB, S, check_error, check_supported_key, check_warning, messages, parse, service_doc)


SUPPORTED = [
    ("image: httpd:2.4", "image", "httpd:2.4"),
    ("command: httpd -X 'a b'", "command", ["httpd", "-X", "a b"]),
    ("command: [echo, 1]", "command", ["echo", "1"]),
    ("command: []", "command", []),
    ("entrypoint: /bin/sh -c", "entrypoint", ["/bin/sh", "-c"]),
    ("entrypoint: [/bin/sh, -c]", "entrypoint", ["/bin/sh", "-c"]),
    ("environment: {A: 1, B: true, C: x, D: ''}", "environment", {"A": "1", "B": "true", "C": "x", "D": ""}),
    ("environment: [A=1, B=x=y, C=]", "environment", {"A": "1", "B": "x=y", "C": ""}),
    ("environment: [FROM_ENV]", "environment", {"FROM_ENV": "v"}),
    ("environment: {FROM_ENV: null}", "environment", {"FROM_ENV": "v"}),
    ("labels: {a: b, n: 1}", "labels", {"a": "b", "n": "1"}),
    ("labels: [a=b, c]", "labels", {"a": "b", "c": ""}),
    ("image: img", "networks", {"default": {"aliases": []}}),
    ("user: 1000", "user", "1000"),
    ("user: '1000:1000'", "user", "1000:1000"),
    ("working_dir: /srv", "working_dir", "/srv"),
    ("hostname: web-1", "hostname", "web-1"),
    ("hostname: 'web-{{.Task.Slot}}'", "hostname", "web-{{.Task.Slot}}"),
    ("hostname: '{{ .Node.Hostname }}-web'", "hostname", "{{ .Node.Hostname }}-web"),
    ("mem_limit: 1g", "deploy.resources.limits.memory", GiB),
    ("mem_reservation: 256m", "deploy.resources.reservations.memory", 256 * MiB),
    ("cpus: 1.5", "deploy.resources.limits.cpus", 1.5),
    ("pids_limit: 200", "deploy.resources.limits.pids", 200),
    ("mem_limit: 1g\ndeploy: {resources: {limits: {memory: 1024m}}}", "deploy.resources.limits.memory", GiB),
    ("scale: 4", "deploy.replicas", 4),
    ("cap_add: [net_admin, CAP_SYS_TIME]", "cap_add", ["NET_ADMIN", "SYS_TIME"]),
    ("cap_drop: [ALL]", "cap_drop", ["ALL"]),
    ("read_only: true", "read_only", True),
    ("read_only: 'yes'", "read_only", True),
    ("init: true", "init", True),
    ("stop_grace_period: 1m30s", "stop_grace_period", 90 * S),
    ("stop_signal: SIGQUIT", "stop_signal", "SIGQUIT"),
    ("sysctls: {net.core.somaxconn: 1024}", "sysctls", {"net.core.somaxconn": "1024"}),
    ("sysctls: [net.ipv4.tcp_syncookies=0]", "sysctls", {"net.ipv4.tcp_syncookies": "0"}),
    # carried so that policy can refuse them by name
    ("privileged: true", "privileged", True),
    ("devices: ['/dev/fuse']", "devices", [{"source": "/dev/fuse", "target": "/dev/fuse", "permissions": "rwm"}]),
    ("devices: ['/dev/sda:/dev/xvda:r']", "devices", [{"source": "/dev/sda", "target": "/dev/xvda",
                                                       "permissions": "r"}]),
    ("devices: [{source: /dev/kvm}]", "devices", [{"source": "/dev/kvm", "target": "/dev/kvm",
                                                   "permissions": "rwm"}]),
    ("network_mode: host", "network_mode", "host"),
    ("pid: host", "pid", "host"),
    ("ipc: host", "ipc", "host"),
    ("userns_mode: host", "userns_mode", "host"),
    ("security_opt: [seccomp=unconfined]", "security_opt", ["seccomp=unconfined"]),
    ("cgroup_parent: /evil", "cgroup_parent", "/evil"),
    ("volumes_from: ['container:other']", "volumes_from", ["container:other"]),
    ("uts: host", "uts", "host"),
    ("cgroup: host", "cgroup", "host"),
    ("device_cgroup_rules: ['a *:* rwm']", "device_cgroup_rules", ["a *:* rwm"]),
    ("external_links: [other_db]", "external_links", ["other_db"]),
    ("use_api_socket: true", "use_api_socket", True),
]


@pytest.mark.parametrize("body, path, expected", SUPPORTED)
def test_supported_key(body, path, expected):
    check_supported_key(body, path, expected)


ERRORS = [
    ("image: null", ["key 'image': must be an image name, not empty (null)"]),
    ("image: 'my image'", ["key 'image': 'my image' is not an image name: it contains white space"]),
    ("command: \"echo 'x\"", ["key 'command': cannot be split like a shell command line (No closing quotation): "
                              "check the quotes"]),
    ("command: {a: 1}", ["key 'command': must be a list of strings, not a mapping"]),
    ("environment: A=1", ["key 'environment': must be a mapping or a list of KEY=VALUE, not a string"]),
    ("environment: {A: [1]}", ["key 'environment': values must be strings, numbers or true/false, not a list"]),
    ("network_mode: host\nnetworks: [front]", ["key 'network_mode': cannot be combined with networks: remove one of "
                                               "them"]),
    ("user: [1]", ["key 'user': must be a string, not a list"]),
    ("working_dir: srv", ["key 'working_dir': must be an absolute path (starting with /), not 'srv'"]),
    ("hostname: 'a b'", ["key 'hostname': 'a b' is not a host name: use letters, digits, '-' and '.'"]),
    # Swarm's DNS answers tasks.<service or alias> with task addresses; a host name registers as it is on
    # every network of the container, the load balancer's too, where the edge resolves tasks.<alias>
    ("hostname: tasks.spin-be-0123", ["key 'hostname': 'tasks.spin-be-0123' is in Swarm's DNS names for a "
                                      "service's tasks (tasks.<name>): choose a host name that does not start "
                                      "with 'tasks.'"]),
    ("hostname: TASKS.web", ["key 'hostname': 'TASKS.web' is in Swarm's DNS names for a service's tasks "
                             "(tasks.<name>): choose a host name that does not start with 'tasks.'"]),
    # a template would give a name the checks never saw
    ("hostname: '{{\"tasks.spin-be-0123\"}}'",
     ["key 'hostname': '{{\"tasks.spin-be-0123\"}}' is not a host name: a template may use only {{.Service.Name}}, "
      "{{.Service.ID}}, {{.Node.Hostname}}, {{.Node.ID}}, {{.Task.Name}}, {{.Task.ID}} and {{.Task.Slot}}"]),
    ("hostname: '{{index .Service.Labels \"h\"}}'",
     ["key 'hostname': '{{index .Service.Labels \"h\"}}' is not a host name: a template may use only "
      "{{.Service.Name}}, {{.Service.ID}}, {{.Node.Hostname}}, {{.Node.ID}}, {{.Task.Name}}, {{.Task.ID}} and "
      "{{.Task.Slot}}"]),
    ("hostname: 'tasks.{{.Task.Slot}}'", ["key 'hostname': 'tasks.{{.Task.Slot}}' is in Swarm's DNS names for a "
                                          "service's tasks (tasks.<name>): choose a host name that does not start "
                                          "with 'tasks.'"]),
    ("labels: {spin.tenant: evil}", ["key 'labels': label 'spin.tenant' is reserved for the platform "
                                     "(spin.*, com.docker.stack.*): rename it"]),
    ("mem_limit: 1g\ndeploy: {resources: {limits: {memory: 2g}}}",
     ["key 'deploy.resources.limits.memory': '2g' conflicts with 'mem_limit' = '1g': give the value once"]),
    ("scale: 2\ndeploy: {replicas: 3}", ["key 'deploy.replicas': 3 conflicts with 'scale' = 2: give the value once"]),
    ("scale: -2", ["key 'scale': must be 0 or more, not -2"]),
    ("cap_add: NET_ADMIN", ["key 'cap_add': must be a list of strings, not a string"]),
    ("read_only: maybe", ["key 'read_only': must be true or false, not 'maybe'"]),
    ("stop_grace_period: '10'", ["key 'stop_grace_period': '10' is not a duration (write it like 30s, 1m30s or "
                                 "500ms)"]),
    ("sysctls: [net.core.somaxconn]", ["key 'sysctls.net.core.somaxconn': has no value: write "
                                       "net.core.somaxconn=VALUE"]),
    ("build: .\nimage: null", ["key 'image': must be an image name, not empty (null)"]),
    ("build: /srv/app\nimage: null", ["key 'build.context': '/srv/app' is outside the submission directory: give a "
                                      "directory relative to the compose file, inside it",
                                      "key 'image': must be an image name, not empty (null)"]),
    ("build: {context: ../app, privileged: true}", [
        "key 'build.privileged': not supported on spin.platform: builds never run privileged",
        "key 'build.context': '../app' is outside the submission directory: give a directory relative to the "
        "compose file, inside it"]),
    ("build: {context: git://example.org/app.git}", [
        "key 'build.context': 'git://example.org/app.git' is a remote context: the platform builds only from the "
        "submission directory and fetches nothing; download it into the submission directory and give that "
        "directory as build.context"]),
    ("build: {contxt: app}", ["key 'build.contxt': unknown key (build knows additional_contexts, args, cache_from, "
                              "cache_to, context, dockerfile, dockerfile_inline, entitlements, extra_hosts, isolation, "
                              "labels, network, no_cache, platforms, privileged, pull, secrets, shm_size, ssh, tags, "
                              "target, ulimits)"]),
    ("build: {dockerfile: a, dockerfile_inline: 'FROM x'}",
     ["key 'build.dockerfile_inline': give dockerfile or dockerfile_inline, not both"]),
    ("devices: [{path: /dev/x}]", ["key 'devices': a device mapping has source, target and permissions"]),
]


@pytest.mark.parametrize("body, expected", ERRORS)
def test_error(body, expected):
    check_error(body, expected)


WARNINGS = [
    ("build: .", "key 'image': warning: 'img' does not name the built image: the platform tags what it builds "
                 "<registry>/<tenant>/<stack>-s:<content hash>"),
]


@pytest.mark.parametrize("body, expected", WARNINGS)
def test_warning(body, expected):
    check_warning(body, expected)


def test_environment_key_without_value_is_dropped_with_a_warning():
    model, diagnostics = parse(service_doc("environment: [A=1, UNSET]"))
    assert model["services"]["s"]["environment"] == {"A": "1"}
    assert messages(diagnostics, "warning") == [
        "docker-compose.yml: service 's': key 'environment.UNSET': warning: has no value and the stack's variables "
        "do not set it: dropped"]


def test_build_is_normalised():
    model, diagnostics = parse("services:\n  s:\n    build:\n      context: ./app/\n      args: [A=1, B, C]\n"
                               "      target: prod\n      cache_from: [x]\n", env={"B": "from-env"})
    assert messages(diagnostics) == []
    assert messages(diagnostics, "warning") == [
        "docker-compose.yml: service 's': key 'build.cache_from': warning: ignored on spin.platform: the platform's "
        "builder uses its own cache"]
    assert model["services"]["s"]["image"] is None
    assert model["services"]["s"]["build"] == {
        "context": "app", "dockerfile": "Dockerfile", "dockerfile_inline": None, "args": {"A": "1", "B": "from-env"},
        "target": "prod", "labels": {}, "network": None, "secrets": [], "ssh": []}
