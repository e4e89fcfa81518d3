"""The example ACL for userPKCS12 (the snippet keydir-admin zone init writes,
the same as doc/keys.md's) on back-mdb: the member itself and the
gateway's identity can read a member's PKCS#12; anonymous and another
member can neither read it, nor compare it, nor learn anything about it
through a filter."""

import os
import re
import subprocess

import pytest

from keydirtest import keys
from keydirtest.slapd import ROOTPW, Slapd, TOP_SRCDIR

SUFFIX = "dc=tovaris,dc=com"
GATEWAY = "cn=gateway," + SUFFIX
ALICE = "mail=alice@tovaris.com," + SUFFIX
BOB = "mail=bob@tovaris.com," + SUFFIX
CAROL = "mail=carol@tovaris.com," + SUFFIX  # a member without a PKCS#12
PASSWORDS = {ALICE: "alice-pw", BOB: "bob-pw", GATEWAY: "gateway-pw"}


def acl_of(snippet):
    """The access directives of a slapd.conf text (with their continuation lines)."""
    m = re.search(r"^access to .*", snippet, re.S | re.M)
    assert m, snippet
    return "".join(line + "\n" for line in m.group(0).splitlines()
                   if line.startswith("access to") or line.startswith("    by "))


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("acl"))
    zone = keys.Zone(workdir, "tovaris.com", key_type="p256")
    with open(os.path.join(zone.dir, "slapd.conf")) as f:
        acl = acl_of(f.read())
    ldif = zone.zone_ldif()
    ldif += (f"dn: {GATEWAY}\nobjectClass: applicationProcess\nobjectClass: simpleSecurityObject\n"
             f"cn: gateway\nuserPassword: {PASSWORDS[GATEWAY]}\n\n")
    for who in ("alice", "bob"):
        r = zone.admin("member", "add", f"{who}@tovaris.com", "--key-type", "p256",
                       *zone.issue_args())
        assert r.returncode == 0, r.stderr
        dn = f"mail={who}@tovaris.com,{SUFFIX}"
        ldif += r.stdout.rstrip("\n") + f"\nuserPassword: {PASSWORDS[dn]}\n\n"
    r = zone.admin("member", "add", "carol@tovaris.com", "--key-type", "p256", *zone.issue_args())
    ldif += "\n".join(line for line in r.stdout.replace("\n ", "\x00").split("\n")
                      if not line.startswith("userPKCS12")).replace("\x00", "\n ") + "\n"
    s = Slapd(name="acl", modules=keys.modules())
    s.add_database(keys.database(SUFFIX, s.db_dir("zone"), extra=acl))
    s.tool("add", "-q", "-b", SUFFIX, input=ldif)
    s.start()
    s.acl = acl
    s.p12 = keys.raw_ldif_values(ldif.split(f"dn: {ALICE}\n", 1)[1].split("\n\n", 1)[0],
                                 "userPKCS12")[0]
    yield s
    s.cleanup()


IDENTITIES = {"self": ALICE, "gateway": GATEWAY, "anonymous": None, "other member": BOB}
ALLOWED = {"self", "gateway"}


def bind_args(who):
    dn = IDENTITIES[who]
    return ["-x"] + (["-D", dn, "-w", PASSWORDS[dn]] if dn else [])


def search(server, who, base, filt, attrs, scope="base"):
    rc, entries, err = keys.search_raw(server.uri, base, filt, attrs, extra=["-s", scope],
                                       binddn=None) if IDENTITIES[who] is None else \
        keys.search_raw(server.uri, base, filt, attrs, binddn=IDENTITIES[who],
                        password=PASSWORDS[IDENTITIES[who]], extra=["-s", scope])
    assert rc == 0, (who, err)
    return entries


def compare(server, who, dn, value):
    r = subprocess.run(["ldapcompare", "-H", server.uri] + bind_args(who)
                       + [dn, "userPKCS12:: " + keys.b64(value)], capture_output=True, text=True)
    return r.returncode


def test_snippet_is_the_documented_acl(server):
    with open(os.path.join(TOP_SRCDIR, "doc", "keys.md")) as f:
        doc = f.read()
    # The first code block of doc/keys.md's section on userPKCS12.
    section = doc[doc.index("## Who may read userPKCS12"):]
    doc = section.split("```")[1]
    documented = acl_of(doc.replace("dn.exact=\"GATEWAY-DN\"", f"dn.exact=\"{GATEWAY}\""))
    assert documented == server.acl
    assert "access to attrs=userPKCS12\n    by self read\n" \
           f"    by dn.exact=\"{GATEWAY}\" read\n    by * none\n" in server.acl


@pytest.mark.parametrize("who", list(IDENTITIES))
def test_read(server, who):
    entries = search(server, who, ALICE, "(objectClass=*)", ["userPKCS12", "mail"])
    assert len(entries) == 1
    attrs = entries[0][1]
    assert attrs["mail"] == [b"alice@tovaris.com"]  # the entry itself is public
    if who in ALLOWED:
        assert attrs["userPKCS12"] == [server.p12]
    else:
        assert "userPKCS12" not in attrs
    # Asking for all attributes does not reveal it either.
    attrs = search(server, who, ALICE, "(objectClass=*)", ["*"])[0][1]
    assert ("userPKCS12" in attrs) == (who in ALLOWED)
    assert "userPassword" not in attrs or who == "self"


@pytest.mark.parametrize("who", list(IDENTITIES))
def test_compare(server, who):
    right = compare(server, who, ALICE, server.p12)
    wrong = compare(server, who, ALICE, b"\x30\x03\x02\x01\x00")
    absent = compare(server, who, CAROL, b"\x30\x03\x02\x01\x00")
    # userPKCS12 has no equality rule, so nobody can compare it (slapd
    # answers inappropriateMatching), and the answer is the same for a right
    # value, a wrong one and an entry that has no PKCS#12: no oracle.
    assert right == wrong == absent, (who, right, wrong, absent)
    assert right not in (5, 6), (who, right)  # compareFalse / compareTrue


@pytest.mark.parametrize("who", list(IDENTITIES))
def test_filter(server, who):
    has = search(server, who, SUFFIX, "(userPKCS12=*)", ["mail"], scope="sub")
    has_not = search(server, who, SUFFIX, "(&(objectClass=keydirMember)(!(userPKCS12=*)))",
                     ["mail"], scope="sub")
    got = sorted(dn for dn, _ in has)
    got_not = sorted(dn for dn, _ in has_not)
    if who == "gateway":
        assert got == [ALICE, BOB] and got_not == [CAROL]
    elif who == "self":
        assert got == [ALICE]  # its own, and nothing about the others
        assert got_not == []
    elif who == "other member":
        assert got == [BOB]  # bob sees his own PKCS#12 only, never alice's
        assert got_not == []
    else:
        assert got == [] and got_not == []
    # Nor through a base search on the entry itself.
    base = search(server, who, ALICE, "(userPKCS12=*)", ["1.1"])
    assert (len(base) == 1) == (who in ALLOWED)


def test_passwords_protected_but_usable(server):
    for who in ("anonymous", "other member", "gateway"):
        attrs = search(server, who, ALICE, "(objectClass=*)", ["userPassword"])[0][1]
        assert "userPassword" not in attrs, who
    r = subprocess.run(["ldapwhoami", "-H", server.uri] + bind_args("self"), capture_output=True,
                       text=True)
    assert r.returncode == 0 and r.stdout.strip() == "dn:" + ALICE
