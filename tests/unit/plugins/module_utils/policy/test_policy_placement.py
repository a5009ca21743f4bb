"""The policy's rule ``placement`` (issue 17): a tenant's constraints and preferences may narrow where its
tasks run among the nodes the platform gives tenants, never select managers or the platform's own nodes
(spin.edge, spin.build, spin.registry, spin.fs.*). Constraints are read as Swarm reads them
(swarmkit's constraint parser: "==" looked for first, keys compared case-insensitively)."""
import textwrap

import pytest

from ansible_collections.spin.platform.plugins.module_utils.policy import placement, policy, policy_settings
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate

TENANTS = {"cory": {"uid": 1000, "gid": 1000, "paths": []}}


def verdict(compose_text, rancher_text=None, files=None):
    """(parse errors, policy violations) of a submission, as the one verdict computes them."""
    model, diagnostics = compose.parse_stack(textwrap.dedent(compose_text), "docker-compose.yml",
                                             textwrap.dedent(rancher_text) if rancher_text else None,
                                             "rancher-compose.yml", read_file=(files or {}).get)
    errors = [diag.format_diagnostic(d) for d in diagnostics if d["severity"] == "error"]
    pol = policy_settings.merge_policy({"spin_tenants": TENANTS})
    entry = pol["tenants"]["cory"]
    model = policy.apply_policy_defaults(model, "cory", entry, pol)
    return errors, policy.evaluate(model, "cory", entry, pol, stack="demo")


def placed(constraints=(), preferences=(), max_replicas=None):
    deploy = {"constraints": list(constraints), "preferences": [{"spread": p} for p in preferences]}
    if max_replicas is not None:
        deploy["max_replicas_per_node"] = max_replicas
    return "services:\n  web:\n    image: httpd\n    deploy:\n      placement: %s\n" % (deploy,)


# constraints a tenant may write: they narrow the tenants' nodes by labels the platform staff give them
ALLOWED = [
    ["node.labels.zone==a"],
    ["node.labels.zone != b", "node.labels.ssd==true"],
    ["node.platform.os==linux"],
    ["node.platform.arch!=aarch64"],
    ["NODE.PLATFORM.OS == linux"],
    ["node.labels.spinach==yes"],            # not the platform's namespace (spin.)
]

# (constraint, what the message says about it)
REFUSED = [
    ("node.role==manager", "node.role"),
    ("node.role != worker", "node.role"),
    ("node.role==worker", "node.role"),                     # the platform says which roles run tenants
    ("NODE.ROLE==manager", "NODE.ROLE"),                    # Swarm compares keys case-insensitively
    ("node.id==6g0a9qs4d3p5", "node.id"),
    ("node.hostname==manager-1", "node.hostname"),
    ("node.hostname!=worker-1", "node.hostname"),
    ("node.ho\u017ftname==manager-1", "node.ho\u017ftname"),  # a long s: Swarm folds it to s
    ("node.ip==10.0.0.1", "node.ip"),
    ("engine.labels.operatingsystem==debian", "engine.labels.operatingsystem"),
    ("node.labels.spin.edge==true", "spin.edge"),
    ("node.labels.spin.edge!=true", "spin.edge"),
    ("node.labels.spin.build==true", "spin.build"),
    ("node.labels.spin.registry==true", "spin.registry"),
    ("node.labels.spin.fs.cfs==true", "spin.fs.cfs"),
    ("Node.Labels.spin.edge==true", "spin.edge"),
    ("node.labels.Spin.Edge==true", "Spin.Edge"),
    ("node.labels.com.docker.stack.namespace==x", "com.docker.stack.namespace"),
    ("node.platform==linux", "node.platform"),             # not an attribute: no node would match
    ("node.labels.==x", "node.labels."),
]


@pytest.mark.parametrize("constraints", ALLOWED)
def test_constraints_that_narrow_the_tenants_nodes_are_allowed(constraints):
    assert verdict(placed(constraints, preferences=["node.labels.zone"], max_replicas=1)) == ([], [])


@pytest.mark.parametrize("constraint, named", REFUSED)
def test_constraints_that_could_select_the_platforms_nodes_are_refused(constraint, named):
    errors, violations = verdict(placed(["node.labels.zone==a", constraint]))
    assert errors == []
    assert [(v["rule"], v["file"], v["service"], v["key"]) for v in violations] == [
        ("placement", "docker-compose.yml", "web", "deploy.placement.constraints")], violations
    assert "'%s'" % constraint.strip() in violations[0]["message"] and named in violations[0]["message"]
    assert "node.labels.<name>" in violations[0]["fix"]


@pytest.mark.parametrize("spread, allowed", [
    ("node.labels.zone", True),
    ("node.labels.spin.edge", False),     # half the tasks on the edge nodes, whatever their number
    ("node.labels.spin.fs.cfs", False),
    ("node.role", False),
    ("node.hostname", False),
    ("engine.labels.rack", False),
])
def test_preferences_spread_only_over_the_tenants_labels(spread, allowed):
    errors, violations = verdict(placed(preferences=[spread]))
    assert errors == []
    if allowed:
        assert violations == []
    else:
        assert [(v["rule"], v["key"]) for v in violations] == [("placement", "deploy.placement.preferences")]
        assert "'spread: %s'" % spread in violations[0]["message"]


def test_every_refused_constraint_is_named_at_once_with_its_fix():
    errors, violations = verdict(placed(["node.role==manager", "node.labels.spin.edge==true"], ["node.role"]))
    assert [policy_settings.format_violation(v) for v in violations] == [
        "docker-compose.yml: service 'web': key 'deploy.placement.constraints': [placement] 'node.role==manager' "
        "places by the node's role (node.role): which nodes run tenants' services is the platform's to say; "
        "remove it: tenants narrow placement only by node.labels.<name> (labels outside spin.*) and "
        "node.platform.os / node.platform.arch",
        "docker-compose.yml: service 'web': key 'deploy.placement.constraints': [placement] "
        "'node.labels.spin.edge==true' places by the platform's own node label spin.edge (edge, build and registry "
        "nodes, global file systems); remove it: tenants narrow placement only by node.labels.<name> (labels "
        "outside spin.*) and node.platform.os / node.platform.arch",
        "docker-compose.yml: service 'web': key 'deploy.placement.preferences': [placement] 'spread: node.role' "
        "spreads over the node's role (node.role): which nodes run tenants' services is the platform's to say; "
        "remove it, or spread over a label the platform staff give tenants' nodes (spread: node.labels.<name>)"]


def test_placement_from_a_compose_v2_file_and_through_extends_is_judged_the_same():
    v2 = ("version: '2.4'\nservices:\n  web:\n    image: httpd\n"
          "    deploy: {placement: {constraints: [node.role==manager]}}\n")
    assert [v["rule"] for v in verdict(v2)[1]] == ["placement"]
    base = ("services:\n  base:\n    image: httpd\n"
            "    deploy: {placement: {constraints: [node.labels.spin.edge==true]}}\n")
    extended = "services:\n  web:\n    extends: {file: base.yml, service: base}\n"
    errors, violations = verdict(extended, files={"base.yml": base})
    assert errors == [] and [(v["rule"], v["service"]) for v in violations] == [("placement", "web")]


@pytest.mark.parametrize("label", ["io.rancher.scheduler.affinity:host_label", "io.rancher.scheduler.global",
                                   "com.docker.swarm.constraints"])
def test_rancher_and_classic_swarm_scheduler_labels_place_nothing_and_say_so(label):
    text = "services:\n  web:\n    image: httpd\n    labels: {'%s': 'spin.edge=true'}\n" % label
    model, diagnostics = compose.parse_stack(text, "docker-compose.yml")
    assert [diag.format_diagnostic(d) for d in diagnostics] == [
        "docker-compose.yml: service 'web': key 'labels.%s': warning: a scheduler label of Rancher or classic Swarm "
        "places nothing here (the platform chooses the nodes): narrow where the service runs with "
        "deploy.placement.constraints on node.labels.<name>, or remove the label" % label]
    assert model["services"]["web"]["deploy"]["placement"]["constraints"] == []


def test_the_rule_can_be_disabled_by_the_platform():
    model, dummy = compose.parse_stack(placed(["node.role==manager"]), "docker-compose.yml")
    pol = policy_settings.merge_policy({"spin_tenants": TENANTS, "spin_policy": {"disabled_rules": ["placement"]}})
    assert policy.evaluate(model, "cory", pol["tenants"]["cory"], pol, stack="demo") == []


# ---- constraints as Swarm reads them ---------------------------------------------------------------------

@pytest.mark.parametrize("text, parts", [
    ("node.role==manager", ("node.role", "==", "manager")),
    ("  node.labels.zone  !=  a b ", ("node.labels.zone", "!=", "a b")),
    ("node.labels.zone==x!=y", None),           # "==" first: the value 'x!=y' is not one Swarm takes
    ("node.labels.zone!=a==b", None),           # "==" first: the key 'node.labels.zone!=a' is refused
    ("node.labels.zone", None),
    ("node.labels.zone==", None),
    ("==worker", None),
    ("node.r\u0131le==worker", None),           # a dotless i: Swarm's key pattern refuses it
    ("node.ho\u017ftname==m", ("node.ho\u017ftname", "==", "m")),
])
def test_split_constraint_reads_like_swarm(text, parts):
    assert placement.split_constraint(text) == parts


@pytest.mark.parametrize("text, message", [
    ("node.labels.zone!=a==b", "'node.labels.zone!=a==b' is not a constraint Swarm reads"),
    ("node.labels.zone==x;y", "'node.labels.zone==x;y' is not a constraint Swarm reads"),
])
def test_the_parser_refuses_what_swarm_would_refuse_at_create(text, message):
    errors, dummy = verdict(placed([text]))
    assert len(errors) == 1 and message in errors[0], errors


# ---- the nodes the platform gives tenants (spin_platform.tenant_constraints) ---------------------------

def tasks_of(compose_text, platform=None, filesystems=None):
    model, dummy = compose.parse_stack(textwrap.dedent(compose_text), "docker-compose.yml")
    return translate.stack_to_tasks(model, "cory", "demo", platform, filesystems)


def test_the_platforms_constraints_come_first_on_every_service():
    text = ("services:\n  web:\n    image: httpd\n    deploy: {placement: {constraints: [node.labels.zone==a]}}\n"
            "  db:\n    image: mysql\n    volumes: ['/global/cfs/db:/db']\n")
    fs = {"cfs": {"src": "nfs:/cfs", "path": "/global/cfs", "fstype": "nfs4"}}
    platform = {"tenant_constraints": ["node.role==worker", "node.labels.spin.edge!=true"]}
    services = {s["name"]: s for s in tasks_of(text, platform, fs)["services"]}
    assert services["demo_web"]["placement"]["constraints"] == [
        "node.role==worker", "node.labels.spin.edge!=true", "node.labels.zone==a"]
    assert services["demo_db"]["placement"]["constraints"] == [
        "node.role==worker", "node.labels.spin.edge!=true", "node.labels.spin.fs.cfs==true"]


def test_without_them_nothing_is_added():
    services = tasks_of("services:\n  web:\n    image: httpd\n")["services"]
    assert services[0]["placement"] is None


@pytest.mark.parametrize("value", ["node.role==worker", ["node.role"], [5], ["node.role!=a==b"]])
def test_the_platforms_constraints_are_checked(value):
    with pytest.raises(SpinError) as failed:
        tasks_of("services:\n  web:\n    image: httpd\n", {"tenant_constraints": value})
    assert "spin_platform.tenant_constraints" in failed.value.message
