"""A fake of the docker SDK's APIClient that records each call and answers from a table, for the unit tests
of SwarmClient (engine/swarm.py and its images mixin, engine/images_api.py)."""
from docker import errors as docker_errors

from ansible_collections.spin.platform.plugins.module_utils.engine.swarm import SwarmClient


class Response(object):
    def __init__(self, status_code):
        self.status_code = status_code
        self.reason = "reason"


def api_error(status, explanation):
    return docker_errors.APIError("%d error" % status, response=Response(status), explanation=explanation)


class FakeAPI(object):
    api_version = "1.41"

    def __init__(self, **answers):
        self.answers = answers
        self.calls = []

    def __getattr__(self, name):
        def call(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            answer = self.answers[name]
            if isinstance(answer, Exception):
                raise answer
            return answer
        return call


def client(**answers):
    return SwarmClient("unix:///var/run/docker.sock", 5, api=FakeAPI(**answers))
