"""Search on a keydir database and on back-mdb: scopes and filters.

Every case runs against both databases of one slapd (the `db` fixture) and
expects the same entries, computed from the data set itself.
"""

import re

import pytest

from backend_pair import base_entries, both, db, fingerprint, matched_dn, pair_server  # noqa: F401

MODEL = base_entries("keydir")
# a point among the members' certificate expiry times
NOT_AFTER_MID = sorted(v for e in MODEL for v in e.get("keydirNotAfter"))[len(MODEL) // 3]


def parent(rel):
    return rel.split(",", 1)[1] if "," in rel else ""


def in_scope(rel, base, scope):
    if scope == "base":
        return rel == base
    if scope == "one":
        return rel != base and parent(rel) == base
    below = rel != base and (base == "" or rel.endswith("," + base))
    return below or (scope == "sub" and rel == base)


def expected(pred, base="", scope="sub"):
    return sorted(e.rel.lower() for e in MODEL if in_scope(e.rel.lower(), base, scope) and pred(e))


@pytest.mark.parametrize("base", ["", "ou=people", "ou=contractors,ou=people",
                                  "mail=user01@example.com,ou=people"])
@pytest.mark.parametrize("scope", ["base", "one", "sub", "children"])
def test_scopes(db, base, scope):
    r = db.search(base, scope=scope, attrs=["1.1"])
    assert r.rc == 0, r.err
    assert r.rels == expected(lambda e: True, base, scope)


def member_no(e):
    m = re.match(r"mail=user(\d\d)@", e.rel)
    return int(m.group(1)) if m else None


def is_member(e):
    return e.has("objectClass", "keydirMember")


def sub(attr, pattern):
    """A substring filter's meaning (case-insensitive), for expectations."""
    rx = re.compile("^" + ".*".join(map(re.escape, pattern.split("*"))) + "$", re.I)
    return lambda e: any(rx.match(v) for v in e.get(attr))


FILTERS = [
    # indexed equality (mail, objectClass, keydirFingerprint are indexed)
    ("(mail=user03@example.com)", lambda e: e.has("mail", "user03@example.com")),
    ("(MAIL=USER03@EXAMPLE.COM)", lambda e: e.has("mail", "user03@example.com")),
    ("(mail=nobody@example.com)", lambda e: False),
    ("(objectClass=keydirMember)", is_member),
    ("(objectClass=organizationalUnit)", lambda e: e.has("objectClass", "organizationalUnit")),
    (f"(keydirFingerprint={fingerprint('user04@example.com')})", lambda e: member_no(e) == 4),
    (f"(keydirFingerprint={fingerprint('user04@example.com').upper()})",
     lambda e: member_no(e) == 4),
    # unindexed equality
    ("(cn=User 07)", lambda e: member_no(e) == 7),
    ("(cn=user 07)", lambda e: member_no(e) == 7),
    ("(keydirStatus=revoked)", lambda e: e.has("keydirStatus", "revoked")),
    ("(member=cn=alice,ou=staff,{S})", lambda e: e.rel == "cn=admins,ou=groups"),
    # presence
    ("(mail=*)", lambda e: e.has("mail")),
    ("(userPassword=*)", lambda e: e.has("userPassword")),
    ("(keydirTTL=*)", lambda e: e.rel == ""),
    # substrings
    ("(cn=User 1*)", sub("cn", "User 1*")),
    ("(mail=*@example.org)", sub("mail", "*@example.org")),
    ("(cn=*ser*0*)", sub("cn", "*ser*0*")),
    ("(mail=USER0*)", sub("mail", "user0*")),
    ("(description=member 2*)", sub("description", "member 2*")),
    # AND / OR / NOT, indexed and not
    ("(&(objectClass=keydirMember)(keydirStatus=revoked))",
     lambda e: is_member(e) and e.has("keydirStatus", "revoked")),
    ("(&(mail=user05@example.com)(keydirStatus=revoked))", lambda e: member_no(e) == 5),
    ("(&(mail=user06@example.com)(keydirStatus=revoked))", lambda e: False),
    ("(&(mail=user06@example.com)(mail=user07@example.com))", lambda e: False),
    ("(|(mail=user01@example.com)(mail=user02@example.com))", lambda e: member_no(e) in (1, 2)),
    ("(|(mail=user01@example.com)(cn=User 02))", lambda e: member_no(e) in (1, 2)),
    ("(|(mail=user01@example.com)(objectClass=groupOfNames))",
     lambda e: member_no(e) == 1 or e.has("objectClass", "groupOfNames")),
    ("(!(keydirStatus=active))", lambda e: not e.has("keydirStatus", "active")),
    ("(&(objectClass=keydirMember)(!(mail=user0*)))",
     lambda e: is_member(e) and not sub("mail", "user0*")(e)),
    ("(!(objectClass=keydirMember))", lambda e: not is_member(e)),
    # ordering
    (f"(keydirNotAfter>={NOT_AFTER_MID})",
     lambda e: any(v >= NOT_AFTER_MID for v in e.get("keydirNotAfter"))),
    (f"(keydirNotAfter<={NOT_AFTER_MID})",
     lambda e: any(v <= NOT_AFTER_MID for v in e.get("keydirNotAfter"))),
    ("(keydirTTL>=100)", lambda e: e.rel == ""),
    ("(keydirTTL<=100)", lambda e: False),
    # undefined attribute types: undefined, never true, not even negated
    ("(undefinedAttribute=x)", lambda e: False),
    ("(!(undefinedAttribute=x))", lambda e: False),
    ("(|(undefinedAttribute=x)(mail=user01@example.com))", lambda e: member_no(e) == 1),
    # absolute true and false (RFC 4526)
    ("(&)", lambda e: True),
    ("(|)", lambda e: False),
    # extensible match, entryDN, operational attributes
    ("(cn:caseExactMatch:=User 05)", lambda e: member_no(e) == 5),
    ("(cn:caseExactMatch:=user 05)", lambda e: False),
    ("(ou:dn:=contractors)", lambda e: "ou=contractors" in e.rel),
    ("(entryDN=mail=user05@example.com,ou=people,{S})", lambda e: member_no(e) == 5),
    ("(hasSubordinates=TRUE)",
     lambda e: any(o.rel.endswith("," + e.rel) or (e.rel == "" and o.rel) for o in MODEL)),
    ("(entryUUID=*)", lambda e: True),
    ("(createTimestamp>=19700101000000Z)", lambda e: True),
]


@pytest.mark.parametrize("filt,pred", FILTERS, ids=[f for f, _ in FILTERS])
def test_filter(db, filt, pred):
    r = db.search("", db.ldif(filt), attrs=["1.1"])
    assert r.rc == 0, r.err
    assert r.rels == expected(pred)


@pytest.mark.parametrize("filt,pred", [FILTERS[0], FILTERS[3], FILTERS[7], FILTERS[14]],
                         ids=["indexed", "objectClass", "unindexed", "substring"])
def test_filter_one_level(db, filt, pred):
    r = db.search("ou=people", filt, attrs=["1.1"], scope="one")
    assert r.rc == 0, r.err
    assert r.rels == expected(pred, "ou=people", "one")


def test_filters_answer_like_mdb(both):
    """Filters whose exact answer depends on matching rules (approximate
    match): keydir must say what back-mdb says."""
    keydir, mdb = both
    for filt in ["(title~=admn)", "(cn~=User 5)", "(mail~=user05@example.com)",
                 "(description>=member 20)", "(objectClass:=keydirMember)"]:
        a = keydir.search("", filt, attrs=["1.1"])
        b = mdb.search("", filt, attrs=["1.1"])
        assert (a.rc, a.rels) == (b.rc, b.rels), filt


@pytest.mark.parametrize("manage", [True, False], ids=["stored", "served"])
def test_entries_and_operational_attributes_like_mdb(both, manage):
    """The whole tree, user and operational attributes, is the same on both
    (values that differ by nature -- UUIDs, CSNs, times -- aside).

    Deliberate difference: keydir serves a revoked member without its
    certificates (and so without keydirFingerprint and keydirNotAfter) unless
    the client sends ManageDsaIT; back-mdb serves what it stores."""
    keydir, mdb = both
    volatile = {"entryuuid", "entrycsn", "createtimestamp", "modifytimestamp"}
    key_attrs = {"usercertificate;binary", "keydirfingerprint", "keydirnotafter"}

    def view(d):
        r = d.search("", attrs=["*", "+"], extra=["-M"] if manage else [])
        assert r.rc == 0, r.err
        out = {}
        for dn, attrs in r.entries:
            out[d.rel(dn)] = d.norm_entry(attrs, skip=volatile)
        return out

    want = view(mdb)
    if not manage:
        for rel, attrs in want.items():
            if attrs.get("keydirstatus") == ["revoked"]:
                for name in key_attrs:
                    attrs.pop(name, None)
    assert view(keydir) == want


def test_attribute_selection(db):
    r = db.search("mail=user01@example.com,ou=people", attrs=["cn", "mail"], scope="base")
    assert r.rc == 0
    assert r.entries[0][1] == {"cn": ["User 01"], "mail": ["user01@example.com"]}
    r = db.search("mail=user01@example.com,ou=people", attrs=["cn"], scope="base",
                  extra=["-A"])  # types only
    assert "cn:" in r.out and "User 01" not in r.out


def test_missing_base_gives_matched_dn(db):
    r = db.search("cn=nobody,ou=contractors,ou=people")
    assert r.rc == 32
    assert matched_dn(r).lower() == db.dn("ou=contractors,ou=people").lower()
    r = db.search("cn=a,cn=b,ou=nowhere")
    assert r.rc == 32
    assert matched_dn(r).lower() == db.suffix


def test_search_as_anonymous_and_user(db):
    """Without ACLs the default (read by all) applies to every identity."""
    for bind, pw in [(None, None), ("cn=bob,ou=staff", "bobpw"),
                     ("mail=user01@example.com,ou=people", "pw01")]:
        r = db.search("ou=people", "(mail=user02@example.com)", attrs=["cn"], bind=bind,
                      password=pw)
        assert r.rc == 0, r.err
        assert r.rels == ["mail=user02@example.com,ou=people"]
