"""The service specs Docker stored for specs we built (fixtures/service_specs.json, made by
fixtures/capture_service_specs.py) and a builder with the references they were made with; shared by
test_service_spec.py and test_service_compare.py."""
import json
import os

from ansible_collections.spin.platform.plugins.module_utils.stack.service_spec import build_service_spec


FIXTURE = os.path.join(os.path.dirname(__file__), "..", "..", "..", "fixtures", "service_specs.json")


with open(FIXTURE) as f:
    CAPTURED = json.load(f)


API = CAPTURED["api_version"]


REFS = {"networks": {"net_a": "id_a", "net_b": "id_b"}, "secrets": {"pw": "sid1"}, "configs": {"conf": "cid1"}}


def build(**params):
    params.setdefault("name", "t_web")
    params.setdefault("image", "httpd")
    return build_service_spec(params, REFS, API)
