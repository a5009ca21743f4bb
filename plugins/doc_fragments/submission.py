# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment(object):
    # The options of the modules that read a tenant's submission on the controller (spin_stack,
    # spin_policy, spin_translate): who, which stack, which files, and the platform's own settings.
    # Each module documents compose_file itself (required or not differs).
    DOCUMENTATION = r'''
options:
  submission:
    description:
      - "The tenant's submission as infra staff name it: the submission directory C(<root>/<tenant>/<stack>/) in
        one of O(submission_roots), or the vars file in it (C(vars.yml)). It stands for O(tenant), O(stack),
        O(compose_file), O(compose_override_files), O(rancher_compose_file), O(variables) and O(profiles): give either it or those."
      - "The tenant is the directory the submission lies in, never what a file says: C(<root>/<tenant>/) and every
        file read must be owned by the tenant's uid from O(tenants) and writable by nobody else, and no link may
        lead out. The vars file is read as data with the safe YAML loader, never templated and never made Ansible
        variables. Its keys: C(spin_stack) (default: the directory's name), C(spin_compose_file) (a file, or a list of
        files merged in order as C(docker compose -f) merges them; default: the first of C(compose.yaml),
        C(compose.yml), C(docker-compose.yml), C(docker-compose.yaml), and the override file beside it, as
        C(docker compose) looks), C(spin_rancher_compose_file) (default: C(rancher-compose.yml) when it is there),
        C(spin_compose_variables), C(spin_compose_profiles), and C(spin_tenant) (optional; refused when it names
        another tenant). Any other key is refused."
      - The C(playbooks/) entry points take it from C(-e spin_submission=...).
    type: str
  tenant:
    description:
      - The tenant that submits (and owns) the stack; must be a key of O(tenants). Required unless O(submission)
        is given, which names it.
      - Its files must lie in its own directory C(<root>/<tenant>/) of O(submission_roots), owned by its uid.
    type: str
  stack:
    description:
      - Name of the stack; its objects are named C(<stack>_<name>). Required unless O(submission) is given.
    type: str
  compose_override_files:
    description:
      - "Compose files merged over O(compose_file), in order, as C(docker compose -f a -f b) merges them (services
        key by key: mappings merge, C(command), C(entrypoint) and C(healthcheck.test) are replaced, C(ports),
        C(volumes), C(secrets) and C(configs) merge by their unique key, other lists append; C(!reset) and
        C(!override) work). Relative paths in every file are relative to O(compose_file)'s directory."
      - "Each lies in the submission directory and is read like O(compose_file). A O(submission) fills it: the
        rest of a C(spin_compose_file) list, or, when the vars file names no compose file, the override file
        C(docker compose) reads beside the one it finds (C(compose.override.yml), C(compose.override.yaml),
        C(docker-compose.override.yml), C(docker-compose.override.yaml): the first there)."
    type: list
    elements: str
    default: []
  rancher_compose_file:
    description:
      - "The tenant's C(rancher-compose.yml) (C(scale), C(start_on_create), C(health_check),
        C(upgrade_strategy), C(lb_config)), inside the submission directory."
    type: path
  variables:
    description:
      - Values for C(${VAR}) in the compose files; they override the submission directory's C(.env), which gives
        the defaults, as in Compose. The controller's environment is never used.
      - A variable that is set nowhere is an empty string, with a warning (as in Compose).
    type: dict
    default: {}
  profiles:
    description:
      - The active compose profiles; a service with C(profiles) is deployed only when one of them is active.
      - Defaults to C(COMPOSE_PROFILES) of O(variables) or C(.env) (comma separated), else none.
    type: list
    elements: str
  submission_roots:
    description:
      - Directories that tenants' files are read from, each holding one directory per tenant,
        C(<root>/<tenant>/), owned by the tenant's uid (the role C(spin.platform.tenant) makes it). A file is read
        only from the task's tenant's directory, after symbolic links are resolved; a file elsewhere is refused
        unread.
      - Defaults to the inventory variable C(spin_submission_roots), else V([/srv/spin/submissions]); extra vars
        that set it are refused.
    type: list
    elements: path
  lb_platform:
    description:
      - The edge load balancer's platform variables; each key left out defaults to C(spin_lb_<key>). The
        controller checks a stack's ports, host names and rules against them (the deploy checks the claims).
    type: dict
  platform:
    description:
      - Platform defaults for the translation (defaults to C(spin_platform)), for example C(endpoint_mode)
        (V(dnsrr); V(vip) only where the kernel has IPVS).
      - "Automatic routes and generated passwords (C(docs/load-balancer.md)): C(auto_routes) (V(true)),
        C(route_domain) (V(localhost)), C(route_port) (V(80)), C(http_images), C(http_ports),
        C(database_images); C(tcp_ports), the ports that speak something else than HTTP (a published port outside
        the edge's list is served on the service's route unless it is one of them or a database's)."
      - "C(bind_store) (V(/srv/spin/binds)): where relative bind mounts of directories are synced and mounted from;
        on a cluster a directory of a global file system (C(spin_global_fs)) every node mounts (C(docs/compose-keys.md))."
      - C(registry) (C(host:port)) names the platform registry that M(spin.platform.spin_stack) pins images from.
      - C(tenant_constraints) (none) lists the placement constraints every tenant service gets before its own, the
        nodes the platform gives tenants (V(node.role==worker) on a cluster); the policy's rule C(placement) lets a
        tenant's own constraints only narrow them (C(docs/policy.md)).
    type: dict
  tenants:
    description:
      - "The tenant registry, infra staff's data: C({name: {uid: int, gid: int, paths: [...],
        quota: {replicas: int}}})."
      - Defaults to the inventory variable C(spin_tenants); extra vars that set it are refused.
    type: dict
  global_fs_roots:
    description:
      - Roots of the centre's global file systems, for example V(/global/cfs) and V(/global/homes).
      - Defaults to the inventory variable C(spin_global_fs_roots), else V([/global/cfs, /global/homes]).
    type: list
    elements: str
  global_fs:
    description:
      - "The centre's global file systems, C({name: {src, path, fstype, opts, groups}}), as the role
        C(spin.platform.global_fs) mounts them. A service that bind-mounts a path inside one's C(path)
        runs only on nodes labelled C(spin.fs.<name>=true) (placement by data), and a stack whose file system no
        ready node carries is refused (rule C(global-fs-placement))."
      - Defaults to the inventory variable C(spin_global_fs); a tenant's vars file must never set it.
    type: dict
  policy:
    description:
      - Overrides of the policy defaults (see C(docs/policy.md) for every key).
      - Defaults to the inventory variable C(spin_policy).
    type: dict
'''
