"""tls_edge: the edge's crt-list and certificate files, and the HAProxy 2.6 runtime API commands that
bring the running edge to them without a reload."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, tls_edge


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
