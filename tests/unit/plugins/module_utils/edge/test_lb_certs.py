"""lb_certs: which certificates a stack's HTTPS routes get from the platform CA (issued, kept, renewed)
and which names it leaves to the tenant's own certificate."""
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, lb_certs, tls
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
