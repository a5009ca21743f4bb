# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment(object):
    # The connection options of every module that talks to a Docker engine
    # (argument spec: plugins/module_utils/engine/swarm.py connection_argument_spec()).
    DOCUMENTATION = r'''
options:
  docker_host:
    description:
      - The Docker engine to talk to, as a URL such as C(unix:///var/run/docker.sock) or C(tcp://10.0.0.5:2375).
      - It must be a manager of the swarm for modules that change services, networks, secrets or configs.
      - If not given, the environment variable E(DOCKER_HOST) is used, else the local socket.
    type: str
    default: unix:///var/run/docker.sock
    aliases: [docker_url]
  timeout:
    description:
      - Seconds to wait for one answer of the Docker API before giving up.
      - This is not how long a module waits for services to get ready (see the module's C(wait_timeout) where it has one).
      - If not given, the environment variable E(DOCKER_TIMEOUT) is used, else 60.
    type: int
    default: 60
requirements:
  - Docker SDK for Python 7.1.0 or later on the target, or Debian 12's C(python3-docker) 5.0.3 with Debian's C(python3-requests)
    (an SDK older than 7.1.0 cannot reach the engine with C(requests) 2.32 or later)
  - Docker engine with API 1.41 (20.10) or later recommended; older APIs refuse options that need newer ones
notes:
  - The API version is negotiated with the engine.
'''
