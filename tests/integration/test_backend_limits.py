"""Size limits, administrative limits and paged results, on keydir and
back-mdb alike."""

import ldap
import pytest
from ldap.controls import SimplePagedResultsControl

from backend_pair import base_entries, both, db, pair_server  # noqa: F401
from keydirtest.slapd import ROOTPW

def limits(suffix):
    return (f'limits dn.exact="cn=carol,ou=staff,{suffix}" size.unchecked=10\n'
            f'limits dn.exact="cn=bob,ou=staff,{suffix}" size=7\n'
            f'limits dn.exact="cn=alice,ou=staff,{suffix}" size.soft=3 size.hard=6 '
            'size.pr=4 size.prtotal=9\n')


PAIR = {"db_extra": limits}

MEMBERS = sorted(e.rel for e in base_entries("keydir")
                 if e.has("objectClass", "keydirMember"))
ALL = sorted(e.rel for e in base_entries("keydir"))


# -- size limits ----------------------------------------------------------------

@pytest.mark.parametrize("filt", ["(objectClass=keydirMember)", "(cn=*)", "(mail=user*)"])
def test_size_limit_returns_entries_up_to_the_limit(db, filt):
    r = db.search("ou=people", filt, attrs=["1.1"], extra=["-z", "5"])
    assert r.rc == 4, r.err  # sizeLimitExceeded
    assert len(r.rels) == 5
    assert set(r.rels) <= set(MEMBERS)


def test_size_limit_not_reached(db):
    r = db.search("ou=people", "(objectClass=keydirMember)", attrs=["1.1"], extra=["-z", "50"])
    assert r.rc == 0
    assert r.rels == MEMBERS
    r = db.search("ou=people", "(objectClass=keydirMember)", attrs=["1.1"],
                  extra=["-z", str(len(MEMBERS))])
    assert r.rc == 0 and len(r.rels) == len(MEMBERS)


def test_server_side_size_limit(db):
    r = db.search("ou=people", attrs=["1.1"], bind="cn=bob,ou=staff", password="bobpw")
    assert r.rc == 4 and len(r.rels) == 7


def test_unchecked_limit_counts_candidates(db):
    """size.unchecked refuses searches with more candidates than allowed
    (adminLimitExceeded) and lets an indexed lookup through."""
    carol = {"bind": "cn=carol,ou=staff", "password": "carolpw"}
    r = db.search("", "(cn=User 01)", attrs=["1.1"], **carol)
    assert r.rc == 11, r.out + r.err
    r = db.search("", "(mail=user01@example.com)", attrs=["1.1"], **carol)
    assert r.rc == 0 and r.rels == ["mail=user01@example.com,ou=people"]


def test_unchecked_limit_lets_a_small_scope_through(db):
    """An indexed filter with more candidates than size.unchecked (33
    members) under a base whose subtree holds fewer entries than the limit
    (4) is searched over that subtree, as back-mdb does."""
    carol = {"bind": "cn=carol,ou=staff", "password": "carolpw"}
    r = db.search("ou=contractors,ou=people", "(objectClass=keydirMember)", attrs=["1.1"],
                  **carol)
    assert r.rc == 0, r.err
    assert r.rels == [m for m in MEMBERS if "contractors" in m]
    # ... but not a paged search, nor a larger scope
    r = db.search("ou=contractors,ou=people", "(objectClass=keydirMember)", attrs=["1.1"],
                  extra=["-E", "pr=2/noprompt"], **carol)
    assert r.rc == 11, r.out + r.err
    r = db.search("ou=people", "(objectClass=keydirMember)", attrs=["1.1"], **carol)
    assert r.rc == 11, r.out + r.err


# -- paged results ----------------------------------------------------------------

@pytest.mark.parametrize("base,filt,scope,want", [
    ("", "(objectClass=*)", "sub", ALL),
    ("ou=people", "(objectClass=keydirMember)", "sub", MEMBERS),
    ("ou=people", "(cn=User*)", "one", [m for m in MEMBERS if "contractor" not in m]),
], ids=["all", "indexed", "one-level"])
def test_paged_results_return_everything(db, base, filt, scope, want):
    r = db.search(base, filt, attrs=["1.1"], scope=scope, extra=["-E", "pr=5/noprompt"])
    assert r.rc == 0, r.err
    assert r.rels == sorted(want)
    # one response control per page
    assert r.out.count("# pagedresults: cookie=") == -(-len(want) // 5)


def paged_pages(d, base, filt, size, cookie=b""):
    conn = ldap.initialize(d.uri)
    conn.simple_bind_s(d.rootdn, ROOTPW)
    pages = []
    try:
        while True:
            ctrl = SimplePagedResultsControl(True, size=size, cookie=cookie)
            msgid = conn.search_ext(d.dn(base), ldap.SCOPE_SUBTREE, filt, ["1.1"],
                                    serverctrls=[ctrl])
            _, data, _, ctrls = conn.result3(msgid)
            pages.append([d.rel(dn) for dn, _ in data if dn])
            cookie = [c for c in ctrls if c.controlType == ctrl.controlType][0].cookie
            if not cookie:
                return pages
    finally:
        conn.unbind_s()


def test_paged_results_page_sizes(db):
    pages = paged_pages(db, "", "(objectClass=*)", 7)
    got = [rel for p in pages for rel in p]
    assert sorted(got) == ALL and len(got) == len(set(got))
    assert all(len(p) == 7 for p in pages[:-1]) and 0 < len(pages[-1]) <= 7


def test_paged_results_bad_cookie(both):
    answers = []
    for d in both:
        try:
            paged_pages(d, "", "(objectClass=*)", 5, cookie=b"\x01\x02\x03")
            answers.append("accepted")
        except ldap.LDAPError as e:
            answers.append(type(e).__name__)
    assert answers[0] == answers[1] != "accepted"


def test_paged_results_with_size_limit_like_mdb(both):
    keydir, mdb = both
    a = keydir.search("", attrs=["1.1"], extra=["-z", "12", "-E", "pr=5/noprompt"])
    b = mdb.search("", attrs=["1.1"], extra=["-z", "12", "-E", "pr=5/noprompt"])
    assert (a.rc, len(a.rels)) == (b.rc, len(b.rels))


# -- the other limits forms, as back-mdb applies them --------------------------

ALICE = {"bind": "cn=alice,ou=staff", "password": "alicepw"}


@pytest.mark.parametrize("extra,want", [
    ([], (4, 3)),                                   # the soft limit
    (["-z", "5"], (4, 5)),                          # asked for, below the hard limit
    (["-z", "20"], (4, 6)),                         # cut to the hard limit
    (["-z", "none"], (4, 3)),                       # "no limit" means the soft one
    (["-E", "pr=10/noprompt"], (11, 0)),            # a page above size.pr
    (["-E", "pr=2/noprompt"], (4, 9)),              # pages up to size.prtotal
    (["-z", "5", "-E", "pr=2/noprompt"], (4, 5)),   # a size limit across pages
], ids=["soft", "below-hard", "above-hard", "unlimited", "pr-10", "pr-2", "pr-with-size"])
def test_soft_hard_and_paged_limits_like_mdb(both, extra, want):
    """size.soft, size.hard, size.pr and size.prtotal: the result code and
    number of entries of back-mdb, from both backends."""
    answers = []
    for d in both:
        r = d.search("", "(objectClass=*)", attrs=["1.1"], extra=extra, **ALICE)
        answers.append((r.rc, len(r.rels)))
    assert answers == [want, want], answers
