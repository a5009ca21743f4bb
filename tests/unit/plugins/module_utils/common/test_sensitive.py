"""sensitive.py: which environment values are secret, the warning, and detach/attach for transport."""
import pytest

from ansible_collections.spin.platform.plugins.module_utils.common import sensitive
from ansible_collections.spin.platform.plugins.plugin_utils import compose, translate
from ansible_collections.spin.platform.plugins.module_utils.common import diagnostics as diag


@pytest.mark.parametrize("name, value, secret", [
    ("MYSQL_PASSWORD", "MyOwnPass", True),
    ("MYSQL_ROOT_PASSWORD", "s3cr3t", True),
    ("POSTGRES_PASSWORD", "x", True),
    ("API_TOKEN", "abc", True),
    ("AWS_SECRET_ACCESS_KEY", "abc", True),
    ("DB_PASS", "abc", True),
    ("PASS", "abc", True),
    ("ldap_bind_pwd", "abc", True),
    ("MYSQL_PASSWORD_FILE", "/run/secrets/db", False),     # a path to a secret
    ("MYSQL_RANDOM_ROOT_PASSWORD", "yes", False),          # a switch
    ("MYSQL_ALLOW_EMPTY_PASSWORD", "true", False),
    ("MYSQL_PASSWORD", "", False),
    ("MYSQL_PASSWORD", None, False),
    ("MYSQL_DATABASE", "magic", False),
    ("PASSENGER_APP_ENV", "production", False),
    ("COMPASS_HOME", "/opt", False),
    ("TOKENIZER_THREADS", "4", True),                      # errs on the side of secrecy
])
def test_is_secret_env(name, value, secret):
    assert sensitive.is_secret_env(name, value) is secret


SEED = """version: '2'
services:
  web:
    image: httpd
  db:
    image: mysql
    environment:
      MYSQL_DATABASE: magic
      MYSQL_USER: cory
      MYSQL_PASSWORD: MyOwnPass
"""


def _model(text):
    model, diagnostics = compose.parse_stack(text, "docker-compose.yml")
    assert not [d for d in diagnostics if d["severity"] == "error"]
    return model


def test_a_plain_password_is_warned_about_with_the_way_to_a_secret():
    warnings = sensitive.plain_password_warnings(_model(SEED), "docker-compose.yml")
    assert [diag.format_diagnostic(w) for w in warnings] == [
        "docker-compose.yml: service 'db': key 'environment.MYSQL_PASSWORD': warning: a password in plain text: anyone who may "
        "inspect the service reads it. Keep it in a secret instead: put the value in a file beside docker-compose.yml "
        "(say db_mysql_password.txt), declare it under the top-level secrets (db_mysql_password: {file: "
        "./db_mysql_password.txt}), give the service secrets: [db_mysql_password] and, for images that read *_FILE "
        "variables (mysql, mariadb, postgres), replace MYSQL_PASSWORD with MYSQL_PASSWORD_FILE: "
        "/run/secrets/db_mysql_password"]
    assert warnings[0]["severity"] == "warning"
    # the advice works: that stack parses, and no password is left in the environment
    fixed = SEED.replace("      MYSQL_PASSWORD: MyOwnPass\n", "      MYSQL_PASSWORD_FILE: /run/secrets/db_mysql_password\n"
                         "    secrets: [db_mysql_password]\nsecrets:\n  db_mysql_password:\n    file: ./pw.txt\n")
    model, diagnostics = compose.parse_stack(fixed, "docker-compose.yml", read_file=lambda path: "MyOwnPass")
    assert not [d for d in diagnostics if d["severity"] == "error"], diagnostics
    assert sensitive.plain_password_warnings(model) == []


def test_the_translator_puts_passwords_in_secret_env():
    tasks = translate.stack_to_tasks(_model(SEED), "demo", "seed")
    db = next(s for s in tasks["services"] if s["name"] == "seed_db")
    assert db["env"] == {"MYSQL_DATABASE": "magic", "MYSQL_USER": "cory",
                         "MYSQL_ROOT_PASSWORD_FILE": "/run/secrets/db_root_password"}   # generated, in a secret
    assert db["secret_env"] == {"MYSQL_PASSWORD": "MyOwnPass"}


def test_detach_takes_out_every_secret_value_and_attach_puts_it_back():
    tasks = {"secrets": [{"name": "s_pw_0123456789", "data": "aHVudGVyMg==", "labels": {}}],
             "services": [{"name": "s_db", "env": {"A": "1"}, "secret_env": {"MYSQL_PASSWORD": "MyOwnPass"}},
                          {"name": "s_web", "env": {}, "secret_env": {}}]}
    bare, secret = sensitive.detach(tasks)
    assert "MyOwnPass" not in repr(bare) and "aHVudGVyMg==" not in repr(bare)
    assert bare["services"][0]["secret_env"] == {"MYSQL_PASSWORD": sensitive.DETACHED}
    assert secret == {"secrets": {"s_pw_0123456789": "aHVudGVyMg=="}, "secret_env": {"s_db": {"MYSQL_PASSWORD": "MyOwnPass"}}}
    assert sensitive.attach(bare, secret) == tasks
    assert tasks["secrets"][0]["data"] == "aHVudGVyMg=="      # the input is left as it was


def test_redact_env_hides_named_and_secret_looking_values():
    view = {"image": "mysql", "env": {"MYSQL_PASSWORD": "x", "OTHER": "y", "CUSTOM": "z"}}
    assert sensitive.redact_env(view, {"CUSTOM"}) == {
        "image": "mysql", "env": {"MYSQL_PASSWORD": "<redacted>", "OTHER": "y", "CUSTOM": "<redacted>"}}
    assert sensitive.redact_env({}, set()) == {}
