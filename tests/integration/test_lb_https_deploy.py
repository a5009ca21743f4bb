"""HTTPS on every route (issue 20) through the playbooks (deploy.yml, the tenant's compose file with
``x-spin.https``), on the real engine, with curl through an edge of the test's own (prefix t20..., its own
ports, config directory and CA: not the shared spin_edge, which other checkouts re-render).

- tenant t20a's automatic route with ``x-spin: {https: redirect}``: plain HTTP answers 301 to the HTTPS
  URL, which answers with a certificate from the platform CA (curl --cacert <that CA>);
- tenant t20b brings its own certificate and key as two compose secrets for its host name (in its
  allowance ``*.t20b.test``): served for that name by SNI, with the tenant's CA;
- t20b's certificate for a name of t20a: the deploy is refused with the file, service and key, and
  nothing of the stack is created. (The hole this closes is shown on the edge itself in
  test_lb_https.py: a crt-list entry for another tenant's name is what that name's visitors get.)

Every Docker object and submission is the test's (t20...); they go at the end."""
import os
import subprocess
import uuid

import pytest

from conftest import run_playbook
from lblib import Edge, wait_for
from stacklib import Tenant, write_inventory

DOMAIN = "localhost"
ADDED = {"t20a": {"uid": 1020, "gid": 1020}, "t20b": {"uid": 1021, "gid": 1021, "hostnames": ["*.t20b.test"]}}


@pytest.fixture(scope="module")
def edge(docker_client, tmp_path_factory):
    e = Edge(docker_client, tmp_path_factory.mktemp("t20deploy"), prefix="t20" + uuid.uuid4().hex[:6], port_count=2,
             hostnames=["*"])
    e.platform["https_port"] = e.ports[1]
    try:
        e.provision(stats=False)
        yield e
    finally:
        e.close()


@pytest.fixture
def tenants(edge, docker_client, tmp_path):
    inventory = write_inventory(tmp_path, spin_platform={"route_port": edge.ports[0], "route_domain": DOMAIN},
                                spin_tenants=ADDED, **edge.playbook_vars())
    made = []

    def playbook(*args, **kwargs):
        return run_playbook(*args, inventory=inventory, **kwargs)

    def make(stack, tenant):
        t = Tenant(tmp_path, docker_client, playbook, stack, tenant, uid=ADDED[tenant]["uid"],
                   gid=ADDED[tenant]["gid"])
        made.append(t)
        return t
    yield make
    for t in reversed(made):
        t.remove(check=False)
        t.discard()


def curl(url, host, port, cafile=None):
    """curl through the edge on 127.0.0.1 (--resolve) -> (rc, verbose output)."""
    cmd = ["curl", "-sS", "-v", "--max-time", "10", "--resolve", "%s:%d:127.0.0.1" % (host, port)]
    cmd += ["--cacert", cafile] if cafile else []
    proc = subprocess.run(cmd + [url], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
                          timeout=30)
    print("$ " + " ".join(cmd + [url]))
    print("\n".join(line for line in proc.stdout.splitlines() if "subject:" in line or "issuer:" in line
                    or line.startswith(("< HTTP", "< location", "< Location")) or "verify ok" in line
                    or not line.startswith(("*", ">", "<", "{", "}"))))
    return proc.returncode, proc.stdout


def make_cert(tmp_path, names, stem):
    """The tenant's own CA and a certificate of it for ``names`` (openssl) -> (CA file, cert PEM, key PEM)."""
    ca_key, ca_crt = str(tmp_path / (stem + "-ca.key")), str(tmp_path / (stem + "-ca.crt"))
    key, csr, crt, ext = (str(tmp_path / (stem + s)) for s in (".key", ".csr", ".crt", ".ext"))

    def run(*cmd):
        subprocess.run(cmd, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
        "-subj", "/CN=%s own CA" % stem, "-keyout", ca_key, "-out", ca_crt)
    with open(ext, "w") as handle:
        handle.write("subjectAltName=%s\n" % ",".join("DNS:" + n for n in names))
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-subj",
        "/CN=%s" % names[0], "-keyout", key, "-out", csr)
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-days", "2",
        "-extfile", ext, "-out", crt)
    with open(crt) as c, open(key) as k:
        return ca_crt, c.read(), k.read()


def page(service, x_spin=None, secrets=None, lb=False):
    svc = {"image": "httpd", "volumes": ["./index.html:/var/www/html/index.html:ro"]}
    if x_spin:
        svc["x-spin"] = x_spin
    compose = {"version": "3.8", "services": {service: svc}}
    if lb:  # Rancher's load balancer, whose lb_config (rancher-compose.yml) the edge serves
        compose["services"]["lb"] = {"image": "rancher/lb-service-haproxy"}
    if secrets:
        compose["secrets"] = {name: {"file": "./%s" % name} for name in secrets}
    return compose


def test_automatic_route_redirects_and_answers_with_the_platform_ca(edge, tenants):
    t = tenants("t20" + uuid.uuid4().hex[:5] + "a", "t20a")
    t.write(page("web", {"https": "redirect"}), **{"index.html": "hello-t20a\n"})
    deployed = t.deploy()
    host = "web.%s.t20a.%s" % (t.stack, DOMAIN)
    http_port, https_port = edge.ports
    shown = " ".join(deployed.output.split()).replace("''", "'")  # the debug task's YAML folds and quotes
    assert "https://%s:%d/ (certificate 'platform' from the platform CA, valid until " % (host, https_port) in shown
    ca = os.path.join(edge.platform["ca_dir"], "ca.crt")
    url = "https://%s:%d/" % (host, https_port)
    wait_for("the route over HTTPS", lambda: "hello-t20a" in curl(url, host, https_port, ca)[1], timeout=60)
    rc, out = curl("https://%s:%d/" % (host, https_port), host, https_port, ca)
    assert rc == 0 and "subject: CN=%s" % host in out and "issuer: CN=spin.platform CA" in out, out
    assert "SSL certificate verify ok" in out
    rc, out = curl("http://%s:%d/x?y=1" % (host, http_port), host, http_port)
    assert "< HTTP/1.1 301" in out and "< location: https://%s:%d/x?y=1" % (host, https_port) in out.lower(), out


def test_tenant_certificate_from_secrets_and_a_foreign_one_refused(edge, tenants, tmp_path):
    prefix = "t20" + uuid.uuid4().hex[:5]
    name = "portal.t20b.test"
    ca, cert, key = make_cert(tmp_path, [name], "t20b")
    t = tenants(prefix + "b", "t20b")
    rancher = {"version": "2", "services": {"lb": {"lb_config": {"port_rules": [
        {"source_port": edge.ports[0], "target_port": 80, "service": "web", "hostname": name}]}}}}
    compose = page("web", {"https": {"cert": "portal_crt", "key": "portal_key"}}, ["portal_crt", "portal_key"], lb=True)
    t.write(compose, rancher, **{"index.html": "hello-t20b\n", "portal_crt": cert, "portal_key": key})
    deployed = t.deploy()
    assert "BEGIN" not in deployed.output and key.splitlines()[1] not in deployed.output  # never echoed
    https_port = edge.ports[1]
    url = "https://%s:%d/" % (name, https_port)
    wait_for("the tenant's name over HTTPS", lambda: "hello-t20b" in curl(url, name, https_port, ca)[1], timeout=60)
    rc, out = curl("https://%s:%d/" % (name, https_port), name, https_port, ca)
    assert rc == 0 and "subject: CN=%s" % name in out and "issuer: CN=t20b own CA" in out, out

    # t20b's certificate for a name of t20a's: refused, nothing of the stack made
    victim = "web.%sz.t20a.%s" % (prefix, DOMAIN)
    dummy, rogue, rogue_key = make_cert(tmp_path, [victim, name], "rogue")
    r = tenants(prefix + "c", "t20b")
    shop = {"version": "2", "services": {"lb": {"lb_config": {"port_rules": [
        {"source_port": edge.ports[0], "target_port": 80, "service": "web", "hostname": "shop.t20b.test"}]}}}}
    r.write(page("web", {"https": {"cert": "c", "key": "k"}}, ["c", "k"], lb=True), rancher=shop,
            **{"index.html": "rogue\n", "c": rogue, "k": rogue_key})
    refused = r.deploy(check=False)
    assert refused.rc != 0
    assert ("docker-compose.yml: service 'web': key 'x-spin.https.cert': the certificate names '%s', which tenant "
            "'t20b' does not own" % victim) in refused.output, refused.output[-3000:]
    assert "BEGIN" not in refused.output
    assert r.services() == {} and not any(r.objects().values())
