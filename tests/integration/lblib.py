"""Helpers for the load balancer's integration tests: a private edge (HAProxy from the platform image),
backend services made with the Docker SDK, HTTP and wrk against loopback.

Every Docker object is named with the test's own prefix (``lbt...``); ``Edge.close()`` removes them."""
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import time
import uuid

import docker
import yaml

from ansible_collections.spin.platform.plugins.module_utils.deploy import lb_provision
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, lb, lb_node

IMAGE = os.environ.get("SPIN_LB_TEST_IMAGE", "spin/haproxy:2.6")
HERE = os.path.dirname(os.path.abspath(__file__))
WRK_SCRIPT = os.path.join(HERE, "files", "wrk_count.lua")
# Apache echoes the X-Forwarded-* request headers back, and serves its container's hostname
PAGE_COMMAND = ("a2enmod -q headers >/dev/null 2>&1; printf 'Header echo (?i)^x-forwarded\\n' "
                "> /etc/apache2/conf-enabled/spin-echo.conf; echo \"$SPIN_ID $(hostname)\" > /var/www/html/id.txt; "
                "echo ok > /var/www/html/health.txt; exec httpd-foreground")


def new_prefix():
    return "lbt" + uuid.uuid4().hex[:6]


def free_ports(count):
    """Ports nothing listens on now (the kernel's choice), distinct."""
    socks, ports = [], []
    try:
        while len(ports) < count:
            s = socket.socket()
            s.bind(("0.0.0.0", 0))
            socks.append(s)
            port = s.getsockname()[1]
            if port not in ports:
                ports.append(port)
    finally:
        for s in socks:
            s.close()
    return ports


def wait_for(what, check, timeout=60, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


def get(port, path="/id.txt", host=None, timeout=5):
    """-> (status, body text, headers dict lower-cased)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Host": host} if host else {})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace"), {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def wrk_binary():
    return shutil.which("wrk") or ("/usr/bin/wrk" if os.path.exists("/usr/bin/wrk") else None)


def run_wrk(url, seconds, connections=32, threads=2, host=None, netns_pid=None):
    """wrk with the counting script; -> dict (requests, non2xx, connect, read, write, timeout, status, p99_us,
    rps). With ``netns_pid`` wrk runs in that process's network namespace (a container's)."""
    cmd = [wrk_binary(), "-t%d" % threads, "-c%d" % connections, "-d%ds" % seconds, "--timeout", "5s",
           "-s", WRK_SCRIPT]
    if host:
        cmd += ["-H", "Host: %s" % host]
    cmd.append(url)
    if netns_pid:
        cmd = ["nsenter", "--net=/proc/%d/ns/net" % netns_pid] + cmd
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=seconds + 60,
                          check=False)
    match = re.search(r"^SPIN-WRK (.*)$", proc.stdout, re.M)
    if not match:
        raise AssertionError("wrk gave no summary (rc=%s):\n%s" % (proc.returncode, proc.stdout[-3000:]))
    out = {}
    for key, value in re.findall(r"(\w+)=([0-9.]+)", match.group(1)):
        out[key] = float(value) if "." in value else int(value)
    out["failed"] = out["non2xx"] + out["connect"] + out["read"] + out["write"] + out["timeout"]
    out["output"] = proc.stdout
    return out


class Edge(object):
    """A private edge: its own networks, ports, config directory and HAProxy service."""

    def __init__(self, docker_client, tmp_dir, prefix=None, port_count=3, **platform):
        self.docker = docker_client
        self.prefix = prefix or new_prefix()
        ports = free_ports(port_count + 1)
        self.ports, self.stats_port = ports[:-1], ports[-1]
        self.config_dir = os.path.join(str(tmp_dir), self.prefix + "-edge")
        self.platform = haproxy.normalise_platform(dict({
            "edge_service": self.prefix + "_edge", "network_prefix": self.prefix + "-lb-",
            "ports": self.ports, "stats_port": self.stats_port,
            "config_dir": self.config_dir, "image": IMAGE, "hostnames": ["*.test"], "hard_stop_after": "30s",
            # the CA that issues the test stacks' certificates is the test's own, never the machine's
            "ca_dir": os.path.join(self.config_dir, "ca"),
        }, **platform))
        self.client = lb.LbClient(timeout=120)
        self.node = lb_node.EdgeNode(self.platform)

    # ---- the edge -------------------------------------------------------------------------

    def provision(self, stats=True):
        """What the role does: the config on disk, the edge container, the stats relay."""
        lb_node.sync_edge(self.client, self.platform)
        lb_provision.ensure_edge_container(self.client, self.platform)
        if stats:
            lb_provision.ensure_edge(self.client, self.platform)
        self.node.wait_running(60)
        lb_node.sync_edge(self.client, self.platform)
        return self

    def container(self):
        return lb.edge_container(self.client, self.platform)

    def show_proc(self):
        return lb_node.parse_show_proc(self.node.master("show proc"))

    def servers_state(self):
        """{backend: {server: (address, operational state)}} of the servers with an address."""
        text = self.node._ask(os.path.join(self.config_dir, "run", "admin.sock"), "show servers state")
        out = {}
        for line in text.splitlines()[2:]:
            f = line.split()
            if len(f) > 5 and f[4] != "-":
                out.setdefault(f[1], {})[f[3]] = (f[4], int(f[5]))
        return out

    def playbook_vars(self):
        """The platform as the inventory variables spin_lb_<key> (for playbooks)."""
        return {"spin_lb_" + k: v for k, v in self.platform.items() if k in haproxy.PLATFORM_DEFAULTS}

    def write_playbook(self, path, tasks):
        play = [{"name": "spin_lb test", "hosts": "local", "gather_facts": False, "vars": self.playbook_vars(),
                 "tasks": tasks}]
        with open(path, "w") as handle:
            yaml.safe_dump(play, handle, sort_keys=False)
        return path

    # ---- stacks ---------------------------------------------------------------------------

    def route(self, tenant, stack, endpoints=None, load_balancers=None, health_checks=None):
        """What spin_stack + deploy.yml do: plan (claims, network, check), store, sync this node."""
        plan = lb.plan_stack_routes(self.client, tenant, stack, endpoints, load_balancers, self.platform,
                                    health_checks, validate=False)
        lb.store_stack_routes(self.client, plan["routes"], self.platform)
        return plan, lb_node.sync_edge(self.client, self.platform)

    def unroute(self, tenant, stack):
        lb.drop_stack_routes(self.client, tenant, stack, self.platform)
        return lb_node.sync_edge(self.client, self.platform)

    def backend(self, stack, service, network, replicas=2, image="httpd:latest", healthcheck=None,
                start_first=False, tenant="t", wait=True):
        """A service <stack>_<service> on the stack's load balancer network, as spin_stack would make it: with
        the platform's alias from the stack's stored routes (what the edge resolves), when they name one."""
        name = "%s_%s" % (stack, service)
        stored = lb.stored_routes(self.client, self.platform).get(stack)
        aliases = ((stored or {}).get("doc") or {}).get("aliases") or {}
        attachment = docker.types.NetworkAttachmentConfig(network, aliases=[aliases[service]]) \
            if service in aliases else network
        kwargs = {}
        if healthcheck:
            kwargs["healthcheck"] = docker.types.Healthcheck(
                test=["CMD-SHELL", "curl -fsS -o /dev/null http://localhost/health.txt"],
                interval=500 * 10**6, timeout=2 * 10**9, retries=2, start_period=5 * 10**9)
        if start_first:
            kwargs["update_config"] = docker.types.UpdateConfig(parallelism=1, delay=1 * 10**9, order="start-first",
                                                                failure_action="pause")
        self.docker.services.create(
            image, ["sh", "-c", PAGE_COMMAND], name=name, networks=[attachment], mode=docker.types.ServiceMode(
                "replicated", replicas=replicas), endpoint_spec=docker.types.EndpointSpec(mode="dnsrr"),
            env=["SPIN_ID=%s" % stack], labels={"spin.tenant": tenant, "spin.stack": stack, "spin.service": service,
                                                lb.L_NETWORK: network}, **kwargs)
        if wait:
            self.wait_replicas(name, replicas)
        return name

    def running_tasks(self, name):
        service = self.docker.services.get(name)
        tasks = service.tasks(filters={"desired-state": "running"})
        return [t for t in tasks if t["Status"]["State"] == "running"]

    def wait_replicas(self, name, count, timeout=90):
        return wait_for("%d running tasks of %s" % (count, name),
                        lambda: len(self.running_tasks(name)) == count or None, timeout)

    def task_hostnames(self, name):
        return sorted(t["Status"]["ContainerStatus"]["ContainerID"][:12] for t in self.running_tasks(name))

    def seen_through(self, port, count, host=None, requests=40, strict=False):
        """The distinct bodies of up to ``requests`` answers (each 'stack hostname'). Not ``strict``, answers
        other than 200 (a backend whose first tasks are not resolved or checked yet) are skipped."""
        seen = set()
        for dummy in range(requests):
            try:
                status, body, dummy = get(port, host=host)
            except (OSError, http.client.HTTPException) as exc:
                if strict:
                    raise
                status, body = type(exc).__name__, ""  # e.g. a reload a moment ago
            assert status == 200 or not strict, (status, body)
            if status == 200:
                seen.add(body.strip())
            if len(seen) >= count:
                break
        return seen

    # ---- cleanup ----------------------------------------------------------------------------

    def close(self):
        for service in self.docker.services.list():
            if service.name.startswith(self.prefix):
                service.remove()
        for config in self.docker.configs.list(filters={"label": "%s=%s" % (lb.L_EDGE,
                                                                            self.platform["edge_service"])}):
            config.remove()
        for container in self.docker.containers.list(all=True, filters={"label": "%s=%s" % (
                lb.L_EDGE, self.platform["edge_service"])}):
            if container.name.startswith(self.prefix):
                container.remove(force=True)
        deadline = time.monotonic() + 60
        for net in self.docker.networks.list(filters={"label": "%s=%s" % (lb.L_EDGE, self.platform["edge_service"])}):
            if not net.name.startswith(self.prefix):
                continue
            while True:
                try:
                    net.remove()
                    break
                except docker.errors.NotFound:
                    break
                except docker.errors.APIError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)  # tasks still leaving the network
        for image in self.docker.images.list():
            for tag in image.tags:
                if tag.startswith(self.prefix):
                    self.docker.images.remove(tag)
        shutil.rmtree(self.config_dir, ignore_errors=True)


def dump(obj):
    return json.dumps(obj, indent=1, sort_keys=True, default=str)


def failover_under_load(edge, port, service, threads=4, seconds=12, kill_after=4.0, path="/id.txt"):
    """Requests from ``threads`` clients in a loop (each with a 5 s timeout) for ``seconds``; after
    ``kill_after`` seconds one replica of ``service`` is killed (SIGKILL, as a crash). -> {"sent",
    "failed", "failures", "slowest_after_kill": seconds of the slowest request that was under way when
    or after the replica died, "killed": container id}."""
    import threading
    records = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client():
        while time.monotonic() < stop:
            started = time.monotonic()
            try:
                status = get(port, path=path)[0]
            except (OSError, http.client.HTTPException) as exc:
                status = type(exc).__name__
            with lock:
                records.append((started, time.monotonic(), status))

    workers = [threading.Thread(target=client, daemon=True) for dummy in range(threads)]
    for w in workers:
        w.start()
    time.sleep(kill_after)
    victim = edge.running_tasks(service)[0]["Status"]["ContainerStatus"]["ContainerID"]
    killed_at = time.monotonic()
    edge.docker.containers.get(victim).kill()
    for w in workers:
        w.join(seconds + 30)
    failures = [(round(s - killed_at, 2), st) for s, e, st in records if st != 200]
    after = [e - s for s, e, st in records if e >= killed_at]
    return {"sent": len(records), "failed": len(failures), "failures": failures[:10],
            "slowest_after_kill": max(after) if after else None, "killed": victim[:12]}
