"""StackReconciler against a fake SwarmClient (tests/unit/fake_swarm.py, no Docker): what a plan
holds, the order apply works in, check mode, the undo of a failed run, and the retry of objects
that removed services' tasks still hold. The stack's input is the translator's output for a small
compose file, so the tasks have the shape spin_stack gets."""
import base64
import copy
import threading

import pytest

from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.stack.reconcile import ServiceReconciler
from ansible_collections.spin.platform.plugins.module_utils.stack.stack import (
    NEW_ID, ResourceAction, StackReconciler, stack_services_state)
from ansible_collections.spin.platform.tests.unit.fake_swarm import Clock, FakeSwarm, running_after, task

OWNER = {"spin.tenant": "demo", "spin.stack": "st", "com.docker.stack.namespace": "st"}
OTHER = {"spin.tenant": "demo", "spin.stack": "other", "com.docker.stack.namespace": "other"}

# web comes first in the file; depends_on makes db start first
COMPOSE = """
version: '3.8'
services:
  web:
    image: httpd
    depends_on: [db]
    networks: [back, front]
    configs: [{source: page, target: /usr/local/apache2/htdocs/index.html}]
  db:
    image: mysql
    environment: {MYSQL_ROOT_PASSWORD_FILE: /run/secrets/dbpass}
    networks: [back]
    volumes: [data:/var/lib/mysql]
    secrets: [dbpass]
networks:
  front: {}
  back: {internal: true}
volumes:
  data: {}
secrets:
  dbpass: {file: ./dbpass}
configs:
  page: {file: ./index.html}
"""
PAGE, PASSWORD = "<h1>hi</h1>\n", "s3cret\n"


def translated(page=PAGE):
    files = {"./index.html": page, "./dbpass": PASSWORD}
    model, diagnostics = compose.parse_stack(COMPOSE, "docker-compose.yml", read_file=files.__getitem__)
    assert not diag.has_errors(diagnostics), diagnostics
    return translate.stack_to_tasks(model, "demo", "st")


TASKS = translated()
SECRET, CONFIG = TASKS["secrets"][0]["name"], TASKS["configs"][0]["name"]
FIRST_DEPLOY = [("create_network", "st_front"), ("create_network", "st_back"), ("create_volume", "st_data"),
                ("create_secret", SECRET), ("create_config", CONFIG),
                ("create_service", "st_db"), ("create_service", "st_web")]


def tasks(**changes):
    out = copy.deepcopy(TASKS)
    out.update(copy.deepcopy(changes))
    return out


def service(params_list, name):
    return next(p for p in params_list if p["name"] == name)


def make(check_mode=False, docker=None, release_timeout=30):
    docker = docker or FakeSwarm()
    clock = Clock()
    services = ServiceReconciler(docker, check_mode=check_mode, clock=clock, sleep=clock.sleep)
    rec = StackReconciler(docker, check_mode=check_mode, services=services, release_timeout=release_timeout,
                          clock=clock, sleep=clock.sleep)
    return docker, rec, clock


def deployed(stack_tasks=None):
    """A fake engine with the stack deployed, and its call log and task polls emptied."""
    docker, rec, clock = make()
    rec.apply(rec.plan_present("demo", "st", stack_tasks or tasks()))
    docker.calls, docker.polls = [], {}
    return docker, rec, clock


def state(docker):
    """Everything the fake engine holds, to compare before and after."""
    return copy.deepcopy((docker.svcs, docker.nets, docker.vols, docker.secs, docker.cfgs))


def resources(items):
    return [(r.kind, r.name, r.action) for r in items]


def names(plans):
    return [(p.name, p.action) for p in plans]


def fails(service_name, err="No such image: httpd:0.0-missing"):
    """tasks_for: the named service's task is rejected (three times: the reconciler gives up), the others run."""
    def tasks_for(svc, poll):
        if svc["Spec"]["Name"] == service_name:
            return [task(svc, 1, "rejected", desired="shutdown", err=err, tid="bad%d" % i) for i in range(3)]
        return running_after(0)(svc, poll)
    return tasks_for


# ---- plan_present / apply --------------------------------------------------------------------

def test_first_deploy_creates_the_resources_then_the_services_in_start_order():
    docker, rec, clock = make()
    plan = rec.plan_present("demo", "st", tasks())
    assert resources(plan.resources) == [("network", "st_front", "create"), ("network", "st_back", "create"),
                                         ("volume", "st_data", "create"), ("secret", SECRET, "create"),
                                         ("config", CONFIG, "create")]
    assert names(plan.services) == [("st_db", "create"), ("st_web", "create")]
    assert plan.removals == [] and plan.stale == [] and plan.warnings == []
    assert plan.changed is True
    assert docker.calls == [], "planning changes nothing"
    # planned against objects that do not exist yet...
    assert {n["Target"] for n in plan.services[1].desired["TaskTemplate"]["Networks"]} == {NEW_ID}

    rec.apply(plan)
    assert docker.steps() == FIRST_DEPLOY
    # ...and planned again with their real IDs before the services are created
    web = docker.find_service("st_web")["Spec"]["TaskTemplate"]
    assert [n["Target"] for n in web["Networks"]] == [docker.nets["st_back"]["Id"], docker.nets["st_front"]["Id"]]
    assert web["ContainerSpec"]["Configs"][0]["ConfigID"] == docker.cfgs[CONFIG]["ID"]
    db = docker.find_service("st_db")["Spec"]["TaskTemplate"]["ContainerSpec"]
    assert db["Secrets"][0]["SecretID"] == docker.secs[SECRET]["ID"]
    assert db["Mounts"][0]["Source"] == "st_data"
    # the objects carry the translated settings and the stack's labels
    assert docker.nets["st_back"]["Internal"] is True and docker.nets["st_front"]["Internal"] is False
    assert docker.nets["st_back"]["Labels"] == OWNER and docker.vols["st_data"]["Labels"] == OWNER
    assert docker.stored_secret == PASSWORD.encode()
    assert base64.b64decode(docker.cfgs[CONFIG]["Spec"]["Data"]) == PAGE.encode()
    # apply waited for the services' tasks
    assert sorted(docker.polls) == ["sid1", "sid2"]


def test_the_same_tasks_again_plan_nothing_and_change_nothing():
    docker, rec, clock = deployed()
    before = state(docker)
    plan = rec.plan_present("demo", "st", tasks())
    assert {r.action for r in plan.resources} == {"none"} and len(plan.resources) == 5
    assert names(plan.services) == [("st_db", "none"), ("st_web", "none")]
    assert plan.removals == [] and plan.stale == [] and plan.warnings == []
    assert plan.changed is False
    rec.apply(plan)
    assert docker.calls == [] and state(docker) == before


def drop_web(t):
    t["services"] = [s for s in t["services"] if s["name"] != "st_web"]


def drop_web_and_what_only_it_used(t):
    drop_web(t)
    t["configs"] = []
    t["networks"] = [n for n in t["networks"] if n["name"] != "st_front"]


def drop_the_volume(t):
    t["volumes"] = []
    service(t["services"], "st_db")["mounts"] = []


@pytest.mark.parametrize("change, removals, stale, steps, warnings", [
    (drop_web, [("st_web", "remove")], [], [("remove_service", "st_web")], []),
    (drop_web_and_what_only_it_used, [("st_web", "remove")],
     [("config", CONFIG, "remove"), ("network", "st_front", "remove")],
     [("remove_service", "st_web"), ("remove_config", CONFIG), ("remove_network", "st_front")], []),
    # a volume holds data: it is never removed by a deploy, only by state: absent with remove_volumes
    (drop_the_volume, [], [], [("update_service", "st_db")],
     ["volume 'st_data' is no longer declared; it is kept with its data (remove the stack with remove_volumes: "
      "true to delete it)"]),
], ids=["service", "service-and-its-config-and-network", "volume"])
def test_what_the_stack_no_longer_declares_goes_after_the_services(change, removals, stale, steps, warnings):
    docker, rec, clock = deployed()
    # the removed service's tasks take three polls to go: its network is in use until then
    docker.leftover["st_web"] = [[{"ID": "t1"}], [{"ID": "t1"}], [{"ID": "t1"}], []]
    wanted = tasks()
    change(wanted)
    plan = rec.plan_present("demo", "st", wanted)
    assert names(plan.removals) == removals
    assert resources(plan.stale) == stale
    assert plan.warnings == warnings
    assert plan.changed is True
    rec.apply(plan)
    assert docker.steps() == steps
    assert plan.warnings == warnings, "nothing was left for a later run"
    assert [r.note for r in plan.stale] == [None] * len(stale)
    assert sorted(docker.nets) == sorted(n["name"] for n in wanted["networks"])
    assert sorted(docker.cfgs) == sorted(c["name"] for c in wanted["configs"])
    assert "st_data" in docker.vols
    assert rec.plan_present("demo", "st", wanted).changed is False


def test_services_and_objects_belong_to_the_stack_by_label_not_by_name():
    docker, rec, clock = deployed()
    model = compose.parse_stack("version: '3.8'\nservices:\n  app:\n    image: httpd\n", "docker-compose.yml")[0]
    other = make(docker=docker)[1]
    other.apply(other.plan_present("demo", "other", translate.stack_to_tasks(model, "demo", "other")))
    docker.create_network("st_lookalike")                       # the stack's name prefix, but no labels
    docker.create_secret("st_lookalike", b"x", labels=OTHER)    # another stack's
    docker.create_network("renamed", labels=OWNER)              # the stack's, whatever its name
    docker.calls = []
    plan = rec.plan_present("demo", "st", tasks())
    assert plan.removals == []
    assert resources(plan.stale) == [("network", "renamed", "remove")]
    rec.apply(rec.plan_absent("demo", "st", remove_volumes=True))
    assert sorted(docker.nets) == ["other_default", "st_lookalike"]
    assert sorted(docker.secs) == ["st_lookalike"]
    assert [s["Spec"]["Name"] for s in docker.svcs.values()] == ["other_app"]


NETWORK_CHANGES = [
    ({"Internal": False}, "internal: False -> True"),
    ({"Driver": "bridge"}, "driver: bridge -> overlay"),
    ({"Attachable": True}, "attachable: True -> False"),
    ({"Labels": {"spin.stack": "st"}}, "labels: {'spin.stack': 'st'} -> {'spin.tenant': 'demo', 'spin.stack': 'st', "
                                       "'com.docker.stack.namespace': 'st'}"),
]


@pytest.mark.parametrize("actual, change", NETWORK_CHANGES, ids=[c[1].split(":")[0] for c in NETWORK_CHANGES])
def test_a_network_with_other_settings_stops_the_plan_before_anything_is_done(actual, change):
    docker, rec, clock = make()
    docker.create_network("st_back", internal=True, labels=OWNER)
    docker.nets["st_back"].update(actual)
    docker.calls = []
    with pytest.raises(SpinError) as err:
        rec.plan_present("demo", "st", tasks())
    assert err.value.message == (
        "network 'st_back' exists with other settings (%s); Swarm cannot change a network in place. Remove the "
        "stack (state: absent) and deploy it again, or keep the network's settings as they are" % change)
    assert docker.calls == [] and list(docker.nets) == ["st_back"], "st_front (planned first) was not created"


def test_driver_options_are_compared_only_where_asked_for():
    docker, rec, clock = make()
    wanted = tasks()
    wanted["networks"][1]["driver_opts"] = {"encrypted": ""}
    docker.create_network("st_back", internal=True, labels=OWNER)   # Docker added its VXLAN option, not this one
    with pytest.raises(SpinError) as err:
        rec.plan_present("demo", "st", wanted)
    assert "(options: {} -> {'encrypted': ''})" in err.value.message
    docker.nets["st_back"]["Options"]["encrypted"] = ""
    assert resources(rec.plan_present("demo", "st", wanted).resources)[1] == ("network", "st_back", "none")


# ---- plan_absent -----------------------------------------------------------------------------

@pytest.mark.parametrize("remove_volumes", [False, True])
def test_absent_removes_the_services_then_their_objects(remove_volumes):
    docker, rec, clock = deployed()
    docker.leftover["st_db"] = [[{"ID": "t1"}], [{"ID": "t1"}], []]   # holds st_back and st_data meanwhile
    plan = rec.plan_absent("demo", "st", remove_volumes=remove_volumes)
    assert names(plan.removals) == [("st_db", "remove"), ("st_web", "remove")]
    assert plan.services == [] and plan.resources == []
    volume = [("volume", "st_data", "remove")] if remove_volumes else []
    assert resources(plan.stale) == [("secret", SECRET, "remove"), ("config", CONFIG, "remove"),
                                     ("network", "st_front", "remove"), ("network", "st_back", "remove")] + volume
    assert plan.warnings == ([] if remove_volumes else [
        "kept the stack's volumes st_data (their data stays); remove them with remove_volumes: true"])
    rec.apply(plan)
    assert docker.steps() == [("remove_service", "st_db"), ("remove_service", "st_web"), ("remove_secret", SECRET),
                              ("remove_config", CONFIG), ("remove_network", "st_front"),
                              ("remove_network", "st_back")] + [("remove_volume", "st_data")] * remove_volumes
    assert docker.leftover["st_db"] == [[]], "the wait saw the tasks go"
    assert (docker.svcs, docker.nets, docker.secs, docker.cfgs) == ({}, {}, {}, {})
    assert list(docker.vols) == ([] if remove_volumes else ["st_data"])
    again = rec.plan_absent("demo", "st", remove_volumes=remove_volumes)
    assert again.changed is False and again.actions() == []


# ---- check mode ------------------------------------------------------------------------------

def first_deploy(rec):
    return rec.plan_present("demo", "st", tasks())


def update_and_prune(rec):
    wanted = tasks()
    drop_web_and_what_only_it_used(wanted)
    service(wanted["services"], "st_db")["replicas"] = 3
    return rec.plan_present("demo", "st", wanted)


def absent(rec):
    return rec.plan_absent("demo", "st", remove_volumes=True)


@pytest.mark.parametrize("deploy_first, planner, expected", [
    (False, first_deploy, FIRST_DEPLOY),
    (True, update_and_prune, [("update_service", "st_db"), ("remove_service", "st_web"), ("remove_config", CONFIG),
                              ("remove_network", "st_front")]),
    (True, absent, [("remove_service", "st_db"), ("remove_service", "st_web"), ("remove_secret", SECRET),
                    ("remove_config", CONFIG), ("remove_network", "st_front"), ("remove_network", "st_back"),
                    ("remove_volume", "st_data")]),
], ids=["first-deploy", "update-and-prune", "absent"])
def test_check_mode_calls_nothing_that_changes_docker(deploy_first, planner, expected):
    docker = deployed()[0] if deploy_first else FakeSwarm()
    before = state(docker)
    docker, rec, clock = make(check_mode=True, docker=docker)
    hooked = []
    plan = planner(rec)
    assert rec.apply(plan, alongside=lambda: hooked.append(True)) is plan
    assert docker.calls == [] and state(docker) == before and docker.polls == {} and clock.now == 0
    assert hooked == [True], "alongside runs in check mode too (it checks, it does not change)"
    assert plan.changed is True and plan.warnings == []
    # the same plan outside check mode makes exactly the calls check mode reported
    real = make(docker=docker)[1]
    real.apply(planner(real))
    assert docker.steps() == expected
    assert [(a["kind"], a["name"], a["action"]) for a in plan.actions() if a["action"] != "none"] == [
        (kind.split("_")[1], name, kind.split("_")[0]) for kind, name in expected]


def test_alongside_runs_while_the_services_are_created_and_start():
    """spin_stack's edge update overlaps the deploy: it is under way while apply polls the services'
    tasks (not before the services exist, not after they are ready), and apply returns after it."""
    docker, rec, clock = make()
    active, polled, seen, done = threading.Event(), threading.Event(), [], []
    started = running_after(0)

    def tasks_for(svc, poll):
        seen.append(active.wait(10))  # bounded: a work that never starts fails the test, never hangs it
        polled.set()
        return started(svc, poll)

    docker.tasks_for = tasks_for

    def edge():
        active.set()
        assert polled.wait(10)
        done.append(True)

    rec.apply(rec.plan_present("demo", "st", tasks()), alongside=edge)
    assert done == [True], "apply returned before the work beside it ended"
    assert seen and seen[0] is True, "the services were polled before the work beside them began"
    assert docker.steps() == FIRST_DEPLOY


def test_a_failure_beside_the_deploy_is_raised_after_the_wait_and_undoes_the_run():
    docker, rec, clock = make()

    def edge():
        raise KeyError("boom")

    with pytest.raises(SpinError) as err:
        rec.apply(rec.plan_present("demo", "st", tasks()), alongside=edge)
    assert err.value.message.startswith("KeyError: 'boom'; undone: removed service st_web, removed service st_db")
    assert state(docker) == ({}, {}, {}, {}, {})


# ---- undo ------------------------------------------------------------------------------------

class HookFailed(object):
    """alongside that fails, like spin_stack's check of the candidate HAProxy config."""
    message = "the edge's candidate configuration does not load: 'st_web' has no server"

    def __call__(self):
        raise SpinError(self.message)


def fail_by(how, docker, service_name):
    """-> (alongside, the start of the error message, its failures)."""
    if how == "alongside":
        return HookFailed(), HookFailed.message + "; undone: ", None
    docker.tasks_for = fails(service_name)
    return None, "service '%s' does not start: task %s.1 (bad2) rejected: No such image: httpd:0.0-missing (3 " \
                 "failed attempts); undone: " % (service_name, service_name), [service_name]


@pytest.mark.parametrize("how", ["wait", "alongside"])
def test_a_failed_first_deploy_is_undone(how):
    docker, rec, clock = make()
    alongside, message, failures = fail_by(how, docker, "st_web")
    # the removed services' tasks hold the networks and the volume for a few polls
    docker.leftover["st_db"] = [[{"ID": "t1"}]] * 3 + [[]]
    docker.leftover["st_web"] = [[{"ID": "t2"}]] * 2 + [[]]
    plan = rec.plan_present("demo", "st", tasks())
    with pytest.raises(SpinError) as err:
        rec.apply(plan, alongside=alongside)
    assert err.value.message == message + (
        "removed service st_web, removed service st_db, removed config %s, removed secret %s, removed volume "
        "st_data, removed network st_back, removed network st_front" % (CONFIG, SECRET))
    assert docker.steps() == FIRST_DEPLOY + [
        ("remove_service", "st_web"), ("remove_service", "st_db"), ("remove_config", CONFIG),
        ("remove_secret", SECRET), ("remove_volume", "st_data"), ("remove_network", "st_back"),
        ("remove_network", "st_front")]
    assert docker.leftover["st_db"] == [[]] and docker.leftover["st_web"] == [[]], \
        "the networks and the volume went once the tasks were gone"
    assert state(docker) == ({}, {}, {}, {}, {})
    assert sorted(err.value.details["failures"] or []) == (failures or [])
    assert err.value.details["actions"] == plan.actions()


def update_with_a_new_network_and_service():
    wanted = tasks()
    extra = dict(copy.deepcopy(wanted["networks"][0]), name="st_extra")
    wanted["networks"].append(extra)
    web = service(wanted["services"], "st_web")
    web["env"] = {"GREETING": "hello"}
    web["networks"].append({"name": "st_extra", "aliases": ["web"]})
    cache = dict(copy.deepcopy(service(wanted["services"], "st_db")), name="st_cache", image="redis", mounts=[],
                 secrets=[], networks=[{"name": "st_extra", "aliases": ["cache"]}])
    wanted["services"].insert(1, cache)
    return wanted


@pytest.mark.parametrize("how", ["wait", "alongside"])
def test_a_failed_update_puts_back_what_was_there(how):
    docker, rec, clock = deployed()
    before = state(docker)
    alongside, message, failures = fail_by(how, docker, "st_web")
    plan = rec.plan_present("demo", "st", update_with_a_new_network_and_service())
    assert names(plan.services) == [("st_db", "none"), ("st_cache", "create"), ("st_web", "update")]
    with pytest.raises(SpinError) as err:
        rec.apply(plan, alongside=alongside)
    assert err.value.message == message + (
        "restored the previous spec of service st_web, removed service st_cache, removed network st_extra")
    assert docker.steps() == [("create_network", "st_extra"), ("create_service", "st_cache"),
                              ("update_service", "st_web"), ("update_service", "st_web"),
                              ("remove_service", "st_cache"), ("remove_network", "st_extra")]
    svcs, rest = state(docker)[0], state(docker)[1:]
    assert rest == before[1:], "the objects the stack had are kept; the new network is gone"
    web = next(s for s in svcs.values() if s["Spec"]["Name"] == "st_web")
    old_web = next(s for s in before[0].values() if s["Spec"]["Name"] == "st_web")
    assert web["Spec"] == old_web["Spec"] and web["Version"]["Index"] == old_web["Version"]["Index"] + 2
    assert sorted(s["Spec"]["Name"] for s in svcs.values()) == ["st_db", "st_web"]


def test_a_network_the_restored_service_still_holds_is_asked_for_again():
    """After an update is undone, the tasks of the failed spec stop while Docker rolls back: until then
    Docker refuses to remove a network they are on ("in use by task")."""
    docker, rec, clock = deployed()
    in_use = SpinError("Docker at unix:///var/run/docker.sock refused to remove network net9: rpc error: code = "
                       "FailedPrecondition desc = network net9 is in use by task abc")
    docker.faults["remove_network"] = [in_use, in_use, None]
    with pytest.raises(SpinError) as err:
        rec.apply(rec.plan_present("demo", "st", update_with_a_new_network_and_service()), alongside=HookFailed())
    assert err.value.message.endswith("removed service st_cache, removed network st_extra")
    assert "could not undo" not in err.value.message
    assert docker.steps()[-3:] == [("remove_network", "st_extra")] * 3
    assert clock.now == 1.0 and "st_extra" not in docker.nets


def test_a_resource_that_cannot_be_created_undoes_the_ones_before_it():
    docker, rec, clock = make()
    refused = "Docker at unix:///var/run/docker.sock refused to create secret '%s': secret limit reached" % SECRET
    docker.faults["create_secret"] = [SpinError(refused)]
    with pytest.raises(SpinError) as err:
        rec.apply(rec.plan_present("demo", "st", tasks()))
    assert err.value.message == refused + "; undone: removed volume st_data, removed network st_back, removed " \
                                          "network st_front"
    assert docker.steps() == FIRST_DEPLOY[:4] + [("remove_volume", "st_data"), ("remove_network", "st_back"),
                                                 ("remove_network", "st_front")]
    assert state(docker) == ({}, {}, {}, {}, {})


def test_what_cannot_be_undone_is_named_and_the_rest_is_undone():
    docker, rec, clock = make()
    refused = SpinError("Docker at unix:///var/run/docker.sock refused to remove volume 'st_data': permission denied")
    docker.faults["remove_volume"] = [refused]
    with pytest.raises(SpinError) as err:
        rec.apply(rec.plan_present("demo", "st", tasks()), alongside=HookFailed())
    assert err.value.message == (
        HookFailed.message + "; undone: removed service st_web, removed service st_db, removed config %s, removed "
        "secret %s, removed network st_back, removed network st_front; could not undo: %s"
        % (CONFIG, SECRET, refused.message))
    assert list(docker.vols) == ["st_data"] and (docker.svcs, docker.nets) == ({}, {})


# ---- objects that removed services' tasks still hold -----------------------------------------

def in_use(times):
    return [SpinError("Docker at unix:///var/run/docker.sock refused to remove volume 'st_data': remove st_data: "
                      "volume is in use - [abc]")] * times + [None]


ACTIVE_ENDPOINTS = SpinError("Docker at unix:///var/run/docker.sock refused to remove network st_back: error while "
                             "removing network: network st_back id net2 has active endpoints")
DENIED = SpinError("Docker at unix:///var/run/docker.sock refused to remove volume 'st_data': permission denied")


@pytest.mark.parametrize("kind, faults, services_removed, attempts, now, error", [
    ("volume", in_use(3), True, 4, 1.5, None),
    ("network", [ACTIVE_ENDPOINTS, None], True, 2, 0.5, None),
    # release_timeout is 2: asked at 0, 0.5, ... 2.0, then given up with Docker's answer
    ("volume", in_use(100), True, 5, 2.0, "volume is in use"),
    ("volume", [DENIED], True, 1, 0, "permission denied"),
    # nothing was removed in this run, so nothing is about to let go of it
    ("volume", in_use(1), False, 1, 0, "volume is in use"),
], ids=["in-use-then-released", "active-endpoints", "still-in-use-after-the-timeout", "other-error", "no-removals"])
def test_remove_when_released(kind, faults, services_removed, attempts, now, error):
    docker, rec, clock = make(release_timeout=2)
    name = {"volume": "st_data", "network": "st_back"}[kind]
    object_id = docker.create_volume(name)["Name"] if kind == "volume" else docker.create_network(name)
    docker.calls = []
    docker.faults["remove_" + kind] = list(faults)
    res = ResourceAction(kind, name, "remove", actual_id=object_id)
    if error:
        with pytest.raises(SpinError) as err:
            rec._remove_when_released(res, ["a removed service"] if services_removed else [])
        assert error in err.value.message
    else:
        rec._remove_when_released(res, ["a removed service"] if services_removed else [])
        assert name not in (docker.vols if kind == "volume" else docker.nets)
    assert docker.steps() == [("remove_" + kind, name)] * attempts
    assert clock.now == now


def test_an_object_still_in_use_after_the_timeout_is_left_for_a_later_run():
    docker, rec, clock = deployed()
    docker, rec, clock = make(docker=docker, release_timeout=2)
    docker.faults["remove_volume"] = in_use(100)
    plan = rec.plan_absent("demo", "st", remove_volumes=True)
    rec.apply(plan)
    assert plan.warnings == ["could not remove volume 'st_data' yet: Docker at unix:///var/run/docker.sock refused "
                             "to remove volume 'st_data': remove st_data: volume is in use - [abc]"]
    assert plan.actions()[-1] == {"kind": "volume", "name": "st_data", "action": "remove",
                                  "note": "left for a later run"}
    assert list(docker.vols) == ["st_data"] and docker.nets == {}, "the rest was removed"


# ---- what the module reports -----------------------------------------------------------------

def test_actions_summary_and_diff():
    old = tasks()
    old["services"].append(dict(copy.deepcopy(service(old["services"], "st_db")), name="st_old", mounts=[],
                                secrets=[]))
    docker, rec, clock = deployed(old)
    wanted = translated(page="<h1>new</h1>\n")      # new content, so a new config name
    new_config = wanted["configs"][0]["name"]
    wanted["networks"].append(dict(copy.deepcopy(wanted["networks"][0]), name="st_extra"))
    cache = dict(copy.deepcopy(service(wanted["services"], "st_db")), name="st_cache", image="redis", mounts=[],
                 secrets=[], networks=[{"name": "st_extra", "aliases": ["cache"]}])
    wanted["services"].append(cache)
    service(wanted["services"], "st_web")["replicas"] = 3
    plan = rec.plan_present("demo", "st", wanted)

    actions = plan.actions()
    web_update = actions[2]
    assert sorted(d["path"] for d in web_update.pop("differences")) == ["configs", "replicas"]
    assert actions == [
        {"kind": "network", "name": "st_extra", "action": "create"},
        {"kind": "config", "name": new_config, "action": "create"},
        {"kind": "service", "name": "st_web", "action": "update"},
        {"kind": "service", "name": "st_cache", "action": "create"},
        {"kind": "service", "name": "st_old", "action": "remove"},
        {"kind": "config", "name": CONFIG, "action": "remove"},
    ]
    assert plan.summary() == {"services_created": ["st_cache"], "services_updated": ["st_web"],
                              "services_removed": ["st_old"], "services_unchanged": ["st_db"]}

    diff = plan.diff()
    assert sorted(diff["before"]) == sorted(["service st_db", "service st_web", "service st_old", "network st_front",
                                             "network st_back", "volume st_data", "secret " + SECRET,
                                             "config " + CONFIG])
    assert sorted(diff["after"]) == sorted(["service st_db", "service st_web", "service st_cache", "network st_front",
                                            "network st_back", "network st_extra", "volume st_data",
                                            "secret " + SECRET, "config " + new_config])
    assert {diff["before"]["config " + CONFIG], diff["after"]["network st_extra"]} == {"exists"}
    assert diff["before"]["service st_web"]["replicas"] == 1 and diff["after"]["service st_web"]["replicas"] == 3
    assert diff["before"]["service st_db"] == diff["after"]["service st_db"]
    assert diff["after"]["service st_cache"]["image"] == "redis"

    rec.apply(plan)
    assert [d for d in docker.steps() if d[0].startswith("remove")] == [("remove_service", "st_old"),
                                                                        ("remove_config", CONFIG)]
    assert stack_services_state(docker, "st")["st_web"]["replicas"] == 3


def test_stack_services_state():
    docker, rec, clock = deployed()
    everywhere = dict(copy.deepcopy(service(TASKS["services"], "st_web")), name="st_agent", mode="global",
                      replicas=None, configs=[])
    rec.apply(rec.plan_present("demo", "st", tasks(services=TASKS["services"] + [everywhere])))
    rec.apply(rec.plan_present("demo", "st", tasks(services=TASKS["services"][:1] + [
        dict(copy.deepcopy(TASKS["services"][1]), replicas=2), everywhere])))
    docker.create_network("other_net", labels=OTHER)
    ids = {s["Spec"]["Name"]: s["ID"] for s in docker.svcs.values()}
    assert stack_services_state(docker, "st") == {
        "st_db": {"id": ids["st_db"], "version": 10, "image": "mysql", "replicas": 1},
        "st_web": {"id": ids["st_web"], "version": 11, "image": "httpd", "replicas": 2},
        "st_agent": {"id": ids["st_agent"], "version": 10, "image": "httpd", "replicas": "global"},
    }
    assert stack_services_state(docker, "other") == {}


# ---- depends_on conditions: start only once the dependency is ready ---------------------------

def _conditional_tasks():
    text = """
services:
  web:
    image: httpd
    depends_on:
      db: {condition: service_healthy}
      migrate: {condition: service_completed_successfully}
  migrate:
    image: httpd
    command: [sh, -c, 'exit 0']
    depends_on: [db]
  db:
    image: mysql
    environment: {MYSQL_ROOT_PASSWORD: x}
"""
    model, diagnostics = compose.parse_stack(text, "docker-compose.yml")
    assert not diag.has_errors(diagnostics), diagnostics
    return translate.stack_to_tasks(model, "demo", "st")


def test_a_service_starts_only_once_what_it_waits_for_is_ready():
    docker, rec, clock = make()
    events = []
    create = docker.create_service

    def logged_create(spec):
        events.append(("create", spec["Name"]))
        return create(spec)
    docker.create_service = logged_create

    def tasks_for(svc, poll):
        name = svc["Spec"]["Name"]
        if name == "st_migrate":
            state = "complete" if poll >= 2 else "running"
            events.append(("poll", name, state))
            return [task(svc, 1, state, desired="complete")]
        state = "running" if poll >= 3 else "starting"
        events.append(("poll", name, state))
        return [task(svc, 1, state)]
    docker.tasks_for = tasks_for
    stack_tasks = _conditional_tasks()
    assert stack_tasks["wait_for"] == {"st_web": ["st_db", "st_migrate"]}
    plan = rec.plan_present("demo", "st", stack_tasks)
    assert names(plan.services) == [("st_db", "create"), ("st_migrate", "create"), ("st_web", "create")]
    rec.apply(plan)
    web_created = events.index(("create", "st_web"))
    assert ("poll", "st_db", "running") in events[:web_created]
    assert ("poll", "st_migrate", "complete") in events[:web_created]
    # migrate only orders its start after db (service_started): it does not wait for db to run
    assert events.index(("create", "st_migrate")) < events.index(("poll", "st_db", "running"))


def test_an_unchanged_service_does_not_wait_for_its_dependencies_again():
    stack_tasks = _conditional_tasks()
    docker, rec, clock = make()
    docker.tasks_for = lambda svc, poll: ([task(svc, 1, "complete", desired="complete")]
                                          if svc["Spec"]["Name"] == "st_migrate" else [task(svc, 1, "running")])
    rec.apply(rec.plan_present("demo", "st", stack_tasks))
    docker.calls, docker.polls = [], {}
    plan = rec.plan_present("demo", "st", stack_tasks)
    assert not plan.changed
    rec.apply(plan)
    assert docker.calls == []
    # the final wait still looks at every service once, the gate adds no polls of its own
    assert docker.polls == {sid: 0 for sid in docker.svcs}


# ---- a generated root password: made once, kept by every later deploy ---------------------------

def test_a_generated_password_is_made_once_and_kept():
    model = compose.parse_stack("services:\n  db:\n    image: mysql\n", "docker-compose.yml")[0]
    stack_tasks = translate.stack_to_tasks(model, "demo", "st")
    docker, rec, clock = make()
    rec.apply(rec.plan_present("demo", "st", stack_tasks))
    secret = copy.deepcopy(docker.secs["st_db_root_password"])
    data = docker.stored_secret
    assert len(data) == 32 and set(data.decode()) <= set(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
    # random, not derived from anything a tenant could know: another deploy from scratch gets another one
    docker2, rec2 = make()[:2]
    rec2.apply(rec2.plan_present("demo", "st", stack_tasks))
    assert docker2.stored_secret != data
    assert secret["Spec"]["Labels"]["spin.generated"] == "MYSQL_ROOT_PASSWORD_FILE"
    env = docker.find_service("st_db")["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"]
    assert "MYSQL_ROOT_PASSWORD_FILE=/run/secrets/db_root_password" in env
    docker.calls = []
    again = rec.plan_present("demo", "st", translate.stack_to_tasks(model, "demo", "st"))
    assert not again.changed
    rec.apply(again)
    assert docker.calls == [] and docker.secs["st_db_root_password"] == secret
    # another deploy (another controller, a day later) makes no new password either
    other = make(docker=docker)[1]
    assert not other.plan_present("demo", "st", translate.stack_to_tasks(model, "demo", "st")).changed


@pytest.mark.parametrize("remove_volumes", [False, True])
def test_a_generated_root_password_stays_with_the_kept_volumes(remove_volumes):
    """Removed without its volumes, a database keeps its data; the password that data was made with must stay
    too, or a later deploy makes a new one that the kept database does not know (seen on the seed: root login
    denied after remove.yml and a deploy)."""
    docker, rec, clock = deployed()
    docker.create_secret("st_db_root_password", b"x" * 32,
                         labels=dict(OWNER, **{"spin.generated": "MYSQL_ROOT_PASSWORD_FILE", "spin.service": "db"}))
    plan = rec.plan_absent("demo", "st", remove_volumes=remove_volumes)
    removed = [r[1] for r in resources(plan.stale) if r[0] == "secret"]
    assert ("st_db_root_password" in removed) is remove_volumes
    assert SECRET in removed
    kept = "kept the generated secret 'st_db_root_password' with the stack's volumes (the kept data was made with " \
           "it); remove_volumes: true removes both"
    assert (kept in plan.warnings) is not remove_volumes
