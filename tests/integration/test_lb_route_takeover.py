"""No name a tenant chooses reaches another tenant's traffic (issue 17, item 3), through the playbooks,
on the real engine, with curl through an edge of the test's own (not the shared spin_edge, which other
checkouts re-render).

* The victim, tenant cory, has an automatic route ``web.<stack>.cory.localhost``. The impostor, tenant
  eve, names a public service of her own stack after the victim's Swarm service (``<stack>_web``), once
  deployed before the victim and once after: the victim's route answers from the victim's service every
  time, because the edge finds backends by a name only the platform gives (an alias on the stack's own
  load balancer network), not by a name a tenant can choose.
* eve claims a host name under cory's automatic-route domain (``*.cory.localhost``) with an ``lb_config``
  rule: refused with file, service, key and fix, whether or not cory has deployed, so cory's own route is
  never refused as held.
* eve's host name is the very name the edge resolves for cory's service (a host name registers on every
  network of its container, the load balancer's too), written plainly or as a template Swarm expands
  (``{{"tasks.<name>"}}``): refused. Before the fix the template form was deployed and took cory's
  route (30 of 30 answers from eve).

Every Docker object is named h2...; the edge and its networks go at the end."""
import os
import re
import subprocess
import uuid

import pytest

from conftest import run_playbook
from lblib import Edge, wait_for
from stacklib import Tenant, write_inventory

DOMAIN = "localhost"


@pytest.fixture(scope="module")
def edge(docker_client, tmp_path_factory):
    e = Edge(docker_client, tmp_path_factory.mktemp("takeover"), prefix="h2" + uuid.uuid4().hex[:6], port_count=1,
             hostnames=["*"])
    try:
        e.provision(stats=False)
        yield e
    finally:
        e.close()


@pytest.fixture
def tenants(edge, docker_client, tmp_path):
    """-> make(stack, tenant): a Tenant deploying through the test edge's inventory (cory, and eve added)."""
    added = {"eve": {"uid": 1002, "gid": 1002}}
    inventory = write_inventory(tmp_path, spin_platform={"route_port": edge.ports[0], "route_domain": DOMAIN},
                                spin_tenants=added, **edge.playbook_vars())
    made = []

    def playbook(*args, **kwargs):
        return run_playbook(*args, inventory=inventory, **kwargs)

    def make(stack, tenant):
        t = Tenant(tmp_path, docker_client, playbook, stack, tenant, **added.get(tenant, {}))
        made.append(t)
        return t
    yield make
    for t in reversed(made):
        t.remove(check=False)
        t.discard()


def page_stack(service, text):
    """A stack of one httpd service that serves ``text`` (its page is a file of the submission)."""
    return ({"version": "3.8", "services": {service: {"image": "httpd", "volumes": [
        "./index.html:/var/www/html/index.html:ro"]}}}, {"index.html": text + "\n"})


def curl(host, port):
    """The page at http://host:port/ as curl gets it through the edge on 127.0.0.1 (--resolve), or
    '<status>' when the answer is not 200 (e.g. 503 while no server is up yet)."""
    proc = subprocess.run(["curl", "-s", "--max-time", "5", "-w", "\\n%{http_code}", "--resolve",
                           "%s:%d:127.0.0.1" % (host, port), "http://%s:%d/" % (host, port)],
                          stdout=subprocess.PIPE, text=True, check=False)
    body, dummy, status = proc.stdout.rpartition("\n")
    return body.strip() if status == "200" else "<%s>" % status


def answers(host, port, count=30):
    """The distinct pages of ``count`` requests."""
    return {curl(host, port) for dummy in range(count)}


def test_a_service_named_after_another_tenants_service_does_not_take_its_route(edge, tenants):
    prefix = "h2" + uuid.uuid4().hex[:5]
    port = edge.ports[0]
    victim_stack = prefix + "m"
    victim_host = "web.%s.cory.%s" % (victim_stack, DOMAIN)
    impostor_service = victim_stack + "_web"   # the victim's Swarm service name, as eve's compose name

    before = tenants(prefix + "e", "eve")
    compose, files = page_stack(impostor_service, "impostor-before")
    before.write(compose, **files)
    before.deploy()

    victim = tenants(victim_stack, "cory")
    compose, files = page_stack("web", "victim")
    victim.write(compose, **files)
    deployed = victim.deploy()
    assert "http://%s:%d/" % (victim_host, port) in deployed.output
    wait_for("the victim's route answering", lambda: not curl(victim_host, port).startswith("<"), timeout=60)
    assert answers(victim_host, port) == {"victim"}

    after = tenants(prefix + "f", "eve")
    compose, files = page_stack(impostor_service, "impostor-after")
    after.write(compose, **files)
    after.deploy()
    # eve's own routes work (so the impostors are really on the edge), and cory's still answers from cory
    eve_host = "%s.%s.eve.%s" % (impostor_service.replace("_", "-"), after.stack, DOMAIN)
    wait_for("the impostor's own route answering", lambda: curl(eve_host, port) == "impostor-after", timeout=60)
    assert answers(victim_host, port) == {"victim"}


def test_a_host_name_under_another_tenants_route_domain_is_refused(edge, tenants):
    prefix = "h2" + uuid.uuid4().hex[:5]
    victim_stack = prefix + "v"
    victim_host = "web.%s.cory.%s" % (victim_stack, DOMAIN)
    impostors = []
    for n, hostname in enumerate((victim_host, "*.cory." + DOMAIN)):
        impostor = tenants("%si%d" % (prefix, n), "eve")
        compose, files = page_stack("web", "impostor")
        compose["services"]["lb"] = {"image": "rancher/lb-service-haproxy"}
        impostor.write(compose, {"version": "2", "services": {"lb": {"lb_config": {"port_rules": [
            {"source_port": edge.ports[0], "target_port": 80, "service": "web", "hostname": hostname}]}}}}, **files)
        refused = impostor.deploy(check=False)
        assert refused.rc != 0, refused.output[-3000:]
        assert ("rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].hostname': hostname '%s' is inside "
                "tenant 'cory''s names" % hostname) in refused.output, refused.output[-3000:]
        assert impostor.objects() == {"services": [], "networks": [], "secrets": [], "volumes": []}
        impostors.append(impostor)

    victim = tenants(victim_stack, "cory")
    compose, files = page_stack("web", "victim")
    victim.write(compose, **files)
    victim.deploy()
    wait_for("the victim's route answering", lambda: not curl(victim_host, edge.ports[0]).startswith("<"),
             timeout=60)

    # after cory's deploy too: still refused, and cory's route still answers from cory
    refused = impostors[0].deploy(check=False)
    assert refused.rc != 0 and "inside tenant 'cory''s names" in refused.output, refused.output[-3000:]
    assert answers(victim_host, edge.ports[0]) == {"victim"}


def resolved_name(edge, stack, service):
    """The name the edge resolves ``stack``'s ``service`` by, from its rendered haproxy.cfg."""
    with open(os.path.join(edge.config_dir, "haproxy.cfg")) as handle:
        text = handle.read()
    found = re.search(r"\nbackend %s:%s:\d+\n(?:    [^\n]*\n)*?    server-template \S+ \d+ (\S+):\d+"
                      % (re.escape(stack), re.escape(service)), text)
    assert found, text
    return found.group(1)


def test_a_host_name_that_is_the_name_the_edge_resolves_is_refused(edge, tenants):
    """A container's host name registers on every network of the container, the load balancer's too:
    eve's host name (written plainly, or as a template Swarm expands) that is the name the edge
    resolves for cory's service is refused, and cory's route answers from cory."""
    prefix = "h2" + uuid.uuid4().hex[:5]
    port = edge.ports[0]
    victim = tenants(prefix + "m", "cory")
    compose, files = page_stack("web", "victim")
    victim.write(compose, **files)
    victim.deploy()
    victim_host = "web.%s.cory.%s" % (victim.stack, DOMAIN)
    wait_for("the victim's route answering", lambda: not curl(victim_host, port).startswith("<"), timeout=60)
    target = resolved_name(edge, victim.stack, "web")
    for n, hostname in enumerate((target, '{{"%s"}}' % target)):
        impostor = tenants("%sh%d" % (prefix, n), "eve")
        compose, files = page_stack("web", "impostor")
        compose["services"]["web"]["hostname"] = hostname
        impostor.write(compose, **files)
        refused = impostor.deploy(check=False)
        assert refused.rc != 0, refused.output[-3000:]
        assert "docker-compose.yml: service 'web': key 'hostname': '%s' is " % hostname in refused.output, \
            refused.output[-3000:]
        assert impostor.objects() == {"services": [], "networks": [], "secrets": [], "volumes": []}
    assert answers(victim_host, port) == {"victim"}
