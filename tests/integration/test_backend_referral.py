"""Referrals (RFC 3296) and the manageDSAit control on keydir and back-mdb.

ou=refs holds two referral entries (a delegation and a member pointer, as
doc/design.md, "Naming", uses them) next to ordinary entries. Each test
works in its own copy of that subtree, so modifying or deleting one changes
no other test.
"""

import pytest

from backend_pair import both, db, matched_dn, pair_server, referrals, search_refs  # noqa: F401

REMOTE = "ldap://remote.example.invalid/ou=remote,o=elsewhere"
POINTER = "ldap://other.example.invalid/mail=pointer@example.com,dc=example,dc=com"

TREE = """dn: {B}
objectClass: organizationalUnit
ou: {OU}

dn: ou=remote,{B}
objectClass: referral
objectClass: extensibleObject
ou: remote
ref: """ + REMOTE + """

dn: mail=pointer@example.com,{B}
objectClass: referral
objectClass: extensibleObject
mail: pointer@example.com
ref: """ + POINTER + """

dn: ou=local,{B}
objectClass: organizationalUnit
ou: local

dn: mail=here@example.com,ou=local,{B}
objectClass: keydirMember
mail: here@example.com
"""


@pytest.fixture
def refs(db):
    """A fresh subtree with the referral entries; its rel DN."""
    ou = f"refs{next(db._counter)}"
    base = f"ou={ou}"
    r = db.add(TREE.replace("{B}", db.dn(base)).replace("{OU}", ou), extra=["-M"])
    assert r.rc == 0, r.err
    return base


def test_base_search_on_referral_entry(db, refs):
    r = db.search(f"ou=remote,{refs}", scope="base")
    assert r.rc == 10, r.out + r.err
    assert referrals(r) == [REMOTE + "??base"]
    assert r.entries == []


@pytest.mark.parametrize("scope", ["base", "one", "sub"])
def test_search_below_referral(db, refs, scope):
    r = db.search(f"cn=x,ou=y,ou=remote,{refs}", scope=scope)
    assert r.rc == 10
    assert matched_dn(r).lower() == db.dn(f"ou=remote,{refs}").lower()
    assert referrals(r) == [
        "ldap://remote.example.invalid/cn=x,ou=y,ou=remote,o=elsewhere??" + scope]


@pytest.mark.parametrize("filt", ["(objectClass=*)", "(ou=*)", "(mail=here@example.com)",
                                  "(objectClass=keydirMember)", "(cn=nothing)"])
def test_subtree_search_gives_continuation_references(db, refs, filt):
    """Referral entries in scope come back as continuation references
    whatever the filter, indexed or not (RFC 4511 4.5.3, RFC 3296 5.3)."""
    r = db.search(refs, filt, attrs=["1.1"])
    assert r.rc == 0, r.err
    assert sorted(search_refs(r)) == sorted([REMOTE + "??sub", POINTER + "??sub"])
    assert "ou=remote" not in " ".join(r.rels) and "pointer" not in " ".join(r.rels)


def test_one_level_search_gives_base_references(db, refs):
    r = db.search(refs, "(mail=here@example.com)", attrs=["1.1"], scope="one")
    assert r.rc == 0
    assert sorted(search_refs(r)) == sorted([REMOTE + "??base", POINTER + "??base"])


def test_paged_search_gives_continuation_references(db, refs):
    r = db.search(refs, "(objectClass=keydirMember)", attrs=["1.1"],
                  extra=["-E", "pr=1/noprompt"])
    assert r.rc == 0, r.err
    assert r.rels == [f"mail=here@example.com,ou=local,{refs}"]
    assert sorted(search_refs(r)) == sorted([REMOTE + "??sub", POINTER + "??sub"])


def test_manage_dsa_it_returns_the_entry(db, refs):
    r = db.search(f"ou=remote,{refs}", scope="base", attrs=["ref", "objectClass"],
                  extra=["-M"])
    assert r.rc == 0, r.err
    assert r.entries[0][1]["ref"] == [REMOTE]
    r = db.search(refs, "(objectClass=referral)", attrs=["1.1"], extra=["-M"])
    assert r.rc == 0 and search_refs(r) == []
    assert r.rels == sorted([f"mail=pointer@example.com,{refs}", f"ou=remote,{refs}"])


def test_manage_dsa_it_modify_and_delete(db, refs):
    new = "ldap://moved.example.invalid/ou=remote,o=elsewhere"
    change = f"dn: ou=remote,{db.dn(refs)}\nchangetype: modify\nreplace: ref\nref: {new}\n"
    r = db.modify(change)
    assert r.rc == 10, "modify of a referral entry without -M must refer"
    assert referrals(r) == [REMOTE]
    assert db.modify(change, extra=["-M"]).rc == 0
    r = db.search(f"ou=remote,{refs}", scope="base")
    assert r.rc == 10 and referrals(r) == [new + "??base"]

    assert db.delete(f"ou=remote,{refs}").rc == 10
    assert db.delete(f"ou=remote,{refs}", extra=["-M"]).rc == 0
    r = db.search(f"ou=remote,{refs}", scope="base", extra=["-M"])
    assert r.rc == 32


def test_writes_below_a_referral_are_referred(db, refs):
    below = f"cn=x,ou=remote,{refs}"
    url = "ldap://remote.example.invalid/cn=x,ou=remote,o=elsewhere"
    results = {
        "add": db.add(f"dn: {below},{{S}}\nobjectClass: person\ncn: x\nsn: x\n"),
        "modify": db.modify(f"dn: {below},{{S}}\nchangetype: modify\nreplace: sn\nsn: y\n"),
        "delete": db.delete(below),
        "modrdn": db.modrdn(below, "cn=y"),
        "compare": db.compare(below, "sn:x"),
    }
    for op, r in results.items():
        assert r.rc == 10, f"{op}: {r.out}{r.err}"
        assert referrals(r) == [url] or op == "compare", f"{op}: {r.out}{r.err}"
    assert db.compare(f"ou=remote,{refs}", "ou:remote").rc == 10
    assert db.compare(f"ou=remote,{refs}", "ou:remote", extra=["-M"]).rc == 6


def test_referral_answers_like_mdb(both):
    """The same requests give the same result codes and URLs on both."""
    answers = []
    for d in both:
        base = f"ou=cmp{d.kind}"
        assert d.add(TREE.replace("{B}", d.dn(base)).replace("{OU}", f"cmp{d.kind}"),
                     extra=["-M"]).rc == 0
        out = []
        for target, scope, extra in [(f"ou=remote,{base}", "base", []),
                                     (f"cn=a,ou=remote,{base}", "sub", []),
                                     (base, "sub", []), (base, "one", []),
                                     (base, "sub", ["-M"]),
                                     (f"mail=pointer@example.com,{base}", "base", ["-M"])]:
            r = d.search(target, scope=scope, attrs=["*"], extra=extra)
            out.append((r.rc, sorted(search_refs(r)), sorted(referrals(r)),
                        sorted(d.rel(dn).replace(f"cmp{d.kind}", "cmp") for dn in r.dns()),
                        d.norm(matched_dn(r) or "").replace(f"cmp{d.kind}", "cmp")))
        answers.append(out)
    assert answers[0] == answers[1]
