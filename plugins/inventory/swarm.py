# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
name: swarm
short_description: The spin platform's Docker Swarm as inventory - nodes, tenants, stacks and services
description:
  - Reads the swarm's nodes and the services of spin stacks from the Docker API of a swarm manager.
  - Uses a YAML configuration file whose name ends with V(spin_swarm.yml) or V(spin_swarm.yaml).
  - B(Nodes) become hosts named by their hostname, in the groups C(spin_managers) or C(spin_workers),
    both children of C(spin_nodes).
  - B(Services) of spin stacks (services that carry the labels C(spin.tenant) and C(spin.stack)) become
    hosts named like the Swarm service, C(<stack>_<service>), in the group C(stack_<stack>), which is a
    child of C(tenant_<tenant>). So C(ansible-inventory --graph) shows tenant, then stack, then service.
    A service host is a record of the service, not a machine to log in to; the plugin sets no
    C(ansible_host) or C(ansible_connection) for it. Target C(spin_nodes) for machines and use service
    hosts with C(delegate_to) a manager, for reports or to select services in C(groups)/C(keyed_groups).
  - Services without both labels (the platform's own, or anything not deployed by spin) are left out.
    The labels, never the names, decide which tenant and stack a service belongs to.
  - With O(tenant) set, the plugin asks Docker only for that tenant's services, so no other tenant's
    stacks, services or group names appear in the inventory, and none are written to the cache.
  - Group names are made safe for Ansible (characters other than letters, digits and C(_) become C(_)).
  - The constructed options (O(compose), O(groups), O(keyed_groups)) apply to node hosts and service
    hosts alike; the variable C(spin_kind) (V(node) or V(service)) tells them apart.
author:
  - spin.platform contributors (@spin-platform)
version_added: 0.1.0
extends_documentation_fragment:
  - ansible.builtin.constructed
  - ansible.builtin.inventory_cache
requirements:
  - Docker SDK for Python 7.1.0 or later on the controller (Debian 12's python3-docker 5.0.3 with its python3-requests)
  - The Docker API of a swarm manager (listing nodes and services needs one)
  - For V(ssh://) engines, C(paramiko) on the controller (the SDK needs it for every V(ssh://) URL) and, with
    O(use_ssh_client), the C(ssh) client; the remote user must be allowed to run C(docker system dial-stdio) there
options:
  plugin:
    description: Marks this file as a configuration of this plugin. It must be V(spin.platform.swarm).
    type: str
    required: true
    choices: [spin.platform.swarm]
  docker_host:
    description:
      - The Docker engine of a swarm manager, as a URL such as V(unix:///var/run/docker.sock),
        V(tcp://10.0.0.5:2376) (with O(tls) or O(validate_certs) for an engine that listens with TLS) or
        V(ssh://admin@manager1.example.org) (the engine's socket through SSH, see O(use_ssh_client)).
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
    env:
      - name: DOCKER_HOST
  timeout:
    description: Seconds to wait for one answer of the Docker API.
    type: int
    default: 60
    env:
      - name: DOCKER_TIMEOUT
  tls:
    description:
      - Talk to a V(tcp://) O(docker_host) over TLS, as C(docker --tls) does.
      - This alone encrypts but does not check who answers; set O(validate_certs) for that.
    type: bool
    default: false
    env:
      - name: DOCKER_TLS
  validate_certs:
    description:
      - Talk over TLS and check the engine's certificate, as C(docker --tlsverify) does - against O(ca_path), else
        the controller's trusted CAs - and that it names the host of O(docker_host).
      - Implies O(tls).
    type: bool
    default: false
    aliases: [tls_verify]
    env:
      - name: DOCKER_TLS_VERIFY
  ca_path:
    description:
      - The CA certificate (PEM) that signed the engine's certificate (C(dockerd --tlscacert)'s counterpart).
      - Used with O(validate_certs) only; given without it, the plugin refuses rather than ignore it.
    type: path
    aliases: [ca_cert, tls_ca_cert]
  client_cert:
    description:
      - The client certificate (PEM) to show the engine, for engines that run with C(--tlsverify) and so accept
        only clients whose certificate their CA signed. Needs O(client_key) and O(tls) or O(validate_certs).
    type: path
    aliases: [tls_client_cert]
  client_key:
    description: The private key (PEM) of O(client_cert).
    type: path
    aliases: [tls_client_key]
  use_ssh_client:
    description:
      - For an V(ssh://) O(docker_host), connect with the system's C(ssh) client (its C(~/.ssh/config), keys and
        agent) instead of the Python library C(paramiko).
    type: bool
    default: false
  tenant:
    description:
      - Show only this tenant's stacks and services (the value of their C(spin.tenant) label).
      - Other tenants' services are not even read from Docker, so nothing of them (names, groups,
        variables) reaches the inventory or the cache.
      - An empty value is refused rather than read as "every tenant".
    type: str
  include_nodes:
    description:
      - Whether the swarm's nodes become hosts (groups C(spin_nodes), C(spin_managers), C(spin_workers)).
      - Nodes are shared infrastructure, not a tenant's objects. If not set, nodes are included when
        O(tenant) is not set and left out when it is.
    type: bool
  services_as_hosts:
    description:
      - Whether each service of a spin stack becomes a host in its C(stack_<stack>) group.
      - With V(false) the inventory holds only the nodes, and no tenant or stack groups are made.
    type: bool
    default: true
  node_ansible_host:
    description:
      - What to set as C(ansible_host) of a node host.
      - V(addr) is the address the node talks to the swarm from (C(Status.Addr)); when Docker reports
        V(0.0.0.0) there (a known Docker bug for the leader), the address of its manager endpoint is used.
      - V(hostname) is the node's hostname, for clusters whose hostnames resolve.
      - V(none) sets no C(ansible_host); use O(compose) to set your own.
    type: str
    choices: [addr, hostname, none]
    default: addr
notes:
  - 'Host variables of a node: C(spin_kind=node), C(spin_node_id), C(spin_node_hostname), C(spin_node_role)
    (V(manager) or V(worker)), C(spin_node_availability) (V(active), V(pause), V(drain)), C(spin_node_state)
    (V(ready), V(down), ...), C(spin_node_addr), C(spin_node_leader), C(spin_node_labels) (a dict),
    C(spin_node_engine_version), C(spin_node_platform) (C(os), C(architecture)), C(spin_node_cpus),
    C(spin_node_memory) (bytes).'
  - 'Host variables of a service: C(spin_kind=service), C(spin_tenant), C(spin_stack), C(spin_service)
    (the compose name, from the C(spin.service) label), C(spin_service_name) (the Swarm name),
    C(spin_service_id), C(spin_service_image), C(spin_service_mode) (V(replicated) or V(global)),
    C(spin_service_replicas) (desired), C(spin_service_running) (tasks running now), C(spin_service_tasks)
    (the tasks meant to run: C(id), C(slot), C(node), C(node_id), C(state), C(desired_state), C(since), C(error),
    C(addresses)),
    C(spin_service_endpoint_mode), C(spin_service_ports) (C(target), C(published), C(protocol), C(mode)),
    C(spin_service_virtual_ips), C(spin_service_networks) (C(name), C(aliases)), C(spin_service_labels),
    C(spin_service_image_written) (the image as the tenant wrote it), C(spin_service_healthcheck),
    C(spin_service_resources), C(spin_service_updated), C(spin_service_update_state).'
  - Every value read from Docker is marked unsafe, so a label such as V({{ lookup('pipe', 'id'\) }}) stays
    text and is never templated.
  - With O(cache) enabled, what the plugin read from Docker is cached per configuration file, Docker
    host and tenant; C(ansible-inventory --flush-cache) reads Docker again.
seealso:
  - name: community.docker.docker_swarm inventory
    description: Nodes of any swarm, without spin's tenants and stacks.
    link: https://docs.ansible.com/ansible/latest/collections/community/docker/docker_swarm_inventory.html
'''

EXAMPLES = r'''
---
# spin_swarm.yml: the local manager; nodes and every tenant's stacks
plugin: spin.platform.swarm

---
# acme_spin_swarm.yml: what tenant acme may see - its own stacks and services only
plugin: spin.platform.swarm
docker_host: tcp://manager1.example.org:2375
tenant: acme

---
# A manager whose engine listens with TLS (dockerd --tlsverify), checked against the cluster's CA
plugin: spin.platform.swarm
docker_host: tcp://manager1.example.org:2376
validate_certs: true
ca_path: /etc/spin/docker-tls/ca.pem
client_cert: /etc/spin/docker-tls/cert.pem
client_key: /etc/spin/docker-tls/key.pem

---
# A manager reached through SSH, with the ssh client's own configuration and agent
plugin: spin.platform.swarm
docker_host: ssh://admin@manager1.example.org
use_ssh_client: true

---
# Group nodes by their labels (spin_nodes_label_spin_edge_true, ...), mark the leader,
# and group services by image. keyed_groups apply to every host: service hosts have no
# spin_node_labels, hence the default.
plugin: spin.platform.swarm
keyed_groups:
  - key: spin_node_labels | default({})
    prefix: spin_nodes_label
  - key: spin_service_image | default('')
    prefix: image
groups:
  spin_leader: spin_node_leader | default(false)
  spin_degraded: spin_kind == 'service' and spin_service_running < spin_service_replicas
compose:
  ansible_user: "'admin'"

---
# Nodes only, addressed by hostname, cached in JSON files for 10 minutes
plugin: spin.platform.swarm
services_as_hosts: false
node_ansible_host: hostname
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/spin-inventory
cache_timeout: 600
'''

import hashlib
import json
import os
from collections.abc import Mapping, Set as AbstractSet

import ansible.template as ansible_template
from ansible.errors import AnsibleParserError
from ansible.module_utils.common.collections import is_sequence
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.spin.platform.plugins.module_utils.engine import swarm_state
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import (
    DEFAULT_DOCKER_HOST,
    DEFAULT_TIMEOUT,
    SwarmClient,
)

# ansible-core 2.19+ templates a string only when it is tagged as trusted; before, mark it unsafe
HAS_TRUST_TAGS = hasattr(ansible_template, "trust_as_template")
if not HAS_TRUST_TAGS:
    from ansible.utils.unsafe_proxy import wrap_var as _wrap_var

CACHE_FORMAT = 2  # bump when the shape of the cached data changes; older entries are then re-read


def make_unsafe(value):
    """Return ``value`` so that no part of it can be templated.

    ansible-core 2.19 templates only strings tagged as trusted; ``str()`` of a tagged string is a
    plain one, and data decoded from JSON carries no tags, so this mostly copies. Before 2.19 the
    strings are wrapped as AnsibleUnsafe.
    """
    if not HAS_TRUST_TAGS:
        return _wrap_var(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, Mapping):
        return {make_unsafe(k): make_unsafe(v) for k, v in value.items()}
    if isinstance(value, AbstractSet):
        return {make_unsafe(v) for v in value}
    if is_sequence(value):
        return [make_unsafe(v) for v in value]
    return value


# ---- Docker API answers -> plain records (module_utils/engine/swarm_state.py, shared with spin_status and
# the monitoring role's exporter; these records are what the cache holds) -------------------------

def read_swarm(client, tenant=None):
    """Read what the inventory shows from Docker: ``{"format", "nodes", "services"}``."""
    data = swarm_state.read_swarm(client, tenant=tenant)
    data["format"] = CACHE_FORMAT
    return data


def node_hostvars(node, ansible_host_from):
    hostvars = {"spin_kind": "node"}
    hostvars.update(("spin_node_" + k, v) for k, v in node.items())
    if ansible_host_from == "addr" and node.get("addr"):
        hostvars["ansible_host"] = node["addr"]
    elif ansible_host_from == "hostname":
        hostvars["ansible_host"] = node["hostname"]
    return hostvars


def service_hostvars(service):
    hostvars = {"spin_kind": "service", "spin_tenant": service["tenant"], "spin_stack": service["stack"],
                "spin_service": service["service"]}
    hostvars.update(("spin_service_" + k, v) for k, v in service.items() if k not in ("tenant", "stack", "service"))
    return hostvars


# ---- how to reach the engine: TLS options -> the SDK's TLSConfig -------------------------------

TLS_OPTIONS = ("tls", "validate_certs", "ca_path", "client_cert", "client_key")


class TLSOptionError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


def tls_config(docker_host, options):
    """The ``tls`` argument of ``docker.APIClient`` from the plugin's options: ``None`` (plain), or a TLSConfig.

    Refuses what would silently be less than asked: a certificate or CA given without TLS, a CA given
    without verification, half a client key pair, TLS over a URL that is not TCP.
    """
    verify = bool(options.get("validate_certs"))
    wanted = verify or bool(options.get("tls"))
    given = [name for name in ("ca_path", "client_cert", "client_key") if options.get(name)]
    if not wanted:
        if given:
            raise TLSOptionError("%s set but neither tls nor validate_certs: the connection to %s would be plain; set "
                                 "validate_certs: true (or tls: true)" % (" and ".join(given), docker_host))
        return None
    if not docker_host.startswith(("tcp://", "https://")):
        raise TLSOptionError("tls and validate_certs are for a tcp:// docker_host, not %s; remove them (ssh:// "
                             "is encrypted by SSH)" % docker_host)
    if options.get("ca_path") and not verify:
        raise TLSOptionError("ca_path is set but validate_certs is not: the engine's certificate would not be "
                             "checked; set validate_certs: true")
    if bool(options.get("client_cert")) != bool(options.get("client_key")):
        raise TLSOptionError("client_cert and client_key go together; set both or neither")
    try:
        from docker.tls import TLSConfig  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise TLSOptionError("the Docker SDK for Python is not installed on the controller: pip install docker")
    for name in given:
        if not os.path.isfile(options[name]):
            raise TLSOptionError("%s: %s is not a file (a PEM file is needed for TLS to %s)"
                                 % (name, options[name], docker_host))
    client_cert = (options["client_cert"], options["client_key"]) if options.get("client_cert") else None
    try:
        return TLSConfig(client_cert=client_cert, ca_cert=options.get("ca_path") if verify else None,
                         verify=(options.get("ca_path") or True) if verify else False)
    except Exception as exc:  # docker.errors.TLSParameterError: a file that is not there
        raise TLSOptionError("TLS options for %s: %s" % (docker_host, exc))


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Swarm nodes, and the services of spin stacks grouped by tenant and stack."""

    NAME = "spin.platform.swarm"
    trusted_by_default = False  # everything here comes from the Docker API: never a template

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith(("spin_swarm.yml", "spin_swarm.yaml"))

    def _client(self):
        docker_host = self.get_option("docker_host") or DEFAULT_DOCKER_HOST
        return SwarmClient(docker_host=docker_host, timeout=self.get_option("timeout") or DEFAULT_TIMEOUT,
                           tls=tls_config(docker_host, {name: self.get_option(name) for name in TLS_OPTIONS}),
                           use_ssh_client=bool(self.get_option("use_ssh_client")))

    def _tenant(self, path):
        tenant = self.get_option("tenant")
        if tenant is None:
            return None
        if not isinstance(tenant, str) or not tenant.strip() or "=" in tenant:
            raise AnsibleParserError(
                "%s: option 'tenant' must name one tenant (the value of the services' spin.tenant label), got %r; "
                "remove the option to list every tenant" % (path, tenant))
        return tenant

    def _cache_key_for(self, path, tenant):
        # the same file may point at another engine or tenant later: never serve one from the other's entry
        scope = json.dumps([self.get_option("docker_host"), tenant])
        return "%s_%s" % (self.get_cache_key(path), hashlib.sha256(scope.encode("utf-8")).hexdigest()[:12])

    def _read(self, path, tenant):
        try:
            return read_swarm(self._client(), tenant=tenant)
        except (SpinError, TLSOptionError) as exc:
            raise AnsibleParserError("spin.platform.swarm inventory %s: %s" % (path, exc.message))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        self._read_config_data(path)
        tenant = self._tenant(path)

        # as in community.general's nmap inventory: `cache` (the argument) is False on --flush-cache
        user_cache = self.get_option("cache")
        cache_key = self._cache_key_for(path, tenant)
        data = None
        needs_update = bool(user_cache) and not cache
        if user_cache and cache:
            try:
                data = self._cache[cache_key]
            except KeyError:
                needs_update = True
            else:
                if not isinstance(data, Mapping) or data.get("format") != CACHE_FORMAT:
                    data, needs_update = None, True
        if data is None:
            data = self._read(path, tenant)
        if needs_update:
            self._cache[cache_key] = data

        self._populate(data, tenant)

    # ---- building the inventory --------------------------------------------------------------

    def _construct(self, host, hostvars):
        strict = self.get_option("strict")
        self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
        self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
        self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)

    def _add(self, host, group, hostvars):
        hostvars = make_unsafe(hostvars)
        self.inventory.add_host(host, group=group)
        for key, value in hostvars.items():
            self.inventory.set_variable(host, key, value)
        self._construct(host, hostvars)

    def _populate(self, data, tenant=None):
        include_nodes = self.get_option("include_nodes")
        if include_nodes is None:
            include_nodes = tenant is None
        taken = set()

        if include_nodes:
            self.inventory.add_group("spin_nodes")
            for group in ("spin_managers", "spin_workers"):
                self.inventory.add_group(group)
                self.inventory.add_child("spin_nodes", group)
            for node in data.get("nodes") or []:
                name = node["hostname"]
                if name in taken:  # two nodes with one hostname (re-joined node, cloned VM): keep both
                    name = "%s_%s" % (name, node["id"][:12])
                    self.display.warning("spin.platform.swarm: two swarm nodes are called '%s'; node %s is listed "
                                         "as '%s'. Remove the stale node with `docker node rm`."
                                         % (node["hostname"], node["id"], name))
                taken.add(name)
                group = "spin_managers" if node.get("role") == "manager" else "spin_workers"
                self._add(name, group, node_hostvars(node, self.get_option("node_ansible_host")))

        if not self.get_option("services_as_hosts"):
            return
        stack_tenants = {}
        for service in data.get("services") or []:
            if tenant is not None and service.get("tenant") != tenant:
                continue  # a cache entry written without the tenant filter must not leak either
            name = service["name"]
            if name in taken:
                self.display.warning("spin.platform.swarm: service '%s' of stack '%s' is not listed: a node has the "
                                     "same name. Rename the node or the stack." % (name, service["stack"]))
                continue
            taken.add(name)
            owner = stack_tenants.setdefault(service["stack"], service["tenant"])
            if owner != service["tenant"]:
                self.display.warning("spin.platform.swarm: stack '%s' has services labelled for tenant '%s' and for "
                                     "tenant '%s' (service '%s'); its group is listed under both. Fix the spin.tenant "
                                     "labels by deploying the stack again." % (service["stack"], owner,
                                                                               service["tenant"], name))
            tenant_group = self.inventory.add_group(self._sanitize_group_name("tenant_" + service["tenant"]))
            stack_group = self.inventory.add_group(self._sanitize_group_name("stack_" + service["stack"]))
            self.inventory.add_child(tenant_group, stack_group)
            self._add(name, stack_group, service_hostvars(service))
