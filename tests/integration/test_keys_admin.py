"""keydir-admin: zone init, secret new, member add (LDIF and LDAP) and
every bad input, which must exit 2 with a message and leave nothing half
written (no output file, no change to the zone directory or directory)."""

import base64
import hashlib
import os
import stat
import subprocess

import pytest

from keydirtest.keys import assert_admin_fails as assert_fails
from keydirtest import keys, ldaptools
from keydirtest.slapd import Slapd, free_port


def snapshot(*paths):
    """Every file under `paths` with its mode and a hash of its content."""
    out = {}
    for top in paths:
        for root, dirs, files in os.walk(top):
            for name in files:
                p = os.path.join(root, name)
                with open(p, "rb") as f:
                    out[p] = (os.stat(p).st_mode & 0o7777, hashlib.sha256(f.read()).hexdigest())
            for name in dirs:
                out[os.path.join(root, name) + "/"] = None
    return out


@pytest.fixture
def zone(tmp_path):
    return keys.Zone(str(tmp_path), "tovaris.com", key_type="p256")


@pytest.fixture
def server(zone, make_slapd):
    """A slapd holding the zone entry (loaded with ldapadd)."""
    s = make_slapd(name="admin", modules=keys.modules())
    s.add_database(keys.database(zone.suffix, s.db_dir("zone")))
    s.start()
    r = ldaptools.add(s.uri, zone.zone_ldif(), zone.rootdn)
    assert r.rc == 0, r.err
    return s


# -- zone init ------------------------------------------------------------

def test_zone_init_makes_ca_entry_and_snippet(zone):
    d = zone.dir
    assert sorted(os.listdir(d)) == ["ca.crt", "ca.key", "issued.log", "openpgp.ldif",
                                     "slapd.conf", "zone.conf", "zone.ldif"]
    for name in os.listdir(d):
        assert stat.S_IMODE(os.stat(os.path.join(d, name)).st_mode) == 0o600, name
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    with open(os.path.join(d, "ca.key")) as f:
        assert "BEGIN ENCRYPTED PRIVATE KEY" in f.read()
    # The CA key opens with the passphrase only.
    ok = keys.run(["openssl", "pkey", "-in", os.path.join(d, "ca.key"), "-passin",
                   "file:" + zone.ca_pass, "-noout"])
    assert ok.returncode == 0, ok.stderr
    bad = keys.run(["openssl", "pkey", "-in", os.path.join(d, "ca.key"), "-passin", "pass:guess",
                    "-noout"])
    assert bad.returncode != 0
    text = keys.run(["openssl", "x509", "-in", zone.ca_crt, "-noout", "-text"]).stdout
    assert "CA:TRUE, pathlen:0" in text
    assert "Certificate Sign, CRL Sign" in text
    assert "email:tovaris.com" in text  # name constraint to the zone's domain
    assert "Subject: O = tovaris.com, CN = keydir zone CA" in text
    ldif = zone.zone_ldif()
    assert ldif.startswith("dn: dc=tovaris,dc=com\n")
    for line in ("objectClass: domain", "objectClass: keydirZone", "dc: tovaris", "keydirTTL: 3600"):
        assert line + "\n" in ldif
    with open(os.path.join(d, "slapd.conf")) as f:
        snippet = f.read()
    assert 'suffix "dc=tovaris,dc=com"' in snippet
    assert "access to attrs=userPKCS12\n    by self read\n" in snippet
    assert 'by dn.exact="cn=gateway,dc=tovaris,dc=com" read\n    by * none' in snippet


def test_zone_init_keydir_snippet_and_options(tmp_path):
    pw = keys.write_secret(str(tmp_path / "p"), "pass\n")
    r = keys.admin("--zones", tmp_path / "z", "zone", "init", "Example.ORG", "--ca-passphrase-file",
                   pw, "--ttl", "600", "--gateway-dn", "uid=gw,ou=services,dc=example,dc=org",
                   "--ca-days", "30")
    assert r.returncode == 0, r.stderr
    assert "zone example.org created" in r.stdout
    d = tmp_path / "z" / "example.org"
    snippet = (d / "slapd.conf").read_text()
    assert "database keydir\n" in snippet
    assert "keydir-trust-anchor /etc/ldap/keydir/example.org-ca.crt" in snippet
    assert 'dn.exact="uid=gw,ou=services,dc=example,dc=org"' in snippet
    assert "keydirTTL: 600\n" in (d / "zone.ldif").read_text()
    end = keys.run(["openssl", "x509", "-in", str(d / "ca.crt"), "-noout", "-checkend",
                    str(29 * 86400)])
    assert end.returncode == 0  # valid for the 30 days asked, RSA by default
    assert "rsa" in keys.run(["openssl", "x509", "-in", str(d / "ca.crt"), "-noout",
                              "-text"]).stdout.lower()


def test_zone_init_bad_input(tmp_path, zone):
    pw = zone.ca_pass
    zones = zone.zones
    before = snapshot(zones)
    for domain in ("bad_domain.com", "x..com", "x-.com", "dc=x,dc=com", ""):
        assert_fails(keys.admin("--zones", zones, "zone", "init", domain, "--ca-passphrase-file",
                                pw), "not a valid domain")
    assert_fails(keys.admin("--zones", zones, "zone", "init", "tovaris.com",
                            "--ca-passphrase-file", pw), "exists already")
    assert_fails(keys.admin("--zones", zones, "zone", "init", "new.com"),
                 "--ca-passphrase-file")
    empty = keys.write_secret(str(tmp_path / "empty"), "\n")
    assert_fails(keys.admin("--zones", zones, "zone", "init", "new.com", "--ca-passphrase-file",
                            empty), "empty")
    assert_fails(keys.admin("--zones", zones, "zone", "init", "new.com", "--ca-passphrase-file",
                            str(tmp_path / "missing")), "No such file")
    # the one rule for secret files (base/secret_file.h): not for everyone's eyes
    shared = keys.write_secret(str(tmp_path / "shared"), "zone CA passphrase\n")
    os.chmod(shared, 0o644)
    assert_fails(keys.admin("--zones", zones, "zone", "init", "new.com", "--ca-passphrase-file",
                            shared), "readable by everyone (mode 0644)")
    os.chmod(shared, 0o602)
    assert_fails(keys.admin("--zones", zones, "zone", "init", "new.com", "--ca-passphrase-file",
                            shared), "writable by everyone (mode 0602)")
    assert_fails(keys.admin("--zones", zones, "zone", "init", "new.com", "--ca-passphrase-file",
                            pw, "--database-type", "bdb"), "keydir or mdb")
    assert_fails(keys.admin("--zones", zones, "zone", "init", "new.com", "--ca-passphrase-file",
                            pw, "--key-type", "dsa"), "unknown key type")
    assert_fails(keys.admin("--zones", zones, "zone", "init", "new.com", "--ca-passphrase-file",
                            pw, "--days", "3"), "--days does not apply to zone init")
    assert snapshot(zones) == before
    # An unwritable zones root: its parent is a regular file.
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert_fails(keys.admin("--zones", blocker / "zones", "zone", "init", "new.com",
                            "--ca-passphrase-file", pw), "cannot create the zones directory")
    assert sorted(os.listdir(tmp_path)) == sorted(
        ["ca.pass", "gateway.kek", "bind.pw", "zones", "empty", "shared", "file"])


def test_usage_errors(zone):
    for args in ([], ["zone"], ["member", "explode", "a@b.c"], ["member", "add"],
                 ["member", "add", "a@tovaris.com", "b@tovaris.com"], ["--no-such-option"]):
        r = zone.admin(*args)
        assert r.returncode == 2, args
        assert "usage:" in r.stderr or "takes exactly one" in r.stderr, r.stderr
    r = keys.admin("--help")
    assert r.returncode == 0 and "member bulk" in r.stdout


# -- secret new -------------------------------------------------------------

def test_secret_new(tmp_path):
    os.chdir(tmp_path)
    r = keys.admin("secret", "new", "tovaris-root")
    assert r.returncode == 0, r.stderr
    path = tmp_path / "tovaris-root.key"
    assert r.stdout == f"keychase-key tovaris-root {path}\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    text = path.read_text()
    assert text.endswith("\n") and len(base64.b64decode(text.strip(), validate=True)) == 32
    # Never the same twice; never overwrites without --force.
    other = tmp_path / "other.key"
    assert keys.admin("secret", "new", "tovaris-root", "-o", other).returncode == 0
    assert other.read_text() != text
    assert_fails(keys.admin("secret", "new", "tovaris-root"), "exists already")
    assert path.read_text() == text
    assert keys.admin("secret", "new", "tovaris-root", "--force").returncode == 0
    assert path.read_text() != text
    for bad in ("", "with space", "a/b", "x" * 65):
        assert_fails(keys.admin("secret", "new", bad), "not a usable key name")
    assert_fails(keys.admin("secret", "new", "k", "-o", tmp_path / "no" / "dir" / "k.key"),
                 "cannot write")
    assert sorted(os.listdir(tmp_path)) == ["other.key", "tovaris-root.key"]


# -- member add ---------------------------------------------------------------

def test_member_add_ldif(zone, tmp_path):
    out = tmp_path / "kconley.ldif"
    r = zone.admin("member", "add", "kconley@Tovaris.COM", "--cn", "Kim Conley", "--days", "30",
                   "-o", out, *zone.issue_args())
    assert r.returncode == 0, r.stderr
    assert "SHA-256" in r.stderr and r.stdout == ""
    ldif = out.read_text()
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    assert ldif.startswith("dn: mail=kconley@tovaris.com,dc=tovaris,dc=com\n")
    for line in ("objectClass: keydirMember", "mail: kconley@tovaris.com", "cn: Kim Conley",
                 "keydirStatus: active"):
        assert line + "\n" in ldif
    der = keys.raw_ldif_values(ldif, "userCertificate;binary")
    # userSMIMECertificate: RFC 2798's PKCS#7, the certificate and the zone CA
    smime = keys.raw_ldif_values(ldif, "userSMIMECertificate")
    assert der and len(smime) == 1
    assert keys.pkcs7_certs(smime[0]) == [der[0], zone.ca_der()], "not cert + zone CA"
    assert keys.raw_ldif_values(ldif, "keydirFingerprint") == [
        hashlib.sha256(der[0]).hexdigest().encode()]
    p = subprocess.run(["openssl", "x509", "-inform", "der", "-noout", "-text", "-enddate"],
                       input=der[0], capture_output=True)
    t = p.stdout.decode()
    assert "email:kconley@tovaris.com" in t
    assert "E-mail Protection" in t
    assert "Digital Signature, Key Encipherment" in t  # RSA by default
    assert "Public-Key: (3072 bit)" in t
    assert "CA:FALSE" in t
    with open(os.path.join(zone.dir, "issued.log")) as f:
        log = f.read().split()
    assert log[1:4] == ["issue", "kconley@tovaris.com", hashlib.sha256(der[0]).hexdigest()]


def test_member_add_stdout_and_p256(zone):
    r = zone.admin("member", "add", "ec@tovaris.com", "--key-type", "p256", *zone.issue_args())
    assert r.returncode == 0, r.stderr
    der = keys.raw_ldif_values(r.stdout, "userCertificate;binary")[0]
    t = subprocess.run(["openssl", "x509", "-inform", "der", "-noout", "-text"], input=der,
                       capture_output=True).stdout.decode()
    assert "prime256v1" in t and "Key Agreement" in t


def test_member_add_bad_input_leaves_nothing(zone, tmp_path):
    ok = zone.admin("member", "add", "taken@tovaris.com", "--key-type", "p256",
                    "-o", tmp_path / "taken.ldif", *zone.issue_args())
    assert ok.returncode == 0, ok.stderr
    wrong = keys.write_secret(str(tmp_path / "wrong.pass"), "not the CA passphrase\n")
    out = tmp_path / "out"
    out.mkdir()
    before = snapshot(zone.zones, out)
    ia = zone.issue_args()
    cases = [
        (["member", "add", "no-at-sign", "-o", out / "x", *ia], ["not a valid e-mail address"]),
        (["member", "add", "a b@tovaris.com", "-o", out / "x", *ia], ["not a valid e-mail"]),
        (["member", "add", "a@tovaris..com", "-o", out / "x", *ia], ["not a valid e-mail"]),
        (["member", "add", "a@elsewhere.com", "-o", out / "x", *ia], ["unknown zone elsewhere.com"]),
        (["member", "add", "a@tovaris.com", "-o", out / "x", "--ca-passphrase-file", wrong,
          "--p12-password-file", zone.kek], ["wrong CA passphrase"]),
        (["member", "add", "taken@tovaris.com", "-o", out / "x", *ia], ["exists already"]),
        (["member", "add", "a@tovaris.com", "-o", out / "no" / "such" / "dir", *ia],
         ["cannot write"]),
        (["member", "add", "a@tovaris.com", "-o", out, *ia], ["is a directory"]),
        (["member", "add", "a@tovaris.com", "-o", out / "x", "--ca-passphrase-file",
          zone.ca_pass], ["--p12-password-file"]),
        (["member", "add", "a@tovaris.com", "-o", out / "x", "--p12-password-file", zone.kek],
         ["--ca-passphrase-file"]),
        (["member", "add", "a@tovaris.com", "-o", out / "x", "--valid-from", "yesterday", *ia],
         ["--valid-from"]),
        (["member", "add", "a@tovaris.com", "-o", out / "x", "--days", "0", *ia], ["--days"]),
        (["member", "add", "a@tovaris.com", "-o", out / "x", "--days", "100000", *ia],
         ["outside the zone CA's validity"]),
        (["member", "add", "a@tovaris.com", "-o", out / "x", "--jobs", "2", *ia],
         ["--jobs does not apply to member add"]),
        (["member", "add", "a@tovaris.com", "-o", out / "x", "-H", "ldap://127.0.0.1:1", *ia],
         ["exclude each other"]),
        (["member", "add", "a@tovaris.com", "-D", "cn=x", *ia], ["-y FILE"]),
    ]
    for args, words in cases:
        assert_fails(zone.admin(*args), *words)
    assert snapshot(zone.zones, out) == before


def test_member_add_over_ldap(zone, server, tmp_path):
    r = zone.admin("member", "add", "kconley@tovaris.com", *zone.ldap_args(server),
                   *zone.issue_args())
    assert r.returncode == 0, r.stderr
    assert "added to " + server.uri in r.stderr
    got = ldaptools.search(server.uri, zone.suffix, "(mail=kconley@tovaris.com)",
                           ["keydirStatus", "keydirFingerprint", "objectClass"])
    assert got.rc == 0 and len(got.entries) == 1
    attrs = got.entries[0][1]
    assert attrs["keydirStatus"] == ["active"] and attrs["objectClass"] == ["keydirMember"]
    # The same member again: the directory refuses, nothing else changes.
    before = snapshot(zone.zones)
    assert_fails(zone.admin("member", "add", "kconley@tovaris.com", *zone.ldap_args(server),
                            *zone.issue_args()), "exists already in " + server.uri)
    assert snapshot(zone.zones) == before
    assert ldaptools.search(server.uri, zone.suffix, "(keydirFingerprint=*)",
                            ["keydirFingerprint"]).entries[0][1] == {
        "keydirFingerprint": attrs["keydirFingerprint"]}
    # A wrong bind password, a server that is not there: exit 2, nothing added.
    badpw = keys.write_secret(str(tmp_path / "bad.pw"), "wrong")
    assert_fails(zone.admin("member", "add", "new@tovaris.com", "-H", server.uri, "-D",
                            zone.rootdn, "-y", badpw, *zone.issue_args()), "Invalid credentials")
    dead = f"ldap://127.0.0.1:{free_port()}"
    assert_fails(zone.admin("member", "add", "new@tovaris.com", "-H", dead, "-D", zone.rootdn,
                            "-y", zone.bindpw, "--timeout", "3", *zone.issue_args()),
                 "Can't contact LDAP server")
    assert_fails(zone.admin("member", "add", "new@tovaris.com", "-H", "http://x/", "-D",
                            zone.rootdn, "-y", zone.bindpw, *zone.issue_args()), "LDAP URI")
    assert snapshot(zone.zones) == before
    assert ldaptools.search(server.uri, zone.suffix, "(mail=new@tovaris.com)").entries == []


def test_member_commands_need_ldap_and_member(zone, server):
    for cmd in ("revoke", "rekey", "show"):
        args = ["member", cmd, "ghost@tovaris.com"]
        if cmd == "rekey":
            args += zone.issue_args()
        assert_fails(zone.admin(*args), "-H URI")
        r = zone.admin(*args, *zone.ldap_args(server))
        assert r.returncode == (1 if cmd == "show" else 2), r.stderr
        assert "no member ghost@tovaris.com" in r.stderr
        assert_fails(zone.admin("member", cmd, "ghost@nowhere.org", *zone.ldap_args(server)),
                     "unknown zone")
    # An entry at a member's DN that is not a keydirMember is left alone.
    r = ldaptools.add(server.uri, "dn: mail=person@tovaris.com,dc=tovaris,dc=com\n"
                      "objectClass: inetOrgPerson\nmail: person@tovaris.com\ncn: p\nsn: p\n",
                      zone.rootdn)
    assert r.rc == 0, r.err
    assert_fails(zone.admin("member", "revoke", "person@tovaris.com", *zone.ldap_args(server)),
                 "is not a keydirMember entry")
    assert "keydirStatus" not in ldaptools.search(server.uri, zone.suffix,
                                                  "(mail=person@tovaris.com)").entries[0][1]


def test_member_bulk_bad_input_leaves_nothing(zone, tmp_path):
    out = tmp_path / "bulk.ldif"
    before = snapshot(zone.zones)

    def bulk(lines, *extra):
        lst = tmp_path / "list"
        lst.write_text("".join(line + "\n" for line in lines))
        return zone.admin("member", "bulk", lst, "--key-type", "p256", *extra, *zone.issue_args())

    assert_fails(bulk(["a@tovaris.com", "# comment", "bad address@tovaris.com"], "-o", out),
                 "list:3:", "not a valid e-mail address")
    assert_fails(bulk(["a@tovaris.com", "a@tovaris.com"], "-o", out), "list:2:", "listed twice")
    assert_fails(bulk(["a@tovaris.com", "b@other.com"], "-o", out), "not in the zone tovaris.com")
    assert_fails(bulk(["a@nowhere.com"], "-o", out), "unknown zone nowhere.com")
    assert_fails(bulk([], "-o", out), "no address")
    assert_fails(bulk(["a@tovaris.com"]), "needs -o FILE")
    assert_fails(bulk(["a@tovaris.com"], "-o", tmp_path / "no" / "x"), "cannot write")
    assert not out.exists()
    assert snapshot(zone.zones) == before
    # Already issued: refused as a whole, unless --force.
    r = bulk(["a@tovaris.com Alice A.", "b@tovaris.com"], "-o", out, "--jobs", "2")
    assert r.returncode == 0, r.stderr
    assert "cn: Alice A.\n" in out.read_text()
    mid = snapshot(zone.zones, out)
    assert_fails(bulk(["c@tovaris.com", "b@tovaris.com"], "-o", out), "b@tovaris.com exists")
    assert snapshot(zone.zones, out) == mid
    assert bulk(["b@tovaris.com"], "-o", out, "--force").returncode == 0


def test_member_show_and_rekey_with_pkcs7_smime_value(zone, server, tmp_path):
    """A member whose userSMIMECertificate is the RFC 2798 PKCS#7 form (as
    Outlook writes it): show lists the certificate inside once, rekey
    records that certificate (not the PKCS#7 blob) as revoked."""
    address = "outlook@tovaris.com"
    dn = "mail=outlook@tovaris.com,dc=tovaris,dc=com"
    r = zone.admin("member", "add", address, *zone.ldap_args(server), *zone.issue_args())
    assert r.returncode == 0, r.stderr
    der = ldaptools.search(server.uri, dn, scope="base", attrs=["userCertificate;binary"]
                           ).entries[0][1]["userCertificate;binary"][0]
    der = der if isinstance(der, bytes) else der.encode()
    pem = tmp_path / "member.pem"
    pem.write_bytes(subprocess.run(["openssl", "x509", "-inform", "DER"], input=der,
                                   capture_output=True, check=True).stdout)
    p7 = subprocess.run(["openssl", "crl2pkcs7", "-nocrl", "-certfile", str(pem), "-outform",
                         "DER"], capture_output=True, check=True).stdout
    r = ldaptools.modify(server.uri, f"dn: {dn}\nchangetype: modify\n"
                         f"replace: userSMIMECertificate\n"
                         f"userSMIMECertificate:: {base64.b64encode(p7).decode()}\n", zone.rootdn)
    assert r.rc == 0, r.err
    fp = hashlib.sha256(der).hexdigest()
    r = zone.admin("member", "show", address, *zone.ldap_args(server))
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("certificate SHA-256") == 1, r.stdout
    assert f"certificate SHA-256 {fp}" in r.stdout and "malformed" not in r.stdout, r.stdout
    r = zone.admin("member", "rekey", address, *zone.ldap_args(server), *zone.issue_args())
    assert r.returncode == 0, r.stderr
    assert f"revoked certificate SHA-256 {fp}" in r.stdout, r.stdout
    assert r.stdout.count("revoked certificate SHA-256") == 1, r.stdout
    got = ldaptools.search(server.uri, dn, scope="base", attrs=["keydirRevokedCertificate;binary"],
                           extra=["-M"]).entries[0][1]
    revoked = [v if isinstance(v, bytes) else v.encode()
               for v in got["keydirRevokedCertificate;binary"]]
    assert revoked == [der]
