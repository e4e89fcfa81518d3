"""slapcat, slapadd, slapindex and slapmodify on a keydir database, next to
back-mdb: a slapcat -> slapadd -> slapcat round trip gives the same data,
slapindex builds a new index that searches then use."""

import base64
import os

import pytest

from backend_certs import member_ldif
from backend_pair import DBS, SUFFIXES, base_entries, configure_pair, make_pair, to_ldif

VOLATILE = ("entryUUID", "entryCSN", "createTimestamp", "modifyTimestamp")


def slapcat(server, kind, *args):
    r = server.tool("cat", "-b", SUFFIXES[kind], "-o", "ldif-wrap=no", *args)
    return r.stdout


def records(ldif, kind, drop=()):
    """LDIF as a sorted list of entries (each a sorted list of lines), with
    the suffix neutral and the named attributes left out."""
    out = []
    for block in ldif.strip().split("\n\n"):
        lines = []
        for line in block.splitlines():
            name = line.split(":", 1)[0]
            if name in drop:
                continue
            line = line.replace(SUFFIXES[kind], "o=SUFFIX")
            lines.append("o: SUFFIX" if line == f"o: {kind}" else line)
        out.append(sorted(lines))
    return sorted(out)


def fill_source(dbs):
    pkcs12 = base64.b64encode(bytes(range(256)) * 4).decode()
    for d in dbs.values():
        ou = "ou=extra"
        assert d.add(f"dn: {ou},{{S}}\nobjectClass: organizationalUnit\nou: extra\n\n"
                     f"dn: mail=bin@example.com,{ou},{{S}}\nobjectClass: keydirMember\n"
                     f"mail: bin@example.com\n{member_ldif('bin@example.com')}"
                     f"userPKCS12:: {pkcs12}\n").rc == 0
        assert d.modify("dn: mail=user01@example.com,ou=people,{S}\nchangetype: modify\n"
                        "replace: cn\ncn: Changed\n").rc == 0
        assert d.delete("mail=user02@example.com,ou=people").rc == 0


@pytest.fixture(scope="module")
def source():
    """A stopped pair server holding the base data plus some changes
    (binary values among them)."""
    s, dbs = make_pair(name="tools-source")
    try:
        fill_source(dbs)
        s.stop()
        yield s
    finally:
        s.cleanup()


def test_slapcat_while_running():
    """Backups of a running server: slapcat reads a keydir database that
    slapd has open, and slapd goes on serving afterwards."""
    s, dbs = make_pair(name="tools-live")
    try:
        for kind in DBS:
            text = slapcat(s, kind)
            assert len(records(text, kind)) == len(base_entries(kind)), text[-2000:]
            r = dbs[kind].search("", "(mail=user05@example.com)", attrs=["1.1"])
            assert r.rc == 0 and len(r.rels) == 1
        assert dbs["keydir"].add("dn: cn=after,{S}\nobjectClass: person\ncn: after\nsn: a\n").rc == 0
    finally:
        s.cleanup()


def test_slapcat_same_data_as_mdb(source):
    keydir = records(slapcat(source, "keydir"), "keydir", VOLATILE)
    mdb = records(slapcat(source, "mdb"), "mdb", VOLATILE)
    assert keydir == mdb
    assert len(keydir) == len(base_entries("keydir")) + 1  # + ou, + bin, - user02


@pytest.mark.parametrize("kind", DBS)
def test_round_trip(source, kind):
    first = slapcat(source, kind)
    target, dbs = configure_pair(name="tools-target")
    try:
        r = target.tool("add", "-b", SUFFIXES[kind], "-q", input=first, check=False)
        assert r.returncode == 0, r.stderr
        second = slapcat(target, kind)
        assert second == first
        # the copy serves, with its indexes built by slapadd
        target.start()
        d = dbs[kind]
        r = d.search("", "(mail=user05@example.com)", attrs=["cn"])
        assert r.rc == 0 and r.rels == ["mail=user05@example.com,ou=people"]
        r = d.search("", "(mail=bin@example.com)", attrs=["userCertificate;binary"])
        assert len(r.rels) == 1 and len(r.entries[0][1]["userCertificate;binary"][0]) > 100
        assert d.search("mail=user02@example.com,ou=people", scope="base").rc == 32
        r = d.search("", "(objectClass=*)", attrs=["1.1"])
        assert len(r.rels) == len(records(first, kind))
    finally:
        target.cleanup()


@pytest.mark.parametrize("kind", DBS)
def test_slapadd_refuses_bad_input(kind):
    s, dbs = configure_pair(name="tools-bad")
    try:
        suffix = SUFFIXES[kind]
        top = f"dn: {suffix}\nobjectClass: organization\no: {kind}\n\n"
        orphan = f"dn: cn=x,ou=missing,{suffix}\nobjectClass: person\ncn: x\nsn: x\n\n"
        r = s.tool("add", "-b", suffix, input=top + orphan, check=False)
        assert r.returncode != 0
        twice = f"dn: cn=y,{suffix}\nobjectClass: person\ncn: y\nsn: y\n\n"
        r = s.tool("add", "-b", suffix, input=twice + twice, check=False)
        assert r.returncode != 0
        assert "already exists" in r.stderr.lower() or "exists" in r.stderr.lower(), r.stderr
    finally:
        s.cleanup()


def test_slapindex_builds_a_new_index():
    """index cn eq,sub and title pres added to the configuration of a loaded
    database, then slapindex: searches on cn and title go through the
    indexes (an unchecked limit below the entry count lets only indexed
    searches through) and find the right entries."""
    limits = "limits anonymous size.unchecked=5\n"
    s, dbs = configure_pair(name="tools-index", db_extra=lambda suffix: limits,
                            debug_level="256")
    try:
        for kind, d in dbs.items():
            r = s.tool("add", "-b", d.suffix, input=to_ldif(base_entries(kind), d.suffix))
        for i, section in enumerate(s.databases):
            s.databases[i] = section + "index cn eq,sub\nindex title pres\n"
        for d in dbs.values():
            r = s.tool("index", "-b", d.suffix, check=False)
            assert r.returncode == 0, r.stderr
        for name in ("idx_cn.db", "idx_cn;sub.db", "idx_title;pres.db"):
            assert os.path.exists(os.path.join(dbs["keydir"].directory, name)), name
        s.start()
        for d in dbs.values():
            r = d.search("", "(cn=User 07)", attrs=["1.1"], bind=None)
            assert r.rc == 0, r.err
            assert r.rels == ["mail=user07@example.com,ou=people"]
            r = d.search("", "(|(cn=alice)(cn=bob)(cn=nobody))", attrs=["1.1"], bind=None)
            assert r.rels == ["cn=alice,ou=staff", "cn=bob,ou=staff"]
            r = d.search("", "(cn=*ser 07)", attrs=["1.1"], bind=None)
            assert (r.rc, r.rels) == (0, ["mail=user07@example.com,ou=people"]), r.err
            r = d.search("", "(title=*)", attrs=["1.1"], bind=None)
            assert r.rc == 0 and len(r.rels) == 3, r.err
            r = d.search("", "(description=member 07)", attrs=["1.1"], bind=None)
            assert r.rc == 11  # not indexed: every entry is a candidate
        # slapindex built it: slapd had nothing to build in the background
        assert "indexes of o=keydir are built" not in s.log()
    finally:
        s.cleanup()


@pytest.mark.parametrize("kind", DBS)
def test_slapmodify(source, kind):
    suffix = SUFFIXES[kind]
    target, dbs = configure_pair(name="tools-modify")
    try:
        target.tool("add", "-b", suffix, input=slapcat(source, kind))
        change = (f"dn: mail=user03@example.com,ou=people,{suffix}\nchangetype: modify\n"
                  "replace: cn\ncn: Offline\n-\nadd: objectClass\nobjectClass: keydirZone\n\n"
                  f"dn: mail=user04@example.com,ou=people,{suffix}\nchangetype: delete\n\n"
                  f"dn: cn=new,ou=staff,{suffix}\nchangetype: add\nobjectClass: person\n"
                  "cn: new\nsn: n\n")
        r = target.tool("modify", "-b", suffix, input=change, check=False)
        assert r.returncode == 0, r.stderr
        if kind == "mdb":
            # back-mdb's slapmodify rewrites entries but not attribute
            # indexes; keydir keeps its indexes exact without this.
            target.tool("index", "-b", suffix)
        target.start()
        d = dbs[kind]
        r = d.search("ou=people", "(objectClass=keydirZone)", attrs=["cn"], scope="one")
        assert r.rels == ["mail=user03@example.com,ou=people"]
        assert r.entries[0][1]["cn"] == ["Offline"]
        assert d.search("mail=user04@example.com,ou=people", scope="base").rc == 32
        assert d.search("", "(mail=user04@example.com)", attrs=["1.1"]).rels == []
        assert d.search("cn=new,ou=staff", scope="base").rc == 0
    finally:
        target.cleanup()
