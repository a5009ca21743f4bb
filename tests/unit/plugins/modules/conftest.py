"""A fake SwarmClient for the resource modules (spin_network, spin_volume, spin_secret, spin_config):
it keeps networks, volumes, secrets and configs in the shapes Docker answers with, and records
every change, so that a test can compare what a module does with what StackReconciler does."""
import base64
import copy
import itertools

import pytest
import yaml

from ansible_collections.spin.platform.plugins.doc_fragments.docker import ModuleDocFragment

VXLAN = {"com.docker.network.driver.overlay.vxlanid_list": "4097"}


def _matches(labels, wanted):
    labels = labels or {}
    return all(k in labels and (v is None or labels[k] == v) for k, v in (wanted or {}).items())


class FakeSwarm(object):
    api_version = "1.41"

    def __init__(self):
        self.nets, self.vols, self.secs, self.cfgs = {}, {}, {}, {}
        self.calls = []
        self._ids = itertools.count(1)

    def _id(self, kind):
        return "%s%d" % (kind, next(self._ids))

    # networks: Docker adds the VXLAN option to an overlay network
    def find_network(self, name):
        return copy.deepcopy(self.nets.get(name))

    def inspect_network(self, network_id):
        return copy.deepcopy(next((n for n in self.nets.values() if n["Id"] == network_id), None))

    def networks(self, labels=None):
        return [copy.deepcopy(n) for n in self.nets.values() if _matches(n["Labels"], labels)]

    def create_network(self, name, driver="overlay", options=None, labels=None, attachable=False, internal=False,
                       ipam=None):
        self.calls.append(("create_network", name, {"driver": driver, "options": options, "labels": labels,
                                                    "attachable": attachable, "internal": internal}))
        opts = dict(options or {}, **(VXLAN if driver == "overlay" else {}))
        self.nets[name] = {"Name": name, "Id": self._id("net"), "Driver": driver, "Internal": internal,
                           "Attachable": attachable, "Options": opts, "Labels": dict(labels or {}), "Scope": "swarm"}
        return self.nets[name]["Id"]

    def remove_network(self, network_id):
        self.calls.append(("remove_network", network_id))
        self.nets = {k: v for k, v in self.nets.items() if v["Id"] != network_id}

    # volumes: Docker answers Options/Labels null when none were given
    def find_volume(self, name):
        return copy.deepcopy(self.vols.get(name))

    def volumes(self, labels=None):
        return [copy.deepcopy(v) for v in self.vols.values() if _matches(v["Labels"], labels)]

    def create_volume(self, name, driver="local", driver_opts=None, labels=None):
        self.calls.append(("create_volume", name, {"driver": driver, "driver_opts": driver_opts, "labels": labels}))
        self.vols[name] = {"Name": name, "Driver": driver, "Options": driver_opts or None, "Labels": labels or None,
                           "Scope": "local", "Mountpoint": "/var/lib/docker/volumes/%s/_data" % name}
        return self.vols[name]

    def remove_volume(self, name):
        self.calls.append(("remove_volume", name))
        self.vols.pop(name)

    # secrets (Docker never returns their data) and configs (it does)
    def find_secret(self, name):
        return copy.deepcopy(self.secs.get(name))

    def secrets(self, labels=None):
        return [copy.deepcopy(s) for s in self.secs.values() if _matches(s["Spec"]["Labels"], labels)]

    def create_secret(self, name, data, labels=None):
        assert isinstance(data, bytes)
        self.calls.append(("create_secret", name, {"data": data, "labels": labels}))
        self.secs[name] = {"ID": self._id("sec"), "Version": {"Index": 1}, "Spec": {"Name": name,
                                                                                   "Labels": dict(labels or {})}}
        self.stored_secret = data
        return self.secs[name]["ID"]

    def remove_secret(self, secret_id):
        self.calls.append(("remove_secret", secret_id))
        self.secs = {k: v for k, v in self.secs.items() if v["ID"] != secret_id}

    def find_config(self, name):
        return copy.deepcopy(self.cfgs.get(name))

    def configs(self, labels=None):
        return [copy.deepcopy(c) for c in self.cfgs.values() if _matches(c["Spec"]["Labels"], labels)]

    def create_config(self, name, data, labels=None):
        assert isinstance(data, bytes)
        self.calls.append(("create_config", name, {"data": data, "labels": labels}))
        self.cfgs[name] = {"ID": self._id("cfg"), "Version": {"Index": 1},
                           "Spec": {"Name": name, "Labels": dict(labels or {}),
                                    "Data": base64.b64encode(data).decode("ascii")}}
        return self.cfgs[name]["ID"]

    def remove_config(self, config_id):
        self.calls.append(("remove_config", config_id))
        self.cfgs = {k: v for k, v in self.cfgs.items() if v["ID"] != config_id}

    # a stack with no services, for StackReconciler
    def services(self, labels=None):
        return []


@pytest.fixture
def fake_swarm():
    """The FakeSwarm class: call it for each fake engine a test needs."""
    return FakeSwarm


def _walk(doc_options, spec, path=""):
    assert sorted(doc_options) == sorted(spec), path or "top level"
    for name, doc in doc_options.items():
        opt = spec[name]
        for key in ("type", "default", "choices", "required", "elements", "aliases"):
            documented = doc.get(key, False if key == "required" else None)
            coded = opt.get(key, False if key == "required" else None)
            if key == "type":
                coded = coded or "str"
            assert documented == coded, "%s: %s documented %r, coded %r" % (path + name, key, documented, coded)
        assert doc.get("description"), path + name + " has no description"


@pytest.fixture
def check_docs():
    """The module's DOCUMENTATION (with the docker fragment) says what its argument_spec does;
    its attributes, EXAMPLES and RETURN parse."""
    def check(module):
        doc = yaml.safe_load(module.DOCUMENTATION)
        options = dict(doc["options"], **yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"])
        _walk(options, module.argument_spec())
        assert {k: v["support"] for k, v in doc["attributes"].items() if k in ("check_mode", "diff_mode",
                                                                              "idempotent")} == {
            "check_mode": "full", "diff_mode": "full", "idempotent": "full"}
        assert doc["extends_documentation_fragment"] == ["spin.platform.docker"]
        assert yaml.safe_load(module.EXAMPLES)
        assert set(yaml.safe_load(module.RETURN)) == {"changed", "name", "id", "diff"}
        return doc
    return check
