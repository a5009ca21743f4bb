"""ServiceReconciler against a fake SwarmClient (no Docker): plan/apply/wait decisions."""
import copy

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.stack.reconcile import ServiceReconciler, WaitError
from ansible_collections.spin.platform.tests.unit.fake_swarm import Clock, FakeSwarm, running_after, task


PARAMS = {"name": "t_web", "image": "httpd", "replicas": 2, "env": {"A": "1"},
          "networks": [{"name": "t_net", "aliases": ["web"]}], "wait": True, "wait_timeout": 30}


def make(check_mode=False):
    docker = FakeSwarm()
    docker.create_network("t_net")
    docker.calls = []
    clock = Clock()
    rec = ServiceReconciler(docker, check_mode=check_mode, clock=clock, sleep=clock.sleep)
    return docker, rec, clock


def params(**changes):
    p = copy.deepcopy(PARAMS)
    p.update(changes)
    return p


# ---- plan / apply ----------------------------------------------------------------------------

def test_create_then_noop():
    docker, rec, clock = make()
    first = rec.run(params())
    assert first["changed"] is True
    assert first["differences"] == [{"path": "state", "before": "absent", "after": "present"}]
    assert first["service"]["Spec"]["Name"] == "t_web"
    assert first["diff"]["before"] == {} and first["diff"]["after"]["networks"] == [{"name": "t_net", "aliases": ["web"]}]
    second = rec.run(params())
    assert second["changed"] is False and second["differences"] == []
    assert second["diff"]["before"] == second["diff"]["after"]
    assert [c[0] for c in docker.calls] == ["create_service"]


def test_check_mode_changes_nothing_and_does_not_wait():
    docker, rec, clock = make(check_mode=True)
    result = rec.run(params())
    assert result["changed"] is True and result["service"] is None
    assert docker.calls == [] and docker.svcs == {}

    docker2, rec2, dummy = make()
    rec2.run(params())
    rec2.check_mode = True
    docker2.calls, docker2.polls = [], {}
    result = rec2.run(params(replicas=3))
    assert result["changed"] is True
    assert result["differences"] == [{"path": "replicas", "before": 2, "after": 3}]
    assert docker2.calls == [] and docker2.polls == {}
    assert result["service"]["Spec"]["Mode"] == {"Replicated": {"Replicas": 2}}


def test_update_reports_only_the_change_and_keeps_force_update():
    docker, rec, clock = make()
    rec.run(params())
    sid = next(iter(docker.svcs))
    docker.svcs[sid]["Spec"]["TaskTemplate"]["ForceUpdate"] = 4   # someone ran `docker service update --force`
    result = rec.run(params(env={"A": "2"}))
    assert result["changed"] is True
    assert result["differences"] == [{"path": "env.A", "before": "1", "after": "2"}]
    assert docker.calls[-1] == ("update_service", "t_web", 10, 4)
    assert docker.svcs[sid]["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] == ["A=2"]


def test_removed_option_is_removed_from_the_service():
    docker, rec, clock = make()
    rec.run(params(healthcheck={"test": ["CMD", "true"], "interval": "1s"}))
    result = rec.run(params())
    assert [d["path"] for d in result["differences"]] == ["healthcheck"]
    sid = next(iter(docker.svcs))
    assert "Healthcheck" not in docker.svcs[sid]["Spec"]["TaskTemplate"]["ContainerSpec"]


def test_update_out_of_sequence_is_compared_again_and_retried_once():
    docker, rec, clock = make()
    rec.run(params())
    docker.conflicts = 1
    result = rec.run(params(replicas=3))
    assert result["changed"] is True
    assert [c[0] for c in docker.calls] == ["create_service", "update_service", "update_service"]
    assert docker.calls[-1][2] == 11   # the fresh version


def test_docker_warnings_are_passed_on():
    docker, rec, clock = make()
    rec.run(params())
    result = rec.run(params(labels={"warn": "yes"}))
    assert result["warnings"] == ["a warning"]


def test_missing_network_fails_before_any_change():
    docker, rec, clock = make()
    with pytest.raises(SpinError) as err:
        rec.run(params(networks=[{"name": "nope"}]))
    assert "network 'nope' does not exist" in err.value.message and "t_web" in err.value.message
    assert docker.calls == []


def test_check_mode_plans_a_network_an_earlier_task_would_create_and_says_so():
    docker, rec, clock = make(check_mode=True)
    result = rec.run(params(networks=[{"name": "made_by_an_earlier_task"}]))
    assert result["changed"] is True
    assert result["warnings"] == ["network 'made_by_an_earlier_task' does not exist yet; check mode assumes an "
                                  "earlier task creates it"]
    assert docker.calls == []


# ---- wait ------------------------------------------------------------------------------------

def test_wait_until_replicas_run():
    docker, rec, clock = make()
    docker.tasks_for = running_after(8)
    rec.run(params())
    assert docker.polls["sid1"] == 8
    assert clock.now == pytest.approx(8 * rec.poll_interval)


def test_noop_run_still_checks_the_tasks():
    docker, rec, clock = make()
    rec.run(params())
    docker.tasks_for = running_after(10 ** 6, state_before="starting")
    with pytest.raises(SpinError) as err:
        rec.run(params(wait_timeout=5))
    assert "not ready within 5s" in err.value.message
    assert err.value.details["changed"] is False


def test_wait_false_does_not_look_at_tasks():
    docker, rec, clock = make()
    result = rec.run(params(wait=False))
    assert result["changed"] is True and docker.polls == {}


def test_failing_image_fails_early_with_dockers_task_error():
    def tasks_for(svc, poll):
        failures = min(poll + 1, 4)
        return [task(svc, 1, "rejected", desired="shutdown", err="No such image: foo:latest",
                     ts="2026-01-01T00:00:0%d" % i, tid="t%d" % i) for i in range(failures)]
    docker, rec, clock = make()
    docker.tasks_for = tasks_for
    with pytest.raises(SpinError) as err:
        rec.run(params(image="foo", replicas=1))
    msg = err.value.message
    assert "service 't_web' does not start" in msg
    assert "task t_web.1 (t2) rejected: No such image: foo:latest (3 failed attempts)" in msg
    assert clock.now < 30
    assert err.value.details["changed"] is True and err.value.details["service"]["ID"] == "sid1"


def test_restart_condition_none_fails_on_the_first_failure():
    docker, rec, clock = make()
    docker.tasks_for = lambda svc, poll: [task(svc, 1, "failed", desired="shutdown", err="task: non-zero exit (1)")]
    with pytest.raises(SpinError) as err:
        rec.run(params(replicas=1, restart_policy={"condition": "none"}))
    assert "non-zero exit (1) (1 failed attempts)" in err.value.message
    assert clock.now == 0


def test_healthcheck_not_passing_times_out_with_progress():
    docker, rec, clock = make()
    docker.tasks_for = running_after(10 ** 6)
    with pytest.raises(SpinError) as err:
        rec.run(params(wait_timeout=5, healthcheck={"test": ["CMD", "false"], "interval": "1s"}))
    msg = err.value.message
    assert msg.startswith("service 't_web' was not ready within 5s: 0 of 2 task(s) running, 2 starting")
    assert "(healthcheck not passed yet)" in msg
    assert 5 <= clock.now < 5.5


def test_tasks_of_the_old_spec_keep_the_wait_going():
    docker, rec, clock = make()
    rec.run(params(replicas=1))
    old_template = copy.deepcopy(docker.svcs["sid1"]["Spec"]["TaskTemplate"])

    def tasks_for(svc, poll):
        new = [task(svc, 1, "running")]
        if poll < 4:   # start-first: the old task still runs next to the new one
            new.append(task(svc, 1, "running", template=old_template, tid="old"))
        return new
    docker.tasks_for = tasks_for
    docker.polls = {}
    rec.run(params(replicas=1, env={"A": "2"}))
    assert docker.polls["sid1"] == 4


def test_rolling_update_in_progress_keeps_the_wait_going():
    docker, rec, clock = make()
    rec.run(params())
    # read once by apply, then once per poll: ready at the fourth poll
    states = iter(["updating"] * 4 + ["completed"])
    inspect = docker.inspect_service

    def inspect_with_status(service_id):
        docker.svcs[service_id]["UpdateStatus"] = {"State": next(states, "completed")}
        return inspect(service_id)
    docker.inspect_service = inspect_with_status
    clock.now = 0
    rec.run(params(env={"A": "2"}))
    assert clock.now == pytest.approx(3 * rec.poll_interval)


def test_rollback_by_docker_is_an_error_naming_the_reason():
    docker, rec, clock = make()
    rec.run(params())

    def tasks_for(svc, poll):
        if poll == 1:   # Docker rolled the update back: the spec is the old one again
            svc["Spec"] = svc["PreviousSpec"]
            svc["UpdateStatus"] = {"State": "rollback_completed", "Message": "rollback completed"}
        return [task(svc, 1, "failed", desired="shutdown", err="task: non-zero exit (2)")] if poll == 0 \
            else running_after(0)(svc, poll)
    docker.tasks_for = tasks_for
    docker.polls = {}
    with pytest.raises(SpinError) as err:
        rec.run(params(env={"A": "broken"}))
    assert "Docker rolled back the update of service 't_web': rollback completed" in err.value.message


def test_paused_update_with_failures_is_an_error():
    docker, rec, clock = make()
    rec.run(params())

    def tasks_for(svc, poll):
        svc["UpdateStatus"] = {"State": "paused", "Message": "update paused due to failure or early termination"}
        return [task(svc, 1, "failed", desired="shutdown", err="task: non-zero exit (1)"), task(svc, 2, "running")]
    docker.tasks_for = tasks_for
    with pytest.raises(SpinError) as err:
        rec.run(params(env={"A": "2"}))
    assert "Docker paused the update of service 't_web': update paused due to failure" in err.value.message
    assert "non-zero exit (1)" in err.value.message


def test_global_service_is_ready_when_every_live_task_runs():
    docker, rec, clock = make()

    def tasks_for(svc, poll):
        return [task(svc, 0, "running"), task(svc, 0, "running" if poll >= 2 else "starting", tid="n2")]
    docker.tasks_for = tasks_for
    rec.run(params(mode="global"))
    assert docker.polls["sid1"] == 2


def test_absent_waits_until_the_tasks_are_gone():
    docker, rec, clock = make()
    rec.run(params())
    docker.leftover["t_web"] = [[{"ID": "a"}], [{"ID": "a"}], [{"ID": "a"}], []]
    result = rec.run(params(state="absent"))
    assert result["changed"] is True and result["service"] is None
    assert result["differences"] == [{"path": "state", "before": "present", "after": "absent"}]
    assert result["diff"]["after"] == {} and result["diff"]["before"]["image"] == "httpd"
    assert docker.leftover["t_web"] == [[]]
    assert clock.now == pytest.approx(3 * rec.poll_interval)
    again = rec.run(params(state="absent"))
    assert again["changed"] is False and [c[0] for c in docker.calls] == ["create_service", "remove_service"]


def test_stack_style_apply_all_then_wait_once_names_only_the_failing_service():
    docker, rec, clock = make()

    def tasks_for(svc, poll):
        if svc["Spec"]["Name"] == "t_bad":
            return [task(svc, 1, "rejected", desired="shutdown", err="No such image: bad:latest", tid="b%d" % i)
                    for i in range(3)]
        return running_after(2)(svc, poll)
    docker.tasks_for = tasks_for
    plans = [rec.plan(params()), rec.plan(params(name="t_bad", image="bad", replicas=1))]
    for plan in plans:
        rec.apply(plan)
    assert [c[0] for c in docker.calls] == ["create_service", "create_service"]
    with pytest.raises(WaitError) as err:
        rec.wait(plans)
    assert sorted(err.value.failures) == ["t_bad"]
    assert "No such image: bad:latest" in err.value.failures["t_bad"]
    assert docker.polls["sid1"] == 2


# ---- jobs and a failed container's own output ------------------------------------------------

def _with_status(t, container=True):
    if container:
        t["Status"]["ContainerStatus"] = {"ContainerID": "c" + t["ID"], "ExitCode": 1}
    return t


def test_a_failed_start_quotes_the_containers_last_output():
    docker, rec, clock = make()
    docker.tasks_for = lambda svc, poll: [_with_status(task(svc, 1, "failed", desired="shutdown",
                                                            err="task: non-zero exit (1)", tid="bad1"))]
    docker.logs["bad1"] = "\n".join(["starting", "line 2", "line 3", "line 4", "line 5",
                                     "[entrypoint] error: no root password is given: set MYSQL_ROOT_PASSWORD", ""])
    with pytest.raises(SpinError) as err:
        rec.run(params(replicas=1, restart_policy={"condition": "none"}))
    assert err.value.message.endswith(
        "task: non-zero exit (1) (1 failed attempts); the container's last output:\n    line 2\n    line 3\n"
        "    line 4\n    line 5\n    [entrypoint] error: no root password is given: set MYSQL_ROOT_PASSWORD"
        "; undone: removed service t_web")


def test_a_task_that_never_started_has_no_output_to_quote():
    docker, rec, clock = make()
    docker.tasks_for = lambda svc, poll: [task(svc, 1, "rejected", desired="shutdown", err="No such image: x",
                                               tid="never")]
    docker.logs["never"] = "must not be asked for"
    with pytest.raises(SpinError) as err:
        rec.run(params(replicas=1, restart_policy={"condition": "none"}))
    assert err.value.message.endswith("No such image: x (1 failed attempts); undone: removed service t_web")


def _job_tasks(states):
    def tasks_for(svc, poll):
        step = states[min(poll, len(states) - 1)]
        return [_with_status(task(svc, slot + 1, state, desired="complete", tid="job%d%s" % (slot, state)),
                             container=state != "pending")
                for slot, state in enumerate(step)]
    return tasks_for


@pytest.mark.parametrize("mode, replicas, states, polls", [
    ("replicated-job", 1, [["pending"], ["running"], ["complete"]], 3),
    ("replicated-job", 2, [["running", "running"], ["complete", "running"], ["complete", "complete"]], 3),
    ("global-job", None, [["running"], ["complete"]], 2),
])
def test_a_job_is_ready_when_its_tasks_completed(mode, replicas, states, polls):
    docker, rec, clock = make()
    docker.tasks_for = _job_tasks(states)
    result = rec.run(params(mode=mode, replicas=replicas, restart_policy={"condition": "none"}))
    assert result["changed"] is True
    assert docker.polls["sid1"] == polls - 1
    expected = ({"ReplicatedJob": {"MaxConcurrent": replicas, "TotalCompletions": replicas}} if replicas
                else {"GlobalJob": {}})
    assert docker.svcs["sid1"]["Spec"]["Mode"] == expected
    again = rec.run(params(mode=mode, replicas=replicas, restart_policy={"condition": "none"}))
    assert again["changed"] is False


def test_a_failed_job_ends_the_wait_with_its_error_and_output():
    docker, rec, clock = make()
    docker.tasks_for = _job_tasks([["running"], ["failed"]])
    docker.logs["job0failed"] = "migrating\nERROR: table users exists\n"
    with pytest.raises(SpinError) as err:
        rec.run(params(mode="replicated-job", replicas=1, restart_policy={"condition": "none"}))
    assert "service 't_web' does not start: task t_web.1 (job0failed) failed" in err.value.message
    assert err.value.message.endswith("the container's last output:\n    migrating\n    ERROR: table users exists"
                                      "; undone: removed service t_web")


def test_a_removed_jobs_completed_tasks_do_not_hold_up_the_removal():
    docker, rec, clock = make()
    docker.tasks_for = _job_tasks([["complete"]])
    rec.run(params(mode="replicated-job", replicas=1))
    svc = docker.find_service("t_web")
    docker.leftover["t_web"] = [[task(svc, 1, "complete", desired="complete")]]
    result = rec.run({"name": "t_web", "state": "absent", "wait_timeout": 30})
    assert result["changed"] is True and clock.now == 0


def test_a_scheduled_job_is_ready_at_once_and_its_runs_are_no_drift():
    """Idle between runs: nothing to wait for; the scheduler's one completion compares equal to none."""
    docker, rec, clock = make()
    docker.tasks_for = lambda svc, poll: []
    job = params(mode="replicated-job", replicas=1, labels={"spin.schedule": "@hourly"})
    result = rec.run(job)
    assert result["changed"] is True and clock.now == 0
    svc = docker.find_service("t_web")
    assert svc["Spec"]["Mode"] == {"ReplicatedJob": {"MaxConcurrent": 0, "TotalCompletions": 0}}
    docker.svcs[svc["ID"]]["Spec"]["Mode"] = {"ReplicatedJob": {"MaxConcurrent": 1, "TotalCompletions": 1}}  # a run
    assert rec.run(job)["changed"] is False


def test_a_removed_jobs_failed_runs_do_not_hold_up_the_removal():
    """A scheduled job's history is failed runs as often as completed ones: their containers stopped."""
    docker, rec, clock = make()
    docker.tasks_for = _job_tasks([["complete"]])
    rec.run(params(mode="replicated-job", replicas=1))
    svc = docker.find_service("t_web")
    docker.leftover["t_web"] = [[task(svc, 1, "failed", desired="complete", tid="f1"),
                                 task(svc, 1, "shutdown", desired="shutdown", tid="s1")]]
    result = rec.run({"name": "t_web", "state": "absent", "wait_timeout": 30})
    assert result["changed"] is True and clock.now == 0


def test_a_failed_task_of_a_service_still_holds_up_its_removal():
    docker, rec, clock = make()
    rec.run(params())
    svc = docker.find_service("t_web")
    docker.leftover["t_web"] = [[task(svc, 1, "failed", tid="f1")], []]
    rec.run(params(state="absent"))
    assert clock.now == pytest.approx(rec.poll_interval)


# ---- the monitor window: running means staying up ----------------------------------------------

EPOCH = 1800000000.0          # the fake wall clock at clock.now == 0 (2027-01-15T08:00:00Z)


def _ts(seconds):
    """Docker's timestamp for EPOCH + seconds."""
    import datetime
    when = datetime.datetime.fromtimestamp(EPOCH + seconds, datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + "%09dZ" % int(round((EPOCH + seconds) % 1 * 1e9))


def make_walled():
    docker, rec, clock = make()
    rec.wall = lambda: EPOCH + clock.now
    return docker, rec, clock


def test_a_new_task_counts_only_after_the_monitor_window():
    docker, rec, clock = make_walled()
    docker.tasks_for = lambda svc, poll: [task(svc, 1, "running", ts=_ts(0), tid="a")]
    rec.run(params(replicas=1, monitor_window=3))
    assert 3 <= clock.now < 3.2


def test_a_task_docker_started_long_ago_counts_at_once():
    docker, rec, clock = make_walled()
    docker.tasks_for = lambda svc, poll: [task(svc, 1, "running", ts=_ts(-3600), tid="old")]
    rec.run(params(replicas=1, monitor_window=5))
    assert clock.now == 0


def test_docker_time_ahead_of_ours_never_makes_the_window_longer():
    docker, rec, clock = make_walled()
    docker.tasks_for = lambda svc, poll: [task(svc, 1, "running", ts=_ts(+600), tid="skewed")]
    rec.run(params(replicas=1, monitor_window=2))
    assert 2 <= clock.now < 2.2


def _crash_loop(svc, poll):
    """Slot 1 runs for a moment, exits, is started again 5 s later: Docker's default restart delay."""
    crashes = min(poll // 50 + 1, 6)
    tasks = [task(svc, 1, "failed", desired="shutdown", err="task: non-zero exit (1)", ts=_ts(5 * i + 0.2),
                  tid="crash%d" % i) for i in range(crashes - 1)]
    tasks.append(task(svc, 1, "running", ts=_ts(5 * (crashes - 1)), tid="crash%d" % (crashes - 1)))
    if poll % 50 > 1:
        tasks[-1]["Status"].update(State="failed", Err="task: non-zero exit (1)")
    return [_with_status(t) for t in tasks]


def test_a_crash_loop_fails_with_the_last_output_and_the_created_service_is_removed():
    docker, rec, clock = make_walled()
    docker.tasks_for = _crash_loop
    docker.logs = {"crash2": "mysqld: Can't create/write to file '/var/lib/mysql/x'\n[ERROR] Aborting"}
    with pytest.raises(SpinError) as err:
        rec.run(params(replicas=1, entrypoint=["/bin/false"]))
    msg = err.value.message
    assert "service 't_web' does not start: task t_web.1 (crash2) failed: task: non-zero exit (1) " \
           "(3 failed attempts)" in msg
    assert "the container's last output:\n    mysqld: Can't create/write" in msg
    assert msg.endswith("[ERROR] Aborting; undone: removed service t_web")
    assert docker.svcs == {}
    assert [c[0] for c in docker.calls] == ["create_service", "remove_service"]


def test_a_crash_loop_on_update_puts_the_previous_spec_back():
    docker, rec, clock = make_walled()
    rec.run(params(replicas=1))
    sid = next(iter(docker.svcs))
    docker.tasks_for = _crash_loop
    with pytest.raises(SpinError) as err:
        rec.run(params(replicas=1, entrypoint=["/bin/false"]))
    assert err.value.message.endswith("; undone: restored the previous spec of service t_web")
    assert "Command" not in docker.svcs[sid]["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert [c[0] for c in docker.calls] == ["create_service", "update_service", "update_service"]


def test_a_clean_exit_counts_as_a_crash_and_is_final_without_restart_on_it():
    docker, rec, clock = make_walled()
    docker.tasks_for = lambda svc, poll: [task(svc, 1, "complete", desired="shutdown", ts=_ts(0), tid="done")]
    with pytest.raises(SpinError) as err:
        rec.run(params(replicas=1, restart_policy={"condition": "on-failure"}))
    assert "task t_web.1 (done) complete" in err.value.message and clock.now == 0


def test_a_timeout_quotes_the_last_output_too():
    docker, rec, clock = make_walled()

    def tasks_for(svc, poll):
        return [_with_status(task(svc, 1, "failed", desired="shutdown", err="task: non-zero exit (2)", ts=_ts(0),
                                  tid="f1")), task(svc, 1, "starting", ts=_ts(1), tid="s2")]
    docker.tasks_for = tasks_for
    docker.logs = {"f1": "config error on line 3"}
    with pytest.raises(SpinError) as err:
        rec.run(params(replicas=1, wait_timeout=2))
    assert "not ready within 2s" in err.value.message
    assert "the container's last output:\n    config error on line 3" in err.value.message


def test_negative_replicas_get_a_message_not_dockers_unmarshal_error():
    docker, rec, clock = make()
    with pytest.raises(SpinError) as err:
        rec.run(params(replicas=-2))
    assert err.value.message == ("service 't_web': key 'replicas': must be 0 or more, not -2 (0 stops every task "
                                 "and keeps the service)")
    assert docker.calls == []


@pytest.mark.parametrize("text, seconds", [
    ("2026-11-30T04:48:31Z", 1796014111.0),
    ("2026-11-30T04:48:31.123456789Z", 1796014111.123456789),
    ("2026-11-30T05:48:31.5+01:00", 1796014111.5),
    ("0001-01-01T00:00:00Z", -62135596800.0),
    ("yesterday", None),
    (None, None),
])
def test_parse_timestamp(text, seconds):
    from ansible_collections.spin.platform.plugins.module_utils.stack.reconcile import parse_timestamp
    assert parse_timestamp(text) == (pytest.approx(seconds, abs=1e-6) if seconds is not None else None)
