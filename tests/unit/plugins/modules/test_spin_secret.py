"""spin_secret against a fake SwarmClient: the review file's redacted data, the digest in the name,
immutability, ownership, removal (its action plugin: tests/unit/plugins/action/test_spin_secret.py)."""
import base64
import hashlib

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm_objects import data_from_file, ensure_data
from ansible_collections.spin.platform.plugins.module_utils.stack.stack import StackReconciler
from ansible_collections.spin.platform.plugins.modules import spin_secret
from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.tests.unit.redaction import PASSWORD, legacy_marker, marker, name_for


OWNER = {"spin.tenant": "demo", "spin.stack": "seed", "com.docker.stack.namespace": "seed"}


COMPOSE = """
version: '3.8'
services:
  db:
    image: mysql
    environment: {MYSQL_ROOT_PASSWORD_FILE: /run/secrets/db_password}
    secrets: [db_password]
secrets:
  db_password:
    file: ./db_password.txt
"""


def translated_tasks():
    files = {"./db_password.txt": PASSWORD.decode()}
    model, diagnostics = compose.parse_stack(COMPOSE, "docker-compose.yml", read_file=files.__getitem__)
    assert not diag.has_errors(diagnostics), diagnostics
    tasks = translate.stack_to_tasks(model, "demo", "seed")
    written = yaml.safe_load(translate.render_task_file(tasks, "demo", "seed"))
    return tasks, [t["spin.platform.spin_secret"] for t in written if "spin.platform.spin_secret" in t]


def params(content=PASSWORD, **extra):
    raw = dict({"name": name_for(content), "data": base64.b64encode(content).decode(), "labels": dict(OWNER)},
               **extra)
    result = ArgumentSpecValidator(spin_secret.argument_spec()).validate(raw)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_documentation(check_docs):
    doc = check_docs(spin_secret)
    assert doc["attributes"]["action"]["support"] == "full"
    assert spin_secret.argument_spec()["data"]["no_log"] is True


def test_options_are_the_translators_keys_and_data_file():
    tasks, written = translated_tasks()
    assert len(written) == 1
    assert set(written[0]) == set(spin_secret.argument_spec()) - {"state", "docker_host", "timeout", "data_file"}
    # the review file holds the marker, never the content
    assert written[0]["data"] == marker(PASSWORD)
    assert written[0]["name"] == name_for(PASSWORD) == tasks["secrets"][0]["name"]


def test_create_then_nothing_to_do(fake_swarm):
    swarm = fake_swarm()
    first = ensure_data(swarm, "secret", params())
    assert first["changed"] is True and first["id"] == swarm.secs[name_for(PASSWORD)]["ID"]
    assert swarm.stored_secret == PASSWORD
    assert first["diff"]["before"] == {}
    # the size only: a digest would confirm guesses at the content
    assert first["diff"]["after"] == {"name": name_for(PASSWORD), "labels": OWNER, "bytes": len(PASSWORD)}
    assert PASSWORD.decode() not in repr(first) and params()["data"] not in repr(first)
    second = ensure_data(swarm, "secret", params())
    assert second["changed"] is False and second["id"] == first["id"] and second["warnings"] == []
    assert [c[0] for c in swarm.calls] == ["create_secret"]


def test_check_mode_changes_nothing(fake_swarm):
    swarm = fake_swarm()
    result = ensure_data(swarm, "secret", params(), check_mode=True)
    assert result["changed"] is True and result["id"] is None
    assert swarm.calls == [] and swarm.secs == {}


def test_redacted_data_runs_when_the_secret_exists(fake_swarm):
    swarm = fake_swarm()
    ensure_data(swarm, "secret", params())
    result = ensure_data(swarm, "secret", params(data=marker(PASSWORD)))
    assert result["changed"] is False
    assert [c[0] for c in swarm.calls] == ["create_secret"]


def test_redacted_data_cannot_create_the_secret(fake_swarm):
    swarm = fake_swarm()
    for check_mode in (True, False):
        with pytest.raises(SpinError) as raised:
            ensure_data(swarm, "secret", params(data=marker(PASSWORD)), check_mode=check_mode)
        message = raised.value.message
        assert "secret '%s' does not exist yet, and its content is redacted" % name_for(PASSWORD) in message
        assert "Add data_file: <the tenant's secret file>" in message
        assert hashlib.sha256(PASSWORD).hexdigest() not in message
    assert swarm.calls == []


@pytest.mark.parametrize("data", [lambda: base64.b64encode(b"other").decode(), lambda: legacy_marker(b"other")])
def test_new_content_under_the_old_name_is_an_error(fake_swarm, data):
    swarm = fake_swarm()
    ensure_data(swarm, "secret", params())
    with pytest.raises(SpinError) as raised:
        ensure_data(swarm, "secret", params(data=data()))
    message = raised.value.message
    assert "secret '%s' is named for content whose sha256 starts %s" % (
        name_for(PASSWORD), hashlib.sha256(PASSWORD).hexdigest()[:10]) in message
    assert "Swarm secrets are immutable, so new content gets a new name" in message
    assert [c[0] for c in swarm.calls] == ["create_secret"]


def test_a_name_without_a_digest_takes_any_content(fake_swarm):
    swarm = fake_swarm()
    assert ensure_data(swarm, "secret", params(name="seed_token"))["changed"] is True
    assert swarm.stored_secret == PASSWORD


def test_data_must_be_base64(fake_swarm):
    swarm = fake_swarm()
    with pytest.raises(SpinError) as raised:
        ensure_data(swarm, "secret", params(name="seed_token", data="not base64!"))
    assert "secret 'seed_token': data is not base64" in raised.value.message
    assert "or give data_file" in raised.value.message
    assert swarm.calls == []


def test_present_needs_data(fake_swarm):
    with pytest.raises(SpinError) as raised:
        ensure_data(fake_swarm(), "secret", params(data=None))
    assert "needs data or data_file" in raised.value.message


def test_another_stacks_secret_is_refused(fake_swarm):
    swarm = fake_swarm()
    swarm.create_secret(name_for(PASSWORD), PASSWORD, labels={"spin.tenant": "cory", "spin.stack": "seed"})
    with pytest.raises(SpinError) as raised:
        ensure_data(swarm, "secret", params())
    assert "secret '%s' exists but is not this stack's: it has spin.stack=seed, spin.tenant=cory" % \
        name_for(PASSWORD) in raised.value.message


def test_other_labels_warn_and_keep(fake_swarm):
    swarm = fake_swarm()
    ensure_data(swarm, "secret", params())
    result = ensure_data(swarm, "secret", params(labels=dict(OWNER, extra="1")))
    assert result["changed"] is False and len(result["warnings"]) == 1
    assert "is kept as it is, as spin_stack keeps it" in result["warnings"][0]


def test_removal(fake_swarm):
    swarm = fake_swarm()
    secret_id = swarm.create_secret(name_for(PASSWORD), PASSWORD, labels=OWNER)
    assert ensure_data(swarm, "secret", params(state="absent", data=None), check_mode=True)["changed"] is True
    assert swarm.secs
    removed = ensure_data(swarm, "secret", params(state="absent", data=None))
    assert removed["changed"] is True and removed["diff"]["after"] == {}
    assert swarm.calls[-1] == ("remove_secret", secret_id) and swarm.secs == {}
    assert ensure_data(swarm, "secret", params(state="absent", data=None))["changed"] is False


def test_same_docker_calls_as_spin_stack(fake_swarm):
    tasks, written = translated_tasks()
    by_stack, by_module = fake_swarm(), fake_swarm()
    reconciler = StackReconciler(by_stack)
    reconciler.apply(reconciler.plan_present("demo", "seed", {"secrets": tasks["secrets"]}), wait=False)
    # the review file's task, with the content that data_file supplies
    task = dict(written[0], data=data_from_file(PASSWORD, written[0]["data"], written[0]["name"], "f"))
    ensure_data(by_module, "secret", params(**task))
    assert by_module.calls == by_stack.calls
    assert ensure_data(by_stack, "secret", params(**written[0]))["changed"] is False
