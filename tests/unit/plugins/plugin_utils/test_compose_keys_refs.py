"""compose_keys_refs, through parse_stack: what refers to something else (networks, links, depends_on)
and healthcheck, restart, logging, secrets and configs (input -> model, and the exact diagnostics)."""
import pytest

from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import (
    S, check_error, check_supported_key, check_warning)


SUPPORTED = [
    ("networks: [front, back]", "networks", {"front": {"aliases": []}, "back": {"aliases": []}}),
    ("networks: {front: {aliases: [www]}, back: null}", "networks", {"front": {"aliases": ["www"]},
                                                                     "back": {"aliases": []}}),
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
    ("secrets: [pw]", "secrets", [{"source": "pw", "target": "pw", "uid": "0", "gid": "0", "mode": 0o444}]),
    ("secrets: [{source: cert, target: /etc/c.pem, uid: '33', gid: 33, mode: 0400}]", "secrets",
     [{"source": "cert", "target": "/etc/c.pem", "uid": "33", "gid": "33", "mode": 0o400}]),
    ("secrets: [{source: cert, mode: '0440'}]", "secrets.0.mode", 0o440),
    ("configs: [conf]", "configs", [{"source": "conf", "target": "/conf", "uid": "0", "gid": "0", "mode": 0o444}]),
    ("configs: [{source: conf, target: /etc/app.conf}]", "configs.0.target", "/etc/app.conf"),
    ("logging: {driver: json-file, options: {max-size: 10m, max-file: 3}}", "logging",
     {"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}}),
    ("log_driver: syslog\nlog_opt: {tag: web}", "logging", {"driver": "syslog", "options": {"tag": "web"}}),
    ("log_driver: syslog", "logging", {"driver": "syslog", "options": {}}),
]


@pytest.mark.parametrize("body, path, expected", SUPPORTED)
def test_supported_key(body, path, expected):
    check_supported_key(body, path, expected)


ERRORS = [
    ("networks: [nonet]", ["key 'networks.nonet': network 'nonet' is not declared under the top-level networks "
                           "(did you mean 'front'?)"]),
    ("networks: [xyz]", ["key 'networks.xyz': network 'xyz' is not declared under the top-level networks"]),
    ("networks: {front: {ipv4_address: 10.0.0.5}}",
     ["key 'networks.front.ipv4_address': not supported on spin.platform: Swarm assigns the addresses; reach the "
      "service by its name"]),
    ("networks: {front: {aliase: [x]}}", ["key 'networks.front.aliase': unknown key (did you mean 'aliases'?)"]),
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
    ("secrets: [nope]", ["key 'secrets[0]': secret 'nope' is not declared under the top-level secrets"]),
    ("secrets: [pww]", ["key 'secrets[0]': secret 'pww' is not declared under the top-level secrets "
                        "(did you mean 'pw'?)"]),
    ("secrets: [{target: x}]", ["key 'secrets[0]': needs a source (the name under the top-level secrets)"]),
    ("secrets: [{source: pw, mode: rw}]", ["key 'secrets[0].mode': must be an octal file mode like 0440, not 'rw'"]),
    ("configs: [{source: conf, uid: [1]}]", ["key 'configs[0].uid': must be a string, not a list"]),
    ("logging: {options: {a: 1}}", ["key 'logging.options': needs logging.driver: name the driver the options are "
                                    "for (e.g. json-file)"]),
    ("logging: {driver: syslog}\nlog_driver: json-file",
     ["key 'log_driver': cannot be combined with logging: use logging.driver"]),
    ("log_opt: {a: b}", ["key 'log_opt': needs log_driver: name the driver the options are for"]),
]


@pytest.mark.parametrize("body, expected", ERRORS)
def test_error(body, expected):
    check_error(body, expected)


WARNINGS = [
    ("restart: always\ndeploy: {restart_policy: {condition: none}}",
     "key 'restart': warning: ignored because deploy.restart_policy is given"),
    ("healthcheck: {test: x, start_interval: 1s}",
     "key 'healthcheck.start_interval': warning: ignored on spin.platform: needs a newer engine than the platform "
     "runs"),
    ("networks: {front: {priority: 10}}", "key 'networks.front.priority': warning: ignored on spin.platform: Swarm "
                                          "attaches the networks in its own order"),
]


@pytest.mark.parametrize("body, expected", WARNINGS)
def test_warning(body, expected):
    check_warning(body, expected)
