"""The compose parser against the loader Docker itself uses (issue 18): every fixture through both
``compose.parse_stack`` (as the one verdict reads the submission) and ``docker stack config -c FILE
[-c FILE2]`` (the Docker CLI's compose loader, 28.x here), given the same variables (it reads them
from its environment, not from .env), and what both must agree on compared: each service's
environment, labels, ports, volumes, command, entrypoint and healthcheck after interpolation.

Where the two differ on purpose (Swarm semantics, or the platform's safer reading), the difference
is listed in ``FORCED`` with the reason, and docs/compose-keys.md says so; a fixture the CLI's loader
cannot read at all is listed in ``CLI_CANNOT_READ`` with the CLI's own words. Any other difference
fails the test. Skipped where the docker CLI has no ``stack config``."""
import os
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.spin.platform.plugins.module_utils.common import units
from ansible_collections.spin.platform.plugins.plugin_utils import compose, compose_text, submission, submission_vars
from ansible_collections.spin.platform.tests.unit import tenant_tree

FIXTURES = sorted(os.listdir(tenant_tree.FIXTURES)) + ["seed"]
FIELDS = ("environment", "labels", "ports", "volumes", "command", "entrypoint", "healthcheck")


def _has_stack_config():
    if not shutil.which("docker"):
        return False
    found = subprocess.run(["docker", "stack", "config", "--help"], capture_output=True, text=True, check=False)
    return found.returncode == 0


pytestmark = pytest.mark.skipif(not _has_stack_config(), reason="the docker CLI here has no 'docker stack config'")

# the CLI's loader (the v3 schema of docker/cli) refuses these valid compose-spec files: nothing to compare
CLI_CANNOT_READ = {
    "airflow-local": "depends_on must be a list",          # depends_on with conditions (compose-spec)
    "celery-flower": "Additional property scale",
    "django-celery": "depends_on must be a list",
    "seed": "unsupported Compose file version: 2",            # NERSC Spin's example is a version 2 file
    "elastic": "forbidden properties",                      # mem_limit, ulimits of v2
    # port ranges in the long syntax: the CLI names target or published, whichever its schema check meets first
    "ftp-passive": ("target must be a integer", "published must be a integer"),
    "include-db": "Additional property include",
    "include-monitoring": "Additional property include",
    "include-split": "Additional property include",
    "keycloak": "depends_on must be a list",
    "mattermost": "Additional property pids_limit",
    "proxy-app": "depends_on must be a list",
    "rabbitmq-workers": "forbidden properties",              # links with aliases, v2 keys
    "shared-env-outside": "no such file or directory",     # ../common.env: outside (we refuse it, by name)
    "volumes-from-data": "forbidden properties",            # volumes_from (v2)
    "volumes-from-fpm": "forbidden properties",
}

# (fixture, service, field) -> why the platform's stack differs from what the CLI reads
LOOPBACK = "a port bound to 127.0.0.1 is not published at all (the CLI publishes it on every address, with a warning)"
RO_CONFIG = "a relative bind of a file is a Swarm config, always read-only (the file said rw; a warning says so)"
SHM = "shm_size is no Swarm setting: it is a tmpfs at /dev/shm (the CLI keeps shm_size, which Swarm ignores)"
TAGS = ("the CLI's loader does not know compose's merge tags: it reads '!reset null' as the text 'null' and merges an "
        "'!override' list; docker compose (2.24 and later) and the platform drop and replace")
FORCED = {
    ("override-reset", "api", "environment"): TAGS,
    ("override-reset", "api", "ports"): TAGS,
    ("monitoring", "prometheus", "volumes"): RO_CONFIG,
    # refused by the platform: the refused mount is not in its model (the fixture's refusal names it)
    ("aws-home-mount", "sync", "volumes"): "refused: a home directory (~/.aws) exists on the laptop only",
    ("node-app", "app", "ports"): LOOPBACK,
    ("wordpress-content", "wordpress", "volumes"): RO_CONFIG,
    ("postgres-shm", "db", "volumes"): SHM,
    ("selenium-chrome", "chrome", "volumes"): SHM,
}


def _ours(name):
    """Our model and the input the CLI gets: (model, directory, compose files, variables)."""
    root, directory = tenant_tree.fixture(name)
    options = submission_vars.resolve(directory, [root], tenant_tree.registry())
    files = [options["compose_file"]] + options["compose_override_files"]
    reader = compose_text.make_dir_reader(directory)
    variables, _problems = submission.dotenv(reader, directory, options.get("variables"))
    names = [os.path.relpath(f, directory) for f in files]
    model, _diagnostics = compose.parse_stack(reader(names[0]), names[0], read_file=reader, env=variables,
                                              profiles=options.get("profiles"),
                                              stat_file=compose_text.make_dir_stat(directory),
                                              override_names=names[1:])
    return model, directory, names, variables


def _cli(directory, names, variables):
    command = ["docker", "stack", "config"]
    for name in names:
        command += ["-c", name]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    env.update(variables)
    done = subprocess.run(command, cwd=directory, env=env, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        return None, done.stderr.strip()
    return yaml.safe_load(done.stdout), None


# ---- both sides in one shape ---------------------------------------------------------------------

def _ns(value):
    return None if value in (None, "") else units.parse_duration(value) if isinstance(value, str) else value


def _healthcheck(check):
    if not check:
        return None
    if check.get("disable"):
        return {"disable": True}
    return {"test": check.get("test"), "interval": _ns(check.get("interval")), "timeout": _ns(check.get("timeout")),
            "retries": check.get("retries"), "start_period": _ns(check.get("start_period"))}


def _cli_service(svc, directory):
    volumes = []
    for volume in svc.get("volumes") or []:
        source = volume.get("source")
        volumes.append((volume["type"], source, volume["target"], bool(volume.get("read_only"))))
    volumes += [("tmpfs", None, target.split(":")[0], False) for target in
                ([svc["tmpfs"]] if isinstance(svc.get("tmpfs"), str) else svc.get("tmpfs") or [])]
    if svc.get("shm_size"):
        volumes.append(("shm_size", None, "/dev/shm", False))
    return {
        "environment": {k: str(v) for k, v in (svc.get("environment") or {}).items() if v is not None},
        "labels": dict(svc.get("labels") or {}),
        "ports": sorted((p.get("published"), p["target"], p.get("protocol", "tcp")) for p in svc.get("ports") or []),
        "volumes": sorted(volumes, key=repr),
        "command": svc.get("command"), "entrypoint": svc.get("entrypoint"),
        "healthcheck": _healthcheck(svc.get("healthcheck")),
    }


def _our_service(svc, model, directory):
    volumes = []
    for volume in svc["volumes"]:
        if volume["type"] == "store":
            source = os.path.normpath(os.path.join(directory, model["bind_store"][volume["source"]]["source"]))
            volumes.append(("bind", source, volume["target"], volume["read_only"]))
        elif volume["type"] == "tmpfs":
            volumes.append(("tmpfs", None, volume["target"], False))
        else:
            volumes.append((volume["type"], volume["source"], volume["target"], volume["read_only"]))
    for ref in svc["configs"]:
        made = model["configs"][ref["source"]].get("source_file")
        if made:
            volumes.append(("bind", os.path.normpath(os.path.join(directory, made)), ref["target"], True))
    ports = [(p["published"], p["target"], p["protocol"]) for p in svc["ports"]]
    return {
        "environment": dict(svc["environment"]), "labels": dict(svc["labels"]), "ports": sorted(ports),
        "volumes": sorted(volumes, key=repr), "command": svc["command"], "entrypoint": svc["entrypoint"],
        "healthcheck": _healthcheck({k: (units.format_duration(v) if k in ("interval", "timeout", "start_period")
                                         and v is not None else v) for k, v in (svc["healthcheck"] or {}).items()})
        if svc["healthcheck"] else None,
    }


def differences(name):
    """-> (None, the CLI's error) or ({(service, field): (ours, the CLI's)}, None)."""
    model, directory, names, variables = _ours(name)
    reference, error = _cli(directory, names, variables)
    if reference is None:
        return None, error
    out = {}
    for service, svc in sorted(model["services"].items()):
        theirs = _cli_service((reference.get("services") or {}).get(service) or {}, directory)
        ours = _our_service(svc, model, directory)
        for field in FIELDS:
            if ours[field] != theirs[field]:
                out[(service, field)] = (ours[field], theirs[field])
    return out, None


@pytest.mark.parametrize("name", FIXTURES)
def test_the_parser_agrees_with_docker_stack_config(name):
    found, error = differences(name)
    if name in CLI_CANNOT_READ:
        words = CLI_CANNOT_READ[name]
        assert found is None and any(w in error for w in ((words,) if isinstance(words, str) else words)), error
        return
    assert error is None, error
    forced = {(service, field) for (fixture, service, field) in FORCED if fixture == name}
    assert set(found) == forced, {key: found[key] for key in set(found) - forced}


def test_every_listed_difference_is_still_one():
    """A difference that went away is taken off the list (the list says only what is true)."""
    for fixture, service, field in FORCED:
        assert fixture not in CLI_CANNOT_READ
        found, _error = differences(fixture)
        assert (service, field) in found, (fixture, service, field)
