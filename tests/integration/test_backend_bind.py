"""Simple bind on keydir and back-mdb: the rootdn, entries' userPassword
(clear and hashed), and every failure as invalidCredentials (49)."""

import subprocess

import pytest

from backend_pair import db, pair_server  # noqa: F401
from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW


def whoami(db, dn, password):
    return ldaptools.whoami(db.uri, dn, password)


def test_rootdn_bind(db):
    r = whoami(db, db.rootdn, ROOTPW)
    assert r.rc == 0, r.err
    assert r.out.strip().lower() == "dn:" + db.rootdn.lower()


@pytest.mark.parametrize("rel,password", [
    ("mail=user01@example.com,ou=people", "pw01"),
    ("cn=alice,ou=staff", "alicepw"),
])
def test_entry_bind(db, rel, password):
    r = whoami(db, db.dn(rel), password)
    assert r.rc == 0, r.err
    assert r.out.strip().lower() == "dn:" + db.dn(rel).lower()


def test_hashed_password_and_password_change(db):
    ou = db.fresh()
    hashed = subprocess.run(["slappasswd", "-s", "s3cret", "-h", "{SSHA}"], capture_output=True,
                            text=True, check=True).stdout.strip()
    assert db.add(f"dn: cn=h,{ou},{{S}}\nobjectClass: person\ncn: h\nsn: h\n"
                  f"userPassword: {hashed}\n").rc == 0
    assert whoami(db, db.dn(f"cn=h,{ou}"), "s3cret").rc == 0
    assert whoami(db, db.dn(f"cn=h,{ou}"), "wrong").rc == 49
    # the password modify extended operation writes through the backend
    r = subprocess.run(["ldappasswd", "-x", "-H", db.uri, "-D", db.rootdn, "-w", ROOTPW,
                        "-s", "n3w", db.dn(f"cn=h,{ou}")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert whoami(db, db.dn(f"cn=h,{ou}"), "s3cret").rc == 49
    assert whoami(db, db.dn(f"cn=h,{ou}"), "n3w").rc == 0


@pytest.mark.parametrize("who,password", [
    ("root", "wrong"),
    ("mail=user01@example.com,ou=people", "wrong"),
    ("mail=user05@example.com,ou=people", "anything"),   # has no userPassword
    ("mail=nobody@example.com,ou=people", "pw01"),       # does not exist
    ("cn=x,ou=nowhere", "pw"),                           # nor its parent
], ids=["rootdn", "wrong-password", "no-password", "missing-entry", "missing-parent"])
def test_bind_failures_are_invalid_credentials(db, who, password):
    dn = db.rootdn if who == "root" else db.dn(who)
    r = whoami(db, dn, password)
    assert r.rc == 49, r.err


def test_bind_then_operate_as_that_identity(db):
    r = db.search("mail=user02@example.com,ou=people", scope="base", attrs=["1.1"],
                  bind="mail=user02@example.com,ou=people", password="pw02")
    assert r.rc == 0 and r.rels == ["mail=user02@example.com,ou=people"]
