"""The review file's secret names and redaction marker, as translate writes them, for the tests of
spin_secret's module and action plugin."""
import hashlib

PASSWORD = b"s3cr3t\n"          # a trailing newline that must survive


def name_for(content, key="db_password"):
    return "seed_%s_%s" % (key, hashlib.sha256(content).hexdigest()[:10])


def marker(content):
    return "<redacted: %d bytes>" % len(content)


def legacy_marker(content):
    """The marker review files written by earlier builds carry: still understood, never written."""
    return "<redacted: %d bytes, sha256 %s>" % (len(content), hashlib.sha256(content).hexdigest())
