"""Helpers for the integration tests that deploy stacks through the tenant's entry points."""
import glob
import os
import uuid

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def write_inventory(directory, **platform_vars):
    """An inventory of a test's own: inventory/local.yml with its group_vars folded in (they live
    beside the inventory file, which a copy elsewhere would lose), and ``platform_vars`` merged into
    ``all.vars`` (dicts one level deep, e.g. ``spin_tenants={"clsb": {...}}`` adds a tenant). -> its path."""
    with open(os.path.join(ROOT, "inventory", "local.yml")) as f:
        data = yaml.safe_load(f)
    merged = data["all"].setdefault("vars", {})
    for path in sorted(glob.glob(os.path.join(ROOT, "inventory", "group_vars", "all", "*.yml"))):
        with open(path) as f:
            merged.update(yaml.safe_load(f) or {})
    for key, value in platform_vars.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = dict(merged[key], **value)
        else:
            merged[key] = value
    path = os.path.join(str(directory), "inventory-%s.yml" % uuid.uuid4().hex[:6])
    with open(path, "w") as f:
        yaml.safe_dump(data, f)
    return path


class Tenant(object):
    """A tenant's submission directory with its vars file, and the stack's Swarm objects."""

    def __init__(self, tmp_path, docker_client, playbook, stack, tenant="demo"):
        self.dir = tmp_path / stack
        self.dir.mkdir()
        self.docker = docker_client
        self.playbook = playbook
        self.stack = stack
        self.tenant = tenant

    def write(self, compose, rancher=None, **files):
        (self.dir / "docker-compose.yml").write_text(compose if isinstance(compose, str) else yaml.safe_dump(compose))
        vars_file = {"spin_tenant": self.tenant, "spin_stack": self.stack,
                     "spin_compose_file": str(self.dir / "docker-compose.yml")}
        if rancher is not None:
            (self.dir / "rancher-compose.yml").write_text(rancher if isinstance(rancher, str)
                                                          else yaml.safe_dump(rancher))
            vars_file["spin_rancher_compose_file"] = str(self.dir / "rancher-compose.yml")
        for name, text in files.items():
            (self.dir / name).write_text(text)
        (self.dir / "vars.yml").write_text(yaml.safe_dump(vars_file))

    def deploy(self, *args, check=True):
        return self.playbook("playbooks/deploy.yml", "-e", "@%s" % (self.dir / "vars.yml"), *args, check=check)

    def remove(self, *args, check=True):
        return self.playbook("playbooks/remove.yml", "-e", "@%s" % (self.dir / "vars.yml"), *args, check=check)

    def services(self):
        return {s.name: s for s in self.docker.services.list(filters={"label": "spin.stack=" + self.stack})}

    def versions(self):
        return {name: s.attrs["Version"]["Index"] for name, s in self.services().items()}

    def running(self, service):
        tasks = self.docker.services.get(service).tasks(filters={"desired-state": "running"})
        return [t for t in tasks if t["Status"]["State"] == "running"]

    def objects(self):
        label = {"label": "spin.stack=" + self.stack}
        return {"services": [s.name for s in self.docker.services.list(filters=label)],
                "networks": [n.name for n in self.docker.networks.list(filters=label)],
                "secrets": [s.name for s in self.docker.secrets.list(filters=label)],
                "volumes": [v.name for v in self.docker.volumes.list(filters=label)]}

    def exec_in(self, service, cmd):
        containers = self.docker.containers.list(filters={"label": "com.docker.swarm.service.name=" + service})
        assert containers, "no running container of %s" % service
        return containers[0].exec_run(cmd)
