"""Scheduled jobs (issue 20, docs/jobs.md) on the real engine, with the platform's own scheduler.

The images role builds the recipe ``jobs`` under the test's own tag and the role ``jobs`` runs the
scheduler as the test's own service (SPIN_TEST_JOBS_SERVICE), one replica on the managers, as
site.yml runs ``spin_jobs``. Tenant j20a (an inventory of the test's own) deploys a job every 10 s
(``@every 10s``, the seconds form docs/jobs.md states for tests) whose run lasts 14 s and exits 3:
the history in ``playbooks/status.yml`` shows several runs (start, end, exit code, last log lines),
the slots that came while a run was still going are skipped and recorded, and no two runs overlap.
A job is a service: a privileged scheduled job is refused by the same policy rule, and a cron
expression with four fields is refused at translation with the file, service, key and what to write.
"""
import calendar
import json
import os
import time
import uuid

import pytest
from stacklib import Tenant, write_inventory

TENANT, UID = "j20a", 2020
SCHEDULER = os.environ.get("SPIN_TEST_JOBS_SERVICE", "j20_jobs")
TAG = "j20-jobs:test"
PLAYBOOK = "tests/integration/playbooks/jobs.yml"
JOB = {"services": {"tick": {
    "image": "httpd",
    "command": ["sh", "-c", "echo run $$(date -u +%T); sleep 14; echo done; exit 3"],
    "x-spin": {"schedule": "@every 10s"}}}}


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    return write_inventory(tmp_path_factory.mktemp("jobs"), spin_tenants={TENANT: {"uid": UID, "gid": UID}})


@pytest.fixture(scope="module")
def scheduler(inventory):
    from conftest import run_playbook
    extra = ["-e", "jobs_test_tag=%s" % TAG, "-e", "jobs_service=%s" % SCHEDULER, "-e", "jobs_image=%s" % TAG]
    run_playbook(PLAYBOOK, *extra, inventory=inventory)
    yield SCHEDULER
    run_playbook(PLAYBOOK, *extra, "-e", "jobs_test_absent=true", inventory=inventory, check=False)


def tenant_of(inventory, docker_client, playbook, stack):
    return Tenant(None, docker_client, lambda *a, **k: playbook(*a, inventory=inventory, **k), stack,
                  tenant=TENANT, uid=UID, gid=UID)


def status(tenant, playbook, inventory, tmp_path):
    out = tmp_path / ("status-%s.json" % uuid.uuid4().hex[:6])
    result = playbook("playbooks/status.yml", "-e", "spin_submission=%s" % tenant.dir, "-e", "spin_status_lines=0",
                      "-e", "spin_status_json=%s" % out, inventory=inventory)
    return json.loads(out.read_text()), result.output


def table(output):
    part = output.split("TASK [Show the status]", 1)[1].split("\nTASK [", 1)[0]
    return [line[8:] for line in part.split("msg: |-\n", 1)[1].splitlines() if line.startswith("        ")]


def _docker_time(text):
    whole, dummy, fraction = text.rstrip("Z").partition(".")
    return _seconds(whole + "Z") + float("0." + (fraction or "0"))


def _seconds(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def test_a_job_runs_on_its_schedule_with_history_and_no_overlap(scheduler, inventory, docker_client, playbook,
                                                                tmp_path):
    job = tenant_of(inventory, docker_client, playbook, "j20-cron-" + uuid.uuid4().hex[:4])
    try:
        job.write(JOB)
        said = job.deploy().output
        assert "1 created" in said
        service = docker_client.services.get("%s_tick" % job.stack)
        spec = service.attrs["Spec"]
        # idle between runs: the deploy itself runs nothing; the schedule and its zone are labels
        assert spec["Mode"] == {"ReplicatedJob": {"MaxConcurrent": 0, "TotalCompletions": 0}}
        assert (spec["Labels"]["spin.schedule"], spec["Labels"]["spin.schedule.timezone"]) == ("@every 10s", "UTC")
        # a service like any other: the stack's own network only, the platform's default limits
        networks = {docker_client.networks.get(n["Target"]).name for n in spec["TaskTemplate"]["Networks"]}
        assert networks == {"%s_default" % job.stack}
        assert spec["TaskTemplate"]["Resources"]["Limits"]["MemoryBytes"] > 0
        # several runs: wait (bounded) until three runs ended
        deadline, data = time.monotonic() + 240, None
        while time.monotonic() < deadline:
            time.sleep(10)
            data, output = status(job, playbook, inventory, tmp_path)
            history = data["stacks"][0]["extra"]["jobs"]["data"]["tick"]["history"]
            if len([r for r in history if r["state"] not in ("running", "skipped")]) >= 3:
                break
        print("\n".join(table(output)))
        facts = data["stacks"][0]["extra"]["jobs"]["data"]["tick"]
        assert (facts["schedule"], facts["timezone"]) == ("@every 10s", "UTC") and facts["next"]
        ended = [r for r in facts["history"] if r["state"] not in ("running", "skipped")]
        skipped = [r for r in facts["history"] if r["state"] == "skipped"]
        assert len(ended) >= 3, facts["history"]
        for run in ended:
            assert run["state"] == "failed" and run["exit_code"] == 3, run
            assert run["start"] and run["end"] and _seconds(run["start"]) <= _seconds(run["end"]), run
            assert run["lines"][-1] == "done" and run["lines"][0].startswith("run "), run
        # a run lasts 14 s, the interval is 10 s: the slots in between were skipped, naming the run still going
        assert skipped and all("still going" in r["reason"] for r in skipped), facts["history"]
        # never two at once: each run starts after the one before it ended
        runs = sorted(ended, key=lambda r: r["start"])
        for before, after in zip(runs, runs[1:]):
            assert _seconds(after["start"]) >= _seconds(before["end"]), (before, after)
        # the same from Swarm's side: the tasks' lifetimes (created .. last state) do not overlap
        tasks = sorted(service.tasks(), key=lambda t: t["CreatedAt"])
        done = [t for t in tasks if t["Status"]["State"] in ("complete", "failed")]
        for before, after in zip(done, done[1:]):
            assert _docker_time(after["CreatedAt"]) >= _docker_time(before["Status"]["Timestamp"]), (before, after)
        lines = table(output)
        assert any(line.startswith("  job tick: schedule '@every 10s' (UTC), next ") for line in lines)
        assert any(" failed: start " in line and " exit 3" in line for line in lines)
        assert any(" skipped: the run of " in line for line in lines)
        # an unchanged deploy leaves the job (and the scheduler's runs) alone
        assert "1 unchanged" in job.deploy().output
    finally:
        job.remove(check=False)
        job.discard()
    # the scheduler forgets the records of a job that is gone (bounded wait)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and docker_client.configs.list(filters={"label": "spin.job.stack=" + job.stack}):
        time.sleep(2)
    assert docker_client.configs.list(filters={"label": "spin.job.stack=" + job.stack}) == []


def test_a_scheduled_job_is_judged_as_a_service(inventory, docker_client, playbook):
    job = tenant_of(inventory, docker_client, playbook, "j20-bad-" + uuid.uuid4().hex[:4])
    try:
        job.write({"services": {"tick": dict(JOB["services"]["tick"], privileged=True)}})
        said = job.deploy(check=False).output
        assert "docker-compose.yml: service 'tick': key 'privileged'" in said, said[-3000:]
        job.write({"services": {"tick": dict(JOB["services"]["tick"], **{"x-spin": {"schedule": "*/5 * * *"}})}})
        said = job.deploy(check=False).output
        assert ("docker-compose.yml: service 'tick': key 'x-spin.schedule': '*/5 * * *' has 4 fields, cron has 5: "
                "minute hour day-of-month month day-of-week; write instead e.g. schedule: \"*/5 * * * *\"") in said, \
            said[-3000:]
        assert job.services() == {}
    finally:
        job.remove(check=False)
        job.discard()
