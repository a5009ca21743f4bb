"""Faults of the edge's state: two deploys race for one port or hostname (issue 12, item 1); a run
interrupted after it stored a stack's routes leaves the edge behind (item 6).

Claims are stored in Swarm before anything of a stack is created, and Swarm's order decides: of
two conflicting claims the first stored holds. Here two processes race for real against the
engine, ten rounds of each kind, and exactly one wins each round; then two whole deploys
(ansible-playbook, two tenants, one port) race, and the loser is refused naming the holder with
nothing of its stack created, and the edge serves the winner only."""
import http.client
import multiprocessing
import os

import pytest
import tracebacks

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, haproxy_cfg, lb
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from conftest import run_playbook
from lblib import Edge, get, wait_for
from stacklib import Tenant, hand_in, write_inventory

ROUNDS = 10
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="module")
def edge(docker_client, tmp_path_factory):
    e = Edge(docker_client, tmp_path_factory.mktemp("claims"), port_count=2)
    try:
        e.provision(stats=False)
        yield e
    finally:
        e.close()


def _claim(platform, tenant, stack, rule, start, out):
    """One racer, in its own process with its own Docker connection: claim, then report."""
    client = lb.LbClient(timeout=60)
    doc = haproxy.stack_routes(tenant, stack, load_balancers={"lb": {"port_rules": [rule]}}, platform=platform)
    doc["network"] = haproxy.stack_network(platform, stack)
    start.wait(30)
    try:
        lb.claim_stack_routes(client, doc, platform)
        out.put((stack, "won", ""))
    except SpinError as exc:
        out.put((stack, "refused", exc.message))


@pytest.mark.parametrize("kind", ["port", "hostname"])
def test_two_racing_claims_have_exactly_one_winner_every_time(edge, kind):
    ctx = multiprocessing.get_context("fork")
    winners = []
    for n in range(ROUNDS):
        a, b = "%s%s%da" % (edge.prefix, kind[0], n), "%s%s%db" % (edge.prefix, kind[0], n)
        if kind == "port":
            rule = {"source_port": edge.ports[0], "target_port": 80, "service": "web", "protocol": "http"}
        else:
            rule = {"source_port": edge.ports[1], "target_port": 80, "service": "web", "protocol": "http",
                    "hostname": "race.%s.test" % edge.prefix}
        start, out = ctx.Event(), ctx.Queue()
        racers = [ctx.Process(target=_claim, args=(edge.platform, tenant, stack, rule, start, out))
                  for tenant, stack in (("ta", a), ("tb", b))]
        for p in racers:
            p.start()
        start.set()
        results = sorted(out.get(timeout=60) for dummy in racers)
        for p in racers:
            p.join(30)
        won = [stack for stack, verdict, dummy in results if verdict == "won"]
        refused = [(stack, msg) for stack, verdict, msg in results if verdict == "refused"]
        assert len(won) == 1 and len(refused) == 1, results
        loser, message = refused[0]
        assert "held by stack '%s'" % won[0] in message and "nothing was changed" in message, message
        # only the winner's claim is stored, and the edge renders one stack on the port
        assert sorted(lb.stored_routes(edge.client, edge.platform)) == won
        text = haproxy_cfg.render(lb.claim_order(lb.stored_routes(edge.client, edge.platform)), edge.platform)
        assert text.count("use_backend %s:web:80" % won[0]) == 1 and "use_backend %s:" % loser not in text
        winners.append(won[0][-1])
        lb.drop_stack_routes(edge.client, "ta" if won[0] == a else "tb", won[0], edge.platform)
    print("\n[fault claims] %s race: %d rounds, winners %s" % (kind, ROUNDS, "".join(winners)))


def edge_inventory(edge, path):
    """inventory/local.yml (its group_vars folded in) with the test edge's platform variables, its
    ports allowed by the policy."""
    return write_inventory(path.parent, **edge.playbook_vars())


def test_an_edge_left_behind_is_brought_up_to_date_by_the_next_run_of_anything(edge, docker_client, tmp_path,
                                                                               prefix):
    inventory = edge_inventory(edge, tmp_path / "inventory.yml")

    def playbook(*args, **kwargs):
        return run_playbook(*args, inventory=inventory, **kwargs)

    other = Tenant(tmp_path, docker_client, playbook, prefix + "o", "cory")
    other.write("version: '2'\nservices:\n  web:\n    image: httpd\n    ports:\n    - %d:80\n" % edge.ports[1])
    other.deploy()
    try:
        # a deploy killed after it stored its routes and made its service, before any edge heard of it
        stack, port = prefix + "k", edge.ports[0]
        plan = lb.plan_stack_routes(edge.client, "demo", stack, endpoints=[{
            "service": stack + "_web", "compose_service": "web", "target": 80, "published": port,
            "protocol": "tcp"}], platform=edge.platform, validate=False)
        edge.backend(stack, "web", plan["network"], replicas=1, tenant="demo")
        assert status(port) != 200  # the edge does not serve it yet
        # the next run of anything (a no-op deploy of another tenant's stack) brings the edge up to date
        assert other.deploy().recap()["changed"] == 1
        wait_for("the interrupted stack served", lambda: status(port) == 200, timeout=30)
    finally:
        lb.drop_stack_routes(edge.client, "demo", prefix + "k", edge.platform)
        for service in edge.docker.services.list(filters={"name": prefix + "k_web"}):
            service.remove()
        other.remove(check=False)
        other.discard()


def status(port):
    """The status of GET / through the edge, or the error's name (nothing listens on the port yet)."""
    try:
        return get(port, path="/")[0]
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__


def test_two_whole_deploys_racing_for_one_port_one_wins_the_other_creates_nothing(edge, docker_client, tmp_path,
                                                                                  prefix):
    inventory = edge_inventory(edge, tmp_path / "inventory.yml")
    port = edge.ports[0]

    def playbook(*args, **kwargs):
        return run_playbook(*args, inventory=inventory, **kwargs)

    tenants = [Tenant(tmp_path, docker_client, playbook, prefix + s, t) for s, t in (("a", "demo"), ("b", "cory"))]
    for t in tenants:
        t.write("version: '2'\nservices:\n  web:\n    image: httpd\n    ports:\n    - %d:80\n" % port)
        hand_in(t.dir, t.uid, t.gid)
    pool = multiprocessing.get_context("fork").Pool(2)
    try:
        results = pool.map(_deploy, [(inventory, t.submission) for t in tenants])
    finally:
        pool.close()
        pool.join()
    try:
        codes = [rc for rc, dummy in results]
        assert sorted(codes) == [0, 2], "\n".join(out[-2500:] for dummy, out in results)
        winner, loser = (tenants[0], tenants[1]) if codes[0] == 0 else (tenants[1], tenants[0])
        refusal = results[codes.index(2)][1]
        assert "port %d is held by stack '%s' (tenant '%s')" % (port, winner.stack, winner.tenant) in refusal
        assert loser.objects() == {"services": [], "networks": [], "secrets": [], "volumes": []}
        assert docker_client.networks.list(names=[haproxy.stack_network(edge.platform, loser.stack)]) == []
        assert sorted(lb.stored_routes(edge.client, edge.platform)) == [winner.stack]
        wait_for("the winner answering", lambda: get(port, path="/")[0] == 200, timeout=30)
        assert sum(1 for line in open(os.path.join(edge.config_dir, "haproxy.cfg"))
                   if line.strip().startswith("use_backend") and ":web:80" in line) == 1
    finally:
        for t in tenants:
            t.remove("-e", "spin_remove_volumes=true", check=False)
            t.discard()


def _deploy(args):
    inventory, submission = args
    import subprocess
    import sys
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory,
                           "playbooks/deploy.yml", "-e", "spin_submission=" + submission], cwd=ROOT,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
                          env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                                   **tracebacks.ENV))
    tracebacks.assert_none(proc.stdout, "ansible-playbook deploy.yml (rc=%s)" % proc.returncode)
    return proc.returncode, proc.stdout
