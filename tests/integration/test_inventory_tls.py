"""spin.platform.swarm inventory over TLS and over ssh:// against a real engine the test starts: a container
that runs its own dockerd (the platform's node recipe, docker-in-docker without --privileged) listening on
TCP with --tlsverify, certificates made here with openssl, and a one-node swarm of its own. The host's
engine and swarm are not touched beyond running that container; it is removed afterwards.

Each way in is proven both ways: the right options list the node, and leaving one part out (no TLS, no
client certificate, another CA) is refused by the engine or by the certificate check."""
import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import tracebacks
import yaml
from faultlib import NODE_CONTEXT, NODE_FLAGS, NODE_IMAGE

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.dirname(sys.executable)
PORT = 2376


def _docker(*args, check=True, **kwargs):
    proc = subprocess.run(["docker", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          check=False, **kwargs)
    assert not check or proc.returncode == 0, "docker %s: %s" % (" ".join(args), proc.stdout[-2000:])
    return proc


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(directory, name):
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
             "-keyout", name + "-key.pem", "-out", name + ".pem", cwd=directory)
    return os.path.join(directory, name + ".pem")


def make_cert(directory, ca, name, extensions):
    """A key and a certificate signed by ``ca`` (made by make_ca in ``directory``) with the given v3 extensions."""
    with open(os.path.join(directory, name + ".ext"), "w") as handle:
        handle.write(extensions)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=" + name, "-keyout", name + "-key.pem",
             "-out", name + ".csr", cwd=directory)
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + "-key.pem",
             "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem", cwd=directory)
    return os.path.join(directory, name + ".pem"), os.path.join(directory, name + "-key.pem")


def wait_for(what, check, timeout=90):
    until = time.monotonic() + timeout
    while time.monotonic() < until:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError("%s: not within %s s" % (what, timeout))


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    """The node container with dockerd on tcp://<its address>:2376 (--tlsverify) and a swarm of its own."""
    name = "%stls-%s" % (os.environ.get("SPIN_TEST_PREFIX", "it"), uuid.uuid4().hex[:6])
    scratch = str(tmp_path_factory.mktemp("tls"))
    key = os.path.join(scratch, "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    if _docker("image", "inspect", NODE_IMAGE, check=False).returncode != 0:
        _docker("build", "--quiet", "--build-arg", "ENGINE=docker.io", "--tag", NODE_IMAGE, NODE_CONTEXT,
                env=dict(os.environ, DOCKER_BUILDKIT="0"))
    try:
        _docker("network", "create", name)
        with open(key + ".pub") as handle:
            pubkey = handle.read().strip()
        _docker("run", "--detach", "--name", name, "--hostname", name, "--network", name, *NODE_FLAGS,
                "--volume", "%s-docker:/var/lib/docker" % name, "--env", "NODE_AUTHORIZED_KEY=" + pubkey,
                "--label", "spin.test=tls-engine", NODE_IMAGE)
        ip = _docker("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                     name).stdout.strip()
        make_ca(scratch, "ca")
        make_ca(scratch, "other-ca")
        server = make_cert(scratch, os.path.join(scratch, "ca"), "server",
                           "subjectAltName = IP:%s\nextendedKeyUsage = serverAuth\n" % ip)
        client = make_cert(scratch, os.path.join(scratch, "ca"), "client", "extendedKeyUsage = clientAuth\n")
        _docker("exec", name, "mkdir", "-p", "/etc/docker/tls")
        for source, target in ((os.path.join(scratch, "ca.pem"), "ca.pem"), (server[0], "cert.pem"),
                               (server[1], "key.pem")):
            _docker("cp", source, "%s:/etc/docker/tls/%s" % (name, target))
        _docker("exec", "--detach", name, "sh", "-c",
                "exec dockerd --cgroup-parent=/dind-%s --tlsverify --tlscacert=/etc/docker/tls/ca.pem "
                "--tlscert=/etc/docker/tls/cert.pem --tlskey=/etc/docker/tls/key.pem -H tcp://0.0.0.0:%d "
                "-H unix:///var/run/docker.sock >/var/log/dockerd.log 2>&1" % (name, PORT))
        wait_for("dockerd in " + name,
                 lambda: _docker("exec", name, "docker", "info", check=False).returncode == 0)
        _docker("exec", name, "docker", "swarm", "init", "--advertise-addr", "127.0.0.1")
        _docker("exec", name, "docker", "node", "update", "--label-add", "spin.tls=yes", name)
        yield {"name": name, "ip": ip, "scratch": scratch, "key": key, "ca": os.path.join(scratch, "ca.pem"),
               "other_ca": os.path.join(scratch, "other-ca.pem"), "cert": client[0], "client_key": client[1]}
    finally:
        _docker("rm", "--force", "--volumes", name, check=False)
        _docker("volume", "rm", "%s-docker" % name, check=False)
        _docker("network", "rm", name, check=False)


def inventory(engine, env=None, **options):
    """`ansible-inventory --list` of a spin_swarm.yml with ``options`` -> (rc, parsed listing or None, output).
    An inventory source that cannot be read fails the command instead of leaving it empty."""
    path = os.path.join(engine["scratch"], "spin_swarm.yml")
    with open(path, "w") as handle:
        yaml.safe_dump(dict({"plugin": "spin.platform.swarm", "timeout": 20}, **options), handle)
    full_env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                    ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED="1", **tracebacks.ENV)
    full_env.update(env or {})
    proc = subprocess.run([os.path.join(BIN, "ansible-inventory"), "-i", path, "--list"], cwd=ROOT, env=full_env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False, timeout=120)
    tracebacks.assert_none(proc.stdout + proc.stderr, "ansible-inventory")
    return proc.returncode, (json.loads(proc.stdout) if proc.returncode == 0 else None), proc.stdout + proc.stderr


def refusal(engine, **options):
    """-> (rc, output) of an `ansible-inventory --list` that is expected to fail."""
    rc, _listing, output = inventory(engine, **options)
    return rc, output


def tcp(engine):
    return "tcp://%s:%d" % (engine["ip"], PORT)


def assert_lists_the_node(engine, rc, listing, output):
    assert rc == 0, output[-3000:]
    assert listing["spin_managers"]["hosts"] == [engine["name"]]
    labels = listing["_meta"]["hostvars"][engine["name"]]["spin_node_labels"]
    assert json.dumps(labels).count("spin.tls") == 1, labels


def test_validate_certs_with_the_ca_and_a_client_certificate_lists_the_node(engine):
    rc, listing, output = inventory(engine, docker_host=tcp(engine), validate_certs=True, ca_path=engine["ca"],
                                    client_cert=engine["cert"], client_key=engine["client_key"])
    assert_lists_the_node(engine, rc, listing, output)


def test_plain_tcp_to_the_tls_engine_is_refused(engine):
    rc, output = refusal(engine, docker_host=tcp(engine))
    assert rc != 0
    assert tcp(engine) in output


def test_without_a_client_certificate_the_engine_refuses(engine):
    rc, output = refusal(engine, docker_host=tcp(engine), validate_certs=True, ca_path=engine["ca"])
    assert rc != 0
    assert "is not reachable" in output and tcp(engine) in output


def test_a_certificate_of_another_ca_fails_the_check(engine):
    rc, output = refusal(engine, docker_host=tcp(engine), validate_certs=True, ca_path=engine["other_ca"],
                         client_cert=engine["cert"], client_key=engine["client_key"])
    assert rc != 0
    assert "CERTIFICATE_VERIFY_FAILED" in output or "certificate verify failed" in output


def test_tls_without_verification_still_needs_the_client_pair_and_then_lists(engine):
    rc, listing, output = inventory(engine, docker_host=tcp(engine), tls=True, client_cert=engine["cert"],
                                    client_key=engine["client_key"])
    assert_lists_the_node(engine, rc, listing, output)


def test_ssh_with_the_ssh_client_lists_the_node(engine):
    # the ssh client the SDK runs (`ssh -l root -- <ip> docker system dial-stdio`) with the test's key; a wrapper
    # first on PATH gives it the options, as a user's ~/.ssh/config would
    shim = os.path.join(engine["scratch"], "bin")
    os.makedirs(shim, exist_ok=True)
    with open(os.path.join(shim, "ssh"), "w") as handle:
        handle.write("#!/bin/sh\nexec /usr/bin/ssh -i %s -o BatchMode=yes -o StrictHostKeyChecking=no "
                     "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \"$@\"\n" % engine["key"])
    os.chmod(os.path.join(shim, "ssh"), 0o755)
    env = {"PATH": shim + os.pathsep + os.environ.get("PATH", "")}
    rc, listing, output = inventory(engine, env=env, docker_host="ssh://root@%s" % engine["ip"], use_ssh_client=True)
    assert_lists_the_node(engine, rc, listing, output)
