"""spin_config against a fake SwarmClient: create, idempotence, check mode, diff, immutability
(Docker shows a config's data, so other content under the same name is caught), ownership, removal."""
import base64
import hashlib

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.stack.stack import StackReconciler
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import ensure_data
from ansible_collections.spin.platform.plugins.modules import spin_config

OWNER = {"spin.tenant": "demo", "spin.stack": "seed", "com.docker.stack.namespace": "seed"}
PAGE = b"<h1>hello</h1>\n"
COMPOSE = """
version: '3.8'
services:
  web:
    image: httpd
    configs: [{source: page, target: /usr/local/apache2/htdocs/index.html}]
configs:
  page:
    file: ./index.html
"""


def translated_tasks():
    files = {"./index.html": PAGE.decode()}
    model, diagnostics = compose.parse_stack(COMPOSE, "docker-compose.yml", read_file=files.__getitem__)
    assert not diag.has_errors(diagnostics), diagnostics
    tasks = translate.stack_to_tasks(model, "demo", "seed")
    written = yaml.safe_load(translate.render_task_file(tasks, "demo", "seed"))
    return tasks, [t["spin.platform.spin_config"] for t in written if "spin.platform.spin_config" in t]


def params(content=PAGE, **extra):
    raw = dict({"name": "seed_page_%s" % hashlib.sha256(content).hexdigest()[:10],
                "data": base64.b64encode(content).decode(), "labels": dict(OWNER)}, **extra)
    result = ArgumentSpecValidator(spin_config.argument_spec()).validate(raw)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_documentation(check_docs):
    check_docs(spin_config)


def test_options_are_the_keys_the_translator_writes():
    tasks, written = translated_tasks()
    assert len(written) == 1
    assert set(written[0]) == set(spin_config.argument_spec()) - {"state", "docker_host", "timeout"}
    # configs are not redacted: the review file is runnable as written
    assert written[0] == tasks["configs"][0]
    assert base64.b64decode(written[0]["data"]) == PAGE


def test_create_then_nothing_to_do(fake_swarm):
    swarm = fake_swarm()
    first = ensure_data(swarm, "config", params())
    name = params()["name"]
    assert first["changed"] is True and first["id"] == swarm.cfgs[name]["ID"]
    assert swarm.calls == [("create_config", name, {"data": PAGE, "labels": OWNER})]
    assert first["diff"] == {"before": {}, "after": {"name": name, "labels": OWNER, "bytes": len(PAGE),
                                                     "sha256": hashlib.sha256(PAGE).hexdigest()}}
    second = ensure_data(swarm, "config", params())
    assert second["changed"] is False and second["warnings"] == []
    assert second["diff"]["before"] == second["diff"]["after"] == first["diff"]["after"]
    assert len(swarm.calls) == 1


def test_check_mode_changes_nothing(fake_swarm):
    swarm = fake_swarm()
    result = ensure_data(swarm, "config", params(), check_mode=True)
    assert result["changed"] is True and result["id"] is None and swarm.calls == []


def test_other_content_under_the_same_name_is_an_error(fake_swarm):
    swarm = fake_swarm()
    ensure_data(swarm, "config", params(name="seed_page"))
    with pytest.raises(SpinError) as raised:
        ensure_data(swarm, "config", params(b"<h1>bye</h1>\n", name="seed_page"))
    message = raised.value.message
    assert "config 'seed_page' exists with other content (%d bytes, sha256 %s; asked for 13 bytes" % (
        len(PAGE), hashlib.sha256(PAGE).hexdigest()) in message
    assert "Swarm configs are immutable: give the new content a new name" in message
    assert len(swarm.calls) == 1


def test_content_that_does_not_match_the_name_is_an_error(fake_swarm):
    swarm = fake_swarm()
    with pytest.raises(SpinError) as raised:
        ensure_data(swarm, "config", params(data=base64.b64encode(b"other").decode()))
    assert "is named for content whose sha256 starts %s" % hashlib.sha256(PAGE).hexdigest()[:10] \
        in raised.value.message
    assert swarm.calls == []


def test_the_redaction_marker_is_no_config_data(fake_swarm):
    # only secrets are redacted: for a config the marker is just text that is not base64
    with pytest.raises(SpinError) as raised:
        ensure_data(fake_swarm(), "config",
                    params(name="seed_page", data="<redacted: 1 bytes, sha256 %s>" % ("0" * 64)))
    assert "config 'seed_page': data is not base64" in raised.value.message
    assert "data_file" not in raised.value.message


def test_another_stacks_config_is_refused(fake_swarm):
    swarm = fake_swarm()
    swarm.create_config(params()["name"], PAGE, labels={"spin.tenant": "cory", "spin.stack": "seed"})
    with pytest.raises(SpinError) as raised:
        ensure_data(swarm, "config", params())
    assert "exists but is not this stack's: it has spin.stack=seed, spin.tenant=cory" in raised.value.message


def test_removal(fake_swarm):
    swarm = fake_swarm()
    config_id = swarm.create_config("seed_page", PAGE, labels=OWNER)
    gone = ensure_data(swarm, "config", params(name="seed_page", state="absent", data=None))
    assert gone["changed"] is True and gone["diff"]["before"]["labels"] == OWNER
    assert swarm.calls[-1] == ("remove_config", config_id) and swarm.cfgs == {}
    assert ensure_data(swarm, "config", params(name="seed_page", state="absent", data=None))["changed"] is False


def test_same_docker_calls_as_spin_stack(fake_swarm):
    tasks, written = translated_tasks()
    by_stack, by_module = fake_swarm(), fake_swarm()
    reconciler = StackReconciler(by_stack)
    reconciler.apply(reconciler.plan_present("demo", "seed", {"configs": tasks["configs"]}), wait=False)
    ensure_data(by_module, "config", params(**written[0]))
    assert by_module.calls == by_stack.calls
    assert ensure_data(by_stack, "config", params(**written[0]))["changed"] is False
