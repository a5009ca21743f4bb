"""SwarmClient.cached_reads: inside the block a listing is read once per set of arguments, a change
forgets every listing read, a caller that extends the list it got does not change the next answer, and
a seed (spin_converge's snapshot) answers the unfiltered listings; outside the block every call reads."""
from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import SwarmClient


class FakeApi(object):
    def __init__(self):
        self.calls = []

    def services(self, filters=None):
        self.calls.append(("services", filters))
        return [{"Spec": {"Name": "magic_web", "Labels": {"spin.stack": "magic"}}}]

    def networks(self, filters=None):
        self.calls.append(("networks", filters))
        return [{"Name": "magic_default"}]

    def create_network(self, name, **options):
        self.calls.append(("create_network", name))
        return {"Id": "n1"}

    def volumes(self, filters=None):
        self.calls.append(("volumes", filters))
        return {"Volumes": []}

    def secrets(self, filters=None):
        self.calls.append(("secrets", filters))
        return []

    def configs(self, filters=None):
        self.calls.append(("configs", filters))
        return []

    def info(self):
        self.calls.append(("info", None))
        return {}

    def nodes(self):
        self.calls.append(("nodes", None))
        return [{"ID": "node1"}]


def test_a_listing_is_read_once_per_arguments_within_the_block_and_every_time_outside():
    api = FakeApi()
    client = SwarmClient(api=api)
    with client.cached_reads():
        first = client.services()
        first.append({"Spec": {"Name": "added by a caller"}})
        assert client.services() == [{"Spec": {"Name": "magic_web", "Labels": {"spin.stack": "magic"}}}]
        client.services(labels={"spin.stack": "magic"})
        client.services(labels={"spin.stack": "magic"})
    client.services()
    assert api.calls == [("services", None), ("services", {"label": ["spin.stack=magic"]}), ("services", None)]


def test_a_change_forgets_what_was_read():
    api = FakeApi()
    client = SwarmClient(api=api)
    with client.cached_reads():
        client.networks()
        client.create_network("magic_default")
        client.networks()
    assert api.calls == [("networks", None), ("create_network", "magic_default"), ("networks", None)]


def test_a_seed_answers_the_unfiltered_listings_of_every_block():
    api = FakeApi()
    client = SwarmClient(api=api)
    seed = client.snapshot()
    assert ("nodes", None) in api.calls and ("services", None) in api.calls
    api.calls[:] = []
    other = SwarmClient(api=api)
    other.read_seed = seed
    for dummy in range(2):
        with other.cached_reads():
            assert other.nodes() == [{"ID": "node1"}]
            other.services()
            other.services(labels={"spin.tenant": "cory"})
    # the filtered listing is read in each block (it is no part of the seed); the unfiltered ones never
    assert api.calls == [("services", {"label": ["spin.tenant=cory"]})] * 2
