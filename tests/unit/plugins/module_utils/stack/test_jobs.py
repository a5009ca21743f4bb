"""jobs.py: the scheduler's rounds against a fake swarm (the real one: tests/integration/test_jobs.py)."""
import base64
import copy


from ansible_collections.spin.platform.plugins.module_utils.stack import jobs
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

T0 = 1796620380          # 2026-12-07T05:13:00Z


def iso(when, nanos=""):
    return jobs.cron.iso(when)[:-1] + nanos + "Z"


class FakeSwarm(object):
    """One scheduled job; configs by name (a taken name fails as Docker's 409 does); tasks per iteration."""

    def __init__(self, schedule="@every 10s", created=T0 - 5):
        self.service = {"ID": "svc0123456789abcdef", "Version": {"Index": 10}, "CreatedAt": iso(created),
                        "JobStatus": {"JobIteration": {"Index": 0}},
                        "Spec": {"Name": "st_tick", "Labels": {"spin.schedule": schedule, "spin.tenant": "ten",
                                                               "spin.stack": "st", "spin.service": "tick"},
                                 "Mode": {"ReplicatedJob": {"MaxConcurrent": 0, "TotalCompletions": 0}},
                                 "TaskTemplate": {"ContainerSpec": {"Image": "x"}}}}
        self.configs_by_name, self.tasks, self.updates = {}, [], []

    def services(self, labels=None):
        return [copy.deepcopy(self.service)] if self.service else []

    def configs(self, labels=None):
        return [{"ID": name, "Spec": {"Name": name, "Labels": c["labels"], "Data": base64.b64encode(c["data"]).decode()}}
                for name, c in sorted(self.configs_by_name.items())]

    def create_config(self, name, data, labels=None):
        if name in self.configs_by_name:
            raise SpinError("create config '%s': 409 Client Error: rpc error: code = AlreadyExists" % name)
        self.configs_by_name[name] = {"data": data, "labels": labels}
        return name

    def remove_config(self, config_id):
        del self.configs_by_name[config_id]

    def update_service(self, service_id, version, spec):
        assert version == self.service["Version"]["Index"]
        self.updates.append(spec)
        self.service["Spec"] = spec
        self.service["Version"]["Index"] += 1
        self.service["JobStatus"]["JobIteration"]["Index"] += 1
        return []

    def service_tasks(self, service_id):
        return self.tasks

    def service_logs(self, service_id, tail=20, since=None, tty=False):
        return "".join("%s com.docker.swarm.task.id=%s %s\n" % (t["CreatedAt"], t["ID"], line)
                       for t in self.tasks for line in t.get("lines", []))

    def task(self, state, created, ended=None, code=None):
        iteration = self.service["JobStatus"]["JobIteration"]["Index"]
        task = {"ID": "task%d" % len(self.tasks), "JobIteration": {"Index": iteration}, "CreatedAt": iso(created, ".1"),
                "Status": {"State": state, "Timestamp": iso(ended or created),
                           "ContainerStatus": {"ExitCode": code}}, "lines": ["run", "done"]}
        self.tasks.append(task)
        return task


def test_a_run_starts_once_per_slot_and_is_recorded_when_it_ends():
    swarm = FakeSwarm()
    assert jobs.tick(swarm, now=T0 + 1) == ["st_tick: run of 2026-12-07T05:13:00Z: started"]
    spec = swarm.updates[-1]
    assert spec["Mode"] == {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}
    assert spec["TaskTemplate"]["ForceUpdate"] == 1
    # the same slot again (this scheduler's next round, or a second scheduler): nothing more
    assert jobs.tick(swarm, now=T0 + 3) == [] and len(swarm.updates) == 1
    task = swarm.task("running", T0 + 1)
    assert jobs.tick(swarm, now=T0 + 5) == []
    task["Status"].update(State="failed", Timestamp=iso(T0 + 8))
    task["Status"]["ContainerStatus"]["ExitCode"] = 3
    assert jobs.tick(swarm, now=T0 + 9) == ["st_tick: run of 2026-12-07T05:13:00Z ended: failed, exit code 3"]
    history = jobs.history(jobs.read_records(swarm)[swarm.service["ID"]])
    assert history == [{"slot": "2026-12-07T05:13:00Z", "state": "failed", "start": "2026-12-07T05:13:01Z",
                        "end": "2026-12-07T05:13:08Z", "exit_code": 3, "error": None, "lines": ["run", "done"]}]


def test_a_slot_that_comes_while_a_run_goes_is_skipped_and_recorded():
    swarm = FakeSwarm()
    jobs.tick(swarm, now=T0 + 1)
    task = swarm.task("running", T0 + 1)
    assert jobs.tick(swarm, now=T0 + 11) == [
        "st_tick: skipped 2026-12-07T05:13:10Z: the run of 2026-12-07T05:13:00Z is still going"]
    assert len(swarm.updates) == 1
    task["Status"].update(State="complete", Timestamp=iso(T0 + 15))
    events = jobs.tick(swarm, now=T0 + 21)
    assert events == ["st_tick: run of 2026-12-07T05:13:00Z ended: succeeded, exit code None",
                      "st_tick: run of 2026-12-07T05:13:20Z: started"]
    states = [(h["slot"][11:19], h["state"]) for h in jobs.history(jobs.read_records(swarm)[swarm.service["ID"]])]
    assert states == [("05:13:20", "running"), ("05:13:10", "skipped"), ("05:13:00", "succeeded")]


def test_a_run_ends_in_the_next_round_that_sees_it_ended_and_the_due_slot_runs():
    swarm = FakeSwarm()
    jobs.tick(swarm, now=T0 + 1)
    swarm.task("complete", T0 + 1, ended=T0 + 4, code=0)
    events = jobs.tick(swarm, now=T0 + 10)
    assert events[-1] == "st_tick: run of 2026-12-07T05:13:10Z: started" and len(swarm.updates) == 2


def test_no_slot_before_the_job_existed_and_old_records_are_forgotten():
    swarm = FakeSwarm(created=T0 + 2)
    assert jobs.tick(swarm, now=T0 + 5) == []           # 05:13:00 came before the job
    for n in range(jobs.KEEP + 3):
        jobs._write(swarm, swarm.service, T0 + 10 * (n + 1), "skip", {"reason": "x"})
    jobs.tick(swarm, now=T0 + 5)
    assert len(swarm.configs_by_name) == jobs.KEEP
    swarm.service = None                                  # the stack was removed
    assert jobs.tick(swarm, now=T0 + 5) == ["forgot %d slot(s) of removed job svc012345678" % jobs.KEEP]
    assert swarm.configs_by_name == {}


def test_status_shows_the_history_of_the_tenants_jobs_only():
    swarm = FakeSwarm()
    swarm.inspect_service = lambda service_id: copy.deepcopy(swarm.service)
    jobs.tick(swarm, now=T0 + 1)
    swarm.task("failed", T0 + 1, ended=T0 + 6, code=2)
    jobs.tick(swarm, now=T0 + 7)
    context = {"tenant": "ten", "services": [{"id": swarm.service["ID"], "service": "tick"}]}
    fact = jobs.status_fact(swarm, context, now=T0 + 7)
    assert fact["text"] == [
        "job tick: schedule '@every 10s' (UTC), next 2026-12-07T05:13:10Z; 1 slot(s) recorded",
        "  2026-12-07T05:13:00Z failed: start 2026-12-07T05:13:01Z end 2026-12-07T05:13:06Z exit 2",
        "    | run", "    | done"]
    assert jobs.status_fact(swarm, dict(context, tenant="other"), now=T0 + 7) is None
