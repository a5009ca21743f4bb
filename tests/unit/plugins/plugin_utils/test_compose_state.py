"""compose_state: the parse's model (every service has every key, plain data) and its errors raised as one
SpinError."""
import json

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import compose
from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.compose_helpers import (
    DECLARED, parse, service_doc)


def test_every_model_service_has_every_key():
    model, diagnostics = parse(service_doc("", DECLARED), env={"PW": "x"})
    assert diagnostics == []
    assert set(model["services"]["s"]) == set(compose.empty_service())
    json.dumps(model)  # plain data only: it crosses to the target as module arguments


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
