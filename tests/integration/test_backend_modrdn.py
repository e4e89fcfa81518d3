"""ModRDN on keydir and back-mdb.

Leaf entries can be renamed, with or without deleting the old RDN value,
and moved under a new superior; an entry with subordinates takes its
subtree along (more in test_backend_modrdn_subtree.py)."""

import pytest

from backend_pair import db, matched_dn, pair_server  # noqa: F401


@pytest.fixture
def tree(db):
    """ou=tN with ou=a (holding cn=leaf) and ou=b; returns the ou's rel DN."""
    ou = db.fresh()
    r = db.add(f"dn: ou=a,{ou},{{S}}\nobjectClass: organizationalUnit\nou: a\n\n"
               f"dn: ou=b,{ou},{{S}}\nobjectClass: organizationalUnit\nou: b\n\n"
               f"dn: cn=leaf,ou=a,{ou},{{S}}\nobjectClass: person\ncn: leaf\nsn: x\n\n"
               f"dn: mail=m@example.com,ou=a,{ou},{{S}}\nobjectClass: keydirMember\n"
               "mail: m@example.com\n")
    assert r.rc == 0, r.err
    return ou


def test_rename_leaf_deleting_old_rdn(db, tree):
    before = db.entry(f"cn=leaf,ou=a,{tree}")
    r = db.modrdn(f"cn=leaf,ou=a,{tree}", "cn=renamed")
    assert r.rc == 0, r.err
    assert db.search(f"cn=leaf,ou=a,{tree}", scope="base").rc == 32
    e = db.entry(f"cn=renamed,ou=a,{tree}")
    assert e["cn"] == ["renamed"]
    assert e["entryUUID"] == before["entryUUID"]
    assert e["createTimestamp"] == before["createTimestamp"]


def test_rename_leaf_keeping_old_rdn(db, tree):
    r = db.modrdn(f"cn=leaf,ou=a,{tree}", "cn=renamed", delete_old=False)
    assert r.rc == 0, r.err
    assert sorted(db.entry(f"cn=renamed,ou=a,{tree}")["cn"]) == ["leaf", "renamed"]


def test_rename_indexed_rdn(db, tree):
    r = db.modrdn(f"mail=m@example.com,ou=a,{tree}", "mail=n@example.com")
    assert r.rc == 0, r.err
    assert db.search(tree, "(mail=m@example.com)", attrs=["1.1"]).rels == []
    assert db.search(tree, "(mail=n@example.com)", attrs=["1.1"]).rels == \
        [f"mail=n@example.com,ou=a,{tree}"]


def test_move_leaf_to_new_superior(db, tree):
    r = db.modrdn(f"cn=leaf,ou=a,{tree}", "cn=leaf", newsup=f"ou=b,{tree}")
    assert r.rc == 0, r.err
    assert db.search(f"ou=b,{tree}", attrs=["1.1"], scope="one").rels == [f"cn=leaf,ou=b,{tree}"]
    assert db.search(f"ou=a,{tree}", "(cn=leaf)", attrs=["1.1"]).rels == []
    # and with a new RDN at the same time
    r = db.modrdn(f"cn=leaf,ou=b,{tree}", "cn=moved", newsup=f"ou=a,{tree}")
    assert r.rc == 0, r.err
    assert db.entry(f"cn=moved,ou=a,{tree}")["cn"] == ["moved"]


def test_subordinate_counts_follow_a_move(db, tree):
    r = db.modrdn(f"cn=leaf,ou=a,{tree}", "cn=leaf", newsup=f"ou=b,{tree}")
    assert r.rc == 0
    r = db.modrdn(f"mail=m@example.com,ou=a,{tree}", "mail=m@example.com",
                  newsup=f"ou=b,{tree}")
    assert r.rc == 0
    assert db.entry(f"ou=a,{tree}", attrs=["hasSubordinates"])["hasSubordinates"] == ["FALSE"]
    assert db.entry(f"ou=b,{tree}", attrs=["hasSubordinates"])["hasSubordinates"] == ["TRUE"]


def test_rename_onto_existing_dn(db, tree):
    assert db.add(f"dn: cn=other,ou=a,{tree},{{S}}\nobjectClass: person\ncn: other\nsn: y\n").rc == 0
    r = db.modrdn(f"cn=leaf,ou=a,{tree}", "cn=other")
    assert r.rc == 68, r.err
    # taken DN is reported before the new RDN's schema (mail is no attribute of a person)
    r = db.modrdn(f"cn=leaf,ou=a,{tree}", "mail=m@example.com")
    assert r.rc == 68, r.err
    assert db.search(f"cn=leaf,ou=a,{tree}", scope="base").rc == 0
    assert db.entry(f"cn=other,ou=a,{tree}")["sn"] == ["y"]


def test_move_to_missing_superior(db, tree):
    r = db.modrdn(f"cn=leaf,ou=a,{tree}", "cn=leaf", newsup=f"ou=missing,{tree}")
    assert r.rc == 32, r.err
    assert db.search(f"cn=leaf,ou=a,{tree}", scope="base").rc == 0


def test_rename_missing_entry(db, tree):
    r = db.modrdn(f"cn=nobody,ou=a,{tree}", "cn=x")
    assert r.rc == 32
    assert matched_dn(r).lower() == db.dn(f"ou=a,{tree}").lower()


def test_rename_schema_violation(db, tree):
    r = db.modrdn(f"cn=leaf,ou=a,{tree}", "title=x", delete_old=False)
    assert r.rc == 65, r.err  # title is not allowed in a person
    r = db.modrdn(f"cn=leaf,ou=a,{tree}", "sn=x")  # deleting cn, a MUST of person
    assert r.rc == 65, r.err
    assert db.entry(f"cn=leaf,ou=a,{tree}")["cn"] == ["leaf"]


def test_rename_non_leaf(db, tree):
    r = db.modrdn(f"ou=a,{tree}", "ou=c")
    assert r.rc == 0, r.err  # the subtree moves
    assert db.search(f"cn=leaf,ou=c,{tree}", scope="base").rc == 0
    assert db.search(f"cn=leaf,ou=a,{tree}", scope="base").rc == 32
