"""x-spin.schedule: parsed and judged at translation, with the tenant's file, service, key and fix."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.stack import service_spec
from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate


def parse(compose_text, rancher=None):
    model, diagnostics = compose.parse_stack(compose_text, "docker-compose.yml", rancher,
                                             "rancher-compose.yml" if rancher else None)
    return model, ["%s: service '%s': key '%s': %s" % (d["file"], d["service"], d["key"], d["message"])
                   for d in diagnostics if d["severity"] == "error"]


JOB = "services:\n  tick:\n    image: httpd\n    command: [sh, -c, 'echo hi']\n%s"


def test_a_schedule_makes_an_idle_job_with_its_labels():
    model, errors = parse(JOB % "    x-spin: {schedule: {cron: '0 7 * * mon-fri', timezone: Europe/Zurich}}\n")
    assert errors == []
    svc = model["services"]["tick"]
    assert svc["schedule"] == {"cron": "0 7 * * mon-fri", "timezone": "Europe/Zurich"}
    assert (svc["deploy"]["mode"], svc["deploy"]["replicas"], svc["route"]) == ("replicated-job", 1, False)
    assert svc["restart_policy"]["condition"] == "none"
    params = translate.stack_to_tasks(model, "ten", "st")["services"][0]
    assert params["labels"]["spin.schedule"] == "0 7 * * mon-fri"
    assert params["labels"]["spin.schedule.timezone"] == "Europe/Zurich"
    spec = service_spec.build_service_spec(params, {"networks": {"st_default": "n1"}})
    assert spec["Mode"] == {"ReplicatedJob": {"MaxConcurrent": 0, "TotalCompletions": 0}}


def test_the_same_key_in_rancher_compose():
    model, errors = parse(JOB % "", "services:\n  tick:\n    x-spin:\n      schedule: '@every 30s'\n")
    assert errors == [] and model["services"]["tick"]["schedule"] == {"cron": "@every 30s", "timezone": "UTC"}
    model, errors = parse(JOB % "", "services:\n  tick:\n    x-spin:\n      route: false\n")
    # rancher-compose's x-spin takes the schedule only (routes are the compose file's)
    assert errors == ["rancher-compose.yml: service 'tick': key 'x-spin.route': unknown key"]


@pytest.mark.parametrize("extra, error", [
    ("    x-spin: {schedule: '*/5 * * *'}\n",
     "docker-compose.yml: service 'tick': key 'x-spin.schedule': '*/5 * * *' has 4 fields, cron has 5: minute hour "
     "day-of-month month day-of-week; write instead e.g. schedule: \"*/5 * * * *\""),
    ("    x-spin: {schedule: {cron: '0 * * * *', timezone: Mars/Base}}\n",
     "docker-compose.yml: service 'tick': key 'x-spin.schedule.timezone': 'Mars/Base' is not a time zone"),
    ("    x-spin: {schedule: {cron: '0 * * * *', tz: UTC}}\n",
     "docker-compose.yml: service 'tick': key 'x-spin.schedule': takes a cron expression, or a mapping with cron and "
     "(optionally) timezone: remove tz"),
    ("    x-spin: {schedule: '@hourly'}\n    ports: ['8080:80']\n",
     "docker-compose.yml: service 'tick': key 'ports': a scheduled job serves no port"),
    ("    x-spin: {schedule: '@hourly'}\n    deploy: {replicas: 3}\n",
     "docker-compose.yml: service 'tick': key 'deploy.replicas': a scheduled job runs one task per run, not 3"),
    ("    x-spin: {schedule: '@hourly'}\n    deploy: {mode: global}\n",
     "docker-compose.yml: service 'tick': key 'deploy.mode': 'global' cannot run on a schedule"),
    ("    x-spin: {schedule: '@hourly'}\n    restart: always\n",
     "docker-compose.yml: service 'tick': key 'restart': a scheduled job's run ends"),
    ("    x-spin: {schedule: '@hourly'}\n    deploy: {update_config: {order: start-first}}\n",
     "docker-compose.yml: service 'tick': key 'deploy.update_config': a scheduled job has no rolling updates"),
])
def test_refused_with_what_to_write(extra, error):
    dummy, errors = parse(JOB % extra)
    assert any(e.startswith(error) for e in errors), errors
