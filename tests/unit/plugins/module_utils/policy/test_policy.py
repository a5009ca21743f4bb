"""policy.py: every rule allowed once and refused once (tables), over models that
compose.parse_stack builds from YAML, as the action plugin does."""
import copy
import glob
import os

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.policy import policy
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_settings
from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.policy.policy_cases import (
    make_policy, parse, service)


ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))


def run(model, tenant="cory", stack="demo", spin_policy=None, **kwargs):
    pol = make_policy(spin_policy)
    entry = pol["tenants"].get(tenant)
    model = policy.apply_policy_defaults(model, tenant, entry, pol)
    return policy.evaluate(model, tenant, entry, pol, stack=stack, **kwargs)


# (rule, compose keys of service 's', platform policy overrides or None)
ALLOWED = [
    ("global-fs-user", 'volumes: ["/global/cfs/cdirs/cory:/data:ro"]\nuser: "1000:1000"', None),
    ("global-fs-user", 'volumes: ["/global/cfs/cdirs/cory:/data:ro"]\nuser: "1000"', None),
    ("global-fs-path", 'volumes: ["/global/cfs/cdirs/cory/sub/dir:/data:ro"]\nuser: "1000"', None),
    ("global-fs-path", 'volumes: ["/global/homes/c/cory:/home:ro"]\nuser: "1000"', None),
    ("global-fs-read-only", 'volumes: ["/global/cfs/cdirs/cory:/data"]\nuser: "1000"',
     {"global_fs_read_write": True}),
    ("global-fs-read-only", 'volumes: [{type: bind, source: /global/cfs/cdirs/cory, target: /d, read_only: true}]\n'
                            'user: "1000"', None),
    ("cap-add", "cap_add: [CHOWN, CAP_KILL]", None),
    ("cap-add", 'cap_add: [NET_BIND_SERVICE]\nvolumes: ["/global/cfs/cdirs/cory:/d:ro"]\nuser: "1000"', None),
    ("privileged", "privileged: false", None),
    ("devices", "devices: []", None),
    ("host-namespace", "ipc: private", None),
    ("host-namespace", "network_mode: none", None),
    ("security-opt", "security_opt: ['no-new-privileges:true']", None),
    ("security-opt", "security_opt: ['no-new-privileges']", None),
    ("docker-socket", 'volumes: ["/srv/app:/app:ro"]', {"host_path_roots": ["/srv"]}),
    ("host-path", 'volumes: ["/srv/app/data:/data"]', {"host_path_roots": ["/srv/app"]}),
    ("host-path", ('volumes: ["data:/data"]', "volumes: {data: {}}"), None),
    ("sysctls", "sysctls: {net.ipv4.ip_unprivileged_port_start: '0'}", None),
    ("sysctls", "sysctls: {net.ipv4.tcp_keepalive_time: '600'}", {"sysctls": ["net.ipv4.tcp_*"]}),
    ("published-port", 'ports: ["8080:80"]', None),
    ("published-port", 'ports: ["80:80"]', None),
    ("published-port", 'ports: ["443:443"]', None),
    ("published-port", 'ports: ["80"]', None),
    # which ports a stack may publish is the edge's (spin_lb_ports), checked with the load balancer's rules
    ("published-port", 'ports: ["22:22"]', None),
    ("published-port", 'ports: ["80:80/udp"]', None),
    ("image", None, None),
    ("replica-quota", "scale: 10", None),
    ("name", None, None),
    ("cgroup-parent", None, None),
    ("volumes-from", None, None),
    ("external-links", None, None),
    ("volume-driver", ('volumes: ["data:/data"]', "volumes: {data: {driver: local}}"), None),
    ("reserved-label", "labels: {org.example.team: science}", None),
]


# (rule, compose keys of service 's', policy overrides, expected key)
REFUSED = [
    ("global-fs-user", 'volumes: ["/global/cfs/cdirs/cory:/data:ro"]', None, "user"),
    ("global-fs-user", 'volumes: ["/global/cfs/cdirs/cory:/data:ro"]\nuser: root', None, "user"),
    ("global-fs-user", 'volumes: ["/global/cfs/cdirs/cory:/data:ro"]\nuser: "0:0"', None, "user"),
    ("global-fs-user", 'volumes: ["/global/cfs/cdirs/cory:/data:ro"]\nuser: "1000:0"', None, "user"),
    ("global-fs-user", 'volumes: ["/global/cfs/cdirs/cory:/data:ro"]\nuser: "1001"', None, "user"),
    ("global-fs-user", 'volumes: ["/global/cfs/cdirs/cory:/data:ro"]\nuser: "4242"', None, "user"),
    ("global-fs-user", 'volumes: ["/global/cfs/cdirs/cory:/data:ro"]\nuser: www-data', None, "user"),
    ("global-fs-user", 'volumes: ["/global/cfs/cdirs/cory:/data:ro"]\nuser: "1000:1001"', None, "user"),
    ("global-fs-path", 'volumes: ["/global/cfs/cdirs/magic:/data:ro"]\nuser: "1000"', None, "volumes"),
    ("global-fs-path", 'volumes: ["/global/cfs/cdirs/cory/../magic:/data:ro"]\nuser: "1000"', None, "volumes"),
    ("global-fs-path", 'volumes: ["/global/cfs/cdirs/corylong:/data:ro"]\nuser: "1000"', None, "volumes"),
    ("global-fs-path", 'volumes: ["/global/cfs:/data:ro"]\nuser: "1000"', None, "volumes"),
    ("global-fs-read-only", 'volumes: ["/global/cfs/cdirs/cory:/data"]\nuser: "1000"', None, "volumes"),
    ("global-fs-read-only", 'volumes: ["/global/cfs/cdirs/cory:/data:rw"]\nuser: "1000"', None, "volumes"),
    ("cap-add", "cap_add: [SYS_ADMIN]", None, "cap_add"),
    ("cap-add", "cap_add: [ALL]", None, "cap_add"),
    ("cap-add", "cap_add: [NET_RAW]", None, "cap_add"),
    ("cap-add", 'cap_add: [CHOWN]\nvolumes: ["/global/cfs/cdirs/cory:/d:ro"]\nuser: "1000"', None, "cap_add"),
    ("privileged", "privileged: true", None, "privileged"),
    ("devices", 'devices: ["/dev/fuse:/dev/fuse"]', None, "devices"),
    ("devices", "device_cgroup_rules: ['c 1:3 mr']", None, "device_cgroup_rules"),
    ("host-namespace", "network_mode: host", None, "network_mode"),
    ("host-namespace", "network_mode: 'container:other'", None, "network_mode"),
    ("host-namespace", "pid: host", None, "pid"),
    ("host-namespace", "ipc: host", None, "ipc"),
    ("host-namespace", "userns_mode: host", None, "userns_mode"),
    ("host-namespace", "uts: host", None, "uts"),
    ("security-opt", "security_opt: ['seccomp=unconfined']", None, "security_opt"),
    ("security-opt", "security_opt: ['seccomp:unconfined']", None, "security_opt"),
    ("security-opt", "security_opt: ['apparmor=unconfined']", None, "security_opt"),
    ("security-opt", "security_opt: ['apparmor:unconfined']", None, "security_opt"),
    ("security-opt", "security_opt: ['label:disable']", None, "security_opt"),
    ("security-opt", "security_opt: ['label=disable']", None, "security_opt"),
    ("security-opt", "security_opt: ['systempaths=unconfined']", None, "security_opt"),
    ("security-opt", "security_opt: ['no-new-privileges:false']", None, "security_opt"),
    ("security-opt", "security_opt: ['seccomp=/tmp/lax.json']", None, "security_opt"),
    ("docker-socket", 'volumes: ["/var/run/docker.sock:/var/run/docker.sock"]', None, "volumes"),
    ("docker-socket", 'volumes: ["/run/docker.sock:/s:ro"]', None, "volumes"),
    ("docker-socket", 'volumes: ["/var/run:/host-run:ro"]', None, "volumes"),
    ("docker-socket", 'volumes: ["/run:/host-run:ro"]', None, "volumes"),
    ("docker-socket", 'volumes: ["/:/host:ro"]', None, "volumes"),
    ("docker-socket", 'volumes: ["/var/run/../run/docker.sock:/s"]', None, "volumes"),
    ("docker-socket", 'volumes: ["/var/run/docker.sock:/s"]', {"host_path_roots": ["/var/run"]}, "volumes"),
    ("docker-socket", "use_api_socket: true", None, "use_api_socket"),
    ("host-path", 'volumes: ["/etc:/host-etc:ro"]', None, "volumes"),
    ("host-path", 'volumes: ["/global/cfs/../../etc:/e:ro"]', None, "volumes"),
    ("host-path", 'volumes: ["/globalx/cfs:/e:ro"]', None, "volumes"),
    ("host-path", 'volumes: ["/srv/appdata:/d"]', {"host_path_roots": ["/srv/app"]}, "volumes"),
    ("sysctls", "sysctls: {net.ipv4.ip_forward: '1'}", None, "sysctls.net.ipv4.ip_forward"),
    ("sysctls", "sysctls: [kernel.msgmax=65536]", None, "sysctls.kernel.msgmax"),
    ("published-port", "ports: [{target: 80, published: 80, mode: host}]", None, "ports"),
    ("published-port", "ports: [{target: 443, published: 443, mode: host}]", None, "ports"),
    ("image", None, None, "image"),
    ("replica-quota", "scale: 11", None, "deploy.replicas"),
    ("cgroup-parent", "cgroup_parent: /system.slice", None, "cgroup_parent"),
    ("volumes-from", "volumes_from: ['container:other']", None, "volumes_from"),
    ("external-links", "external_links: [magic_db_1:db]", None, "external_links"),
]


@pytest.mark.parametrize("rule, body, overrides", ALLOWED, ids=["%s-%d" % (c[0], i) for i, c in enumerate(ALLOWED)])
def test_rule_allows(rule, body, overrides):
    assert rule in policy_settings.RULES
    violations = run(service(body or ""), spin_policy=overrides)
    assert violations == []


@pytest.mark.parametrize("rule, body, overrides, key", REFUSED,
                         ids=["%s-%d" % (c[0], i) for i, c in enumerate(REFUSED)])
def test_rule_refuses(rule, body, overrides, key):
    image = "evil/miner" if rule == "image" else "httpd"
    violations = run(service(body or "", image=image), spin_policy=overrides)
    assert [v["rule"] for v in violations] == [rule], violations
    v = violations[0]
    # the quota is the stack's, not one service's
    assert (v["file"], v["service"], v["key"]) == ("docker-compose.yml", None if rule == "replica-quota" else "s", key)
    assert v["message"] and v["fix"]


@pytest.mark.parametrize("image, overrides, allowed", [
    ("httpd", None, True),
    ("httpd:2.4", None, True),
    ("docker.io/library/httpd:latest", None, True),
    ("library/mysql", None, True),
    ("mariadb@sha256:" + "a" * 64, None, True),
    ("spin/httpd:latest", None, True),
    ("httpdx", None, False),
    ("evil/httpd", None, False),
    ("registry.example.org/httpd", None, False),
    ("spin/haproxy:2.6", None, False),
    ("registry.example.org/team/app:1", {"registries": ["registry.example.org"]}, True),
    ("registry.example.org:5000/app", {"registries": ["registry.example.org:5000"]}, True),
    ("registry.example.org.evil.com/app", {"registries": ["registry.example.org"]}, False),
    ("registry.example.org/team/app", {"registries": ["registry.example.org/team"]}, True),
    ("registry.example.org/teamx/app", {"registries": ["registry.example.org/team"]}, False),
    ("httpd:2.4", {"images": ["httpd:2.*"]}, True),
    ("httpd:latest", {"images": ["httpd:2.*"]}, False),
    ("httpd", {"images": ["httpd:2.*"]}, False),
    ("science/app", {"images": ["science/*"]}, True),
])
def test_image_rule(image, overrides, allowed):
    violations = run(service("", image=image), spin_policy=overrides)
    assert [v["rule"] for v in violations] == ([] if allowed else ["image"])


@pytest.mark.parametrize("tenant, stack, expected", [
    ("cory", "demo", []),
    ("cory", "web-1", []),
    ("cory", "my_stack", [("name", "spin_stack")]),
    ("cory", "Demo", [("name", "spin_stack")]),
    ("cory", "a" * 25, [("name", "spin_stack")]),
    ("bad_name", "demo", [("name", "spin_tenant")]),
    ("nobody", "demo", [("unknown-tenant", "spin_tenant")]),
])
def test_names_and_tenant(tenant, stack, expected):
    violations = run(service(""), tenant=tenant, stack=stack)
    assert [(v["rule"], v["key"]) for v in violations] == expected


@pytest.mark.parametrize("name, ok", [("web", True), ("web_2", True), ("db-primary", True), ("Web", False),
                                      ("2web", False), ("web.v1", False)])
def test_service_names(name, ok):
    model = parse("services:\n  %s:\n    image: httpd\n" % name)
    violations = run(model)
    assert [(v["rule"], v["service"]) for v in violations] == ([] if ok else [("name", name)])


@pytest.mark.parametrize("section, entry, overrides, rule", [
    ("networks", "ext: {external: true}", None, "external-network"),
    ("networks", "ext: {external: {name: magic_default}}", None, "external-network"),
    ("volumes", "ext: {external: true}", None, "external-volume"),
    ("secrets", "ext: {external: true}", None, "external-secret"),
    ("configs", "ext: {external: true}", None, "external-config"),
    ("networks", "ext: {external: {name: shared-lb}}", {"external": {"networks": ["shared-*"]}}, None),
    ("volumes", "ext: {driver: local}", None, None),
    ("volumes", "ext: {driver: nfs-plugin}", None, "volume-driver"),
    ("volumes", "ext: {driver_opts: {type: none, o: bind, device: /etc}}", None, "volume-driver"),
    ("volumes", "ext: {driver_opts: {type: tmpfs, device: tmpfs}}", {"volume_driver_opts": True}, None),
    ("networks", "ext: {driver: overlay}", None, None),
    ("networks", "ext: {driver: macvlan}", None, "network-driver"),
])
def test_top_level_sections(section, entry, overrides, rule):
    model = parse("services:\n  s:\n    image: httpd\n%s:\n  %s\n" % (section, entry))
    violations = run(model, spin_policy=overrides)
    assert [v["rule"] for v in violations] == ([rule] if rule else [])
    if rule:
        assert violations[0]["key"].startswith("%s.ext." % section)
        assert violations[0]["file"] == "docker-compose.yml"


@pytest.mark.parametrize("where", ["service", "deploy", "network"])
def test_reserved_labels_refused(where):
    # compose refuses these too; the policy refuses them whatever built the model
    model = parse("services:\n  s:\n    image: httpd\nnetworks:\n  n: {}\n")
    target = {"service": model["services"]["s"]["labels"], "deploy": model["services"]["s"]["deploy"]["labels"],
              "network": model["networks"]["n"]["labels"]}[where]
    target["spin.tenant"] = "magic"
    violations = run(model)
    assert [v["rule"] for v in violations] == ["reserved-label"]
    assert violations[0]["key"].endswith("labels.spin.tenant")


LB = """
services:
  web:
    image: httpd
  lb:
    image: rancher/lb-service-haproxy
    ports: ["%s"]
"""


LB_RANCHER = """
services:
  lb:
    lb_config:
      port_rules:
      - {source_port: %d, target_port: 80, service: web, protocol: %s}
"""


@pytest.mark.parametrize("port, protocol, rule", [
    ("80:80", "http", None),
    ("443:443", "https", None),
    ("8081:8081", "tcp", None),
    ("80:80", "tcp", "published-port"),
    ("443:443", "tls", "published-port"),
    ("22:22", "tcp", None),      # not the edge's port: the load balancer's check refuses it
])
def test_load_balancer_ports(port, protocol, rule):
    source = int(port.split(":")[0])
    model = parse(LB % port, LB_RANCHER % (source, protocol))
    violations = run(model)
    assert [v["rule"] for v in violations] == ([rule] if rule else [])
    if rule:
        assert violations[0]["service"] == "lb"


def test_quota_counts_every_service_and_other_stacks():
    model = parse("services:\n  a: {image: httpd, scale: 3}\n  b: {image: httpd, deploy: {mode: global}}\n")
    assert policy.stack_replicas(model, node_count=4) == {"a": 3, "b": 4}
    assert run(model, tenant="small") != []
    assert run(model, tenant="cory", other_replicas=5, node_count=2) == []
    violations = run(model, tenant="cory", other_replicas=6, node_count=2)
    assert [v["rule"] for v in violations] == ["replica-quota"]
    assert "the tenant's other stacks run 6: 11 in all, over tenant 'cory''s quota of 10" in violations[0]["message"]
    assert "by 1" in violations[0]["fix"]
    # the default quota applies when the registry gives none
    assert run(parse("services:\n  a: {image: httpd, scale: 10}\n"), tenant="magic") == []
    assert run(parse("services:\n  a: {image: httpd, scale: 11}\n"), tenant="magic")[0]["rule"] == "replica-quota"


def test_quota_skipped_on_request():
    model = parse("services:\n  a: {image: httpd, scale: 50}\n")
    assert run(model, skip=("replica-quota", "resource-quota")) == []


def test_every_violation_at_once():
    model = parse("""
        services:
          web:
            image: evil/miner
            privileged: true
            user: root
            volumes:
            - /global/cfs/cdirs/magic:/data
            - /var/run/docker.sock:/var/run/docker.sock
            - /etc:/etc2
            cap_add: [SYS_ADMIN]
            network_mode: host
            security_opt: [seccomp=unconfined]
            sysctls: {net.ipv4.ip_forward: "1"}
            ports: [{target: 80, published: 80, mode: host}]
            scale: 30
            cgroup_parent: x
        volumes:
          v: {external: true}
        """)
    violations = run(model, stack="My_Stack")
    rules = sorted(v["rule"] for v in violations)
    assert rules == sorted(["image", "privileged", "global-fs-user", "global-fs-path", "global-fs-read-only",
                            "docker-socket", "host-path", "cap-add", "host-namespace", "security-opt", "sysctls",
                            "published-port", "replica-quota", "cgroup-parent", "external-volume", "name",
                            # 30 replicas of the default 1 CPU and 1 GiB: over the default 16 of each
                            "resource-quota", "resource-quota"])


def test_format_violation_like_a_compiler():
    model = parse('services:\n  web:\n    image: httpd\n    user: root\n'
                  '    volumes: ["/global/cfs/cdirs/cory:/data:ro"]\n')
    violations = run(model)
    assert [policy_settings.format_violation(v) for v in violations] == [
        "docker-compose.yml: service 'web': key 'user': [global-fs-user] mounts /global/cfs/cdirs/cory but runs "
        "as root; run as the tenant's uid: add \"user: 1000:1000\""]


def test_other_tenants_uid_is_named():
    violations = run(service('volumes: ["/global/cfs/cdirs/cory:/d:ro"]\nuser: "1001:1001"'))
    assert "runs as uid 1001, which belongs to tenant 'magic'" in violations[0]["message"]


def test_disabled_rules_are_not_reported():
    assert run(service("privileged: true"), spin_policy={"disabled_rules": ["privileged"]}) == []


def test_global_fs_roots_from_platform_vars():
    pol = make_policy(roots=["/gpfs/"])
    model = service('volumes: ["/gpfs/proj:/d"]')
    violations = policy.evaluate(model, "cory", pol["tenants"]["cory"], pol, stack="demo")
    assert sorted(v["rule"] for v in violations) == ["global-fs-path", "global-fs-read-only", "global-fs-user"]
    # /global/cfs is now an ordinary host path
    violations = policy.evaluate(service('volumes: ["/global/cfs/cdirs/cory:/d:ro"]'), "cory",
                                 pol["tenants"]["cory"], pol, stack="demo")
    assert [v["rule"] for v in violations] == ["host-path"]


@pytest.mark.parametrize("body, cap_add", [
    ("", policy_settings.SPIN_CAPABILITIES),
    ("cap_drop: [NET_RAW]", policy_settings.SPIN_CAPABILITIES),
    ("cap_add: [kill]", ["KILL"]),
    ('volumes: ["/global/cfs/cdirs/cory:/d:ro"]\nuser: "1000"', ["NET_BIND_SERVICE"]),
])
def test_apply_policy_defaults(body, cap_add):
    model = service(body)
    before = copy.deepcopy(model)
    pol = make_policy()
    out = policy.apply_policy_defaults(model, "cory", pol["tenants"]["cory"], pol)
    assert model == before  # a new model, the input untouched
    assert out["services"]["s"]["cap_drop"] == ["ALL"]
    assert out["services"]["s"]["cap_add"] == cap_add


def seed_files():
    found = sorted(glob.glob(os.path.join(ROOT, "examples", "seed", "*compose*.yml")))
    if not found:
        pytest.skip("examples/seed has no compose files")
    return {os.path.basename(p): open(p).read() for p in found}


def test_seed_passes_with_default_policy():
    files = seed_files()
    model, diagnostics = compose.parse_stack(files["docker-compose.yml"], "docker-compose.yml",
                                             files.get("rancher-compose.yml"), "rancher-compose.yml")
    assert not diag.has_errors(diagnostics)
    pol = make_policy()
    model = policy.apply_policy_defaults(model, "cory", pol["tenants"]["cory"], pol)
    assert policy.evaluate(model, "cory", pol["tenants"]["cory"], pol, stack="seed") == []
    assert model["services"]["web"]["cap_drop"] == ["ALL"]
    assert "NET_BIND_SERVICE" in model["services"]["web"]["cap_add"]


@pytest.mark.parametrize("image, images, refused", [
    ("magic/magic-web:0123456789abcdef", ["*"], True),                 # another tenant's build, a wildcard allows all
    ("reg.example.org/magic/magic-web:01234567", ["*"], True),         # through a registry too
    ("cory/demo-web:0123456789abcdef", ["*"], False),                  # the tenant's own
    ("magic/magic-web:0123456789abcdef", ["magic/*"], False),          # staff named that tenant's namespace
    ("httpd", ["*"], False),
])
def test_another_tenants_image_runs_only_where_staff_name_its_namespace(image, images, refused):
    """On main a service could run another tenant's built image (on a one-node platform it is on the engine)."""
    found = run(service("", image=image), spin_policy={"images": images, "registries": ["reg.example.org"]})
    messages = [policy_settings.format_violation(v) for v in found if v["rule"] == "image"]
    if refused:
        assert messages == ["docker-compose.yml: service 's': key 'image': [image] image '%s' is tenant 'magic''s image "
                            "(its builds are tagged magic/...): a stack runs and builds from the platform's allowed "
                            "images and its own tenant's only; use one of the allowed images, or build your own "
                            "(build:)" % image]
    else:
        assert messages == []
