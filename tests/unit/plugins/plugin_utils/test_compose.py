import base64
import json
import os
import re
import textwrap

import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.plugins.plugin_utils import compose_text
from ansible_collections.spin.platform.plugins.plugin_utils import compose_checks
from ansible_collections.spin.platform.plugins.plugin_utils import compose_keys_deploy
from ansible_collections.spin.platform.plugins.plugin_utils import compose_values
from ansible_collections.spin.platform.plugins.module_utils import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.errors import SpinError

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
SEED = os.path.join(ROOT, "examples", "seed")
GiB, MiB = 1024 ** 3, 1024 ** 2
S = 10 ** 9


def parse(text, rancher=None, read_file=None, env=None):
    return compose.parse_stack(text, "docker-compose.yml", rancher, "rancher-compose.yml" if rancher else None,
                               read_file=read_file, env=env)


def service_doc(body, extra=""):
    """A compose file with service 's' (image 'img') plus ``body`` (YAML under the service), a
    service 'db', and ``extra`` top-level YAML."""
    body = textwrap.dedent(body)
    image = "" if re.search(r"(?m)^image:", body) else "image: img\n"
    return "services:\n  s:\n%s\n  db:\n    image: db\n%s" % (
        textwrap.indent(image + body, "    "), textwrap.dedent(extra))


def messages(diagnostics, severity="error"):
    return [diag.format_diagnostic(d) for d in diagnostics if d["severity"] == severity]


def dig(data, path):
    for part in path.split("."):
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data


DECLARED = """
volumes: {data: {}}
networks: {front: {}, back: {}}
secrets: {pw: {environment: PW}, cert: {external: true}}
configs: {conf: {content: hello}}
"""


# ---------------------------------------------------------------------------------------------
# each supported key: input -> model

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
    ("ports: ['8080:80']", "ports", [{"target": 80, "published": 8080, "protocol": "tcp", "mode": "ingress"}]),
    ("ports: [80]", "ports", [{"target": 80, "published": None, "protocol": "tcp", "mode": "ingress"}]),
    ("ports: ['80']", "ports", [{"target": 80, "published": None, "protocol": "tcp", "mode": "ingress"}]),
    ("ports: ['10.0.0.5:53:53/udp']", "ports", [{"target": 53, "published": 53, "protocol": "udp",
                                                 "mode": "ingress"}]),
    ("ports: ['0.0.0.0::80']", "ports", [{"target": 80, "published": None, "protocol": "tcp", "mode": "ingress"}]),
    # bound to the host's loopback: Compose publishes it to the host only, spin.platform not at all
    ("ports: ['[::1]:8080:80', '127.0.0.1:53:53/udp']", "ports", []),
    ("ports: ['[::1]:8080:80', '127.0.0.1:53:53/udp']", "loopback_ports", [80, 53]),
    ("ports: ['9000-9001:8000-8001']", "ports",
     [{"target": 8000, "published": 9000, "protocol": "tcp", "mode": "ingress"},
      {"target": 8001, "published": 9001, "protocol": "tcp", "mode": "ingress"}]),
    ("ports: ['8000-8001']", "ports", [{"target": 8000, "published": None, "protocol": "tcp", "mode": "ingress"},
                                       {"target": 8001, "published": None, "protocol": "tcp", "mode": "ingress"}]),
    ("ports: [{target: 80, published: '8080', protocol: udp, mode: host}]", "ports",
     [{"target": 80, "published": 8080, "protocol": "udp", "mode": "host"}]),
    ("ports: [{target: 80}]", "ports", [{"target": 80, "published": None, "protocol": "tcp", "mode": "ingress"}]),
    ("expose: [3000, '4000/tcp', '5000-5001']", "expose", [3000, 4000, 5000, 5001]),
    ("volumes: ['data:/var/lib/data']", "volumes",
     [{"type": "volume", "source": "data", "target": "/var/lib/data", "read_only": False, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("volumes: ['data:/d:ro']", "volumes.0.read_only", True),
    ("volumes: ['/global/cfs:/cfs:rw']", "volumes",
     [{"type": "bind", "source": "/global/cfs", "target": "/cfs", "read_only": False, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("volumes: [/anon]", "volumes",
     [{"type": "volume", "source": None, "target": "/anon", "read_only": False, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("volumes: [{type: volume, source: data, target: /d, read_only: true}]", "volumes",
     [{"type": "volume", "source": "data", "target": "/d", "read_only": True, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("volumes: [{type: bind, source: /srv, target: /d}]", "volumes.0.source", "/srv"),
    ("volumes: [{type: tmpfs, target: /t, tmpfs: {size: 64m, mode: 01777}}]", "volumes",
     [{"type": "tmpfs", "source": None, "target": "/t", "read_only": False, "tmpfs_size": 64 * MiB,
       "tmpfs_mode": 0o1777, "nocopy": False}]),
    ("tmpfs: /run", "volumes",
     [{"type": "tmpfs", "source": None, "target": "/run", "read_only": False, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("tmpfs: ['/run:size=10m,mode=0700', /tmp]", "volumes",
     [{"type": "tmpfs", "source": None, "target": "/run", "read_only": False, "tmpfs_size": 10 * MiB,
       "tmpfs_mode": 0o700, "nocopy": False},
      {"type": "tmpfs", "source": None, "target": "/tmp", "read_only": False, "tmpfs_size": None,
       "tmpfs_mode": None, "nocopy": False}]),
    ("networks: [front, back]", "networks", {"front": {"aliases": []}, "back": {"aliases": []}}),
    ("networks: {front: {aliases: [www]}, back: null}", "networks", {"front": {"aliases": ["www"]},
                                                                     "back": {"aliases": []}}),
    ("image: img", "networks", {"default": {"aliases": []}}),
    ("links: [db]", "links", {"db": ["db"]}),
    ("links: ['db:database']", "links", {"db": ["database"]}),
    ("links: [db, 'db:database']", "links", {"db": ["db", "database"]}),
    ("links: [db]", "depends_on", []),
    ("depends_on: [db]", "depends_on", ["db"]),
    ("depends_on: {db: {condition: service_healthy}}", "depends_on", ["db"]),
    ("healthcheck: {test: curl -f http://x, interval: 30s, timeout: 5s, retries: 3, start_period: 1m}",
     "healthcheck", {"test": ["CMD-SHELL", "curl -f http://x"], "interval": 30 * S, "timeout": 5 * S,
                     "retries": 3, "start_period": 60 * S}),
    ("healthcheck: {test: [CMD, curl, -f, http://x]}", "healthcheck",
     {"test": ["CMD", "curl", "-f", "http://x"], "interval": None, "timeout": None, "retries": None,
      "start_period": None}),
    ("healthcheck: {disable: true}", "healthcheck", {"disable": True}),
    ("healthcheck: {test: [NONE]}", "healthcheck", {"disable": True}),
    ("restart: no", "restart_policy", {"condition": "none", "delay": None, "max_attempts": None, "window": None}),
    ("restart: always", "restart_policy.condition", "any"),
    ("restart: unless-stopped", "restart_policy.condition", "any"),
    ("restart: on-failure", "restart_policy", {"condition": "on-failure", "delay": None, "max_attempts": None,
                                               "window": None}),
    ("restart: on-failure:3", "restart_policy.max_attempts", 3),
    ("user: 1000", "user", "1000"),
    ("user: '1000:1000'", "user", "1000:1000"),
    ("working_dir: /srv", "working_dir", "/srv"),
    ("hostname: web-1", "hostname", "web-1"),
    ("hostname: 'web-{{.Task.Slot}}'", "hostname", "web-{{.Task.Slot}}"),
    ("hostname: '{{ .Node.Hostname }}-web'", "hostname", "{{ .Node.Hostname }}-web"),
    ("deploy: {mode: global}", "deploy.mode", "global"),
    ("deploy: {mode: global}", "deploy.replicas", None),
    ("deploy: {replicas: 3}", "deploy.replicas", 3),
    ("deploy: {replicas: '0'}", "deploy.replicas", 0),
    ("deploy: {labels: [a=b]}", "deploy.labels", {"a": "b"}),
    ("deploy: {endpoint_mode: vip}", "deploy.endpoint_mode", "vip"),
    ("deploy: {resources: {limits: {cpus: '0.5', memory: 512M, pids: 100}, reservations: {cpus: 0.25, "
     "memory: 64m}}}", "deploy.resources",
     {"limits": {"cpus": 0.5, "memory": 512 * MiB, "pids": 100}, "reservations": {"cpus": 0.25, "memory": 64 * MiB}}),
    ("deploy: {placement: {constraints: ['node.role==worker'], preferences: [{spread: node.labels.zone}], "
     "max_replicas_per_node: 2}}", "deploy.placement",
     {"constraints": ["node.role==worker"], "preferences": [{"spread": "node.labels.zone"}],
      "max_replicas_per_node": 2}),
    ("deploy: {update_config: {parallelism: 2, delay: 10s, failure_action: rollback, monitor: 1m, "
     "max_failure_ratio: 0.1, order: start-first}}", "deploy.update_config",
     {"parallelism": 2, "delay": 10 * S, "failure_action": "rollback", "monitor": 60 * S, "max_failure_ratio": 0.1,
      "order": "start-first"}),
    ("deploy: {rollback_config: {parallelism: 1, failure_action: pause}}", "deploy.rollback_config",
     {"parallelism": 1, "delay": None, "failure_action": "pause", "monitor": None, "max_failure_ratio": None,
      "order": None}),
    ("deploy: {restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3, window: 2m}}", "restart_policy",
     {"condition": "on-failure", "delay": 5 * S, "max_attempts": 3, "window": 120 * S}),
    ("deploy: {restart_policy: {}}", "restart_policy.condition", "any"),
    ("mem_limit: 1g", "deploy.resources.limits.memory", GiB),
    ("mem_reservation: 256m", "deploy.resources.reservations.memory", 256 * MiB),
    ("cpus: 1.5", "deploy.resources.limits.cpus", 1.5),
    ("pids_limit: 200", "deploy.resources.limits.pids", 200),
    ("mem_limit: 1g\ndeploy: {resources: {limits: {memory: 1024m}}}", "deploy.resources.limits.memory", GiB),
    ("scale: 4", "deploy.replicas", 4),
    ("secrets: [pw]", "secrets", [{"source": "pw", "target": "pw", "uid": "0", "gid": "0", "mode": 0o444}]),
    ("secrets: [{source: cert, target: /etc/c.pem, uid: '33', gid: 33, mode: 0400}]", "secrets",
     [{"source": "cert", "target": "/etc/c.pem", "uid": "33", "gid": "33", "mode": 0o400}]),
    ("secrets: [{source: cert, mode: '0440'}]", "secrets.0.mode", 0o440),
    ("configs: [conf]", "configs", [{"source": "conf", "target": "/conf", "uid": "0", "gid": "0", "mode": 0o444}]),
    ("configs: [{source: conf, target: /etc/app.conf}]", "configs.0.target", "/etc/app.conf"),
    ("cap_add: [net_admin, CAP_SYS_TIME]", "cap_add", ["NET_ADMIN", "SYS_TIME"]),
    ("cap_drop: [ALL]", "cap_drop", ["ALL"]),
    ("read_only: true", "read_only", True),
    ("read_only: 'yes'", "read_only", True),
    ("init: true", "init", True),
    ("stop_grace_period: 1m30s", "stop_grace_period", 90 * S),
    ("stop_signal: SIGQUIT", "stop_signal", "SIGQUIT"),
    ("logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}", "logging",
     {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}),
    ("log_driver: syslog\nlog_opt: {tag: web}", "logging", {"driver": "syslog", "options": {"tag": "web"}}),
    ("log_driver: syslog", "logging", {"driver": "syslog", "options": {}}),
    ("sysctls: {net.core.somaxconn: 1024}", "sysctls", {"net.core.somaxconn": "1024"}),
    ("sysctls: [net.ipv4.tcp_syncookies=0]", "sysctls", {"net.ipv4.tcp_syncookies": "0"}),
    ("x-note: anything", "image", "img"),
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
    model, diagnostics = parse(service_doc(body, DECLARED), env={"FROM_ENV": "v", "PW": "secret"})
    assert messages(diagnostics) == []
    assert dig(model["services"]["s"], path) == expected


def test_every_model_service_has_every_key():
    model, diagnostics = parse(service_doc("", DECLARED), env={"PW": "x"})
    assert diagnostics == []
    assert set(model["services"]["s"]) == set(compose.empty_service())
    json.dumps(model)  # plain data only: it crosses to the target as module arguments


def test_environment_key_without_value_is_dropped_with_a_warning():
    model, diagnostics = parse(service_doc("environment: [A=1, UNSET]"))
    assert model["services"]["s"]["environment"] == {"A": "1"}
    assert messages(diagnostics, "warning") == [
        "docker-compose.yml: service 's': key 'environment.UNSET': warning: has no value and the stack's variables "
        "do not set it: dropped"]


# ---------------------------------------------------------------------------------------------
# errors: input -> the exact diagnostics, all of them at once

ERRORS = [
    ("imagee: x", ["key 'imagee': unknown key (did you mean 'image'?)"]),
    ("enviroment: {}", ["key 'enviroment': unknown key (did you mean 'environment'?)"]),
    ("frobnicate: 1", ["key 'frobnicate': unknown key"]),
    ("image: null", ["key 'image': must be an image name, not empty (null)"]),
    ("image: 'my image'", ["key 'image': 'my image' is not an image name: it contains white space"]),
    ("command: \"echo 'x\"", ["key 'command': cannot be split like a shell command line (No closing quotation): "
                              "check the quotes"]),
    ("command: {a: 1}", ["key 'command': must be a list of strings, not a mapping"]),
    ("environment: A=1", ["key 'environment': must be a mapping or a list of KEY=VALUE, not a string"]),
    ("environment: {A: [1]}", ["key 'environment': values must be strings, numbers or true/false, not a list"]),
    ("ports: '80:80'", ["key 'ports': must be a list, not a string"]),
    ("ports: [x]", ["key 'ports[0]': 'x' is not a port mapping: write it like 8080:80, 80 or 127.0.0.1:8080:80/udp"]),
    ("ports: ['70000:80']", ["key 'ports[0]': must be 65535 or less, not 70000"]),
    ("ports: ['80:80/tcpx']", ["key 'ports[0]': must be one of tcp, udp, sctp, not 'tcpx' (did you mean 'tcp'?)"]),
    ("ports: ['80-82:90']", ["key 'ports[0]': '80-82:90': the published and container port ranges must have the "
                             "same length"]),
    ("ports: ['1-200']", ["key 'ports[0]': port range '1-200' has more than 100 ports"]),
    ("ports: [{published: 80}]", ["key 'ports[0]': needs a target (the container port)"]),
    ("ports: [{target: 80, mode: bridge}]", ["key 'ports[0].mode': must be one of ingress, host, not 'bridge'"]),
    ("ports: [{target: 80, publish: 80}]", ["key 'ports[0].publish': unknown key (did you mean 'published'?)"]),
    ("expose: [http]", ["key 'expose[0]': must be a port number, not 'http'"]),
    ("volumes: ['~/data:/x']", ["key 'volumes[0]': bind mount of '~/data' (a home directory) is not supported: "
                                "the service may run on any node; use a named volume, or a file of the submission "
                                "directory (./file) for a configuration file"]),
    ("volumes: ['data']", ["key 'volumes[0]': the path in the container must be an absolute path (starting with /), "
                           "not 'data'"]),
    ("volumes: ['data:/x:rx']", ["key 'volumes[0]': 'data:/x:rx': unknown volume option 'rx' (use ro or rw)"]),
    ("volumes: ['nope:/x']", ["key 'volumes[0]': volume 'nope' is not declared under the top-level volumes: add "
                              "it there"]),
    ("volumes: [{type: npipe, source: x, target: /x}]",
     ["key 'volumes[0].type': type 'npipe' is not supported on spin.platform: use volume, bind or tmpfs"]),
    ("volumes: [{source: data, target: /x}]", ["key 'volumes[0]': needs a type: volume, bind or tmpfs"]),
    ("volumes: [{type: bind, target: /x}]",
     ["key 'volumes[0].source': a bind mount needs a source (an absolute host path, or a file of the submission "
      "like ./nginx.conf)"]),
    ("volumes: [{type: tmpfs, source: x, target: /x}]", ["key 'volumes[0].source': a tmpfs mount has no source"]),
    ("volumes: [{type: volume, target: /x, tmpfs: {size: 1m}}]",
     ["key 'volumes[0].tmpfs': only applies to type tmpfs, and this volume is type volume"]),
    ("volumes: [{type: volume, source: data, target: /x, volume: {subpath: a}}]",
     ["key 'volumes[0].volume.subpath': not supported on spin.platform: volume subpaths need a newer engine; "
      "mount the volume and use a subdirectory"]),
    ("tmpfs: ['/run:size=lots']", ["key 'tmpfs[0]': 'lots' is not a size (write it like 512M or 2G)"]),
    ("networks: [nonet]", ["key 'networks.nonet': network 'nonet' is not declared under the top-level networks "
                           "(did you mean 'front'?)"]),
    ("networks: [xyz]", ["key 'networks.xyz': network 'xyz' is not declared under the top-level networks"]),
    ("networks: {front: {ipv4_address: 10.0.0.5}}",
     ["key 'networks.front.ipv4_address': not supported on spin.platform: Swarm assigns the addresses; reach the "
      "service by its name"]),
    ("networks: {front: {aliase: [x]}}", ["key 'networks.front.aliase': unknown key (did you mean 'aliases'?)"]),
    ("network_mode: host\nnetworks: [front]", ["key 'network_mode': cannot be combined with networks: remove one of "
                                               "them"]),
    ("links: ['db:a b']", ["key 'links': 'a b' is not a network alias: use letters, digits, '_', '.' and '-'"]),
    ("links: [dbb]", ["key 'links': service 'dbb' does not exist (did you mean 'db'?)"]),
    ("links: [s]", ["key 'links': a service cannot link to itself"]),
    ("depends_on: [dbx]", ["key 'depends_on': service 'dbx' does not exist (did you mean 'db'?)"]),
    ("depends_on: {db: {condition: sometimes}}",
     ["key 'depends_on.db.condition': must be one of service_started, service_healthy, "
      "service_completed_successfully, not 'sometimes'"]),
    ("depends_on: 'db'", ["key 'depends_on': must be a list of service names or a mapping, not a string"]),
    ("healthcheck: {test: [curl, x]}", ["key 'healthcheck.test': a list must start with CMD, CMD-SHELL or NONE, "
                                        "like [CMD, curl, -f, http://localhost]"]),
    ("healthcheck: {test: [CMD]}", ["key 'healthcheck.test': CMD needs a command after it"]),
    ("healthcheck: {test: x, interval: 10}", ["key 'healthcheck.interval': must be a duration with a unit, like "
                                              "10s, not the number 10"]),
    ("healthcheck: {test: x, interval: '10'}", ["key 'healthcheck.interval': '10' is not a duration (write it like "
                                                "30s, 1m30s or 500ms)"]),
    ("healthcheck: {test: x, retries: -1}", ["key 'healthcheck.retries': must be 0 or more, not -1"]),
    ("healthcheck: {test: x, tset: x}", ["key 'healthcheck.tset': unknown key (did you mean 'test'?)"]),
    ("restart: sometimes", ["key 'restart': must be no, always, on-failure[:N] or unless-stopped, not 'sometimes'"]),
    ("restart: on-failure:x", ["key 'restart': must be a number of attempts, not 'x'"]),
    ("restart: allways", ["key 'restart': must be no, always, on-failure[:N] or unless-stopped, not 'allways' "
                          "(did you mean 'always'?)"]),
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
                                     "(spin./com.docker.stack.*): rename it"]),
    ("deploy: {labels: {com.docker.stack.namespace: x}}",
     ["key 'deploy.labels': label 'com.docker.stack.namespace' is reserved for the platform "
      "(spin./com.docker.stack.*): rename it"]),
    ("deploy: {replicas: -1}", ["key 'deploy.replicas': must be 0 or more, not -1"]),
    ("deploy: {replicas: two}", ["key 'deploy.replicas': must be a number of replicas, not 'two'"]),
    ("deploy: {replicas: [1]}", ["key 'deploy.replicas': must be a number of replicas, not a list"]),
    ("deploy: {mode: gloabl}", ["key 'deploy.mode': must be one of replicated, global, replicated-job, global-job, "
                                "not 'gloabl' (did you mean 'global'?)"]),
    ("deploy: {mode: global, replicas: 2}", ["key 'deploy.mode': a global service runs one task per node: remove "
                                             "replicas/scale"]),
    ("deploy: {endpoint_mode: ipvs}", ["key 'deploy.endpoint_mode': must be one of vip, dnsrr, not 'ipvs'"]),
    ("deploy: {replica: 2}", ["key 'deploy.replica': unknown key (did you mean 'replicas'?)"]),
    ("deploy: 3", ["key 'deploy': must be a mapping, not a number"]),
    ("deploy: {resources: {limits: {memory: lots, cpus: many}}}",
     ["key 'deploy.resources.limits.memory': 'lots' is not a size (write it like 512M or 2G)",
      "key 'deploy.resources.limits.cpus': 'many' is not a number of CPUs (write it like 0.5 or 2)"]),
    ("deploy: {resources: {limits: {cpus: -1}}}",
     ["key 'deploy.resources.limits.cpus': '-1' is not a number of CPUs: it must not be negative"]),
    ("deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}",
     ["key 'deploy.resources.reservations.devices': not supported on spin.platform: the platform has no devices "
      "to reserve (GPUs)"]),
    ("deploy: {resources: {limit: {}}}", ["key 'deploy.resources.limit': unknown key (did you mean 'limits'?)"]),
    ("deploy: {placement: {constraints: [bad]}}", ["key 'deploy.placement.constraints': 'bad' is not a constraint "
                                                   "Swarm reads: write it like node.labels.zone == a (a key, == or "
                                                   "!=, a value of letters, digits and - _ . : /)"]),
    ("deploy: {placement: {preferences: [node.labels.x]}}",
     ["key 'deploy.placement.preferences': each preference is a mapping like {spread: node.labels.zone}"]),
    ("deploy: {update_config: {order: sideways}}",
     ["key 'deploy.update_config.order': must be one of start-first, stop-first, not 'sideways'"]),
    ("deploy: {update_config: {delay: '10'}}", ["key 'deploy.update_config.delay': '10' is not a duration (write it "
                                                "like 30s, 1m30s or 500ms)"]),
    ("deploy: {update_config: {max_failure_ratio: 2}}",
     ["key 'deploy.update_config.max_failure_ratio': must be between 0 and 1, not 2"]),
    ("deploy: {rollback_config: {failure_action: rollback}}",
     ["key 'deploy.rollback_config.failure_action': must be one of continue, pause, not 'rollback'"]),
    ("deploy: {restart_policy: {condition: always}}",
     ["key 'deploy.restart_policy.condition': must be one of none, on-failure, any, not 'always'"]),
    ("mem_limit: 1g\ndeploy: {resources: {limits: {memory: 2g}}}",
     ["key 'deploy.resources.limits.memory': '2g' conflicts with 'mem_limit' = '1g': give the value once"]),
    ("scale: 2\ndeploy: {replicas: 3}", ["key 'deploy.replicas': 3 conflicts with 'scale' = 2: give the value once"]),
    ("scale: -2", ["key 'scale': must be 0 or more, not -2"]),
    ("secrets: [nope]", ["key 'secrets[0]': secret 'nope' is not declared under the top-level secrets"]),
    ("secrets: [pww]", ["key 'secrets[0]': secret 'pww' is not declared under the top-level secrets "
                        "(did you mean 'pw'?)"]),
    ("secrets: [{target: x}]", ["key 'secrets[0]': needs a source (the name under the top-level secrets)"]),
    ("secrets: [{source: pw, mode: rw}]", ["key 'secrets[0].mode': must be an octal file mode like 0440, not 'rw'"]),
    ("configs: [{source: conf, uid: [1]}]", ["key 'configs[0].uid': must be a string, not a list"]),
    ("cap_add: NET_ADMIN", ["key 'cap_add': must be a list of strings, not a string"]),
    ("read_only: maybe", ["key 'read_only': must be true or false, not 'maybe'"]),
    ("stop_grace_period: '10'", ["key 'stop_grace_period': '10' is not a duration (write it like 30s, 1m30s or "
                                 "500ms)"]),
    ("logging: {options: {a: 1}}", ["key 'logging.options': needs logging.driver: name the driver the options are "
                                    "for (e.g. json-file)"]),
    ("logging: {driver: syslog}\nlog_driver: json-file",
     ["key 'log_driver': cannot be combined with logging: use logging.driver"]),
    ("log_opt: {a: b}", ["key 'log_opt': needs log_driver: name the driver the options are for"]),
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
    model, diagnostics = parse(service_doc(body, DECLARED), env={"PW": "x"})
    assert messages(diagnostics) == ["docker-compose.yml: service 's': " + e for e in expected]


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


def test_missing_image():
    _model, diagnostics = parse("services:\n  s:\n    command: x\n")
    assert messages(diagnostics) == ["docker-compose.yml: service 's': key 'image': missing: every service needs "
                                     "an image"]


@pytest.mark.parametrize("key", sorted(compose.REFUSED_KEYS))
def test_refused_keys_are_named(key):
    _model, diagnostics = parse(service_doc("%s: x" % key))
    assert messages(diagnostics) == ["docker-compose.yml: service 's': key '%s': not supported on spin.platform: %s"
                                     % (key, compose.REFUSED_KEYS[key])]


@pytest.mark.parametrize("key", sorted(compose.IGNORED_KEYS))
def test_ignored_keys_warn(key):
    model, diagnostics = parse(service_doc("%s: x" % key))
    assert messages(diagnostics) == []
    assert messages(diagnostics, "warning") == [
        "docker-compose.yml: service 's': key '%s': warning: ignored on spin.platform: %s"
        % (key, compose.IGNORED_KEYS[key])]


WARNINGS = [
    ("build: .", "key 'image': warning: 'img' does not name the built image: the platform tags what it builds "
                 "<registry>/<tenant>/<stack>-s:<content hash>"),
    ("restart: always\ndeploy: {restart_policy: {condition: none}}",
     "key 'restart': warning: ignored because deploy.restart_policy is given"),
    ("ports: ['10.1.2.3:8080:80']", "key 'ports[0]': warning: host IP '10.1.2.3' is ignored: the platform load "
                                    "balancer publishes the port"),
    ("ports: [{target: 80, published: 8080, host_ip: 127.0.0.1}]",
     "key 'ports[0].host_ip': warning: bound to 127.0.0.1: in Compose only the host itself reaches it, so "
     "spin.platform publishes nothing for it (the stack's services reach 's' on port 80 by name)"),
    ("volumes: ['data:/d:z']", "key 'volumes[0]': warning: volume option 'z' is ignored on spin.platform"),
    ("tmpfs: ['/run:noexec']", "key 'tmpfs[0]': warning: tmpfs option 'noexec' is ignored on spin.platform (only "
                               "size and mode apply)"),
    ("healthcheck: {test: x, start_interval: 1s}",
     "key 'healthcheck.start_interval': warning: ignored on spin.platform: needs a newer engine than the platform "
     "runs"),
    ("networks: {front: {priority: 10}}", "key 'networks.front.priority': warning: ignored on spin.platform: Swarm "
                                          "attaches the networks in its own order"),
]


@pytest.mark.parametrize("body, expected", WARNINGS)
def test_warning(body, expected):
    _model, diagnostics = parse(service_doc(body, DECLARED), env={"PW": "x"})
    assert messages(diagnostics) == []
    assert messages(diagnostics, "warning") == ["docker-compose.yml: service 's': " + expected]


def test_all_errors_at_once_across_services_and_files():
    text = "services:\n  a:\n    imagee: x\n  b:\n    image: x\n    ports: [x]\n    deploy: {replicas: -1}\n" \
           "nets: {}\n"
    rancher = "services:\n  b:\n    scael: 2\n  c: {}\n"
    _model, diagnostics = parse(text, rancher)
    assert messages(diagnostics) == [
        "docker-compose.yml: key 'nets': unknown key (did you mean 'networks'?)",
        "docker-compose.yml: service 'a': key 'imagee': unknown key (did you mean 'image'?)",
        "docker-compose.yml: service 'a': key 'image': missing: every service needs an image",
        "docker-compose.yml: service 'b': key 'ports[0]': 'x' is not a port mapping: write it like 8080:80, 80 or "
        "127.0.0.1:8080:80/udp",
        "docker-compose.yml: service 'b': key 'deploy.replicas': must be 0 or more, not -1",
        "rancher-compose.yml: service 'b': key 'scael': unknown key (did you mean 'scale'?)",
        "rancher-compose.yml: service 'c': is not a service of docker-compose.yml",
    ]


def test_published_port_twice():
    text = "services:\n  a: {image: x, ports: ['80:80']}\n  b: {image: x, ports: ['80:8080', '80:80/udp']}\n"
    _model, diagnostics = parse(text)
    assert messages(diagnostics) == ["docker-compose.yml: service 'b': key 'ports': port 80/tcp is already "
                                     "published by service 'a'"]


def test_dependency_cycle_is_an_error():
    text = "services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, links: [c]}\n  c: {image: x, " \
           "depends_on: {a: {condition: service_started}}}\n"
    _model, diagnostics = parse(text)
    assert messages(diagnostics) == ["docker-compose.yml: service 'a': key 'depends_on': services depend on each "
                                     "other in a loop: a -> b -> c -> a; remove one depends_on or link"]


def test_invalid_service_name():
    _model, diagnostics = parse("services:\n  'web server': {image: x}\n")
    assert messages(diagnostics) == ["docker-compose.yml: service 'web server': 'web server' is not a valid service "
                                     "name: use letters, digits, '_', '.' and '-', starting with a letter or digit"]


def test_format_diagnostic():
    assert diag.format_diagnostic(compose.diagnostic("error", "docker-compose.yml", "web", "imagee",
                                                     "unknown key (did you mean 'image'?)")) == \
        "docker-compose.yml: service 'web': key 'imagee': unknown key (did you mean 'image'?)"
    assert diag.format_diagnostic(compose.diagnostic("warning", "f.yml", None, None, "m")) == "f.yml: warning: m"


def test_raise_for_errors_lists_every_error():
    _model, diagnostics = parse("services:\n  a: {imagee: x}\n")
    with pytest.raises(SpinError) as info:
        compose.raise_for_errors(diagnostics)
    assert info.value.message == (
        "the stack has 2 error(s):\n"
        "docker-compose.yml: service 'a': key 'imagee': unknown key (did you mean 'image'?)\n"
        "docker-compose.yml: service 'a': key 'image': missing: every service needs an image")
    assert info.value.diagnostics == diagnostics
    compose.raise_for_errors([compose.diagnostic("warning", "f", None, None, "only a warning")])


# ---------------------------------------------------------------------------------------------
# top level and versions

TOP_LEVEL = [
    ("version: '2'\nservices: {s: {image: x}}", []),
    ("version: '2.4'\nservices: {s: {image: x}}", []),
    ("version: '3.8'\nservices: {s: {image: x}}", []),
    ("version: 3\nservices: {s: {image: x}}", []),
    ("services: {s: {image: x}}", []),
    ("x-anything: {a: 1}\nservices: {s: {image: x}}", []),
    ("version: '1'\nservices: {s: {image: x}}", ["docker-compose.yml: key 'version': version 1 files are not "
                                                 "supported: put the services under 'services:' and write "
                                                 "version: '2'"]),
    ("web:\n  image: x\n", ["docker-compose.yml: version 1 files are not supported: put the services under "
                            "'services:' and write version: '2'"]),
    ("version: '4'\nservices: {s: {image: x}}", ["docker-compose.yml: key 'version': '4' is not a compose version: "
                                                 "write '2', '2.x', '3.x' or leave it out"]),
    ("servics: {s: {image: x}}", ["docker-compose.yml: key 'servics': unknown key (did you mean 'services'?)",
                                  "docker-compose.yml: key 'services': must be a mapping of services, not empty "
                                  "(null)"]),
    ("services: [s]", ["docker-compose.yml: key 'services': must be a mapping of services, not a list"]),
    # include: is read from the submission (test_compose_merge.py); without one it cannot be
    ("include: [other.yml]\nservices: {s: {image: x}}",
     ["docker-compose.yml: key 'include[0]': 'other.yml' cannot be read: no submission directory was given"]),
    ("- a\n", ["docker-compose.yml: must be a mapping with services:, not a list"]),
    ("", ["docker-compose.yml: the file is empty: it needs services:"]),
    ("services: {s: [image]}", ["docker-compose.yml: service 's': must be a mapping of keys, not a list"]),
    ("services:\n  s: {image: x}\n  s: {image: y}\n",
     ["docker-compose.yml: line 3, column 3: duplicate key 's' (first at line 2)"]),
]


@pytest.mark.parametrize("text, expected", TOP_LEVEL)
def test_top_level(text, expected):
    _model, diagnostics = parse(text)
    assert messages(diagnostics) == expected


def test_top_level_name_warns():
    _model, diagnostics = parse("name: mystack\nservices: {s: {image: x}}")
    assert messages(diagnostics, "warning") == ["docker-compose.yml: key 'name': warning: ignored on spin.platform: "
                                                "the stack's name comes from the submission"]


SECTIONS = [
    ("networks: {front: {driver: overlay, internal: true, attachable: true, driver_opts: {encrypted: ''}, "
     "labels: {a: b}}}", "networks.front",
     {"driver": "overlay", "internal": True, "attachable": True, "driver_opts": {"encrypted": ""},
      "labels": {"a": "b"}, "external": False, "name": None}),
    ("networks: {front: null}", "networks.front",
     {"driver": "overlay", "internal": False, "attachable": False, "driver_opts": {}, "labels": {},
      "external": False, "name": None}),
    ("networks: {front: {driver: bridge}}", "networks.front.driver", "overlay"),
    ("networks: {front: {driver: macvlan}}", "networks.front.driver", "macvlan"),
    ("networks: {shared: {external: true}}", "networks.shared.external", True),
    ("networks: {shared: {external: {name: proxy}}}", "networks.shared.name", "proxy"),
    ("networks: {shared: {external: true, name: proxy}}", "networks.shared.name", "proxy"),
    ("volumes: {data: }", "volumes.data", {"driver": "local", "driver_opts": {}, "labels": {}, "external": False,
                                           "name": None}),
    ("volumes: {data: {driver_opts: {type: nfs, o: 'addr=10.0.0.1,ro', device: ':/export'}}}",
     "volumes.data.driver_opts", {"type": "nfs", "o": "addr=10.0.0.1,ro", "device": ":/export"}),
    ("volumes: {data: {external: true, name: shared_data}}", "volumes.data",
     {"driver": "local", "driver_opts": {}, "labels": {}, "external": True, "name": "shared_data"}),
    ("secrets: {pw: {environment: PW}}", "secrets.pw",
     {"content": base64.b64encode(b"hunter2").decode(), "external": False, "name": None, "labels": {}}),
    ("secrets: {pw: {external: true}}", "secrets.pw", {"content": None, "external": True, "name": None,
                                                       "labels": {}}),
    ("configs: {conf: {content: 'port=${PORT:-80}'}}", "configs.conf.content",
     base64.b64encode(b"port=80").decode()),
]


@pytest.mark.parametrize("text, path, expected", SECTIONS)
def test_top_level_sections(text, path, expected):
    model, diagnostics = parse("services: {s: {image: x}}\n" + text, env={"PW": "hunter2"})
    assert messages(diagnostics) == []
    assert dig(model, path) == expected


SECTION_ERRORS = [
    ("networks: {front: {ipam: {config: [{subnet: 10.0.0.0/24}]}}}",
     "key 'networks.front.ipam': not supported on spin.platform: the platform allocates subnets"),
    ("networks: {front: {drivr: overlay}}", "key 'networks.front.drivr': unknown key (did you mean 'driver'?)"),
    ("networks: {front: {internal: maybe}}", "key 'networks.front.internal': must be true or false, not 'maybe'"),
    ("volumes: {data: {driver_opts: [a]}}", "key 'volumes.data.driver_opts': must be a mapping, not a list"),
    ("volumes: {'bad name': {}}", "key 'volumes.bad name': 'bad name' is not a valid name: use letters, digits, "
                                  "'_', '.' and '-'"),
    ("secrets: {pw: {}}", "key 'secrets.pw': needs exactly one of file:, environment: or external: true"),
    ("secrets: {pw: null}", "key 'secrets.pw': needs file:, environment: or external: true"),
    ("secrets: {pw: {environment: NOPE}}", "key 'secrets.pw.environment': variable 'NOPE' is not set: give it a "
                                           "value in the stack's variables"),
    ("secrets: {pw: {external: true, file: x}}", "key 'secrets.pw': an external secret has no file: remove it, or "
                                                 "remove external"),
    ("secrets: {pw: {file: pw.txt}}", "key 'secrets.pw.file': 'pw.txt' cannot be read: no submission directory was "
                                      "given"),
    ("secrets: {pw: {driver: vault, external: true}}", "key 'secrets.pw.driver': not supported on spin.platform: "
                                                       "secrets are stored by Swarm"),
    ("configs: {c: {content: a, file: b}}", "key 'configs.c': needs exactly one of file:, environment:, content: "
                                            "or external: true"),
    ("configs: {c: {content: '%s'}}" % ("x" * (500 * 1024 + 1)), "key 'configs.c': is 512001 bytes, more than "
     "Swarm's limit of 512000"),
]


@pytest.mark.parametrize("text, expected", SECTION_ERRORS)
def test_top_level_section_errors(text, expected):
    _model, diagnostics = parse("services: {s: {image: x}}\n" + text)
    assert messages(diagnostics) == ["docker-compose.yml: " + expected]


def test_network_bridge_becomes_overlay_with_a_warning():
    _model, diagnostics = parse("services: {s: {image: x}}\nnetworks: {front: {driver: bridge}}")
    assert messages(diagnostics, "warning") == ["docker-compose.yml: key 'networks.front.driver': warning: 'bridge' "
                                                "becomes 'overlay': Swarm services need overlay networks"]


def test_default_network_is_added_only_when_used():
    model, dummy = parse("services: {s: {image: x, networks: [front]}}\nnetworks: {front: {}}")
    assert list(model["networks"]) == ["front"]
    model, dummy = parse("services: {s: {image: x}, t: {image: x, networks: [front]}}\nnetworks: {front: {}}")
    assert list(model["networks"]) == ["front", "default"]
    model, dummy = parse("services: {s: {image: x}}\nnetworks: {default: {driver_opts: {encrypted: ''}}}")
    assert model["networks"]["default"]["driver_opts"] == {"encrypted": ""}


# ---------------------------------------------------------------------------------------------
# interpolation

INTERPOLATION = [
    ("plain", {}, "plain"),
    ("$A", {"A": "1"}, "1"),
    ("${A}", {"A": "1"}, "1"),
    ("x${A}y", {"A": "1"}, "x1y"),
    ("${A:-d}", {}, "d"),
    ("${A:-d}", {"A": ""}, "d"),
    ("${A-d}", {"A": ""}, ""),
    ("${A-d}", {}, "d"),
    ("${A:-${B:-deep}}", {}, "deep"),
    ("${A:-${B}}", {"B": "b"}, "b"),
    ("${A:?need A}", {"A": "v"}, "v"),
    ("${A:+alt}", {"A": "v"}, "alt"),
    ("${A:+alt}", {"A": ""}, ""),
    ("${A+alt}", {"A": ""}, "alt"),
    ("${A+alt}", {}, ""),
    ("$$HOME", {}, "$HOME"),
    ("$${A}", {"A": "x"}, "${A}"),
    ("a $$ b", {}, "a $ b"),
    ("${A}", {"A": 5}, "5"),
    ("${A:-a}${B:-b}", {}, "ab"),
]


@pytest.mark.parametrize("text, env, expected", INTERPOLATION)
def test_interpolate(text, env, expected):
    assert compose_text.interpolate(text, env) == expected


INTERPOLATION_ERRORS = [
    ("${A}", {}, "variable 'A' is not set: give it a value in the stack's variables, or write a default like "
                 "${A:-value}"),
    ("$A", {}, "variable 'A' is not set: give it a value in the stack's variables, or write a default like "
               "${A:-value}"),
    ("${A:?the password}", {}, "variable 'A' is not set: the password"),
    ("${A:?the password}", {"A": ""}, "variable 'A' is empty: the password"),
    ("${A?}", {}, "variable 'A' is not set: it is required"),
    ("${A", {}, "'${' without a closing '}' in '${A'"),
    ("${1A}", {}, "'${1A}' in '${1A}' is not a variable: names are letters, digits and _"),
    ("${A/x/y}", {"A": "1"}, "'${A/x/y}' in '${A/x/y}': unknown operator; use :-, -, :?, ?, :+ or +"),
    ("cost $5", {}, "a '$' that starts no variable in 'cost $5': write '$$' for a literal dollar sign"),
    ("end $", {}, "a '$' that starts no variable in 'end $': write '$$' for a literal dollar sign"),
]


@pytest.mark.parametrize("text, env, message", INTERPOLATION_ERRORS)
def test_interpolate_errors(text, env, message):
    with pytest.raises(compose_values.Invalid) as info:
        compose_text.interpolate(text, env)
    assert info.value.message == message


def test_interpolation_in_files_names_file_service_and_key():
    text = "services:\n  web:\n    image: 'httpd:${TAG:-2.4}'\n    environment:\n      DB: ${DB_HOST}\n" \
           "    deploy: {replicas: '${N}'}\nvolumes:\n  data: {driver: '${DRIVER:?name the volume driver}'}\n"
    model, diagnostics = parse(text, "services:\n  web: {scale: '${SCALE}'}\n", env={"N": "3"})
    assert model["services"]["web"]["image"] == "httpd:2.4"
    # an unset variable is an empty string, as in Compose: a warning where it is used ...
    assert model["services"]["web"]["environment"] == {"DB": ""}
    assert messages(diagnostics, "warning") == [
        "docker-compose.yml: service 'web': key 'environment.DB': warning: variable 'DB_HOST' is not set, so it is "
        "an empty string here (as in Compose): give it a value in .env or spin_compose_variables, or write a default "
        "like ${DB_HOST:-value}",
        "rancher-compose.yml: service 'web': key 'scale': warning: variable 'SCALE' is not set, so it is an empty "
        "string here (as in Compose): give it a value in .env or spin_compose_variables, or write a default like "
        "${SCALE:-value}"]
    # ... and ${VAR:?message} is an error with the file's own message; the empty scale is checked as such
    assert messages(diagnostics) == [
        "docker-compose.yml: key 'volumes.data.driver': variable 'DRIVER' is not set: name the volume driver",
        "rancher-compose.yml: service 'web': key 'scale': must be a number of replicas, not ''",
    ]


def test_interpolated_values_are_typed_after_substitution():
    text = "services:\n  web:\n    image: x\n    read_only: '${RO:-true}'\n    deploy: {replicas: '${N}'}\n"
    model, diagnostics = parse(text, env={"N": "3"})
    assert diagnostics == []
    assert model["services"]["web"]["read_only"] is True
    assert model["services"]["web"]["deploy"]["replicas"] == 3


def test_keys_are_not_interpolated():
    model, dummy = parse("services:\n  web:\n    image: x\n    labels: {'$$a': '$$b'}\n")
    assert model["services"]["web"]["labels"] == {"$$a": "$b"}


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


# ---------------------------------------------------------------------------------------------
# rancher-compose overlay

RANCHER = [
    ("web: {scale: 3}", "deploy.replicas", 3),
    ("web: {start_on_create: false}", "deploy.replicas", 0),
    ("web: {start_on_create: false}", "start_on_create", False),
    ("web: {scale: 3, start_on_create: true}", "deploy.replicas", 3),
    ("web:\n    health_check: {port: 80, interval: 2000, healthy_threshold: 2, unhealthy_threshold: 3, "
     "response_timeout: 2000, request_line: GET /healthz HTTP/1.0, strategy: recreate, initializing_timeout: 60000}",
     "rancher_health_check",
     {"port": 80, "interval": 2 * S, "healthy_threshold": 2, "unhealthy_threshold": 3, "response_timeout": 2 * S,
      "request_line": "GET /healthz HTTP/1.0", "strategy": "recreate", "initializing_timeout": 60 * S}),
    ("web: {upgrade_strategy: {start_first: true, batch_size: 2, interval_millis: 1500}}", "deploy.update_config",
     {"parallelism": 2, "delay": 1500 * 10 ** 6, "failure_action": None, "monitor": None, "max_failure_ratio": None,
      "order": "start-first"}),
    ("web: {upgrade_strategy: {start_first: false}}", "deploy.update_config.order", "stop-first"),
]


@pytest.mark.parametrize("rancher, path, expected", RANCHER)
def test_rancher_overlay(rancher, path, expected):
    model, diagnostics = parse("services:\n  web: {image: x}\n", "services:\n  " + rancher + "\n")
    assert messages(diagnostics) == []
    assert dig(model["services"]["web"], path) == expected


RANCHER_ERRORS = [
    ("web: {scale: 3}", "rancher-compose.yml: service 'web': key 'scale': 3 conflicts with 'deploy.replicas' = 2 "
                        "in docker-compose.yml: give the value once"),
    ("web: {scale: -1}", "rancher-compose.yml: service 'web': key 'scale': must be 0 or more, not -1"),
    ("web: {upgrade_strategy: {batch_size: 5}}",
     "rancher-compose.yml: service 'web': key 'upgrade_strategy.batch_size': 5 conflicts with "
     "'deploy.update_config.parallelism' = 1 in docker-compose.yml: give the value once"),
    ("web: {upgrade_strategy: {start_frist: true}}",
     "rancher-compose.yml: service 'web': key 'upgrade_strategy.start_frist': unknown key (did you mean "
     "'start_first'?)"),
    ("web: {health_check: {interval: 2000}}",
     "rancher-compose.yml: service 'web': key 'health_check': needs a port (the container port to check)"),
    ("web: {health_check: {port: 80, interval: 2s}}",
     "rancher-compose.yml: service 'web': key 'health_check.interval': must be a number of milliseconds, not '2s'"),
    ("web: {external_ips: [1.2.3.4]}", "rancher-compose.yml: service 'web': key 'external_ips': not supported on "
                                       "spin.platform: external services are not supported"),
    ("web: {scael: 2}", "rancher-compose.yml: service 'web': key 'scael': unknown key (did you mean 'scale'?)"),
    ("wbe: {scale: 2}", "rancher-compose.yml: service 'wbe': is not a service of docker-compose.yml (did you mean "
                        "'web'?)"),
    ("web: [1]", "rancher-compose.yml: service 'web': must be a mapping, not a list"),
]


@pytest.mark.parametrize("rancher, expected", RANCHER_ERRORS)
def test_rancher_errors(rancher, expected):
    compose_yaml = "services:\n  web:\n    image: x\n    deploy: {replicas: 2, update_config: {parallelism: 1}}\n"
    _model, diagnostics = parse(compose_yaml, "services:\n  " + rancher + "\n")
    assert messages(diagnostics) == [expected]


def test_rancher_ignored_keys_warn():
    _model, diagnostics = parse("services:\n  web: {image: x}\n", "version: '2'\n.catalog: {name: x}\nservices:\n"
                                "  web: {retain_ip: true, metadata: {a: 1}}\n")
    assert messages(diagnostics) == []
    assert messages(diagnostics, "warning") == [
        "rancher-compose.yml: key '.catalog': warning: ignored on spin.platform: catalog entries are not used",
        "rancher-compose.yml: service 'web': key 'retain_ip': warning: ignored on spin.platform: Swarm gives each "
        "task its own address",
        "rancher-compose.yml: service 'web': key 'metadata': warning: ignored on spin.platform: there is no Rancher "
        "metadata service"]


# ---------------------------------------------------------------------------------------------
# load balancers

LB_COMPOSE = """
services:
  web: {image: httpd}
  api: {image: api}
  lb:
    image: rancher/lb-service-haproxy:v0.7.9
    ports: ['80:80', '443:443/tcp']
    labels: {io.rancher.container.agent.role: environmentAdmin}
"""
LB_RANCHER = """
services:
  lb:
    scale: 2
    lb_config:
      certs: [www]
      default_cert: www
      port_rules:
      - {source_port: 80, target_port: 80, service: web, hostname: www.example.org, path: /, priority: 1}
      - {source_port: 443, target_port: 8080, service: api, protocol: https}
      stickiness_policy: {cookie: SRV, mode: insert, indirect: true}
    health_check: {port: 42, interval: 2000, unhealthy_threshold: 3, healthy_threshold: 2, response_timeout: 2000}
"""


def test_load_balancer_is_not_a_service():
    model, diagnostics = parse(LB_COMPOSE, LB_RANCHER)
    assert messages(diagnostics) == []
    assert messages(diagnostics, "warning") == [
        "rancher-compose.yml: service 'lb': key 'scale': warning: ignored on a load balancer: spin.platform runs the "
        "load balancer itself"]
    assert list(model["services"]) == ["web", "api"]
    assert model["load_balancers"] == {"lb": {
        "ports": ["80:80", "443:443"],
        "port_rules": [
            {"source_port": 80, "target_port": 80, "service": "web", "hostname": "www.example.org", "path": "/",
             "priority": 1, "protocol": "http"},
            {"source_port": 443, "target_port": 8080, "service": "api", "hostname": None, "path": None,
             "priority": None, "protocol": "https"}],
        "stickiness": {"name": None, "cookie": "SRV", "domain": None, "indirect": "true", "nocache": None,
                       "postonly": None, "mode": "insert"},
        "certs": ["www"], "default_cert": "www",
        "health_check": {"port": 42, "interval": 2 * S, "healthy_threshold": 2, "unhealthy_threshold": 3,
                         "response_timeout": 2 * S, "request_line": None, "strategy": None,
                         "initializing_timeout": None}}}


def test_lb_config_alone_makes_a_load_balancer_and_ports_come_from_rules():
    model, diagnostics = parse("services:\n  web: {image: x}\n  front: {image: my/haproxy}\n",
                               "services:\n  front:\n    lb_config:\n      port_rules:\n"
                               "      - {source_port: 8080, target_port: 80, service: web}\n")
    assert diagnostics == []
    assert model["load_balancers"]["front"]["ports"] == ["8080:8080"]
    assert list(model["services"]) == ["web"]


def test_lb_image_without_lb_config_warns():
    model, diagnostics = parse("services:\n  lb: {image: 'rancher/lb-service-haproxy'}\n")
    assert model["load_balancers"]["lb"]["port_rules"] == []
    assert messages(diagnostics, "warning") == [
        "docker-compose.yml: service 'lb': warning: a load balancer without lb_config in rancher-compose.yml "
        "forwards nothing: add port_rules"]


LB_ERRORS = [
    ("- {source_port: 80, target_port: 80, service: wbe}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].service': service 'wbe' does not exist "
     "(did you mean 'web'?)"),
    ("- {source_port: 81, target_port: 80, service: web}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].source_port': 81 is not among the load "
     "balancer's ports (80:80): add it to its ports in docker-compose.yml"),
    ("- {source_port: 80, target_port: 80, service: other/web}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].service': 'other/web' names a service of "
     "another stack: a load balancer forwards only to services of its own stack"),
    ("- {source_port: 80, target_port: 80, selector: app=web}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].selector': not supported on spin.platform: "
     "selectors are not supported; name the service"),
    ("- {source_port: 80, target_port: 80, service: web, protocol: ftp}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].protocol': must be one of http, https, tcp, "
     "tls, sni, udp, not 'ftp' (did you mean 'tcp'?)"),
    ("- {source_port: 80, service: web}",
     "rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0]': needs target_port"),
]


@pytest.mark.parametrize("rule, expected", LB_ERRORS)
def test_lb_errors(rule, expected):
    compose_yaml = "services:\n  web: {image: x}\n  lb: {image: rancher/lb-service-haproxy, ports: ['80:80']}\n"
    rancher = "services:\n  lb:\n    lb_config:\n      port_rules:\n      " + rule + "\n"
    _model, diagnostics = parse(compose_yaml, rancher)
    assert expected in messages(diagnostics)
    assert len(messages(diagnostics)) == 1 + ("selector" in rule)   # a rule without service also lacks one


def test_lb_custom_haproxy_config_is_refused():
    _model, diagnostics = parse("services:\n  lb: {image: rancher/lb-service-haproxy}\n",
                                "services:\n  lb:\n    lb_config: {config: 'global\\n  maxconn 1'}\n")
    assert messages(diagnostics) == [
        "rancher-compose.yml: service 'lb': key 'lb_config.config': not supported on spin.platform: custom HAProxy "
        "configuration would affect every tenant; ask the platform team"]


def test_depending_on_a_load_balancer_is_dropped_with_a_warning():
    model, diagnostics = parse("services:\n  web: {image: x, depends_on: [lb]}\n"
                               "  lb: {image: rancher/lb-service-haproxy}\n")
    assert model["services"]["web"]["depends_on"] == []
    assert "docker-compose.yml: service 'web': key 'depends_on': warning: 'lb' is a load balancer, not a service: " \
           "ignored" in messages(diagnostics, "warning")


# ---------------------------------------------------------------------------------------------
# the seed example of the NERSC Spin overview

def _read(name):
    with open(os.path.join(SEED, name)) as handle:
        return handle.read()


def test_seed_example():
    model, diagnostics = compose.parse_stack(_read("docker-compose.yml"), "docker-compose.yml",
                                             _read("rancher-compose.yml"), "rancher-compose.yml",
                                             read_file=compose_text.make_dir_reader(SEED), env={})
    assert diagnostics == []
    web, db = model["services"]["web"], model["services"]["db"]
    assert list(model["services"]) == ["web", "db"]
    assert (web["image"], web["deploy"]["replicas"], web["links"]) == ("httpd", 2, {"db": ["db"]})
    assert web["ports"] == [] and web["tty"] is True and db["tty"] is True
    assert (db["image"], db["deploy"]["replicas"]) == ("mysql", 1)
    assert db["environment"] == {"MYSQL_DATABASE": "magic", "MYSQL_USER": "cory", "MYSQL_PASSWORD": "MyOwnPass"}
    assert web["networks"] == db["networks"] == {"default": {"aliases": []}}
    assert list(model["networks"]) == ["default"]
    assert model["load_balancers"] == {} and model["volumes"] == {}
    assert compose_checks.start_order(model["services"]) == (["db", "web"], None)


# ---------------------------------------------------------------------------------------------
# robustness: no input crashes the parser

ODD_VALUES = [None, 1, -1, 1.5, True, "x", "", "a:b:c:d", [], {}, [None], [1], [[1]], [{}], ["a"], {"a": None},
              {"a": [1]}, {"a": {"b": 1}}]


@pytest.mark.parametrize("key", compose.ALL_SERVICE_KEYS + ["unknown_key"])
def test_any_value_of_any_key_gives_diagnostics_not_exceptions(key):
    for value in ODD_VALUES:
        model, _diagnostics = compose.parse_stack(json.dumps({"services": {"s": {"image": "x", key: value}}}),
                                                  "dc.yml")
        json.dumps(model)


# ---------------------------------------------------------------------------------------------
# the official compose-spec schema: not part of the project, read from ../shared/compose-spec/ beside the
# checkout (tests/utils/collection-tree.sh's copy names its checkout in tests/output/spin-checkout)

SCHEMA = os.path.join("..", "shared", "compose-spec", "compose-spec.json")


def schema_path(root=ROOT):
    """The schema beside the checkout, or None."""
    roots = [root]
    marker = os.path.join(root, "tests", "output", "spin-checkout")
    if os.path.isfile(marker):
        with open(marker) as handle:
            roots.append(handle.read().strip())
    found = [os.path.join(r, SCHEMA) for r in roots if os.path.isfile(os.path.join(r, SCHEMA))]
    return os.path.normpath(found[0]) if found else None


@pytest.fixture(scope="module")
def schema():
    path = schema_path()
    if path is None:
        pytest.skip("the compose-spec schema tests did not run: %s is not beside the checkout" % SCHEMA)
    with open(path) as handle:
        return json.load(handle)


def _validator(schema):
    import jsonschema
    return jsonschema.Draft7Validator(schema)   # the schema names draft-07 (without the trailing '#')


def _unknown(diagnostics):
    return [d for d in diagnostics if d["message"].startswith("unknown key")]


def _nested(schema, name):
    return schema["definitions"][name]["properties"]


def test_every_service_key_of_the_schema_is_handled_or_refused(schema):
    properties = schema["definitions"]["service"]["properties"]
    assert len(properties) > 80
    for key in properties:
        _model, diagnostics = compose.parse_stack(json.dumps({"services": {"s": {"image": "x", key: None}}}),
                                                  "dc.yml")
        assert _unknown(diagnostics) == [], key
    assert set(properties) <= set(compose.ALL_SERVICE_KEYS)


NESTED = [
    # (definition or service property, where to put the key, yaml builder)
    ("deployment", lambda k: {"services": {"s": {"image": "x", "deploy": {k: None}}}}),
    ("healthcheck", lambda k: {"services": {"s": {"image": "x", "healthcheck": {k: None}}}}),
    ("network", lambda k: {"services": {"s": {"image": "x"}}, "networks": {"n": {k: None}}}),
    ("volume", lambda k: {"services": {"s": {"image": "x"}}, "volumes": {"v": {k: None}}}),
    ("secret", lambda k: {"services": {"s": {"image": "x"}}, "secrets": {"v": {k: None}}}),
    ("config", lambda k: {"services": {"s": {"image": "x"}}, "configs": {"v": {k: None}}}),
]


@pytest.mark.parametrize("definition, build", NESTED, ids=[n[0] for n in NESTED])
def test_nested_keys_of_the_schema_are_known(schema, definition, build):
    for key in _nested(schema, definition):
        _model, diagnostics = compose.parse_stack(json.dumps(build(key)), "dc.yml")
        assert _unknown(diagnostics) == [], (definition, key)


def _service_property(schema, key):
    return schema["definitions"]["service"]["properties"][key]


def test_long_syntax_keys_of_the_schema_are_known(schema):
    ports = _service_property(schema, "ports")["items"]["oneOf"][2]["properties"]
    volumes = _service_property(schema, "volumes")["items"]["oneOf"][1]["properties"]
    refs = schema["definitions"]["service_config_or_secret"]["items"]["oneOf"][1]["properties"]
    networks = _service_property(schema, "networks")["oneOf"][1]["patternProperties"]
    networks = list(networks.values())[0]["oneOf"][0]["properties"]
    logging = _service_property(schema, "logging")["properties"]
    deploy = _nested(schema, "deployment")
    cases = [("ports", k, {"target": 80, k: None}) for k in ports]
    cases += [("volumes", k, {"type": "volume", "target": "/x", k: None}) for k in volumes]
    cases += [("secrets", k, {"source": "a", k: None}) for k in refs]
    cases += [("logging", k, {"driver": "x", k: None}) for k in logging]
    cases += [("networks", k, {"n": {k: None}}) for k in networks]
    cases += [("deploy", k, {"resources": {k: None}}) for k in deploy["resources"]["properties"]]
    cases += [("deploy", k, {"resources": {"limits": {k: None}}})
              for k in deploy["resources"]["properties"]["limits"]["properties"]]
    cases += [("deploy", k, {"resources": {"reservations": {k: None}}})
              for k in deploy["resources"]["properties"]["reservations"]["properties"]]
    cases += [("deploy", k, {"placement": {k: None}}) for k in deploy["placement"]["properties"]]
    cases += [("deploy", k, {"update_config": {k: None}}) for k in deploy["update_config"]["properties"]]
    cases += [("deploy", k, {"restart_policy": {k: None}}) for k in deploy["restart_policy"]["properties"]]
    for key, sub, value in cases:
        value = [value] if key in ("ports", "volumes", "secrets") else value
        _model, diagnostics = compose.parse_stack(json.dumps({"services": {"s": {"image": "x", key: value}}}),
                                                  "dc.yml")
        assert _unknown(diagnostics) == [], (key, sub)


SCHEMA_INVALID = [
    {"services": {"web": {"image": ["httpd"]}}},
    {"services": {"web": {"image": "x", "ports": "80:80"}}},
    {"services": {"web": {"image": "x", "imagee": "x"}}},
    {"services": {"web": {"image": "x"}}, "servics": {}},
    {"services": {"web": {"image": "x", "deploy": {"replicas": [1]}}}},
    {"services": {"web": {"image": "x", "deploy": {"replica": 1}}}},
    {"services": {"web": {"image": "x", "deploy": {"update_config": {"order": "sideways"}}}}},
    {"services": {"web": {"image": "x", "healthcheck": {"test": 5}}}},
    {"services": {"web": {"image": "x", "environment": 5}}},
    {"services": {"web": {"image": "x", "volumes": [{"type": "weird", "target": "/x"}]}}},
    {"services": {"web": {"image": "x", "depends_on": {"db": {"condition": "sometimes"}}}, "db": {"image": "y"}}},
    {"services": {"web": {"image": "x", "cap_add": "NET_ADMIN"}}},
    {"services": {"web": {"image": "x", "restart": ["always"]}}},
    {"services": {"web": {"image": "x", "networks": {"front": {"aliases": "www"}}}}, "networks": {"front": {}}},
    {"services": {"web": {"image": "x"}}, "networks": {"front": {"driver": ["overlay"]}}},
    {"services": {"web": {"image": "x"}}, "volumes": {"data": {"external": 5}}},
    {"services": {"web": {"image": "x"}}, "secrets": {"pw": {"file": ["a"]}}},
    {"services": {"bad name!": {"image": "x"}}},
    {"services": {"web": {"image": "x", "logging": {"drivr": "syslog"}}}},
    {"services": {"web": {"image": "x", "ports": [{"target": 80, "publish": 80}]}}},
    {"services": {"web": {"image": "x", "extends": {"file": "x.yml"}}}},
    {"services": {"web": {"image": "x", "stop_grace_period": 10}}},
]


@pytest.mark.parametrize("document", SCHEMA_INVALID, ids=[str(i) for i in range(len(SCHEMA_INVALID))])
def test_schema_invalid_files_are_not_accepted_silently(schema, document):
    assert list(_validator(schema).iter_errors(document)), "the case itself must be schema-invalid"
    _model, diagnostics = compose.parse_stack(json.dumps(document), "dc.yml")
    assert diag.has_errors(diagnostics), document


def test_schema_valid_examples_parse_cleanly(schema):
    import yaml
    validator = _validator(schema)
    for name in ("docker-compose.yml",):
        text = _read(name)
        validator.validate(yaml.safe_load(text))
        _model, diagnostics = compose.parse_stack(text, name)
        assert diagnostics == []


# ---------------------------------------------------------------------------------------------
# docs/compose-keys.md lists every key the parser knows

def test_compose_keys_doc_lists_every_key():
    with open(os.path.join(ROOT, "docs", "compose-keys.md")) as handle:
        doc = handle.read()
    keys = set(compose.ALL_SERVICE_KEYS) | set(compose.ALL_RANCHER_KEYS) | set(compose.TOP_KEYS) \
        | set(compose.TOP_REFUSED) | set(compose.TOP_IGNORED) | set(compose_keys_deploy.DEPLOY_KEYS)
    missing = sorted(k for k in keys if "`%s`" % k not in doc)
    assert missing == []
