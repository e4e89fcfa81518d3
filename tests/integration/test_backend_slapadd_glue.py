"""slapadd with entries before their parents, next to back-mdb.

back-mdb's slapadd keeps a place (a stub) for each missing ancestor and
gives it to the real entry when that comes, with the stub's ID, so that the
children stay attached; a place that no entry filled makes slapadd fail
("entries missing"). keydir puts a glue entry in that place (objectClass
glue), which the real entry replaces with the same ID, and fails the same
way when glue is left; the glue stays, so the tree stays whole, and
searches show it only with ManageDsaIT."""

import pytest

from backend_pair import DBS, SUFFIXES, configure_pair
from test_backend_tools import VOLATILE, records, slapcat


def ldif(kind, *blocks):
    return "".join(b.replace("{S}", SUFFIXES[kind]) + "\n" for b in blocks)


TOP = "dn: {S}\nobjectClass: organization\no: %s\n"


def top(kind):
    return TOP.replace("%s", kind)


def ou(rel, name):
    return f"dn: {rel},{{S}}\nobjectClass: organizationalUnit\nou: {name}\n"


def person(rel, cn):
    return f"dn: {rel},{{S}}\nobjectClass: inetOrgPerson\ncn: {cn}\nsn: {cn}\nmail: {cn}@example.com\n"


def order(ldif_text, kind):
    """The DNs of slapcat's output in its order (the order of IDs), suffix neutral."""
    return [line[4:].replace(SUFFIXES[kind], "o=SUFFIX") for line in ldif_text.splitlines()
            if line.startswith("dn: ")]


def out_of_order(kind):
    """Children first: a leaf three levels below missing entries, a child of
    the suffix before the suffix, then everything, parents last."""
    return ldif(kind,
                person("cn=deep,ou=l3,ou=l2,ou=l1", "deep"),
                person("cn=kid,ou=kids", "kid"),
                top(kind),
                ou("ou=kids", "kids"),
                person("cn=sib,ou=l3,ou=l2,ou=l1", "sib"),
                ou("ou=l3,ou=l2,ou=l1", "l3"),
                ou("ou=l1", "l1"),
                ou("ou=l2,ou=l1", "l2"))


DNS = ["", "cn=deep,ou=l3,ou=l2,ou=l1", "cn=kid,ou=kids", "cn=sib,ou=l3,ou=l2,ou=l1",
       "ou=kids", "ou=l1", "ou=l2,ou=l1", "ou=l3,ou=l2,ou=l1"]


@pytest.fixture(scope="module")
def loaded():
    s, dbs = configure_pair(name="slapadd-glue")
    try:
        for kind in DBS:
            r = s.tool("add", "-b", SUFFIXES[kind], input=out_of_order(kind), check=False)
            assert r.returncode == 0, r.stderr
        s.start()
        yield s, dbs
    finally:
        s.cleanup()


def test_parents_after_children_same_as_mdb(loaded):
    s, dbs = loaded
    cats = {kind: slapcat(s, kind) for kind in DBS}
    assert records(cats["keydir"], "keydir", VOLATILE) == records(cats["mdb"], "mdb", VOLATILE)
    # the same IDs: each parent took the place made for it before its children
    assert order(cats["keydir"], "keydir") == order(cats["mdb"], "mdb")
    assert "glue" not in cats["keydir"].lower()


@pytest.mark.parametrize("kind", DBS)
def test_parents_after_children_served(loaded, kind):
    s, dbs = loaded
    d = dbs[kind]
    assert d.search("", attrs=["1.1"]).rels == DNS
    assert d.search("", "(objectClass=glue)", attrs=["1.1"], extra=["-M"]).rels == []
    assert d.search("ou=l3,ou=l2,ou=l1", scope="one", attrs=["1.1"]).rels == [
        "cn=deep,ou=l3,ou=l2,ou=l1", "cn=sib,ou=l3,ou=l2,ou=l1"]
    assert d.search("ou=l1", attrs=["1.1"]).rels == [
        "cn=deep,ou=l3,ou=l2,ou=l1", "cn=sib,ou=l3,ou=l2,ou=l1", "ou=l1", "ou=l2,ou=l1",
        "ou=l3,ou=l2,ou=l1"]
    r = d.search("", "(mail=deep@example.com)", attrs=["ou", "cn"])
    assert r.rels == ["cn=deep,ou=l3,ou=l2,ou=l1"]
    r = d.search("", "(objectClass=organizationalUnit)", attrs=["1.1"])
    assert r.rels == ["ou=kids", "ou=l1", "ou=l2,ou=l1", "ou=l3,ou=l2,ou=l1"]
    # the parents are whole entries, deletable once their children are gone
    assert d.delete("cn=kid,ou=kids").rc == 0
    assert d.delete("ou=kids").rc == 0


NEVER = ["cn=x,ou=missing", "cn=y,ou=d3,ou=d2,ou=d1"]
GLUE = ["ou=d1", "ou=d2,ou=d1", "ou=d3,ou=d2,ou=d1", "ou=missing"]


def test_parent_never_supplied():
    s, dbs = configure_pair(name="slapadd-noparent")
    try:
        cats = {}
        for kind in DBS:
            text = ldif(kind, top(kind), person(NEVER[0], "x"), person(NEVER[1], "y"))
            r = s.tool("add", "-b", SUFFIXES[kind], input=text, check=False)
            # both report what is missing and fail
            assert r.returncode != 0
            assert "missing" in r.stderr.lower(), r.stderr
            cats[kind] = slapcat(s, kind)
        # back-mdb's slapcat leaves its stubs out; keydir lists its glue
        # entries (so that a reload gives the same tree): the rest is the same.
        keydir = [rec for rec in records(cats["keydir"], "keydir", VOLATILE)
                  if "objectClass: glue" not in rec]
        assert keydir == records(cats["mdb"], "mdb", VOLATILE)
        glue = [rec for rec in records(cats["keydir"], "keydir", VOLATILE)
                if "objectClass: glue" in rec]
        assert sorted(rec[0] for rec in glue) == sorted(f"dn: {g},o=SUFFIX" for g in GLUE)
        assert all(rec[1:] == ["objectClass: glue", "structuralObjectClass: glue"]
                   for rec in glue)

        s.start()
        k = dbs["keydir"]
        # without ManageDsaIT the glue is hidden, the entries below it are found
        assert k.search("", attrs=["1.1"]).rels == ["", *NEVER]
        assert k.search("", "(mail=y@example.com)", attrs=["1.1"]).rels == [NEVER[1]]
        assert k.search("ou=d2,ou=d1", attrs=["1.1"]).rels == [NEVER[1]]
        # with it, the glue shows
        r = k.search("", "(objectClass=glue)", attrs=["1.1"], extra=["-M"])
        assert r.rels == GLUE
        # back-mdb serves the same entries
        m = dbs["mdb"]
        assert m.search("", "(mail=y@example.com)", attrs=["1.1"]).rels == [NEVER[1]]
    finally:
        s.cleanup()


def test_real_entry_keeps_children_across_runs():
    """keydir: a parent that a later slapadd supplies takes the place of the
    glue an earlier one left, with its ID: its children stay attached."""
    s, dbs = configure_pair(name="slapadd-later")
    try:
        suffix = SUFFIXES["keydir"]
        r = s.tool("add", "-b", suffix,
                   input=ldif("keydir", top("keydir"), person(NEVER[0], "x")), check=False)
        assert r.returncode != 0
        r = s.tool("add", "-b", suffix, input=ldif("keydir", ou("ou=missing", "missing")),
                   check=False)
        assert r.returncode == 0, r.stderr
        text = slapcat(s, "keydir")
        assert order(text, "keydir") == ["o=SUFFIX", "ou=missing,o=SUFFIX", NEVER[0] + ",o=SUFFIX"]
        assert "glue" not in text
        s.start()
        d = dbs["keydir"]
        assert d.search("ou=missing", scope="one", attrs=["1.1"]).rels == [NEVER[0]]
        assert d.search("", "(objectClass=organizationalUnit)", attrs=["1.1"]).rels == ["ou=missing"]
    finally:
        s.cleanup()
