"""Compare on keydir and back-mdb: true, false, undefined attribute types,
attributes the entry lacks, missing entries."""

import pytest

from backend_pair import both, db, matched_dn, pair_server  # noqa: F401

USER = "mail=user05@example.com,ou=people"


@pytest.mark.parametrize("assertion,rc", [
    ("mail:user05@example.com", 6),          # compareTrue
    ("mail:USER05@EXAMPLE.COM", 6),          # by the equality rule
    ("mail:user06@example.com", 5),          # compareFalse
    ("cn:User 05", 6),
    ("objectClass:keydirMember", 6),
    ("objectClass:person", 5),
    ("keydirStatus:revoked", 6),
    ("title:anything", 16),                   # noSuchAttribute: not in the entry
    ("undefinedAttribute:x", 17),             # undefinedAttributeType
    ("keydirNotAfter:not a time", 21),        # invalidAttributeSyntax
    ("entryDN:mail=user05@example.com,ou=people,{S}", 53),  # the frontend refuses
    ("hasSubordinates:FALSE", 6),
])
def test_compare(db, assertion, rc):
    r = db.compare(USER, db.ldif(assertion))
    assert r.rc == rc, r.out + r.err


def test_compare_on_missing_entry(db):
    r = db.compare("mail=nobody@example.com,ou=people", "mail:nobody@example.com")
    assert r.rc == 32
    assert matched_dn(r).lower() == db.dn("ou=people").lower()


def test_compare_binary_password_as_users(db):
    """compare of userPassword works for the rootdn and for anonymous
    (no ACLs configured here: read by all)."""
    assert db.compare("cn=alice,ou=staff", "userPassword:alicepw").rc == 6
    assert db.compare("cn=alice,ou=staff", "userPassword:wrong").rc == 5
    assert db.compare("cn=alice,ou=staff", "userPassword:alicepw", bind=None).rc == 6


def test_compare_after_modify(db):
    ou = db.fresh()
    assert db.add(f"dn: cn=x,{ou},{{S}}\nobjectClass: person\ncn: x\nsn: before\n").rc == 0
    assert db.compare(f"cn=x,{ou}", "sn:before").rc == 6
    r = db.modify(f"dn: cn=x,{ou},{{S}}\nchangetype: modify\nreplace: sn\nsn: after\n")
    assert r.rc == 0, r.err
    assert db.compare(f"cn=x,{ou}", "sn:before").rc == 5
    assert db.compare(f"cn=x,{ou}", "sn:after").rc == 6
