"""The harness fails a test on a crash of the collection's code (tests/integration/tracebacks.py): deliberate
ones, in a filter plugin and a module of a stand-in spin.platform collection next to the playbook, whose
tasks ignore their errors so that ansible-playbook's rc is 0. A module's refusal (fail_json) is no crash.
Without ANSIBLE_DISPLAY_TRACEBACK (ansible-core 2.19's default) a crash shows no traceback at all: what
the harness could not see before."""
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

MODULE = '''\
from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(argument_spec={"how": {"type": "str"}})
    if module.params["how"] == "refuse":
        module.fail_json(msg="refused in words")
    module.exit_json(changed=False, value={}["no such key"])


main()
'''

PLAY = '''\
- name: What the collection's code does, its errors ignored
  hosts: localhost
  gather_facts: false
  tasks:
%s
'''
TASKS = {
    "filter": '''    - name: Call the crashing filter
      ansible.builtin.debug:
        msg: "{{ {} | spin.platform.crash }}"
      ignore_errors: true''',
    "module": '''    - name: Run the crashing module
      spin.platform.crash: {how: crash}
      ignore_errors: true''',
    "refusal": '''    - name: Run the module that refuses
      spin.platform.crash: {how: refuse}
      ignore_errors: true''',
}


@pytest.fixture
def playbook_of(tmp_path):
    # the playbook's adjacent collections directory comes first: this spin.platform has only these plugins
    plugins = tmp_path / "collections" / "ansible_collections" / "spin" / "platform" / "plugins"
    (plugins / "filter").mkdir(parents=True)
    (plugins / "filter" / "crash.py").write_text(CRASHING_FILTER)
    (plugins / "modules").mkdir()
    (plugins / "modules" / "crash.py").write_text(MODULE)

    def write(task):
        path = tmp_path / ("%s.yml" % task)
        path.write_text(PLAY % TASKS[task])
        return str(path)
    return write


@pytest.mark.parametrize("task, where", [("filter", "plugins/filter/crash.py"), ("module", "plugins/modules/crash.py")])
def test_a_crash_of_the_collections_code_fails_the_test_even_with_rc_0(playbook_of, task, where):
    with pytest.raises(pytest.fail.Exception) as failed:
        run_playbook(playbook_of(task))
    message = str(failed.value)
    assert "(rc=0) printed a traceback of the collection's code" in message
    assert "ansible_collections/spin/platform/" + where in message
    assert "KeyError: 'no such key'" in message


def test_a_refusal_in_words_is_no_crash(playbook_of):
    result = run_playbook(playbook_of("refusal"))
    assert "refused in words" in result.output and "Message: refused in words" in result.output


def test_without_the_setting_ansible_hides_the_traceback(playbook_of):
    hidden = run_playbook(playbook_of("module"), env={"ANSIBLE_DISPLAY_TRACEBACK": "never"})
    assert hidden.rc == 0 and "no such key" in hidden.output, hidden.output[-3000:]
    assert tracebacks.MARK not in hidden.output
