"""Presence, substring, ordering and approximate indexes, keydir and back-mdb
side by side with the same "index" lines.

Whether a search used an index is seen the way a client sees it: anonymous
searches run under size.unchecked=5, so a search whose candidates come
from an index (a handful) is answered, and one that would scan the
database (about 45 entries) is refused with adminLimitExceeded (11). The
rootdn, who has no limits, gives the true answer to compare with.
"""

import pytest

from backend_pair import base_entries, db, member_days, pair_server  # noqa: F401

INDEX_LINES = ("index title pres\n"
               "index cn sub\n"
               "index description eq,pres,subinitial\n"
               "index sn approx\n"
               "index keydirNotAfter eq\n"
               "limits anonymous size.unchecked=5\n")

PAIR = {"db_extra": lambda suffix: INDEX_LINES}

ANON = {"bind": None}


def truth(db, filt):
    r = db.search("", filt, attrs=["1.1"])
    assert r.rc == 0, r.err
    return r.rels


def indexed(db, filt):
    """An anonymous search that must be answered from an index."""
    r = db.search("", filt, attrs=["1.1"], **ANON)
    assert r.rc == 0, f"{db.kind}: {filt} was not answered from an index: {r.err}"
    assert r.rels == truth(db, filt), filt
    return r.rels


def scanned(db, filt):
    r = db.search("", filt, attrs=["1.1"], **ANON)
    assert r.rc == 11, f"{db.kind}: {filt}: rc {r.rc} (expected the unchecked limit)"


def test_presence_index(db):
    assert indexed(db, "(title=*)") == ["cn=alice,ou=staff", "cn=bob,ou=staff",
                                         "cn=carol,ou=staff"]
    assert indexed(db, "(&(title=*)(sn=Bob))") == ["cn=bob,ou=staff"]
    scanned(db, "(sn=*)")  # not indexed
    # The presence of objectClass selects nothing, indexed or not.
    scanned(db, "(objectClass=*)")


@pytest.mark.parametrize("filt,want", [
    ("(cn=*ser 07)", ["mail=user07@example.com,ou=people"]),  # final piece
    ("(cn=Contractor 0*)", ["mail=contractor00@example.org,ou=contractors,ou=people",
                            "mail=contractor01@example.org,ou=contractors,ou=people",
                            "mail=contractor02@example.org,ou=contractors,ou=people"]),
    ("(cn=Us*r 25)", ["mail=user25@example.com,ou=people"]),  # initial and final
    ("(cn=*alic*)", ["cn=alice,ou=staff"]),  # any
])
def test_substring_index(db, filt, want):
    assert indexed(db, filt) == want


def test_substring_pieces_too_short_or_not_indexed_scan(db):
    scanned(db, "(cn=*e*)")  # shorter than any key: every entry is a candidate
    scanned(db, "(mail=*ser07*)")  # mail has an equality index only
    # subinitial only: an initial piece is, a final piece is not in the index
    scanned(db, "(description=member 1*)")  # ten candidates: more than the limit
    assert indexed(db, "(description=top*)") == ["cn=secret,ou=private"]


def test_presence_and_equality_on_one_attribute(db):
    assert indexed(db, "(description=the zone)") == [""]
    assert indexed(db, "(&(description=*)(description=hidden))") == ["ou=private"]


def not_after(db):
    r = db.search("ou=people", "(objectClass=keydirMember)", attrs=["keydirNotAfter"])
    # keydir serves no certificate (nor its expiry) of a revoked member
    values = sorted((e[1]["keydirNotAfter"][0], db.rel(e[0])) for e in r.entries
                    if "keydirNotAfter" in e[1])
    assert len(values) >= 26
    return values


def test_ordering_from_an_ordered_equality_index(db):
    values = not_after(db)
    # Three answers: back-mdb stops reading a range at size.unchecked
    # candidates and answers with what it has; keydir reads the whole range.
    high = values[-3][0]
    want = sorted(rel for v, rel in values if v >= high)
    assert indexed(db, f"(keydirNotAfter>={high})") == want
    # The index holds revoked members' expiry too (keydir serves it not):
    # the lowest served value whose range has few stored values below it.
    days = {m.rel: member_days(m.get("mail")[0]) for m in base_entries(db.kind)
            if m.has("objectClass", "keydirMember")}
    for low, rel in values:
        if sum(1 for d in days.values() if d <= days[rel]) <= 4:
            break
    assert rel in indexed(db, f"(keydirNotAfter<={low})")
    # Both ends: the intersection of two ranges. back-mdb cuts the open
    # range (<=) at size.unchecked candidates and so loses answers here.
    if db.kind == "keydir":
        assert indexed(db, f"(&(keydirNotAfter>={high})(keydirNotAfter<={values[-1][0]}))") \
            == sorted(rel for v, rel in values if v >= high)
    if db.kind == "keydir":  # back-mdb answers with every entry, read from a cut range
        scanned(db, f"(keydirNotAfter>={values[0][0]})")  # all of them: over the limit
    # Past every value: no candidate.
    assert indexed(db, "(keydirNotAfter>=20991231235959Z)") == []


def test_approximate_index(db):
    r = db.search("", "(sn~=Carol)", attrs=["1.1"], **ANON)
    assert r.rc == 0, r.err
    assert r.rels == truth(db, "(sn~=Carol)") == ["cn=carol,ou=staff"]


def test_not_and_or_with_an_unindexed_branch_scan(db):
    scanned(db, "(!(title=*))")
    scanned(db, "(|(title=*)(sn=Bob))")
    assert indexed(db, "(|(title=*)(cn=*ser 07))") == sorted(
        ["cn=alice,ou=staff", "cn=bob,ou=staff", "cn=carol,ou=staff",
         "mail=user07@example.com,ou=people"])


def test_indexes_follow_writes(db):
    ou = db.fresh("ix")
    dn = f"cn=Zed Quux,{ou}"
    assert db.add(f"dn: {dn},{{S}}\nobjectClass: inetOrgPerson\ncn: Zed Quux\n"
                  "cn;lang-de: Zed Quux\nsn: Quux\ntitle: zookeeper\n").rc == 0
    assert indexed(db, "(cn=*d Quux)") == [dn.lower()]
    assert dn.lower() in indexed(db, "(title=*)")
    # Removing the tagged copy keeps the key the plain value shares with it.
    assert db.modify(f"dn: {dn},{{S}}\nchangetype: modify\ndelete: cn;lang-de\n").rc == 0
    assert indexed(db, "(cn=*d Quux)") == [dn.lower()]
    assert db.modify(f"dn: {dn},{{S}}\nchangetype: modify\ndelete: title\n").rc == 0
    assert dn.lower() not in indexed(db, "(title=*)")
    assert db.modrdn(dn, "cn=Ygg Quux", delete_old=True).rc == 0
    assert indexed(db, "(cn=*d Quux)") == []
    assert indexed(db, "(cn=*g Quux)") == [f"cn=ygg quux,{ou}"]
    assert db.delete(f"cn=Ygg Quux,{ou}").rc == 0
    assert indexed(db, "(cn=*g Quux)") == []
