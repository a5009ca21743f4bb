#!/usr/bin/python
# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r'''
module: spin_registry_image
short_description: Push images to the platform registry, or bring them from it to a node
version_added: 0.1.0
description:
  - "With O(state=pushed): each local image in O(images) (for example V(httpd:latest)) is tagged
    C(<registry>/<name>) and pushed, unless the registry already has, under that tag, the digest this engine
    pushed for this very image."
  - "With O(state=pulled): each C(<registry>/<name>) is pulled by the digest the registry has now and tagged
    with both C(<registry>/<name>) and the plain C(<name>), so that a node runs the same bits as every other
    node under the names the platform uses (the edge's C(spin/haproxy:2.6), for example). Nothing is pulled
    when the node has that digest under both names already."
  - The engine reaches the registry itself, so it must trust the registry's certificate
    (C(/etc/docker/certs.d/<registry>/ca.crt), which the C(registry) role writes on every node).
extends_documentation_fragment:
  - spin.platform.docker
  - spin.platform.attributes
  - spin.platform.attributes.actiongroup_spin
attributes:
  check_mode:
    support: full
    details: Compares the digests and reports what would be pushed or pulled; pushes and pulls nothing.
  diff_mode:
    support: none
  idempotent:
    support: full
    details: A second run with the same images finds the registry's digests unchanged and reports no change.
options:
  images:
    description: Local image names, with a tag (V(latest) when left out).
    type: list
    elements: str
    required: true
  registry:
    description: The platform registry, C(host:port), as every node reaches it.
    type: str
    required: true
  state:
    description: Push the local images to the registry, or pull them from it to this node.
    type: str
    choices: [pushed, pulled]
    default: pushed
author:
  - spin.platform contributors (@spin-platform)
'''

EXAMPLES = r'''
- name: Push the platform's images from the node that built them
  spin.platform.spin_registry_image:
    images: [httpd:latest, mysql:latest, spin/haproxy:2.6]
    registry: spin-registry:5000

- name: Give another node the same images under the same names
  spin.platform.spin_registry_image:
    images: [spin/haproxy:2.6]
    registry: spin-registry:5000
    state: pulled
'''

RETURN = r'''
images:
  description: One entry per image, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    image:
      description: The local name.
      type: str
    target:
      description: The name in the registry (state=pushed).
      type: str
    source:
      description: The name in the registry (state=pulled).
      type: str
    before:
      description: The registry's digest before the push, or the digest this node had before the pull.
      type: str
    digest:
      description: The registry's digest now.
      type: str
    changed:
      description: Whether this image was (or would be) pushed or pulled.
      type: bool
  sample: [{image: "httpd:latest", target: "spin-registry:5000/httpd:latest", before: null,
            digest: "sha256:4c1d...", changed: true}]
'''

from ansible_collections.spin.platform.plugins.module_utils.engine import registry
from ansible_collections.spin.platform.plugins.module_utils.worker.module_runner import run_module
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import connection_argument_spec


def argument_spec():
    spec = dict(
        images=dict(type="list", elements="str", required=True),
        registry=dict(type="str", required=True),
        state=dict(type="str", choices=["pushed", "pulled"], default="pushed"),
    )
    spec.update(connection_argument_spec())
    return spec


def run(module, client):
    step = registry.push if module.params["state"] == "pushed" else registry.pull
    results = [step(client, name, module.params["registry"], module.check_mode) for name in module.params["images"]]
    return {"changed": any(r["changed"] for r in results), "images": results}


def main():
    run_module(argument_spec(), run)


if __name__ == "__main__":
    main()
