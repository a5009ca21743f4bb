"""The laptop's compose files, unchanged, part two (issue 18): fifty real-world-shaped submissions
(tests/unit/fixtures/compose/, the shapes public projects publish: source binds, configuration
directories, override files and include:, databases with volumes, workers, UDP, shm_size,
volumes_from, laptop ports), each through the controller's one verdict as staff hand it in (its
vars.yml, the override file docker compose reads beside it).

What each becomes is written by hand from what Compose does with the file; the refused ones name
exactly what their tenant reads, and each refusal is one a careful platform keeps (the reason is
beside it). The share accepted is printed (pytest -s); before issue 18 (commit 4e96514) the same
fifty were accepted 4 times, each of those four only because the override file was not read."""
import base64

import pytest

from ansible_collections.spin.platform.plugins.plugin_utils.submission import problem_messages
from ansible_collections.spin.platform.tests.unit.plugins.plugin_utils.test_compose_fixtures import (
    judge, routes, service)

BEFORE = ["override-add-adminer", "override-dev", "override-env-tag", "override-reset"]
URL = ("port %d is not one the edge publishes, so the service's port %d is served as HTTP at http://%s/ instead (its "
       "own host name on the edge): open that; write '80:%d' to say so (a port that does not speak HTTP needs one the "
       "edge publishes: spin_lb_ports)")
LB = "use one of 80, 443, 8000-8009 (the platform variable lb_ports); infra staff let it through by adding %d to " \
     "spin_lb_ports"


def store(tasks):
    """{key: (source, 'ro'|'rw', files)} of the stack's bind store."""
    return {e["key"]: (e["source"], "ro" if e["read_only"] else "rw", e["files"])
            for e in (tasks["bind_store"] or {}).get("entries") or []}


def mounts(tasks, name):
    return [(m["type"], m["source"].rsplit("/fx/", 1)[-1] if m["source"] else None, m["target"], m["readonly"])
            for m in service(tasks, name)["mounts"]]


def order(tasks):
    return [p["name"][3:] for p in tasks["services"]]


def route(name, target):
    return (name, 80, "%s.fx.demo.localhost" % name, target)


# ---- accepted: (start order, routes, bind store, what else the file means) ------------------------

def check_override_dev(model, tasks):
    # docker-compose.override.yml is merged: its port, its source bind, its DEBUG beside the base's variables
    assert service(tasks, "web")["env"] == {"DATABASE_URL": "postgres://portal@db/portal", "DEBUG": "1"}


def check_override_prod_list(model, tasks):
    # vars.yml names [docker-compose.yml, docker-compose.prod.yml]: the override beside them is not read
    app = service(tasks, "app")
    assert (app["replicas"], app["env"]["LOG_LEVEL"], app["resources"]["limits"]["memory"]) == (3, "warning",
                                                                                                512 * 1024 ** 2)
    assert app["mounts"] == [] and app["image"] == "registry.example.org/science/app:2.0"
    assert service(tasks, "worker")["replicas"] == 2


def check_override_reset(model, tasks):
    api = service(tasks, "api")
    assert api["command"] == ["serve"] and api["env"] == {"FEATURE_X": "on"}


def check_override_env_tag(model, tasks):
    app = service(tasks, "app")
    assert app["image"] == "registry.example.org/lab/notebook-hub:5.2"
    assert app["env"] == {"HUB_NAME": "lab", "EXTRA": "none"}
    assert app["healthcheck"]["test"] == ["CMD", "wget", "-qO-", "http://localhost:8080/health"]


def check_include_db(model, tasks):
    # db/compose.yaml: its own .env gives PG_VERSION; the including stack's DB_PASSWORD overrides its own
    db = service(tasks, "db")
    assert db["image"] == "postgres:16"
    assert db["secret_env"]["POSTGRES_PASSWORD"] == "from-main"


def check_include_monitoring(model, tasks):
    assert service(tasks, "node-metrics")["image"] == "prom/statsd-exporter:v0.26.0"


def check_volumes_from_data(model, tasks):
    # the anonymous volume becomes one named volume both mount (read-only for the backup), placed together
    assert mounts(tasks, "db") == [("volume", "fx_db-var-lib-mysql", "/var/lib/mysql", False)]
    assert mounts(tasks, "backup") == [("volume", "fx_db-var-lib-mysql", "/var/lib/mysql", True)]


def check_volumes_from_fpm(model, tasks):
    assert mounts(tasks, "nginx")[0] == mounts(tasks, "php")[0] == ("bind", "app", "/var/www/html", False)


def check_logstash(model, tasks):
    # the same port number in TCP (the edge) and UDP (the service itself, host mode)
    assert service(tasks, "logstash")["publish"] == [{"published_port": 8005, "target_port": 5000, "protocol": "udp",
                                                      "mode": "host"}]


def check_shm(name, size):
    def check(model, tasks):
        shm = [m for m in service(tasks, name)["mounts"] if m["target"] == "/dev/shm"]
        assert [(m["type"], m["tmpfs_size"], m["tmpfs_mode"]) for m in shm] == [("tmpfs", size, 0o1777)]
    return check


def check_log_sample(model, tasks):
    # a 745 KiB log sample is too large for a config: it goes to the bind store as a file
    assert mounts(tasks, "report")[0][0:3] == ("bind", "samples-access.log@%s" % tasks["bind_store"]["entries"][0][
        "digest"][:12], "/data/access.log")
    assert tasks["bind_store"]["entries"][0]["bytes"] > 500 * 1024


def check_wordpress_content(model, tasks):
    config = next(c for c in tasks["configs"] if c["name"].startswith("fx_uploads.ini_"))
    assert base64.b64decode(config["data"]).startswith(b"file_uploads = On")


def no_more(model, tasks):
    return None


ACCEPTED = {
    "airflow-local": (["postgres", "airflow-webserver", "airflow-scheduler"], [route("airflow-webserver", 8080)],
                      {"dags": ("./dags", "rw", 1), "logs": ("./logs", "rw", 0), "plugins": ("./plugins", "rw", 0)},
                      no_more),
    "celery-flower": (["rabbitmq", "worker", "beat", "flower"], [route("flower", 5555)],
                      {"pipeline": ("./pipeline", "ro", 2)}, no_more),
    "code-server": (["code-server"], [route("code-server", 8443)],
                    {"config": ("./config", "rw", 0), "project": ("./project", "rw", 2)}, no_more),
    "django-runserver": (["db", "web"], [("web", 8000, None, 8000)],
                         {"data-db": ("./data/db", "rw", 0), "submission": (".", "rw", 4)}, no_more),
    "drupal-modules": (["drupal", "postgres"], [route("drupal", 80)],
                       {"modules": ("./modules", "rw", 1), "themes": ("./themes", "rw", 1)}, no_more),
    "flask-redis": (["web", "redis"], [route("web", 5000)], {"submission": (".", "rw", 3)}, no_more),
    "go-live-reload": (["app"], [route("app", 8080)], {"submission": (".", "rw", 4)}, no_more),
    "haproxy-conf-dir": (["app1", "app2", "haproxy"],
                         [route("haproxy", 80), ("haproxy", 80, "8404.haproxy.fx.demo.localhost", 8404)],
                         {"haproxy": ("./haproxy", "ro", 2)}, no_more),
    "hugo-site": (["hugo"], [route("hugo", 1313)], {"submission": (".", "rw", 4)}, no_more),
    "include-db": (["db", "app"], [("app", 8000, None, 8000)], {"db-init": ("./db/init", "ro", 1)}, check_include_db),
    "include-monitoring": (["app", "node-metrics"], [("app", 8001, None, 8080)],
                           {"monitoring-statsd": ("./monitoring/statsd", "ro", 1)}, check_include_monitoring),
    "jupyter-override": (["lab"], [route("lab", 8888)], {"notebooks": ("./notebooks", "rw", 2)}, no_more),
    "laravel-nginx-fpm": (["app", "nginx", "mysql", "redis"], [("nginx", 8000, None, 80)],
                          {"submission": (".", "rw", 5)}, no_more),
    "log-sample": (["report", "web"], [route("web", 80)], {"samples-access.log": ("./samples/access.log", "ro", 1)},
                   check_log_sample),
    "logstash-pipeline": (["elasticsearch", "logstash"], [("logstash", 8005, None, 5000), ("logstash", 8005, None, 5000)],
                          {"logstash-pipeline": ("./logstash/pipeline", "ro", 1)}, check_logstash),
    "minio-console": (["minio"], [route("minio", 9000), ("minio", 80, "9001.minio.fx.demo.localhost", 9001)],
                      {"data": ("./data", "rw", 0)}, no_more),
    "mkdocs-material": (["docs"], [("docs", 8000, None, 8000)], {"submission": (".", "rw", 4)}, no_more),
    "mongo-express": (["mongo", "mongo-express"], [route("mongo-express", 8081)], {}, no_more),
    "mysql-initdb": (["db", "adminer"], [route("adminer", 8080)], {"init": ("./init", "ro", 2)}, no_more),
    "netbox-config": (["postgres", "redis", "netbox"], [("netbox", 8000, None, 8080)],
                      {"configuration": ("./configuration", "ro", 3)}, no_more),
    "nginx-static-conf": (["web"], [route("web", 80)], {"conf.d": ("./conf.d", "ro", 1), "html": ("./html", "ro", 3)},
                          no_more),
    "node-mongo": (["mongo", "api"], [route("api", 3000)], {"submission": (".", "rw", 3)}, no_more),
    "override-add-adminer": (["db", "adminer"], [route("adminer", 8080)], {}, no_more),
    "override-dev": (["db", "web"], [route("web", 80)], {"src": ("./src", "rw", 2)}, check_override_dev),
    "override-env-tag": (["app"], [("app", 8004, None, 8080)], {}, check_override_env_tag),
    "override-prod-list": (["app", "worker"], [("app", 8001, None, 8000)], {}, check_override_prod_list),
    "override-reset": (["api"], [("api", 8002, None, 8080)], {}, check_override_reset),
    "php-apache-src": (["db", "web"], [route("web", 80)], {"src": ("./src", "rw", 3)}, no_more),
    "postgres-pgadmin": (["postgres", "pgadmin"], [route("pgadmin", 80)], {}, no_more),
    "postgres-shm": (["db"], [], {"initdb": ("./initdb", "rw", 1)}, check_shm("db", 1024 ** 3)),
    "prometheus-grafana": (["prometheus", "grafana"], [route("prometheus", 9090), route("grafana", 3000)],
                           {"grafana-provisioning": ("./grafana/provisioning", "ro", 2),
                            "prometheus": ("./prometheus", "rw", 2)}, no_more),
    "rails-postgres": (["db", "web"], [route("web", 3000)],
                       {"submission": (".", "rw", 4), "tmp-db": ("./tmp/db", "rw", 0)}, no_more),
    "react-frontend": (["frontend", "backend"], [route("frontend", 3000)],
                       {"frontend-public": ("./frontend/public", "rw", 1), "frontend-src": ("./frontend/src", "rw", 2)},
                       no_more),
    "rq-workers": (["redis", "dashboard", "worker"], [route("dashboard", 9181)], {}, no_more),
    "selenium-chrome": (["chrome", "tests"], [route("chrome", 4444), ("chrome", 80, "7900.chrome.fx.demo.localhost",
                                                                      7900)], {}, check_shm("chrome", 2 * 1024 ** 3)),
    "sidekiq-rails": (["db", "redis", "web", "sidekiq"], [route("web", 3000)], {}, no_more),
    "uptime-kuma": (["uptime-kuma"], [route("uptime-kuma", 3001)], {"data": ("./data", "rw", 0)}, no_more),
    "volumes-from-data": (["db", "backup"], [], {}, check_volumes_from_data),
    "volumes-from-fpm": (["php", "nginx"], [route("nginx", 80)], {"app": ("./app", "rw", 1)}, check_volumes_from_fpm),
    "wordpress-content": (["wordpress", "db"], [route("wordpress", 80)], {"wp-content": ("./wp-content", "rw", 2)},
                          check_wordpress_content),
}


# ---- refused: what the tenant reads, each a refusal a careful platform keeps --------------------------

REFUSED = {
    # a home directory exists on the laptop only
    "aws-home-mount": [
        "docker-compose.yml: service 'sync': key 'volumes[0]': bind mount of '~/.aws' (a home directory) is not "
        "supported: the service may run on any node; use a named volume, or a file of the submission directory (./file) "
        "for a configuration file"],
    # port 53 is not the platform's to give away (UDP on the nodes, TCP on the edge)
    "dns-udp-53": [
        "docker-compose.yml: service 'coredns': key 'ports[0]': port 53 is not one the platform lets stacks publish: "
        + LB % 53,
        "docker-compose.yml: service 'coredns': key 'ports[1]': port 53 is not one the platform lets stacks publish: "
        + LB % 53],
    # fixed subnets and addresses collide with other tenants' networks
    "fixed-subnet": [
        "docker-compose.yml: key 'networks.backend.ipam': not supported on spin.platform: the platform allocates subnets",
        "docker-compose.yml: service 'app': key 'networks.backend.ipv4_address': not supported on spin.platform: Swarm "
        "assigns the addresses; reach the service by its name"],
    # a capability outside the allow-list (the UDP ports themselves are accepted)
    "game-server-udp": [
        "docker-compose.yml: service 'valheim': key 'cap_add': [cap-add] SYS_NICE is not among the allowed capabilities "
        "(CHOWN, DAC_OVERRIDE, FOWNER, KILL, SETGID, SETUID, NET_BIND_SERVICE); remove SYS_NICE from cap_add"],
    # SSH is raw TCP: only a port the edge publishes can carry it (3000 is served on the route)
    "gitea-ssh": ["docker-compose.yml: service 'server': key 'ports[1]': port 222 is not one the platform lets stacks "
                  "publish: " + LB % 222],
    # the node's own logs are other tenants' too
    "loki-promtail": [
        "docker-compose.yml: service 'promtail': key 'volumes': [host-path] bind mount of /var/log is outside the "
        "allowed host paths (/global/cfs, /global/homes); use a named volume, or a path below /global/cfs or "
        "/global/homes"],
    # MQTT is raw TCP (its websocket port 9001 is served on the route)
    "mosquitto-mqtt": ["docker-compose.yml: service 'mosquitto': key 'ports[0]': port 1883 is not one the platform "
                       "lets stacks publish: " + LB % 1883],
    # a file outside the submission is not the tenant's to hand in
    "shared-env-outside": ["docker-compose.yml: service 'app': key 'env_file': '../common.env' points outside the "
                           "submission directory: keep the file inside it"],
    # the Docker socket controls every tenant's containers
    "traefik-file-provider": [
        "docker-compose.yml: service 'traefik': key 'volumes': [docker-socket] bind mount of /var/run/docker.sock exposes "
        "the Docker socket (/var/run/docker.sock), which controls every tenant's containers; remove the mount"],
    # docker compose refuses it too
    "undeclared-volume": ["docker-compose.yml: service 'db': key 'volumes[0]': volume 'pgdata' is not declared under "
                          "the top-level volumes: add it there"],
}


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_what_a_laptop_file_becomes(name):
    model, facts, tasks = judge(name)
    assert problem_messages(facts["diagnostics"], facts["violations"]) == []
    expected_order, expected_routes, expected_store, more = ACCEPTED[name]
    assert order(tasks) == expected_order
    assert routes(tasks) == expected_routes
    assert store(tasks) == expected_store
    more(model, tasks)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_what_the_tenant_of_a_refused_laptop_file_reads(name):
    _model, facts, tasks = judge(name)
    assert tasks is None
    assert problem_messages(facts["diagnostics"], facts["violations"]) == REFUSED[name]


def test_every_port_served_on_a_route_says_so_with_its_url():
    _model, facts, _tasks = judge("minio-console")
    warnings = [d["message"] for d in facts["diagnostics"] if d["severity"] == "warning" and d["key"].startswith(
        "ports")]
    assert warnings == [URL % (9000, 9000, "minio.fx.demo.localhost", 9000),
                        URL % (9001, 9001, "9001.minio.fx.demo.localhost", 9001)]


def test_the_share_of_laptop_files_accepted_before_and_after():
    names = sorted(set(ACCEPTED) | set(REFUSED))
    accepted = [name for name in names if judge(name)[2] is not None]
    print("\n[laptop fixtures, issue 18] before (4e96514): %d of %d accepted (%d%%), each only because its override "
          "file was not read; after: %d of %d (%d%%); refused: %s" % (
              len(BEFORE), len(names), round(100.0 * len(BEFORE) / len(names)), len(accepted), len(names),
              round(100.0 * len(accepted) / len(names)), ", ".join(sorted(REFUSED))))
    assert len(names) >= 40
    assert accepted == sorted(ACCEPTED)
