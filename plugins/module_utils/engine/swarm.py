# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``SwarmClient``: the one place that calls the Docker API.

Uses the docker SDK's low-level ``APIClient`` and only calls that exist in Debian 12's
python3-docker 5.0.3 as well as in 7.x. Docker's errors become ``SpinError`` with a message that
says what failed and what to do. Name look-ups match exactly: Docker's ``name`` filters match
prefixes (services, secrets, configs) or substrings (networks).
"""
from __future__ import annotations

import contextlib
import copy
import sys

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.engine.images_api import ImagesMixin, output_text

try:
    import docker
    from docker import errors as docker_errors
    HAS_DOCKER = True
except ImportError:  # reported when a client is made, so that ansible-doc and unit tests work without it
    docker = docker_errors = None
    HAS_DOCKER = False

try:
    from requests import exceptions as requests_errors
except ImportError:
    requests_errors = None

DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock"
# what a call's description starts with when it only reads (any other call forgets the cached reads)
READ_VERBS = ("list ", "look up ", "inspect ", "read ")
# the listings that cached_reads keeps, and snapshot() reads unfiltered
CACHED_READS = ("services", "networks", "volumes", "secrets", "configs", "nodes", "info")
DEFAULT_TIMEOUT = 60


def connection_argument_spec():
    """The connection options every module shares (documented in doc_fragments/docker.py)."""
    from ansible.module_utils.basic import env_fallback
    return {
        "docker_host": {"type": "str", "default": DEFAULT_DOCKER_HOST, "aliases": ["docker_url"],
                        "fallback": (env_fallback, ["DOCKER_HOST"])},
        "timeout": {"type": "int", "default": DEFAULT_TIMEOUT, "fallback": (env_fallback, ["DOCKER_TIMEOUT"])},
    }


class NotManagerError(SpinError):
    pass


class UpdateOutOfSequence(SpinError):
    """Someone else updated the service between our read and our write."""


def _label_filters(labels):
    return {"label": ["%s=%s" % (k, v) if v is not None else k for k, v in sorted((labels or {}).items())]}


def _exact(items, name, key):
    for item in items or []:
        if key(item) == name:
            return item
    return None


if HAS_DOCKER:
    class _APIClient(docker.APIClient):
        """docker.APIClient whose own TLS choice wins: requests lets REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE replace a
        session's ``verify`` on every request, so with one of them set (common on managed hosts) an engine
        whose certificate the given CA signed would be checked against the system's CAs instead, and TLS
        without verification would verify all the same."""

        def merge_environment_settings(self, url, proxies, stream, verify, cert):
            settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
            if self.verify is not True:  # a CA file or False, set by docker.tls.TLSConfig
                settings["verify"] = self.verify
            return settings


class SwarmClient(ImagesMixin):
    """Thin wrapper over ``docker.APIClient`` with exact look-ups and readable errors.

    ``api`` may be given (tests); otherwise an APIClient is made for ``docker_host`` with the API
    version negotiated ('auto').
    """

    # the listings a ``cached_reads`` block has read (None: outside one)
    _reads = None
    # spin_converge: the unfiltered listings read once for all its stacks (``snapshot``), which every
    # ``cached_reads`` block of this client starts with
    read_seed = None

    def __init__(self, docker_host=DEFAULT_DOCKER_HOST, timeout=DEFAULT_TIMEOUT, api=None, tls=None,
                 use_ssh_client=False):
        self.docker_host = docker_host or DEFAULT_DOCKER_HOST
        self.timeout = timeout or DEFAULT_TIMEOUT
        if api is None:
            if not HAS_DOCKER:
                raise SpinError("the Docker SDK for Python is not installed for %s on this host: install "
                                "python3-docker (Debian/Ubuntu) or `pip install docker`" % sys.executable)
            # tls: None or docker.tls.TLSConfig; use_ssh_client: the ssh binary instead of paramiko for ssh://
            api = self._call("connect", lambda: _APIClient(
                base_url=self.docker_host, version="auto", timeout=self.timeout, tls=tls or False,
                use_ssh_client=use_ssh_client))
        self.api = api

    @property
    def api_version(self):
        return getattr(self.api, "api_version", None) or getattr(self.api, "_version", None)

    # ---- reads shared within one plan --------------------------------------------------------

    @contextlib.contextmanager
    def cached_reads(self, seed=None):
        """Within the block, the listings (``services``, ``networks``, ``volumes``, ``secrets``,
        ``configs``, ``containers``, ``nodes``, ``info``) are read from the engine once per set of
        arguments: a plan asks several of its checks the same question. Any call that changes
        something forgets them (the next listing is read again). Callers get a new list of shared objects,
        which they only read. ``seed``: ``snapshot()`` of the
        unfiltered listings, taken once for many plans (spin_converge), that this block starts with."""
        outer = self._reads
        self._reads = dict(seed or self.read_seed or {})
        try:
            yield self
        finally:
            self._reads = outer

    def snapshot(self):
        """The unfiltered listings, for ``cached_reads(seed=...)``."""
        with self.cached_reads():
            for name in CACHED_READS:
                getattr(self, name)()
            return dict(self._reads)

    def _cached(self, name, key, read):
        if self._reads is None:
            return read()
        key = (name, repr(key))
        if key not in self._reads:
            self._reads[key] = read()
        # a new list (a caller may sort or extend what it got); the engine's objects in it are shared and
        # read only: a deep copy of every listing would cost more than the reads it saves (200 stacks' services)
        value = self._reads[key]
        return list(value) if isinstance(value, list) else copy.copy(value)

    # ---- errors ----------------------------------------------------------------------------

    def _call(self, what, fn, *args, **kwargs):
        if self._reads and not what.startswith(READ_VERBS):
            self._reads.clear()   # a change: what was read before may be out of date
        try:
            return fn(*args, **kwargs)
        except SpinError:
            raise
        except Exception as exc:  # one translation point for SDK, requests and socket errors
            raise self._translate(what, exc)

    def _translate(self, what, exc):
        host = self.docker_host
        if HAS_DOCKER and isinstance(exc, docker_errors.APIError):
            explanation = exc.explanation or str(exc)
            if isinstance(explanation, bytes):
                explanation = explanation.decode("utf-8", "replace")
            status = exc.status_code
            text = str(explanation)
            if status == 503 and ("swarm" in text.lower()):
                return NotManagerError(
                    "This node is not a swarm manager, so it cannot %s (Docker at %s says: %s). Run the task on "
                    "a manager node, or make this host one with `docker swarm init`." % (what, host, text.strip()))
            if "update out of sequence" in text:
                return UpdateOutOfSequence("could not %s: it was changed by someone else meanwhile (%s); run again"
                                           % (what, text.strip()))
            return SpinError("Docker at %s refused to %s: %s" % (host, what, text.strip()), status_code=status)
        if requests_errors is not None and isinstance(exc, (requests_errors.ReadTimeout,)):
            return SpinError("the Docker engine at %s did not answer within %ss while trying to %s; raise `timeout` "
                             "or check the engine's load" % (host, self.timeout, what))
        text = str(exc)
        if isinstance(exc, PermissionError) or "Permission denied" in text:
            return SpinError("the Docker engine at %s refused the connection: %s. Run as root or as a member of "
                             "the docker group." % (host, text))
        unreachable = (ConnectionError, OSError)
        if (requests_errors is not None and isinstance(exc, requests_errors.ConnectionError)) \
                or isinstance(exc, unreachable) or "Error while fetching server API version" in text \
                or "Connection aborted" in text or "Connection refused" in text:
            return SpinError("the Docker engine at %s is not reachable: %s. Is dockerd running, and is "
                             "docker_host right?" % (host, text))
        if HAS_DOCKER and isinstance(exc, docker_errors.DockerException):
            return SpinError("could not %s through Docker at %s: %s" % (what, host, text))
        return SpinError("could not %s through Docker at %s: %s: %s" % (what, host, type(exc).__name__, text))

    def _find(self, what, fn, *args, **kwargs):
        """Like _call, but a 404 answer means 'not there' (None)."""
        if self._reads and not what.startswith(READ_VERBS):
            self._reads.clear()
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if HAS_DOCKER and isinstance(exc, docker_errors.NotFound):
                return None
            raise self._translate(what, exc)

    # ---- engine ----------------------------------------------------------------------------

    def info(self):
        return self._cached("info", None, lambda: self._call("read the engine's info", self.api.info))

    # ---- inventory (plugins/inventory/swarm.py): nodes and tasks, read only ----------------

    def nodes(self):
        """Every node of the swarm (inspect output); only a manager can answer."""
        return self._cached("nodes", None, lambda: self._call("list the swarm's nodes", self.api.nodes)) or []

    def inspect_node(self, node_id):
        return self._call("inspect node %s" % node_id, self.api.inspect_node, node_id)

    def update_node(self, node_id, version, spec):
        """Replace a node's spec (labels, availability, role); ``version`` guards against races."""
        return self._call("update node %s" % node_id, self.api.update_node, node_id, version, spec)

    def tasks(self, service_ids, desired_state=None):
        """Tasks of the services with these IDs, in one call where possible.

        Docker answers 404 for the whole call when one service is gone meanwhile; then each
        service is asked on its own and the gone ones give no tasks.
        """
        service_ids = list(service_ids)
        if not service_ids:
            return []
        filters = {"service": service_ids}
        if desired_state:
            filters["desired-state"] = desired_state
        found = self._find("list the tasks of %d services" % len(service_ids), self.api.tasks, filters=filters)
        if found is not None:
            return found
        tasks = []
        for service_id in service_ids:
            tasks.extend(t for t in self.service_tasks(service_id)
                         if not desired_state or t.get("DesiredState") == desired_state)
        return tasks

    # ---- services --------------------------------------------------------------------------

    def find_service(self, name):
        """The service named exactly ``name`` (inspect output), or None."""
        found = self._call("look up service '%s'" % name, self.api.services, filters={"name": name})
        return _exact(found, name, lambda s: s["Spec"]["Name"])

    def inspect_service(self, service_id):
        """Inspect by ID; None when it is gone."""
        return self._find("inspect service %s" % service_id, self.api.inspect_service, service_id)

    def services(self, labels=None):
        return self._cached("services", labels, lambda: self._call(
            "list services", self.api.services, filters=_label_filters(labels) if labels else None))

    def create_service(self, spec):
        """Create from a full ServiceSpec; returns the new service's ID."""
        result = self._call(
            "create service '%s'" % spec["Name"], self.api.create_service, spec["TaskTemplate"], name=spec["Name"],
            labels=spec.get("Labels") or {}, mode=spec.get("Mode"), update_config=spec.get("UpdateConfig"),
            rollback_config=spec.get("RollbackConfig"), endpoint_spec=spec.get("EndpointSpec"))
        return result["ID"]

    def update_service(self, service_id, version, spec):
        """Replace the service's spec with ``spec`` (fields left out are removed). Returns Docker's warnings."""
        # the SDK keeps the current value of an argument given as None: pass {} so that "absent" means absent
        result = self._call(
            "update service '%s'" % spec["Name"], self.api.update_service, service_id, version,
            task_template=spec["TaskTemplate"], name=spec["Name"], labels=spec.get("Labels") or {},
            mode=spec.get("Mode"), update_config=spec.get("UpdateConfig"),
            rollback_config=spec.get("RollbackConfig"), endpoint_spec=spec.get("EndpointSpec") or {})
        return (result or {}).get("Warnings") or []

    def remove_service(self, service_id):
        self._find("remove service %s" % service_id, self.api.remove_service, service_id)

    def service_tasks(self, service_id):
        """Tasks of a live service (every desired state). Empty when the service is gone."""
        return self._find("list the tasks of service %s" % service_id, self.api.tasks,
                          filters={"service": service_id}) or []

    def task_logs(self, task_id, tail=10, tty=False):
        """The last ``tail`` lines a task's container wrote (stdout and stderr), as text. Works for
        tasks on any node, through a manager."""
        api = self.api

        def fetch():
            res = api._get(api._url("/tasks/{0}/logs", task_id),
                           params={"stdout": 1, "stderr": 1, "tail": tail, "follow": 0}, stream=False)
            return api._get_result_tty(False, res, tty)
        return output_text(self._call("read the output of task %s" % task_id[:12], fetch))

    def service_logs(self, service_id, tail=20, since=None, tty=False):
        """The last ``tail`` lines the service's tasks wrote (stdout and stderr) since ``since`` (a
        UNIX time, or Docker's ``<seconds>.<nanoseconds>`` text), each ``<RFC 3339 time> <details> <line>`` where the details name the task and
        node (``com.docker.swarm.task.id=...``). Through a manager, for tasks on any node."""
        api = self.api
        params = {"stdout": 1, "stderr": 1, "tail": tail if tail is not None else "all", "follow": 0,
                  "timestamps": 1, "details": 1}
        if since:
            params["since"] = since if isinstance(since, str) else "%.9f" % since

        def fetch():
            res = api._get(api._url("/services/{0}/logs", service_id), params=params, stream=False)
            return api._get_result_tty(False, res, tty)
        return output_text(self._call("read the logs of service %s" % service_id[:12], fetch))

    def leftover_tasks(self, service_name, service_id):
        """Tasks that a removed service still has (Docker's 'service' filter refuses removed services;
        task names start with the service name)."""
        tasks = self._call("list the tasks of removed service '%s'" % service_name, self.api.tasks,
                           filters={"name": service_name})
        return [t for t in tasks or [] if t.get("ServiceID") == service_id]

    # ---- networks --------------------------------------------------------------------------

    def find_network(self, name):
        found = self._call("look up network '%s'" % name, self.api.networks, filters={"name": name})
        return _exact(found, name, lambda n: n["Name"])

    def inspect_network(self, network_id):
        return self._find("inspect network %s" % network_id, self.api.inspect_network, network_id)

    def networks(self, labels=None):
        return self._cached("networks", labels, lambda: self._call(
            "list networks", self.api.networks, filters=_label_filters(labels) if labels else None))

    def create_network(self, name, driver="overlay", options=None, labels=None, attachable=False, internal=False,
                       ipam=None):
        result = self._call("create network '%s'" % name, self.api.create_network, name, driver=driver,
                            options=options or None, ipam=ipam, internal=internal, labels=labels or None,
                            attachable=attachable, scope="swarm" if driver == "overlay" else None)
        return result["Id"]

    def remove_network(self, network_id):
        self._find("remove network %s" % network_id, self.api.remove_network, network_id)

    # ---- volumes ---------------------------------------------------------------------------

    def find_volume(self, name):
        return self._find("inspect volume '%s'" % name, self.api.inspect_volume, name)

    def volumes(self, labels=None):
        result = self._cached("volumes", labels, lambda: self._call(
            "list volumes", self.api.volumes, filters=_label_filters(labels) if labels else None))
        return (result or {}).get("Volumes") or []

    def create_volume(self, name, driver="local", driver_opts=None, labels=None):
        return self._call("create volume '%s'" % name, self.api.create_volume, name=name, driver=driver or "local",
                          driver_opts=driver_opts or None, labels=labels or None)

    def remove_volume(self, name):
        self._find("remove volume '%s'" % name, self.api.remove_volume, name)

    # ---- secrets and configs ---------------------------------------------------------------

    def find_secret(self, name):
        found = self._call("look up secret '%s'" % name, self.api.secrets, filters={"name": name})
        return _exact(found, name, lambda s: s["Spec"]["Name"])

    def secrets(self, labels=None):
        return self._cached("secrets", labels, lambda: self._call(
            "list secrets", self.api.secrets, filters=_label_filters(labels) if labels else None))

    def create_secret(self, name, data, labels=None):
        """``data``: bytes. Returns the ID."""
        result = self._call("create secret '%s'" % name, self.api.create_secret, name, data, labels=labels or None)
        return result["ID"]

    def remove_secret(self, secret_id):
        self._find("remove secret %s" % secret_id, self.api.remove_secret, secret_id)

    def find_config(self, name):
        found = self._call("look up config '%s'" % name, self.api.configs, filters={"name": name})
        return _exact(found, name, lambda c: c["Spec"]["Name"])

    def configs(self, labels=None):
        return self._cached("configs", labels, lambda: self._call(
            "list configs", self.api.configs, filters=_label_filters(labels) if labels else None))

    def create_config(self, name, data, labels=None):
        result = self._call("create config '%s'" % name, self.api.create_config, name, data, labels=labels or None)
        return result["ID"]

    def remove_config(self, config_id):
        self._find("remove config %s" % config_id, self.api.remove_config, config_id)

    # ---- containers (this engine's own) ---------------------------------------------------

    def containers(self, labels=None, status=None, every=False):
        """This engine's containers with ``labels`` (running ones, or ``every`` one)."""
        filters = _label_filters(labels) if labels else {}
        if status:
            filters["status"] = status
        return self._cached("containers", (filters, every), lambda: self._call(
            "list containers", self.api.containers, filters=filters or None, all=every))

    def inspect_container(self, container_id):
        return self._find("inspect container %s" % container_id, self.api.inspect_container, container_id)

    def create_container(self, name, image, command=None, labels=None, ports=None, binds=None, restart="always",
                         stop_signal=None, stop_timeout=None):
        """A long-running container of this engine (the edge on an edge node). ``ports``: host port
        -> container port (tcp, all addresses); ``binds``: ["src:dst:mode"]. -> its ID."""
        host_config = self.api.create_host_config(
            port_bindings={"%d/tcp" % target: published for published, target in (ports or {}).items()},
            binds=binds or None, restart_policy={"Name": restart} if restart else None)
        created = self._call("create container '%s'" % name, self.api.create_container, image, command=command,
                             name=name, labels=labels or {}, host_config=host_config,
                             ports=sorted((ports or {}).values()) or None,
                             stop_signal=stop_signal, stop_timeout=stop_timeout)
        return created["Id"]

    def start_container(self, container_id):
        self._call("start container %s" % container_id[:12], self.api.start, container_id)

    def stop_container(self, container_id, timeout=None):
        self._find("stop container %s" % container_id[:12], self.api.stop, container_id, timeout=timeout)

    def remove_container(self, container_id):
        self._find("remove container %s" % container_id[:12], self.api.remove_container, container_id, force=True)

    def connect_network(self, network, container_id, aliases=None):
        self._call("connect container %s to network '%s'" % (container_id[:12], network),
                   self.api.connect_container_to_network, container_id, network, aliases=aliases)

    def disconnect_network(self, network, container_id):
        self._find("disconnect container %s from network '%s'" % (container_id[:12], network),
                   self.api.disconnect_container_from_network, container_id, network)

    def swarm_network_id(self, name):
        """The swarm-scope ID of a predefined network ('host'): services name it by that ID."""
        found = self._find("inspect network '%s'" % name, self.api.inspect_network, name, scope="swarm")
        return found["Id"] if found else None

    # ---- names -> IDs for a ServiceSpec ----------------------------------------------------

    def resolve_references(self, needed, known=None):
        """``{"networks": [names], "secrets": [...], "configs": [...]}`` -> ``{kind: {name: id}}``.

        ``known`` (same shape as the result) is used first, e.g. for objects a stack is about to
        create in check mode. Missing names are left out: ``build_service_spec`` reports them.
        """
        finders = {"networks": (self.find_network, "Id"), "secrets": (self.find_secret, "ID"),
                   "configs": (self.find_config, "ID")}
        out = {}
        for kind, names in (needed or {}).items():
            known_ids = dict((known or {}).get(kind) or {})
            find, id_key = finders[kind]
            ids = {}
            for name in names:
                if name in known_ids:
                    ids[name] = known_ids[name]
                    continue
                obj = find(name)
                if obj is not None:
                    ids[name] = obj[id_key]
            out[kind] = ids
        return out
