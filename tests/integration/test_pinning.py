"""Images pinned at deploy (spin_stack on the real engine): a re-deploy with an unchanged tag touches
nothing; an image built anew under the same tag is picked up by the next deploy, whose diff shows the
old and the new digest. Objects carry the prefix ``clspin``."""
import io
import uuid

import pytest
from stacklib import Tenant, write_inventory


@pytest.fixture
def pinning(tmp_path, docker_client, playbook):
    stack = "clspin-" + uuid.uuid4().hex[:6]
    repo = "clspin/%s" % stack
    inventory = write_inventory(tmp_path, spin_policy={"images": ["clspin/*"]})

    def run(path, *args, check=True):
        return playbook(path, *args, inventory=inventory, check=check)

    tenant = Tenant(tmp_path, docker_client, run, stack)

    def build(version):
        dockerfile = "FROM spin/base:bookworm\nLABEL clspin.version=%s\nCMD [\"sleep\", \"infinity\"]\n" % version
        image, dummy = docker_client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=repo + ":1", rm=True)
        return image.id

    built = []
    yield tenant, repo, lambda version: built.append(build(version)) or built[-1]
    tenant.remove("-e", "spin_remove_volumes=true", check=False)
    tenant.discard()
    for image_id in reversed(built):
        try:
            docker_client.images.remove(image_id, force=True)
        except Exception:  # noqa: BLE001 - already gone with its tag
            pass


def test_unchanged_tag_touches_nothing_and_a_rebuilt_tag_is_picked_up(pinning):
    tenant, repo, build = pinning
    first_id = build(1)
    tenant.write({"version": "3.8", "services": {"app": {"image": repo + ":1"}}})
    tenant.deploy()
    service = tenant.services()[tenant.stack + "_app"]
    assert service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == first_id
    assert service.attrs["Spec"]["Labels"]["spin.image"] == repo + ":1"
    version = tenant.versions()

    again = tenant.deploy("--diff")
    assert again.recap()["changed"] == 0, again.output[-3000:]
    assert tenant.versions() == version
    # the same image spelled as Docker Hub's full name is no change either
    tenant.write({"version": "3.8", "services": {"app": {"image": "docker.io/library/%s:1" % repo}}})
    spelled = tenant.deploy("--diff")
    assert spelled.recap()["changed"] == 0, spelled.output[-3000:]
    assert tenant.versions() == version
    tenant.write({"version": "3.8", "services": {"app": {"image": repo + ":1"}}})

    second_id = build(2)
    assert second_id != first_id
    checked = tenant.deploy("--check", "--diff")
    assert first_id in checked.output and second_id in checked.output, checked.output[-3000:]
    assert tenant.versions() == version, "check mode changed nothing"
    picked = tenant.deploy("--diff")
    assert first_id in picked.output and second_id in picked.output
    service = tenant.services()[tenant.stack + "_app"]
    assert service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == second_id
    running = tenant.running(tenant.stack + "_app")
    assert [t["Spec"]["ContainerSpec"]["Image"] for t in running] == [second_id]
