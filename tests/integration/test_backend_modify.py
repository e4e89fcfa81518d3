"""Modify on keydir and back-mdb: every modification type, the errors each
can give, atomicity, and index upkeep."""

import pytest

from backend_certs import certificate, member_ldif
from backend_pair import db, matched_dn, pair_server  # noqa: F401


@pytest.fixture
def member(db):
    """A fresh member entry; its rel DN."""
    ou = db.fresh()
    rel = f"mail=m@example.com,{ou}"
    r = db.add(f"dn: {rel},{{S}}\nobjectClass: keydirMember\nobjectClass: keydirZone\n"
               "mail: m@example.com\ncn: first\ncn: second\ndescription: d1\n"
               "keydirTTL: 10\n" + member_ldif("m@example.com", 365))
    assert r.rc == 0, r.err
    return rel


def change(db, rel, body, **kw):
    return db.modify(f"dn: {rel},{{S}}\nchangetype: modify\n{body}", **kw)


def values(db, rel, attr):
    return sorted((db.entry(rel, attrs=[attr]) or {}).get(attr, []))


def test_add_values(db, member):
    assert change(db, member, "add: cn\ncn: third\ncn: fourth\n").rc == 0
    assert values(db, member, "cn") == ["first", "fourth", "second", "third"]
    assert change(db, member, "add: keydirStatus\nkeydirStatus: active\n").rc == 0
    assert values(db, member, "keydirStatus") == ["active"]


def test_delete_values(db, member):
    assert change(db, member, "delete: cn\ncn: first\n").rc == 0
    assert values(db, member, "cn") == ["second"]
    assert change(db, member, "delete: description\n").rc == 0
    assert values(db, member, "description") == []


def test_replace_values(db, member):
    assert change(db, member, "replace: cn\ncn: only\n").rc == 0
    assert values(db, member, "cn") == ["only"]
    assert change(db, member, "replace: description\n").rc == 0  # no values: removes it
    assert values(db, member, "description") == []
    assert change(db, member, "replace: keydirStatus\nkeydirStatus: revoked\n").rc == 0
    assert values(db, member, "keydirStatus") == ["revoked"]


def test_increment(db, member):
    assert change(db, member, "increment: keydirTTL\nkeydirTTL: 5\n").rc == 0
    assert values(db, member, "keydirTTL") == ["15"]
    assert change(db, member, "increment: keydirTTL\nkeydirTTL: -20\n").rc == 0
    assert values(db, member, "keydirTTL") == ["-5"]


def test_several_changes_in_one_request(db, member):
    r = change(db, member, "replace: cn\ncn: a\n-\nadd: cn\ncn: b\n-\n"
                           "delete: description\ndescription: d1\n-\n"
                           "add: keydirStatus\nkeydirStatus: active\n")
    assert r.rc == 0, r.err
    e = db.entry(member, attrs=["*"])
    assert sorted(e["cn"]) == ["a", "b"] and "description" not in e
    assert e["keydirStatus"] == ["active"]


@pytest.mark.parametrize("body,rc", [
    ("delete: cn\ncn: missing\n", 16),                    # noSuchAttribute: value
    ("delete: title\n", 16),                              # absent
    ("delete: keydirStatus\n", 16),                       # attribute absent
    ("add: cn\ncn: first\n", 20),                         # typeOrValueExists
    ("add: cn\ncn: FIRST\n", 20),                         # by the equality rule
    ("delete: mail\n", 64),                               # the RDN's value: namingViolation
    ("replace: mail\nmail: other@example.com\n", 64),
    ("add: title\ntitle: x\n", 65),                       # not allowed by the classes
    ("delete: objectClass\nobjectClass: keydirMember\n", 65),
    ("add: keydirStatus\nkeydirStatus: a\nkeydirStatus: b\n", 19),  # single-valued
    ("replace: keydirNotAfter\nkeydirNotAfter: tomorrow\n", 21),    # syntax
    ("add: noSuchAttribute\nnoSuchAttribute: x\n", 17),
    ("increment: cn\ncn: 1\n", 19),                       # not an integer
    ("increment: keydirTTL\nkeydirTTL: x\n", 21),
    ("replace: entryUUID\nentryUUID: 00000000-0000-0000-0000-000000000001\n", 19),
    ("replace: cn\ncn: changed\n-\ndelete: cn\ncn: missing\n", 16),  # all or nothing
], ids=["value", "type-absent", "absent", "exists", "exists-ci", "rdn-delete",
        "rdn-replace", "not-allowed", "structural-class", "single-valued", "syntax",
        "undefined", "increment-type", "increment-value", "no-user-mod", "atomic"])
def test_modify_errors_change_nothing(db, member, body, rc):
    before = db.entry(member)
    r = change(db, member, body)
    assert r.rc == rc, r.out + r.err
    assert db.entry(member) == before


def test_modify_missing_entry(db):
    ou = db.fresh()
    r = change(db, f"cn=missing,{ou}", "replace: sn\nsn: x\n")
    assert r.rc == 32
    assert matched_dn(r).lower() == db.dn(ou).lower()


def test_modify_keeps_indexes_exact(db, member):
    """Indexed values that change leave and join the index in the same
    write: the old value finds nothing, the new one finds the entry."""
    old = certificate("m@example.com", 365)[1]
    new = certificate("m@example.com", 500)[1]
    ou = member.split(",", 1)[1]
    assert db.search(ou, f"(keydirFingerprint={old})", attrs=["1.1"]).rels == [member]
    # a new certificate, with the values keydir derives (back-mdb stores them)
    body = "\n-\n".join(f"replace: {line.split(':')[0]}\n{line}"
                         for line in member_ldif("m@example.com", 500).splitlines())
    assert change(db, member, body + "\n").rc == 0
    assert db.search(ou, f"(keydirFingerprint={old})", attrs=["1.1"]).rels == []
    assert db.search(ou, f"(keydirFingerprint={new})", attrs=["1.1"]).rels == [member]
    assert change(db, member, "delete: objectClass\nobjectClass: keydirZone\n-\n"
                              "delete: keydirTTL\n").rc == 0
    assert db.search(ou, "(objectClass=keydirZone)", attrs=["1.1"]).rels == []
    assert db.search(ou, "(objectClass=keydirMember)", attrs=["1.1"]).rels == [member]
    assert change(db, member, "add: objectClass\nobjectClass: keydirZone\n").rc == 0
    assert db.search(ou, "(objectClass=keydirZone)", attrs=["1.1"]).rels == [member]


def test_modify_noop_control_changes_nothing(db, member):
    before = db.entry(member)
    r = change(db, member, "replace: cn\ncn: changed\n", extra=["-e", "!noop"])
    assert "No Operation" in r.err, r.err
    assert db.entry(member) == before


def test_modify_assertion_control(db, member):
    assert change(db, member, "replace: cn\ncn: x\n", extra=["-e", "assert=(cn=nope)"]).rc == 122
    assert change(db, member, "replace: cn\ncn: x\n", extra=["-e", "assert=(cn=first)"]).rc == 0
    assert values(db, member, "cn") == ["x"]


def test_modify_large_value(db, member):
    text = "".join(chr(0x41 + i % 26) for i in range(100000))
    assert change(db, member, f"replace: description\ndescription: {text}\n").rc == 0
    assert values(db, member, "description") == [text]
