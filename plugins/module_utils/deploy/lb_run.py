# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_lb's work: a stack's routes stored or dropped, the edge provisioned and synced (the module file keeps
its documentation and argument spec)."""
from __future__ import annotations

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.deploy import lb_provision
from ansible_collections.spin.platform.plugins.module_utils.edge import haproxy, lb, lb_node
from ansible_collections.spin.platform.plugins.module_utils.edge import claims
from ansible_collections.spin.platform.plugins.module_utils.common import stack_defaults


def run(module, client):
    """spin_lb's task: ``module`` (params, check_mode, warn), ``client`` a SwarmClient -> the result."""
    params = module.params
    check = module.check_mode
    platform = haproxy.normalise_platform(params["platform"])
    stack, tenant = params["stack"], params["tenant"]
    if stack and not tenant:
        raise SpinError("give the tenant that owns stack '%s' (tenant)" % stack)
    has_routes = params["endpoints"] is not None or params["load_balancers"] is not None
    if params["state"] == "absent" and not stack and params["platform_routes"] is None:
        raise SpinError("state=absent needs the stack whose routes to drop (stack, tenant), or platform_routes")
    if has_routes and not stack:
        raise SpinError("endpoints and load_balancers need the stack they belong to (stack, tenant)")
    result = {"changed": False}

    stored = lb.stored_routes(client, platform)
    if stack and params["state"] == "present" and has_routes:
        route_domain = stack_defaults.settings({"route_domain": params["route_domain"]})["route_domain"]
        plan = lb.plan_stack_routes(client, tenant, stack, params["endpoints"], params["load_balancers"], platform,
                                    params["health_checks"], params["files"], check_mode=check,
                                    validate=not params["sync"], route_domain=route_domain)
        doc = plan["routes"]
        result.update({"network": plan["network"], "public_services": plan["public_services"],
                       "attachments": plan["attachments"], "routes": doc})
        # the plan stored the document already (the claim: its config is new) and made the network; this only
        # drops the stack's older documents: each of the three is a change
        claimed = bool(plan["claim"] and plan["claim"]["config"])
        result["stored"] = (lb.store_stack_routes(client, doc, platform, check_mode=check) or claimed
                            or bool(plan["network_created"]))
        if doc["routes"]:
            stored[stack] = {"doc": doc}
        else:
            stored.pop(stack, None)
    elif stack and params["state"] == "absent":
        result["stored"] = lb.drop_stack_routes(client, tenant, stack, platform, check_mode=check)
        stored.pop(stack, None)
    elif params["platform_routes"] is not None:
        page = params["platform_routes"]
        if params["state"] == "absent" or not page["routes"]:
            result["stored"] = lb.drop_stack_routes(client, claims.PLATFORM_TENANT, page["name"], platform,
                                                    check_mode=check)
            stored.pop(page["name"], None)
        else:
            route_domain = stack_defaults.settings({"route_domain": params["route_domain"]})["route_domain"]
            found = lb.store_platform_routes(client, haproxy.platform_routes(page["name"], page["routes"], route_domain),
                                             platform, check_mode=check)
            result.update({"network": found["network"], "routes": found["routes"],
                           "attachments": found["attachments"], "stored": found["changed"]})
            stored[page["name"]] = dict(stored.get(page["name"]) or {}, doc=found["routes"])
    result["changed"] = result["changed"] or bool(result.get("stored"))

    if params["provision"]:
        edge = lb_provision.ensure_edge(client, platform, check_mode=check, wait=params["wait"],
                                        wait_timeout=params["wait_timeout"])
        for warning in edge.pop("warnings"):
            module.warn(warning)
        result["edge"] = edge
        result["changed"] = result["changed"] or edge["changed"]

    if params["sync"]:
        synced = lb_node.sync_edge(client, platform, check_mode=check, stored=stored)
        if params["edge"]:
            # the config is on disk first, so that a new container starts with it
            container = lb_provision.ensure_edge_container(client, platform, check_mode=check)
            result["edge_container"] = container
            if container["changed"] and not check:
                lb_node.EdgeNode(platform).wait_running(params["wait_timeout"])
                synced = dict(lb_node.sync_edge(client, platform, stored=stored), changed=True)
        result["diff"] = synced.pop("diff")
        result["changed"] = result["changed"] or synced.pop("changed")
        result.update(synced)
    if params["sync"] and params["wait"] and not check:
        lb_node.EdgeNode(platform).wait_running(params["wait_timeout"])
    return result
