"""A fake Docker API for the edge's manager side (lb.py: claims and routes configs) and a fake EdgeNode,
shared by the tests of lb.py, lb_node.py, lb_provision.py and the platform's own routes."""
import base64
import os

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, lb, lb_node


PLATFORM = {"edge_service": "edge", "network_prefix": "lb-", "ports": [80, 443, "8000-8002"],
            "certificates": [{"name": "wild", "file": "/etc/spin/wild.pem"}]}


class FakeClient(object):
    """The calls lb.py makes, on in-memory objects."""

    def __init__(self):
        self.configs_by_id = {}
        self.networks_list = []
        self.services_list = []
        self.running = []
        self.index = 0
        self.checks = []
        self.check_result = (0, "Configuration file is valid\n")
        self.removed = []
        self.has_image = True

    # configs
    def configs(self, labels=None):
        return [c for c in self.configs_by_id.values()
                if all((c["Spec"]["Labels"] or {}).get(k) == v for k, v in (labels or {}).items())]

    def create_config(self, name, data, labels=None):
        if any(c["Spec"]["Name"] == name for c in self.configs_by_id.values()):
            raise SpinError("Docker refused to create config '%s': config already exists" % name, status_code=409)
        self.index += 1
        cid = "c%d" % self.index
        self.configs_by_id[cid] = {"ID": cid, "Version": {"Index": self.index},
                                   "Spec": {"Name": name, "Labels": dict(labels or {}),
                                            "Data": base64.b64encode(data).decode("ascii")}}
        return cid

    def remove_config(self, config_id):
        self.removed.append(self.configs_by_id.pop(config_id)["Spec"]["Name"])

    def find_config(self, name):
        return next((c for c in self.configs_by_id.values() if c["Spec"]["Name"] == name), None)

    # networks, services, containers
    def networks(self, labels=None):
        return [n for n in self.networks_list
                if all((n.get("Labels") or {}).get(k) == v for k, v in (labels or {}).items())]

    def find_network(self, name):
        return next((n for n in self.networks_list if n["Name"] == name), None)

    def create_network(self, name, driver="overlay", attachable=False, labels=None, **dummy):
        self.networks_list.append({"Name": name, "Id": "id-" + name, "Driver": driver, "Labels": labels,
                                   "Attachable": attachable})
        return "id-" + name

    def remove_network(self, network_id):
        self.networks_list = [n for n in self.networks_list if n["Id"] != network_id]

    def services(self, labels=None):
        return self.services_list

    def containers(self, labels=None, status=None, every=False):
        return self.running

    # checking
    def inspect_image(self, name):
        return {"Config": {"Labels": {"spin.recipe": "r"}}} if self.has_image else None

    def exec_in(self, container_id, argv, files=None, directory="/tmp"):
        if argv[0] == "spin-edge-check":
            self.checks.append(("exec", argv, files))
            return self.check_result
        return 0, ""

    def run_once(self, image, argv, files=None, **kwargs):
        self.checks.append(("once", image, argv, files))
        return self.check_result


def platform(**extra):
    return haproxy.normalise_platform(dict(PLATFORM, **extra))


def routes(tenant, stack, *rules, **kwargs):
    return haproxy.stack_routes(tenant, stack, load_balancers={"lb": {"port_rules": list(rules)}} if rules else None,
                                platform=platform(), **kwargs)


def rule(hostname=None, port=80, path=None, protocol="http", service="web"):
    return {"source_port": port, "target_port": 80, "service": service, "hostname": hostname, "path": path,
            "priority": None, "protocol": protocol}


def stored_docs(client):
    return {stack: entry["doc"] for stack, entry in lb.stored_routes(client, platform()).items()}


def seed_stack(client, tenant, stack, *rules):
    plan = lb.plan_stack_routes(client, tenant, stack, load_balancers={"lb": {"port_rules": list(rules)}},
                                platform=platform())
    lb.store_stack_routes(client, plan["routes"], platform())
    return plan


class FakeNode(lb_node.EdgeNode):
    """An EdgeNode on a temporary directory whose HAProxy master is simulated."""

    def __init__(self, p, running=True, fail_reload=False):
        super(FakeNode, self).__init__(p, sleep=lambda s: None)
        self.is_running = running
        self.fail_reload = fail_reload
        self.reloads = 0
        self.workers = [7]
        self.commands = []

    def _ask(self, sock_path, command, timeout=5.0):
        self.commands.append((os.path.basename(sock_path), command))
        if not self.is_running:
            raise OSError("no master")
        if command == "reload":
            self.reloads += 1
            if not self.fail_reload:
                self.workers = [self.workers[0] + 10]
            return ""
        if command == "show servers state":
            return "1\n# be_id be_name\n"
        failed = self.reloads if self.fail_reload else 0
        return ("#<PID> <type> <reloads> <uptime> <version>\n1 master %d [failed: %d] 0d00h00m01s 2.6\n# workers\n"
                "%s\n# old workers\n# programs\n" % (self.reloads, failed, "\n".join(
                    "%d worker 0 0d00h00m01s 2.6" % w for w in self.workers)))
