"""compose build: on the real engine, through playbooks/deploy.yml, on this machine's one-node platform
(no registry: the image stays on the local engine, the service runs its image ID). The tenant is
``clsb`` (an inventory of the test's own), so the images are ``clsb/<stack>-<service>:<hash>``."""
import re
import uuid

import pytest
from stacklib import Tenant, write_inventory

DOCKERFILE = """\
ARG GREETING=hello
FROM httpd:2.4
ARG GREETING
# only the loopback device: the build has no network
RUN [ "$(ls /sys/class/net)" = "lo" ] && echo "$GREETING from the platform build" > /var/www/html/index.html
COPY site/ /var/www/html/site/
"""


# the test's own tenant, in its inventory's registry; its submissions are owned by this uid
UID = 1990


def inventory(tmp_path, **policy):
    extra = {"spin_tenants": {"clsb": {"uid": UID, "gid": UID}}}
    if policy:
        extra["spin_policy"] = policy
    return write_inventory(tmp_path, **extra)


@pytest.fixture
def builder(tmp_path, docker_client, playbook):
    made = []

    def make(**policy):
        stack = "clsbuild-" + uuid.uuid4().hex[:6]
        path = inventory(tmp_path, **policy)
        tenant = Tenant(tmp_path, docker_client, lambda *a, **k: playbook(*a, inventory=path, **k), stack,
                        tenant="clsb", uid=UID, gid=UID)
        made.append(tenant)
        return tenant
    yield make
    for tenant in made:
        tenant.remove(check=False)
        tenant.discard()
        for image in docker_client.images.list(name="clsb/%s-*" % tenant.stack):
            docker_client.images.remove(image.id, force=True)


def write_app(tenant, dockerfile=DOCKERFILE, page="<p>page one</p>\n"):
    app = tenant.dir / "app"
    (app / "site").mkdir(parents=True, exist_ok=True)
    (app / "Dockerfile").write_text(dockerfile)
    (app / "site" / "page.html").write_text(page)
    (app / "site" / "secret.txt").write_text("not for the image\n")
    (app / ".dockerignore").write_text("site/secret.txt\n")
    tenant.write({"version": "3.8", "services": {"app": {"build": {"context": "app", "args": {"GREETING": "bonjour"}}}}})


def built_images(docker_client, stack):
    return docker_client.images.list(name="clsb/%s-app" % stack)


def test_a_stack_is_built_without_network_deployed_and_a_second_deploy_changes_nothing(builder, docker_client):
    tenant = builder()
    write_app(tenant)
    first = tenant.deploy()
    images = built_images(docker_client, tenant.stack)
    assert len(images) == 1, first.output[-3000:]
    image = images[0]
    tag = image.tags[0]
    assert re.match(r"^clsb/%s-app:[0-9a-f]{16}$" % tenant.stack, tag), tag
    labels = image.labels
    assert labels["spin.tenant"] == "clsb" and labels["spin.stack"] == tenant.stack and labels["spin.service"] == "app"
    service = tenant.services()[tenant.stack + "_app"]
    assert service.attrs["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == image.id
    assert service.attrs["Spec"]["Labels"]["spin.image"] == tag

    served = tenant.exec_in(tenant.stack + "_app", ["curl", "-s", "http://127.0.0.1/"])
    assert served.output.decode().strip() == "bonjour from the platform build"
    listing = tenant.exec_in(tenant.stack + "_app", ["ls", "/var/www/html/site"])
    assert listing.output.decode().split() == ["page.html"]  # .dockerignore kept the secret out

    version = tenant.versions()
    again = tenant.deploy()
    assert again.recap()["changed"] == 0, again.output[-3000:]
    assert tenant.versions() == version
    assert [i.id for i in built_images(docker_client, tenant.stack)] == [image.id]

    # a changed file is a new content hash: check mode says what would be built, and builds nothing
    (tenant.dir / "app" / "site" / "page.html").write_text("<p>page two</p>\n")
    checked = tenant.deploy("--check")
    said = " ".join(checked.output.split())
    assert re.search(r"image of app: clsb/%s-app:[0-9a-f]{16} would be built \(not built yet\)" % tenant.stack,
                     said), checked.output[-3000:]
    assert [i.id for i in built_images(docker_client, tenant.stack)] == [image.id]
    assert tenant.versions() == version


def test_a_failed_build_quotes_its_output_and_creates_nothing(builder, docker_client):
    tenant = builder()
    write_app(tenant, dockerfile="FROM httpd:2.4\nRUN echo cls-build-marker && exit 3\n")
    result = tenant.deploy(check=False)
    assert result.rc != 0
    assert "service 'app': the build of clsb/%s-app:" % tenant.stack in result.output
    assert "| cls-build-marker" in result.output and "returned a non-zero code: 3" in result.output
    assert tenant.services() == {}
    assert built_images(docker_client, tenant.stack) == []


def test_a_build_past_the_time_limit_is_stopped(builder, docker_client):
    tenant = builder(build_timeout=3)
    write_app(tenant, dockerfile="FROM httpd:2.4\nRUN sleep 127\n")
    result = tenant.deploy(check=False)
    assert result.rc != 0
    assert "stopped after 3 s, the platform's build time limit" in result.output, result.output[-3000:]
    assert tenant.services() == {}
    # the engine cancelled the build and removed its container
    leftover = [c for c in docker_client.containers.list(all=True) if "sleep 127" in " ".join(c.attrs["Args"] or [])]
    assert leftover == []


def test_a_base_image_outside_the_policy_is_refused_before_anything_is_built(builder, docker_client):
    tenant = builder()
    write_app(tenant, dockerfile="FROM httpd:2.4 AS web\nFROM someone/toolbox:1\nCOPY --from=web /etc/hosts /x\n")
    result = tenant.deploy(check=False)
    assert result.rc != 0
    assert ("app/Dockerfile: service 'app': key 'build': [build] line 2: base image "
            "'someone/toolbox:1' is not among the images a build may start from") in result.output
    assert tenant.services() == {}
    assert built_images(docker_client, tenant.stack) == []
