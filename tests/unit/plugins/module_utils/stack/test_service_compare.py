"""service_compare: a built service spec against what Docker stored (the captured specs in
fixtures/service_specs.json): no difference where Docker only filled in its defaults, exactly the change
where there is one; image names, and whether a task runs the current template."""
import copy

import pytest

from ansible_collections.spin.platform.plugins.module_utils.stack.service_compare import (
    compare_service_spec, describe_service_spec, image_equal, task_is_current)
from ansible_collections.spin.platform.plugins.module_utils.stack.service_spec import build_service_spec
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.stack.captured_specs import (
    API, CAPTURED, build)

DIGEST = "sha256:" + "a" * 64


CASES = dict((c["case"], c) for c in CAPTURED["cases"])


@pytest.mark.parametrize("form", ["spec", "spec_with_defaults"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_no_differences_against_what_docker_stored(case, form):
    """A no-op re-run: params -> spec equals what Docker 20.10 stored for the same params (created by
    this module's builder, by the docker CLI, or by `docker stack deploy`), read as stored and as
    `docker service inspect` shows it with Docker's defaults inserted."""
    c = CASES[case]
    desired = build_service_spec(c["params"], c["refs"], API)
    assert compare_service_spec(desired, c[form], c["refs"]) == []


def test_fixture_holds_docker_defaults_the_compare_must_ignore():
    # guards the point of the cases above: Docker and its clients really added these
    cli = CASES["cli_defaults"]["spec"]["TaskTemplate"]
    assert cli["ContainerSpec"]["Image"] == "httpd:latest" and cli["ContainerSpec"]["Init"] is False
    assert cli["Placement"] == {} and cli["Resources"] == {"Limits": {}, "Reservations": {}}
    assert "Privileges" in CASES["stack_defaults"]["spec"]["TaskTemplate"]["ContainerSpec"]
    assert CASES["minimal"]["spec"]["TaskTemplate"]["Runtime"] == "container"
    assert CASES["minimal"]["spec"]["TaskTemplate"]["ContainerSpec"]["Isolation"] == "default"
    filled = CASES["minimal"]["spec_with_defaults"]
    assert "RestartPolicy" not in CASES["minimal"]["spec"]["TaskTemplate"]
    assert filled["TaskTemplate"]["RestartPolicy"] == {"Condition": "any", "Delay": 5 * 10**9, "MaxAttempts": 0}
    assert filled["TaskTemplate"]["ContainerSpec"]["StopGracePeriod"] == 10 * 10**9
    assert filled["UpdateConfig"]["Monitor"] == filled["RollbackConfig"]["Monitor"] == 5 * 10**9
    # a partial update_config as Docker stores it: parallelism 0 unless the module fills it in
    assert CASES["full"]["spec"]["RollbackConfig"]["Parallelism"] == 0


def test_service_created_without_endpoint_spec_is_vip():
    c = CASES["minimal"]
    actual = copy.deepcopy(c["spec"])
    del actual["EndpointSpec"]
    params = dict(c["params"], endpoint_mode="vip")
    assert compare_service_spec(build_service_spec(params, c["refs"], API), actual, c["refs"]) == []
    params["endpoint_mode"] = "dnsrr"
    assert [tuple(d) for d in compare_service_spec(build_service_spec(params, c["refs"], API), actual, c["refs"])] == [
        ("endpoint_mode", "vip", "dnsrr")]


def changed(case, **changes):
    c = CASES[case]
    params = copy.deepcopy(c["params"])
    for key, value in changes.items():
        if value is _DROP:
            params.pop(key, None)
        else:
            params[key] = value
    desired = build_service_spec(params, c["refs"], API)
    return [tuple(d) for d in compare_service_spec(desired, c["spec"], c["refs"])]


_DROP = object()


HC = {"test": ["CMD", "curl", "-fs", "http://localhost/"], "interval": "5s", "timeout": "2s", "retries": 3,
      "start_period": "10s"}


@pytest.mark.parametrize("case, changes, expected", [
    ("web", {"env": {"A": "9", "B": "2", "EMPTY": ""}}, [("env.A", "1", "9")]),
    ("web", {"env": {"EMPTY": "", "B": "2", "A": "1"}}, []),
    ("web", {"env": {"A": "1", "B": "2"}}, [("env.EMPTY", "", None)]),
    ("web", {"replicas": 3}, [("replicas", 2, 3)]),
    ("web", {"image": "httpd"}, []),
    ("web", {"image": "docker.io/library/httpd:latest"}, []),
    ("web", {"image": "httpd:2.4"}, [("image", "httpd:latest", "httpd:2.4")]),
    ("web", {"healthcheck": _DROP},
     [("healthcheck", {"test": HC["test"], "interval": "5s", "timeout": "2s", "start_period": "10s", "retries": 3},
       None)]),
    ("web", {"healthcheck": dict(HC, interval="10s")}, [("healthcheck.interval", "5s", "10s")]),
    ("web", {"networks": [{"name": "svct_cap_net", "aliases": ["www", "web"]}]}, []),
    ("web", {"networks": [{"name": "svct_cap_net", "aliases": ["web"]}]},
     [("networks", [{"name": "svct_cap_net", "aliases": ["web", "www"]}], [{"name": "svct_cap_net", "aliases": ["web"]}])]),
    ("web", {"labels": {"spin.tenant": "t1"}}, [("labels.spin.stack", "s1", None)]),
    ("web", {"update_config": _DROP}, [("update_config.order", "start-first", "stop-first")]),
    ("web", {"publish": [{"target_port": 80, "published_port": 18091, "mode": "host"}]},
     [("publish", [{"published_port": 18090, "target_port": 80, "protocol": "tcp", "mode": "host"}],
       [{"published_port": 18091, "target_port": 80, "protocol": "tcp", "mode": "host"}])]),
    ("web", {"endpoint_mode": "vip", "publish": []},
     [("endpoint_mode", "dnsrr", "vip"),
      ("publish", [{"published_port": 18090, "target_port": 80, "protocol": "tcp", "mode": "host"}], [])]),
    ("full", {"cap_add": _DROP}, [("cap_add", ["CAP_NET_ADMIN", "CAP_SYS_TIME"], [])]),
    ("full", {"cap_add": ["CAP_SYS_TIME", "net_admin"]}, []),
    ("full", {"read_only": False, "init": False}, [("read_only", True, False), ("init", True, False)]),
    ("full", {"resources": {"limits": {"cpus": 0.5, "memory": "128M", "pids": 200},
                            "reservations": {"cpus": 0.1, "memory": "8M"}}},
     [("resources.limits.memory", 64 * 1024**2, 128 * 1024**2)]),
    ("full", {"resources": _DROP},
     [("resources.limits.cpus", 0.5, None), ("resources.limits.memory", 64 * 1024**2, None),
      ("resources.limits.pids", 200, None), ("resources.reservations.cpus", 0.1, None),
      ("resources.reservations.memory", 8 * 1024**2, None)]),
    ("full", {"restart_policy": _DROP},
     [("restart_policy.condition", "on-failure", "any"), ("restart_policy.delay", "2s", "5s"),
      ("restart_policy.max_attempts", 5, 0), ("restart_policy.window", "1m", "0s")]),
    ("full", {"placement": {"constraints": ["node.platform.os==linux", "node.role==manager"],
                            "preferences": [{"spread": "node.labels.zone"}], "max_replicas": 2}}, []),
    ("full", {"mounts": [{"type": "bind", "source": "/tmp", "target": "/host-tmp", "readonly": True}]},
     [("mounts",
       [{"type": "volume", "source": "svct_cap_vol", "target": "/data", "readonly": False, "volume_driver": "local",
         "volume_options": {"device": "tmpfs", "type": "tmpfs"}, "volume_labels": {}, "tmpfs_size": None, "tmpfs_mode": None, "volume_nocopy": False},
        {"type": "bind", "source": "/tmp", "target": "/host-tmp", "readonly": True, "volume_driver": None,
         "volume_options": {}, "volume_labels": {}, "tmpfs_size": None, "tmpfs_mode": None, "volume_nocopy": False},
        {"type": "tmpfs", "source": None, "target": "/scratch", "readonly": False, "volume_driver": None,
         "volume_options": {}, "volume_labels": {}, "tmpfs_size": 16 * 1024**2, "tmpfs_mode": 0o1777, "volume_nocopy": False}],
       [{"type": "bind", "source": "/tmp", "target": "/host-tmp", "readonly": True, "volume_driver": None,
         "volume_options": {}, "volume_labels": {}, "tmpfs_size": None, "tmpfs_mode": None, "volume_nocopy": False}])]),
    ("full", {"secrets": [{"secret_name": "svct_cap_secret", "target": "db_password", "mode": "0440"}]},
     [("secrets", [{"secret_name": "svct_cap_secret", "target": "db_password", "uid": "0", "gid": "0", "mode": 0o400}],
       [{"secret_name": "svct_cap_secret", "target": "db_password", "uid": "0", "gid": "0", "mode": 0o440}])]),
    ("full", {"logging": _DROP}, [("logging", {"driver": "json-file", "options": {"max-size": "1m", "max-file": "2"}},
                                   None)]),
    ("full", {"rollback_config": {"parallelism": 0, "order": "stop-first"}},
     [("rollback_config.order", "start-first", "stop-first")]),
    ("full", {"stop_signal": None, "hostname": None, "user": None, "workdir": None},
     [("workdir", "/tmp", None), ("user", "0:0", None), ("hostname", "worker", None), ("stop_signal", "SIGINT", None)]),
    ("full", {"command": _DROP, "entrypoint": _DROP},
     [("command", ["exec sleep infinity"], []), ("entrypoint", ["/bin/sh", "-c"], [])]),
    ("full", {"sysctls": {}}, [("sysctls.net.core.somaxconn", "1024", None)]),
    ("global_vip", {"mode": "replicated", "replicas": 1}, [("mode", "global", "replicated"), ("replicas", None, 1)]),
    ("global_vip", {"replicas": 5}, []),  # replicas mean nothing to a global service
    ("switched_off", {"healthcheck": _DROP}, [("healthcheck", {"test": ["NONE"], "interval": None, "timeout": None,
                                                               "start_period": None, "retries": None}, None)]),
    # Docker's defaults, written out or left out, are equal
    ("cli_defaults", {"restart_policy": {"condition": "any", "delay": "5s", "max_attempts": 0}}, []),
    ("cli_defaults", {"restart_policy": {"delay": "6s"}}, [("restart_policy.delay", "5s", "6s")]),
    ("cli_defaults", {"update_config": {"monitor": "5s"}, "rollback_config": {"order": "stop-first"}}, []),
    ("cli_defaults", {"stop_grace_period": "10s", "init": False, "placement": {"constraints": []},
                      "resources": {"limits": {"cpus": None}}}, []),
    ("cli_defaults", {"stop_grace_period": "11s"}, [("stop_grace_period", "10s", "11s")]),
    ("cli_defaults", {"endpoint_mode": "vip"}, [("endpoint_mode", "dnsrr", "vip")]),
    ("stack_defaults", {"container_labels": {}}, [("container_labels.com.docker.stack.namespace", "svct_cap_stk", None)]),
])
def test_compare_reports_exactly_the_change(case, changes, expected):
    assert changed(case, **changes) == expected


def test_env_order_in_the_actual_spec_does_not_matter():
    c = CASES["web"]
    actual = copy.deepcopy(c["spec"])
    actual["TaskTemplate"]["ContainerSpec"]["Env"].reverse()
    assert compare_service_spec(build_service_spec(c["params"], c["refs"], API), actual, c["refs"]) == []


def test_networks_compare_by_id_and_show_names():
    c = CASES["web"]
    actual = copy.deepcopy(c["spec"])
    actual["TaskTemplate"]["Networks"][0]["Target"] = "some0other0network0id"
    diffs = compare_service_spec(build_service_spec(c["params"], c["refs"], API), actual, c["refs"])
    assert [(d.path, d.before[0]["name"], d.after[0]["name"]) for d in diffs] == [
        ("networks", "some0other0network0id", "svct_cap_net")]


def test_legacy_top_level_networks_are_read():
    c = CASES["web"]
    actual = copy.deepcopy(c["spec"])
    actual["Networks"] = actual["TaskTemplate"].pop("Networks")
    assert compare_service_spec(build_service_spec(c["params"], c["refs"], API), actual, c["refs"]) == []


def test_describe_is_option_shaped():
    c = CASES["web"]
    d = describe_service_spec(c["spec"], c["refs"])
    assert d["image"] == "httpd:latest" and d["replicas"] == 2 and d["env"] == {"A": "1", "B": "2", "EMPTY": ""}
    assert d["networks"] == [{"name": "svct_cap_net", "aliases": ["web", "www"]}]
    assert d["restart_policy"] == {"condition": "any", "delay": "5s", "max_attempts": 0, "window": "0s"}


@pytest.mark.parametrize("desired, actual, equal", [
    ("httpd", "httpd", True),
    ("httpd", "httpd:latest", True),
    ("httpd", "httpd:latest@" + DIGEST, True),
    ("httpd:latest", "docker.io/library/httpd:latest@" + DIGEST, True),
    ("httpd", "httpd:2.4@" + DIGEST, False),
    ("httpd:2.4", "httpd:2.4@" + DIGEST, True),
    ("httpd", "nginx", False),
    ("httpd@" + DIGEST, "httpd:latest@" + DIGEST, True),
    ("httpd@" + DIGEST, "httpd:latest@sha256:" + "b" * 64, False),
    ("httpd@" + DIGEST, "httpd:latest", False),
    ("httpd", "httpd@" + DIGEST, False),  # pinned without a tag: cannot know it is latest
    ("spin/base:bookworm", "spin/base:bookworm", True),
    ("reg.example.org:5000/app:1", "reg.example.org:5000/app:1", True),
])
def test_image_equal(desired, actual, equal):
    assert image_equal(desired, actual) is equal


def task_spec_of(template):
    spec = copy.deepcopy(template)
    spec.pop("Runtime", None)  # Docker's tasks carry the template without Runtime
    return spec


@pytest.mark.parametrize("case", sorted(CASES))
def test_task_made_from_the_template_is_current(case):
    template = CASES[case]["spec"]["TaskTemplate"]
    assert task_is_current(task_spec_of(template), template)


@pytest.mark.parametrize("change", [
    lambda t: t["ContainerSpec"].__setitem__("Image", "httpd:2.4"),
    lambda t: t["ContainerSpec"].__setitem__("Env", ["A=0"]),
    lambda t: t.__setitem__("ForceUpdate", 1),
    lambda t: t.__setitem__("RestartPolicy", {"Condition": "none"}),
])
def test_task_of_an_older_template_is_not_current(change):
    template = CASES["web"]["spec"]["TaskTemplate"]
    old = task_spec_of(template)
    change(old)
    assert not task_is_current(old, template)


def test_jobs_terminals_and_ulimits_are_compared():
    stored = build(mode="replicated-job", replicas=2, tty=True, ulimits=[{"name": "nofile", "soft": 1, "hard": 2}])
    same = build(mode="replicated-job", replicas=2, tty=True, ulimits=[{"name": "nofile", "soft": 1, "hard": 2}])
    assert compare_service_spec(same, stored) == []
    other = build(mode="replicated-job", replicas=3, ulimits=[{"name": "nofile", "soft": 1, "hard": 4}])
    assert [(d.path, d.before, d.after) for d in compare_service_spec(other, stored)] == [
        ("ulimits", [{"name": "nofile", "soft": 1, "hard": 2}], [{"name": "nofile", "soft": 1, "hard": 4}]),
        ("tty", True, False), ("replicas", 2, 3)]
