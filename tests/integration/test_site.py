"""The foundation converges on this machine and a second run changes nothing."""


def test_site_converges_then_changes_nothing(playbook, docker_client):
    playbook("playbooks/site.yml")
    again = playbook("playbooks/site.yml")
    recap = again.recap()
    assert recap["failed"] == 0
    assert recap["changed"] == 0, "second converge changed something:\n" + again.output[-4000:]

    swarm = docker_client.info()["Swarm"]
    assert swarm["LocalNodeState"] == "active"
    assert swarm["ControlAvailable"] is True
    node = docker_client.nodes.get(swarm["NodeID"])
    assert node.attrs["Spec"]["Labels"].get("spin.edge") == "true"


def test_site_check_mode_reports_no_change(playbook):
    result = playbook("playbooks/site.yml", "--check", "--diff")
    assert result.recap()["changed"] == 0, result.output[-4000:]


def test_every_platform_image_carries_its_recipe_label(docker_client):
    for tag in ("spin/base:bookworm", "httpd:latest", "mysql:latest", "mariadb:latest", "spin/haproxy:2.6"):
        labels = docker_client.images.get(tag).labels or {}
        assert len(labels.get("spin.recipe", "")) == 64, tag
