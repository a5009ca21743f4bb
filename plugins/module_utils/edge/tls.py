# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""HTTPS on every route (issue 20), the pure part: which names a stack is served by over HTTPS,
whether a tenant's own certificate names only what the tenant owns, issuing a certificate from
the platform CA, when one is due for renewal, and the crt-list line HAProxy selects it by (SNI).

Storing certificates in Swarm is ``lb_certs``'s; loading them into the running HAProxy through
its runtime API is ``tls_edge``'s. Contracts: docs/design.md; the tenant's view:
docs/load-balancer.md ("HTTPS").

A certificate here is a dict ``{"label", "source": "platform" | "tenant", "names": [SAN DNS
names], "sni": [the stack's host names it is served for], "not_after": UNIX seconds, "sha1": hex of
the leaf's DER, "subject": text, "pem": leaf, chain and key}``. Only ``pem`` is secret: it is never
put in a result, a diff or a log line (``public()`` drops it).
"""
from __future__ import annotations

import datetime
import hashlib

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy
from ansible_collections.spin.platform.plugins.module_utils.edge import claims
from ansible_collections.spin.platform.plugins.module_utils.common import stack_defaults
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    HAS_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - ansible-core depends on it
    HAS_CRYPTOGRAPHY = False

PLATFORM_LABEL = "platform"
REDIRECT = "redirect"
# how a tenant's certificate may be as large as the file (a chain of a few certificates)
MAX_PEM_BYTES = 64 * 1024


def _need_crypto():
    if not HAS_CRYPTOGRAPHY:
        raise SpinError("the Python package 'cryptography' is needed on the manager for HTTPS at the edge")


# ---------------------------------------------------------------------------------------------
# which names, and whose

def https_names(doc):
    """The host names of a stack's HTTP routes (sorted, unique): each is served over HTTPS too."""
    return sorted({r["hostname"] for r in (doc or {}).get("routes") or []
                   if r.get("hostname") and r["protocol"] in ("http", "https")})


def covers(cert_name, hostname):
    """Does a certificate name (exact or ``*.suffix``, one label deep, as TLS clients read it)
    cover a route's host name (exact or ``*.suffix``)?"""
    cert_name, hostname = cert_name.lower(), hostname.lower()
    if cert_name == hostname:
        return True
    if cert_name.startswith("*.") and not hostname.startswith("*."):
        head, dot, rest = hostname.partition(".")
        return bool(head and dot and "." + rest == cert_name[1:])
    return False


def owned(name, tenant, route_domain, allowance=None, platform_hostnames=("*",)):
    """Whether ``tenant`` owns a host name a certificate carries: under its own
    ``<tenant>.<route_domain>``, or in its allowance of host names (spin_tenants.<t>.hostnames; with
    none, the platform's ``lb_hostnames``), and never inside another tenant's names or over the route
    domain (``claims.names_taken``)."""
    name = name.lower()
    domain = (route_domain or stack_defaults.DEFAULTS["route_domain"]).lower()
    if claims.names_taken(name, tenant, domain):
        return False
    own = "%s.%s" % (stack_defaults.host_label(tenant), domain)
    if name == own or name.endswith("." + own):
        return True
    if name.endswith("." + domain):
        return False
    patterns = allowance["hostnames"] if allowance and allowance.get("hostnames") is not None else platform_hostnames
    return haproxy._hostname_allowed(name, patterns)


# ---------------------------------------------------------------------------------------------
# reading certificates

def _pem_blocks(text, kind):
    out, block = [], None
    for line in text.splitlines():
        if line.startswith("-----BEGIN ") and kind in line:
            block = [line]
        elif block is not None:
            block.append(line)
            if line.startswith("-----END "):
                out.append("\n".join(block) + "\n")
                block = None
    return out


def _not_after(cert):
    value = getattr(cert, "not_valid_after_utc", None) or cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return int(value.timestamp())


def info(pem):
    """The leaf of a PEM (certificate first) -> {"names", "not_after", "sha1", "subject", "issuer"}."""
    _need_crypto()
    blocks = _pem_blocks(pem, "CERTIFICATE")
    if not blocks:
        raise SpinError("no certificate (-----BEGIN CERTIFICATE-----) in it")
    cert = x509.load_pem_x509_certificate(blocks[0].encode("ascii"))
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
            x509.DNSName)
    except x509.ExtensionNotFound:
        names = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return {"names": sorted({str(n).lower() for n in names}), "not_after": _not_after(cert),
            "sha1": hashlib.sha1(cert.public_bytes(serialization.Encoding.DER)).hexdigest().upper(),
            "subject": cert.subject.rfc4514_string(), "issuer": cert.issuer.rfc4514_string()}


def public(cert):
    """A certificate without its PEM (what results, status and diffs may show)."""
    return {k: v for k, v in cert.items() if k != "pem"}


def expiry_text(not_after):
    return datetime.datetime.fromtimestamp(int(not_after), datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def tenant_certificate(tenant, service, cert_text, key_text, served, route_domain, allowance=None,
                       platform_hostnames=("*",), keys=("x-spin.https.cert", "x-spin.https.key"), now=None):
    """A tenant's own certificate and key (the contents of the secrets its ``x-spin.https`` names)
    -> a certificate dict, or SpinError with a message for the tenant (file, service, key, fix).

    Refused: no certificate or no key, a key that is not the certificate's, a certificate expired,
    any name on it the tenant does not own (``owned``), or none of the stack's host names covered.
    ``served``: the stack's host names (``https_names``); the certificate is served for those of them
    it covers, and for nothing else, whatever else it names."""
    _need_crypto()
    where = "docker-compose.yml: service '%s': key '%%s': " % service
    if len(cert_text or "") > MAX_PEM_BYTES or len(key_text or "") > MAX_PEM_BYTES:
        raise SpinError(where % keys[0] + "the certificate or key is larger than %d bytes" % MAX_PEM_BYTES)
    try:
        got = info(cert_text or "")
        # every block parsed, not only the leaf: the PEM sent to HAProxy is re-encoded from what was parsed, so
        # no line the tenant wrote (a blank line would end the runtime API's payload) reaches the edge's CLI
        chain = [x509.load_pem_x509_certificate(block.encode("ascii")) for block in _pem_blocks(cert_text, "CERTIFICATE")]
        leaf = chain[0]
    except (SpinError, ValueError, IndexError) as exc:
        raise SpinError(where % keys[0] + "the secret it names holds no PEM certificate (%s): give the file with "
                        "-----BEGIN CERTIFICATE----- (the certificate first, then its chain)"
                        % getattr(exc, "message", "unreadable"))
    keys_found = _pem_blocks(key_text or "", "PRIVATE KEY")
    try:
        key = serialization.load_pem_private_key(keys_found[0].encode("ascii"), password=None) if keys_found else None
    except (ValueError, TypeError):
        key = None
    if key is None:
        raise SpinError(where % keys[1] + "the secret it names holds no unencrypted PEM private key: give the key "
                        "file (-----BEGIN PRIVATE KEY-----, without a passphrase)")
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != \
            leaf.public_key().public_bytes(serialization.Encoding.DER, spki):
        raise SpinError(where % keys[1] + "the key is not the certificate's (their public keys differ): give the "
                        "key the certificate was issued for")
    now = now if now is not None else datetime.datetime.now(datetime.timezone.utc).timestamp()
    if got["not_after"] <= now:
        raise SpinError(where % keys[0] + "the certificate expired on %s: give a renewed one"
                        % expiry_text(got["not_after"]))
    foreign = [n for n in got["names"] if not owned(n, tenant, route_domain, allowance, platform_hostnames)]
    if foreign:
        own = "%s.%s" % (stack_defaults.host_label(tenant), (route_domain or "localhost").lower())
        allowed = (allowance or {}).get("hostnames")
        raise SpinError(where % keys[0] + "the certificate names %s, which tenant '%s' does not own: a certificate "
                        "may name only host names under '%s'%s. Nothing was changed; give a certificate for your own "
                        "names only, or ask the platform team to add the name to your allowance"
                        % (", ".join("'%s'" % n for n in foreign), tenant, own,
                           " or matching your allowance (%s)" % ", ".join(allowed) if allowed else
                           " or one of the platform's host names (%s)" % ", ".join(platform_hostnames)))
    sni = [h for h in served if any(covers(n, h) for n in got["names"])]
    if not sni:
        raise SpinError(where % keys[0] + "the certificate names %s but the stack serves none of them (it serves %s): "
                        "give a certificate for one of the stack's host names"
                        % (", ".join(got["names"]) or "nothing", ", ".join(served) or "no host name"))
    pem = "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode("ascii")
    return dict(got, label="tenant-" + _label(service), source="tenant", sni=sni, pem=pem)


def _label(text):
    return "".join(c if c.isalnum() or c in "-_" else "-" for c in text)[:40]


# ---------------------------------------------------------------------------------------------
# the platform CA: issuing and renewing

def issue(names, ca_cert_pem, ca_key_pem, days, now=None):
    """A certificate for ``names`` (SAN DNS names) signed by the platform CA, with a new EC P-256
    key -> PEM (leaf, CA, key). ``now``: UNIX seconds (tests)."""
    _need_crypto()
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem.encode("ascii"))
    ca_key = serialization.load_pem_private_key(ca_key_pem.encode("ascii"), password=None)
    key = ec.generate_private_key(ec.SECP256R1())
    start = datetime.datetime.fromtimestamp(now, datetime.timezone.utc) if now else \
        datetime.datetime.now(datetime.timezone.utc)
    start -= datetime.timedelta(minutes=5)  # clocks of clients a little behind
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=int(days)))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
            + ca_cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
            + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii"))


def make_ca(days=3650):
    """A new platform CA -> (certificate PEM, key PEM), as the registry role makes one."""
    _need_crypto()
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "spin.platform CA")])
    start = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()).decode("ascii"))


def due(cert, names, now, renew_days, ca_sha1=None):
    """Why a stored platform certificate must be issued again, or None: it names other names, its
    CA changed, or fewer than ``renew_days`` days are left."""
    if cert is None:
        return "no certificate yet"
    if sorted(cert["names"]) != sorted(names):
        return "the stack's host names changed"
    if ca_sha1 and cert.get("ca_sha1") and cert["ca_sha1"] != ca_sha1:
        return "the platform CA changed"
    left = cert["not_after"] - now
    if left < int(renew_days) * 86400:
        return "it expires on %s, within %s days" % (expiry_text(cert["not_after"]), renew_days)
    return None


def crt_list_line(path, sni):
    """One crt-list line: the certificate's file and the SNI names it is chosen for."""
    return " ".join([path] + list(sni))
