"""Add on keydir and back-mdb: the parent must exist, the schema is checked,
a DN is taken once, a malformed DN is refused; what was added reads back."""

import pytest

from backend_pair import both, db, matched_dn, pair_server  # noqa: F401

MEMBER = "objectClass: keydirMember\nmail: {m}\n"


def test_add_reads_back(db):
    ou = db.fresh()
    r = db.add(f"dn: mail=new@example.com,{ou},{{S}}\nobjectClass: keydirMember\n"
               "mail: new@example.com\ncn: New One\ncn: Second Name\n"
               "description: first\nkeydirStatus: active\n")
    assert r.rc == 0, r.err
    e = db.entry(f"mail=new@example.com,{ou}", attrs=["*"])
    assert e == {"objectClass": ["keydirMember"], "mail": ["new@example.com"],
                 "cn": ["New One", "Second Name"], "description": ["first"],
                 "keydirStatus": ["active"]}
    r = db.search("", "(mail=new@example.com)", attrs=["1.1"])
    assert r.rels == [f"mail=new@example.com,{ou}"]


def test_add_twice_already_exists(db):
    ou = db.fresh()
    ldif = f"dn: cn=x,{ou},{{S}}\nobjectClass: person\ncn: x\nsn: x\n"
    assert db.add(ldif).rc == 0
    r = db.add(ldif)
    assert r.rc == 68, r.err
    # the DN is taken case-insensitively and whatever the spacing
    r = db.add(f"dn: CN=X, {ou},{{S}}\nobjectClass: person\ncn: X\nsn: x\n")
    assert r.rc == 68, r.err


@pytest.mark.parametrize("below,matched", [
    ("cn=x,ou=missing", ""),             # the test's ou exists, ou=missing does not
    ("cn=x,ou=a,ou=b", ""),
])
def test_add_without_parent(db, below, matched):
    ou = db.fresh()
    r = db.add(f"dn: {below},{ou},{{S}}\nobjectClass: person\ncn: x\nsn: x\n")
    assert r.rc == 32, r.err
    assert matched_dn(r).lower() == db.dn(ou).lower()
    assert db.search(ou, attrs=["1.1"]).rels == [ou]


@pytest.mark.parametrize("body,rc", [
    ("objectClass: keydirMember\ncn: bad\n", 65),                     # MUST missing
    ("objectClass: keydirMember\nmail: {m}\ntitle: x\n", 65),         # not allowed
    ("objectClass: keydirZone\nmail: {m}\n", 65),                     # no structural class
    ("objectClass: keydirMember\nobjectClass: person\nmail: {m}\nsn: x\n", 65),
    ("objectClass: noSuchClass\nmail: {m}\n", 21),                   # not an OID or name known
    ("mail: {m}\n", 65),                                              # no objectClass
    ("objectClass: keydirMember\nmail: {m}\nnoSuchAttribute: x\n", 17),
    ("objectClass: keydirMember\nmail: {m}\nkeydirStatus: a\nkeydirStatus: b\n", 19),
    ("objectClass: keydirMember\nmail: {m}\nkeydirNotAfter: not a time\n", 21),
    ("objectClass: keydirMember\nmail: {m}\nmail: {m}\n", 20),
    ("objectClass: keydirMember\nmail: {m}\nentryUUID: 00000000-0000-0000-0000-000000000001\n",
     19),                                                             # no user modification
], ids=["must", "not-allowed", "no-structural", "two-structural", "unknown-class",
        "no-objectclass", "undefined-type", "single-valued", "syntax", "duplicate-value",
        "no-user-mod"])
def test_add_schema_violation(db, body, rc):
    ou = db.fresh()
    dn = f"cn=bad,{ou}"
    r = db.add(f"dn: {dn},{{S}}\n" + body.replace("{m}", "bad@example.com"))
    assert r.rc == rc, r.out + r.err
    assert db.search(dn, scope="base").rc == 32, "a refused add left something behind"


@pytest.mark.parametrize("dn", ["not a dn", "cn=x,,ou={OU}", "=x,ou={OU}", "cn=x+,ou={OU}",
                                "cn=x\\zz,ou={OU}"])
def test_add_malformed_dn(db, dn):
    ou = db.fresh()
    r = db.add(f"dn: {dn.replace('{OU}', ou[3:])},{{S}}\nobjectClass: person\ncn: x\nsn: x\n")
    assert r.rc == 34, r.out + r.err


def test_add_noop_control_changes_nothing(db):
    ou = db.fresh()
    r = db.add(f"dn: cn=x,{ou},{{S}}\nobjectClass: person\ncn: x\nsn: x\n", extra=["-e", "!noop"])
    # LDAP_X_NO_OPERATION (0x410e); the tool's exit status keeps its low byte
    assert "No Operation" in r.err and r.rc == 0x410e & 0xff, r.out + r.err
    assert db.search(f"cn=x,{ou}", scope="base").rc == 32


def test_add_assertion_control(db):
    ou = db.fresh()
    ldif = f"dn: cn=x,{ou},{{S}}\nobjectClass: person\ncn: x\nsn: x\n"
    assert db.add(ldif, extra=["-e", "assert=(sn=y)"]).rc == 122  # assertionFailed
    assert db.add(ldif, extra=["-e", "assert=(sn=x)"]).rc == 0


def test_add_many_children_and_read_them_back(db):
    ou = db.fresh()
    ldif = "\n".join(f"dn: mail=m{i}@example.com,{ou},{{S}}\n" + MEMBER.replace("{m}", f"m{i}@example.com")
                     for i in range(50))
    assert db.add(ldif).rc == 0
    r = db.search(ou, "(objectClass=keydirMember)", attrs=["1.1"], scope="one")
    assert len(r.rels) == 50
