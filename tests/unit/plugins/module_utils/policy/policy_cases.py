"""The compose models and policies the policy tests judge (a service with a body, the default policy
for tenant cory), shared by test_policy.py and test_policy_facts.py."""
import textwrap

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.policy import policy_settings
from ansible_collections.spin.platform.plugins.plugin_utils import compose


TENANTS = {
    "cory": {"uid": 1000, "gid": 1000, "paths": ["/global/cfs/cdirs/cory", "/global/homes/c/cory"],
             "quota": {"replicas": 10}},
    "magic": {"uid": 1001, "gid": 1001, "paths": ["/global/cfs/cdirs/magic"]},
    "small": {"uid": 1002, "gid": 1002, "paths": [], "quota": {"replicas": 2}},
    "bad_name": {"uid": 1003, "gid": 1003},
}


def parse(compose_text, rancher_text=None):
    model, diagnostics = compose.parse_stack(textwrap.dedent(compose_text), "docker-compose.yml",
                                             textwrap.dedent(rancher_text) if rancher_text else None,
                                             "rancher-compose.yml")
    errors = [diag.format_diagnostic(d) for d in diagnostics if d["severity"] == "error"]
    assert not errors, errors
    return model


def make_policy(spin_policy=None, roots=None, tenants=None):
    platform_vars = {"spin_tenants": TENANTS if tenants is None else tenants}
    if spin_policy is not None:
        platform_vars["spin_policy"] = spin_policy
    if roots is not None:
        platform_vars["spin_global_fs_roots"] = roots
    return policy_settings.merge_policy(platform_vars)


def service(body, image="httpd"):
    """A compose file with one service 's' whose keys are ``body`` (YAML); a tuple ``(body,
    top_level)`` adds top-level sections."""
    body, extra = body if isinstance(body, tuple) else (body, "")
    lines = textwrap.dedent(body).strip("\n").splitlines() if body.strip() else []
    keys = "\n".join("    " + line for line in lines)
    text = "services:\n  s:\n    image: %s\n%s\n%s" % (image, keys, textwrap.dedent(extra))
    return parse(text)


def labels(tenant, stack):
    return {"spin.tenant": tenant, "spin.stack": stack, "com.docker.stack.namespace": stack}
