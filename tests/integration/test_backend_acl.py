"""Access control on keydir and back-mdb, configured identically on both:
read and search per attribute, write per attribute, add and delete needing
write on the parent's children, disclose, group membership (entry-get)."""

import pytest

from backend_pair import both, db, matched_dn, pair_server  # noqa: F401


def acls(s):
    alice, bob, carol = (f'dn.exact="cn={n},ou=staff,{s}"' for n in ("alice", "bob", "carol"))
    return f"""
access to attrs=userPassword
    by self write
    by anonymous auth
    by * none
access to dn.subtree="ou=private,{s}"
    by {alice} write
    by * none
access to dn.base="ou=people,{s}" attrs=children
    by {alice} write
    by * none
access to dn.children="ou=people,{s}" attrs=description
    by {alice} write
    by {bob} write
    by users read
    by * none
access to dn.children="ou=people,{s}"
    by {alice} write
    by {carol} write
    by * read
access to dn.base="ou=groups,{s}" attrs=description
    by group.exact="cn=admins,ou=groups,{s}" write
    by * read
access to dn.base="ou=groups,{s}" attrs=entry
    by users read
    by anonymous disclose
access to *
    by * read
"""


PAIR = {"db_extra": acls}

ALICE = {"bind": "cn=alice,ou=staff", "password": "alicepw"}
BOB = {"bind": "cn=bob,ou=staff", "password": "bobpw"}
CAROL = {"bind": "cn=carol,ou=staff", "password": "carolpw"}
ANON = {"bind": None}
USER01 = {"bind": "mail=user01@example.com,ou=people", "password": "pw01"}


def member_ldif(rel):
    mail = rel.split(",")[0].split("=")[1]
    return f"dn: {rel},{{S}}\nobjectClass: keydirMember\nmail: {mail}\ndescription: d\n"


# -- read ---------------------------------------------------------------------------

PUBLIC = {"cn", "mail", "objectClass", "keydirStatus", "keydirNotAfter", "keydirFingerprint",
          "userCertificate;binary"}


@pytest.mark.parametrize("who,visible", [
    (ANON, PUBLIC),
    (BOB, PUBLIC | {"description"}),
    (USER01, PUBLIC | {"description", "userPassword"}),
], ids=["anonymous", "bob", "self"])
def test_read_per_attribute(db, who, visible):
    e = db.entry("mail=user01@example.com,ou=people", attrs=["*"], **who)
    assert set(e) == visible


@pytest.mark.parametrize("filt,who,want", [
    ("(description=member 03)", ANON, []),
    ("(description=member 03)", BOB, ["mail=user03@example.com,ou=people"]),
    ("(description=*)", ANON, [""]),                   # the zone's is readable
    ("(userPassword=pw01)", ANON, []),
    ("(userPassword=*)", BOB, ["cn=bob,ou=staff"]),    # his own
    ("(|(description=member 03)(cn=User 04))", ANON, ["mail=user04@example.com,ou=people"]),
    ("(&(mail=user03@example.com)(!(description=member 99)))", ANON, []),
    ("(&(mail=user03@example.com)(!(description=member 99)))", BOB,
     ["mail=user03@example.com,ou=people"]),
    ("(cn=secret)", ANON, []),
    ("(cn=secret)", BOB, []),
    ("(cn=secret)", ALICE, ["cn=secret,ou=private"]),
    ("(description=top secret)", ALICE, ["cn=secret,ou=private"]),
], ids=["desc-anon", "desc-bob", "desc-present-anon", "password-anon", "password-present-bob",
        "or-anon", "not-anon", "not-bob", "private-anon", "private-bob", "private-alice",
        "private-desc-alice"])
def test_filters_reveal_nothing_unreadable(db, filt, who, want):
    r = db.search("", filt, attrs=["1.1"], **who)
    assert r.rc == 0, r.err
    assert r.rels == want


def test_private_subtree_invisible(db):
    r = db.search("", attrs=["1.1"], **ANON)
    assert r.rc == 0
    assert not [rel for rel in r.rels if "private" in rel]
    assert "ou=private" in db.search("", attrs=["1.1"], **ALICE).rels


@pytest.mark.parametrize("target", ["ou=private", "cn=secret,ou=private",
                                    "cn=missing,ou=private", "cn=a,cn=missing,ou=private"])
def test_disclose_denied_gives_no_such_object(db, target):
    for scope in ("base", "sub"):
        r = db.search(target, scope=scope, **ANON)
        assert r.rc == 32, r.out + r.err
        assert matched_dn(r) is None, r.err
    r = db.search(target, scope="base", **ALICE)
    assert r.rc == (0 if "missing" not in target else 32)


# -- compare ----------------------------------------------------------------------

@pytest.mark.parametrize("rel,assertion,who,rc", [
    ("mail=user03@example.com,ou=people", "description:member 03", ANON, 50),
    ("mail=user03@example.com,ou=people", "description:member 03", BOB, 6),
    ("mail=user03@example.com,ou=people", "description:member 04", BOB, 5),
    ("mail=user03@example.com,ou=people", "cn:User 03", ANON, 6),
    ("mail=user01@example.com,ou=people", "userPassword:pw01", ANON, 50),
    ("cn=secret,ou=private", "cn:secret", ANON, 32),
    ("cn=secret,ou=private", "cn:secret", ALICE, 6),
    ("cn=missing,ou=private", "cn:secret", ANON, 32),
])
def test_compare_access(db, rel, assertion, who, rc):
    r = db.compare(rel, assertion, **who)
    assert r.rc == rc, r.out + r.err
    if rc == 32:
        assert matched_dn(r) is None


# -- write -----------------------------------------------------------------------

@pytest.fixture
def target(db):
    """A fresh member below ou=people (written as the rootdn)."""
    rel = f"mail=acl{next(db._counter)}@example.com,ou=people"
    assert db.add(member_ldif(rel)).rc == 0
    return rel


@pytest.mark.parametrize("who,attr,rc", [
    (BOB, "description", 0), (BOB, "cn", 50),
    (ALICE, "cn", 0), (CAROL, "cn", 0), (CAROL, "description", 50),
    (ANON, "cn", 8), (USER01, "cn", 50),  # anonymous: the frontend wants a bind
], ids=["bob-desc", "bob-cn", "alice-cn", "carol-cn", "carol-desc", "anon-cn", "user-cn"])
def test_write_per_attribute(db, target, who, attr, rc):
    before = db.entry(target)
    r = db.modify(f"dn: {target},{{S}}\nchangetype: modify\nreplace: {attr}\n{attr}: new\n",
                  **who)
    assert r.rc == rc, r.err
    after = db.entry(target)
    assert (after == before) == (rc != 0)


def test_own_password_change(db):
    r = db.modify("dn: mail=user02@example.com,ou=people,{S}\nchangetype: modify\n"
                  "replace: userPassword\nuserPassword: changed\n",
                  bind="mail=user02@example.com,ou=people", password="pw02")
    assert r.rc == 0, r.err
    r = db.search("mail=user02@example.com,ou=people", scope="base", attrs=["1.1"],
                  bind="mail=user02@example.com,ou=people", password="changed")
    assert r.rc == 0


@pytest.mark.parametrize("who,parent,rc", [
    (ALICE, "ou=people", 0),
    (CAROL, "ou=people", 50),                  # may write entries, not ou=people's children
    (CAROL, "ou=contractors,ou=people", 0),    # ... but ou=contractors' children
    (BOB, "ou=people", 50),
    (ANON, "ou=people", 8),
], ids=["alice", "carol-people", "carol-contractors", "bob", "anonymous"])
def test_add_and_delete_need_write_on_parent(db, who, parent, rc):
    rel = f"mail=new{next(db._counter)}@example.com,{parent}"
    r = db.add(member_ldif(rel), **who)
    assert r.rc == rc, r.err
    if rc:
        assert db.search(rel, scope="base").rc == 32
        assert db.add(member_ldif(rel)).rc == 0  # as the rootdn, to delete next
    r = db.delete(rel, **who)
    assert r.rc == rc, r.err
    assert db.search(rel, scope="base").rc == (32 if rc == 0 else 0)


@pytest.mark.parametrize("who,rc", [(ALICE, 0), (CAROL, 50), (BOB, 50)])
def test_modrdn_needs_write_on_parent(db, target, who, rc):
    r = db.modrdn(target, "mail=renamed" + target.split("=")[1].split("@")[0][3:] +
                  "@example.com", delete_old=True, **who)
    assert r.rc == rc, r.err


def test_write_in_private_subtree(db):
    change = "dn: cn=secret,ou=private,{S}\nchangetype: modify\nreplace: description\n" \
             "description: {v}\n"
    assert db.modify(change.replace("{v}", "x"), **BOB).rc == 50
    assert db.modify(change.replace("{v}", "x"), **ANON).rc == 8
    assert db.entry("cn=secret,ou=private")["description"] == ["top secret"]
    assert db.modify(change.replace("{v}", "still secret"), **ALICE).rc == 0


def test_group_membership_grants_write(db):
    """The group ACL reads cn=admins through the backend's entry-get hook."""
    change = "dn: ou=groups,{S}\nchangetype: modify\nreplace: description\ndescription: x\n"
    assert db.modify(change, **BOB).rc == 50
    assert db.modify(change, **ALICE).rc == 0


def test_disclose_without_search_gives_insufficient_access(db):
    r = db.search("ou=groups", scope="base", **ANON)
    assert r.rc == 50, r.err
    r = db.search("ou=groups", scope="sub", attrs=["1.1"], **ANON)
    assert r.rc == 50, r.err
    assert db.search("ou=groups", scope="base", **BOB).rc == 0
    # the entries below stay readable from above
    r = db.search("", "(cn=admins)", attrs=["1.1"], **ANON)
    assert r.rels == ["cn=admins,ou=groups"]


def refusals(d, who):
    """What an identity gets for writes and reads in places it may not see:
    [(result code, matched DN or '')]."""
    out = [
        d.add("dn: cn=x,ou=private,{S}\nobjectClass: person\ncn: x\nsn: x\n", **who),
        d.add("dn: cn=x,cn=y,ou=private,{S}\nobjectClass: person\ncn: x\nsn: x\n", **who),
        d.modify("dn: cn=missing,ou=private,{S}\nchangetype: modify\nreplace: sn\nsn: x\n",
                 **who),
        d.delete("cn=secret,ou=private", **who),
        d.delete("cn=missing,ou=private", **who),
        d.modrdn("cn=secret,ou=private", "cn=x", **who),
        d.modrdn("cn=missing,ou=private", "cn=x", **who),
        d.compare("ou=private", "ou:private", **who),
        d.search("ou=private", scope="one", **who),
        d.search("cn=x,ou=groups", **who),
    ]
    return [(r.rc, d.norm(matched_dn(r) or "")) for r in out]


def test_refusals_like_mdb(both):
    """The same codes on both, and no matched DN where disclose is denied.

    Deliberate difference: back-mdb names the hidden ou=private as matched
    DN of a missing target on add, modify and delete (and refuses modrdn of
    a missing target with insufficientAccess), revealing that it exists;
    keydir names a matched DN only where disclose is granted, on every
    operation, as back-mdb itself does for search and compare."""
    keydir, mdb = both
    hidden = "ou=private,o=SUFFIX"
    assert refusals(mdb, BOB) == [(50, ""), (32, hidden), (32, hidden), (50, ""), (32, hidden),
                                  (50, ""), (50, ""), (32, ""), (32, ""),
                                  (32, "ou=groups,o=SUFFIX")]
    assert refusals(keydir, BOB) == [(50, ""), (32, ""), (32, ""), (50, ""), (32, ""),
                                     (50, ""), (32, ""), (32, ""), (32, ""),
                                     (32, "ou=groups,o=SUFFIX")]
    # anonymous writes stop at the frontend (a bind is required) on both
    assert refusals(keydir, ANON) == refusals(mdb, ANON)
