"""lb_certs: which certificates a stack's HTTPS routes get from the platform CA (issued, kept, renewed)
and which names it leaves to the tenant's own certificate."""
import json

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, lb_certs, tls
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import FakeClient as LbFakeClient
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import platform as lb_platform
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.tls_fakes import (
    NOW, routes_doc, self_signed)


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


def test_a_stack_reads_its_own_certificates_not_every_stacks():
    client = LbFakeClient()
    asked = []
    listing = client.configs

    def configs(labels=None):
        asked.append(dict(labels or {}))
        return listing(labels)
    client.configs = configs
    for stack in ("magic", "other"):
        client.create_config("edge.cert.%s.platform.x" % stack, json.dumps({"sha1": stack}).encode("utf-8"), labels={
            lb_certs.L_EDGE: "edge", lb_certs.L_KIND: lb_certs.KIND, lb_certs.L_TENANT: "cory", lb_certs.L_STACK: stack,
            lb_certs.L_CERT: "platform"})
    assert list(lb_certs.stored_certificates(client, lb_platform(), "magic")) == ["magic"]
    assert asked[-1] == {lb_certs.L_EDGE: "edge", lb_certs.L_KIND: lb_certs.KIND, lb_certs.L_STACK: "magic"}
    assert sorted(lb_certs.stored_certificates(client, lb_platform())) == ["magic", "other"]
