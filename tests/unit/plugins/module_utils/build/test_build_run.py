"""build_run: the spin_build module's work on the build node: each planned image built only when it is missing (from the
engine, or from the registry when there is one) or its base image moved; labelled with its owner and
bases; pushed; a failed build says which service and shows the end of the build's output."""
import json
import types

import pytest

from ansible_collections.spin.platform.plugins.module_utils.build import build as build_model
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.build import build_run


class Engine(object):
    """The image calls spin_build makes, on in-memory images; every build and push recorded."""

    def __init__(self, images=None, registry=None, output=None, error=None):
        self.images = dict(images or {})        # ref -> inspect answer
        self.registry = dict(registry or {})    # ref -> digest
        self.output, self.error = output or ["Step 1/1 : FROM httpd"], error
        self.builds, self.pushes = [], []

    def inspect_image(self, ref):
        return self.images.get(ref)

    def distribution_digest(self, ref):
        return self.registry.get(ref)

    def build_image(self, archive, image, dockerfile, **options):
        self.builds.append(dict(options, image=image, dockerfile=dockerfile, context=archive.read()))
        if self.error:
            return {"seconds": 1.25, "error": self.error, "output": self.output, "id": None}
        self.images[image] = {"Id": "sha256:new", "Config": {"Labels": options["labels"]}}
        return {"seconds": 1.25, "error": None, "output": self.output, "id": "sha256:new"}

    def push_image(self, ref):
        self.pushes.append(ref)
        return "sha256:pushed"


def item(tmp_path, **extra):
    archive = tmp_path / "web.tar"
    archive.write_bytes(b"the context")
    return dict({"service": "web", "image": "cory/magic-web:0123456789ab", "dockerfile": "Dockerfile",
                 "bases": ["httpd:2.4"], "digest": "sha256:ctx", "archive": str(archive), "network": False,
                 "timeout": 600, "build": {"args": {"V": "1"}, "target": None, "labels": {"org.x": "y"}}}, **extra)


def module(builds, check_mode=False, registry=None):
    return types.SimpleNamespace(check_mode=check_mode, params={
        "tenant": "cory", "stack": "magic", "_builds": builds,
        "platform": {"registry": registry} if registry else None})


def built_with(bases):
    return {"Id": "sha256:old", "Config": {"Labels": {build_model.LABEL_BASES: json.dumps(bases)}}}


def test_plan_builds_what_the_engine_lacks(tmp_path):
    assert build_run.plan(Engine(), item(tmp_path), None) == (True, "not built yet", None)


def test_plan_builds_what_the_registry_lacks_even_when_the_engine_has_it(tmp_path):
    local = built_with({"httpd:2.4": "sha256:base"})
    engine = Engine(images={"cory/magic-web:0123456789ab": local, "httpd:2.4": {"Id": "sha256:base"}})
    assert build_run.plan(engine, item(tmp_path), "registry.local:5000") == (
        True, "not in the registry registry.local:5000 yet", local)


def test_plan_rebuilds_when_a_base_image_moved_and_keeps_an_image_whose_bases_did_not(tmp_path):
    local = built_with({"httpd:2.4": "sha256:base-then"})
    engine = Engine(images={"cory/magic-web:0123456789ab": local, "httpd:2.4": {"Id": "sha256:base-now"}})
    assert build_run.plan(engine, item(tmp_path), None) == (True, "its base image changed (httpd:2.4)", local)
    engine.images["httpd:2.4"] = {"Id": "sha256:base-then"}
    assert build_run.plan(engine, item(tmp_path), None) == (False, "up to date", local)
    # a base this engine does not have cannot have moved
    del engine.images["httpd:2.4"]
    assert build_run.plan(engine, item(tmp_path), None)[0] is False


def test_a_build_is_labelled_with_its_owner_and_bases_then_pushed(tmp_path):
    engine = Engine(images={"httpd:2.4": {"Id": "sha256:base"}})
    result = build_run.run(module([item(tmp_path)], registry="registry.local:5000"), engine)
    [build] = engine.builds
    assert build["context"] == b"the context" and build["buildargs"] == {"V": "1"} and build["deadline"] == 600
    assert build["labels"] == {"org.x": "y", "spin.tenant": "cory", "spin.stack": "magic", "spin.service": "web",
                               build_model.LABEL_DIGEST: "sha256:ctx",
                               build_model.LABEL_BASES: json.dumps({"httpd:2.4": "sha256:base"})}
    assert engine.pushes == ["cory/magic-web:0123456789ab"]
    assert result["changed"] is True
    assert result["builds"] == [{"service": "web", "image": "cory/magic-web:0123456789ab", "built": True,
                                 "why": "not in the registry registry.local:5000 yet", "id": "sha256:new",
                                 "digest": "sha256:pushed", "seconds": 1.25}]
    assert result["summary"] == ["image of web: cory/magic-web:0123456789ab built in 1.2 s (not in the registry "
                                 "registry.local:5000 yet)"]


def test_check_mode_builds_and_pushes_nothing(tmp_path):
    engine = Engine()
    result = build_run.run(module([item(tmp_path)], check_mode=True, registry="registry.local:5000"), engine)
    assert engine.builds == [] and engine.pushes == [] and result["changed"] is True
    assert result["summary"] == ["image of web: cory/magic-web:0123456789ab would be built (not in the registry "
                                 "registry.local:5000 yet)"]


def test_an_image_up_to_date_is_not_built_and_reports_the_registrys_digest(tmp_path):
    engine = Engine(images={"cory/magic-web:0123456789ab": built_with({})},
                    registry={"cory/magic-web:0123456789ab": "sha256:there"})
    result = build_run.run(module([item(tmp_path)], registry="registry.local:5000"), engine)
    assert engine.builds == [] and engine.pushes == [] and result["changed"] is False
    assert (result["builds"][0]["digest"], result["builds"][0]["id"]) == ("sha256:there", "sha256:old")
    assert result["summary"] == ["image of web: cory/magic-web:0123456789ab (up to date)"]


def test_a_failed_build_names_the_service_and_shows_the_last_lines(tmp_path):
    output = ["line %d" % i for i in range(40)]
    engine = Engine(output=output, error="returned a non-zero code: 1")
    with pytest.raises(SpinError) as raised:
        build_run.run(module([item(tmp_path)]), engine)
    assert raised.value.message == (
        "service 'web': the build of cory/magic-web:0123456789ab failed: returned a non-zero code: 1\n"
        "  the build's last 30 lines:\n" + "\n".join("  | line %d" % i for i in range(10, 40)))


def test_nothing_to_build_changes_nothing():
    assert build_run.run(module(None), Engine()) == {"changed": False, "builds": [], "summary": []}
