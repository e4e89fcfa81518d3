"""Helpers for the key tests (test_keys_*.py): keydir-admin, keydir-lookup,
zones made in a temporary directory, and the database the members live in.

The database type is one parameter: KEYDIR_KEYS_DB=keydir (default, the
keydir backend) or KEYDIR_KEYS_DB=mdb (back-mdb with schema/keydir.schema,
to compare).
"""

import base64
import os
import subprocess

from .slapd import BUILD_DIR, ROOTPW, database_keydir, database_mdb  # noqa: F401

ADMIN = os.path.join(BUILD_DIR, "tools", "admin", "keydir-admin")
LOOKUP = os.path.join(BUILD_DIR, "tools", "lookup", "keydir-lookup")

DB_TYPE = os.environ.get("KEYDIR_KEYS_DB", "keydir")


def database(suffix, directory, extra=""):
    """A database section of the type the key tests run on."""
    if DB_TYPE == "keydir":
        return database_keydir(suffix, directory, extra=extra)
    return database_mdb(suffix, directory, extra=extra)


def modules():
    return ("back_keydir.la",) if DB_TYPE == "keydir" else ("back_mdb.la",)


def run(cmd, input=None, timeout=600):
    return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)


def admin(*args, input=None, timeout=600):
    return run([ADMIN] + [str(a) for a in args], input=input, timeout=timeout)


def lookup(*args, timeout=120):
    return run([LOOKUP] + [str(a) for a in args], timeout=timeout)


def assert_admin_fails(r, *words):
    """keydir-admin failed as its man page says (exit 2, "keydir-admin: "
    and a message naming each of `words`)."""
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert r.stderr.startswith("keydir-admin: "), r.stderr
    for w in words:
        assert w in r.stderr, r.stderr


def write_secret(path, text):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


class Zone:
    """A zone made with keydir-admin zone init in `workdir`."""

    def __init__(self, workdir, domain, key_type=None, extra=()):
        self.workdir = workdir
        self.domain = domain
        self.zones = os.path.join(workdir, "zones")
        self.dir = os.path.join(self.zones, domain)
        self.suffix = ",".join("dc=" + label for label in domain.split("."))
        self.rootdn = "cn=admin," + self.suffix
        self.ca_pass = write_secret(os.path.join(workdir, "ca.pass"), "zone CA passphrase\n")
        self.kek = write_secret(os.path.join(workdir, "gateway.kek"), "gateway key-encryption key\n")
        self.bindpw = write_secret(os.path.join(workdir, "bind.pw"), ROOTPW)
        args = ["--zones", self.zones, "zone", "init", domain, "--ca-passphrase-file", self.ca_pass,
                "--database-type", DB_TYPE]
        if key_type:
            args += ["--key-type", key_type]
        r = admin(*args, *extra)
        assert r.returncode == 0, r.stderr
        self.ca_crt = os.path.join(self.dir, "ca.crt")

    def admin(self, *args, **kw):
        return admin("--zones", self.zones, *args, **kw)

    def issue_args(self):
        return ["--ca-passphrase-file", self.ca_pass, "--p12-password-file", self.kek]

    def ldap_args(self, server):
        return ["-H", server.uri, "-D", self.rootdn, "-y", self.bindpw]

    def ca_der(self):
        """The zone CA certificate, DER."""
        return subprocess.run(["openssl", "x509", "-in", self.ca_crt, "-outform", "DER"],
                              capture_output=True, check=True).stdout

    def zone_ldif(self):
        with open(os.path.join(self.dir, "zone.ldif")) as f:
            return f.read()


def b64(value):
    if isinstance(value, str):
        value = value.encode("latin-1")
    return base64.b64encode(value).decode()


def pem(der):
    """PEM text of a DER certificate."""
    body = base64.b64encode(der).decode()
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def pkcs7_certs(value):
    """The certificates (DER) of a PKCS#7 userSMIMECertificate value, in
    its order, as `openssl pkcs7 -print_certs` lists them."""
    p = subprocess.run(["openssl", "pkcs7", "-inform", "DER", "-print_certs"], input=value,
                       capture_output=True, check=True)
    blocks = p.stdout.decode().split("-----BEGIN CERTIFICATE-----")[1:]
    return [base64.b64decode(b.split("-----END CERTIFICATE-----")[0]) for b in blocks]


def raw_ldif_values(ldif_text, attr):
    """Values of `attr` (exact name, base64 or not) in LDIF text, as bytes."""
    out = []
    unfolded = ldif_text.replace("\n ", "")
    for line in unfolded.splitlines():
        if line.startswith(attr + ":: "):
            out.append(base64.b64decode(line[len(attr) + 3:]))
        elif line.startswith(attr + ": "):
            out.append(line[len(attr) + 2:].encode())
    return out


def search_raw(uri, base, filt, attrs, binddn=None, password=ROOTPW, extra=()):
    """ldapsearch whose binary values come back as bytes: [(dn, {attr: [bytes]})]."""
    cmd = ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-H", uri, "-x"]
    if binddn:
        cmd += ["-D", binddn, "-w", password]
    cmd += ["-b", base] + list(extra) + [filt] + list(attrs)
    r = subprocess.run(cmd, capture_output=True, timeout=60)
    entries = []
    for block in r.stdout.decode("latin-1").split("\n\n"):
        dn, attrs_out = None, {}
        for line in block.splitlines():
            if not line or line.startswith("#") or ":" not in line:
                continue
            name, value = line.split(":", 1)
            if value.startswith(":"):
                v = base64.b64decode(value[1:].strip())
            else:
                v = value[1:].encode("latin-1") if value.startswith(" ") else value.encode("latin-1")
            if name == "dn":
                dn = v.decode()
            else:
                attrs_out.setdefault(name, []).append(v)
        if dn is not None:
            entries.append((dn, attrs_out))
    return r.returncode, entries, r.stderr.decode(errors="replace")
