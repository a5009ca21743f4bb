"""The module's documentation and its argument_spec say the same thing (what ansible-test's
validate-modules checks, which needs network access to run here)."""
import pytest
import yaml

from ansible_collections.spin.platform.plugins.doc_fragments.docker import ModuleDocFragment
from ansible_collections.spin.platform.plugins.modules import spin_service

DOC = yaml.safe_load(spin_service.DOCUMENTATION)
OPTIONS = dict(DOC["options"], **yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
KEYS = ("type", "default", "choices", "required", "elements", "aliases")


def walk(doc_options, spec, path=""):
    assert sorted(doc_options) == sorted(spec), path or "top level"
    for name, doc in doc_options.items():
        opt = spec[name]
        where = path + name
        for key in KEYS:
            documented = doc.get(key, False if key == "required" else None)
            coded = opt.get(key, False if key == "required" else None)
            if key == "type":
                coded = coded or "str"
            assert documented == coded, "%s: %s documented %r, coded %r" % (where, key, documented, coded)
        assert doc.get("description"), where + " has no description"
        if "suboptions" in doc or "options" in opt:
            walk(doc.get("suboptions") or {}, opt.get("options") or {}, where + ".")


def test_documentation_matches_argument_spec():
    walk(OPTIONS, spin_service.argument_spec())


def test_attributes_and_return_are_documented():
    assert dict((k, v["support"]) for k, v in DOC["attributes"].items() if k != "action_group") == {
        "check_mode": "full", "diff_mode": "full", "idempotent": "full"}
    assert set(yaml.safe_load(spin_service.RETURN)) == {"changed", "differences", "service", "diff"}
    assert yaml.safe_load(spin_service.EXAMPLES)


@pytest.mark.parametrize("option", [
    "name", "state", "image", "command", "entrypoint", "env", "workdir", "user", "hostname", "labels",
    "container_labels", "mode", "replicas", "networks", "endpoint_mode", "publish", "mounts", "healthcheck",
    "restart_policy", "resources", "placement", "update_config", "rollback_config", "secrets", "configs",
    "cap_add", "cap_drop", "read_only", "init", "stop_grace_period", "stop_signal", "logging", "sysctls", "wait",
    "wait_timeout"])
def test_every_design_md_parameter_is_an_option(option):
    # docs/design.md "spin_service parameters": the translator emits exactly these keys
    assert option in spin_service.argument_spec()
