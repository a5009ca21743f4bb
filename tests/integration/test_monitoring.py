"""The monitoring role on the real engine, with names of the test's own (SPIN_TEST_MONITORING_PREFIX, m19 by
default: services <prefix>_monitoring_*, its page at http://<prefix>-monitoring.localhost/prometheus/ on the
shared edge), a short alert window and a webhook the test stands up on this machine:

- a replica of a tenant's stack killed and kept down (restart_policy none) fires SpinServiceReplicasDown to
  the webhook, no sooner than the rule's window and within it plus a few scrape and evaluation rounds;
- a node exporter's, the engine's, the edge's and the swarm exporter's series are in Prometheus;
- Prometheus's page answers on the edge with the stats page's password and refuses without it;
- the role's second run changes nothing; the memory the monitoring stack takes is printed."""
import base64
import json
import os
import shutil
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from conftest import ROOT, run_playbook
from stacklib import Tenant

PREFIX = os.environ.get("SPIN_TEST_MONITORING_PREFIX", "m19")
NAME = "%s_monitoring" % PREFIX
HOST = "%s-monitoring.localhost" % PREFIX
WINDOW = 15          # seconds: the replicas rule's window in this test
ROUND = 2            # seconds: scrape and evaluation interval in this test
PLAYBOOK = "tests/integration/playbooks/monitoring.yml"
PLATFORM_IMAGE = "spin/monitoring:bookworm"


class Webhook(object):
    """Alertmanager's webhook receiver: records every POST with the time it arrived."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                received.append((time.monotonic(), json.loads(body.decode("utf-8"))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("0.0.0.0", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, name, since=0.0):
        return [(at, alert) for at, body in self.received if at >= since for alert in body.get("alerts", [])
                if alert["labels"].get("alertname") == name]


def _gateway(docker_client):
    """The host as the containers of an overlay network reach it: docker_gwbridge's gateway."""
    return docker_client.networks.get("docker_gwbridge").attrs["IPAM"]["Config"][0]["Gateway"]


def _password():
    with open("/var/lib/spin/edge/stats.password") as handle:
        return handle.read().strip()


def _get(path, auth=True, timeout=10):
    """Prometheus through the shared edge, as staff open it. On a shared machine a developer's older
    code may render the edge without the platform's page (it knows no such route): then the edge is
    rendered again, once."""
    status, body = _ask(path, auth, timeout)
    if status == 404 and "no route" in body:
        run_playbook(PLAYBOOK, "-e", "monitoring_test_sync=true")
        status, body = _ask(path, auth, timeout)
    return status, body


def _ask(path, auth=True, timeout=10):
    request = urllib.request.Request("http://127.0.0.1%s" % path, headers={"Host": HOST})
    if auth:
        token = base64.b64encode(("admin:%s" % _password()).encode()).decode()
        request.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


def query(expr):
    status, body = _get("/prometheus/api/v1/query?" + urllib.parse.urlencode({"query": expr}))
    assert status == 200, body
    return json.loads(body)["data"]["result"]


def wait_for(what, check, timeout):
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail("no %s within %d s" % (what, timeout))
        time.sleep(1)


def monitoring_image(docker_client, scratch):
    """The platform's monitoring image where site.yml built it (CI), else the same recipe built here under
    the test's own name (with its collection files, as the images role builds it)."""
    wanted = os.environ.get("SPIN_TEST_MONITORING_IMAGE")
    if wanted:
        return wanted
    try:
        docker_client.images.get(PLATFORM_IMAGE)
        return PLATFORM_IMAGE
    except Exception:  # noqa: BLE001 - not built on this machine: build the test's own
        pass
    with open(os.path.join(ROOT, "roles", "images", "defaults", "main.yml")) as handle:
        recipe = next(r for r in yaml.safe_load(handle)["images_recipes"] if r["recipe"] == "monitoring")
    stage = os.path.join(str(scratch), "monitoring")
    shutil.copytree(os.path.join(ROOT, "roles", "images", "files", "monitoring"), stage)
    for path in recipe["collection_files"]:
        target = os.path.join(stage, "collection", "ansible_collections", "spin", "platform", path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(os.path.join(ROOT, path), target)
    tag = "%s/monitoring:bookworm" % PREFIX
    started = time.monotonic()
    docker_client.images.build(path=stage, tag=tag, buildargs={"BASE": "spin/base:bookworm"}, rm=True, forcerm=True)
    print("built %s in %.1f s" % (tag, time.monotonic() - started))
    return tag


def role_vars(webhook_url, image=PLATFORM_IMAGE):
    return json.dumps({
        "monitoring_prefix": NAME, "monitoring_image": image, "monitoring_route_hostname": HOST, "monitoring_webhook_url": webhook_url,
        "monitoring_replicas_window": "%ds" % WINDOW, "monitoring_scrape_interval": "%ds" % ROUND,
        "monitoring_evaluation_interval": "%ds" % ROUND, "monitoring_group_wait": "1s",
        "monitoring_group_interval": "5s"})


def remove_monitoring(docker_client):
    """Everything the role made under the test's names, and the page's routes off the shared edge."""
    for service in docker_client.services.list():
        if service.name.startswith(NAME + "_"):
            service.remove()
    run_playbook(PLAYBOOK, "-e", role_vars(""), "-e", "monitoring_test_absent=true")
    assert not [c.name for c in docker_client.configs.list() if ".routes.%s." % NAME in c.name], \
        "the page's routes stayed on the edge"
    # the removed services' containers go first; then their networks, volumes, configs and secrets may
    wait_for("the monitoring containers gone", lambda: not [
        c for c in docker_client.containers.list(all=True, filters={"label": "com.docker.swarm.service.name"})
        if c.labels.get("com.docker.swarm.service.name", "").startswith(NAME + "_")], 60)
    for kind in (docker_client.configs, docker_client.secrets):
        for item in kind.list():
            if item.name.startswith(NAME + "_"):
                item.remove()
    for volume in docker_client.volumes.list():
        if volume.name.startswith(NAME + "_"):
            volume.remove(force=True)
    for name in (NAME, "spin-lb-" + NAME):
        for network in docker_client.networks.list(names=[name]):
            if network.name == name:
                network.remove()


@pytest.fixture(scope="module")
def monitoring(docker_client, tmp_path_factory):
    image = monitoring_image(docker_client, tmp_path_factory.mktemp("monitoring"))
    webhook = Webhook()
    url = "http://%s:%d/" % (_gateway(docker_client), webhook.server.server_address[1])
    started = time.monotonic()
    first = run_playbook(PLAYBOOK, "-e", role_vars(url, image))
    took = time.monotonic() - started
    print("the role's first run took %.1f s" % took)
    yield {"webhook": webhook, "first": first, "url": url, "image": image}
    webhook.server.shutdown()
    remove_monitoring(docker_client)


def changed_tasks(output):
    """The names of the tasks that reported a change."""
    return [part.split("]", 1)[0] for part in output.split("TASK [")[1:] if "\nchanged: " in part]


def test_the_role_changes_nothing_the_second_time(monitoring):
    again = run_playbook(PLAYBOOK, "-e", role_vars(monitoring["url"], monitoring["image"]))
    # the shared edge may have been rendered meanwhile by a developer's older code, without the page: the
    # role's last task renders it again (molecule's scenario monitoring, on nodes of its own, asks for none)
    assert [t for t in changed_tasks(again.output)
            if t != "spin.platform.monitoring : Serve Prometheus's page on this manager's edge"] == [], \
        again.output[-4000:]


def test_the_page_is_behind_the_stats_password(monitoring):
    wait_for("Prometheus ready", lambda: _get("/prometheus/-/ready")[0] == 200, 90)
    status, dummy = _get("/prometheus/-/ready", auth=False)
    assert status == 401
    request = urllib.request.Request("http://127.0.0.1/prometheus/-/ready", headers={
        "Host": HOST, "Authorization": "Basic " + base64.b64encode(b"admin:wrong").decode()})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 401


def test_series_of_every_source_are_present(monitoring):
    wait_for("Prometheus ready", lambda: _get("/prometheus/-/ready")[0] == 200, 90)
    for expr in ('node_uname_info{job="node"}', 'engine_daemon_engine_info{job="engine"}',
                 'haproxy_process_nbthread{job="edge"}', 'spin_node_ready{job="swarm"}',
                 'spin_service_replicas_desired{job="swarm",tenant="demo"}', 'spin_edge_config_check_ok'):
        found = wait_for(expr, lambda expr=expr: query(expr), 60)
        print("%s: %s" % (expr, found[0]["metric"]))
    up = query("up")
    assert all(series["value"][1] == "1" for series in up), up


def test_a_replica_kept_down_fires_the_alert_to_the_webhook(monitoring, docker_client, playbook):
    tenant = Tenant(None, docker_client, playbook, "m19alert")
    try:
        tenant.write("services:\n  web:\n    image: httpd\n    deploy:\n      replicas: 2\n"
                     "      restart_policy: {condition: none}\n")
        tenant.deploy()
        wait_for("both replicas in Prometheus", lambda: [
            s for s in query('spin_service_replicas_running{stack="m19alert"}') if s["value"][1] == "2"], 60)
        container = docker_client.containers.list(filters={"label": "com.docker.swarm.service.name=m19alert_web"})[0]
        killed = time.monotonic()
        container.kill()
        webhook = monitoring["webhook"]
        fired = wait_for("SpinServiceReplicasDown at the webhook", lambda: [
            (at, alert) for at, alert in webhook.alerts("SpinServiceReplicasDown", killed)
            if alert["labels"].get("stack") == "m19alert" and alert["status"] == "firing"], WINDOW + 60)
        at, alert = fired[0]
        took = at - killed
        print("SpinServiceReplicasDown reached the webhook %.1f s after the kill (window %d s): %s"
              % (took, WINDOW, json.dumps(alert, sort_keys=True)))
        assert alert["labels"]["tenant"] == "demo" and alert["labels"]["service"] == "web"
        assert "runs 1 of its" in alert["annotations"]["summary"]
        # not before the window; within it and a few rounds of scraping, evaluating and Alertmanager's wait
        assert WINDOW <= took <= WINDOW + 6 * ROUND + 10
    finally:
        tenant.remove(check=False)
        tenant.discard()


def _memory(container_id):
    """(resident, limit) bytes of a container, from its memory cgroup (cgroup v1, as this engine has it;
    docker stats reads nothing on this kernel)."""
    base = "/sys/fs/cgroup/memory/docker/%s" % container_id
    with open(base + "/memory.stat") as handle:
        stat = dict(line.split() for line in handle)
    with open(base + "/memory.limit_in_bytes") as handle:
        limit = int(handle.read())
    return int(stat["total_rss"]) + int(stat.get("total_mapped_file", 0)), limit


def test_memory_of_the_monitoring_stack(monitoring, docker_client):
    """What the monitoring stack takes on this node (resident memory), each within its limit."""
    wait_for("Prometheus ready", lambda: _get("/prometheus/-/ready")[0] == 200, 90)
    time.sleep(3 * ROUND)
    rows = []
    for container in docker_client.containers.list(filters={"label": "com.docker.swarm.service.name"}):
        service = container.labels.get("com.docker.swarm.service.name", "")
        if service.startswith(NAME + "_"):
            rows.append((service,) + _memory(container.id))
    assert sorted(r[0] for r in rows) == ["%s_%s" % (NAME, part) for part in ("alertmanager", "node", "prometheus",
                                                                              "swarm")]
    for service, used, limit in sorted(rows):
        print("%-32s %6.1f MiB (limit %d MiB)" % (service, used / 1024.0 ** 2, limit // 1024 ** 2))
        assert 0 < used < limit
    print("%-32s %6.1f MiB" % ("all", sum(r[1] for r in rows) / 1024.0 ** 2))
