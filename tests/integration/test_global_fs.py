"""Roles global_fs and tenant, and placement by data, for real: an sshd in a container the test
starts is mounted on this host with sshfs (FUSE) through the role's own fstab-and-mount code (a
test fstab and mount points of the test's own); the node is labelled from what is really mounted;
a tenant onboarded by the role deploys a stack that mounts its directory read-only as its uid.

One file server and one inventory are shared by the tests of this module, which run in order.
This kernel has no NFS client: NFS itself is checked from user space in test_nfs_export.py.
"""
import os
import random
import re
import subprocess
import time
import types

import pytest
import yaml
from conftest import run_playbook
from gfslib import SSHD_IMAGE, FileServer, Site, drop_node_labels, ensure_image, mounts_under, new_prefix, node_labels
from stacklib import hand_in, submission_dir

pytestmark = pytest.mark.skipif(not os.path.exists("/dev/fuse"), reason="needs FUSE (/dev/fuse)")

OLD_FSTAB = "# the test's fstab\nUUID=0000 / ext4 defaults 0 1\n"


def _wait(predicate, what, tries=60):
    for _attempt in range(tries):
        value = predicate()
        if value:
            return value
        time.sleep(1)
    pytest.fail("gave up waiting for %s" % what)


def _wait_for_sshd(port):
    def banner():
        try:
            import socket
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                return sock.recv(64).startswith(b"SSH-")
        except OSError:
            return False
    _wait(banner, "sshd on port %d" % port, tries=30)


@pytest.fixture(scope="module")
def gfs(docker_client):
    ensure_image(docker_client, SSHD_IMAGE, "gfs-sshd")
    site = Site(new_prefix())
    server = None
    try:
        server = FileServer(docker_client, site.prefix + "-sshd", site.key_pub())
        _wait_for_sshd(server.port)
        # parents without o+x: onboarding must add it
        server.sh("mkdir -p /export/cfs/cdirs /export/old && chmod 0700 /export/cfs /export/cfs/cdirs")
        with open(site.fstab, "w") as handle:
            handle.write(OLD_FSTAB)
        cfs = site.fs_name("cfs")
        fs = {cfs: site.sshfs(server.port, "/export/cfs", os.path.join(site.global_root, "cfs"))}
        site.write_inventory(fs)
        uid = random.randint(60000, 64999)
        yield types.SimpleNamespace(site=site, server=server, docker=docker_client, fs=fs, cfs=cfs, uid=uid,
                                    cfs_path=fs[cfs]["path"], label="spin.fs." + cfs)
    finally:
        for service in docker_client.services.list(filters={"label": "spin.tenant=" + site.prefix}):
            service.remove()
        for network in docker_client.networks.list(filters={"label": "spin.tenant=" + site.prefix}):
            _wait(lambda: _try_remove(network), "network %s to be free" % network.name, tries=30)
        drop_node_labels(docker_client, "spin.fs." + site.prefix)
        site.remove()
        if server is not None:
            server.remove()


def _try_remove(network):
    try:
        network.remove()
        return True
    except Exception:  # noqa: BLE001 - still in use by a task being shut down
        return False


def role(gfs, *args, check=False):
    return run_playbook("tests/integration/playbooks/global_fs.yml", *args, inventory=gfs.site.inventory,
                        check=check)


def fstab_text(gfs):
    with open(gfs.site.fstab) as handle:
        return handle.read()


def live(gfs, path):
    with open("/proc/self/mounts") as handle:
        return [line.split() for line in handle if line.split()[1] == path]


def test_mount_check_apply_again_for_real(gfs):
    check = role(gfs, "--check", "--diff")
    assert check.recap()["changed"] >= 2                 # the mount and the label
    assert "+root@127.0.0.1:/export/cfs %s fuse.sshfs" % gfs.cfs_path in check.output
    assert fstab_text(gfs) == OLD_FSTAB and not mounts_under(gfs.site.root)
    assert gfs.label not in node_labels(gfs.docker)

    role(gfs)
    assert fstab_text(gfs).startswith(OLD_FSTAB)
    [entry] = [line for line in fstab_text(gfs).splitlines() if gfs.cfs_path in line]
    assert entry.startswith("root@127.0.0.1:/export/cfs %s fuse.sshfs port=" % gfs.cfs_path)
    [mounted] = live(gfs, gfs.cfs_path)
    assert mounted[0] == "root@127.0.0.1:/export/cfs" and mounted[2] == "fuse.sshfs"
    assert "cdirs" in os.listdir(gfs.cfs_path)
    assert node_labels(gfs.docker)[gfs.label] == "true"

    again = role(gfs)
    assert again.recap()["changed"] == 0, again.output[-3000:]
    assert role(gfs, "--check", "--diff").recap()["changed"] == 0


def test_a_failed_mount_leaves_the_previous_fstab_entry(gfs):
    old_path = os.path.join(gfs.site.global_root, "old")
    old = gfs.site.sshfs(gfs.server.port, "/export/old", old_path)
    with open(gfs.site.fstab, "a") as handle:
        handle.write("%s %s fuse.sshfs %s 0 0\n" % (old["src"], old_path, old["opts"]))
    before = fstab_text(gfs)
    broken = dict(gfs.fs, **{gfs.site.fs_name("old"): dict(old, src="root@127.0.0.1:/export/missing")})
    gfs.site.write_inventory(broken)
    try:
        failed = role(gfs, check=False)
    finally:
        gfs.site.write_inventory(gfs.fs)
    assert failed.rc != 0
    message = re.sub(r"\s+", " ", failed.output)
    assert re.search(r"host \S+: mounting root@127\.0\.0\.1:/export/missing on %s \(fuse\.sshfs\) failed: mount: "
                     % re.escape(old_path), message), failed.output[-3000:]
    assert "No such file or directory" in message
    assert "The previous %s entry was put back." % gfs.site.fstab in message
    assert fstab_text(gfs) == before
    assert not live(gfs, old_path)
    labels = node_labels(gfs.docker)
    assert labels[gfs.label] == "true" and "spin.fs." + gfs.site.fs_name("old") not in labels


def test_a_hung_server_is_found_by_the_bounded_probe_and_costs_the_label(gfs):
    gfs.server.container.pause()
    try:
        hung = role(gfs, check=False)
    finally:
        gfs.server.container.unpause()
    assert hung.rc != 0
    assert "no answer within 5 s (a hung mount: the server does not reply)" in re.sub(r"\s+", " ", hung.output)
    assert gfs.label not in node_labels(gfs.docker)

    back = role(gfs)
    assert back.recap()["changed"] == 1                  # the label, nothing else
    assert node_labels(gfs.docker)[gfs.label] == "true"


def test_gpfs_is_verified_in_the_mount_table_and_never_written_to_fstab(gfs):
    gpfs = gfs.site.fs_name("gpfs")
    before = fstab_text(gfs)
    gpfs_entry = {"src": gpfs, "path": os.path.join(gfs.site.global_root, "gpfs"), "fstype": "gpfs"}
    gfs.site.write_inventory(dict(gfs.fs, **{gpfs: gpfs_entry}))
    try:
        missing = role(gfs, check=False)
        # the same verification passes for a mount that exists: the sshfs one, as a daemon-mounted type
        verified = role(gfs, "-e", '{"global_fs_daemon_fstypes": ["gpfs", "fuse.sshfs"]}', check=False)
    finally:
        gfs.site.write_inventory(gfs.fs)
    assert missing.rc != 0
    assert "the gpfs file system %s (%s) is not mounted on %s" % (gpfs, gpfs, os.path.join(gfs.site.global_root,
                                                                                           "gpfs")) \
        in re.sub(r"\s+", " ", missing.output)
    assert fstab_text(gfs) == before and "gpfs" not in before
    assert "spin.fs." + gpfs not in node_labels(gfs.docker)
    assert verified.rc != 0                              # gpfs is still missing ...
    assert node_labels(gfs.docker)[gfs.label] == "true"  # ... and the verified sshfs mount keeps its label


def _tenant(gfs, *args, check=True):
    return run_playbook("playbooks/tenant.yml", "-e", "@" + os.path.join(gfs.site.root, "tenant.yml"), *args,
                        inventory=gfs.site.inventory, check=check)


def _registry(gfs):
    if not os.path.exists(gfs.site.registry):
        return None
    with open(gfs.site.registry) as handle:
        return yaml.safe_load(handle)["spin_tenants"]


def _deploy(gfs, stack, compose, check=True):
    """The tenant's submission <root>/<tenant>/<stack>/ (the stack named after it), deployed."""
    directory = submission_dir(gfs.site.prefix, stack, gfs.uid, gfs.uid)
    with open(os.path.join(directory, "docker-compose.yml"), "w") as handle:
        yaml.safe_dump(compose, handle)
    hand_in(directory, gfs.uid, gfs.uid)
    return run_playbook("playbooks/deploy.yml", "-e", "spin_submission=%s" % directory,
                        inventory=gfs.site.inventory, check=check)


def _app(user, source):
    return {"services": {"app": {"image": "httpd", "user": user, "command": ["sleep", "infinity"],
                                 "stop_grace_period": "1s", "volumes": ["%s:/data:ro" % source]}}}


def _running(service):
    return [t for t in service.tasks(filters={"desired-state": "running"}) if t["Status"]["State"] == "running"]


def test_tenant_onboarded_by_the_role_deploys_read_only_as_its_uid_where_the_data_is(gfs):
    prefix, uid = gfs.site.prefix, gfs.uid
    home = os.path.join(gfs.cfs_path, "cdirs", prefix)
    with open(os.path.join(gfs.site.root, "tenant.yml"), "w") as handle:
        yaml.safe_dump({"tenant_entry": {"name": prefix, "uid": uid, "gid": uid, "paths": [home],
                                         "quota": {"replicas": 4}}}, handle)

    check = _tenant(gfs, "--check", "--diff")
    assert check.recap()["changed"] >= 2 and _registry(gfs) is None
    assert prefix not in gfs.server.sh("ls /export/cfs/cdirs")

    _tenant(gfs)
    assert _registry(gfs) == {prefix: {"uid": uid, "gid": uid, "paths": [home], "quota": {"replicas": 4}}}
    assert gfs.server.stat("/export/cfs/cdirs/" + prefix) == (uid, uid, "750")
    assert gfs.server.stat("/export/cfs")[2] == "701"          # o+x added, nothing else changed
    assert gfs.server.stat("/export/cfs/cdirs")[2] == "701"
    assert _tenant(gfs).recap()["changed"] == 0
    assert _tenant(gfs, "--check", "--diff").recap()["changed"] == 0

    # a second tenant with the same uid is refused, naming the holder
    with open(os.path.join(gfs.site.root, "tenant2.yml"), "w") as handle:
        yaml.safe_dump({"tenant_entry": {"name": prefix + "-b", "uid": uid, "gid": uid + 1, "paths": []}}, handle)
    clash = run_playbook("playbooks/tenant.yml", "-e", "@" + os.path.join(gfs.site.root, "tenant2.yml"),
                         inventory=gfs.site.inventory, check=False)
    assert clash.rc != 0 and "uid %d already belongs to tenant '%s'" % (uid, prefix) in clash.output

    gfs.server.sh("echo 'hello from the global file system' > /export/cfs/cdirs/{p}/hello.txt && "
                  "chown {u}:{u} /export/cfs/cdirs/{p}/hello.txt && chmod 0640 /export/cfs/cdirs/{p}/hello.txt"
                  .format(p=prefix, u=uid))
    stack = prefix + "-app"
    _deploy(gfs, stack, _app("%d:%d" % (uid, uid), home))
    service = gfs.docker.services.get(stack + "_app")
    constraints = service.attrs["Spec"]["TaskTemplate"]["Placement"]["Constraints"]
    assert "node.labels.%s==true" % gfs.label in constraints
    [task] = _running(service)
    container = gfs.docker.containers.get(task["Status"]["ContainerStatus"]["ContainerID"])
    assert container.exec_run(["id", "-u"]).output.decode().strip() == str(uid)
    assert container.exec_run(["cat", "/data/hello.txt"]).output == b"hello from the global file system\n"
    write = container.exec_run(["touch", "/data/new"])
    assert write.exit_code != 0 and b"Read-only file system" in write.output

    # a stack that mounts a file system no node carries is refused before anything is created
    old = gfs.site.fs_name("old")
    gfs.site.write_inventory(dict(gfs.fs, **{old: gfs.site.sshfs(gfs.server.port, "/export/old",
                                                                 os.path.join(gfs.site.global_root, "old"))}))
    try:
        nodata = _app("%d:%d" % (uid, uid), os.path.join(gfs.site.global_root, "old", prefix))
        refused = _deploy(gfs, prefix + "-nodata", nodata, check=False)
    finally:
        gfs.site.write_inventory(gfs.fs)
    assert refused.rc != 0
    assert "[global-fs-placement] %s/old/%s is on the global file system '%s', which no node carries now" % (
        gfs.site.global_root, prefix, old) in re.sub(r"\s+", " ", refused.output)
    assert not gfs.docker.services.list(filters={"label": "spin.stack=%s-nodata" % prefix})
    assert not gfs.docker.networks.list(filters={"label": "spin.stack=%s-nodata" % prefix})

    # the node loses the mount (the sshfs process dies): the next run takes the label away, and
    # Swarm stops the task there; the mount back, the label back, the task back
    subprocess.run(["pkill", "-KILL", "-f", "sshfs .* %s" % re.escape(gfs.cfs_path)], check=True)
    lost = role(gfs, check=False)
    assert lost.rc != 0 and "Transport endpoint is not connected" in lost.output
    assert gfs.label not in node_labels(gfs.docker)
    _wait(lambda: not _running(service), "the task on the node without %s to stop" % gfs.cfs)
    # its replacement (after the restart delay) waits for a node that carries the file system
    pending = _wait(lambda: [t for t in service.tasks(filters={"desired-state": "running"})
                             if "no suitable node" in t["Status"].get("Err", "")],
                    "a replacement task waiting for a node with %s" % gfs.cfs)
    assert all(t["Status"]["State"] == "pending" for t in pending)
    assert not _running(service)

    role(gfs, "-e", "global_fs_remount_stale=true")
    assert node_labels(gfs.docker)[gfs.label] == "true"
    _wait(lambda: _running(service), "the task to run again once the node carries %s" % gfs.cfs)

    # offboarding refuses while the tenant has stacks, then removes them when told to
    refused = _tenant(gfs, "-e", "tenant_state=absent", check=False)
    assert refused.rc != 0
    assert "tenant '%s' still has stacks: %s. Nothing was changed." % (prefix, stack) in \
        re.sub(r"\s+", " ", refused.output)
    assert prefix in _registry(gfs)
    _tenant(gfs, "-e", "tenant_state=absent", "-e", "tenant_remove_stacks=true")
    assert _registry(gfs) == {}
    assert not gfs.docker.services.list(filters={"label": "spin.tenant=" + prefix})
    assert prefix in gfs.server.sh("ls /export/cfs/cdirs")    # the tenant's data stays
