"""The fault suite on one stack (issue 12: items 2, 3, 4 and 6): a tenant's web x2 behind the real edge
(spin_edge, routed by host name on port 8007, SPIN_TEST_FAULT_PORT) and a real database (the platform's mysql image, whose
VOLUME /var/lib/mysql the compose file does not mount), deployed once through playbooks/deploy.yml and
then put through one fault after another, with a bounded load running:

- HTTP: 4 clients with keep-alive GETs through the edge (at most 200,000 requests, 300 s per phase);
- SQL: one client inserting rows, one committed transaction each (at most 2,000 rows, 300 s per phase).

Asserted: 0 failed requests where the design promises it, 0 acknowledged rows lost, 0 secrets found
(syslog on /dev/log, the temp directories of the run, the review file, the output), and the audit
trail's intent and result records. The numbers are printed (pytest -s)."""
import json
import os
import time
import uuid

import pytest
import yaml

from faultlib import (ROOT, Database, HttpLoad, InsertLoad, SyslogListener, TempWatcher, finish, kill_tree, new_prefix,
                      run_playbook, secret_needles, start_playbook, wait_for)
from stacklib import discard, hand_in, submission_dir

AUDIT_LOG = "/var/log/spin/audit.jsonl"
# one of the edge's ports, claimed by host name only (port 80 is the example stack's, whole)
PORT = int(os.environ.get("SPIN_TEST_FAULT_PORT", "8007"))
# the suite's own tenant (in the registry of its inventory): its submissions are owned by this uid
FLT_UID = 2042


def fault_inventory(scratch):
    """The local inventory with the tenant 'flt' added to its registry (group_vars beside it)."""
    directory = os.path.join(str(scratch), "inventory")
    if not os.path.isdir(directory):
        os.makedirs(os.path.join(directory, "group_vars", "all"))
        with open(os.path.join(ROOT, "inventory", "local.yml")) as src, \
                open(os.path.join(directory, "local.yml"), "w") as dst:
            dst.write(src.read())
        with open(os.path.join(ROOT, "inventory", "group_vars", "all", "spin_tenants.yml")) as handle:
            registry = yaml.safe_load(handle)
        registry["spin_tenants"]["flt"] = {"uid": FLT_UID, "gid": FLT_UID}
        with open(os.path.join(directory, "group_vars", "all", "spin_tenants.yml"), "w") as handle:
            yaml.safe_dump(registry, handle)
        # these tests watch the module's own process and files (its payload in the temp directory,
        # kill -9 of it and of the playbook): the module runs the usual way, not in the warm worker
        # (whose faults test_warm_worker.py covers)
        with open(os.path.join(directory, "group_vars", "all", "spin_worker.yml"), "w") as handle:
            yaml.safe_dump({"spin_worker": False}, handle)
    return os.path.join(directory, "local.yml")


class FaultStack(object):
    """The tenant's submission directory (<root>/flt/<stack>), an inventory with the tenant 'flt', and
    the stack's objects."""

    def __init__(self, scratch, docker_client):
        self.docker = docker_client
        self.name = new_prefix()
        self.host = "%s.flt.localhost" % self.name   # a name under its tenant's route domain
        self.dir = str(submission_dir("flt", self.name, FLT_UID, FLT_UID))
        self.root_password = "flt-root-" + uuid.uuid4().hex[:12]
        self.user_password = "flt-user-" + uuid.uuid4().hex[:12]
        self.stats_password = "flt-stats-" + uuid.uuid4().hex[:12]
        with open(os.path.join(self.dir, "db_root.txt"), "w") as handle:
            handle.write(self.root_password)
        self.inventory = fault_inventory(scratch)
        self.vars = os.path.join(self.dir, "vars.yml")
        with open(self.vars, "w") as handle:
            yaml.safe_dump({"spin_stack": self.name, "spin_compose_file": "docker-compose.yml",
                            "spin_rancher_compose_file": "rancher-compose.yml"}, handle)
        self.write()
        self.db = Database(docker_client, self.name + "_db", self.root_password, "magic")

    def write(self, extra_services=None):
        services = {
            "lb": {"image": "rancher/lb-service-haproxy"},
            "web": {"image": "httpd"},
            "db": {"image": "mysql", "secrets": ["db_root"],
                   "environment": {"MYSQL_ROOT_PASSWORD_FILE": "/run/secrets/db_root", "MYSQL_DATABASE": "magic",
                                   "MYSQL_USER": "flt", "MYSQL_PASSWORD": self.user_password}},
        }
        services.update(extra_services or {})
        compose = {"version": "3.8", "services": services, "secrets": {"db_root": {"file": "./db_root.txt"}}}
        rancher = {"version": "2", "services": {
            "web": {"scale": 2},
            "lb": {"lb_config": {"port_rules": [{"source_port": PORT, "target_port": 80, "service": "web",
                                                 "hostname": self.host}]}}}}
        with open(os.path.join(self.dir, "docker-compose.yml"), "w") as handle:
            yaml.safe_dump(compose, handle)
        with open(os.path.join(self.dir, "rancher-compose.yml"), "w") as handle:
            yaml.safe_dump(rancher, handle)

    def playbook(self, name, *args, **kwargs):
        hand_in(self.dir, FLT_UID, FLT_UID)
        return run_playbook("playbooks/%s.yml" % name, "-e", "spin_submission=" + self.vars, *args,
                            inventory=self.inventory, **kwargs)

    def deploy(self, *args, **kwargs):
        return self.playbook("deploy", *args, **kwargs)

    def start_deploy(self, *args, **kwargs):
        hand_in(self.dir, FLT_UID, FLT_UID)
        return start_playbook("playbooks/deploy.yml", "-e", "spin_submission=" + self.vars, *args,
                              inventory=self.inventory, **kwargs)

    def discard(self):
        discard(self.dir)

    def services(self):
        return {s.name: s for s in self.docker.services.list(filters={"label": "spin.stack=" + self.name})}

    def volumes(self):
        return sorted(v.name for v in self.docker.volumes.list(filters={"label": "spin.stack=" + self.name}))

    def secrets(self):
        return [self.root_password, self.user_password, self.stats_password]

    def runs(self):
        """This stack's audit runs (intent and result paired by run id)."""
        from ansible_collections.spin.platform.plugins.module_utils.monitor import audit
        return audit.runs(audit.read_stack_records(AUDIT_LOG, self.name))

    def http_load(self, **kwargs):
        return HttpLoad(PORT, self.host, **kwargs)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, docker_client):
    """The stack, deployed once while syslog and the run's temp directories are watched."""
    scratch = tmp_path_factory.mktemp("fltstack")
    s = FaultStack(scratch, docker_client)
    syslog = SyslogListener(scratch)
    watcher = TempWatcher(os.path.join(str(scratch), "tmp"), secret_needles(*s.secrets()))
    try:
        started = time.monotonic()
        rc, out = s.deploy(env=watcher.env, wrap=syslog.wrap)
        s.first_deploy = {"rc": rc, "output": out, "seconds": time.monotonic() - started}
    finally:
        watcher.close()
        syslog.close()
    s.first_syslog, s.first_watch = syslog.messages, watcher
    assert rc == 0, out[-5000:]
    wait_for("the web through the edge", lambda: _answers(s), timeout=60)
    try:
        yield s
    finally:
        s.playbook("remove", "-e", "spin_remove_volumes=true")
        s.discard()


def _answers(s):
    load = s.http_load(threads=1, max_requests=1)
    load.stop()
    return load.statuses.get(200) == 1


# ---- secrets stay secret -------------------------------------------------------------------------

def test_a_deploy_leaks_no_secret_to_syslog_the_temp_directories_or_the_output(stack, tmp_path):
    mine = [m for m in stack.first_syslog if "spin_stack" in m and stack.name in m]
    assert mine, "the listener on /dev/log got no 'Invoked with' of spin_stack (%d messages)" % len(
        stack.first_syslog)
    assert "_sensitive=NOT_LOGGING_PARAMETER" in mine[0]
    for needle in secret_needles(*stack.secrets()):
        assert not [m for m in stack.first_syslog if needle.decode() in m], needle
        assert needle.decode() not in stack.first_deploy["output"]
    files = stack.first_watch.files
    assert any("spin_stack_payload" in f for f in files), files      # the watcher saw the module's own files
    assert stack.first_watch.found == []
    # the tenant is told how to use a secret instead of a password in environment
    assert ("service 'db': key 'environment.MYSQL_PASSWORD': warning: a password in plain text" in
            stack.first_deploy["output"])

    # the review file: no content and no digest of the secret
    review = tmp_path / "review.yml"
    rc, out = stack.playbook("translate", "-e", "spin_translate_dest=%s" % review)
    assert rc == 0, out[-3000:]
    import hashlib
    text = review.read_text()
    assert "<redacted: %d bytes>" % len(stack.root_password) in text
    assert hashlib.sha256(stack.root_password.encode()).hexdigest() not in text

    # the edge's stats password given to spin_stack never reaches syslog either (a check run changes nothing)
    play = tmp_path / "check.yml"
    play.write_text(yaml.safe_dump([{"name": "spin_stack with a stats password", "hosts": "swarm_managers[0]",
                                     "gather_facts": False, "tasks": [{"name": "Check", "spin.platform.spin_stack": {
                                         "tenant": "flt", "stack": stack.name,
                                         "compose_file": os.path.join(stack.dir, "docker-compose.yml"),
                                         "rancher_compose_file": os.path.join(stack.dir, "rancher-compose.yml"),
                                         "lb_platform": {"stats_password": stack.stats_password}}}]}]))
    syslog = SyslogListener(tmp_path)
    try:
        rc, out = run_playbook(str(play), "--check", inventory=stack.inventory, wrap=syslog.wrap)
    finally:
        syslog.close()
    assert rc == 0, out[-3000:]
    assert [m for m in syslog.messages if "spin_stack" in m and stack.name in m]
    assert not [m for m in syslog.messages if stack.stats_password in m]


def test_the_watcher_does_find_a_secret_on_disk_when_modules_are_kept_there(stack, tmp_path):
    """The check above can fail: with ANSIBLE_KEEP_REMOTE_FILES (which turns pipelining off) the module's
    arguments are written to the remote temp directory, and the watcher finds the secret there; the
    deploy warns that pipelining is off."""
    watcher = TempWatcher(tmp_path / "tmp", secret_needles(*stack.secrets()))
    try:
        rc, out = stack.deploy(env=dict(watcher.env, ANSIBLE_KEEP_REMOTE_FILES="1"))
    finally:
        watcher.close()
    assert rc == 0, out[-3000:]
    assert "the connection cannot pipeline (ANSIBLE_KEEP_REMOTE_FILES is set)" in out
    assert [path for path, _index in watcher.found if "AnsiballZ_spin_stack" in path]


# ---- data survives -------------------------------------------------------------------------------

def test_a_killed_database_container_loses_no_row_and_the_web_serves_throughout(stack, docker_client):
    assert stack.volumes() == [stack.name + "_db_var-lib-mysql.1"]
    ok, out = stack.db.sql("CREATE TABLE t (id INT PRIMARY KEY)")
    assert ok, out
    http = stack.http_load()
    rows = InsertLoad(stack.db)
    try:
        wait_for("rows before the kill", lambda: len(rows.acknowledged) >= 20, timeout=60)
        killed = stack.db.container()
        killed_at = time.monotonic()
        killed.kill()
        wait_for("the database on a new container", lambda: stack.db.container() is not None and
                 stack.db.container().id != killed.id and stack.db.ready(), timeout=180, interval=0.5)
        back = time.monotonic() - killed_at
        count = len(rows.acknowledged)
        wait_for("rows after the kill", lambda: len(rows.acknowledged) >= count + 20, timeout=60)
    finally:
        rows.stop()
        http.stop()
    lost = rows.lost()
    print("\n[fault data] docker kill of the db under load: HTTP %s; SQL %d rows acknowledged, %d refused while "
          "down, %d lost; database serving again %.1f s after the kill"
          % (http.summary(), len(rows.acknowledged), rows.refused, len(lost), back))
    assert lost == [] and http.failed == 0
    assert stack.volumes() == [stack.name + "_db_var-lib-mysql.1"]


def test_a_redeploy_and_a_removal_without_volumes_keep_the_data(stack):
    before = stack.db.count()
    rc, out = stack.deploy()
    assert rc == 0 and "0 created, 0 updated, 0 removed, 2 unchanged" in out, out[-3000:]
    rc, out = stack.playbook("remove")
    assert rc == 0, out[-3000:]
    assert stack.volumes() == [stack.name + "_db_var-lib-mysql.1"]      # kept with its data
    rc, out = stack.deploy()
    assert rc == 0, out[-3000:]
    wait_for("the database", stack.db.ready, timeout=180, interval=0.5)
    assert stack.db.count() == before
    wait_for("the web through the edge", lambda: _answers(stack), timeout=60)


# ---- running means staying up --------------------------------------------------------------------

def test_a_crash_looping_service_fails_the_deploy_is_undone_and_the_stack_keeps_serving(stack):
    rows = stack.db.count()
    crash = ["/bin/sh", "-c", "echo flt-crash: no configuration found >&2; exit 3"]
    stack.write({"crash": {"image": "httpd", "entrypoint": crash}})
    http = stack.http_load()
    try:
        started = time.monotonic()
        rc, out = stack.deploy()
        took = time.monotonic() - started
    finally:
        http.stop()
        stack.write()
    print("\n[fault crash loop] deploy of a service that exits at once: failed after %.1f s; HTTP %s"
          % (took, http.summary()))
    assert rc != 0
    assert "service '%s_crash' does not start" % stack.name in out
    assert "flt-crash: no configuration found" in out          # the container's last output
    assert "undone: removed service %s_crash" % stack.name in out
    assert stack.name + "_crash" not in stack.services()
    assert http.failed == 0 and stack.db.count() == rows
    failed = [r for r in stack.runs() if r["outcome"] == "failed"]
    assert failed and "does not start" in failed[-1]["cause"]


# ---- the audit trail tells the truth -------------------------------------------------------------

def test_a_killed_deploy_shows_as_interrupted_leaves_no_secret_and_the_next_run_converges(stack, tmp_path):
    stack.write({"late": {"image": "httpd"}})
    watcher = TempWatcher(tmp_path / "tmp", secret_needles(*stack.secrets()))
    http = stack.http_load()
    try:
        proc, out = stack.start_deploy(env=watcher.env)
        wait_for("the new service", lambda: stack.name + "_late" in stack.services(), timeout=120, interval=0.2)
        kill_tree(proc)             # the playbook, its workers and the module, midway through the wait
        finish(proc, out)
    finally:
        watcher.close()
    killed = stack.runs()[-1]
    assert (killed["outcome"], killed["finished"]) == ("interrupted", None) and killed["started"]
    assert any("spin_stack_payload" in f for f in watcher.files), watcher.files     # the watcher saw the run
    assert watcher.found == []      # nothing with a secret written, nothing left behind with one
    print("\n[fault killed deploy] left in the temp directories: %s" % (watcher.left or "nothing"))

    # the listing says so
    listing = tmp_path / "audit.yml"
    listing.write_text(yaml.safe_dump([{"name": "Unfinished runs", "hosts": "swarm_managers[0]",
                                        "gather_facts": False, "tasks": [
                                            {"name": "List", "spin.platform.spin_audit": {
                                                "stack": stack.name, "outcome": ["interrupted"]},
                                             "register": "listed"},
                                            {"name": "Show", "ansible.builtin.copy": {
                                                "content": "{{ listed.runs | to_json }}",
                                                "dest": str(tmp_path / "runs.json")}}]}]))
    rc, out = run_playbook(str(listing), inventory=stack.inventory)
    assert rc == 0, out[-3000:]
    assert [r["run"] for r in json.loads((tmp_path / "runs.json").read_text())] == [killed["run"]]

    # the next run warns, records the interrupted run and converges
    try:
        rc, out = stack.deploy()
    finally:
        stack.write()
    assert rc == 0, out[-3000:]
    assert "(run %s) never ended: it was interrupted" % killed["run"] in out
    runs = {r["run"]: r for r in stack.runs()}
    assert runs[killed["run"]]["outcome"] == "interrupted" and runs[killed["run"]]["finished"]
    assert stack.runs()[-1]["outcome"] == "deployed"
    rc, out = stack.deploy()        # the late service removed again: the stack as declared
    http.stop()
    assert rc == 0, out[-3000:]
    assert stack.name + "_late" not in stack.services()
    print("\n[fault killed deploy] kill -9 of the playbook while the new service started: HTTP %s" % http.summary())
    assert http.failed == 0


def test_a_deploy_refused_for_a_claim_held_by_another_stack_is_audited_with_the_holder(
        stack, tmp_path, docker_client):
    thief = FaultStack(tmp_path, docker_client)
    try:
        thief.host = stack.host
        thief.write()
        rc, out = thief.deploy()
        assert rc != 0
        assert "hostname '%s' is held by stack '%s'" % (stack.host, stack.name) in out
        assert thief.services() == {}
        [run] = thief.runs()
        assert run["outcome"] == "refused" and run["started"] and run["finished"]
        assert "is held by stack '%s'" % stack.name in run["cause"]
    finally:
        thief.discard()
