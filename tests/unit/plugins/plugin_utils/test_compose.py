"""The compose parser through parse_stack: each supported service key (input -> model) and the
errors and warnings (input -> the exact diagnostics, all of them at once). The other
test_compose_*.py files follow the parser's files (docs/design.md)."""
import json

import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import (
    DECLARED, GiB, MiB, S, dig, messages, parse, service_doc)


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
