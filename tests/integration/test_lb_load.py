"""Load through the real edge with wrk: no failed request (non-2xx or socket error) while the backend scales
2 -> 5 -> 2, during a rolling image update, and while the edge is reconfigured (hitless reloads).

wrk runs on this host against the edge's published port on loopback, 2 threads x 32 connections, for
15-20 s per case. The measured numbers are printed (pytest -s shows them)."""
import os
import shutil
import subprocess
import threading
import time

import pytest

from ansible_collections.spin.platform.plugins.module_utils.edge import lb
from lblib import Edge, get, run_wrk, wait_for, wrk_binary

SECONDS = int(os.environ.get("SPIN_LB_LOAD_SECONDS", "15"))


@pytest.fixture(scope="module")
def wrk():
    if not wrk_binary() and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False)
    if not wrk_binary():
        pytest.skip("wrk is not installed (Debian: apt-get install wrk)")
    return wrk_binary()


@pytest.fixture(scope="module")
def edge(docker_client, tmp_path_factory, wrk):
    e = Edge(docker_client, tmp_path_factory.mktemp("lbload"), port_count=2)
    try:
        e.provision()
        yield e
    finally:
        e.close()


@pytest.fixture(scope="module")
def web(edge, docker_client):
    """web x2 with a healthcheck and start-first updates, on image <prefix>/httpd:a."""
    image = docker_client.images.get("httpd:latest")
    image.tag(edge.prefix + "/httpd", "a")
    image.tag(edge.prefix + "/httpd", "b")
    stack = edge.prefix + "w"
    checks = {"web": {"port": 80, "interval": 1000 * 10**6, "healthy_threshold": 1, "unhealthy_threshold": 2,
                      "response_timeout": 1000 * 10**6, "request_line": "GET /health.txt HTTP/1.0"}}
    plan, dummy = edge.route("tl", stack, endpoints=[{"service": stack + "_web", "compose_service": "web", "target": 80,
                                                      "published": edge.ports[0], "protocol": "tcp"}],
                             health_checks=checks)
    name = edge.backend(stack, "web", plan["network"], replicas=2, image=edge.prefix + "/httpd:a", healthcheck=True,
                        start_first=True)
    wait_for("both replicas through the edge", lambda: len(edge.seen_through(edge.ports[0], 2)) == 2, timeout=30)
    return {"stack": stack, "name": name, "backend": "%s:web:80" % stack, "plan": plan}


def load(edge, during, seconds=SECONDS):
    """wrk for ``seconds`` while ``during()`` runs in this thread; -> (wrk result, during's result)."""
    result = {}
    thread = threading.Thread(target=lambda: result.update(run_wrk("http://127.0.0.1:%d/id.txt" % edge.ports[0],
                                                                   seconds)))
    thread.start()
    try:
        time.sleep(2)
        outcome = during()
    finally:
        thread.join(seconds + 90)
    return result, outcome


def report(name, result, **extra):
    print("\n[lb load] %s: %d requests, %d failed (non-2xx %d, connect %d, read %d, write %d, timeout %d), "
          "%.0f req/s, p99 %.1f ms %s" % (name, result["requests"], result["failed"], result["non2xx"],
                                          result["connect"], result["read"], result["write"], result["timeout"],
                                          result["rps"], result["p99_us"] / 1000.0,
                                          " ".join("%s=%s" % kv for kv in sorted(extra.items()))))


def up_servers(edge, backend):
    return sorted(addr for addr, state in edge.servers_state().get(backend, {}).values() if state == 2)


def test_no_failed_request_while_scaling_2_5_2(edge, web, docker_client):
    service = docker_client.services.get(web["name"])
    reloads = edge.show_proc()["master"]["reloads"]
    seen = {}

    def scale():
        started = time.monotonic()
        service.scale(5)
        wait_for("5 servers up in HAProxy", lambda: len(up_servers(edge, web["backend"])) == 5, timeout=60)
        seen["up5"] = round(time.monotonic() - started, 1)
        time.sleep(2)
        started = time.monotonic()
        docker_client.services.get(web["name"]).scale(2)
        wait_for("2 servers up in HAProxy", lambda: len(up_servers(edge, web["backend"])) == 2, timeout=60)
        seen["down2"] = round(time.monotonic() - started, 1)

    result, dummy = load(edge, scale, seconds=max(SECONDS, 18))
    report("scale 2->5->2", result, seconds_to_5=seen.get("up5"), seconds_to_2=seen.get("down2"))
    assert result["requests"] > 1000
    assert result["failed"] == 0, result["output"]
    assert edge.show_proc()["master"]["reloads"] == reloads  # DNS followed the tasks: no reload


def test_no_failed_request_during_a_rolling_image_update(edge, web, docker_client):
    service = docker_client.services.get(web["name"])
    old = {t["ID"] for t in edge.running_tasks(web["name"])}

    def update():
        started = time.monotonic()
        service.update(image=edge.prefix + "/httpd:b")

        def done():
            svc = docker_client.services.get(web["name"])
            state = (svc.attrs.get("UpdateStatus") or {}).get("State")
            tasks = edge.running_tasks(web["name"])
            return state == "completed" and len(tasks) == 2 and not old & {t["ID"] for t in tasks}
        wait_for("the rolling update", done, timeout=90)
        return round(time.monotonic() - started, 1)

    result, took = load(edge, update, seconds=max(SECONDS, 20))
    report("rolling update (start-first, healthcheck)", result, update_seconds=took)
    images = {t["Spec"]["ContainerSpec"]["Image"].split("@")[0] for t in edge.running_tasks(web["name"])}
    assert images == {edge.prefix + "/httpd:b"}
    assert result["requests"] > 1000
    assert result["failed"] == 0, result["output"]


def test_no_failed_request_while_the_edge_is_reconfigured(edge, web):
    reloads = edge.show_proc()["master"]["reloads"]
    timings = []

    def reconfigure():
        rules = []
        for i in range(5):
            rules.append({"source_port": edge.ports[1], "target_port": 80, "service": "web",
                          "hostname": "r%d.%s.test" % (i, edge.prefix), "path": None, "priority": None,
                          "protocol": "http"})
            dummy, synced = edge.route("tl", web["stack"], endpoints=[{
                "service": web["name"], "compose_service": "web", "target": 80, "published": edge.ports[0],
                "protocol": "tcp"}], load_balancers={"lb": {"port_rules": list(rules)}},
                health_checks={"web": {"port": 80, "interval": 1000 * 10**6, "healthy_threshold": 1,
                                       "unhealthy_threshold": 2, "response_timeout": 1000 * 10**6,
                                       "request_line": "GET /health.txt HTTP/1.0"}})
            assert synced["reloaded"]
            timings.append(synced["reload_seconds"])
            time.sleep(1.5)

    result, dummy = load(edge, reconfigure)
    report("5 reloads adding routes", result, reload_seconds=",".join("%.3f" % t for t in timings))
    assert edge.show_proc()["master"]["reloads"] == reloads + 5
    assert result["requests"] > 1000
    assert result["failed"] == 0, result["output"]
    assert get(edge.ports[1], host="r4.%s.test" % edge.prefix)[0] == 200  # the last route added answers
    assert lb.stored_routes(edge.client, edge.platform)[web["stack"]]["doc"]["routes"][-1]["hostname"] == \
        "r4.%s.test" % edge.prefix
