"""Real-world-shaped compose files (tests/unit/fixtures/compose/, each with its own .env and files,
the way projects publish them) through the controller's one verdict, with any image allowed: what
each becomes on spin.platform, or exactly what its tenant is told.

The table is written by hand from what Compose does with each file; the share of files that deploy
unchanged is printed (pytest -s) and asserted, so a change that turns a file away shows up here."""
import base64
import os
import re

import pytest

from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.plugin_utils import submission_vars
from ansible_collections.spin.platform.plugins.plugin_utils.submission import check_submission, problem_messages
from ansible_collections.spin.platform.tests.unit import tenant_tree

HERE = os.path.dirname(__file__)
FIXTURES = os.path.abspath(os.path.join(HERE, "..", "..", "fixtures", "compose"))
SEED = os.path.abspath(os.path.join(HERE, "..", "..", "..", "..", "examples", "seed"))
TENANTS_MAY = ("tenants narrow placement only by node.labels.<name> (labels outside spin.*) and node.platform.os / "
               "node.platform.arch")
LB = "is not one the platform lets stacks publish: use one of 80, 443, 8000-8009 (the platform variable lb_ports)"


def judge(name):
    """The fixture's submission directory as staff hand it in: its vars.yml (when it has one) and the
    compose files docker compose would read there."""
    root, directory = tenant_tree.fixture(name)
    args = submission_vars.resolve(directory, [root], tenant_tree.registry())
    args.pop("_submission")
    args.update({"stack": "fx", "policy": {"images": ["*"], "registries": ["*"]}, "global_fs_roots": None,
                 "submission_roots": [root], "tenants": tenant_tree.registry()})
    return check_submission(args, [directory])


def service(tasks, name):
    return next(p for p in tasks["services"] if p["name"] == "fx_" + name)


def routes(tasks):
    return [(e["compose_service"], e["published"], e.get("hostname"), e["target"]) for e in tasks["endpoints"]]


# ---- the files that deploy unchanged, and what they become ---------------------------------------

def check_seed(model, tasks):
    assert routes(tasks) == [("web", 80, "web.fx.demo.localhost", 80)]
    assert [s["name"] for s in tasks["secrets"]] == ["fx_db_root_password"]


def check_wordpress(model, tasks):
    # .env gives the passwords; the published 80 is served at the service's own host name
    # (passwords written in the environment travel as secret_env: never logged)
    assert service(tasks, "db")["secret_env"]["MYSQL_ROOT_PASSWORD"] == "somewordpress"
    assert service(tasks, "wordpress")["secret_env"]["WORDPRESS_DB_PASSWORD"] == "wordpress"
    assert routes(tasks) == [("wordpress", 80, "wordpress.fx.demo.localhost", 80)]
    assert tasks["secrets"] == [] and service(tasks, "db")["restart_policy"]["condition"] == "any"


def check_nextcloud(model, tasks):
    db = service(tasks, "db")
    # the server runs with options of its own and names no root password: one is generated
    assert db["command"][0] == "--transaction-isolation=READ-COMMITTED"
    assert db["env"]["MYSQL_ROOT_PASSWORD_FILE"] == "/run/secrets/db_root_password"
    # a healthcheck without test tunes the image's own
    assert db["healthcheck"] == {"test": None, "interval": "10s", "timeout": None, "retries": None,
                                 "start_period": "30s"}
    assert [m["volume_nocopy"] for m in service(tasks, "cron")["mounts"]] == [True]
    assert service(tasks, "cron")["entrypoint"] == ["/cron.sh"]
    assert routes(tasks) == [("app", 8001, None, 80)]


def check_proxy_app(model, tasks):
    # the two configuration files became configs; the directory of the second is not needed
    proxy = service(tasks, "proxy")
    assert sorted(c["target"] for c in proxy["configs"]) == ["/etc/nginx/conf.d/default.conf",
                                                             "/etc/nginx/nginx.conf"]
    contents = {c["name"].rsplit("_", 1)[0]: base64.b64decode(c["data"]) for c in tasks["configs"]}
    assert contents["fx_app.conf"].startswith(b"server {")
    assert routes(tasks) == [("proxy", 80, "proxy.fx.demo.localhost", 80)]
    assert tasks["wait_for"] == {"fx_app": ["fx_db"]}
    assert service(tasks, "app")["env"]["DATABASE_URL"] == "postgres://app:app@db:5432/app"
    # build: . is built by the platform (spin_build) and named by its content hash
    assert re.match(r"^demo/fx-app:[0-9a-f]{16}$", service(tasks, "app")["image"])


def check_static_site(model, tasks):
    # publishes nothing but serves HTTP: an automatic route; its two files are configs
    assert routes(tasks) == [("web", 80, "web.fx.demo.localhost", 80)]
    assert service(tasks, "web")["replicas"] == 2 and len(tasks["configs"]) == 2


def check_django_celery(model, tasks):
    assert [(p["name"], p["mode"]) for p in tasks["services"]][:3] == [
        ("fx_redis", "replicated"), ("fx_postgres", "replicated"), ("fx_migrate", "replicated-job")]
    assert tasks["wait_for"]["fx_web"] == ["fx_postgres", "fx_migrate"]
    web = service(tasks, "web")
    # the anchor's $${...} is a literal, once, in every service that uses it
    assert web["env"]["LOG_FORMAT"] == service(tasks, "worker")["env"]["LOG_FORMAT"] == "${levelname} ${message}"
    assert web["secret_env"]["SECRET_KEY"] == "a long 'random' value # not a comment"
    assert web["image"] == "registry.example.org/science/portal:latest"
    assert service(tasks, "worker")["resources"]["limits"]["memory"] == 512 * 1024 ** 2
    assert model["inactive"] == {"flower": ["monitoring"]}
    assert routes(tasks) == [("web", 8000, None, 8000)]


def check_elastic(model, tasks):
    es = service(tasks, "es01")
    assert es["ulimits"] == [{"name": "memlock", "soft": -1, "hard": -1},
                             {"name": "nofile", "soft": 65536, "hard": 65536}]
    assert es["resources"]["limits"]["memory"] == 1024 ** 3
    assert tasks["wait_for"] == {"fx_kibana": ["fx_es01"]}
    # a database (search engine) gets no route, the dashboard its published port
    assert routes(tasks) == [("kibana", 8005, None, 5601)]


def check_rabbitmq_workers(model, tasks):
    # container_name and both link forms answer as network aliases of the broker
    assert service(tasks, "rabbitmq")["networks"][0]["aliases"] == ["rabbitmq", "broker", "queue"]
    assert service(tasks, "rabbitmq")["hostname"] == "rabbit"
    assert service(tasks, "rabbitmq")["ulimits"] == [{"name": "nofile", "soft": 65536, "hard": 65536}]
    assert service(tasks, "worker")["replicas"] == 3
    assert service(tasks, "producer")["restart_policy"]["max_attempts"] == 5
    assert tasks["wait_for"] == {"fx_worker": ["fx_rabbitmq"]}


def check_keycloak(model, tasks):
    assert service(tasks, "keycloak-db")["networks"][0]["aliases"] == ["keycloak-db", "keycloak-postgres"]
    assert model["inactive"] == {"mailhog": ["dev"]}
    assert routes(tasks) == [("keycloak", 8002, None, 8080)]


def check_include_split(model, tasks):
    # include: infra.yml's cache joins the stack, and app starts after it
    assert [p["name"] for p in tasks["services"]] == ["fx_cache", "fx_app"]
    assert service(tasks, "cache")["image"] == "redis:7"


def check_jupyter(model, tasks):
    # the notebooks directory goes to the bind store, read-write as the file says; 8888 is served on the route
    assert tasks["bind_store"]["entries"][0]["key"] == "notebooks" and not tasks["bind_store"]["entries"][0][
        "read_only"]
    assert routes(tasks) == [("notebook", 80, "notebook.fx.demo.localhost", 8888)]


def check_mattermost(model, tasks):
    # shm_size 256mb is a tmpfs on /dev/shm (issue 18); 8065 is served on the route
    assert ("tmpfs", "/dev/shm", 256 * 1024 ** 2) in [(m["type"], m["target"], m["tmpfs_size"])
                                                      for m in service(tasks, "postgres")["mounts"]]
    assert routes(tasks) == [("mattermost", 80, "mattermost.fx.demo.localhost", 8065)]


def check_minio(model, tasks):
    # the API and the console: two HTTP ports, two names
    assert routes(tasks) == [("minio", 80, "minio.fx.demo.localhost", 9000),
                             ("minio", 80, "9001.minio.fx.demo.localhost", 9001)]


def check_node_app(model, tasks):
    # ./src is bound read-write from the bind store; 127.0.0.1:3000 stays unpublished
    assert [(m["type"], m["target"], m["readonly"]) for m in service(tasks, "app")["mounts"]] == [
        ("bind", "/usr/src/app/src", False)]
    assert routes(tasks) == []


def check_static_site_dir(model, tasks):
    entry = tasks["bind_store"]["entries"][0]
    assert (entry["key"], entry["read_only"], entry["files"]) == ("html", True, 2)
    assert service(tasks, "web")["mounts"][0]["source"].endswith("/demo/fx/html@" + entry["digest"][:12])


def check_ftp_passive(model, tasks):
    assert routes(tasks) == [("ftp", 8000, None, 21)] + [("ftp", 8000 + i, None, 30000 + i) for i in range(1, 10)]


ACCEPTED = {
    "seed": check_seed, "wordpress": check_wordpress, "nextcloud": check_nextcloud, "proxy-app": check_proxy_app,
    "static-site": check_static_site, "django-celery": check_django_celery, "elastic": check_elastic,
    "rabbitmq-workers": check_rabbitmq_workers, "keycloak": check_keycloak, "ftp-passive": check_ftp_passive,
    "include-split": check_include_split, "jupyter": check_jupyter, "mattermost": check_mattermost,
    "minio": check_minio, "node-app": check_node_app, "static-site-dir": check_static_site_dir,
}

# ---- the files that are refused, and exactly what their tenant reads --------------------------------

REFUSED = {
    "gitea": [
        # its web port 3000 is served on the route (issue 18); SSH is raw TCP
        "docker-compose.yml: service 'server': key 'ports[1]': port 222 " + LB + "; infra staff let it through by "
        "adding 222 to spin_lb_ports"],
    "monitoring": [
        "docker-compose.yml: service 'node-exporter': key 'volumes': [host-path] bind mount of /proc is outside "
        "the allowed host paths (/global/cfs, /global/homes); use a named volume, or a path below /global/cfs or "
        "/global/homes",
        "docker-compose.yml: service 'node-exporter': key 'pid': [host-namespace] pid: the host's pid namespace is "
        "not available to tenants; remove pid: each container keeps its own namespace"],
    "swarm-placement": [
        "docker-compose.yml: service 'backup': key 'deploy.placement.constraints': [placement] 'node.role == "
        "manager' places by the node's role (node.role): which nodes run tenants' services is the platform's to "
        "say; remove it: " + TENANTS_MAY,
        "docker-compose.yml: service 'backup': key 'deploy.placement.constraints': [placement] "
        "'node.labels.spin.edge != true' places by the platform's own node label spin.edge (edge, build and "
        "registry nodes, global file systems); remove it: " + TENANTS_MAY,
        "docker-compose.yml: service 'agent': key 'deploy.placement.preferences': [placement] 'spread: "
        "node.hostname' spreads over the node's host name (node.hostname): which nodes run tenants' services is the "
        "platform's to say; remove it, or spread over a label the platform staff give tenants' nodes (spread: "
        "node.labels.<name>)"],
    "traefik": [
        "docker-compose.yml: service 'traefik': key 'volumes': [docker-socket] bind mount of /var/run/docker.sock "
        "exposes the Docker socket (/var/run/docker.sock), which controls every tenant's containers; remove the "
        "mount"],
}


def test_every_fixture_is_in_the_table():
    from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils import test_compose_fixtures_laptop as laptop
    assert sorted(os.listdir(FIXTURES)) == sorted(set(ACCEPTED) - {"seed"} | set(REFUSED) | set(laptop.ACCEPTED)
                                                  | set(laptop.REFUSED))


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_what_a_file_that_deploys_unchanged_becomes(name):
    model, facts, tasks = judge(name)
    assert problem_messages(facts["diagnostics"], facts["violations"]) == []
    assert tasks is not None
    ACCEPTED[name](model, tasks)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_the_tenant_of_a_refused_file_is_told(name):
    model, facts, tasks = judge(name)
    assert tasks is None
    assert problem_messages(facts["diagnostics"], facts["violations"]) == REFUSED[name]


def test_the_share_that_deploys_unchanged():
    # issue 18's fifty are test_compose_fixtures_laptop.py's; before issue 18 10 of these 20 deployed unchanged
    accepted = [name for name in sorted(set(ACCEPTED) | set(REFUSED)) if judge(name)[2] is not None]
    total = len(ACCEPTED) + len(REFUSED)
    print("\n[compose fixtures] %d of %d deploy unchanged (%d%%): %s" % (
        len(accepted), total, round(100.0 * len(accepted) / total), ", ".join(accepted)))
    assert sorted(accepted) == sorted(ACCEPTED)


def test_warnings_of_the_accepted_files_name_file_service_and_key():
    seen, passwords = {}, {}
    for name in sorted(ACCEPTED):
        _model, facts, _tasks = judge(name)
        warnings = [diag.format_diagnostic(d) for d in facts["diagnostics"] if d["severity"] == "warning"]
        # a password written in environment is warned about (with the way to a secret) in every file that has one
        seen[name] = [w for w in warnings if "a password in plain text" not in w]
        passwords[name] = sorted(w.split("'")[3] for w in warnings if "a password in plain text" in w)
    assert seen["proxy-app"] == ["docker-compose.yml: service 'app': key 'image': warning: 'app:latest' does not "
                                 "name the built image: the platform tags what it builds "
                                 "<registry>/<tenant>/<stack>-app:<content hash>"]
    assert seen["keycloak"] == [
        "docker-compose.yml: service 'keycloak': key 'depends_on.mailhog': warning: service 'mailhog' is not deployed "
        "(not in an active profile: dev); it is not required (required: false), so 'keycloak' starts without it"]
    assert seen["seed"] == seen["wordpress"] == seen["static-site"] == []
    assert passwords["seed"] == ["environment.MYSQL_PASSWORD"]
    assert passwords["wordpress"] == ["environment.MYSQL_PASSWORD", "environment.MYSQL_ROOT_PASSWORD",
                                      "environment.WORDPRESS_DB_PASSWORD"]
    assert passwords["static-site"] == []
