"""HTTPS on every route (issue 20), on the real engine with the platform's real HAProxy 2.6: an edge of the
test's own (prefix t20..., its own ports, config directory and CA), backends made by the test, traffic to
loopback only, every load loop bounded in count and time.

- an automatic route's name answers over HTTPS with a certificate from the platform CA (curl --cacert);
- a tenant's own certificate (made here with the test's own CA) is served for its name, chosen by SNI;
- a certificate for a name the tenant does not own is refused, with nothing stored;
- a renewal by a converge of the stack under load: 0 failed requests, the edge neither reloaded nor
  restarted (same container id, start time and HAProxy reload count), the new certificate served;
- x-spin.https: redirect: plain HTTP answers 301 to the HTTPS URL.
"""
import hashlib
import os
import socket
import ssl
import subprocess
import threading
import time

import pytest

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, lb, lb_certs, lb_node, tls, tls_edge
from ansible_collections.spin.platform.plugins.module_utils.monitor import status
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from lblib import Edge, get, wait_for

PREFIX = "t20"


@pytest.fixture(scope="module")
def edge(docker_client, tmp_path_factory):
    e = Edge(docker_client, tmp_path_factory.mktemp("t20tls"), prefix=PREFIX + os.urandom(3).hex(), port_count=3)
    # the last of the edge's ports is its HTTPS port (443 on a platform)
    e.platform = haproxy.normalise_platform(dict(e.platform, https_port=e.ports[-1], hostnames=["*.test", "*.localhost"]))
    e.node = lb_node.EdgeNode(e.platform)
    try:
        e.provision(stats=False)
        yield e
    finally:
        e.close()


def auto_endpoint(stack, tenant, port, service="web"):
    """What the translator gives spin_stack for an automatic route (stack_defaults)."""
    return {"service": "%s_%s" % (stack, service), "compose_service": service, "target": 80, "published": port,
            "protocol": "tcp", "hostname": "%s.%s.%s.localhost" % (service, stack, tenant), "key": "x-spin.route",
            "origin": "service '%s' automatic route" % service}


def deploy(edge, tenant, stack, endpoints=None, load_balancers=None, platform=None, **kwargs):
    """What spin_stack does for the edge: plan (claims, certificates), store, sync this node."""
    p = platform or edge.platform
    plan = lb.plan_stack_routes(edge.client, tenant, stack, endpoints, load_balancers, p, validate=False, **kwargs)
    lb.store_stack_routes(edge.client, plan["routes"], p)
    return plan, lb_node.sync_edge(edge.client, p)


def https_get(port, name, cafile, path="/id.txt", timeout=5):
    """One HTTPS request on a new connection with SNI ``name``, verified against ``cafile`` ->
    (status, SHA1 of the server's certificate)."""
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as raw:
        with ctx.wrap_socket(raw, server_hostname=name) as conn:
            der = conn.getpeercert(binary_form=True)
            conn.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (path, name)).encode())
            data = b""
            while b"\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
    return int(data.split(b" ", 2)[1]), hashlib.sha1(der).hexdigest().upper()


def curl(port, name, cafile, path="/id.txt"):
    """curl --cacert <CA> --resolve <name>:<port>:127.0.0.1 https://<name>:<port>/ -> (rc, output)."""
    cmd = ["curl", "-sS", "-v", "--max-time", "10", "--cacert", cafile, "--resolve", "%s:%d:127.0.0.1" % (name, port),
           "https://%s:%d%s" % (name, port, path)]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=30, check=False)
    print("$ " + " ".join(cmd))
    print("\n".join(line for line in proc.stdout.splitlines()
                    if "subject:" in line or "issuer:" in line or line.startswith("< HTTP") or "expire date" in line
                    or "SSL certificate verify" in line or not line.startswith(("*", ">", "<", "{", "}"))))
    return proc.returncode, proc.stdout


def make_ca(tmp_path, name):
    key, crt = str(tmp_path / (name + ".key")), str(tmp_path / (name + ".crt"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=%s" % name, "-keyout", key, "-out", crt], check=True,
                   capture_output=True)
    return crt, key


def make_cert(tmp_path, ca, names, stem):
    """A certificate for ``names`` signed by ``ca`` (openssl, as a tenant would) -> (cert PEM, key PEM)."""
    key, csr, crt, ext = (str(tmp_path / (stem + s)) for s in (".key", ".csr", ".crt", ".ext"))
    with open(ext, "w") as handle:
        handle.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % ",".join("DNS:" + n for n in names))
    subprocess.run(["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-subj", "/CN=%s" % names[0], "-keyout", key, "-out", csr], check=True, capture_output=True)
    subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
                    "-days", "2", "-extfile", ext, "-out", crt], check=True, capture_output=True)
    with open(crt) as c, open(key) as k:
        return c.read(), k.read()


def edge_identity(edge):
    """(container id, its start time, HAProxy master's reload count): the same three mean no restart,
    no replacement and no reload."""
    container = edge.container()
    started = edge.docker.api.inspect_container(container["Id"])["State"]["StartedAt"]
    return container["Id"], started, edge.show_proc()["master"]["reloads"]


def test_automatic_route_answers_over_https_with_the_platform_ca(edge):
    tenant, stack = "t20a", edge.prefix + "a"
    name = "web.%s.%s.localhost" % (stack, tenant)
    plan, synced = deploy(edge, tenant, stack, [auto_endpoint(stack, tenant, edge.ports[0])])
    assert [c["source"] for c in plan["certificates"]] == ["platform"]
    assert plan["certificates"][0]["names"] == [name] and "pem" not in plan["certificates"][0]
    edge.backend(stack, "web", plan["network"], replicas=2, tenant=tenant)
    ca = os.path.join(edge.platform["ca_dir"], "ca.crt")
    https = edge.ports[-1]
    wait_for("the route over HTTPS", lambda: https_get(https, name, ca)[0] == 200, timeout=30)
    rc, out = curl(https, name, ca)
    assert rc == 0, out
    assert "< HTTP/2 200" in out or "< HTTP/1.1 200" in out
    assert "subject: CN=%s" % name in out and "issuer: CN=spin.platform CA" in out
    assert "SSL certificate verify ok" in out
    # the key never leaves the Swarm config and the edge's 0600 file
    path = tls_edge.cert_path(edge.platform, stack, "platform")
    assert os.stat(path).st_mode & 0o077 == 0
    assert "PRIVATE KEY" not in repr(plan) and "PRIVATE KEY" not in repr(synced)
    # plain HTTP keeps answering (no redirect asked)
    assert get(edge.ports[0], host=name)[0] == 200
    # status shows the expiry (status.EXTRA_FACTS), monitoring gets it as a metric
    fact = status.collect(edge.client, {"tenant": tenant, "stack": stack, "lb_platform": edge.platform,
                                        "logs": False})["stacks"][0]["extra"]["certificates"]
    print("\n".join(fact["text"]))
    assert fact["data"][0]["days_left"] == 89 and fact["data"][0]["sni"] == [name]
    assert fact["text"][0].startswith("certificate platform (platform CA): %s, valid until " % name)
    assert "PRIVATE KEY" not in repr(fact)
    with open(os.path.join(edge.node.metrics, "spin_edge.prom")) as handle:
        metrics = handle.read()
    assert ('spin_edge_certificate_expiry_timestamp_seconds{certificate="%s--platform",source="platform"} %d'
            % (stack, plan["certificates"][0]["not_after"])) in metrics


def test_tenant_certificate_is_served_for_its_name_by_sni(edge, tmp_path):
    tenant, stack = "t20b", edge.prefix + "b"
    name = "portal.%s.test" % tenant
    own_ca = make_ca(tmp_path, "t20b own CA")
    cert, key = make_cert(tmp_path, own_ca, [name], "portal")
    rules = {"lb": {"port_rules": [{"source_port": edge.ports[1], "target_port": 80, "service": "web",
                                    "hostname": name, "protocol": "http"}]}}
    allowance = {"tenant": tenant, "ports": None, "hostnames": ["*.%s.test" % tenant]}
    plan, dummy = deploy(edge, tenant, stack, load_balancers=rules, allowance=allowance,
                         tenant_certs=[{"service": "web", "cert": cert, "key": key}])
    assert [(c["source"], c["sni"]) for c in plan["certificates"]] == [("tenant", [name])]
    edge.backend(stack, "web", plan["network"], replicas=1, tenant=tenant)
    https = edge.ports[-1]
    wait_for("the tenant's name over HTTPS", lambda: https_get(https, name, own_ca[0])[0] == 200, timeout=30)
    rc, out = curl(https, name, own_ca[0])
    assert rc == 0, out
    assert "subject: CN=%s" % name in out and "issuer: CN=t20b own CA" in out
    # the automatic route of the other stack keeps its own certificate (SNI chooses)
    other = "web.%sa.t20a.localhost" % edge.prefix
    rc, out = curl(https, other, os.path.join(edge.platform["ca_dir"], "ca.crt"))
    assert rc == 0 and "subject: CN=%s" % other in out, out


def test_certificate_for_a_name_the_tenant_does_not_own_is_refused(edge, tmp_path):
    """The hole this closes: HAProxy picks a certificate by the SNI names its crt-list line gives. Were a
    tenant's certificate taken by the names it carries, t20b's certificate for a name of t20a (here
    api.<stack>.t20a.localhost, which t20a's next service gets as its automatic route) would be what t20a's
    visitors get. The test first shows that (a crt-list entry for that name, put in by hand through the
    runtime API, is what clients are served), then that the deploy refuses such a certificate, with a
    message for the tenant, and stores nothing of the stack."""
    victim = "api.%sa.t20a.localhost" % edge.prefix
    own_ca = make_ca(tmp_path, "t20b rogue CA")
    cert, key = make_cert(tmp_path, own_ca, [victim, "web.%sa.t20a.localhost" % edge.prefix], "rogue")
    https = edge.ports[-1]
    # the hole, by hand: the same certificate in the edge's crt-list for the victim's name
    rogue = tls_edge.cert_path(edge.platform, "rogue", "hand")
    want = tls_edge.wanted(edge.platform, lb_certs.stored_certificates(edge.client, edge.platform),
                           set(lb.stored_routes(edge.client, edge.platform)))
    forged = dict(tls.info(cert), sni=[victim], pem=cert + key)
    tls_edge.sync_runtime(edge.node.admin, edge.platform, dict(want, **{rogue: forged}))
    try:
        assert https_get(https, victim, own_ca[0])[1] == forged["sha1"]  # t20a's visitors get t20b's certificate
    finally:
        tls_edge.sync_runtime(edge.node.admin, edge.platform, want)
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(https, victim, own_ca[0])  # gone: the image's placeholder answers a name nobody serves

    tenant, stack = "t20b", edge.prefix + "c"
    before = sorted(c.name for c in edge.docker.configs.list())
    rules = {"lb": {"port_rules": [{"source_port": edge.ports[1], "target_port": 80, "service": "web",
                                    "hostname": "shop.t20b.test", "protocol": "http"}]}}
    allowance = {"tenant": tenant, "ports": None, "hostnames": ["*.t20b.test"]}
    with pytest.raises(SpinError) as refused:
        deploy(edge, tenant, stack, load_balancers=rules, allowance=allowance,
               tenant_certs=[{"service": "web", "cert": cert, "key": key}])
    print(refused.value.message)
    assert ("the certificate names '%s', 'web.%sa.t20a.localhost', which tenant 't20b' does not own: a certificate "
            "may name only host names under 't20b.localhost' or matching your allowance (*.t20b.test)"
            % (victim, edge.prefix)) in refused.value.message
    assert "docker-compose.yml: service 'web': key 'x-spin.https.cert'" in refused.value.message
    # a name outside the allowance, not under any route domain
    outside, outside_key = make_cert(tmp_path, own_ca, ["shop.t20b.test", "www.bank.test"], "bank")
    with pytest.raises(SpinError, match="names 'www.bank.test', which tenant 't20b' does not own"):
        deploy(edge, tenant, stack, load_balancers=rules, allowance=allowance,
               tenant_certs=[{"service": "web", "cert": outside, "key": outside_key}])
    assert sorted(c.name for c in edge.docker.configs.list()) == before  # nothing stored
    assert stack not in lb.stored_routes(edge.client, edge.platform)
    served = "web.%sa.t20a.localhost" % edge.prefix
    assert https_get(https, served, os.path.join(edge.platform["ca_dir"], "ca.crt"))[0] == 200


def test_renewal_under_load_never_restarts_or_reloads_the_edge(edge):
    """A converge of the stack renews its certificate once fewer than lb_cert_renew_days are left: issued for
    2 days with renew_days 1 (not due), the converge with cert_days 3 / renew_days 2 finds it due and issues a
    new one, which the running HAProxy gets through set/commit ssl cert. 400 HTTPS requests (new TLS connection
    each) from 4 clients, bounded in count and time, run across it."""
    tenant, stack = "t20a", edge.prefix + "r"
    name = "web.%s.%s.localhost" % (stack, tenant)
    short = haproxy.normalise_platform(dict(edge.platform, cert_days=2, cert_renew_days=1))
    plan, dummy = deploy(edge, tenant, stack, [auto_endpoint(stack, tenant, edge.ports[0])], platform=short)
    edge.backend(stack, "web", plan["network"], replicas=2, tenant=tenant)
    ca = os.path.join(edge.platform["ca_dir"], "ca.crt")
    https = edge.ports[-1]
    wait_for("the route over HTTPS", lambda: https_get(https, name, ca)[0] == 200, timeout=30)
    old_sha1 = https_get(https, name, ca)[1]
    assert old_sha1 == plan["certificates"][0]["sha1"]
    # the same converge again: not due, nothing issued
    again, synced = deploy(edge, tenant, stack, [auto_endpoint(stack, tenant, edge.ports[0])], platform=short)
    assert again["certificates"][0].get("unchanged") and not any(synced["certificates"].values())

    identity = edge_identity(edge)
    results, lock, stop = [], threading.Lock(), time.monotonic() + 60
    total, per_client = 400, 100

    def client():
        for dummy in range(per_client):
            if time.monotonic() > stop:
                break
            try:
                status, sha1 = https_get(https, name, ca)
            except (OSError, ssl.SSLError) as exc:
                status, sha1 = type(exc).__name__, None
            with lock:
                results.append((time.monotonic(), status, sha1))

    workers = [threading.Thread(target=client, daemon=True) for dummy in range(4)]
    for w in workers:
        w.start()
    wait_for("some requests before the renewal", lambda: len(results) >= 50, timeout=30)
    renew = haproxy.normalise_platform(dict(edge.platform, cert_days=3, cert_renew_days=2))
    renewed, synced = deploy(edge, tenant, stack, [auto_endpoint(stack, tenant, edge.ports[0])], platform=renew)
    for w in workers:
        w.join(90)
    new_sha1 = renewed["certificates"][0]["sha1"]
    assert renewed["certificates"][0]["why"].startswith("it expires on")
    assert new_sha1 != old_sha1
    assert synced["certificates"]["updated"] == [os.path.basename(tls_edge.cert_path(edge.platform, stack,
                                                                                     "platform"))]
    assert not synced["reloaded"] and not synced["config_changed"]
    failed = [r for r in results if r[1] != 200]
    seen = {r[2] for r in results}
    print("renewal under load: %d requests, %d failed, certificates served: %s; edge before %s, after %s" % (
        len(results), len(failed), sorted(s[:12] for s in seen if s), identity, edge_identity(edge)))
    assert len(results) == total and failed == []
    assert seen == {old_sha1, new_sha1}  # both were served: the swap happened while the load ran
    assert https_get(https, name, ca)[1] == new_sha1
    assert edge_identity(edge) == identity  # same container, same start, no reload


def test_redirect_from_http_to_https(edge):
    tenant, stack = "t20a", edge.prefix + "d"
    name = "web.%s.%s.localhost" % (stack, tenant)
    plan, dummy = deploy(edge, tenant, stack, [auto_endpoint(stack, tenant, edge.ports[0])], redirect=["web"])
    assert plan["routes"]["routes"][0]["https"] == "redirect"
    edge.backend(stack, "web", plan["network"], replicas=1, tenant=tenant)
    status, dummy, headers = get(edge.ports[0], path="/id.txt?x=1", host=name)
    assert status == 301
    assert headers["location"] == "https://%s:%d/id.txt?x=1" % (name, edge.ports[-1])
    ca = os.path.join(edge.platform["ca_dir"], "ca.crt")
    wait_for("the redirect's target", lambda: https_get(edge.ports[-1], name, ca)[0] == 200, timeout=30)
    # another stack's route on the same port is not redirected
    other = "web.%sa.t20a.localhost" % edge.prefix
    assert get(edge.ports[0], host=other)[0] == 200
