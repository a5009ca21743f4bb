"""Certificates made on the spot (a self-signed one, the clock they are judged by) and a routes document
with HTTPS routes, for the tests of tls.py, tls_edge.py, lb_certs.py and haproxy_cfg.py."""
import datetime
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy


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
