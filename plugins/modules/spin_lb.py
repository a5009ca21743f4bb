#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_lb
short_description: Route a stack through the platform's HAProxy edge, and keep each edge node's config current
version_added: 0.1.0
description:
  - "The platform's edge is HAProxy running as the Swarm service C(spin_edge) on every node labelled
    C(spin.edge=true), with its ports published in host mode. This module keeps it configured: the
    routes of every fronted stack are stored in Swarm (one Swarm config per stack), and on each edge
    node the full C(haproxy.cfg) is rendered from them, checked with C(haproxy -c), written and reloaded
    without dropping connections (master-worker reload, listening sockets handed over, server state
    carried over)."
  - "With O(state=present) and a stack's routes (O(endpoints) and/or O(load_balancers)): stores the
    routes as the stack's claim and checks it (a hostname or port that another stack holds is refused,
    naming the holder, and the stored routes are taken back), makes the stack's own load balancer network
    (C(<network_prefix><stack>)), then renders, checks and reloads this node's edge. Nothing is left
    changed when anything is refused."
  - With O(state=present) and no stack (sync), only renders this node's edge from the stored routes.
  - With O(state=absent), forgets the stack's routes and reloads this node's edge; the stack's network
    goes once no edge container is on it.
  - "The same input gives a byte-identical C(haproxy.cfg): then nothing is written or reloaded and
    C(changed) is false."
  - With O(provision=true) (once, on a manager) it makes the edge's stats relay service match the platform
    variables, and migrates a platform from the pool design (an edge service on a fixed pool of networks).
  - With O(edge=true) (on each edge node) it makes this node's edge container match the platform variables
    and joins it to every fronted stack's network. The role C(spin.platform.lb_edge) does both.
  - "Options left out of O(platform) default to the inventory variables C(spin_lb_<key>)
    (e.g. C(spin_lb_ports)), else to the defaults below. The tenant's extra vars may not set them."
extends_documentation_fragment:
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
  - spin.platform.attributes.action
attributes:
  check_mode:
    support: full
    details: Checks the claims and the new configuration (C(haproxy -c) runs), stores and reloads nothing.
  diff_mode:
    support: full
    details: The change of this node's C(haproxy.cfg) (the stats password is redacted).
  idempotent:
    support: full
  action:
    support: full
    details: An action plugin fills O(platform) from the inventory variables C(spin_lb_*).
options:
  state:
    description: Whether the stack's routes should be served or be gone.
    type: str
    choices: [present, absent]
    default: present
  tenant:
    description: The tenant that owns O(stack). Needed with O(stack).
    type: str
  stack:
    description:
      - The stack whose routes are given (O(state=present)) or dropped (O(state=absent)).
      - Without it the module only syncs (and with O(provision), provisions) the edge.
    type: str
  endpoints:
    description:
      - The stack's public C(ports), as spin_stack's translator returns them.
      - Each published port becomes an HTTP route on that port for any hostname (the whole port is the stack's).
    type: list
    elements: dict
    suboptions:
      service:
        description: The Swarm service name (C(<stack>_<service>)) or the compose service name.
        type: str
        required: true
      compose_service:
        description: The compose service name, when O(endpoints[].service) is the Swarm name.
        type: str
      target:
        description: The container port.
        type: int
        required: true
      published:
        description: The port the edge publishes; one of the platform's C(ports).
        type: int
      protocol:
        description: C(tcp); UDP cannot go through HAProxy.
        type: str
        default: tcp
  load_balancers:
    description:
      - The stack model's C(load_balancers) (rancher-compose C(lb_config)), by load balancer name, each with
        C(port_rules) (C(source_port), C(target_port), C(service), C(hostname), C(path), C(priority),
        C(protocol) one of C(http), C(https), C(tcp), C(tls)), C(stickiness), C(certs) and C(default_cert).
      - C(https) and C(tls) end TLS at the edge with the platform's certificates (C(certificates)), chosen by SNI.
    type: dict
  health_checks:
    description:
      - "The rancher-compose C(health_check) of the target services, by compose service name: C(port),
        C(interval), C(response_timeout) (nanoseconds, as in the stack model), C(healthy_threshold),
        C(unhealthy_threshold), C(request_line) (e.g. C(GET /healthz HTTP/1.0)). They become HAProxy health
        checks; without one a server is checked by connecting to it."
    type: dict
  files:
    description: The tenant's file names (C(compose), C(rancher)) to name in error messages.
    type: dict
  route_domain:
    description:
      - The platform's automatic-route domain (C(spin_platform.route_domain)), under which each tenant owns
        C(<tenant>.<route_domain>) and what is under it. A host name of the stack's rules there must lie
        inside its own tenant's; the action plugin fills it from C(spin_platform), else C(localhost).
    type: str
  platform_routes:
    description:
      - A page of the platform itself on the edge (the monitoring role's Prometheus), stored as the platform's routes
        document O(platform_routes.name) with a load balancer network of its own (C(<network_prefix><name>)); its
        services join that network with RV(attachments). With O(state=absent), the document is dropped.
      - A route's host name defaults to the route domain itself (C(spin_platform.route_domain)), which no tenant may
        claim; with C(auth) (the default) the page asks for the stats page's user and password.
    type: dict
    suboptions:
      name:
        description: The routes' name; it must hold a C(_), as no tenant's stack name does (V(spin_monitoring)).
        type: str
        required: true
      routes:
        description: The pages, each C({service, target_port, path, hostname, port, auth}).
        type: list
        elements: dict
        default: []
  sync:
    description:
      - Render, check, write and reload the edge of this node. Set false on a manager that is not an edge node.
    type: bool
    default: true
  provision:
    description:
      - Also make the edge's cluster-wide part match (the stats relay service; the pool design migrated away).
    type: bool
    default: false
  edge:
    description:
      - Also make this node's edge container match the platform variables (created, replaced, started),
        after writing its configuration, so that it starts with it.
    type: bool
    default: false
  wait:
    description:
      - With O(sync=true), wait until the edge HAProxy of this node answers on its master socket (after
        provisioning). With O(provision=true), wait until the stats relay runs. Not in check mode.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the edge services to run (O(provision=true)) and for HAProxy to answer (O(wait=true)).
    type: int
    default: 120
  platform:
    description:
      - The platform variables of the load balancer. Each key left out defaults to the inventory variable
        C(spin_lb_<key>), else to the default given here.
    type: dict
    suboptions:
      edge_service:
        description: The edge's Swarm service; its stats relay is C(<edge_service>_stats).
        type: str
        default: spin_edge
      image:
        description: The HAProxy image (built on every node by the images role).
        type: str
        default: spin/haproxy:2.6
      network_prefix:
        description: Prefix of the load balancer networks, one per fronted stack (C(<prefix><stack>)).
        type: str
        default: spin-lb-
      ports:
        description:
          - The host ports stacks may claim (numbers or ranges like C(8000-8009)). The edge publishes all
            of them at provisioning, so that a stack taking a port needs only a reload.
          - Changing it replaces the edge container of each node (a second or two without HAProxy).
        type: list
        elements: raw
        default: [80, 443, 8000-8009]
      hostnames:
        description: Patterns (C(fnmatch)) of the hostnames stacks may claim, e.g. C(*.spin.example.org).
        type: list
        elements: str
        default: ['*']
      certificates:
        description:
          - Platform TLS certificates, each C({name, file}) with the path, on every edge node, of a PEM with
            certificate, chain and key (root-only). The first is the default one; the others are chosen by SNI.
          - They are mounted into the edge container, so adding one replaces it (a second or two per node).
        type: list
        elements: dict
        default: []
      servers:
        description:
          - Server slots per backend (C(server-template)) at least. A service whose stack asks for more replicas
            gets its replicas and a fifth more, in tens, so scaling it through a deploy is a hitless reload.
        type: int
        default: 10
      config_dir:
        description: The directory on each edge node with C(haproxy.cfg) and the HAProxy sockets (C(run/)).
        type: str
        default: /var/lib/spin/edge
      stats_port:
        description: The port of the stats page (served by the stats relay on the host's network).
        type: int
        default: 8404
      stats_bind:
        description: The address the stats page listens on; C(127.0.0.1) keeps it on the node itself.
        type: str
        default: 127.0.0.1
      stats_user:
        description: User name of the stats page.
        type: str
        default: admin
      stats_password:
        description:
          - Password of the stats page. Empty, each edge node generates one and keeps it in
            C(<config_dir>/stats.password) (readable by root only).
        type: str
        default: ''
      hard_stop_after:
        description: How long an old HAProxy worker may finish its connections after a reload.
        type: str
        default: 60s
      maxconn:
        description: HAProxy's global C(maxconn); 0 lets HAProxy derive it from the file descriptor limit.
        type: int
        default: 0
      nbthread:
        description: HAProxy's threads; 0 lets HAProxy use every CPU of the node.
        type: int
        default: 0
      https_port:
        description:
          - Every HTTP route with a host name is served over HTTPS on this port too (one of O(platform.ports)),
            with a certificate chosen by SNI from the stack's (issued by the platform CA, or the tenant's own);
            0 turns it off. Certificates are loaded through HAProxy's runtime API, never with a restart.
        type: int
        default: 443
      ca_dir:
        description:
          - Directory, on the deploying manager, of the platform CA (C(ca.crt), C(ca.key)) that issues the
            stacks' certificates; by default the registry role's, whose certificate the nodes trust. Made
            there when missing.
        type: str
        default: /etc/spin/registry
      cert_days:
        description: How long a certificate the platform issues is valid, in days.
        type: int
        default: 90
      cert_renew_days:
        description: A deploy issues a stack's certificate again when fewer than this many days are left.
        type: int
        default: 30
notes:
  - "Scaling a fronted service needs no reload: backends are C(server-template) entries resolved through
    Swarm's DNS (C(tasks.<stack>_<service>))."
  - Run it on every edge node; a node that is not a swarm manager cannot read the stored routes, point
    O(docker_host) at a manager then.
seealso:
  - module: spin.platform.spin_stack
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Route stack magic through the edge (spin_stack does this for a deploy)
  spin.platform.spin_lb:
    tenant: cory
    stack: magic
    endpoints:
      - {service: magic_web, compose_service: web, target: 80, published: 8000, protocol: tcp}
    load_balancers:
      lb:
        port_rules:
          - {source_port: 80, target_port: 80, service: web, hostname: www.example.org, protocol: http}
          - {source_port: 80, target_port: 8080, service: api, hostname: www.example.org, path: /api,
             protocol: http}
        stickiness: {cookie: MAGIC}
    health_checks:
      web: {port: 80, interval: 2000000000, healthy_threshold: 2, unhealthy_threshold: 3,
            request_line: GET /healthz HTTP/1.0}

- name: Bring every edge node up to date with the stored routes
  spin.platform.spin_lb:
  check_mode: true
  diff: true

- name: Stop routing stack magic
  spin.platform.spin_lb:
    tenant: cory
    stack: magic
    state: absent

- name: Serve Prometheus's page at http://<route domain>/prometheus/, behind the stats password
  spin.platform.spin_lb:
    platform_routes:
      name: spin_monitoring
      routes:
        - {service: prometheus, target_port: 9090, path: /prometheus}
  register: page
'''

RETURN = r'''
network:
  description: The load balancer network of the stack (of O(platform_routes)); its public services must join it.
  returned: when a stack is given with routes, or O(platform_routes)
  type: str
  sample: spin-lb-03
public_services:
  description: The stack's compose services that the edge forwards to (they must join RV(network)).
  returned: when a stack is given with routes
  type: list
  elements: str
  sample: [web, api]
attachments:
  description:
    - How each of RV(public_services) joins RV(network) - with the platform's alias only, the name the edge
      resolves its tasks by (C(tasks.<alias>)); none of the tenant's own aliases.
  returned: when a stack is given with routes, or O(platform_routes)
  type: dict
  sample: {web: {name: spin-lb-magic, aliases: [spin-be-abf3d96bd2876602fe677fcfb24b8678]}}
routes:
  description: The stack's normalised routes document, as stored in Swarm.
  returned: when a stack is given with routes, or O(platform_routes)
  type: dict
stored:
  description: Whether the stack's stored routes changed (or would change).
  returned: when a stack is given
  type: bool
config_changed:
  description: Whether this node's C(haproxy.cfg) changed (or would change).
  returned: when O(sync=true)
  type: bool
reloaded:
  description: Whether HAProxy on this node was reloaded.
  returned: when O(sync=true)
  type: bool
reload_seconds:
  description: Seconds from the reload command until the new HAProxy worker took over.
  returned: when reloaded
  type: float
  sample: 0.11
stacks:
  description: The stacks this node's edge routes to.
  returned: when O(sync=true)
  type: list
  elements: str
edge:
  description: What provisioning did (stacks migrated from the pool design, the stats relay's result).
  returned: when O(provision=true)
  type: dict
edge_container:
  description: What happened to this node's edge container (C(action) none, create, replace or start).
  returned: when O(edge=true)
  type: dict
networks:
  description: The stack networks this node's edge container joined (C(connected)) and left (C(disconnected)).
  returned: when O(sync=true)
  type: dict
worker:
  description:
    - How the module ran on the node (C(warm), C(started), or C(off) and the reason), as for
      M(spin.platform.spin_stack).
  returned: always
  type: str
  sample: warm
'''

from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec
from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import run_module
# the work lives in module_utils; run stays importable from here (the warm worker runs it: worker/task.py)
from ansible_collections.spin.platform.plugins.module_utils.deploy.lb_run import run


def argument_spec():
    spec = {
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "tenant": {"type": "str"},
        "stack": {"type": "str"},
        "endpoints": {"type": "list", "elements": "dict", "options": {
            "service": {"type": "str", "required": True},
            "compose_service": {"type": "str"},
            "target": {"type": "int", "required": True},
            "published": {"type": "int"},
            "protocol": {"type": "str", "default": "tcp"},
        }},
        "load_balancers": {"type": "dict"},
        "health_checks": {"type": "dict"},
        "files": {"type": "dict"},
        "route_domain": {"type": "str"},
        "platform_routes": {"type": "dict", "options": {
            "name": {"type": "str", "required": True},
            "routes": {"type": "list", "elements": "dict", "default": []},
        }},
        "sync": {"type": "bool", "default": True},
        "provision": {"type": "bool", "default": False},
        "edge": {"type": "bool", "default": False},
        "wait": {"type": "bool", "default": False},
        "wait_timeout": {"type": "int", "default": 120},
        "platform": {"type": "dict", "options": {
            "edge_service": {"type": "str", "default": "spin_edge"},
            "image": {"type": "str", "default": "spin/haproxy:2.6"},
            "network_prefix": {"type": "str", "default": "spin-lb-"},
            "ports": {"type": "list", "elements": "raw", "default": [80, 443, "8000-8009"]},
            "hostnames": {"type": "list", "elements": "str", "default": ["*"]},
            "certificates": {"type": "list", "elements": "dict", "default": []},
            "servers": {"type": "int", "default": 10},
            "config_dir": {"type": "str", "default": "/var/lib/spin/edge"},
            "stats_port": {"type": "int", "default": 8404},
            "stats_bind": {"type": "str", "default": "127.0.0.1"},
            "stats_user": {"type": "str", "default": "admin"},
            "stats_password": {"type": "str", "default": "", "no_log": True},
            "hard_stop_after": {"type": "str", "default": "60s"},
            "maxconn": {"type": "int", "default": 0},
            "nbthread": {"type": "int", "default": 0},
            "https_port": {"type": "int", "default": 443},
            "ca_dir": {"type": "str", "default": "/etc/spin/registry"},
            "cert_days": {"type": "int", "default": 90},
            "cert_renew_days": {"type": "int", "default": 30},
        }},
    }
    spec.update(connection_argument_spec())
    return spec


def main():
    run_module(argument_spec(), run)


if __name__ == "__main__":
    main()
