"""The zone CRL (issue 15 part 1): keydir-admin zone crl writes the zone
CA's CRL into the zone directory and publishes it on the zone entry as
certificateRevocationList;binary; member revoke (with the CA passphrase)
and member rekey make a new one; issued certificates name the CRL
distribution point; OpenSSL refuses a revoked certificate with the CRL.
Bad input exits 2 and leaves the zone as it was."""

import os
import subprocess

import pytest

from keydirtest.keys import assert_admin_fails as assert_fails
from keydirtest import keys, ldaptools

ADDR = "kconley@tovaris.com"
OTHER = "jdoe@tovaris.com"


@pytest.fixture
def zone(tmp_path):
    return keys.Zone(str(tmp_path), "tovaris.com", key_type="p256")


@pytest.fixture
def server(zone, make_slapd):
    """A slapd holding a zone entry as an older keydir-admin wrote it (no
    objectClass pkiCA): publishing the CRL adds the class."""
    s = make_slapd(name="crl", modules=keys.modules())
    s.add_database(keys.database(zone.suffix, s.db_dir("zone")))
    s.start()
    ldif = zone.zone_ldif()
    assert "objectClass: pkiCA\n" in ldif
    r = ldaptools.add(s.uri, ldif.replace("objectClass: pkiCA\n", ""), zone.rootdn)
    assert r.rc == 0, r.err
    return s


def crl_text(path):
    p = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", path, "-noout", "-text"],
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return p.stdout


def crl_number(text):
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if "X509v3 CRL Number" in line)
    return int(lines[i + 1].strip())


def member_cert(server, address, tmp_path):
    """The member's userCertificate as a PEM file, and its serial (hex)."""
    got = keys.search_raw(server.uri, f"mail={address},dc=tovaris,dc=com", "(objectClass=*)",
                          ["userCertificate;binary"])
    assert got[0] == 0, got
    der = got[1][0][1]["userCertificate;binary"][0]
    path = tmp_path / (address + ".pem")
    path.write_text(keys.pem(der))
    serial = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-serial"],
                            capture_output=True, text=True, check=True).stdout
    return str(path), serial.strip().split("=")[1].upper()


def verify(zone, cert, crl_pem):
    """openssl verify with the zone CA and its CRL: (rc, output)."""
    p = subprocess.run(["openssl", "verify", "-purpose", "smimeencrypt", "-crl_check", "-CAfile",
                        zone.ca_crt, "-CRLfile", crl_pem, cert], capture_output=True, text=True)
    return p.returncode, p.stdout + p.stderr


def published(server, zone):
    got = keys.search_raw(server.uri, zone.suffix, "(objectClass=*)",
                          ["objectClass", "certificateRevocationList;binary"], extra=("-s", "base"))
    assert got[0] == 0, got
    return got[1][0][1]


def test_zone_crl_revoke_and_rekey(zone, server, tmp_path):
    ldap = zone.ldap_args(server)
    for a in (ADDR, OTHER):
        r = zone.admin("member", "add", a, *ldap, *zone.issue_args())
        assert r.returncode == 0, r.stderr
    crl = os.path.join(zone.dir, "zone.crl")
    crl_pem = crl + ".pem"

    # Issued certificates name the zone entry's CRL.
    cert, serial = member_cert(server, ADDR, tmp_path)
    other_cert, other_serial = member_cert(server, OTHER, tmp_path)
    text = subprocess.run(["openssl", "x509", "-in", cert, "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout
    assert "X509v3 CRL Distribution Points" in text, text
    assert "URI:ldap:///dc=tovaris,dc=com?certificateRevocationList;binary" in text, text

    # Offline: the file only.
    r = zone.admin("zone", "crl", "tovaris.com", "--ca-passphrase-file", zone.ca_pass)
    assert r.returncode == 0, r.stderr
    assert "CRL number 1, 0 revoked certificates" in r.stdout, r.stdout
    assert "published" not in r.stdout
    assert oct(os.stat(crl).st_mode & 0o777) == "0o644"
    assert "No Revoked Certificates" in crl_text(crl)
    assert "pkiCA" not in published(server, zone)["objectClass"]
    rc, out = verify(zone, cert, crl_pem)
    assert rc == 0, out

    # Published: the entry gets objectClass pkiCA and the CRL.
    r = zone.admin("zone", "crl", "tovaris.com", "--ca-passphrase-file", zone.ca_pass, *ldap)
    assert r.returncode == 0, r.stderr
    assert "CRL number 2" in r.stdout and "published on dc=tovaris,dc=com" in r.stdout, r.stdout
    entry = published(server, zone)
    assert b"pkiCA" in entry["objectClass"], entry
    with open(crl, "rb") as f:
        assert entry["certificateRevocationList;binary"] == [f.read()]

    # member revoke with the CA passphrase: a new CRL listing the member.
    r = zone.admin("member", "revoke", ADDR, *ldap, "--ca-passphrase-file", zone.ca_pass,
                   "--crl-days", "7")
    assert r.returncode == 0, r.stderr
    assert "CRL number 3, 1 revoked certificate," in r.stdout, r.stdout
    text = crl_text(crl)
    assert crl_number(text) == 3
    assert f"Serial Number: {serial}" in text, (serial, text)
    assert other_serial not in text
    with open(crl, "rb") as f:
        assert published(server, zone)["certificateRevocationList;binary"] == [f.read()]
    rc, out = verify(zone, cert, crl_pem)
    assert rc != 0 and "certificate revoked" in out, out
    rc, out = verify(zone, other_cert, crl_pem)
    assert rc == 0, out

    # member rekey: the superseded certificate goes on the CRL, the new one not.
    r = zone.admin("member", "rekey", OTHER, *ldap, *zone.issue_args())
    assert r.returncode == 0, r.stderr
    assert "CRL number 4, 2 revoked certificates" in r.stdout, r.stdout
    (tmp_path / "new").mkdir()
    new_cert, new_serial = member_cert(server, OTHER, tmp_path / "new")
    text = crl_text(crl)
    assert other_serial in text and serial in text and new_serial not in text, text
    rc, out = verify(zone, other_cert, crl_pem)
    assert rc != 0 and "certificate revoked" in out, out
    rc, out = verify(zone, new_cert, crl_pem)
    assert rc == 0, out
    # The log holds everything: a fresh CRL lists the same two.
    os.unlink(crl)
    r = zone.admin("zone", "crl", "tovaris.com", "--ca-passphrase-file", zone.ca_pass)
    assert r.returncode == 0 and "CRL number 1, 2 revoked" in r.stdout, (r.stdout, r.stderr)


def test_revoke_without_ca_passphrase_says_the_crl_is_stale(zone, server):
    ldap = zone.ldap_args(server)
    r = zone.admin("member", "add", ADDR, *ldap, *zone.issue_args())
    assert r.returncode == 0, r.stderr
    r = zone.admin("member", "revoke", ADDR, *ldap)
    assert r.returncode == 0, r.stderr
    assert "keydir-admin zone crl tovaris.com" in r.stderr, r.stderr
    assert not os.path.exists(os.path.join(zone.dir, "zone.crl"))
    r = zone.admin("zone", "crl", "tovaris.com", "--ca-passphrase-file", zone.ca_pass, *ldap)
    assert r.returncode == 0 and "1 revoked certificate," in r.stdout, (r.stdout, r.stderr)


def test_zone_crl_bad_input(zone, server, tmp_path):
    def files():
        return sorted(n for n in os.listdir(zone.dir) if n != ".lock")

    before = files()
    ca = ["--ca-passphrase-file", zone.ca_pass]
    assert_fails(zone.admin("zone", "crl", "nowhere.org", *ca), "unknown zone nowhere.org")
    assert_fails(zone.admin("zone", "crl", "not a domain", *ca))
    assert_fails(zone.admin("zone", "crl", "tovaris.com"), "--ca-passphrase-file")
    wrong = keys.write_secret(str(tmp_path / "wrong.pass"), "not it\n")
    assert_fails(zone.admin("zone", "crl", "tovaris.com", "--ca-passphrase-file", wrong),
                 "wrong CA passphrase")
    assert_fails(zone.admin("zone", "crl", "tovaris.com", *ca, "--crl-days", "0"),
                 "--crl-days must be at least 1")
    assert_fails(zone.admin("zone", "crl", "tovaris.com", *ca, "--days", "3"),
                 "--days does not apply to zone crl")
    assert_fails(zone.admin("member", "revoke", ADDR, *zone.ldap_args(server), "--crl-days", "3",
                            "--p12-password-file", zone.kek), "does not apply to member revoke")
    assert files() == before
    # A directory that refuses: the file is written, the failure reported.
    badpw = keys.write_secret(str(tmp_path / "bad.pw"), "wrong")
    assert_fails(zone.admin("zone", "crl", "tovaris.com", *ca, "-H", server.uri, "-D",
                            zone.rootdn, "-y", badpw), "Invalid credentials")
    # A zone directory whose zone.crl is not the CA's CRL is not overwritten.
    with open(os.path.join(zone.dir, "zone.crl"), "wb") as f:
        f.write(b"garbage")
    assert_fails(zone.admin("zone", "crl", "tovaris.com", *ca), "zone.crl")
    with open(os.path.join(zone.dir, "zone.crl"), "rb") as f:
        assert f.read() == b"garbage"
