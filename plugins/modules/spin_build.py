#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_build
short_description: Build the images of a tenant's stack that its compose file builds (C(build:))
version_added: 0.1.0
description:
  - "For every service with C(build:) in the tenant's C(docker-compose.yml): an action plugin on the controller
    reads the build context inside the submission directory (after C(.dockerignore)), checks what would be built
    against the platform's policy, packs the context and sends it to this host, the build node (in
    C(playbooks/deploy.yml) the node labelled C(spin.build=true), else the first manager)."
  - "The image is tagged C(<registry>/<tenant>/<stack>-<service>:<content hash>) (without C(<registry>/) where
    the platform has no registry, C(spin_platform.registry)); the hash covers every file sent and the build
    options (C(dockerfile), C(args), C(target), C(labels)), so the same submission is built once, and
    M(spin.platform.spin_stack) names the same image from the same files."
  - "Nothing is built when the image exists already (in the registry, or on this engine without a registry) and,
    where this engine has it, was built from the base images this engine has now."
  - "Policy (C(spin_policy), see C(docs/policy.md), rule C(build)), on the Dockerfile read as the engine's classic
    builder reads it: base images (C(FROM), C(COPY --from), C(ONBUILD) triggers) only from the allowed images
    (C(images), C(build_base_images)) and registries (the platform's and tenants' images by name only); no C(ADD)
    of a URL and no remote context; C(RUN) steps without network unless C(build_network); no build secrets or SSH;
    a build that runs longer than C(build_timeout) seconds is stopped; a context of at most C(build_context_bytes)."
  - A failed build fails the task, quoting the build's last lines of output; nothing is pushed.
  - With a platform registry (C(registry) in O(platform), C(host:port)) the image is pushed to it, so that every node can pull it.
extends_documentation_fragment:
  - spin.platform.submission
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
  - spin.platform.attributes.action
attributes:
  check_mode:
    support: full
    details: Checks the policy, hashes the contexts and reports what would be built; builds and pushes nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: The same submission gives the same tag, which exists after the first run.
  action:
    support: full
    details: An action plugin reads, checks and packs the build contexts on the controller.
author:
  - spin.platform contributors (@spin-platform)
options:
  compose_file:
    description:
      - The tenant's C(docker-compose.yml); its directory is the submission directory, and every build context
        must lie inside it.
      - Leave it out when O(submission) is given, which names it.
    type: path
  _builds:
    description: Internal, set by the action plugin - the packed builds.
    type: list
    elements: dict
'''

EXAMPLES = r'''
- name: Build the stack's images on the build node
  spin.platform.spin_build:
    tenant: cory
    stack: magic
    compose_file: /srv/submissions/magic/docker-compose.yml
  delegate_to: build1

- name: What would be built
  spin.platform.spin_build:
    tenant: cory
    stack: magic
    compose_file: /srv/submissions/magic/docker-compose.yml
  check_mode: true
'''

RETURN = r'''
builds:
  description: One entry per service with C(build:), in service name order.
  returned: success
  type: list
  elements: dict
  contains:
    service:
      description: The compose service.
      type: str
    image:
      description: The image's tag.
      type: str
    built:
      description: Whether the image was (or, in check mode, would be) built.
      type: bool
    why:
      description: Why it was built or not.
      type: str
    id:
      description: The image's ID on the build node (none in check mode when not built yet).
      type: str
    digest:
      description: The registry's manifest digest, with a registry.
      type: str
    seconds:
      description: How long the build took.
      type: float
  sample: [{service: app, image: "spin-registry:5000/cory/magic-app:3f2a9c0b1d4e5f60", built: true,
            why: "not built yet", id: "sha256:9b1e...", digest: "sha256:41aa...", seconds: 12.5}]
summary:
  description: One line per image, for people.
  returned: success
  type: list
  elements: str
  sample: ["image of app: spin-registry:5000/cory/magic-app:3f2a9c0b1d4e5f60 built in 12.5 s (not built yet)"]
refused:
  description: The stack was refused by the policy or has errors; nothing was built. RV(messages) lists every problem.
  returned: when refused
  type: bool
messages:
  description: Every problem of a refused stack, one line each.
  returned: when refused
  type: list
  elements: str
'''

from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec
from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import (
    SUBMISSION_NAMED, run_module, submission_argument_spec)
# the work lives in module_utils (build/build_run.py)
from ansible_collections.spin.platform.plugins.module_utils.build.build_run import run


def argument_spec():
    spec = dict(
        compose_file=dict(type="path"),
        tenants=dict(type="dict"),
        global_fs_roots=dict(type="list", elements="str"),
        global_fs=dict(type="dict"),
        policy=dict(type="dict"),
        platform=dict(type="dict"),
        lb_platform=dict(type="dict"),
        _builds=dict(type="list", elements="dict"),
    )
    spec.update(submission_argument_spec())
    spec.update(connection_argument_spec())
    return spec


def main():
    run_module(argument_spec(), run, **SUBMISSION_NAMED)


if __name__ == "__main__":
    main()
