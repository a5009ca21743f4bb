# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each fronted stack's certificates in Swarm (issue 20): what the deploy issues from the platform
CA or takes from the tenant, and every edge node serves (``tls_edge``).

One Swarm **config** per certificate of a stack, labelled ``spin.lb.edge``, ``spin.lb.kind=certificate``,
``spin.lb.tenant``, ``spin.lb.stack``, ``spin.lb.cert`` (the certificate's label: ``platform``, or
``tenant-<service>``) and ``spin.lb.not-after`` (UNIX seconds), named
``<edge>.cert.<stack>.<label>.<sha1[:10]>``. Its data is JSON with the PEM (leaf, chain, key).
Why a config and not a Swarm secret: the edge is a container, not a service, and a secret's data can
never be read back through the API, so the edge nodes could not load it. A config's data is read only
through a manager's API (root on a manager), and Swarm keeps it in its raft log, encrypted at rest,
like a secret; nothing of it is ever put in a module's result, diff or log (``tls.public``).

The platform CA is ``lb_ca_dir`` (``ca.crt``, ``ca.key``; by default the registry role's
``/etc/spin/registry``, whose certificate the docker_host role trusts) on the deploying manager; a
manager without one makes it there (0600 key) on the first deploy that needs a certificate.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import time

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, tls
from ansible_collections.spin.platform.plugins.module_utils.edge import claims
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

L_EDGE = "spin.lb.edge"
L_KIND = "spin.lb.kind"
L_TENANT = "spin.lb.tenant"
L_STACK = "spin.lb.stack"
L_CERT = "spin.lb.cert"
L_NOT_AFTER = "spin.lb.not-after"
KIND = "certificate"


# ---------------------------------------------------------------------------------------------
# the platform CA

def ca_files(platform):
    return os.path.join(platform["ca_dir"], "ca.crt"), os.path.join(platform["ca_dir"], "ca.key")


def load_ca(platform, create=True):
    """The platform CA (cert PEM, key PEM), made in ``lb_ca_dir`` when missing and ``create``."""
    crt, key = ca_files(platform)
    if not (os.path.exists(crt) and os.path.exists(key)):
        if not create:
            return None, None
        cert_pem, key_pem = tls.make_ca()
        os.makedirs(os.path.dirname(key), 0o700, exist_ok=True)
        for path, text, mode in ((key, key_pem, 0o600), (crt, cert_pem, 0o644)):
            fd = os.open(path + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            os.rename(path + ".tmp", path)
    with open(crt) as c, open(key) as k:
        return c.read(), k.read()


# ---------------------------------------------------------------------------------------------
# stored certificates

def _name(platform, stack, label, sha1):
    name = "%s.cert.%s.%s.%s" % (platform["edge_service"], stack, label, sha1[:10].lower())
    if len(name) > 64:
        name = "%s.cert.%s.%s" % (platform["edge_service"][:16], hashlib.sha256(
            ("%s/%s" % (stack, label)).encode("utf-8")).hexdigest()[:20], sha1[:10].lower())
    return name


def stored_certificates(client, platform, stack=None):
    """``{stack: {label: {"config": id, "tenant", "cert": certificate dict with pem}}}``; with ``stack``, that
    stack's only (the engine filters them: a deploy reads its own, not every stack's)."""
    out = {}
    wanted = {L_EDGE: platform["edge_service"], L_KIND: KIND}
    if stack:
        wanted[L_STACK] = stack
    for config in client.configs(labels=wanted) or []:
        labels = config["Spec"].get("Labels") or {}
        try:
            cert = json.loads(base64.b64decode(config["Spec"].get("Data") or "").decode("utf-8"))
        except ValueError:
            continue  # not ours to read; the next deploy of the stack replaces it
        stack, label = labels.get(L_STACK), labels.get(L_CERT)
        if not stack or not label:
            continue
        entry = out.setdefault(stack, {})
        # two versions of one label (a run killed between storing and removing): the newest serves
        index = (config.get("Version") or {}).get("Index", 0)
        if label not in entry or entry[label]["index"] < index:
            entry[label] = {"config": config["ID"], "tenant": labels.get(L_TENANT), "cert": cert, "index": index,
                            "old": [e["config"] for e in ([entry[label]] if label in entry else [])]}
        else:
            entry[label]["old"].append(config["ID"])
    return out


def plan_stack(doc, stored, tenant_certs, platform, now=None, ca=None):
    """The certificates a stack's routes document needs -> ``{"keep": [labels], "issue": [(label,
    names, why)], "store": [tenant certificate dicts], "remove": [config ids], "certs": [public
    certificate dicts, as they will be]}``. Pure but for ``ca`` (its sha1 only).

    Tenant certificates (``tls.tenant_certificate``) serve the names they cover; the platform's
    certificate (issued from its CA, ``lb_cert_days`` long, renewed when fewer than
    ``lb_cert_renew_days`` are left) covers the rest of the stack's host names."""
    now = now if now is not None else time.time()
    names = tls.https_names(doc)
    mine = dict(stored or {})
    plan = {"keep": [], "issue": [], "store": [], "remove": [], "certs": []}
    covered = set()
    for cert in tenant_certs or []:
        covered.update(cert["sni"])
        old = mine.pop(cert["label"], None)
        if old and old["cert"].get("sha1") == cert["sha1"] and old["cert"].get("sni") == cert["sni"]:
            plan["keep"].append(cert["label"])
        else:
            plan["store"].append(cert)
            plan["remove"] += [old["config"]] + old["old"] if old else []
        plan["certs"].append(tls.public(cert))
    rest = [n for n in names if n not in covered]
    old = mine.pop(tls.PLATFORM_LABEL, None)
    if rest:
        ca_sha1 = hashlib.sha1(ca.encode("ascii")).hexdigest() if ca else None
        why = tls.due(old["cert"] if old else None, rest, now, platform["cert_renew_days"], ca_sha1)
        if why:
            plan["issue"].append((tls.PLATFORM_LABEL, rest, why))
            plan["remove"] += [old["config"]] + old["old"] if old else []
        else:
            plan["keep"].append(tls.PLATFORM_LABEL)
            plan["remove"] += old["old"]
            plan["certs"].append(tls.public(old["cert"]))
    elif old:
        plan["remove"] += [old["config"]] + old["old"]
    for entry in mine.values():  # certificates of services that no longer bring one
        plan["remove"] += [entry["config"]] + entry["old"]
    return plan


def apply_stack(client, platform, tenant, stack, plan, check_mode=False, now=None):
    """Issue and store what ``plan_stack`` says, then remove the replaced versions (the edge reads the
    newest of each label, so an edge that syncs in between serves the new one). -> public certificate
    dicts of what was issued or stored."""
    done = []
    if check_mode:
        return [{"label": label, "names": names, "source": "platform", "why": why}
                for label, names, why in plan["issue"]] + [tls.public(c) for c in plan["store"]]
    ca_cert = ca_key = None
    for label, names, why in plan["issue"]:
        if ca_cert is None:
            ca_cert, ca_key = load_ca(platform)
        pem = tls.issue(names, ca_cert, ca_key, platform["cert_days"], now=now)
        got = tls.info(pem)
        cert = dict(got, label=label, source="platform", sni=names, pem=pem,
                    ca_sha1=hashlib.sha1(ca_cert.encode("ascii")).hexdigest())
        _store(client, platform, tenant, stack, cert)
        done.append(dict(tls.public(cert), why=why))
    for cert in plan["store"]:
        _store(client, platform, tenant, stack, cert)
        done.append(tls.public(cert))
    for config_id in plan["remove"]:
        try:
            client.remove_config(config_id)
        except SpinError:
            pass  # gone already (another run): nothing to undo
    return done


def _store(client, platform, tenant, stack, cert):
    name = _name(platform, stack, cert["label"], cert["sha1"])
    data = claims.canonical_json(cert).encode("utf-8")
    try:
        client.create_config(name, data, labels={
            L_EDGE: platform["edge_service"], L_KIND: KIND, L_TENANT: tenant, L_STACK: stack,
            L_CERT: cert["label"], L_NOT_AFTER: str(int(cert["not_after"]))})
    except SpinError as exc:
        if "already exists" not in str(exc) and getattr(exc, "details", {}).get("status_code") != 409:
            raise


def drop_stack(client, platform, stack, check_mode=False):
    """Forget a stack's certificates (its routes are gone). -> changed."""
    entry = stored_certificates(client, platform, stack).get(stack) or {}
    ids = [i for e in entry.values() for i in [e["config"]] + e["old"]]
    if not check_mode:
        for config_id in ids:
            try:
                client.remove_config(config_id)
            except SpinError:
                pass
    return bool(ids)


def status_fact(client, context, now=None):
    """``status.EXTRA_FACTS`` provider: the stack's certificates at the edge and when each expires (never
    a key). Only the tenant's own: the stack's stored routes must be the tenant's, and so must each
    certificate's label."""
    if not context.get("routes"):
        return None
    platform = haproxy.normalise_platform((context.get("params") or {}).get("lb_platform"))
    entry = stored_certificates(client, platform, context["stack"]).get(context["stack"]) or {}
    now = now if now is not None else time.time()
    data, text = [], []
    for label in sorted(entry):
        if entry[label]["tenant"] != context["tenant"]:
            continue
        cert = tls.public(entry[label]["cert"])
        cert.pop("ca_sha1", None)
        days = int((cert["not_after"] - now) // 86400)
        data.append(dict(cert, days_left=days))
        text.append("certificate %s (%s): %s, valid until %s (%d days)%s" % (
            label, "platform CA" if cert["source"] == "platform" else "the tenant's own", ", ".join(cert["sni"]),
            tls.expiry_text(cert["not_after"]), days,
            "; renewed by the next deploy" if days < platform["cert_renew_days"] and cert["source"] == "platform"
            else "; give a renewed one before then" if days < platform["cert_renew_days"] else ""))
    return {"text": text, "data": data} if data else None
