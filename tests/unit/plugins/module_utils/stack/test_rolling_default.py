"""The update order a tenant's service gets when it names none (issue 20: rotation without downtime)."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.stack import service_spec

TENANT = {"spin.stack": "st", "spin.tenant": "ten"}


@pytest.mark.parametrize("params, order", [
    ({"labels": TENANT}, "start-first"),
    ({"labels": TENANT, "mounts": [{"type": "volume", "readonly": True}, {"type": "tmpfs"}]}, "start-first"),
    ({"labels": TENANT, "publish": [{"mode": "ingress", "target_port": 80}]}, "start-first"),
    # two tasks cannot hold one host port, nor two database servers one data directory
    ({"labels": TENANT, "publish": [{"mode": "host", "target_port": 53, "published_port": 53}]}, None),
    ({"labels": TENANT, "mounts": [{"type": "volume", "readonly": False}]}, None),
    ({"labels": TENANT, "mounts": [{"type": "bind", "readonly": False}]}, None),
    ({"labels": TENANT, "mode": "replicated-job"}, None),
    # the tenant's own order wins; the platform's own services keep Docker's default
    ({"labels": TENANT, "update_config": {"order": "stop-first"}}, "stop-first"),
    ({"labels": {"spin.role": "monitoring"}}, None),
])
def test_start_first_where_allowed(params, order):
    result = service_spec.with_rolling_default(dict(params))
    assert (result.get("update_config") or {}).get("order") == order
