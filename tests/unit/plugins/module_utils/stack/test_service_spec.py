import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.stack.service_spec import build_service_spec, references
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.stack.captured_specs import API, REFS, build


def dig(spec, path):
    for key in path.split("."):
        spec = spec[int(key)] if isinstance(spec, list) else spec[key]
    return spec


@pytest.mark.parametrize("params, path, value", [
    ({}, "TaskTemplate.ContainerSpec.Image", "httpd"),
    ({}, "Mode", {"Replicated": {"Replicas": 1}}),
    ({}, "EndpointSpec", {"Mode": "dnsrr"}),
    ({}, "Labels", {}),
    ({"replicas": 0}, "Mode", {"Replicated": {"Replicas": 0}}),
    ({"mode": "global", "replicas": 3}, "Mode", {"Global": {}}),
    ({"command": ["-c", 1]}, "TaskTemplate.ContainerSpec.Args", ["-c", "1"]),
    ({"entrypoint": ["sh"]}, "TaskTemplate.ContainerSpec.Command", ["sh"]),
    ({"env": {"B": "2", "A": 1, "E": None}}, "TaskTemplate.ContainerSpec.Env", ["A=1", "B=2", "E="]),
    ({"workdir": "/srv"}, "TaskTemplate.ContainerSpec.Dir", "/srv"),
    ({"user": "1000:1000"}, "TaskTemplate.ContainerSpec.User", "1000:1000"),
    ({"hostname": "h"}, "TaskTemplate.ContainerSpec.Hostname", "h"),
    ({"container_labels": {"a": 1}}, "TaskTemplate.ContainerSpec.Labels", {"a": "1"}),
    ({"labels": {"spin.stack": "s"}}, "Labels", {"spin.stack": "s"}),
    ({"cap_add": ["net_admin", "CAP_SYS_TIME", "ALL"]}, "TaskTemplate.ContainerSpec.CapabilityAdd",
     ["CAP_NET_ADMIN", "CAP_SYS_TIME", "ALL"]),
    ({"cap_drop": ["MKNOD"]}, "TaskTemplate.ContainerSpec.CapabilityDrop", ["CAP_MKNOD"]),
    ({"read_only": True}, "TaskTemplate.ContainerSpec.ReadOnly", True),
    ({"init": True}, "TaskTemplate.ContainerSpec.Init", True),
    ({"stop_grace_period": "1m30s"}, "TaskTemplate.ContainerSpec.StopGracePeriod", 90 * 10**9),
    ({"stop_grace_period": 5}, "TaskTemplate.ContainerSpec.StopGracePeriod", 5 * 10**9),
    ({"stop_signal": "SIGQUIT"}, "TaskTemplate.ContainerSpec.StopSignal", "SIGQUIT"),
    ({"sysctls": {"net.core.somaxconn": 1024}}, "TaskTemplate.ContainerSpec.Sysctls", {"net.core.somaxconn": "1024"}),
    ({"healthcheck": {"test": "curl -f localhost", "interval": "5s", "retries": 2}},
     "TaskTemplate.ContainerSpec.Healthcheck",
     {"Test": ["CMD-SHELL", "curl -f localhost"], "Interval": 5 * 10**9, "Retries": 2}),
    ({"healthcheck": {"test": ["NONE"], "interval": "5s"}}, "TaskTemplate.ContainerSpec.Healthcheck",
     {"Test": ["NONE"]}),
    ({"healthcheck": {"test": "none"}}, "TaskTemplate.ContainerSpec.Healthcheck", {"Test": ["NONE"]}),
    ({"mounts": [{"type": "volume", "source": "data", "target": "/d", "volume_driver": None, "volume_options": None,
                  "readonly": False}]}, "TaskTemplate.ContainerSpec.Mounts",
     [{"Type": "volume", "Source": "data", "Target": "/d"}]),
    ({"mounts": [{"type": "volume", "source": "data", "target": "/d", "volume_options": {"o": 1}}]},
     "TaskTemplate.ContainerSpec.Mounts.0.VolumeOptions", {"DriverConfig": {"Name": "local", "Options": {"o": "1"}}}),
    ({"mounts": [{"type": "bind", "source": "/srv", "target": "/s", "readonly": True}]},
     "TaskTemplate.ContainerSpec.Mounts", [{"Type": "bind", "Source": "/srv", "Target": "/s", "ReadOnly": True}]),
    ({"mounts": [{"type": "tmpfs", "target": "/t", "tmpfs_size": "1k", "tmpfs_mode": "0700"}]},
     "TaskTemplate.ContainerSpec.Mounts", [{"Type": "tmpfs", "Target": "/t",
                                            "TmpfsOptions": {"SizeBytes": 1024, "Mode": 0o700}}]),
    ({"secrets": [{"secret_name": "pw"}]}, "TaskTemplate.ContainerSpec.Secrets",
     [{"File": {"Name": "pw", "UID": "0", "GID": "0", "Mode": 0o444}, "SecretID": "sid1", "SecretName": "pw"}]),
    ({"secrets": [{"secret_name": "pw", "target": "db", "uid": "33", "mode": "0400"}]},
     "TaskTemplate.ContainerSpec.Secrets.0.File", {"Name": "db", "UID": "33", "GID": "0", "Mode": 0o400}),
    ({"configs": [{"config_name": "conf", "target": "/etc/c", "mode": 0o440}]}, "TaskTemplate.ContainerSpec.Configs",
     [{"File": {"Name": "/etc/c", "UID": "0", "GID": "0", "Mode": 0o440}, "ConfigID": "cid1", "ConfigName": "conf"}]),
    ({"resources": {"limits": {"cpus": 0.5, "memory": "512M", "pids": 10}, "reservations": {"cpus": None, "memory": None}}},
     "TaskTemplate.Resources", {"Limits": {"NanoCPUs": 500000000, "MemoryBytes": 512 * 1024**2, "Pids": 10}}),
    ({"resources": {"limits": None, "reservations": {"cpus": "0.25", "memory": 1024}}},
     "TaskTemplate.Resources", {"Reservations": {"NanoCPUs": 250000000, "MemoryBytes": 1024}}),
    ({"restart_policy": {"condition": "on-failure", "delay": None, "max_attempts": 3, "window": "1m"}},
     "TaskTemplate.RestartPolicy", {"Condition": "on-failure", "MaxAttempts": 3, "Window": 60 * 10**9}),
    ({"restart_policy": {"delay": "1s"}}, "TaskTemplate.RestartPolicy", {"Condition": "any", "Delay": 10**9}),
    ({"placement": {"constraints": ["node.role==worker"], "preferences": [{"spread": "node.labels.zone"}],
                    "max_replicas": 2}}, "TaskTemplate.Placement",
     {"Constraints": ["node.role==worker"], "Preferences": [{"Spread": {"SpreadDescriptor": "node.labels.zone"}}],
      "MaxReplicas": 2}),
    ({"logging": {"driver": "json-file", "options": {"max-file": 3}}}, "TaskTemplate.LogDriver",
     {"Name": "json-file", "Options": {"max-file": "3"}}),
    ({"networks": [{"name": "net_b", "aliases": ["web"]}, {"name": "net_a", "aliases": None}]}, "TaskTemplate.Networks",
     [{"Target": "id_b", "Aliases": ["web"]}, {"Target": "id_a"}]),
    # a partial update_config gets Docker's defaults for the rest: Docker would otherwise store parallelism 0 (all at once)
    ({"update_config": {"order": "start-first", "parallelism": None}}, "UpdateConfig",
     {"Parallelism": 1, "Delay": 0, "FailureAction": "pause", "Monitor": 5 * 10**9, "MaxFailureRatio": 0.0,
      "Order": "start-first"}),
    ({"rollback_config": {"parallelism": 0, "monitor": "10s"}}, "RollbackConfig.Parallelism", 0),
    ({"publish": [{"target_port": 80, "published_port": 8080}]}, "EndpointSpec",
     {"Mode": "dnsrr", "Ports": [{"Protocol": "tcp", "TargetPort": 80, "PublishedPort": 8080, "PublishMode": "host"}]}),
    ({"endpoint_mode": "vip", "publish": [{"target_port": 53, "protocol": "udp"}]}, "EndpointSpec",
     {"Mode": "vip", "Ports": [{"Protocol": "udp", "TargetPort": 53, "PublishMode": "ingress"}]}),
    # issue 8: jobs, terminals, ulimits, nocopy, a healthcheck that tunes the image's own
    ({"mode": "replicated-job", "replicas": 2}, "Mode", {"ReplicatedJob": {"MaxConcurrent": 2, "TotalCompletions": 2}}),
    ({"mode": "global-job"}, "Mode", {"GlobalJob": {}}),
    ({"tty": True, "stdin_open": True}, "TaskTemplate.ContainerSpec.TTY", True),
    ({"tty": True, "stdin_open": True}, "TaskTemplate.ContainerSpec.OpenStdin", True),
    ({"ulimits": [{"name": "nproc", "soft": 10, "hard": 20}, {"name": "memlock", "soft": -1, "hard": -1}]},
     "TaskTemplate.ContainerSpec.Ulimits",
     [{"Name": "memlock", "Soft": -1, "Hard": -1}, {"Name": "nproc", "Soft": 10, "Hard": 20}]),
    ({"mounts": [{"type": "volume", "source": "d", "target": "/d", "volume_nocopy": True}]},
     "TaskTemplate.ContainerSpec.Mounts", [{"Type": "volume", "Target": "/d", "Source": "d",
                                            "VolumeOptions": {"NoCopy": True}}]),
    ({"healthcheck": {"interval": "2s", "retries": 5}}, "TaskTemplate.ContainerSpec.Healthcheck",
     {"Interval": 2 * 10**9, "Retries": 5}),
])
def test_build(params, path, value):
    assert dig(build(**params), path) == value


@pytest.mark.parametrize("params, absent", [
    ({"read_only": False, "init": False, "tty": False, "stdin_open": False, "ulimits": []},
     ["ReadOnly", "Init", "TTY", "OpenStdin", "Ulimits"]),
    ({"env": {}, "command": None, "entrypoint": None, "container_labels": {}, "sysctls": {}},
     ["Env", "Args", "Command", "Labels", "Sysctls"]),
    ({"healthcheck": None, "mounts": [], "secrets": [], "configs": [], "cap_add": [], "cap_drop": []},
     ["Healthcheck", "Mounts", "Secrets", "Configs", "CapabilityAdd", "CapabilityDrop"]),
])
def test_build_leaves_out_empty_options(params, absent):
    spec = build(**params)["TaskTemplate"]["ContainerSpec"]
    assert sorted(spec) == ["Image"]
    for key in absent:
        assert key not in spec


@pytest.mark.parametrize("params, api, words", [
    ({"image": None}, API, ["t_web", "'image'"]),
    ({"env": {"DEBUG": True}}, API, ["'env.DEBUG'", "quote it", "'true'"]),
    ({"healthcheck": {"test": ["CMD", "true"], "interval": "5 s"}}, API, ["'healthcheck.interval'", "'5 s'"]),
    ({"healthcheck": {"test": ["curl", "x"]}}, API, ["'healthcheck.test'", "CMD"]),
    ({"healthcheck": {"test": []}}, API, ["'healthcheck.test'", "NONE"]),
    ({"healthcheck": {"retries": None}}, API, ["'healthcheck'", "give a test, or the settings"]),
    ({"mode": "replicated-job", "replicas": 0}, API, ["'replicas'", "at least one task"]),
    ({"mode": "replicated-job", "update_config": {"parallelism": 1}}, API, ["'update_config'", "a job has no"]),
    ({"ulimits": [{"name": "nofile", "soft": 1, "hard": 1}]}, "1.40", ["'ulimits'", "1.41"]),
    ({"resources": {"limits": {"memory": "lots"}}}, API, ["'resources.limits.memory'", "'lots'"]),
    ({"resources": {"limits": {"cpus": "many"}}}, API, ["'resources.limits.cpus'"]),
    ({"mounts": [{"type": "bind", "source": "data", "target": "/d"}]}, API, ["'mounts[0].source'", "absolute"]),
    ({"mounts": [{"type": "tmpfs", "source": "x", "target": "/d"}]}, API, ["'mounts[0].source'", "tmpfs"]),
    ({"mounts": [{"type": "volume", "source": "x"}]}, API, ["'mounts[0].target'"]),
    ({"networks": [{"name": "nope"}]}, API, ["'networks[0]'", "'nope'", "does not exist"]),
    ({"secrets": [{"secret_name": "nope"}]}, API, ["'secrets[0]'", "secret 'nope'"]),
    ({"configs": [{"config_name": "conf", "mode": "rwx"}]}, API, ["'configs[0].mode'", "octal"]),
    ({"publish": [{"target_port": 80, "mode": "ingress"}]}, API, ["'publish[0].mode'", "endpoint_mode vip", "host"]),
    ({"placement": {"preferences": [{"spread": None}]}}, API, ["'placement.preferences[0]'"]),
    ({"resources": {"limits": {"pids": 10}}}, "1.40", ["'resources.limits.pids'", "1.41", "1.40"]),
    ({"cap_add": ["NET_ADMIN"]}, "1.40", ["'cap_add'", "1.41"]),
    ({"sysctls": {"a": "1"}}, "1.39", ["'sysctls'", "1.40"]),
])
def test_build_refuses_with_a_message_naming_service_and_key(params, api, words):
    params = dict({"name": "t_web", "image": "httpd"}, **params)
    with pytest.raises(SpinError) as err:
        build_service_spec(params, REFS, api)
    for word in words:
        assert word in err.value.message
    assert err.value.message.startswith("service 't_web': key ")


def test_build_allows_new_options_on_new_api():
    spec = build_service_spec({"name": "x", "image": "i", "resources": {"limits": {"pids": 5}}}, REFS, "1.41")
    assert spec["TaskTemplate"]["Resources"]["Limits"]["Pids"] == 5


def test_references_lists_names_to_resolve():
    params = {"networks": [{"name": "a"}, {"name": "b"}], "secrets": [{"secret_name": "s"}], "configs": None}
    assert references(params) == {"networks": ["a", "b"], "secrets": ["s"], "configs": []}
