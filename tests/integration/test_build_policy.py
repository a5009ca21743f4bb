"""compose build as a hostile tenant writes it, through playbooks/deploy.yml on the real engine: what the
engine's builder would start from, copy from or fetch is judged as the engine reads the Dockerfile, and a
refused stack builds nothing. The tenant is ``h1t`` (an inventory of the test's own), so anything built
would be ``h1t/<stack>-<service>:<hash>``."""
import os
import uuid

import pytest
from stacklib import Tenant, write_inventory
from loopback import counting_server

TENANT = "h1t"
UID = 1991


@pytest.fixture
def tenant(tmp_path, docker_client, playbook):
    # run_playbook fails the test on a traceback of the collection's code (tracebacks.py), refusals or not
    path = write_inventory(tmp_path, spin_tenants={TENANT: {"uid": UID, "gid": UID}})
    made = Tenant(tmp_path, docker_client, lambda *a, **k: playbook(*a, inventory=path, **k),
                  "h1b-" + uuid.uuid4().hex[:6], tenant=TENANT, uid=UID, gid=UID)
    yield made
    made.remove(check=False)
    made.discard()
    for image in docker_client.images.list(name="%s/%s-*" % (TENANT, made.stack)):
        docker_client.images.remove(image.id, force=True)


def write_app(tenant, dockerfile, context="app", **files):
    app = tenant.dir / context
    app.mkdir(parents=True, exist_ok=True)
    (app / "Dockerfile").write_bytes(dockerfile if isinstance(dockerfile, bytes) else dockerfile.encode())
    for name, text in files.items():
        (app / name).write_text(text)
    tenant.write({"version": "3.8", "services": {"app": {"build": {"context": context}}}})


def refused(tenant, docker_client, *fragments):
    """Deploy; it must be refused with every fragment in its output, nothing built or run."""
    result = tenant.deploy(check=False)
    said = result.output
    assert result.rc != 0, said[-3000:]
    for fragment in fragments:
        assert fragment in said, "%r not in:\n%s" % (fragment, said[-4000:])
    assert docker_client.images.list(name="%s/%s-*" % (TENANT, tenant.stack)) == []
    assert tenant.services() == {}
    return said


EDGE_CONFIG = "COPY --from=0 /etc/haproxy/haproxy.cfg /srv/edge.cfg\n"


@pytest.mark.parametrize("dockerfile, fragment", [
    # Docker strips the byte-order mark: line 1 is a FROM of the edge's image, and stage 0 is that image
    (b"\xef\xbb\xbfFROM spin/haproxy:2.6\nFROM spin/base:bookworm\n" + EDGE_CONFIG.encode(),
     "app/Dockerfile: service 'app': key 'build': [build] line 1: base image 'spin/haproxy:2.6' is not among the "
     "images a build may start from"),
    # "# escape=" after a comment is a comment to Docker: "\" continues lines, "`" does not
    ("# the edge's config\n# escape=`\nFROM spin/base:bookworm\nLABEL note=edge`\nFROM spin/haproxy:2.6\n"
     "FROM spin/base:bookworm\nCOPY --from=1 /etc/haproxy/haproxy.cfg /srv/edge.cfg\n",
     "app/Dockerfile: service 'app': key 'build': [build] line 5: base image 'spin/haproxy:2.6' is not among the "
     "images a build may start from"),
], ids=["byte-order-mark", "escape-after-comment"])
def test_a_base_image_hidden_from_a_reader_other_than_dockers_is_refused(tenant, docker_client, dockerfile,
                                                                         fragment):
    write_app(tenant, dockerfile)
    refused(tenant, docker_client, fragment, "start FROM one of them, or ask the platform staff to allow yours")


@pytest.fixture
def loopback_server():
    """An HTTP server on the loopback address, counting the requests it gets."""
    with counting_server(b"fetched by the build node\n") as served:
        yield served


def test_add_of_a_url_is_refused_and_nothing_is_fetched(tenant, docker_client, loopback_server):
    url, hits = loopback_server
    write_app(tenant, 'FROM spin/base:bookworm\nADD "%s/payload" /srv/payload\n' % url)
    refused(tenant, docker_client,
            "app/Dockerfile: service 'app': key 'build': [build] line 2: ADD \"%s/payload\": the engine would fetch "
            "it on the build node's network" % url,
            "download it into the build context and COPY it")
    assert hits == []


def test_a_remote_context_is_refused_with_the_fix(tenant, docker_client):
    tenant.write({"version": "3.8", "services": {"app": {"build": {"context": "https://example.org/app.git"}}}})
    refused(tenant, docker_client,
            "docker-compose.yml: service 'app': key 'build.context': 'https://example.org/app.git' is a remote "
            "context", "download it into the submission directory")


def test_a_context_path_past_what_the_engine_unpacks_is_refused_by_name(tenant, docker_client):
    write_app(tenant, "FROM spin/base:bookworm\nCOPY . /srv/\n")
    here = os.getcwd()
    os.chdir(str(tenant.dir / "app"))
    try:
        for _level in range(18):
            os.mkdir("d" * 250)
            os.chdir("d" * 250)
        open("deep.txt", "w").close()
    finally:
        os.chdir(here)
    refused(tenant, docker_client, "docker-compose.yml: service 'app': key 'build': build.context 'app': 'dddd",
            "bytes")
