"""compose_keys_deploy, through parse_stack: the deploy key and its sub-keys (input -> model, and the
exact diagnostics)."""
import pytest

from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import (
    MiB, S, check_error, check_supported_key)


SUPPORTED = [
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
]


@pytest.mark.parametrize("body, path, expected", SUPPORTED)
def test_supported_key(body, path, expected):
    check_supported_key(body, path, expected)


ERRORS = [
    ("deploy: {labels: {com.docker.stack.namespace: x}}",
     ["key 'deploy.labels': label 'com.docker.stack.namespace' is reserved for the platform "
      "(spin.*, com.docker.stack.*): rename it"]),
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
]


@pytest.mark.parametrize("body, expected", ERRORS)
def test_error(body, expected):
    check_error(body, expected)
