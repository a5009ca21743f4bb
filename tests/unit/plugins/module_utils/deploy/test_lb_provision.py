"""lb_provision: the edge's own container (its spec) and the move of stacks off the old shared network pool."""
from ansible_collections.spin.platform.plugins.module_utils.deploy import lb_provision
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, lb
from ansible_collections.spin.platform.tests.unit.plugins.module_utils.edge.lb_fakes import (
    FakeClient, platform, routes, rule, stored_docs)


def test_edge_container_spec():
    p = platform()
    spec = lb_provision.edge_container_spec(p, "sha256:img", "abc")
    assert spec["ports"] == {80: 80, 443: 443, 8000: 8000, 8001: 8001, 8002: 8002}
    assert spec["binds"] == ["/var/lib/spin/edge:/var/lib/spin/edge:rw",
                             "/etc/spin/wild.pem:/run/secrets/spin-cert-wild.pem:ro"]
    assert spec["command"] == ["/var/lib/spin/edge"] and spec["stop_signal"] == "SIGUSR1"
    assert spec["labels"][lb.L_RECIPE] == "abc" and spec["labels"]["spin.role"] == "edge"
    # the spec label changes with what needs a new container, and only then
    assert lb_provision.edge_container_spec(p, "sha256:img")["labels"]["spin.lb.spec"] == spec["labels"]["spin.lb.spec"]
    assert lb_provision.edge_container_spec(platform(ports=[80]), "sha256:img")["labels"]["spin.lb.spec"] != \
        spec["labels"]["spin.lb.spec"]
    stats = lb_provision.stats_service_params(p)
    assert stats["name"] == "edge_stats" and stats["networks"] == [{"name": "host", "aliases": []}]
    assert stats["command"] == ["TCP-LISTEN:8404,bind=127.0.0.1,fork,reuseaddr",
                                "UNIX-CONNECT:/var/lib/spin/edge/run/stats.sock"]
    assert stats["publish"] == []


def test_moving_a_stack_off_the_pool_gives_its_services_the_platform_alias_only():
    """The pool design's stacks move to a network of their own: their public services join it with
    the platform's alias (what the edge resolves), and the stored routes name that alias."""
    class PoolClient(FakeClient):
        def __init__(self):
            super().__init__()
            self.updates = []

        def find_service(self, name):
            return {"ID": "s1", "Version": {"Index": 7}, "Spec": {
                "Name": name, "TaskTemplate": {"Networks": [{"Target": "id-magic_default", "Aliases": ["web"]}]}}} \
                if name == "magic_web" else None

        def update_service(self, service_id, version, spec):
            self.updates.append(spec)

        def remove_service(self, service_id):
            pass

    client = PoolClient()
    legacy = routes("cory", "magic", rule("a.org"))
    del legacy["aliases"], legacy["route_domain"]
    legacy["network"] = "lb-00"
    lb._create_routes_config(client, platform(), legacy)
    assert lb_provision.migrate_pool(client, platform())["stacks"] == ["magic"]
    alias = haproxy.backend_alias("cory", "magic", "web")
    assert client.updates[0]["TaskTemplate"]["Networks"] == [
        {"Target": "id-magic_default", "Aliases": ["web"]}, {"Target": "id-lb-magic", "Aliases": [alias]}]
    assert stored_docs(client)["magic"]["aliases"] == {"web": alias}
