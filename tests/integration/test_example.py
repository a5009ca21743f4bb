"""The example stack, the seed's two files unchanged, deploys through the tenant entry point on the
local platform (as `./spin up` does): web x2 and db x1 run, and web answers through the edge load
balancer on the URL the playbook prints, from both replicas."""
import time
import urllib.request

SEED_VARS = "@examples/seed/vars.yml"


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return resp.status, resp.headers.get("X-Served-By") or resp.headers.get("Server"), resp.read()


def test_the_seed_deploys_unchanged_and_answers_through_the_edge(playbook, docker_client):
    result = playbook("playbooks/deploy.yml", "-e", SEED_VARS)
    assert "web: http://127.0.0.1/" in result.output

    running = {}
    for name in ("seed_web", "seed_db"):
        tasks = docker_client.services.get(name).tasks(filters={"desired-state": "running"})
        running[name] = sum(1 for t in tasks if t["Status"]["State"] == "running")
    assert running == {"seed_web": 2, "seed_db": 1}

    # both replicas serve: HAProxy balances round robin over tasks.seed_web
    web_ips = {a["Addresses"][0].split("/")[0]
               for t in docker_client.services.get("seed_web").tasks(filters={"desired-state": "running"})
               for a in t["NetworksAttachments"]}
    seen = set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(seen) < 2:
        status, dummy, dummy = _get("http://127.0.0.1/")
        assert status == 200
        seen.update(_access_log_sources(docker_client))
        time.sleep(0.2)
    assert len(seen) >= 2, "requests through the edge reached %s of the web tasks %s" % (seen, web_ips)

    # the same input again changes nothing
    again = playbook("playbooks/deploy.yml", "-e", SEED_VARS)
    assert again.recap()["changed"] == 0


def _access_log_sources(docker_client):
    """The web containers that logged a request (Apache logs to stdout)."""
    served = set()
    for container in docker_client.containers.list(filters={"label": "com.docker.swarm.service.name=seed_web"}):
        if b"GET / HTTP" in container.logs(tail=50):
            served.add(container.name)
    return served
