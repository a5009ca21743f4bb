"""Helpers for the integration tests that deploy stacks through the tenant's entry points."""
import glob
import os
import pathlib
import shutil
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


# where the local inventory reads tenants' submissions from (spin_submission_roots)
SUBMISSION_ROOT = "/srv/spin/submissions"


def registry():
    """The tenant registry the local inventory carries (spin_tenants)."""
    with open(os.path.join(ROOT, "inventory", "group_vars", "all", "spin_tenants.yml")) as handle:
        return yaml.safe_load(handle)["spin_tenants"]


def submission_dir(tenant, stack, uid=None, gid=None, root=SUBMISSION_ROOT):
    """An empty ``<root>/<tenant>/<stack>/`` as the platform expects a submission: the tenant's
    directory and the stack's owned by the tenant's uid (from the registry unless given), 0750.
    -> its path (pathlib)."""
    entry = registry().get(tenant) or {}
    uid = entry["uid"] if uid is None else uid
    gid = entry.get("gid", uid) if gid is None else gid
    os.makedirs(root, mode=0o755, exist_ok=True)
    directory = os.path.join(root, tenant, stack)
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory)
    for path in (os.path.dirname(directory), directory):
        os.chown(path, uid, gid)
        os.chmod(path, 0o750)
    return pathlib.Path(directory)


def hand_in(directory, uid, gid):
    """The tenant's upload: every file and directory below ``directory`` becomes the tenant's (by
    descriptor, so that paths longer than the system's limit are handed in too)."""
    for dummy, dirs, files, dir_fd in os.fwalk(str(directory)):
        for name in dirs + files:
            os.chown(name, uid, gid, dir_fd=dir_fd, follow_symlinks=False)
    os.lchown(str(directory), uid, gid)


def discard(directory):
    """A test's submission directory ``<root>/<tenant>/<stack>`` gone, and its tenant's directory
    too when that tenant is the test's own (not in the committed registry) and nothing is left in
    it: the shared root keeps only what other people put there."""
    directory = str(directory)
    shutil.rmtree(directory, ignore_errors=True)
    tenant_dir = os.path.dirname(directory)
    if os.path.basename(tenant_dir) not in registry():
        try:
            os.rmdir(tenant_dir)
        except OSError:
            pass  # another stack of that tenant is still there


class Tenant(object):
    """A tenant's submission directory (``<root>/<tenant>/<stack>/``, the tenant's own) with its
    vars file, and the stack's Swarm objects. ``uid``/``gid``: the tenant's, where the test's
    inventory registers a tenant that the committed registry does not hold."""

    def __init__(self, tmp_path, docker_client, playbook, stack, tenant="demo", uid=None, gid=None):
        del tmp_path  # the submission lives where the platform reads it, not in the test's scratch directory
        entry = registry().get(tenant) or {}
        self.uid = entry["uid"] if uid is None else uid
        self.gid = entry.get("gid", self.uid) if gid is None else gid
        self.dir = submission_dir(tenant, stack, self.uid, self.gid)
        self.docker = docker_client
        self.playbook = playbook
        self.stack = stack
        self.tenant = tenant

    def write(self, compose, rancher=None, **files):
        (self.dir / "docker-compose.yml").write_text(compose if isinstance(compose, str) else yaml.safe_dump(compose))
        vars_file = {"spin_stack": self.stack, "spin_compose_file": "docker-compose.yml"}
        if rancher is not None:
            (self.dir / "rancher-compose.yml").write_text(rancher if isinstance(rancher, str)
                                                          else yaml.safe_dump(rancher))
            vars_file["spin_rancher_compose_file"] = "rancher-compose.yml"
        for name, text in files.items():
            (self.dir / name).write_text(text)
        (self.dir / "vars.yml").write_text(yaml.safe_dump(vars_file))

    @property
    def submission(self):
        """What staff name on the command line: the submission's vars file."""
        return str(self.dir / "vars.yml")

    def deploy(self, *args, check=True):
        hand_in(self.dir, self.uid, self.gid)
        return self.playbook("playbooks/deploy.yml", "-e", "spin_submission=%s" % self.submission, *args, check=check)

    def remove(self, *args, check=True):
        return self.playbook("playbooks/remove.yml", "-e", "spin_submission=%s" % self.submission, *args, check=check)

    def discard(self):
        """The submission directory gone (at the test's end, after ``remove``)."""
        discard(self.dir)

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
