"""The module's documentation and its argument_spec say the same thing (what ansible-test's
validate-modules checks, which needs network access to run here)."""
import pytest
import yaml

from ansible_collections.spin.platform.plugins.doc_fragments.docker import ModuleDocFragment
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
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


class _Module(object):
    check_mode = False

    def __init__(self, **params):
        self.params = dict({name: option.get("default") for name, option in spin_service.argument_spec().items()},
                           **params)


def test_the_image_is_pinned_to_its_digest_as_spin_stack_does_and_a_rerun_changes_nothing():
    from ansible_collections.spin.platform.tests.unit.fake_swarm import FakeSwarm
    docker = FakeSwarm()
    docker.images["httpd:latest"] = {"Id": "sha256:" + "1" * 64, "Config": {}}
    first = spin_service.reconcile(_Module(name="s_web", image="httpd", wait=False), docker)
    assert first["changed"]
    spec = docker.find_service("s_web")["Spec"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Image"] == "sha256:" + "1" * 64
    assert spec["Labels"]["spin.image"] == "httpd"
    assert not spin_service.reconcile(_Module(name="s_web", image="httpd", wait=False), docker)["changed"]


def test_an_image_found_nowhere_fails_before_anything_is_created():
    from ansible_collections.spin.platform.tests.unit.fake_swarm import FakeSwarm
    docker = FakeSwarm()
    docker.images["httpd:0.0-missing"] = None
    with pytest.raises(SpinError) as failure:
        spin_service.reconcile(_Module(name="s_web", image="httpd:0.0-missing", wait=False), docker)
    assert "image 'httpd:0.0-missing' was not found in this node's engine" in failure.value.message
    assert docker.find_service("s_web") is None


def test_the_same_image_written_differently_is_no_change():
    from ansible_collections.spin.platform.tests.unit.fake_swarm import FakeSwarm
    docker = FakeSwarm()
    docker.images["httpd:latest"] = {"Id": "sha256:" + "1" * 64, "Config": {}}
    docker.images["docker.io/library/httpd:latest"] = {"Id": "sha256:" + "1" * 64, "Config": {}}
    assert spin_service.reconcile(_Module(name="s_web", image="httpd", wait=False), docker)["changed"]
    again = spin_service.reconcile(_Module(name="s_web", image="docker.io/library/httpd:latest", wait=False), docker)
    assert not again["changed"]
    other = spin_service.reconcile(_Module(name="s_web", image="httpd:2", wait=False), docker)
    assert other["changed"]
