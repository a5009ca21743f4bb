"""The tenant role's directories served over real NFS: nfs-ganesha (a user-space NFSv4 server) in a
container exports the directory the role created tenants in, and libnfs (nfs-ls, nfs-cat) checks
from user space what each uid may do. This kernel has no NFS client, so nothing is mounted here:
the mount itself is exercised with sshfs (test_global_fs.py) and on a real cluster."""
import os
import random
import shutil
import subprocess

import pytest
import yaml
from conftest import run_playbook
from gfslib import GANESHA_IMAGE, ensure_image, free_port, new_prefix


def _nfs(tool, port, path, uid):
    """libnfs as ``uid`` -> (exit status, what it printed; it prints its errors on stdout)."""
    url = "nfs://127.0.0.1%s?version=4&nfsport=%d&uid=%d&gid=%d" % (path, port, uid, uid)
    done = subprocess.run([tool, url], capture_output=True, text=True, check=False)
    return done.returncode, done.stdout + done.stderr


@pytest.fixture
def export(docker_client):
    if not shutil.which("nfs-ls"):     # a fresh machine: the libnfs tools from Debian's packages
        apt = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, capture_output=True, env=apt)
        subprocess.run(["apt-get", "install", "-y", "-qq", "libnfs-utils"], check=True, capture_output=True, env=apt)
    ensure_image(docker_client, GANESHA_IMAGE, "gfs-ganesha")
    prefix = new_prefix()
    root = "/tmp/" + prefix
    os.makedirs(os.path.join(root, "export", "cdirs"))
    os.chmod(os.path.join(root, "export"), 0o700)
    os.chmod(os.path.join(root, "export", "cdirs"), 0o700)
    try:
        yield {"prefix": prefix, "root": root, "path": os.path.join(root, "export")}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_tenant_directories_over_nfs_each_uid_reaches_only_its_own(export, docker_client):
    prefix, root, path = export["prefix"], export["root"], export["path"]
    inventory = os.path.join(root, "inventory", "hosts.yml")
    os.makedirs(os.path.dirname(inventory))
    with open(inventory, "w") as handle:
        yaml.safe_dump({"all": {"vars": {"ansible_python_interpreter": "{{ ansible_playbook_python }}",
                                         "spin_global_fs_roots": [path]},
                                "children": {"swarm_managers": {"hosts": {"local": {"ansible_connection": "local"}}}}}},
                       handle)
    first = random.randint(60000, 64000)
    uids = {"a": first, "b": first + 1}
    for tenant, uid in uids.items():
        entry = os.path.join(root, "%s.yml" % tenant)
        with open(entry, "w") as handle:
            yaml.safe_dump({"tenant_entry": {"name": "%s-%s" % (prefix, tenant), "uid": uid, "gid": uid,
                                             "paths": [os.path.join(path, "cdirs", tenant)]}}, handle)
        run_playbook("playbooks/tenant.yml", "-e", "@" + entry, inventory=inventory)
    secret = os.path.join(path, "cdirs", "a", "results.txt")
    with open(secret, "w") as handle:
        handle.write("tenant a's results\n")
    os.chown(secret, uids["a"], uids["a"])
    os.chmod(secret, 0o640)

    port = free_port()
    server = docker_client.containers.run(
        GANESHA_IMAGE, name=prefix + "-nfs", detach=True, cap_add=["DAC_READ_SEARCH", "SYS_ADMIN"],
        volumes={path: {"bind": "/export", "mode": "rw"}}, ports={"2049/tcp": ("127.0.0.1", port)},
        labels={"spin.test": "global_fs"})
    try:
        listing = None
        for _attempt in range(30):                        # ganesha takes a moment to serve
            listing = _nfs("nfs-ls", port, "/export/cdirs/a", uids["a"])
            if listing[0] == 0:
                break
            subprocess.run(["sleep", "1"], check=True)
        assert listing[0] == 0, listing[1] + server.logs().decode()[-2000:]
        assert "results.txt" in listing[1]
        assert _nfs("nfs-cat", port, "/export/cdirs/a/results.txt", uids["a"]) == (0, "tenant a's results\n")

        # the other tenant reaches its own directory through the o+x parents, and not a's
        assert _nfs("nfs-ls", port, "/export/cdirs/b", uids["b"])[0] == 0
        assert "NFS4ERR_ACCESS" in _nfs("nfs-cat", port, "/export/cdirs/a/results.txt", uids["b"])[1]
        # the parents are traversable, not listable
        assert "NFS4ERR_ACCESS" in _nfs("nfs-ls", port, "/export/cdirs", uids["b"])[1]
        # root on a client is squashed: it is nobody, and reads nothing of a tenant's
        assert "NFS4ERR_ACCESS" in _nfs("nfs-ls", port, "/export/cdirs/a", 0)[1]
    finally:
        server.remove(force=True)
