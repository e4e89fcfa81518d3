"""ModRDN of entries with subordinates, on keydir and back-mdb: the whole
subtree moves in one transaction, found under its new DN by every scope and
by an indexed attribute, and nowhere under the old one; a new superior must
exist, lie outside the subtree and allow the write; a crash mid-rename
leaves all or nothing renamed."""

import subprocess
import time

import pytest

from backend_pair import db, make_pair, pair_server  # noqa: F401
from keydirtest.slapd import ROOTPW
from test_backend_crash import verify_files


def acls(s):
    alice = f'dn.exact="cn=alice,ou=staff,{s}"'
    return f"""
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to dn.base="ou=locked,{s}" attrs=children
    by * read
access to dn.subtree="ou=open,{s}"
    by {alice} write
    by * read
access to dn.subtree="ou=locked,{s}"
    by {alice} write
    by * read
access to *
    by * read
"""


PAIR = {"db_extra": acls}
ALICE = {"bind": "cn=alice,ou=staff", "password": "alicepw"}
GROUPS, PER_GROUP = 10, 99  # 1,000 entries below the renamed one


def ou(rel):
    name = rel.split(",")[0].split("=")[1]
    return f"dn: {rel},{{S}}\nobjectClass: organizationalUnit\nou: {name}\n\n"


def big_subtree(rel, tag, groups=GROUPS, per_group=PER_GROUP):
    """LDIF of rel with `groups` ou=gN, each with per_group people."""
    out = [ou(rel)]
    for g in range(groups):
        out.append(ou(f"ou=g{g},{rel}"))
        for i in range(per_group):
            cn = f"{tag}{g}-{i}"
            out.append(f"dn: cn={cn},ou=g{g},{rel},{{S}}\nobjectClass: inetOrgPerson\n"
                       f"cn: {cn}\nsn: s\nmail: {cn}@big.example\n\n")
    return "".join(out)


def count(d, base, scope="sub", filt="(objectClass=*)"):
    r = d.search(base, filt, attrs=["1.1"], scope=scope)
    return r.rc, len(r.rels)


def test_rename_subtree_of_1000(db):
    top = db.fresh("big")
    assert db.add(big_subtree(f"ou=src,{top}", "u")).rc == 0
    t0 = time.monotonic()
    r = db.modrdn(f"ou=src,{top}", "ou=dst")
    took = time.monotonic() - t0
    assert r.rc == 0, r.err
    print(f"\n{db.kind}: renamed {1 + GROUPS * (PER_GROUP + 1)} entries in {took:.3f} s")
    new, old = f"ou=dst,{top}", f"ou=src,{top}"
    assert count(db, new) == (0, 1 + GROUPS * (PER_GROUP + 1))
    assert count(db, old)[0] == 32
    assert count(db, new, "one") == (0, GROUPS)
    assert count(db, f"ou=g3,{new}", "one") == (0, PER_GROUP)
    assert count(db, f"cn=u3-7,ou=g3,{new}", "base") == (0, 1)
    assert count(db, f"cn=u3-7,ou=g3,{old}", "base")[0] == 32
    r = db.search(top, "(mail=u9-98@big.example)", attrs=["entryDN"])
    assert r.rels == [f"cn=u9-98,ou=g9,{new}"]
    assert r.entries[0][1]["entryDN"][0].lower() == db.dn(f"cn=u9-98,ou=g9,{new}").lower()
    assert count(db, top, filt="(objectClass=inetOrgPerson)") == (0, GROUPS * PER_GROUP)
    assert db.entry(new, attrs=["ou"])["ou"] == ["dst"]
    # the moved entries take changes and deletes under their new DNs
    assert db.delete(f"cn=u0-0,ou=g0,{new}").rc == 0
    assert db.modify(f"dn: cn=u0-1,ou=g0,{new},{{S}}\nchangetype: modify\n"
                     "replace: sn\nsn: t\n").rc == 0
    assert db.add(f"dn: cn=x,ou=g0,{old},{{S}}\nobjectClass: person\ncn: x\nsn: x\n").rc == 32


@pytest.fixture
def tree(db):
    """ou=tN with ou=a (two levels below it) and ou=b."""
    top = db.fresh()
    r = db.add(ou(f"ou=a,{top}") + ou(f"ou=b,{top}") + ou(f"ou=c,ou=a,{top}") +
               f"dn: cn=leaf,ou=c,ou=a,{top},{{S}}\nobjectClass: person\ncn: leaf\nsn: x\n\n"
               f"dn: mail=m@example.com,ou=a,{top},{{S}}\nobjectClass: keydirMember\n"
               "mail: m@example.com\n")
    assert r.rc == 0, r.err
    return top


def test_move_subtree_to_new_superior(db, tree):
    r = db.modrdn(f"ou=a,{tree}", "ou=a", newsup=f"ou=b,{tree}")
    assert r.rc == 0, r.err
    assert db.search(tree, attrs=["1.1"]).rels == sorted([
        tree, f"ou=b,{tree}", f"ou=a,ou=b,{tree}", f"ou=c,ou=a,ou=b,{tree}",
        f"cn=leaf,ou=c,ou=a,ou=b,{tree}", f"mail=m@example.com,ou=a,ou=b,{tree}"])
    assert db.search(tree, "(mail=m@example.com)", attrs=["1.1"]).rels == [
        f"mail=m@example.com,ou=a,ou=b,{tree}"]
    assert db.entry(f"ou=b,{tree}", attrs=["hasSubordinates"])["hasSubordinates"] == ["TRUE"]
    # and back, renamed on the way
    r = db.modrdn(f"ou=a,ou=b,{tree}", "ou=z", newsup=tree)
    assert r.rc == 0, r.err
    assert count(db, f"cn=leaf,ou=c,ou=z,{tree}", "base") == (0, 1)
    assert db.entry(f"ou=b,{tree}", attrs=["hasSubordinates"])["hasSubordinates"] == ["FALSE"]


def test_rename_subtree_keeping_old_rdn(db, tree):
    r = db.modrdn(f"ou=a,{tree}", "ou=d", delete_old=False)
    assert r.rc == 0, r.err
    assert sorted(db.entry(f"ou=d,{tree}", attrs=["ou"])["ou"]) == ["a", "d"]
    assert count(db, f"ou=d,{tree}") == (0, 4)


def test_move_into_own_subtree_refused(db, tree):
    for newsup in (f"ou=c,ou=a,{tree}", f"ou=a,{tree}"):
        r = db.modrdn(f"ou=a,{tree}", "ou=a", newsup=newsup)
        # slapd's frontend answers before either backend (which would say
        # noSuchObject, "new superior not found")
        assert r.rc == 53, r.err
    assert count(db, f"ou=a,{tree}") == (0, 4)


def test_move_to_missing_superior_refused(db, tree):
    r = db.modrdn(f"ou=a,{tree}", "ou=a", newsup=f"ou=missing,{tree}")
    assert r.rc == 32, r.err
    assert count(db, f"ou=a,{tree}") == (0, 4)


def test_rename_onto_existing_refused(db, tree):
    r = db.modrdn(f"ou=a,{tree}", "ou=b")
    assert r.rc == 68, r.err
    assert count(db, f"ou=a,{tree}") == (0, 4)
    assert count(db, f"ou=b,{tree}") == (0, 1)


def test_rename_suffix_refused(db):
    # the frontend: the new DN is in no database
    assert db.modrdn("", "o=other").rc == 71
    assert count(db, "ou=staff", "base") == (0, 1)


def test_acl_refuses_move(db):
    for rel in ("ou=open", "ou=locked"):
        r = db.add(ou(rel))
        assert r.rc in (0, 68), r.err
    assert db.add(ou("ou=mv,ou=open") + ou("ou=in,ou=mv,ou=open") +
                  "dn: cn=p,ou=in,ou=mv,ou=open,{S}\nobjectClass: person\ncn: p\nsn: p\n").rc == 0
    # alice may write in ou=open but not add below ou=locked
    r = db.modrdn("ou=mv,ou=open", "ou=mv", newsup="ou=locked", **ALICE)
    assert r.rc == 50, r.err
    assert count(db, "ou=mv,ou=open") == (0, 3)
    assert count(db, "ou=mv,ou=locked")[0] == 32
    # nor rename it where she has no write access at all
    r = db.modrdn("ou=mv,ou=open", "ou=mv", newsup="ou=staff", **ALICE)
    assert r.rc == 50, r.err
    # within ou=open she may
    r = db.modrdn("ou=mv,ou=open", "ou=moved", **ALICE)
    assert r.rc == 0, r.err
    assert count(db, "cn=p,ou=in,ou=moved,ou=open", "base") == (0, 1)


def modrdn_command(d, old, new):
    return ["ldapmodrdn", "-H", d.uri, "-x", "-D", d.rootdn, "-w", ROOTPW, "-r", d.dn(old), new]


def test_kill9_during_big_rename():
    """keydir: slapd killed while renaming 12,000 entries comes back with all
    of them renamed or none, and every file passes db_verify."""
    groups, per_group = 15, 799
    total = 1 + groups * (per_group + 1)
    s, dbs = make_pair(name="modrdn-crash")
    d = dbs["keydir"]
    try:
        assert d.add(big_subtree("ou=src", "k", groups, per_group)).rc == 0
        # how long a rename takes from the client's start to its answer
        t0 = time.monotonic()
        subprocess.run(modrdn_command(d, "ou=src", "ou=tmp"), check=True, capture_output=True)
        took = time.monotonic() - t0
        subprocess.run(modrdn_command(d, "ou=tmp", "ou=src"), check=True, capture_output=True)
        outcomes = []
        old = "ou=src"
        for fraction in (0.4, 0.6, 0.8, 0.95):
            new = "ou=dst" if old == "ou=src" else "ou=src"
            p = subprocess.Popen(modrdn_command(d, old, new), stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            time.sleep(took * fraction)
            s.kill9()
            p.wait(30)
            s.start()
            at_old, at_new = count(d, old), count(d, new)
            assert sorted([at_old, at_new]) == sorted([(0, total), (32, 0)]), (at_old, at_new)
            outcomes.append("renamed" if at_new[0] == 0 else "not renamed")
            if at_new[0] == 0:
                old = new
            r = d.search("", f"(mail=k{groups - 1}-{per_group - 1}@big.example)", attrs=["1.1"])
            assert r.rels == [f"cn=k{groups - 1}-{per_group - 1},ou=g{groups - 1},{old}"]
        print(f"\nkill -9 at 40/60/80/95% of {took:.2f} s: {outcomes}")
        assert verify_files(s, "keydir") == []
    finally:
        s.cleanup()


def test_subtree_over_the_limit_refused():
    """keydir: more than 20,000 descendants is adminLimitExceeded, and
    nothing moves (back-mdb has no such limit)."""
    s, dbs = make_pair(name="modrdn-limit")
    d = dbs["keydir"]
    try:
        # 20 ou=gN with 1,000 people each: 20,020 descendants
        assert d.add(big_subtree("ou=src", "l", groups=20, per_group=1000)).rc == 0
        r = d.modrdn("ou=src", "ou=dst")
        assert r.rc == 11, r.err
        assert count(d, "ou=src", "one") == (0, 20)
        assert count(d, "ou=dst", "base")[0] == 32
        assert d.search("", "(mail=l19-999@big.example)", attrs=["1.1"]).rels == [
            "cn=l19-999,ou=g19,ou=src"]
    finally:
        s.cleanup()
