"""Each demo image really runs: httpd answers HTTP, MariaDB accepts the logins it was given."""
import time
import urllib.request

import pytest


def _wait(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 - keep trying until the deadline
            last = exc
        time.sleep(0.5)
    pytest.fail("%s within %ss (last error: %s)" % (what, timeout, last))


@pytest.fixture
def container(docker_client, prefix):
    made = []

    def run(image, **kwargs):
        c = docker_client.containers.run(image, name="%s-%d" % (prefix, len(made)), detach=True, **kwargs)
        made.append(c)
        return c

    yield run
    for c in made:
        c.remove(force=True, v=True)  # and MariaDB's anonymous data volume


def test_httpd_answers_http_on_loopback(container):
    web = container("httpd", ports={"80/tcp": ("127.0.0.1", None)})
    web.reload()
    port = web.attrs["NetworkSettings"]["Ports"]["80/tcp"][0]["HostPort"]

    def get():
        with urllib.request.urlopen("http://127.0.0.1:%s/" % port, timeout=2) as resp:
            return resp.status, resp.read().decode()

    status, body = _wait(get, 20, "httpd did not answer")
    assert status == 200
    assert "It works!" in body


def _login(db, user, password, database):
    return db.exec_run(["mariadb", "-h127.0.0.1", "-u" + user, "-p" + password, database, "-N", "-e",
                        "SELECT CURRENT_USER(), DATABASE()"])


def _accepted(result):
    """The exec result of a login that worked, else None (to wait on)."""
    return result if result.exit_code == 0 else None


def test_mariadb_honours_credentials_from_env(container):
    db = container("mysql", environment={"MYSQL_ROOT_PASSWORD": "rootpw", "MYSQL_DATABASE": "seed",
                                         "MYSQL_USER": "seed", "MYSQL_PASSWORD": "seed pass"})
    result = _wait(lambda: _accepted(_login(db, "seed", "seed pass", "seed")), 60, "MariaDB did not accept the user's login")
    assert result.output.decode().split() == ["seed@%", "seed"]
    assert _login(db, "root", "rootpw", "seed").exit_code == 0
    assert _login(db, "seed", "wrong", "seed").exit_code != 0


def test_mariadb_honours_credentials_from_files(container, tmp_path):
    (tmp_path / "root").write_text("r00t'\"pw")
    (tmp_path / "user").write_text("from-a-secret")
    db = container("mysql", environment={
        "MYSQL_ROOT_PASSWORD_FILE": "/run/secrets/root", "MYSQL_DATABASE": "files",
        "MYSQL_USER": "filer", "MYSQL_PASSWORD_FILE": "/run/secrets/user"},
        volumes={str(tmp_path): {"bind": "/run/secrets", "mode": "ro"}})
    result = _wait(lambda: _accepted(_login(db, "filer", "from-a-secret", "files")), 60, "MariaDB did not accept the login from MYSQL_PASSWORD_FILE")
    assert result.output.decode().split() == ["filer@%", "files"]
    assert _login(db, "root", "r00t'\"pw", "files").exit_code == 0
    server_env = db.exec_run(["cat", "/proc/1/environ"]).output.decode()
    assert "from-a-secret" not in server_env and "PASSWORD" not in server_env, "secrets leaked into the server's env"


def test_mariadb_refuses_to_initialise_without_a_root_password(container):
    db = container("mysql")
    assert db.wait(timeout=60)["StatusCode"] != 0
    assert b"no root password is given" in db.logs(stdout=False, stderr=True)
