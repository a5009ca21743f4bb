"""HTTPS at the edge (issue 20), the pure parts: names and ownership, a tenant's certificate judged,
issuing and renewal, the certificates a stack needs, the crt-list and the runtime plan, the rendered
HTTPS frontend and redirect, and x-spin.https through the compose parser and the translator."""
import base64
import datetime
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, haproxy_cfg, lb_certs, tls, tls_edge
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate

CA = tls.make_ca()
NOW = time.time()


def self_signed(names, days=2, key=None):
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=1)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode(),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode())


def routes_doc(tenant="cory", stack="magic", hosts=("web.magic.cory.localhost",), redirect=None):
    endpoints = [{"service": "%s_web" % stack, "compose_service": "web", "target": 80, "published": 80,
                  "protocol": "tcp", "hostname": h, "key": "x-spin.route"} for h in hosts]
    doc = haproxy.stack_routes(tenant, stack, endpoints=endpoints, route_domain="localhost", redirect=redirect)
    doc["network"] = "spin-lb-" + stack
    return doc


# ---- names -------------------------------------------------------------------------------------

def test_covers_one_label_deep_like_tls_clients():
    assert tls.covers("*.cory.org", "www.cory.org")
    assert not tls.covers("*.cory.org", "a.www.cory.org") and not tls.covers("*.cory.org", "cory.org")
    assert tls.covers("WWW.cory.org", "www.cory.org") and not tls.covers("www.cory.org", "*.cory.org")


@pytest.mark.parametrize("name,allowance,owned", [
    ("web.magic.cory.localhost", None, True),           # under its own <tenant>.<route_domain>
    ("cory.localhost", None, True),
    ("web.seed.eve.localhost", None, False),            # another tenant's names
    ("localhost", None, False), ("*.localhost", None, False),
    ("www.cory.org", {"hostnames": ["*.cory.org"]}, True),
    ("www.bank.example", {"hostnames": ["*.cory.org"]}, False),   # outside the allowance
    ("www.bank.example", None, True),                   # no allowance: the platform's lb_hostnames ("*")
])
def test_owned(name, allowance, owned):
    assert tls.owned(name, "cory", "localhost", allowance) is owned


# ---- a tenant's certificate ----------------------------------------------------------------

def test_tenant_certificate_served_for_the_stack_names_it_covers():
    cert, key = self_signed(["*.cory.org", "cory.org"])
    got = tls.tenant_certificate("cory", "web", cert, key, ["www.cory.org", "api.other.org"], "localhost",
                                 {"hostnames": ["*.cory.org", "cory.org"]})
    assert got["sni"] == ["www.cory.org"] and got["source"] == "tenant" and got["label"] == "tenant-web"
    assert "PRIVATE KEY" in got["pem"] and "pem" not in tls.public(got)


def test_tenant_certificate_pem_is_re_encoded_so_no_tenant_line_reaches_the_runtime_api():
    """The PEM goes to HAProxy's CLI as a payload that ends at the first blank line: a chain block with a blank line
    and a command after it would have that command run by the edge. Every block is parsed and re-encoded."""
    cert, key = self_signed(["www.cory.org"])
    smuggled = ("-----BEGIN CERTIFICATE-----\n\ndel ssl crt-list /var/lib/spin/edge/certs/crt-list x.pem\n"
                "-----END CERTIFICATE-----\n")
    with pytest.raises(SpinError, match="holds no PEM certificate"):
        tls.tenant_certificate("cory", "web", cert + smuggled, key, ["www.cory.org"], "localhost",
                               {"hostnames": ["*.cory.org"]})
    got = tls.tenant_certificate("cory", "web", "# my chain\n" + cert.replace("\n", "\r\n"), key, ["www.cory.org"],
                                 "localhost", {"hostnames": ["*.cory.org"]})
    assert "\n\n" not in got["pem"] and "\r" not in got["pem"] and "# my chain" not in got["pem"]
    assert got["pem"].startswith("-----BEGIN CERTIFICATE-----\n") and "-----BEGIN PRIVATE KEY-----\n" in got["pem"]


@pytest.mark.parametrize("names,served,match", [
    (["web.seed.eve.localhost"], ["web.seed.eve.localhost"], "names 'web.seed.eve.localhost', which tenant 'cory' "
                                                             "does not own: a certificate may name only host names "
                                                             "under 'cory.localhost' or matching your allowance"),
    (["www.cory.org", "www.bank.example"], ["www.cory.org"], "names 'www.bank.example', which tenant 'cory'"),
    (["other.cory.org"], ["www.cory.org"], "but the stack serves none of them"),
])
def test_tenant_certificate_refused_with_the_reason(names, served, match):
    cert, key = self_signed(names)
    with pytest.raises(SpinError, match=match) as refused:
        tls.tenant_certificate("cory", "web", cert, key, served, "localhost", {"hostnames": ["*.cory.org"]})
    assert refused.value.message.startswith("docker-compose.yml: service 'web': key 'x-spin.https.cert': ")
    assert "PRIVATE KEY" not in refused.value.message and "BEGIN" not in refused.value.message


def test_tenant_certificate_key_mismatch_expired_and_garbage_refused():
    cert, dummy = self_signed(["www.cory.org"])
    other_key = self_signed(["www.cory.org"])[1]
    with pytest.raises(SpinError, match="key 'x-spin.https.key': the key is not the certificate's"):
        tls.tenant_certificate("cory", "web", cert, other_key, ["www.cory.org"], "localhost")
    old_cert, old_key = self_signed(["www.cory.org"], days=1)
    with pytest.raises(SpinError, match="the certificate expired on"):
        tls.tenant_certificate("cory", "web", old_cert, old_key, ["www.cory.org"], "localhost",
                               now=NOW + 2 * 86400)
    with pytest.raises(SpinError, match="holds no PEM certificate"):
        tls.tenant_certificate("cory", "web", "hello", other_key, ["www.cory.org"], "localhost")
    with pytest.raises(SpinError, match="holds no unencrypted PEM private key"):
        tls.tenant_certificate("cory", "web", cert, "nope", ["www.cory.org"], "localhost")


# ---- issuing and renewal -------------------------------------------------------------------

def test_issue_signs_with_the_platform_ca_for_the_names():
    pem = tls.issue(["web.magic.cory.localhost", "*.cory.localhost"], CA[0], CA[1], 90)
    got = tls.info(pem)
    assert got["names"] == ["*.cory.localhost", "web.magic.cory.localhost"]
    assert got["issuer"] == "CN=spin.platform CA" and got["subject"] == "CN=web.magic.cory.localhost"
    assert 89 * 86400 < got["not_after"] - NOW <= 90 * 86400
    leaf = x509.load_pem_x509_certificate(pem.split("-----END CERTIFICATE-----")[0].encode() +
                                          b"-----END CERTIFICATE-----\n")
    ca = x509.load_pem_x509_certificate(CA[0].encode())
    leaf.verify_directly_issued_by(ca)  # raises when it is not


def test_due_when_names_change_or_within_the_renewal_window():
    cert = {"names": ["a.cory.localhost"], "not_after": NOW + 40 * 86400}
    assert tls.due(None, ["a.cory.localhost"], NOW, 30) == "no certificate yet"
    assert tls.due(cert, ["a.cory.localhost"], NOW, 30) is None
    assert tls.due(cert, ["a.cory.localhost", "b.cory.localhost"], NOW, 30) == "the stack's host names changed"
    assert tls.due(cert, ["a.cory.localhost"], NOW + 11 * 86400, 30).startswith("it expires on")


def test_plan_stack_issues_keeps_renews_and_leaves_tenant_names_to_the_tenant():
    platform = haproxy.normalise_platform({})
    doc = routes_doc(hosts=("web.magic.cory.localhost", "www.cory.org"))
    plan = lb_certs.plan_stack(doc, None, [], platform, now=NOW)
    assert plan["issue"] == [("platform", ["web.magic.cory.localhost", "www.cory.org"], "no certificate yet")]
    stored = {"platform": {"config": "c1", "old": [], "tenant": "cory",
                           "cert": {"names": ["web.magic.cory.localhost", "www.cory.org"], "not_after": NOW + 60 * 86400,
                                    "label": "platform", "source": "platform", "sni": [], "sha1": "AA"}}}
    plan = lb_certs.plan_stack(doc, stored, [], platform, now=NOW)
    assert plan["keep"] == ["platform"] and plan["issue"] == [] and plan["remove"] == []
    plan = lb_certs.plan_stack(doc, stored, [], platform, now=NOW + 31 * 86400)
    assert plan["issue"][0][2].startswith("it expires on") and plan["remove"] == ["c1"]
    cert, key = self_signed(["www.cory.org"])
    own = tls.tenant_certificate("cory", "web", cert, key, tls.https_names(doc), "localhost")
    plan = lb_certs.plan_stack(doc, stored, [own], platform, now=NOW)
    assert plan["store"] == [own]
    assert plan["issue"] == [("platform", ["web.magic.cory.localhost"], "the stack's host names changed")]
    assert plan["remove"] == ["c1"]


# ---- the edge: crt-list and the runtime API --------------------------------------------------

def test_crt_list_and_runtime_plan():
    p = haproxy.normalise_platform({"config_dir": "/e"})
    want = {"/e/certs/a--platform.pem": {"sni": ["a.x"], "sha1": "aa"},
            "/e/certs/b--platform.pem": {"sni": ["b.x"], "sha1": "BB"}}
    assert tls_edge.crt_list_text(want) == "/e/certs/a--platform.pem a.x\n/e/certs/b--platform.pem b.x\n"
    running = tls_edge.parse_crt_list("# /e/certs/crt-list\n/e/certs/a--platform.pem:1 a.x\n"
                                      "/e/certs/c--platform.pem [alpn h2] c.x\n")
    assert running == {"/e/certs/a--platform.pem": ["a.x"], "/e/certs/c--platform.pem": ["c.x"]}
    assert tls_edge.parse_fingerprint("Serial: 1\nSHA1 FingerPrint: aa11\n") == "AA11"
    plan = tls_edge.runtime_plan(want, running, {"/e/certs/a--platform.pem": "OLD"})
    assert plan == [("update", "/e/certs/a--platform.pem"), ("add", "/e/certs/b--platform.pem"),
                    ("remove", "/e/certs/c--platform.pem")]
    assert tls_edge.runtime_plan(want, {p: want[p]["sni"] for p in want}, {p: want[p]["sha1"].upper()
                                                                           for p in want}) == []
    assert tls_edge.cert_path(p, "ma/gic", "tenant-web") == "/e/certs/ma_gic--tenant-web.pem"


def test_sync_runtime_speaks_the_haproxy_26_commands():
    p = haproxy.normalise_platform({"config_dir": "/e"})
    path = "/e/certs/s--platform.pem"
    sent = []
    answers = {"show ssl crt-list": "# /e/certs/crt-list\n", "show ssl cert": "Can't display the certificate",
               "new ssl cert": "New empty certificate store '%s'!" % path, "set ssl cert": "Transaction created",
               "commit ssl cert": "Committing\nSuccess!", "add ssl crt-list": "Inserting\nSuccess!"}

    def ask(command):
        sent.append(command)
        return next(v for k, v in answers.items() if command.startswith(k))

    done = tls_edge.sync_runtime(ask, p, {path: {"sni": ["a.x"], "sha1": "AA", "pem": "PEM\n"}})
    assert done == {"added": [path], "updated": [], "removed": []}
    assert sent[1:] == ["show ssl cert " + path, "new ssl cert " + path, "set ssl cert %s <<\nPEM\n" % path,
                        "commit ssl cert " + path, "add ssl crt-list /e/certs/crt-list <<\n%s a.x\n" % path]
    answers["commit ssl cert"] = "Can't commit"
    with pytest.raises(SpinError, match="commit ssl cert /e/certs/s--platform.pem: HAProxy answered"):
        tls_edge.sync_runtime(ask, p, {path: {"sni": ["a.x"], "sha1": "AA", "pem": "PEM\n"}})


# ---- the rendered HTTPS frontend and the redirect ---------------------------------------------

def _section(text, header):
    lines = text.split("\n")
    start = lines.index(header)
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith("    ")), len(lines))
    return lines[start:end]


def test_every_http_route_with_a_host_name_is_served_over_https_and_redirects_when_asked():
    magic = routes_doc(redirect=["web"])
    seed = routes_doc("demo", "seed", ("web.seed.demo.localhost",))
    text = haproxy_cfg.render([magic, seed], {})
    https = _section(text, "frontend port:443")
    assert https[1] == ("    bind :443 ssl crt /usr/local/share/spin-edge/placeholder.pem crt-list "
                        "/var/lib/spin/edge/certs/crt-list alpn h2,http/1.1")
    assert "    http-request set-header X-Forwarded-Proto https" in https
    assert "    use_backend magic:web:80 if { req.hdr(host),field(1,:),lower -m str web.magic.cory.localhost }" in https
    assert "    use_backend seed:web:80 if { req.hdr(host),field(1,:),lower -m str web.seed.demo.localhost }" in https
    plain = _section(text, "frontend port:80")
    assert ("    http-request redirect scheme https code 301 if { req.hdr(host),field(1,:),lower -m str "
            "web.magic.cory.localhost }") in plain
    assert not any("redirect" in line and "seed" in line for line in plain)  # seed did not ask
    # another HTTPS port: the redirect names it
    other = haproxy_cfg.render([magic], {"ports": [80, 8443], "https_port": 8443})
    assert ("    http-request redirect location https://%[req.hdr(host),field(1,:)]:8443%[capture.req.uri] code 301 "
            "if { req.hdr(host),field(1,:),lower -m str web.magic.cory.localhost }") in other
    # off: no HTTPS frontend, no redirect
    off = haproxy_cfg.render([magic], {"https_port": 0})
    assert "frontend port:443" not in off and "redirect" not in off
    assert haproxy_cfg.render([magic, seed], {}) == text  # deterministic: a renewal changes no config


def test_a_stack_holding_the_https_port_as_tcp_leaves_no_room_for_https():
    magic = routes_doc()
    tcp = haproxy.stack_routes("bob", "db", load_balancers={"lb": {"port_rules": [
        {"source_port": 443, "target_port": 5432, "service": "db", "protocol": "tcp"}]}})
    tcp["network"] = "spin-lb-db"
    text = haproxy_cfg.render([magic, tcp], {})
    assert "# HTTPS not served: port 443 is tcp for rule 1 of stack 'db'" in text
    assert "ssl" not in "\n".join(_section(text, "frontend port:443"))


# ---- x-spin.https through the compose parser and the translator ---------------------------------

def _tasks(text, env=None):
    model, diagnostics = compose.parse_stack(text, "docker-compose.yml", None, "rancher-compose.yml", env=env or {})
    assert not diag.has_errors(diagnostics), diagnostics
    return translate.stack_to_tasks(model, "cory", "magic")


def test_x_spin_https_redirect_and_certificate_secrets():
    tasks = _tasks("services:\n  web:\n    image: httpd\n    x-spin: {https: redirect}\n")
    assert tasks["https"] == {"redirect": ["web"], "certificates": []}
    assert "https" not in _tasks("services:\n  web:\n    image: httpd\n")
    text = ("services:\n  web:\n    image: httpd\n    x-spin: {https: {redirect: true, cert: site_crt, key: site_key}}\n"
            "secrets:\n  site_crt: {environment: CRT}\n  site_key: {environment: KEY}\n")
    tasks = _tasks(text, env={"CRT": "cert-text", "KEY": "key-text"})
    cert = tasks["https"]["certificates"][0]
    data = {s["name"]: base64.b64decode(s["data"]).decode() for s in tasks["secrets"]}
    assert data[cert["cert"]] == "cert-text" and data[cert["key"]] == "key-text"


def test_x_spin_https_refusals_name_the_key():
    model, diagnostics = compose.parse_stack("services:\n  web:\n    image: httpd\n    x-spin: {https: yes-please}\n",
                                             "docker-compose.yml", None, "rancher-compose.yml", env={})
    assert any(d["key"] == "x-spin.https" for d in diagnostics if d["severity"] == "error"), diagnostics
    model, diagnostics = compose.parse_stack("services:\n  web:\n    image: httpd\n    x-spin: {https: {cert: a}}\n",
                                             "docker-compose.yml", None, "rancher-compose.yml", env={})
    assert any("give both cert and key" in d["message"] for d in diagnostics), diagnostics
    model, diagnostics = compose.parse_stack(
        "services:\n  web:\n    image: httpd\n    x-spin: {https: {cert: a, key: b}}\n", "docker-compose.yml", None,
        "rancher-compose.yml", env={})
    with pytest.raises(SpinError, match="key 'x-spin.https.cert': 'a' is not a top-level secret with a file of this stack"):
        translate.stack_to_tasks(model, "cory", "magic")
