"""local_data: named volumes for anonymous paths, placement by data, migration (no Docker)."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.stack import local_data
from ansible_collections.spin.platform.plugins.module_utils.stack.reconcile import ServiceReconciler
from ansible_collections.spin.platform.plugins.module_utils.stack.stack import StackReconciler
from ansible_collections.spin.platform.tests.unit.fake_swarm import FakeSwarm

OWNER = {"spin.tenant": "demo", "spin.stack": "seed", "com.docker.stack.namespace": "seed"}


def service(name="seed_db", image="mysql", mounts=None, replicas=1, mode="replicated", constraints=None):
    return {"name": name, "image": image, "mode": mode, "replicas": replicas if mode == "replicated" else None,
            "labels": dict(OWNER, **{"spin.service": name.split("_", 1)[1]}), "mounts": mounts or [],
            "placement": {"constraints": list(constraints or []), "preferences": [], "max_replicas": None}
            if constraints else None, "networks": [], "env": {}}


def mount(target, source=None, **extra):
    return dict({"type": "volume", "source": source, "target": target, "readonly": False, "volume_driver": None,
                 "volume_options": None, "volume_labels": None, "tmpfs_size": None, "tmpfs_mode": None}, **extra)


@pytest.mark.parametrize("path, expected", [("/var/lib/mysql", "var-lib-mysql"), ("/data/", "data"),
                                            ("/srv/my data:x", "srv-my-data-x"), ("/", "root")])
def test_slug(path, expected):
    assert local_data.slug(path) == expected


def test_the_images_volumes_that_no_mount_covers_and_the_composes_anonymous_ones():
    params = service(mounts=[mount("/etc/mysql/conf.d", "seed_conf"), mount("/scratch"),
                             mount("/var/log/", "seed_logs")])
    assert local_data.anonymous_paths(params, ["/var/lib/mysql", "/var/log"]) == ["/scratch", "/var/lib/mysql"]


def test_each_anonymous_path_gets_a_named_volume_per_replica():
    params = service(mounts=[mount("/scratch")])
    added = local_data.name_anonymous_volumes(params, ["/var/lib/mysql"], OWNER)
    assert [a["source"] for a in added] == ["seed_db_scratch.{{.Task.Slot}}", "seed_db_var-lib-mysql.{{.Task.Slot}}"]
    labels = dict(OWNER, **{"spin.service": "db", "spin.image-volume": "/var/lib/mysql"})
    assert params["mounts"][-1] == mount("/var/lib/mysql", "seed_db_var-lib-mysql.{{.Task.Slot}}",
                                         volume_driver="local", volume_labels=labels, volume_nocopy=False)
    assert [m["target"] for m in params["mounts"]] == ["/scratch", "/var/lib/mysql"]   # /scratch replaced, once
    glob = service(mode="global")
    assert local_data.name_anonymous_volumes(glob, ["/data"], OWNER)[0]["source"] == "seed_db_data"


@pytest.mark.parametrize("m, declared, local", [
    (mount("/d", "seed_data"), None, True),
    (mount("/d", "seed_data", volume_driver="local"), {"driver": "local", "driver_opts": {}}, True),
    (mount("/d", "seed_data", volume_driver="local", volume_options={"type": "nfs", "o": "addr=10.0.0.1"}), None,
     False),
    (mount("/d", "seed_data"), {"driver": "local", "driver_opts": {"type": "cifs"}}, False),
    (mount("/d", "seed_data", volume_driver="local", volume_options={"type": "tmpfs", "device": "tmpfs"}), None,
     False),
    (mount("/d", "seed_data", volume_driver="rexray"), None, False),
    (mount("/d", "/global/proj", type="bind"), None, False),
    (mount("/d"), None, False),
])
def test_is_node_local(m, declared, local):
    assert local_data.is_node_local(m, declared) is local


def node(nid, hostname, role="worker", labels=None, availability="active", state="ready"):
    return {"ID": nid, "Spec": {"Role": role, "Availability": availability, "Labels": labels or {}},
            "Description": {"Hostname": hostname, "Platform": {"OS": "linux"}}, "Status": {"State": state}}


NODES = [node("m", "manager1", "manager"), node("w2", "worker2", labels={"disk": "ssd"}),
         node("w1", "worker1"), node("d", "drained", availability="drain")]


@pytest.mark.parametrize("constraints, fits", [
    ([], ["m", "w2", "w1"]),
    (["node.role==worker"], ["w2", "w1"]),
    (["node.role != manager", "node.labels.disk==ssd"], ["w2"]),
    (["node.hostname==worker1"], ["w1"]),
    (["node.platform.os==linux"], ["m", "w2", "w1"]),
    (["engine.labels.x==y"], []),
    (["something.unknown==1"], ["m", "w2", "w1"]),
])
def test_node_fits(constraints, fits):
    assert [n["ID"] for n in NODES if local_data.node_fits(n, constraints)] == fits


@pytest.mark.parametrize("args, expected", [
    ({"pinned": "w2", "last_ran": "w1", "here": "m"}, "w2"),
    ({"pinned": "gone", "last_ran": "w1", "here": "m"}, "w1"),
    ({"here": "m"}, "m"),
    ({"here": "m", "constraints": ["node.role==worker"]}, "w1"),      # first by hostname
    ({"here": "m", "constraints": ["node.labels.disk==hdd"]}, None),
])
def test_choose_node(args, expected):
    args = dict(args)
    constraints = args.pop("constraints", [])
    assert local_data.choose_node(NODES, constraints, **args)[0] == expected


def swarm_with_images():
    docker = FakeSwarm()
    docker.create_network("seed_default")
    docker.calls = []
    docker.images = {"mysql": {"Id": "sha256:" + "1" * 64, "Config": {"Volumes": {"/var/lib/mysql": {}}}},
                     "httpd": {"Id": "sha256:" + "2" * 64, "Config": {"Volumes": None}},
                     "reg.example.org/app:1": None}
    return docker


def stack_service(name="seed_db", image="mysql", replicas=1, **extra):
    params = dict(service(name, image, replicas=replicas), state="present", wait=False,
                  networks=[{"name": "seed_default", "aliases": [name.split("_", 1)[1]]}])
    params.update(extra)
    return params


def seed_tasks(replicas=2):
    return {"networks": [], "volumes": [], "secrets": [], "configs": [],
            "services": [stack_service(replicas=replicas), stack_service("seed_web", "httpd", replicas=2)]}


def test_the_seed_db_gets_a_volume_per_replica_and_is_pinned_here_as_the_diff_shows():
    docker = swarm_with_images()
    tasks = seed_tasks()
    plan = StackReconciler(docker, check_mode=True).plan_present("demo", "seed", tasks)
    assert docker.calls == []   # planning changes nothing
    db, web = plan.services
    assert db.data.notes == ["service seed_db runs on node node1: this manager runs the deploy and its constraints "
                             "allow it",
                             "service seed_db: /var/lib/mysql gets the named volume "
                             "seed_db_var-lib-mysql.{{.Task.Slot}}"]
    assert web.data.notes == [] and db.warnings == [] and web.warnings == []
    after = plan.diff()["after"]["service seed_db"]
    assert after["placement"]["constraints"] == ["node.id==node1"]
    labels = dict(OWNER, **{"spin.service": "db", "spin.image-volume": "/var/lib/mysql"})
    assert after["mounts"] == [{"type": "volume", "source": "seed_db_var-lib-mysql.{{.Task.Slot}}",
                                "target": "/var/lib/mysql", "readonly": False, "volume_driver": "local",
                                "volume_options": {}, "volume_labels": labels, "tmpfs_size": None, "tmpfs_mode": None,
                                "volume_nocopy": False}]
    assert plan.diff()["after"]["service seed_web"]["placement"]["constraints"] == []
    assert tasks["services"][0]["mounts"] == []     # the translated parameters stay as they were

    # deployed, the same input again is no change (the pin and the mount compare equal)
    real = StackReconciler(docker)
    real.apply(real.plan_present("demo", "seed", seed_tasks()), wait=False)
    again = StackReconciler(docker).plan_present("demo", "seed", seed_tasks())
    assert not again.changed and again.warnings == []
    # Swarm made the per-replica volumes (labelled); they are the stack's, and kept while the service is
    docker.create_volume("seed_db_var-lib-mysql.3", labels=labels)       # a replica since scaled away
    assert StackReconciler(docker).plan_present("demo", "seed", seed_tasks()).warnings == []
    gone = StackReconciler(docker).plan_absent("demo", "seed", remove_volumes=True)
    assert ("volume", "seed_db_var-lib-mysql.3", "remove") in [(r.kind, r.name, r.action) for r in gone.stale]


def test_a_service_stays_where_it_was_pinned():
    docker = swarm_with_images()
    docker.node_list.append(node("node2", "w2"))
    rec = StackReconciler(docker)
    rec.apply(rec.plan_present("demo", "seed", seed_tasks()), wait=False)
    sid = docker.find_service("seed_db")["ID"]
    docker.svcs[sid]["Spec"]["Labels"]["spin.data-node"] = "node2"       # as if pinned there before
    plan = StackReconciler(docker, check_mode=True).plan_present("demo", "seed", seed_tasks())
    db = plan.services[0]
    assert "service seed_db runs on node node2: its data is there (pinned before)" in db.data.notes
    assert plan.diff()["after"]["service seed_db"]["placement"]["constraints"] == ["node.id==node2"]


def test_an_image_this_node_does_not_have_gets_a_warning():
    docker = swarm_with_images()
    plan = ServiceReconciler(docker, check_mode=True).plan(stack_service(image="reg.example.org/app:1"))
    assert plan.warnings == [
        "service seed_db: image reg.example.org/app:1 is not on this node, so the paths it declares as VOLUME cannot "
        "be read: declare a named volume for each of its data paths, or they lose their data whenever a task is "
        "replaced"]


def test_both_can_be_turned_off():
    docker = swarm_with_images()
    plan = ServiceReconciler(docker, check_mode=True).plan(stack_service(image_volumes=False))
    assert plan.desired["TaskTemplate"]["ContainerSpec"].get("Mounts") is None and plan.data.notes == []
    plan = ServiceReconciler(docker, check_mode=True).plan(stack_service(pin_to_data=False))
    assert len(plan.desired["TaskTemplate"]["ContainerSpec"]["Mounts"]) == 1
    assert "Placement" not in plan.desired["TaskTemplate"]


def test_an_anonymous_volume_of_a_running_container_is_copied_into_the_named_one_while_stopped():
    docker = swarm_with_images()
    rec = ServiceReconciler(docker)
    rec.run(stack_service(image_volumes=False, wait=False))       # as deployed before named volumes
    sid = docker.find_service("seed_db")["ID"]
    anonymous = "a" * 64
    docker.ctrs["c1"] = {"Config": {"Labels": {"com.docker.swarm.service.id": sid,
                                               "com.docker.swarm.task.name": "seed_db.1.xyz"}},
                         "Mounts": [{"Type": "volume", "Name": anonymous, "Destination": "/var/lib/mysql"}]}
    docker.calls = []
    result = ServiceReconciler(docker).run(stack_service(wait=False))
    assert result["data"][-1] == ("service seed_db: copied the data at /var/lib/mysql from the anonymous volume "
                                  "aaaaaaaaaaaa into seed_db_var-lib-mysql.1")
    assert ("service seed_db: the data at /var/lib/mysql is copied from its anonymous volume aaaaaaaaaaaa into "
            "seed_db_var-lib-mysql.1, the service stopped meanwhile") in result["data"]
    # stopped (replicas 0), copied, then updated to the new spec: refused once as out of sequence (the stop
    # changed the version), compared again and sent again
    assert [c[0] for c in docker.calls] == ["update_service", "create_volume", "run_once", "update_service",
                                            "update_service"]
    assert docker.svcs[sid]["Spec"]["Mode"] == {"Replicated": {"Replicas": 1}}
    assert docker.ran == [("mysql", ["/bin/sh", "-c", "cp -a /from/. /to/"],
                           [anonymous + ":/from:ro", "seed_db_var-lib-mysql.1:/to"])]
    # once its container runs on the named volume there is nothing to copy
    docker.ctrs["c1"]["Mounts"] = [{"Type": "volume", "Name": "seed_db_var-lib-mysql.1",
                                    "Destination": "/var/lib/mysql"}]
    assert ServiceReconciler(docker, check_mode=True).plan(stack_service()).data.migrations == []


def test_a_named_volume_left_by_an_earlier_deploy_is_kept_aside_not_used_instead_of_the_live_data():
    docker = swarm_with_images()
    ServiceReconciler(docker).run(stack_service(image_volumes=False, wait=False))
    sid = docker.find_service("seed_db")["ID"]
    docker.create_volume("seed_db_var-lib-mysql.1")          # from a deploy long ago, with the data of back then
    docker.ctrs["c1"] = {"Config": {"Labels": {"com.docker.swarm.service.id": sid,
                                               "com.docker.swarm.task.name": "seed_db.1.xyz"}},
                         "Mounts": [{"Type": "volume", "Name": "b" * 64, "Destination": "/var/lib/mysql"}]}
    result = ServiceReconciler(docker).run(stack_service(wait=False))
    kept = [name for name in docker.vols if name.startswith("seed_db_var-lib-mysql.1.before-")]
    assert len(kept) == 1 and docker.vols[kept[0]]["Labels"]["spin.replaced"] == "seed_db_var-lib-mysql.1"
    assert result["data"][-1].endswith("; what seed_db_var-lib-mysql.1 held before is kept in %s" % kept[0])
    image, argv, binds = docker.ran[-1]
    assert argv == ["/bin/sh", "-c", "cp -a /to/. /kept/ && find /to -mindepth 1 -delete && cp -a /from/. /to/"]
    assert binds == ["b" * 64 + ":/from:ro", "seed_db_var-lib-mysql.1:/to", kept[0] + ":/kept"]
