"""The canonical request form agrees between a client and slapd.

The asking server signs the search it sends; the serving server verifies
what slapd parsed: its DN string, the filter as filter2bv() writes it (the
string slapd logs at loglevel stats as filter="...") and the attribute
names as received. This test sends searches of every shape that matters
through libldap (python-ldap) to a real slapd, reads back what slapd made
of each from its log, and checks that lib/sign computes the same canonical
request from both sides (tests/unit/sign-canon), and different ones where
doc/signing.md §4.3 says they do not agree.

The database is back-mdb loaded with keydir.schema (DB_TYPE switches it to
keydir once the backend lands); the searches need no entries.
"""
import os
import re
import subprocess

import ldap
import pytest

from keydirtest.slapd import BUILD_DIR, ROOTPW, database_mdb

DB_TYPE = "mdb"
SUFFIX = "dc=tovaris,dc=com"
TOOL = os.path.join(BUILD_DIR, "tests", "unit", "sign-canon")

# (base, scope, filter, attributes) as the client sends them, all agreeing.
AGREE = [
    ("mail=kconley@tovaris.com,dc=tovaris,dc=com", 0, "(mail=kconley@tovaris.com)",
     ["userCertificate;binary", "mail"]),
    ("MAIL=KConley@Tovaris.com, DC=Tovaris, DC=Com", 0, "(MAIL=KConley@Tovaris.COM)",
     ["userCertificate;BINARY", "Mail"]),
    ("dc=tovaris,dc=com", 2, "(&(objectclass=*)(|(mail=a@tovaris.com)(mail=B@Tovaris.com)))",
     ["userSMIMECertificate", "userCertificate;binary"]),
    ("dc=tovaris,dc=com", 2, "(objectClass=Person)", []),
    ("dc=tovaris,dc=com", 1, "(mail=  a   b  )", ["*"]),
    ("dc=tovaris,dc=com", 2, "(mail=a\\2ab@tovaris.com)", ["1.1"]),
    ("dc=tovaris,dc=com", 2, "(mail=*@Tovaris.COM)", []),
    ("dc=tovaris,dc=com", 2, "(mail=  ab *  c d  * ef  )", []),
    ("dc=tovaris,dc=com", 2, "(cn:dn:caseExactMatch:=Foo)", []),
    ("dc=tovaris,dc=com", 2, "(:caseIgnoreMatch:=X)", []),
    ("dc=tovaris,dc=com", 2, "(&)", []),
    ("dc=tovaris,dc=com", 2, "(|)", []),
    ("dc=tovaris,dc=com", 2, "(!(keydirFingerprint=ABCDEF))", []),
    ("dc=tovaris,dc=com", 2, "(cn~=Foo)", []),
    ("dc=tovaris,dc=com", 2, "(cn;lang-de=x)", []),
    ("dc=tovaris,dc=com", 2, "(description=\\00x)", []),
    ("dc=tovaris,dc=com", 2, "(cn=caf\\c3\\a9 \\c3\\a9)", []),
    ("cn=\\ lead  sp\\ ,dc=tovaris,dc=com", 0, "(cn=x)", []),
    ("sn=B+cn=A,dc=tovaris,dc=com", 0, "(cn=x)", []),
    ("dc=tovaris,dc=com", 2, "(&(|(mail=x@tovaris.com)(mail=y@tovaris.com)(mail=z@example.com))"
     "(objectClass=keydirMember))", ["userCertificate;binary"]),
]

# Documented disagreements: the canonical forms differ, so a signature over
# them fails verification (fail closed).
DIFFER = [
    ("dc=tovaris,dc=com", 2, "(rfc822Mailbox=x@tovaris.com)", []),  # alias -> mail
    ("2.5.4.3=Foo,dc=tovaris,dc=com", 0, "(cn=x)", []),                 # OID -> cn
    ("dc=tovaris,dc=com", 2, "(cn=\u00c4)", []),                          # non-ASCII case
    ("dc=tovaris,dc=com", 2, "(keydirNotAfter=203001010000Z)", []),     # syntax normalised
]

LINE = re.compile(r'conn=(\d+) op=(\d+) SRCH base="(.*)" scope=(\d) deref=(\d) filter="(.*)"$')
ATTRS = re.compile(r"conn=(\d+) op=(\d+) SRCH attr=(.*)$")


def canonical(rows):
    if not os.path.exists(TOOL):
        pytest.skip(f"{TOOL} is not built (make check builds it)")
    text = "".join("\t".join([base, str(scope), "0", filt, " ".join(attrs)]) + "\n"
                   for base, scope, filt, attrs in rows)
    r = subprocess.run([TOOL], input=text.encode(), capture_output=True, check=True, timeout=30)
    return r.stdout.decode().splitlines()


@pytest.fixture
def slapd_log(make_slapd):
    s = make_slapd(name="canon", modules=(f"back_{DB_TYPE}.la",), debug_level="256")
    s.add_database(database_mdb(SUFFIX, s.db_dir("tovaris")))
    s.start()
    conn = ldap.initialize(s.uri)
    conn.simple_bind_s(f"cn=admin,{SUFFIX}", ROOTPW)
    sent = []
    for base, scope, filt, attrs in AGREE + DIFFER:
        try:
            conn.search_ext_s(base, scope, filt, attrs or None)
        except ldap.LDAPError:
            pass  # no entries are needed: slapd logs the search as it parsed it
        sent.append((base, scope, filt, attrs))
    conn.unbind_s()
    s.stop()
    seen = {}
    with open(s.log_path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            m = LINE.search(line)
            if m:
                seen[(m[1], m[2])] = [m[3], int(m[4]), m[6], []]
                continue
            m = ATTRS.search(line)
            if m:
                seen[(m[1], m[2])][3] = m[3].split()
    ops = [seen[k] for k in sorted(seen, key=lambda k: (int(k[0]), int(k[1])))]
    assert len(ops) == len(sent), f"slapd logged {len(ops)} searches, {len(sent)} were sent"
    return sent, [(b, sc, f, a) for b, sc, f, a in ops]


def test_client_and_slapd_forms_agree(slapd_log):
    sent, seen = slapd_log
    n = len(AGREE)
    mine, theirs = canonical(sent[:n]), canonical(seen[:n])
    for row, slapd_row, a, b in zip(sent[:n], seen[:n], mine, theirs):
        assert not a.startswith("error"), (row, a)
        assert a == b, f"sent {row} / slapd parsed {slapd_row}"


def test_documented_disagreements_fail_closed(slapd_log):
    sent, seen = slapd_log
    n = len(AGREE)
    mine, theirs = canonical(sent[n:]), canonical(seen[n:])
    for row, slapd_row, a, b in zip(sent[n:], seen[n:], mine, theirs):
        assert a != b, f"{row} and slapd's {slapd_row} unexpectedly agree"
