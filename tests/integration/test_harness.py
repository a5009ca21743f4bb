"""The harness fails a test on a crash of the collection's code (tests/integration/tracebacks.py): a
deliberate one, in a filter plugin of a stand-in spin.platform collection next to a playbook, whose task
ignores its error so that ansible-playbook's rc is 0. Without ANSIBLE_DISPLAY_TRACEBACK (ansible-core
2.19's default) the same run shows no traceback at all: what the harness could not see before."""
import pytest
from conftest import run_playbook

import tracebacks

CRASHING_FILTER = '''\
def crash(value):
    return value["no such key"]


class FilterModule(object):
    def filters(self):
        return {"crash": crash}
'''

PLAYBOOK = '''\
- name: A deliberate crash of the collection's code, its error ignored
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Call the crashing filter
      ansible.builtin.debug:
        msg: "{{ {} | spin.platform.crash }}"
      ignore_errors: true
'''


@pytest.fixture
def crashing_playbook(tmp_path):
    # the playbook's adjacent collections directory comes first: this spin.platform has only the filter
    filters = tmp_path / "collections" / "ansible_collections" / "spin" / "platform" / "plugins" / "filter"
    filters.mkdir(parents=True)
    (filters / "crash.py").write_text(CRASHING_FILTER)
    playbook = tmp_path / "crash.yml"
    playbook.write_text(PLAYBOOK)
    return str(playbook)


def test_a_crash_of_the_collections_code_fails_the_test_even_with_rc_0(crashing_playbook):
    with pytest.raises(pytest.fail.Exception) as failed:
        run_playbook(crashing_playbook)
    message = str(failed.value)
    assert "(rc=0) printed a traceback of the collection's code" in message
    assert "ansible_collections/spin/platform/plugins/filter/crash.py" in message
    assert "KeyError: 'no such key'" in message


def test_without_the_setting_ansible_hides_the_traceback(crashing_playbook):
    hidden = run_playbook(crashing_playbook, env={"ANSIBLE_DISPLAY_TRACEBACK": "never"})
    assert hidden.rc == 0 and "no such key" in hidden.output, hidden.output[-3000:]
    assert tracebacks.MARK not in hidden.output
