"""Delete on keydir and back-mdb: leaves go, non-leaves are refused, missing
entries name their closest ancestor, indexes forget what was deleted."""

from backend_pair import db, matched_dn, pair_server  # noqa: F401


def test_delete_leaf(db):
    ou = db.fresh()
    assert db.add(f"dn: mail=gone@example.com,{ou},{{S}}\nobjectClass: keydirMember\n"
                  "mail: gone@example.com\n").rc == 0
    assert db.delete(f"mail=gone@example.com,{ou}").rc == 0
    assert db.search(f"mail=gone@example.com,{ou}", scope="base").rc == 32
    assert db.search(ou, "(mail=gone@example.com)", attrs=["1.1"]).rels == []
    assert db.search(ou, "(objectClass=keydirMember)", attrs=["1.1"]).rels == []
    assert db.entry(ou, attrs=["hasSubordinates"])["hasSubordinates"] == ["FALSE"]


def test_delete_non_leaf_refused(db):
    ou = db.fresh()
    assert db.add(f"dn: cn=child,{ou},{{S}}\nobjectClass: person\ncn: child\nsn: x\n").rc == 0
    r = db.delete(ou)
    assert r.rc == 66, r.err  # notAllowedOnNonLeaf
    assert db.search(ou, attrs=["1.1"]).rels == sorted([ou, f"cn=child,{ou}"])
    assert db.delete(f"cn=child,{ou}").rc == 0
    assert db.delete(ou).rc == 0
    assert db.search(ou, scope="base").rc == 32


def test_delete_missing(db):
    ou = db.fresh()
    r = db.delete(f"cn=a,cn=b,{ou}")
    assert r.rc == 32
    assert matched_dn(r).lower() == db.dn(ou).lower()


def test_delete_then_add_again(db):
    ou = db.fresh()
    ldif = f"dn: mail=again@example.com,{ou},{{S}}\nobjectClass: keydirMember\nmail: again@example.com\n"
    assert db.add(ldif).rc == 0
    uuid = db.entry(f"mail=again@example.com,{ou}")["entryUUID"]
    assert db.delete(f"mail=again@example.com,{ou}").rc == 0
    assert db.add(ldif).rc == 0
    e = db.entry(f"mail=again@example.com,{ou}")
    assert e["entryUUID"] != uuid
    assert db.search(ou, "(mail=again@example.com)", attrs=["1.1"]).rels == \
        [f"mail=again@example.com,{ou}"]


def test_delete_noop_and_assertion(db):
    ou = db.fresh()
    assert db.add(f"dn: cn=x,{ou},{{S}}\nobjectClass: person\ncn: x\nsn: x\n").rc == 0
    r = db.delete(f"cn=x,{ou}", extra=["-e", "!noop"])
    assert "No Operation" in r.err, r.err
    assert db.delete(f"cn=x,{ou}", extra=["-e", "assert=(sn=y)"]).rc == 122
    assert db.search(f"cn=x,{ou}", scope="base").rc == 0
    assert db.delete(f"cn=x,{ou}", extra=["-e", "assert=(sn=x)"]).rc == 0


def test_delete_subtree_bottom_up(db):
    """ldapdelete -r walks the tree and deletes leaves first."""
    ou = db.fresh()
    ldif = [f"dn: ou=a,{ou},{{S}}\nobjectClass: organizationalUnit\nou: a\n"]
    for i in range(5):
        ldif.append(f"dn: cn=p{i},ou=a,{ou},{{S}}\nobjectClass: person\ncn: p{i}\nsn: x\n")
    assert db.add("\n".join(ldif)).rc == 0
    assert db.delete(f"ou=a,{ou}", extra=["-r"]).rc == 0
    assert db.search(ou, attrs=["1.1"]).rels == [ou]
