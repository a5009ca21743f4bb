"""One verdict (issue 8): spin_policy, spin_translate and spin_stack judge a submission on the
controller with the same code, so they return the same diagnostics for the same files. Each action
plugin runs here as Ansible runs it, with the module on the manager answering as it does when the
swarm adds nothing (no other owner, quota left, the engine as it should be): every problem, and
every warning, comes from the controller, and the three must agree on every fixture."""
import os

import pytest

from ansible_collections.spin.platform.plugins.action import spin_policy, spin_stack, spin_translate
from ansible_collections.spin.platform.tests.unit import tenant_tree
from ansible_collections.spin.platform.tests.unit.plugins.action.action_runner import run, verdict


HERE = os.path.dirname(__file__)


CASES = sorted(os.listdir(tenant_tree.FIXTURES)) + ["seed"]


@pytest.mark.parametrize("name", CASES)
def test_policy_translate_and_stack_give_one_verdict(name, tmp_path):
    root, directory = tenant_tree.fixture(name)
    results = {plugin.__name__.rsplit(".", 1)[-1]: run(plugin, root, directory, str(tmp_path / "tasks.yml"),
                                                       check_mode=plugin is spin_stack)
               for plugin in (spin_policy, spin_translate, spin_stack)}
    verdicts = {plugin: verdict(result) for plugin, result in results.items()}
    assert verdicts["spin_translate"] == verdicts["spin_policy"] == verdicts["spin_stack"], verdicts
    refused = bool(verdicts["spin_policy"][0])
    assert [bool(results[p].get("failed")) for p in ("spin_policy", "spin_translate", "spin_stack")] == [refused] * 3
    if refused:
        # the same problems, each with the file (and service) it belongs to
        assert all(line.startswith(("docker-compose.yml: ", "rancher-compose.yml: ")) for line in verdicts[
            "spin_policy"][0]), verdicts["spin_policy"][0]
        assert not (tmp_path / "tasks.yml").exists()
    else:
        assert (tmp_path / "tasks.yml").exists()


def test_a_load_balancer_rule_is_refused_by_all_three_before_the_manager(tmp_path):
    """Before issue 8, spin_policy and spin_translate passed a stack that spin_stack refused on the
    manager (the edge's rules were checked only there): a service with a port outside the edge's list
    (since issue 18 a raw TCP one: an HTTP port is served on the service's route instead)."""
    root, directory = tenant_tree.submission(tmp_path)
    with open(os.path.join(directory, "docker-compose.yml"), "w") as handle:
        handle.write("services:\n  git:\n    image: gitea/gitea\n    ports: ['2222:22']\n")
    tenant_tree.hand_in(directory)
    expected = ["docker-compose.yml: service 'git': key 'ports[0]': port 2222 is not one the platform lets stacks "
                "publish: use one of 80, 443, 8000-8009 (the platform variable lb_ports); infra staff let it through "
                "by adding 2222 to spin_lb_ports"]
    for plugin in (spin_policy, spin_translate, spin_stack):
        result = run(plugin, root, directory, str(tmp_path / "tasks.yml"))
        assert result.get("failed") and verdict(result)[0] == expected, (plugin.__name__, result)


def test_an_http_port_outside_the_edges_list_is_served_on_the_route_by_all_three_with_the_url(tmp_path):
    """Issue 18: a laptop's 8080:80 means "open it in a browser": served at the service's own host name,
    with a warning that gives the URL, the same from all three."""
    root, directory = tenant_tree.submission(tmp_path)
    with open(os.path.join(directory, "docker-compose.yml"), "w") as handle:
        handle.write("services:\n  web:\n    image: httpd\n    ports: ['8080:80']\n")
    tenant_tree.hand_in(directory)
    warning = ("docker-compose.yml: service 'web': key 'ports[0]': warning: port 8080 is not one the edge publishes, "
               "so the service's port 80 is served as HTTP at http://web.st.demo.localhost/ instead (its own host "
               "name on the edge): open that; write '80:80' to say so (a port that does not speak HTTP needs one the "
               "edge publishes: spin_lb_ports)")
    for plugin in (spin_policy, spin_translate, spin_stack):
        result = run(plugin, root, directory, str(tmp_path / "tasks.yml"), check_mode=plugin is spin_stack)
        assert not result.get("failed") and verdict(result) == ([], [warning]), (plugin.__name__, result)
