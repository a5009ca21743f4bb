"""A fake swarm client that answers what preflight reads (services, networks, volumes, secrets,
configs, the node count) as SwarmClient does; shared by test_preflight.py and modules/test_spin_policy.py."""


def labelled(tenant, stack):
    return {"spin.tenant": tenant, "spin.stack": stack}


class FakeClient:
    def __init__(self, services=(), networks=(), volumes=(), secrets=(), configs=(), nodes=1):
        self._services, self._networks, self._volumes = list(services), list(networks), list(volumes)
        self._secrets, self._configs, self._nodes = list(secrets), list(configs), nodes

    def containers(self, labels=None, status=None):
        return []

    def inspect_container(self, container_id):
        return None

    def services(self, labels=None):
        return [s for s in self._services
                if all((s["Spec"].get("Labels") or {}).get(k) == v for k, v in (labels or {}).items())]

    def networks(self, labels=None):
        return self._networks

    def volumes(self, labels=None):
        return self._volumes

    def secrets(self, labels=None):
        return self._secrets

    def configs(self, labels=None):
        return self._configs

    def info(self):
        return {"Swarm": {"Nodes": self._nodes}}

    def nodes(self):
        return []


def service(name, labels, replicas=1, mode="replicated"):
    spec_mode = {"Global": {}} if mode == "global" else {"Replicated": {"Replicas": replicas}}
    return {"Spec": {"Name": name, "Labels": labels, "Mode": spec_mode}}
