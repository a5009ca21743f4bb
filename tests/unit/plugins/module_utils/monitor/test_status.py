"""status.py (spin_status): a fake client answers like SwarmClient with two tenants' services; status
shows one tenant's objects only, with replicas, health, nodes, digests, URLs, the last deploy, logs,
quota use and the extra facts per stack."""
import base64
import copy
import json

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.monitor import audit, status

GIB = 1024 ** 3


NODES = [{"ID": "n1", "Spec": {"Role": "manager", "Availability": "active", "Labels": {}},
          "Description": {"Hostname": "node1", "Resources": {"NanoCPUs": 2000000000, "MemoryBytes": 8 * GIB}},
          "Status": {"State": "ready", "Addr": "10.0.0.1"}},
         {"ID": "n2", "Spec": {"Role": "worker", "Availability": "active", "Labels": {}},
          "Description": {"Hostname": "node2"}, "Status": {"State": "ready", "Addr": "10.0.0.2"}}]


def svc(sid, name, tenant, stack, replicas=2, image="sha256:" + "a" * 64, written="httpd", tty=False, limits=None):
    labels = {"spin.tenant": tenant, "spin.stack": stack, "spin.service": name.split("_", 1)[1], "spin.image": written}
    template = {"ContainerSpec": {"Image": image, "TTY": tty}}
    if limits:
        template["Resources"] = {"Limits": limits}
    return {"ID": sid, "Spec": {"Name": name, "Labels": labels, "TaskTemplate": template,
                                "Mode": {"Replicated": {"Replicas": replicas}}}}


def task(tid, sid, slot, node, state="running", err=None):
    return {"ID": tid, "ServiceID": sid, "Slot": slot, "NodeID": node, "DesiredState": "running",
            "Status": {"State": state, "Err": err, "Timestamp": "2026-12-07T03:00:00Z"}}


def routes_config(tenant, stack, routes):
    doc = {"version": 1, "tenant": tenant, "stack": stack, "network": "spin-lb-" + stack, "routes": routes}
    return {"ID": "c-" + stack, "Version": {"Index": 5},
            "Spec": {"Name": "spin_edge.routes.%s.x" % stack, "Data": base64.b64encode(json.dumps(doc).encode()).decode(),
                     "Labels": {"spin.lb.edge": "spin_edge", "spin.lb.kind": "routes", "spin.lb.stack": stack}}}


def route(service, hostname, port=80):
    return {"rule": 1, "origin": "x", "port": port, "protocol": "http", "hostname": hostname, "path": None,
            "priority": None, "service": service, "target_port": 80, "sticky": None, "check": None}


LOG = ("2026-12-07T03:04:18.801519114Z com.docker.swarm.node.id=n1,com.docker.swarm.service.id=s1,"
       "com.docker.swarm.task.id=t1 GET / 200\r\n"
       "2026-12-07T02:00:00.000000000Z com.docker.swarm.node.id=n2,com.docker.swarm.service.id=s1,"
       "com.docker.swarm.task.id=t0 started\r\n"
       "2026-12-07T03:04:19.000000001Z com.docker.swarm.node.id=n2,com.docker.swarm.service.id=s1,"
       "com.docker.swarm.task.id=t2 GET /x 404\r\n")


class FakeClient(object):
    def __init__(self):
        self._services = [svc("s1", "seed_web", "demo", "seed", tty=True),
                          svc("s2", "seed_db", "demo", "seed", replicas=1, image="mysql@sha256:" + "b" * 64,
                              written="mysql", limits={"NanoCPUs": 500000000, "MemoryBytes": 2 * GIB}),
                          svc("s3", "magic_web", "cory", "magic")]
        self._tasks = [task("t1", "s1", 1, "n1"), task("t2", "s1", 2, "n2"),
                       task("t3", "s2", 1, "n1", state="pending", err="no suitable node (insufficient resources)"),
                       task("t4", "s3", 1, "n2"),
                       # replaced: its lines still name its slot and node, its error is the db's last
                       dict(task("t0", "s1", 1, "n2", state="shutdown"), DesiredState="shutdown")]
        self._configs = [routes_config("demo", "seed", [route("web", "web.seed.demo.localhost")]),
                         routes_config("cory", "magic", [route("web", "www.cory.example")])]
        self.asked = []

    def nodes(self):
        return copy.deepcopy(NODES)

    def services(self, labels=None):
        self.asked.append(("services", labels))
        return [copy.deepcopy(s) for s in self._services
                if all(s["Spec"]["Labels"].get(k) == v for k, v in (labels or {}).items())]

    def tasks(self, service_ids, desired_state=None):
        self.asked.append(("tasks", sorted(service_ids)))
        return [copy.deepcopy(t) for t in self._tasks if t["ServiceID"] in service_ids
                and (desired_state is None or t["DesiredState"] == desired_state)]

    def inspect_service(self, sid):
        return next(copy.deepcopy(s) for s in self._services if s["ID"] == sid)

    def configs(self, labels=None):
        return copy.deepcopy(self._configs)

    def networks(self, labels=None):
        return []

    volumes = secrets = networks

    def service_logs(self, sid, tail=None, since=None, tty=False):
        self.asked.append(("logs", sid, tail, since, tty))
        return LOG if sid == "s1" else ""


def params(tmp_path, **extra):
    log = tmp_path / "audit.jsonl"
    out = {"tenant": "demo", "stack": None, "lines": 10, "since": None, "logs": True, "audit_log": str(log),
           "public_host": "127.0.0.1", "tenants": {"demo": {"uid": 1000, "quota": {"replicas": 5}},
                                                   "cory": {"uid": 1001}},
           "policy": None, "lb_platform": None}
    out.update(extra)
    return out


def write_audit(path, *records):
    for record in records:
        audit.append_record(record, str(path))


def test_status_shows_the_tenants_stack_and_nothing_of_another(tmp_path):
    client = FakeClient()
    write_audit(tmp_path / "audit.jsonl",
                audit.make_record("demo", "seed", "deploy", "d", run="r1", phase="intent", now="2026-12-07T02:00:00Z",
                                  run_by={"user": "root"}),
                audit.make_record("demo", "seed", "deploy", "d", run="r1", phase="result", outcome="deployed",
                                  now="2026-12-07T02:00:09Z", run_by={"user": "root"}),
                audit.make_record("cory", "magic", "deploy", "d", run="r2", phase="result", outcome="failed",
                                  now="2026-12-07T02:01:00Z"))
    found = status.collect(client, params(tmp_path))
    assert found["tenant"] == "demo"
    assert [s["stack"] for s in found["stacks"]] == ["seed"]
    text = json.dumps(found)
    assert "cory" not in text and "magic" not in text    # no name, route or record of another tenant
    assert ("services", {"spin.tenant": "demo"}) in client.asked   # Docker is asked for the tenant's only
    seed = found["stacks"][0]
    web, db = sorted(seed["services"], key=lambda s: s["service"], reverse=True)
    assert (web["service"], web["running"], web["replicas"], web["health"], web["nodes"]) == \
        ("web", 2, 2, "running", {"node1": 1, "node2": 1})
    assert (web["image"], web["digest"]) == ("httpd", "sha256:" + "a" * 64)
    assert web["urls"] == ["http://web.seed.demo.localhost/"] and seed["urls"] == ["web: http://web.seed.demo.localhost/"]
    # the service's last lines over all its tasks, oldest first (Docker gives the last of each task)
    assert [(e["where"], e["line"]) for e in web["logs"]] == [("1@node2", "started"), ("1@node1", "GET / 200"),
                                                              ("2@node2", "GET /x 404")]
    assert (db["running"], db["replicas"], db["health"], db["digest"]) == (0, 1, "starting", "sha256:" + "b" * 64)
    assert db["last_error"] == "no suitable node (insufficient resources)"
    assert seed["last_deploy"] == {"action": "deploy", "outcome": "deployed", "started": "2026-12-07T02:00:00Z",
                                   "finished": "2026-12-07T02:00:09Z", "cause": None, "run_by": "root", "run": "r1"}
    # use against quota: 3 replicas of 5; web 2 x the default 1 CPU and 1 GiB, db its own 0.5 CPU and 2 GiB
    assert found["quota"]["replicas"] == {"used": 3, "quota": 5}
    rows = {r["what"]: (r["used"], r["quota"]) for r in found["quota"]["resources"]}
    assert rows["limits.cpus"] == ("2.5 CPUs", "16 CPUs") and rows["limits.memory"] == ("4 GiB", "16 GiB")


def test_a_stack_of_another_tenant_is_refused_naming_nobody(tmp_path):
    client = FakeClient()
    with pytest.raises(SpinError) as err:
        status.collect(client, params(tmp_path, stack="magic"))
    assert "stack 'magic' is not tenant 'demo''s: nothing of it is shown" in err.value.message
    assert "cory" not in err.value.message
    assert not [a for a in client.asked if a[0] in ("tasks", "logs")]


def test_one_stack_and_no_logs(tmp_path):
    client = FakeClient()
    found = status.collect(client, params(tmp_path, stack="seed", logs=False))
    assert [s["stack"] for s in found["stacks"]] == ["seed"]
    assert not [a for a in client.asked if a[0] == "logs"]
    assert ("services", {"spin.tenant": "demo", "spin.stack": "seed"}) in client.asked


def test_lines_and_since_reach_docker(tmp_path):
    client = FakeClient()
    status.collect(client, params(tmp_path, lines=3, since="10m"), now=1000000.0)
    assert ("logs", "s1", 3, "%.9f" % (1000000.0 - 600), True) in client.asked


def test_extra_facts_per_stack(tmp_path):
    seen = []

    def certificates(client, context):
        seen.append((context["tenant"], context["stack"], [s["service"] for s in context["services"]],
                     [r["hostname"] for r in context["routes"]["routes"]]))
        return {"text": ["certificate web.seed.demo.localhost: expires 2027-03-01"], "data": {"days": 84}}

    def broken(client, context):
        raise SpinError("cannot read the jobs")

    providers = (("certificates", certificates), ("jobs", broken), ("none", lambda c, x: None))
    found = status.collect(FakeClient(), params(tmp_path), providers=providers)
    extra = found["stacks"][0]["extra"]
    assert seen == [("demo", "seed", ["db", "web"], ["web.seed.demo.localhost"])]
    assert extra["certificates"]["data"] == {"days": 84}
    assert extra["jobs"]["error"] == "cannot read the jobs" and "none" not in extra
    table = "\n".join(status.render(found))
    assert "  certificate web.seed.demo.localhost: expires 2027-03-01" in table
    assert "  jobs: cannot read the jobs" in table


def test_render_is_a_table(tmp_path):
    found = status.collect(FakeClient(), params(tmp_path, lines=2))
    assert [e["line"] for e in found["stacks"][0]["services"][1]["logs"]] == ["GET / 200", "GET /x 404"]
    lines = status.render(found)
    assert lines[0].startswith("tenant demo: 3 of 5 replicas; limits.cpus 2.5 CPUs of 16 CPUs (16%)")
    assert lines[2] == "stack seed: never deployed here"
    header = lines.index(next(line for line in lines if line.strip().startswith("SERVICE")))
    assert lines[header].split() == ["SERVICE", "REPLICAS", "HEALTH", "NODES", "IMAGE", "DIGEST"]
    assert lines[header + 1].split()[:4] == ["db", "0/1", "starting", "-"]
    assert lines[header + 2].split()[:7] == ["web", "2/2", "running", "node1,", "node2", "httpd", "sha256:aaaaaaaaaaaa"]
    assert "  db: last error: no suitable node (insufficient resources)" in lines
    assert "  url web: http://web.seed.demo.localhost/" in lines
    assert "    2026-12-07T03:04:18.801519114Z web.1@node1 | GET / 200" in lines


def test_follow_reads_new_lines_once(tmp_path):
    client = FakeClient()
    clock = iter([100.0, 100.5, 101.5, 102.5, 103.5, 104.5]).__next__
    found = status.follow(client, params(tmp_path, stack="seed", follow=2, service="web"), clock=clock,
                          sleep=lambda s: None)
    assert found["lines"] == ["2026-12-07T02:00:00.000000000Z web.1@node2 | started",
                              "2026-12-07T03:04:18.801519114Z web.1@node1 | GET / 200",
                              "2026-12-07T03:04:19.000000001Z web.2@node2 | GET /x 404"]
    assert found["last"] == "2026-12-07T03:04:19.000000001Z"
    calls = [a for a in client.asked if a[0] == "logs"]
    assert calls[0][2:4] == (10, None) and all(c[2:4] == (None, "100.000000000") for c in calls[1:])


def test_follow_refuses_an_unknown_service(tmp_path):
    with pytest.raises(SpinError, match="tenant 'demo' has no service 'api' in stack 'seed'"):
        status.follow(FakeClient(), params(tmp_path, stack="seed", follow=1, service="api"), clock=lambda: 0.0,
                      sleep=lambda s: None)


@pytest.mark.parametrize("since, now, expected", [
    (None, 0, None),
    ("10m", 1000.0, "400.000000000"),
    ("1700000000.5", 0, "1700000000.500000000"),
    # a log line's time: just after it (the next round of a follow)
    ("2026-12-07T03:04:19.000000001Z", 0, "1796612659.000000002"),
    ("2026-12-07T03:04:19.999999999Z", 0, "1796612660.000000000"),
    ("2026-12-07T03:04:19Z", 0, "1796612659.000000001"),
])
def test_since_time(since, now, expected):
    assert status.since_time(since, now) == expected


def test_since_time_refuses_nonsense():
    with pytest.raises(SpinError, match="since 'yesterday' is neither"):
        status.since_time("yesterday", 0)


@pytest.mark.parametrize("image, digest", [
    ("sha256:" + "a" * 64, "sha256:" + "a" * 64),
    ("reg:5000/httpd:latest@sha256:" + "b" * 64, "sha256:" + "b" * 64),
    ("httpd:latest", None),
])
def test_digest_of(image, digest):
    assert status.digest_of(image) == digest


def test_rfc3339_round_trip():
    assert status.rfc3339(1796612659.25) == "2026-12-07T03:04:19.250000000Z"
