"""docs/policy.md says what the policy does: every rule is documented, every `# allowed` example
passes, and every `# refused` example gives exactly the messages printed under it."""
import os
import re

import pytest

from ansible_collections.spin.platform.plugins.module_utils.policy import policy
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_settings
from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", ".."))
DOC = os.path.join(ROOT, "docs", "policy.md")
REGISTRY = {"cory": {"uid": 1000, "gid": 1000, "paths": ["/global/cfs/cdirs/cory"], "quota": {"replicas": 10}},
            "magic": {"uid": 1001, "gid": 1001, "paths": ["/global/cfs/cdirs/magic"]}}
# rules whose refused case cannot be written as a compose file (the parser refuses it first, or the
# swarm decides): the doc shows their messages, the other unit and integration tests check them
NOT_FROM_COMPOSE = {"reserved-label", "ownership", "engine-no-new-privileges", "global-fs-placement"}
# the swarm's largest node, for rule resource-size: 2 CPUs and 8 GiB
LARGEST_NODE = {"cpus": 2.0, "memory": 8 * 1024 ** 3}


def blocks():
    with open(DOC) as handle:
        text = handle.read()
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w+)\n(.*?)```", text, re.S)], text


def examples():
    found = []
    items, dummy = blocks()
    for i, (lang, body) in enumerate(items):
        first = body.splitlines()[0] if body else ""
        if lang == "yaml" and first in ("# allowed", "# refused"):
            expected = None
            if first == "# refused":
                assert i + 1 < len(items) and items[i + 1][0] == "text", "a refused example needs its messages:\n" + body
                expected = items[i + 1][1].strip().splitlines()
            found.append((first[2:], body, expected))
    return found


def evaluate(body):
    options = dict(re.findall(r"^# (tenant|stack): (\S+)$", body, re.M))
    model, diagnostics = compose.parse_stack(body, "docker-compose.yml")
    errors = [diag.format_diagnostic(d) for d in diagnostics if d["severity"] == "error"]
    assert not errors, errors
    pol = policy_settings.merge_policy({"spin_tenants": REGISTRY})
    tenant = options.get("tenant", "cory")
    entry = pol["tenants"].get(tenant)
    model = policy.apply_policy_defaults(model, tenant, entry, pol)
    return [policy_settings.format_violation(v)
            for v in policy.evaluate(model, tenant, entry, pol, stack=options.get("stack", "demo"),
                                     biggest=LARGEST_NODE)]


EXAMPLES = examples()


@pytest.mark.parametrize("kind, body, expected", EXAMPLES, ids=["%s-%d" % (e[0], i) for i, e in enumerate(EXAMPLES)])
def test_doc_example(kind, body, expected):
    assert evaluate(body) == (expected or [])


def test_every_rule_is_documented_with_examples():
    dummy, text = blocks()
    sections = re.split(r"^### ", text, flags=re.M)
    for rule in policy_settings.RULES:
        section = next((s for s in sections if re.match(r"[^\n]*`%s`" % re.escape(rule), s)), None)
        assert section is not None, "docs/policy.md has no section for rule %s" % rule
        assert "[%s]" % rule in section, "no message of rule %s in its section" % rule
        if rule not in NOT_FROM_COMPOSE:
            assert "# allowed" in section and "# refused" in section, rule


def test_every_policy_key_is_documented():
    dummy, text = blocks()
    for key in policy_settings.DEFAULT_POLICY:
        if key != "global_fs_roots":
            assert "| `%s` |" % key in text, key
