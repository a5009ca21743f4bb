"""The test harness's crash detector (tests/integration/tracebacks.py): a traceback with a frame of the
collection's code is found in the forms ansible-core 2.19 prints it; tracebacks of other code, and
text that merely mentions the collection, are not."""
import pytest

from ansible_collections.spin.platform.tests.integration import tracebacks

ROOT = "/work/checkout"

# ansible-playbook with ANSIBLE_DISPLAY_TRACEBACK=error: a filter plugin of the collection that crashed
FILTER_CRASH = """\
TASK [ansible.builtin.debug] ***************************************************
[ERROR]: Task failed: Finalization of task args for 'ansible.builtin.debug' failed: Error while resolving value
<<< caused by >>>

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/ansible/_internal/_templating/_jinja_plugins.py", line 118, in _invoke_plugin
    result = instance.j2_function(*lazify_container_args(args), **lazify_container_kwargs(kwargs))
  File "/work/checkout/playbooks/collections/ansible_collections/spin/platform/plugins/filter/tenant.py", line 36, in x
    return _call(tenants.offboard, registry, name)
AttributeError: 'int' object has no attribute 'pop'
fatal: [localhost]: FAILED! => {}
...ignoring
"""
# a module's crash on the target, inside the result (a JSON string)
MODULE_CRASH = ('fatal: [local]: FAILED! => {"changed": false, "exception": "Traceback (most recent call last):\\n  '
                'File \\"/tmp/ansible_spin.platform.spin_stack_payload_x/ansible_spin.platform.spin_stack_payload.zip/'
                'ansible_collections/spin/platform/plugins/module_utils/stack/stack.py\\", line 9, in apply\\n'
                'KeyError: \'x\'\\n", "msg": "MODULE FAILURE"}')
# a module that refused with fail_json: ansible-core 2.19 shows where it was called, ending in "Message:"
REFUSAL = """\
[ERROR]: Task failed: Module failed: refused
Traceback (most recent call last):
  File "/root/.ansible/tmp/ansible-tmp-1/AnsiballZ_spin_stack.py", line 266, in <module>
    _ansiballz_main(
  File "/tmp/ansible_payload_q/payload.zip/ansible_collections/spin/platform/plugins/module_utils/worker/module_runner.py", line 55, in x
    module.fail_json(**result)
Message: refused

The above target exception was the direct cause of the following controller exception:

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/ansible/executor/task_executor.py", line 426, in _execute
    _captured.AnsibleActionCapturedError.maybe_raise_on_result(result)
ansible._internal._errors._captured.AnsibleModuleCapturedError: Module failed: refused
"""
# the same refusal inside a YAML result (callback_result_format: yaml), indented as a whole, its message
# over several lines (a failed build quotes the build's output)
INDENTED_REFUSAL = """\
fatal: [local]: FAILED! =>
    exception: |-
        Traceback (most recent call last):
          File "/tmp/ansible_payload_q/payload.zip/ansible_collections/spin/platform/plugins/modules/spin_build.py", line 230, in main
          File "/tmp/ansible_payload_q/payload.zip/ansible_collections/spin/platform/plugins/module_utils/worker/module_runner.py", line 59, in run_module
            module.fail_json(**result)
        Message: service 'app': the build failed: exit 3
          the build's last lines:
          | Step 1/7 : FROM httpd:2.4
    msg: refused
PLAY RECAP *********************************************************************
"""
INDENTED_CRASH = INDENTED_REFUSAL.replace("        Message: service 'app'", "        KeyError: 'app'")
# a filter's refusal: the collection's SpinError, then Ansible's own error for the filter
FILTER_REFUSAL = """\
Traceback (most recent call last):
  File "/work/checkout/playbooks/collections/ansible_collections/spin/platform/plugins/filter/tenant.py", line 30, in _call
    return function(*args)
  File "/work/checkout/playbooks/collections/ansible_collections/spin/platform/plugins/plugin_utils/tenants.py", line 9, in onboard
    raise SpinError("tenant %r cannot be onboarded" % name)
ansible_collections.spin.platform.plugins.module_utils.common.errors.SpinError: tenant 'b' cannot be onboarded (1 problem(s)):
uid 62001 already belongs to tenant 'a'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/work/checkout/playbooks/collections/ansible_collections/spin/platform/plugins/filter/tenant.py", line 32, in _call
    raise AnsibleFilterError(exc.message)
ansible.errors.AnsibleTemplatePluginError: tenant 'b' cannot be onboarded (1 problem(s)):
"""
# a refusal whose source line holds a "\n" escape (printed as the two characters, not a line break)
SOURCE_ESCAPE = FILTER_REFUSAL.replace('raise SpinError("tenant %r cannot be onboarded" % name)',
                                       'raise SpinError("tenant %r cannot be onboarded:\\n%s" % (name, x))')
# an action plugin imported from the checkout's own plugins/ directory
CHECKOUT_CRASH = """\
Traceback (most recent call last):
  File "/work/checkout/plugins/plugin_utils/compose_text.py", line 33, in read_file
    with open(full, "rb") as handle:
PermissionError: [Errno 13] Permission denied: '/srv/spin/submissions/eve/x.env'
"""
# Ansible's own crash, with no frame of the collection
CORE_CRASH = """\
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/ansible/cli/__init__.py", line 659, in cli_executor
    exit_code = cli.run()
KeyboardInterrupt
"""
# the collection named in a refusal, in a path of the output, but no traceback
MENTIONS = """\
fatal: [local]: FAILED! => {"msg": "docker-compose.yml: service 'web': key 'env_file': 'x.env' cannot be read"}
  File "/work/checkout/playbooks/collections/ansible_collections/spin/platform/plugins/action/spin_stack.py"
"""


@pytest.mark.parametrize("output, expected", [
    (FILTER_CRASH, ["plugins/filter/tenant.py"]),
    (MODULE_CRASH, ["plugins/module_utils/stack/stack.py"]),
    (CHECKOUT_CRASH, ["plugins/plugin_utils/compose_text.py"]),
    (CORE_CRASH, []),
    (MENTIONS, []),
    (REFUSAL, []),
    (INDENTED_REFUSAL, []),
    (FILTER_REFUSAL, []),
    (SOURCE_ESCAPE, []),
    (FILTER_REFUSAL + CHECKOUT_CRASH, ["plugins/plugin_utils/compose_text.py"]),
    (INDENTED_CRASH, ["plugins/module_utils/worker/module_runner.py"]),
    (REFUSAL + MODULE_CRASH, ["plugins/module_utils/stack/stack.py"]),
    (CORE_CRASH + CHECKOUT_CRASH, ["plugins/plugin_utils/compose_text.py"]),
    ("", []),
])
def test_tracebacks_of_the_collections_code_are_found(output, expected):
    found = tracebacks.collection_tracebacks(output, root=ROOT)
    assert len(found) == len(expected)
    for block, path in zip(found, expected):
        assert block.startswith(tracebacks.MARK) and path in block


def test_a_crash_fails_even_where_the_return_code_was_expected():
    with pytest.raises(AssertionError) as failed:
        tracebacks.assert_none(FILTER_CRASH, "ansible-playbook (rc=0)")
    assert "ansible-playbook (rc=0) printed a traceback of the collection's code" in str(failed.value)
    assert "AttributeError: 'int' object has no attribute 'pop'" in str(failed.value)
    tracebacks.assert_none(CORE_CRASH + MENTIONS, "ansible-playbook")


def test_the_command_line_exits_1_on_a_crash(tmp_path, capsys):
    crashed, clean = tmp_path / "crashed.log", tmp_path / "clean.log"
    crashed.write_text(MODULE_CRASH)
    clean.write_text(MENTIONS)
    assert tracebacks.main([str(clean)]) == 0
    assert tracebacks.main([str(clean), str(crashed)]) == 1
    assert "1 traceback(s) of the collection's code" in capsys.readouterr().out
