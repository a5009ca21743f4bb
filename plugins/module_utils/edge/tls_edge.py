# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The stacks' certificates on one edge node (issue 20): files for the next start, and the running
HAProxy brought up to date through its runtime API, so that adding or renewing a certificate never
reloads, restarts or replaces the edge.

- ``<config_dir>/certs/<stack>--<label>.pem`` (0600, leaf, chain and key) and
  ``<config_dir>/certs/crt-list`` (one line per certificate: its file and the host names it is
  chosen for by SNI): what a worker loads when it starts (a reload, a restart).
- the running worker, through ``run/admin.sock`` (HAProxy 2.6): a new certificate is ``new ssl
  cert``, ``set ssl cert <<PEM``, ``commit ssl cert``, ``add ssl crt-list``; a renewed one (another
  SHA1 fingerprint in ``show ssl cert``) ``set`` + ``commit``, which swaps it for new handshakes while
  connections keep theirs; a gone one ``del ssl crt-list`` + ``del ssl cert``.

The HTTPS frontend binds ``crt <placeholder> crt-list <config_dir>/certs/crt-list``: the image's
placeholder (``/usr/local/share/spin-edge/placeholder.pem``, valid for no name) answers a client whose
SNI names nothing served, and makes an empty list valid.
"""
from __future__ import annotations

import os
import re

from ansible_collections.spin.platform.plugins.module_utils.edge import tls
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

CERTS = "certs"
CRT_LIST = "crt-list"
DEFAULT_CERT = "/usr/local/share/spin-edge/placeholder.pem"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


def crt_list_path(platform):
    return os.path.join(platform["config_dir"], CERTS, CRT_LIST)


def cert_path(platform, stack, label):
    return os.path.join(platform["config_dir"], CERTS, "%s--%s.pem" % (_SAFE.sub("_", stack), _SAFE.sub("_", label)))


def wanted(platform, certificates, served_stacks):
    """Stored certificates (``lb_certs.stored_certificates``) of the stacks the edge serves ->
    ``{path: certificate dict}`` (with pem), in a stable order."""
    out = {}
    for stack in sorted(certificates):
        if stack not in served_stacks:
            continue
        for label in sorted(certificates[stack]):
            cert = certificates[stack][label]["cert"]
            if cert.get("pem") and cert.get("sni"):
                out[cert_path(platform, stack, label)] = cert
    return out


def crt_list_text(want):
    return "".join(tls.crt_list_line(path, want[path]["sni"]) + "\n" for path in sorted(want))


def write_files(platform, want):
    """The files a starting worker loads; stale certificate files removed. -> changed."""
    directory = os.path.join(platform["config_dir"], CERTS)
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    changed = False
    for path, cert in sorted(want.items()):
        changed = _write_if_changed(path, cert["pem"]) or changed
    changed = _write_if_changed(crt_list_path(platform), crt_list_text(want)) or changed
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        if name.endswith(".pem") and path not in want:
            os.remove(path)
            changed = True
    return changed


def ensure_crt_list(platform):
    """An empty crt-list where none is yet (a check of the first config with an HTTPS frontend)."""
    directory = os.path.dirname(crt_list_path(platform))
    if not os.path.isdir(directory):
        os.makedirs(directory, 0o700)
    if not os.path.exists(crt_list_path(platform)):
        _write_if_changed(crt_list_path(platform), "")


def _write_if_changed(path, text):
    try:
        with open(path) as handle:
            if handle.read() == text:
                return False
    except IOError:
        pass
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.rename(tmp, path)
    return True


# ---------------------------------------------------------------------------------------------
# the running HAProxy

def parse_crt_list(text):
    """``show ssl crt-list <list>`` -> {path: [sni names]} (options in brackets are left out)."""
    out = {}
    for line in (text or "").splitlines():
        line = re.sub(r"\[[^\]]*\]", " ", line).strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        out[re.sub(r":\d+$", "", fields[0])] = fields[1:]
    return out


def parse_fingerprint(text):
    match = re.search(r"^SHA1 FingerPrint:\s*([0-9A-Fa-f]+)", text or "", re.M)
    return match.group(1).upper() if match else None


def runtime_plan(want, running, fingerprints):
    """What the running worker must do -> [(action, path)] with action ``add`` (a certificate it does
    not have), ``update`` (another fingerprint, or other SNI names: then removed and added again) or
    ``remove``. ``running``: ``parse_crt_list``; ``fingerprints``: {path: sha1 or None}. Pure."""
    plan = []
    for path in sorted(want):
        if path not in running:
            plan.append(("add", path))
        elif sorted(running[path]) != sorted(want[path]["sni"]):
            plan.append(("readd", path))
        elif fingerprints.get(path) != want[path]["sha1"].upper():
            plan.append(("update", path))
    for path in sorted(running):
        if path not in want:
            plan.append(("remove", path))
    return plan


def sync_runtime(ask, platform, want):
    """Bring the running worker's certificates to ``want`` through the admin socket (``ask(command)``
    -> answer text). -> {"added", "updated", "removed"} (paths). Raises SpinError with HAProxy's
    answer when a step fails (the files are right already: the next reload serves them)."""
    lst = crt_list_path(platform)
    running = parse_crt_list(ask("show ssl crt-list %s" % lst))
    prints = {path: parse_fingerprint(ask("show ssl cert %s" % path)) for path in running}
    done = {"added": [], "updated": [], "removed": []}

    def must(answer, expect, what):
        if expect not in answer:
            raise SpinError("%s: HAProxy answered %r" % (what, answer.strip()[:300]))

    def upload(path, new):
        if new:
            must(ask("new ssl cert %s" % path), "New empty certificate store", "new ssl cert " + path)
        must(ask("set ssl cert %s <<\n%s\n" % (path, want[path]["pem"].rstrip("\n"))), "Transaction",
             "set ssl cert " + path)
        must(ask("commit ssl cert %s" % path), "Success", "commit ssl cert " + path)

    for action, path in runtime_plan(want, running, prints):
        if action in ("remove", "readd"):
            must(ask("del ssl crt-list %s %s" % (lst, path)), "deleted", "del ssl crt-list " + path)
            if action == "remove":
                ask("del ssl cert %s" % path)  # unused now; a failure leaves only memory behind
                done["removed"].append(path)
                continue
        if action in ("add", "readd"):
            exists = parse_fingerprint(ask("show ssl cert %s" % path)) is not None
            upload(path, not exists)
            must(ask("add ssl crt-list %s <<\n%s\n" % (lst, tls.crt_list_line(path, want[path]["sni"]))),
                 "Success", "add ssl crt-list " + path)
            done["added"].append(path)
        elif action == "update":
            upload(path, False)
            done["updated"].append(path)
    return done
