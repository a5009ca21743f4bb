"""HTTPS at the edge (issue 20), the pure parts: names and ownership, a tenant's certificate judged,
issuing and renewal, the certificates a stack needs, the crt-list and the runtime plan, the rendered
HTTPS frontend and redirect, and x-spin.https through the compose parser and the translator."""
import base64

import pytest
from cryptography import x509

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge import tls
from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.tls_fakes import NOW, self_signed


CA = tls.make_ca()


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
