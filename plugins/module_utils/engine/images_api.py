# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``SwarmClient``'s calls on images and containers' commands: inspect, tag, push, pull and build images,
run a command in a container or a one-off container (the edge load balancer's checks, builds).

A mixin of ``swarm.SwarmClient``, which gives it ``api`` (the SDK's APIClient), ``_call`` and ``_find``
(a Docker error turned into a ``SpinError`` saying what failed).
"""
from __future__ import annotations

import io
import json
import socket
import tarfile
import threading
import time

from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError
from ansible_collections.spin.platform.plugins.module_utils.common.images import repository_of, split_reference

try:
    from docker import errors as docker_errors
except ImportError:  # swarm.SwarmClient reports it when a client is made
    docker_errors = None

RUN_ONCE_TIMEOUT = 60


def output_text(output):
    if isinstance(output, bytes):
        return output.decode("utf-8", "replace")
    return output or ""


def _tar(files):
    """{name: bytes or text} -> a tar archive (what put_archive takes), files readable by the owner only."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name in sorted(files):
            data = files[name]
            if isinstance(data, str):
                data = data.encode("utf-8")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o600
            info.mtime = int(time.time())
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _repository_tag(reference):
    """``reg:5000/a/b:1`` -> (``reg:5000/a/b``, ``1``); ``a@sha256:x`` -> (``a``, ``sha256:x``) as the SDK's
    pull takes it; no tag -> ``latest``."""
    dummy, dummy, tag, digest = split_reference(reference)
    return repository_of(reference), digest or tag or "latest"


def _progress_result(what, events):
    """The digest in a push or pull progress stream; SpinError with the registry's own words on an error."""
    digest = None
    for event in events:
        if not isinstance(event, dict):
            continue
        if event.get("error"):
            raise SpinError("could not %s: %s" % (what, str(event.get("error")).strip()))
        aux = event.get("aux") or {}
        if aux.get("Digest"):
            digest = aux["Digest"]
        status = event.get("status") or ""
        if status.startswith("Digest: "):
            digest = status[len("Digest: "):].strip()
    return digest


class ImagesMixin(object):
    """Images and commands in containers, on the engine ``self.api`` talks to."""

    def inspect_image(self, name):
        """The local image ``name`` (inspect output), or None."""
        return self._find("inspect image '%s'" % name, self.api.inspect_image, name)

    def distribution_digest(self, ref):
        """The manifest digest the image's registry has for ``ref`` (the engine asks the registry), or
        None when the registry does not have it or cannot be reached."""
        try:
            found = self.api.inspect_distribution(ref)
        except Exception as exc:  # noqa: BLE001 - 'not there' in all its forms (401, 404, 500: unreachable)
            if docker_errors is not None and isinstance(exc, docker_errors.APIError):
                return None
            raise self._translate("ask the registry of '%s' for its digest" % ref, exc)
        return ((found or {}).get("Descriptor") or {}).get("digest")

    def tag_image(self, image, reference):
        """Give the local image ``image`` the name ``reference`` (``repo:tag``)."""
        repository, tag = _repository_tag(reference)
        self._call("tag image '%s' as '%s'" % (image, reference), self.api.tag, image, repository, tag, force=True)

    def push_image(self, reference):
        """Push ``repo:tag`` to its registry; -> the manifest digest the registry answered with."""
        repository, tag = _repository_tag(reference)
        stream = self._call("push image '%s'" % reference, self.api.push, repository, tag=tag, stream=True,
                            decode=True)
        return _progress_result("push image '%s'" % reference, self._consume(stream, "push image '%s'" % reference))

    def pull_image(self, reference):
        """Pull ``repo:tag`` (or ``repo@digest``) from its registry; -> the digest pulled."""
        repository, tag = _repository_tag(reference)
        what = "pull image '%s'" % reference
        return _progress_result(what, self._consume(self._call(what, self.api.pull, repository, tag=tag, stream=True,
                                                               decode=True), what))

    def build_image(self, archive, tag, dockerfile, buildargs=None, target=None, labels=None, network=False,
                    deadline=600):
        """Build ``tag`` with the engine's own builder from the tar file object ``archive``.

        RUN steps get no network unless ``network``. A build still running after ``deadline`` seconds
        is stopped: the connection is cut, and the engine cancels the build and removes its
        container. -> ``{"id": image ID | None, "output": [lines], "error": None | text, "timed_out": bool,
        "seconds": float}``; a failed build is a result with ``error``, not an exception.
        """
        params = {"t": tag, "dockerfile": dockerfile, "rm": True, "forcerm": True, "pull": False,
                  "buildargs": json.dumps(buildargs or {}), "labels": json.dumps(labels or {}),
                  "networkmode": "default" if network else "none"}
        if target:
            params["target"] = target
        started = time.monotonic()
        response = self._call("start building image '%s'" % tag, self.api._post, self.api._url("/build"),
                              params=params, data=archive, headers={"Content-Type": "application/x-tar"},
                              stream=True, timeout=None)
        state = {"timed_out": False}

        def cut():
            state["timed_out"] = True
            try:
                response.raw._fp.fp.raw._sock.shutdown(socket.SHUT_RDWR)
            except Exception:  # noqa: BLE001 - another transport: closing is the next best thing
                response.close()
        timer = threading.Timer(deadline, cut)
        timer.daemon = True
        timer.start()
        output, image_id, error = [], None, None
        try:
            for event in self.api._stream_helper(response, decode=True):
                if not isinstance(event, dict):
                    continue
                if event.get("stream"):
                    output.extend(line for line in event["stream"].splitlines() if line.strip())
                if event.get("error"):
                    error = str(event["error"]).strip()
                    output.append(error)
                if (event.get("aux") or {}).get("ID"):
                    image_id = event["aux"]["ID"]
        except Exception as exc:  # noqa: BLE001 - the cut connection, or the engine went away
            if not state["timed_out"]:
                error = error or "the connection to the engine broke during the build: %s" % exc
        finally:
            timer.cancel()
            response.close()
        if state["timed_out"]:
            error = "stopped after %d s, the platform's build time limit" % deadline
            image_id = None
        return {"id": None if error else image_id, "output": output, "error": error,
                "timed_out": state["timed_out"], "seconds": round(time.monotonic() - started, 1)}

    def _consume(self, stream, what):
        return self._call(what, lambda: list(stream))

    def exec_in(self, container_id, argv, files=None, directory="/tmp"):
        """Run ``argv`` in a running container (after copying ``files`` {name: bytes} into
        ``directory``); -> (exit code, output)."""
        if files:
            self._call("copy files into container %s" % container_id[:12], self.api.put_archive,
                       container_id, directory, _tar(files))
        exec_id = self._call("run a command in container %s" % container_id[:12], self.api.exec_create,
                             container_id, argv)["Id"]
        output = self._call("run a command in container %s" % container_id[:12], self.api.exec_start, exec_id)
        code = self._call("read a command's exit code", self.api.exec_inspect, exec_id).get("ExitCode")
        return code, output_text(output)

    def run_once(self, image, argv, files=None, directory="/tmp", labels=None, timeout=RUN_ONCE_TIMEOUT,
                 entrypoint=None, name=None, binds=None, user=None):
        """A one-off container without network; -> (exit code, output). Always removed.
        ``binds``: ``["volume-or-path:/target[:ro]"]``."""
        extra = {"user": user} if user else {}
        host = {"binds": list(binds)} if binds else {}
        created = self._call("create a container of image '%s'" % image, self.api.create_container, image,
                             command=argv, entrypoint=entrypoint, labels=labels or {}, name=name,
                             network_disabled=True, host_config=self.api.create_host_config(network_mode="none", **host),
                             **extra)
        cid = created["Id"]
        try:
            if files:
                self._call("copy files into a container", self.api.put_archive, cid, directory, _tar(files))
            self._call("start a container of image '%s'" % image, self.api.start, cid)
            result = self._call("wait for a container of image '%s'" % image, self.api.wait, cid, timeout=timeout)
            output = self._call("read a container's output", self.api.logs, cid, stdout=True, stderr=True)
            return result.get("StatusCode"), output_text(output)
        finally:
            self._find("remove container %s" % cid[:12], self.api.remove_container, cid, force=True)
