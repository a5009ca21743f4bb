# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""spin_build's work on the build node: each judged build planned (built when missing, not yet in the
registry, or on a moved base image), built with the verdict's context and pushed (the module file keeps
its documentation and argument spec)."""
from __future__ import annotations

import json

from ansible_collections.spin.platform.plugins.module_utils.build import build as build_model
from ansible_collections.spin.platform.plugins.module_utils.common.errors import SpinError

OUTPUT_LINES = 30


def _bases(client, refs):
    """{base image ref: its ID on this engine, or None}."""
    out = {}
    for ref in refs:
        found = client.inspect_image(ref)
        out[ref] = found["Id"] if found else None
    return out


def plan(client, item, registry):
    """-> (build it?, why, the local image or None)."""
    local = client.inspect_image(item["image"])
    if registry and not client.distribution_digest(item["image"]):
        return True, "not in the registry %s yet" % registry, local
    if not registry and local is None:
        return True, "not built yet", None
    if local is not None:
        labels = (local.get("Config") or {}).get("Labels") or {}
        try:
            recorded = json.loads(labels.get(build_model.LABEL_BASES) or "{}")
        except ValueError:
            recorded = {}
        now = _bases(client, item["bases"])
        moved = sorted(ref for ref, image_id in now.items() if image_id and recorded.get(ref) != image_id)
        if moved:
            return True, "its base image changed (%s)" % ", ".join(moved), local
    return False, "up to date", local


def failure(item, result):
    lines = result["output"][-OUTPUT_LINES:]
    quoted = "\n".join("  | " + line for line in lines)
    return ("service '%s': the build of %s failed: %s\n  the build's last %d lines:\n%s"
            % (item["service"], item["image"], result["error"], len(lines), quoted))


def run(module, client):
    """spin_build's task: ``module`` (params, check_mode), ``client`` a SwarmClient -> the result."""
    params = module.params
    registry = (params["platform"] or {}).get("registry")
    results = []
    for item in params["_builds"] or []:
        wanted, why, local = plan(client, item, registry)
        entry = {"service": item["service"], "image": item["image"], "built": wanted, "why": why,
                 "id": local["Id"] if local else None, "digest": None, "seconds": 0.0}
        if wanted and not module.check_mode:
            bases = _bases(client, item["bases"])
            labels = dict(item["build"].get("labels") or {})
            labels.update({"spin.tenant": params["tenant"], "spin.stack": params["stack"],
                           "spin.service": item["service"], build_model.LABEL_DIGEST: item["digest"],
                           build_model.LABEL_BASES: json.dumps(bases, sort_keys=True)})
            with open(item["archive"], "rb") as archive:
                result = client.build_image(archive, item["image"], item["dockerfile"],
                                            buildargs=item["build"].get("args"), target=item["build"].get("target"),
                                            labels=labels, network=bool(item["network"]),
                                            deadline=int(item["timeout"]))
            entry["seconds"] = result["seconds"]
            if result["error"]:
                raise SpinError(failure(item, result))
            entry["id"] = result["id"]
        if registry and not module.check_mode:
            entry["digest"] = client.push_image(item["image"]) if wanted else client.distribution_digest(item["image"])
        results.append(entry)
    return {"changed": any(r["built"] for r in results), "builds": results,
            "summary": [summary_line(r, module.check_mode) for r in results]}


def summary_line(entry, check_mode):
    if not entry["built"]:
        return "image of %s: %s (up to date)" % (entry["service"], entry["image"])
    done = "would be built" if check_mode else "built in %.1f s" % entry["seconds"]
    return "image of %s: %s %s (%s)" % (entry["service"], entry["image"], done, entry["why"])
