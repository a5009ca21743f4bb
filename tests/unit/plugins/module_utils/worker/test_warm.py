"""The warm worker's dispatch and life (module_utils/worker/warm.py), without a socket: the worker
process itself, started and spoken to as the controller does, is in plugin_utils/test_warm_client.py."""
import types

import pytest

from ansible_collections.spin.platform.plugins.module_utils.worker import module_runner, warm

SPEC = {"name": {"type": "str"}, "docker_host": {"type": "str"}, "timeout": {"type": "int", "default": 1}}


def test_a_task_runs_the_module_it_names_and_no_other(monkeypatch):
    monkeypatch.setattr(module_runner, "SwarmClient", lambda host, timeout: "client")
    module = types.SimpleNamespace(argument_spec=lambda: SPEC,
                                   run=lambda m, client: {"changed": False, "name": m.params["name"]})
    request = {"module": "spin.platform.spin_stack", "args": {"name": "web"}, "no_target_syslog": True}
    assert warm.run_task(request, {"spin_stack": module}) == {"changed": False, "name": "web"}
    refused = warm.run_task(dict(request, module="spin.platform.spin_mount"), {"spin_stack": module})
    assert refused == {"failed": True, "msg": "the spin worker does not run module spin.platform.spin_mount"}


def test_a_worker_whose_modules_do_not_import_leaves_no_file_behind(tmp_path):
    def load():
        raise ImportError("No module named 'no_such_module'")
    with pytest.raises(ImportError):
        warm.serve(str(tmp_path), "v1", 1, load)
    assert list(tmp_path.iterdir()) == []
