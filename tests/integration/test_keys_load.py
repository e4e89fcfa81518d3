"""A zone of 1,000 members made by keydir-admin, loaded with slapadd and with
ldapadd, then read the way mail clients read it (doc/design.md,
"Facts the design rests on"):
Thunderbird's multi-address filter for userCertificate;binary, Outlook's
userSMIMECertificate, gpgsm's (mail=...) for userCertificate, ;binary or
not. Every served certificate verifies with `openssl verify` against the
zone CA, PKCS#12s open with `openssl pkcs12` and hold the certificate's
key, and revoke and rekey are seen by ldapsearch and keydir-lookup."""

import hashlib
import os
import subprocess

import pytest

from keydirtest import keys, ldaptools
from keydirtest.slapd import Slapd

DOMAIN = "tovaris.com"
COUNT = 1000


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("loadzone"))
    z = keys.Zone(workdir, DOMAIN)  # default: RSA-3072 zone CA
    lst = os.path.join(workdir, "members.txt")
    with open(lst, "w") as f:
        for i in range(COUNT):
            f.write(f"user{i:04d}@{DOMAIN} User {i}\n")
    z.members_ldif = os.path.join(workdir, "members.ldif")
    r = z.admin("member", "bulk", lst, "-o", z.members_ldif, "--key-type", "p256", "--jobs", "2",
                *z.issue_args())
    assert r.returncode == 0, r.stderr
    print(r.stderr)
    with open(z.members_ldif) as f:
        text = f.read()
    z.certs = {}
    for block in text.split("\n\n"):
        if block.strip():
            mail = keys.raw_ldif_values(block, "mail")[0].decode()
            z.certs[mail] = keys.raw_ldif_values(block, "userCertificate;binary")[0]
    assert len(z.certs) == COUNT
    return z


def start_server(zone, how, workdir_factory):
    s = Slapd(name=f"load-{how}", modules=keys.modules())
    s.add_database(keys.database(zone.suffix, s.db_dir("zone")))
    if how == "slapadd":
        s.tool("add", "-q", "-b", zone.suffix, "-l", os.path.join(zone.dir, "zone.ldif"))
        s.tool("add", "-q", "-b", zone.suffix, "-l", zone.members_ldif)
        s.start()
    else:
        s.start()
        r = subprocess.run(["ldapadd", "-x", "-H", s.uri, "-D", zone.rootdn, "-y", zone.bindpw,
                            "-f", os.path.join(zone.dir, "zone.ldif")], capture_output=True,
                           text=True)
        assert r.returncode == 0, r.stderr
        r = subprocess.run(["ldapadd", "-x", "-H", s.uri, "-D", zone.rootdn, "-y", zone.bindpw,
                            "-f", zone.members_ldif], capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr
    return s


@pytest.fixture(scope="module")
def servers(zone, tmp_path_factory):
    made = {}
    try:
        for how in ("slapadd", "ldapadd"):
            made[how] = start_server(zone, how, tmp_path_factory)
        yield made
    finally:
        for s in made.values():
            s.cleanup()


@pytest.fixture(params=["slapadd", "ldapadd"])
def server(request, servers):
    return servers[request.param]


def test_all_members_served_and_verify_against_zone_ca(zone, server, tmp_path):
    rc, entries, err = keys.search_raw(server.uri, zone.suffix, "(objectClass=keydirMember)",
                                       ["mail", "userCertificate;binary", "keydirFingerprint"],
                                       binddn=zone.rootdn)
    assert rc == 0, err
    assert len(entries) == COUNT
    paths = []
    for dn, attrs in entries:
        mail = attrs["mail"][0].decode()
        der = attrs["userCertificate;binary"][0]
        assert dn == f"mail={mail},{zone.suffix}"
        assert der == zone.certs[mail]
        assert attrs["keydirFingerprint"] == [hashlib.sha256(der).hexdigest().encode()]
        pem = tmp_path / (mail + ".pem")
        pem.write_text(keys.pem(der))
        paths.append(str(pem))
    r = subprocess.run(["openssl", "verify", "-CAfile", zone.ca_crt] + paths,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(": OK\n") == COUNT


def shape(server, zone, filt, attrs, base=None):
    rc, entries, err = keys.search_raw(server.uri, base or zone.suffix, filt, attrs)
    assert rc == 0, err
    return {dn: a for dn, a in entries}


def dn(mail):
    return f"mail={mail},dc=tovaris,dc=com"


def test_thunderbird_shape(zone, server):
    a, b = "user0001@tovaris.com", "user0999@tovaris.com"
    got = shape(server, zone, f"(&(objectClass=*)(|(mail={a})(mail={b})(mail=nobody@tovaris.com)))",
                ["usercertificate;binary"])
    assert set(got) == {dn(a), dn(b)}
    assert got[dn(a)]["userCertificate;binary"] == [zone.certs[a]]
    assert got[dn(b)]["userCertificate;binary"] == [zone.certs[b]]


def test_outlook_shape(zone, server):
    a = "user0042@tovaris.com"
    got = shape(server, zone, f"(mail={a})", ["userSMIMECertificate"])
    # RFC 2798's PKCS#7 certs-only SignedData, the member's certificate first
    [value] = got[dn(a)]["userSMIMECertificate"]
    assert keys.pkcs7_certs(value)[0] == zone.certs[a]
    got = shape(server, zone, f"(mail={a})", ["userCertificate"])
    assert got[dn(a)]["userCertificate;binary"] == [zone.certs[a]]
    # RFC 2798 clients ask for userSMIMECertificate;binary, which OpenLDAP's
    # schema forbids: back-mdb returns nothing for it; the keydir backend
    # must answer both (doc/design.md, "Facts the design rests on").
    got = shape(server, zone, f"(mail={a})", ["userSMIMECertificate;binary"])
    if keys.DB_TYPE == "keydir":
        assert list(got[dn(a)].values()) == [[value]]
    else:
        assert got[dn(a)] == {}


def test_gpgsm_shape(zone, server):
    a = "user0500@tovaris.com"
    got = shape(server, zone, f"(mail={a})", ["userCertificate", "cACertificate", "x509caCert"])
    assert got == {dn(a): {"userCertificate;binary": [zone.certs[a]]}}


def test_no_binary_option_and_case(zone, server):
    a = "user0007@tovaris.com"
    for attr in ("userCertificate", "usercertificate;binary", "USERCERTIFICATE;BINARY"):
        got = shape(server, zone, f"(mail={a.upper()})", [attr])
        assert list(got[dn(a)].values()) == [[zone.certs[a]]], attr


def test_keydir_lookup_on_loaded_zone(zone, server):
    for a in ("user0000@tovaris.com", "user0123@tovaris.com", "user0999@tovaris.com"):
        r = keys.lookup("-H", server.uri, "--trust-anchor", zone.ca_crt, a)
        assert r.returncode == 0, r.stderr
        assert f"fingerprint: {hashlib.sha256(zone.certs[a]).hexdigest()}\n" in r.stdout


def test_pkcs12_opens_and_matches(zone, server, tmp_path):
    for a in ("user0003@tovaris.com", "user0777@tovaris.com"):
        rc, entries, err = keys.search_raw(server.uri, zone.suffix, f"(mail={a})",
                                           ["userPKCS12"], binddn=zone.rootdn)
        assert rc == 0, err
        p12 = tmp_path / "m.p12"
        p12.write_bytes(entries[0][1]["userPKCS12"][0])
        key = subprocess.run(["openssl", "pkcs12", "-in", str(p12), "-passin",
                              "file:" + zone.kek, "-nocerts", "-nodes"], capture_output=True,
                             text=True)
        assert key.returncode == 0, key.stderr
        cert = subprocess.run(["openssl", "pkcs12", "-in", str(p12), "-passin",
                               "file:" + zone.kek, "-clcerts", "-nokeys"], capture_output=True,
                              text=True)
        assert cert.returncode == 0, cert.stderr
        der = subprocess.run(["openssl", "x509", "-outform", "der"], input=cert.stdout.encode(),
                             capture_output=True).stdout
        assert der == zone.certs[a]
        pub_key = subprocess.run(["openssl", "pkey", "-pubout"], input=key.stdout,
                                 capture_output=True, text=True).stdout
        pub_cert = subprocess.run(["openssl", "x509", "-pubkey", "-noout"], input=cert.stdout,
                                  capture_output=True, text=True).stdout
        assert pub_key and pub_key == pub_cert
        wrong = subprocess.run(["openssl", "pkcs12", "-in", str(p12), "-passin", "pass:guess",
                                "-nokeys"], capture_output=True, text=True)
        assert wrong.returncode != 0


def test_revoke_and_rekey_seen_by_lookups(zone, servers, tmp_path):
    server = servers["ldapadd"]  # it changes the directory: once, after the read-only tests
    revoked, rekeyed = "user0100@tovaris.com", "user0200@tovaris.com"
    ldap = zone.ldap_args(server)
    r = zone.admin("member", "revoke", revoked, *ldap)
    assert r.returncode == 0, r.stderr
    assert ldaptools.search(server.uri, zone.suffix, f"(mail={revoked})",
                            ["keydirStatus"]).entries[0][1] == {"keydirStatus": ["revoked"]}
    r = keys.lookup("-H", server.uri, revoked)
    assert r.returncode == 1 and "the member is revoked" in r.stderr
    assert zone.admin("member", "revoke", revoked, *ldap).stdout.endswith("revoked already\n")

    old = zone.certs[rekeyed]
    r = zone.admin("member", "rekey", rekeyed, *ldap, *zone.issue_args())  # RSA-3072 default
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(old).hexdigest() in r.stdout
    got = shape(server, zone, f"(mail={rekeyed})", ["userCertificate;binary", "userSMIMECertificate",
                                                    "keydirRevokedCertificate;binary",
                                                    "keydirFingerprint", "keydirStatus"])[dn(rekeyed)]
    new = got["userCertificate;binary"]
    assert len(new) == 1 and new[0] != old
    assert [keys.pkcs7_certs(v)[0] for v in got["userSMIMECertificate"]] == new
    assert got["keydirRevokedCertificate;binary"] == [old]
    assert got["keydirFingerprint"] == [hashlib.sha256(new[0]).hexdigest().encode()]
    r = keys.lookup("-H", server.uri, "--json", "--trust-anchor", zone.ca_crt, rekeyed)
    assert r.returncode == 0, r.stderr
    assert hashlib.sha256(new[0]).hexdigest() in r.stdout
    assert hashlib.sha256(old).hexdigest() not in r.stdout
    t = subprocess.run(["openssl", "x509", "-inform", "der", "-noout", "-text"], input=new[0],
                       capture_output=True).stdout.decode()
    assert "Public-Key: (3072 bit)" in t
    # Rekeying the revoked member makes it usable again, with a new key.
    r = zone.admin("member", "rekey", revoked, "--key-type", "p256", *ldap, *zone.issue_args())
    assert r.returncode == 0, r.stderr
    assert keys.lookup("-H", server.uri, revoked).returncode == 0
    show = zone.admin("member", "show", rekeyed, *ldap)
    assert show.returncode == 0, show.stderr
    assert "status: active" in show.stdout and "check:     ok" in show.stdout
    assert "revoked certificate SHA-256 " + hashlib.sha256(old).hexdigest() in show.stdout
    assert "private key (userPKCS12): present" in show.stdout
    with open(os.path.join(zone.dir, "issued.log")) as f:
        log = f.read()
    assert f"revoke-member {revoked}" in log
    assert f"revoke-cert {rekeyed} {hashlib.sha256(old).hexdigest()}" in log
    # A wrong CA passphrase changes nothing in the directory.
    wrong = keys.write_secret(str(tmp_path / "wrong"), "nope\n")
    before = shape(server, zone, f"(mail={rekeyed})", ["*"])
    r = zone.admin("member", "rekey", rekeyed, *ldap, "--ca-passphrase-file", wrong,
                   "--p12-password-file", zone.kek)
    assert r.returncode == 2 and "wrong CA passphrase" in r.stderr
    assert shape(server, zone, f"(mail={rekeyed})", ["*"]) == before
