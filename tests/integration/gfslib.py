"""A file server for the global_fs tests: sshd in a container, reached by a real sshfs (FUSE)
mount on this host through the role's fstab-and-mount code, and an inventory of the test's own
(its fstab, its mount points, its tenant registry)."""
import os
import shutil
import socket
import subprocess
import uuid

import yaml
from stacklib import SUBMISSION_ROOT

HERE = os.path.dirname(os.path.abspath(__file__))
SSHD_IMAGE = "gfs-sshd:test"
GANESHA_IMAGE = "gfs-ganesha:test"
BASE_IMAGE = "spin/base:bookworm"


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ensure_image(docker_client, tag, directory):
    """Build the test image from tests/integration/files/<directory> (on the platform's base image)."""
    docker_client.images.build(path=os.path.join(HERE, "files", directory), tag=tag, rm=True,
                               buildargs={"BASE": BASE_IMAGE}, labels={"spin.test": "global_fs"})


def mounts_under(root):
    with open("/proc/self/mounts") as handle:
        points = [line.split()[1].replace("\\040", " ") for line in handle]
    return [p for p in points if p == root or p.startswith(root + "/")]


def unmount_all(root):
    for point in reversed(mounts_under(root)):
        subprocess.run(["umount", "-l", point], check=False, capture_output=True)


class FileServer:
    """sshd exporting /export over SFTP on 127.0.0.1:<port>, and the tree under /export."""

    def __init__(self, docker_client, name, key_pub):
        self.port = free_port()
        self.container = docker_client.containers.run(
            SSHD_IMAGE, name=name, detach=True, environment={"AUTHORIZED_KEY": key_pub},
            ports={"22/tcp": ("127.0.0.1", self.port)}, labels={"spin.test": "global_fs"})

    def sh(self, script):
        result = self.container.exec_run(["sh", "-c", script])
        assert result.exit_code == 0, result.output.decode()
        return result.output.decode()

    def stat(self, path):
        """(uid, gid, octal mode) of a path as the server has it."""
        uid, gid, mode = self.sh("stat -c '%%u %%g %%a' %s" % path).split()
        return int(uid), int(gid), mode

    def remove(self):
        self.container.remove(force=True)


class Site:
    """The test's own platform data: an inventory of this machine, with spin_global_fs, the
    registry directory, a test fstab and mount points under one directory of its own; its tenant's
    submissions in the platform's root (<root>/<prefix>/<stack>)."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.root = "/tmp/%s" % prefix
        os.makedirs(self.root, mode=0o755)
        os.chmod(self.root, 0o755)
        self.key = os.path.join(self.root, "id_ed25519")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", self.key], check=True)
        self.fstab = os.path.join(self.root, "fstab")
        self.inventory_dir = os.path.join(self.root, "inventory")
        self.inventory = os.path.join(self.inventory_dir, "hosts.yml")
        self.registry = os.path.join(self.inventory_dir, "group_vars", "all", "spin_tenants.yml")
        os.makedirs(os.path.dirname(self.registry))
        self.global_root = os.path.join(self.root, "global")
        self.submissions = os.path.join(SUBMISSION_ROOT, prefix)

    def key_pub(self):
        with open(self.key + ".pub") as handle:
            return handle.read().strip()

    def sshfs(self, port, export, path, **extra):
        entry = {"src": "root@127.0.0.1:%s" % export, "path": path, "fstype": "fuse.sshfs",
                 "opts": "port=%d,IdentityFile=%s,StrictHostKeyChecking=no,UserKnownHostsFile=/dev/null,"
                         "allow_other,default_permissions,_netdev" % (port, self.key)}
        entry.update(extra)
        return entry

    def write_inventory(self, filesystems, **extra_vars):
        variables = {"ansible_python_interpreter": "{{ ansible_playbook_python }}",
                     "spin_submission_roots": [SUBMISSION_ROOT],
                     "spin_global_fs_roots": [self.global_root], "spin_global_fs": filesystems,
                     "global_fs_fstab": self.fstab, "global_fs_probe_timeout": 5, "global_fs_mount_timeout": 60}
        variables.update(extra_vars)
        inventory = {"all": {"vars": variables, "children": {
            "swarm_managers": {"hosts": {"local": {"ansible_connection": "local",
                                                   "swarm_advertise_addr": "127.0.0.1"}}},
            "swarm_workers": {"hosts": {}}}}}
        with open(self.inventory, "w") as handle:
            yaml.safe_dump(inventory, handle)

    def fs_name(self, short):
        return "%s-%s" % (self.prefix, short)

    def remove(self):
        unmount_all(self.root)
        shutil.rmtree(self.root, ignore_errors=True)
        shutil.rmtree(self.submissions, ignore_errors=True)


def new_prefix():
    return "gfs" + uuid.uuid4().hex[:6]


def node_labels(docker_client):
    node = docker_client.nodes.get(docker_client.info()["Swarm"]["NodeID"])
    return node.attrs["Spec"].get("Labels") or {}


def drop_node_labels(docker_client, label_prefix):
    """Remove this test's labels from the (shared) node, and no other."""
    node = docker_client.nodes.get(docker_client.info()["Swarm"]["NodeID"])
    spec = node.attrs["Spec"]
    labels = {k: v for k, v in (spec.get("Labels") or {}).items() if not k.startswith(label_prefix)}
    if labels != (spec.get("Labels") or {}):
        spec["Labels"] = labels
        node.update(spec)
