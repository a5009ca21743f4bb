"""Fault: the Docker engine crashes (issue 12, item 5), on a host of our own: a container that runs
its own dockerd, started by the docker_host role over SSH exactly as on a host without an init
system (never the shared engine of this machine).

- kill -9 of dockerd (and of the container shims, so that the database dies uncleanly too) while a
  client inserts rows one committed transaction at a time: the role's next run (what ``./spin up``
  runs first) clears the stale pid file and starts the engine; Swarm starts the database again on
  its named volume; every row the database acknowledged is there.
- a pid file naming a zombie or another program is cleared; a dockerd that exits at once is
  reported at once, with what it wrote to its log, through the role's failure.

Load: one client inserting rows (one committed transaction each, bounded to 3,000) until the crash.
The measured numbers are printed (pytest -s)."""
import os
import subprocess
import threading
import time

import pytest
import yaml

from faultlib import EngineNode, wait_for
from stacklib import hand_in

ROLE_PLAY = """
- name: The engine, as site.yml brings it up
  hosts: all
  gather_facts: true
  roles:
    - role: docker_host
      vars:
        docker_host_manager: self
        docker_host_daemon_config: {config}
"""

STACK_PLAY = """
- name: A stack with a database, on the node's own engine
  hosts: all
  gather_facts: false
  tasks:
    - name: Deploy it
      spin.platform.spin_stack:
        tenant: flt
        stack: fltengine
        compose_file: {compose}
        submission_roots: [{root}]
        lb: false
        tenants: {{flt: {{uid: 2042, gid: 2042}}}}
        audit_log: /tmp/audit.jsonl
"""

COMPOSE = {"version": "2", "services": {"db": {"image": "mysql", "environment": {
    "MYSQL_ROOT_PASSWORD": "flt-root-pw", "MYSQL_DATABASE": "magic"}}}}
SQL = "mariadb -uroot -pflt-root-pw magic"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


@pytest.fixture(scope="module")
def node(tmp_path_factory, docker_client):
    scratch = tmp_path_factory.mktemp("fltengine")
    engine = EngineNode(scratch)
    try:
        engine.scratch_dir = scratch
        yield engine
    finally:
        engine.close()


def converge(node, config=None):
    """The docker_host role on the node (what ./spin up runs first); -> (rc, output)."""
    path = os.path.join(str(node.scratch_dir), "engine.yml")
    with open(path, "w") as handle:
        handle.write(ROLE_PLAY.format(config=yaml.safe_dump(
            dict({"cgroup-parent": "/dind-" + node.name}, **(config or {})), default_flow_style=True).strip()))
    return node.play(path)


def db_container(node):
    return node.sh("docker ps -q -f label=com.docker.swarm.service.name=fltengine_db", check=False)[1].strip()


def count_rows(node):
    container = db_container(node)
    if not container:
        return None
    rc, out = node.sh("docker exec %s %s -N -e 'SELECT COUNT(*) FROM t'" % (container, SQL), check=False)
    return int(out.split()[-1]) if rc == 0 else None


def test_after_a_crash_the_role_restarts_the_engine_and_no_committed_row_is_lost(node):
    started = time.monotonic()
    rc, out = converge(node)
    assert rc == 0, out[-3000:]
    assert node.sh("/usr/local/sbin/spin-dockerd status")[1].strip() == "running"
    node.load_image("mysql:latest")
    node.sh("docker swarm init --advertise-addr 127.0.0.1 >/dev/null")
    # the submission as the platform reads it: <root>/flt/fltengine/, tenant flt's own (uid 2042)
    root = os.path.join(str(node.scratch_dir), "submissions")
    directory = os.path.join(root, "flt", "fltengine")
    os.makedirs(directory)
    os.chmod(root, 0o755)
    compose = os.path.join(directory, "docker-compose.yml")
    with open(compose, "w") as handle:
        yaml.safe_dump(COMPOSE, handle)
    hand_in(os.path.join(root, "flt"), 2042, 2042)
    stack = os.path.join(str(node.scratch_dir), "stack.yml")
    with open(stack, "w") as handle:
        handle.write(STACK_PLAY.format(compose=compose, root=root))
    rc, out = node.play(stack)
    assert rc == 0, out[-3000:]
    assert "fltengine_db_var-lib-mysql.1" in node.sh("docker volume ls -q")[1]
    node.sh("docker exec %s %s -e 'CREATE TABLE t (id INT PRIMARY KEY)'" % (db_container(node), SQL))
    print("\n[fault engine] node, engine, image and stack ready in %.1f s" % (time.monotonic() - started))

    # the load: one committed INSERT per client call, each acknowledged on stdout
    acked = []
    loop = ("i=1; while [ $i -le 3000 ]; do %s -e \"INSERT INTO t VALUES ($i)\" && echo ack $i; i=$((i+1)); done"
            % SQL)
    client = subprocess.Popen(["docker", "exec", node.name, "docker", "exec", db_container(node), "sh", "-c", loop],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    reader = threading.Thread(target=lambda: acked.extend(int(line.split()[1]) for line in client.stdout
                                                          if line.startswith("ack ")), daemon=True)
    reader.start()
    wait_for("the first acknowledged rows", lambda: len(acked) >= 50, timeout=120)

    # the crash: dockerd and the containers' shims killed outright (the database dies uncleanly)
    crashed = time.monotonic()
    node.sh("kill -9 $(cat /var/run/docker.pid); pkill -9 containerd-shim; true")
    client.wait(60)
    reader.join(10)
    assert node.sh("/usr/local/sbin/spin-dockerd status", check=False)[0] == 3
    assert node.sh("cat /var/run/docker.pid", check=False)[0] == 0      # the stale pid file is still there

    answered = []
    watcher = threading.Thread(target=lambda: answered.append(wait_for(
        "the engine", lambda: node.sh("docker version >/dev/null 2>&1", check=False)[0] == 0 and time.monotonic(),
        timeout=300, interval=0.25)), daemon=True)
    watcher.start()
    started = time.monotonic()
    rc, out = converge(node)
    assert rc == 0, out[-3000:]
    role_done = time.monotonic() - started
    watcher.join(60)
    engine_back = answered[0] - crashed
    wait_for("the database back on its volume", lambda: count_rows(node) is not None, timeout=240, interval=0.5)
    db_back = time.monotonic() - crashed
    present = {int(x) for x in node.sh("docker exec %s %s -N -e 'SELECT id FROM t'" % (db_container(node), SQL))[1]
               .split()}
    lost = sorted(set(acked) - present)
    print("[fault engine] kill -9 of dockerd + shims under insert load: %d rows acknowledged, %d present, %d lost; "
          "the role's run took %.1f s, the engine answered %.1f s and the database served %.1f s after the crash"
          % (len(acked), len(present), len(lost), role_done, engine_back, db_back))
    assert acked and lost == []
    assert node.sh("cat /var/run/docker.pid")[1].strip() == node.sh("pidof dockerd")[1].strip()


def test_a_pid_file_of_a_zombie_or_of_another_program_is_cleared(node):
    node.sh("/usr/local/sbin/spin-dockerd stop")
    # a zombie: a child that exited and whose parent never waits for it
    node.sh("python3 -c 'import os, time\nif os.fork() == 0: os._exit(0)\ntime.sleep(300)' "
            ">/dev/null 2>&1 & sleep 1; ps -eo pid=,stat= | awk '$2 ~ /^Z/ {print $1}' | head -n 1 "
            "> /var/run/docker.pid")
    zombie = node.sh("cat /var/run/docker.pid")[1].strip()
    assert zombie
    rc, out = node.sh("/usr/local/sbin/spin-dockerd start 2>&1")
    assert "removing the stale pid file /var/run/docker.pid: process %s is a zombie" % zombie in out
    node.sh("/usr/local/sbin/spin-dockerd stop")
    # a pid that now belongs to another program
    node.sh("sleep 300 >/dev/null 2>&1 & echo $! > /var/run/docker.pid")
    other = node.sh("cat /var/run/docker.pid")[1].strip()
    rc, out = node.sh("/usr/local/sbin/spin-dockerd start 2>&1")
    assert "removing the stale pid file /var/run/docker.pid: process %s is sleep, not dockerd" % other in out
    assert node.sh("/usr/local/sbin/spin-dockerd status")[1].strip() == "running"


def test_a_dockerd_that_exits_at_once_is_reported_at_once_with_its_log(node):
    # through the role (a configuration dockerd refuses): the failure quotes what dockerd wrote
    rc, out = converge(node, {"flt-bogus-option": True})
    assert rc != 0
    assert "dockerd exited at once (exit status 1)" in out
    assert "the following directives don't match any configuration option: flt-bogus-option" in out
    # the start alone: reported as soon as dockerd is gone, not after the 60 s the script waits for an answer
    started = time.monotonic()
    rc, out = node.sh("/usr/local/sbin/spin-dockerd start 2>&1", check=False)
    took = time.monotonic() - started
    assert rc == 1 and "dockerd exited at once (exit status 1)" in out and "flt-bogus-option" in out
    print("\n[fault engine] a dockerd that exits at once: reported after %.1f s (the script's timeout is 60 s)" % took)
    rc, out = converge(node)      # the configuration put right: it comes up again
    assert rc == 0, out[-3000:]
    assert node.sh("/usr/local/sbin/spin-dockerd status")[1].strip() == "running"
