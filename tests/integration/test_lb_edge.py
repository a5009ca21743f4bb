"""The edge load balancer on the real engine with real HAProxy: routing, health checks, refusals,
claims, idempotence, check mode. Traffic goes only to loopback and to the tests' own containers."""
import base64
import http.client
import os
import subprocess

import pytest
import yaml

from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy_cfg, lb, lb_node
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from lblib import Edge, get, new_prefix, wait_for

MS = 10**6


@pytest.fixture(scope="module")
def edge(docker_client, tmp_path_factory):
    e = Edge(docker_client, tmp_path_factory.mktemp("lb"), port_count=6)
    try:
        e.provision()
        yield e
    finally:
        e.close()


def endpoint(stack, port, service="web", target=80):
    return {"service": "%s_%s" % (stack, service), "compose_service": service, "target": target, "published": port,
            "protocol": "tcp"}


def rule(port, hostname=None, path=None, service="web", protocol="http"):
    return {"source_port": port, "target_port": 80, "service": service, "hostname": hostname, "path": path,
            "priority": None, "protocol": protocol}


def cfg(edge):
    with open(os.path.join(edge.config_dir, "haproxy.cfg")) as handle:
        return handle.read()


def stored_names(edge):
    return sorted(c.name for c in edge.docker.configs.list(filters={"label": "%s=%s" % (
        lb.L_EDGE, edge.platform["edge_service"])}))


def test_two_replicas_answer_through_the_lb(edge):
    stack, port = edge.prefix + "a", edge.ports[0]
    plan, synced = edge.route("ta", stack, endpoints=[endpoint(stack, port)])
    assert synced["reloaded"] and synced["reload_seconds"] < 5
    name = edge.backend(stack, "web", plan["network"], replicas=2)
    expected = {"%s %s" % (stack, h) for h in edge.task_hostnames(name)}
    assert len(expected) == 2
    wait_for("both replicas answering through HAProxy", lambda: edge.seen_through(port, 2) == expected, timeout=20)

    status, dummy, headers = get(port)
    assert status == 200
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-port"] == str(port)
    assert headers["x-forwarded-for"]  # the client's address as HAProxy saw it

    assert get(port, path="/nothing-here")[0] == 404  # Apache's own 404 comes through
    network = edge.docker.networks.get(plan["network"])
    assert network.attrs["Labels"][lb.L_EDGE] == edge.platform["edge_service"]


def test_two_stacks_routed_by_hostname_on_their_own_networks(edge):
    port = edge.ports[1]
    a, b = edge.prefix + "ha", edge.prefix + "hb"
    plan_a, dummy = edge.route("ta", a, load_balancers={"lb": {"port_rules": [rule(port, "a.%s.test" % edge.prefix)]}})
    plan_b, dummy = edge.route("tb", b, load_balancers={"lb": {"port_rules": [rule(port, "b.%s.test" % edge.prefix)]}})
    assert plan_a["network"] != plan_b["network"]
    web_a = edge.backend(a, "web", plan_a["network"], replicas=1, tenant="ta")
    web_b = edge.backend(b, "web", plan_b["network"], replicas=1, tenant="tb")

    def answers():
        got_a = get(port, host="a.%s.test" % edge.prefix)
        got_b = get(port, host="B.%s.test:%d" % (edge.prefix, port))  # case and port in Host do not matter
        return got_a[0] == got_b[0] == 200 and (got_a[1].split()[0], got_b[1].split()[0])
    assert wait_for("both stacks answering", answers, timeout=20) == (a, b)
    status, body, dummy = get(port, host="c.%s.test" % edge.prefix)
    assert status == 404 and "no route" in body

    # isolation: a task of stack a does not even resolve stack b's tasks
    container = edge.docker.containers.get(edge.running_tasks(web_a)[0]["Status"]["ContainerStatus"]["ContainerID"])
    assert container.exec_run(["getent", "hosts", "tasks.%s" % web_a]).exit_code == 0
    assert container.exec_run(["getent", "hosts", "tasks.%s" % web_b]).exit_code != 0


def test_a_replica_failing_its_health_check_is_taken_out(edge):
    stack, port = edge.prefix + "hc", edge.ports[2]
    checks = {"web": {"port": 80, "interval": 300 * MS, "healthy_threshold": 1, "unhealthy_threshold": 2,
                      "response_timeout": 500 * MS, "request_line": "GET /health.txt HTTP/1.0"}}
    plan, dummy = edge.route("tc", stack, endpoints=[endpoint(stack, port)], health_checks=checks)
    assert "http-check send meth GET uri /health.txt ver HTTP/1.0" in cfg(edge)
    name = edge.backend(stack, "web", plan["network"], replicas=2)
    hostnames = edge.task_hostnames(name)
    wait_for("both replicas", lambda: len(edge.seen_through(port, 2)) == 2, timeout=20)

    sick_task = edge.running_tasks(name)[0]
    sick = edge.docker.containers.get(sick_task["Status"]["ContainerStatus"]["ContainerID"])
    assert sick.exec_run(["rm", "/var/www/html/health.txt"]).exit_code == 0
    backend = "%s:web:80" % stack

    def states():
        servers = edge.servers_state().get(backend, {})
        return sorted(state for dummy, state in servers.values())
    wait_for("one server down, one up", lambda: states() == [0, 2], timeout=10)
    bodies = {get(port)[1].split()[1] for dummy in range(30)}
    assert bodies == set(hostnames) - {sick.id[:12]}, bodies

    assert sick.exec_run(["sh", "-c", "echo ok > /var/www/html/health.txt"]).exit_code == 0
    wait_for("the replica back", lambda: states() == [2, 2], timeout=10)
    wait_for("both replicas again", lambda: len(edge.seen_through(port, 2)) == 2, timeout=10)


def test_an_invalid_rule_is_refused_and_the_old_config_keeps_serving(edge, playbook, tmp_path, monkeypatch):
    stack, port = edge.prefix + "iv", edge.ports[3]
    plan, dummy = edge.route("tv", stack, endpoints=[endpoint(stack, port)])
    edge.backend(stack, "web", plan["network"], replicas=1)
    wait_for("the stack answering", lambda: get(port)[0] == 200, timeout=20)
    before, reloads = cfg(edge), edge.show_proc()["master"]["reloads"]

    # 1. refused by the renderer, through the module: the message names file, load balancer, key and fix
    book = edge.write_playbook(str(tmp_path / "bad.yml"), [{"spin.platform.spin_lb": {
        "tenant": "tv", "stack": stack, "endpoints": [endpoint(stack, port)],
        "load_balancers": {"lb": {"port_rules": [rule(port, "bad_host!.test")]}},
        "files": {"compose": "docker-compose.yml", "rancher": "rancher-compose.yml"}}}])
    result = playbook(book, check=False)
    assert result.rc != 0
    assert ("rancher-compose.yml: service 'lb': key 'lb_config.port_rules[0].hostname': 'bad_host!.test' is not a "
            "hostname") in result.output
    assert cfg(edge) == before and get(port)[0] == 200

    # 2. refused by haproxy -c in the edge container: a rule line HAProxy cannot parse (as if the renderer had
    # a bug) -> the message names the stack and rule, nothing is written, the edge is not reloaded
    real_render = haproxy_cfg.render

    def broken_render(stacks, platform=None, stats_password=None):
        return real_render(stacks, platform, stats_password).replace("    use_backend %s:web:80" % stack,
                                                                     "    use_backend %s:web:80 if { nonsense }" % stack)
    monkeypatch.setattr(haproxy_cfg, "render", broken_render)
    lb.store_stack_routes(edge.client, dict(plan["routes"], routes=plan["routes"]["routes"] + [dict(
        plan["routes"]["routes"][0], rule=2, origin="service 'web' ports[1]", hostname="x.test")]), edge.platform)
    with pytest.raises(SpinError) as err:
        lb_node.sync_edge(edge.client, edge.platform)
    assert "HAProxy refused the new configuration (haproxy -c in the edge container" in err.value.message
    assert "rule 1 of stack '%s' (service 'web' ports[0])" % stack in err.value.message
    assert "nonsense" in err.value.message
    assert cfg(edge) == before
    assert edge.show_proc()["master"]["reloads"] == reloads
    assert get(port)[0] == 200
    monkeypatch.setattr(haproxy_cfg, "render", real_render)
    edge.route("tv", stack, endpoints=[endpoint(stack, port)])  # back to the stack's real routes


def test_a_claim_on_a_held_hostname_or_port_is_refused_naming_the_holder(edge, playbook, tmp_path):
    holder, port, whole = edge.prefix + "own", edge.ports[1], edge.ports[5]
    host = "own.%s.test" % edge.prefix
    edge.route("cory", holder, endpoints=[endpoint(holder, whole)],
               load_balancers={"lb": {"port_rules": [rule(port, host)]}})
    configs, text = stored_names(edge), cfg(edge)
    reloads = edge.show_proc()["master"]["reloads"]

    for rules, message in (
            ([rule(port, host)], "hostname '%s' is held by stack '%s' (tenant 'cory')" % (host, holder)),
            ([rule(whole, "mine.%s.test" % edge.prefix)], "port %d is held by stack '%s' (tenant 'cory')"
             % (whole, holder))):
        book = edge.write_playbook(str(tmp_path / "claim.yml"), [{"spin.platform.spin_lb": {
            "tenant": "bob", "stack": edge.prefix + "thief", "load_balancers": {"lb": {"port_rules": rules}}}}])
        result = playbook(book, check=False)
        assert result.rc != 0
        assert message in result.output, result.output[-3000:]
        assert "nothing was changed" in result.output
        assert stored_names(edge) == configs and cfg(edge) == text
    assert edge.show_proc()["master"]["reloads"] == reloads


def test_module_same_input_changes_nothing_and_check_mode_shows_the_diff(edge, playbook, tmp_path):
    stack, port = edge.prefix + "md", edge.ports[4]
    task = {"tenant": "tm", "stack": stack, "endpoints": [endpoint(stack, port)]}
    book = edge.write_playbook(str(tmp_path / "lb.yml"), [{"spin.platform.spin_lb": task, "register": "r"},
                                                          {"ansible.builtin.debug": {"var": "r.reloaded"}}])
    first = playbook(book, "--diff")
    assert first.recap()["changed"] == 1 and "r.reloaded: true" in first.output
    network = edge.docker.configs.list(filters={"label": "%s=%s" % (lb.L_STACK, stack)})[0].attrs["Spec"][
        "Labels"][lb.L_NETWORK]
    edge.backend(stack, "web", network, replicas=1, tenant="tm")
    wait_for("the stack answering", lambda: get(port)[0] == 200, timeout=20)
    reloads, text, configs = edge.show_proc()["master"]["reloads"], cfg(edge), stored_names(edge)

    again = playbook(book, "--diff")
    assert again.recap()["changed"] == 0 and "r.reloaded: false" in again.output
    assert edge.show_proc()["master"]["reloads"] == reloads and cfg(edge) == text

    task["load_balancers"] = {"lb": {"port_rules": [rule(port, "extra.%s.test" % edge.prefix)]}}
    edge.write_playbook(book, [{"spin.platform.spin_lb": task}])
    check = playbook(book, "--check", "--diff")
    assert check.recap()["changed"] == 1
    assert "+    use_backend %s:web:80 if { req.hdr(host),field(1,:),lower -m str extra.%s.test }" % (
        stack, edge.prefix) in check.output
    assert "--- before: %s/haproxy.cfg" % edge.config_dir in check.output
    with open(os.path.join(edge.config_dir, "stats.password")) as handle:
        password = handle.read().strip()
    assert password not in first.output + check.output
    assert cfg(edge) == text and stored_names(edge) == configs
    assert edge.show_proc()["master"]["reloads"] == reloads

    del task["load_balancers"]
    edge.write_playbook(book, [{"spin.platform.spin_lb": task}])
    assert playbook(book, "--check", "--diff").recap()["changed"] == 0
    assert get(port)[0] == 200


def test_role_provisions_an_edge_with_a_loopback_only_stats_page(docker_client, playbook, tmp_path):
    edge = Edge(docker_client, tmp_path, prefix=new_prefix(), port_count=1)
    book = str(tmp_path / "role.yml")
    with open(book, "w") as handle:
        yaml.safe_dump([{"name": "lb_edge", "hosts": "swarm_managers:swarm_workers", "gather_facts": False,
                         "vars": edge.playbook_vars(), "roles": ["spin.platform.lb_edge"]}], handle)
    try:
        assert playbook(book).recap()["changed"] == 2
        assert playbook(book).recap()["changed"] == 0
        assert playbook(book, "--check").recap()["changed"] == 0
        container = docker_client.containers.get(edge.platform["edge_service"])
        assert container.status == "running"
        assert container.attrs["HostConfig"]["RestartPolicy"]["Name"] == "always"
        assert container.attrs["HostConfig"]["PortBindings"] == {
            "%d/tcp" % edge.ports[0]: [{"HostIp": "", "HostPort": str(edge.ports[0])}]}
        assert container.attrs["Config"]["StopSignal"] == "SIGUSR1"

        with open(os.path.join(edge.config_dir, "stats.password")) as handle:
            password = handle.read().strip()

        def stats(auth):
            conn = http.client.HTTPConnection("127.0.0.1", edge.stats_port, timeout=5)
            headers = {"Authorization": "Basic " + base64.b64encode(auth.encode()).decode()} if auth else {}
            conn.request("GET", "/", headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        status, body = stats("admin:" + password)
        assert status == 200 and "Statistics Report" in body
        assert stats(None)[0] == 401 and stats("admin:wrong")[0] == 401

        # from a container, through every address of this host (its own, Docker's bridges): refused
        addresses = subprocess.run(["sh", "-c", "ip -4 -o addr show | awk '{print $4}' | cut -d/ -f1"],
                                   stdout=subprocess.PIPE, text=True, check=True).stdout.split()
        addresses = [a for a in addresses if not a.startswith("127.")]
        assert addresses
        script = " ".join(
            'echo "%s $(curl -s -m 3 -o /dev/null -w %%{http_code} -u admin:%s http://%s:%d/)";'
            % (a, password, a, edge.stats_port) for a in addresses)
        probe = docker_client.containers.run("httpd:latest", ["sh", "-c", script], name=edge.prefix + "-probe",
                                             entrypoint=[], remove=True, stdout=True, stderr=True)
        answers = dict(line.split() for line in probe.decode().splitlines())
        assert answers == {a: "000" for a in addresses}, answers
    finally:
        edge.close()
