"""Routes documents and rules as haproxy.stack_routes makes them, for the tests of haproxy.py and
haproxy_cfg.py."""
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy


MS = 10**6


CERTS = {"certificates": [{"name": "wild", "file": "/etc/spin/spin_cert_wild.pem"}, {"name": "other", "file": "/etc/spin/spin_cert_o.pem"}]}


def ep(service, published, target=80, protocol="tcp"):
    return {"service": "s_" + service, "compose_service": service, "target": target, "published": published,
            "protocol": protocol}


def rule(service="web", source=80, target=80, hostname=None, path=None, priority=None, protocol="http"):
    return {"source_port": source, "target_port": target, "service": service, "hostname": hostname, "path": path,
            "priority": priority, "protocol": protocol}


def lbs(*rules, **extra):
    lb = {"ports": [], "port_rules": list(rules), "stickiness": None, "certs": [], "default_cert": None,
          "health_check": None}
    lb.update(extra)
    return {"lb": lb}


def doc(stack, tenant="t", network="spin-lb-00", **kwargs):
    d = haproxy.stack_routes(tenant, stack, platform=kwargs.pop("platform", CERTS), **kwargs)
    d["network"] = network
    return d


def two_stacks():
    magic = doc("magic", tenant="cory", network="spin-lb-01", endpoints=[ep("web", 8000)],
                load_balancers=lbs(rule(hostname="www.example.org"),
                                   rule(hostname="www.example.org", path="/api", service="api", target=8080),
                                   rule(hostname="*.example.org", protocol="https", source=443),
                                   rule(source=8001, protocol="tcp", service="db", target=5432),
                                   stickiness={"cookie": "MAGIC"}),
                health_checks={"web": {"port": 80, "request_line": "GET /healthz HTTP/1.0", "interval": 1000 * MS}})
    seed = doc("seed", tenant="bob", network="spin-lb-00", load_balancers=lbs(rule(hostname="seed.example.com")))
    return magic, seed


PROMETHEUS = [{"service": "prometheus", "target_port": 9090, "path": "/prometheus"}]


def page(routes=None, domain="spin.example.org"):
    return haproxy.platform_routes("spin_monitoring", PROMETHEUS if routes is None else routes, domain)


# whose names a host-name rule takes under a route domain (claims.names_taken), and what stack_routes says
ROUTE_DOMAIN_CASES = [
    # (tenant, hostname, route domain, whose names it takes or None)
    ("eve", "web.magic.cory.localhost", "localhost", "tenant 'cory''s names"),
    ("eve", "*.cory.localhost", "localhost", "tenant 'cory''s names"),
    ("eve", "cory.localhost", "localhost", "tenant 'cory''s names"),
    ("eve", "a.b.c.cory.localhost", "localhost", "tenant 'cory''s names"),
    ("eve", "x.nobody.localhost", "localhost", "tenant 'nobody''s names"),   # whether or not it exists
    ("eve", "x.evel.localhost", "localhost", "tenant 'evel''s names"),
    ("eve", "*.localhost", "localhost", "every tenant's names"),
    ("eve", "localhost", "localhost", "every tenant's names"),
    ("eve", "*.example.org", "spin.example.org", "every tenant's names"),
    ("eve", "*.spin.example.org", "spin.example.org", "every tenant's names"),
    ("eve", "www.cory.spin.example.org", "spin.example.org", "tenant 'cory''s names"),
    ("eve", "www.eve.localhost", "localhost", None),
    ("eve", "*.eve.localhost", "localhost", None),
    ("eve", "eve.localhost", "localhost", None),
    ("eve", "www.example.org", "localhost", None),
    ("eve", "example.org", "spin.example.org", None),
    ("eve", "www.eve.spin.example.org", "spin.example.org", None),
    ("eve", "xlocalhost", "localhost", None),
]
