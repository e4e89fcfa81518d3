"""keydir-lookup against chains of real slapd servers whose entries are RFC
3296 referral objects (objectClass referral + extensibleObject, ref:
ldap://127.0.0.1:PORT/...): delegations, member pointers, chains, loops,
a chain too long, refused URL schemes, dead servers; and the certificate
checks (revoked, expired, wrong address, trust anchor). Exit 0 found, 1 not
found, 2 error."""

import base64
import hashlib
import json
import os
import subprocess

import pytest

from keydirtest import keys
from keydirtest.slapd import Slapd, free_port

DOMAIN = "tovaris.com"
ZONE_DN = "dc=tovaris,dc=com"


def domain_entry(dn, dc):
    return f"dn: {dn}\nobjectClass: domain\ndc: {dc}\n\n"


def referral(dn, rdn_line, *urls):
    refs = "".join(f"ref: {u}\n" for u in urls)
    return f"dn: {dn}\nobjectClass: referral\nobjectClass: extensibleObject\n{rdn_line}\n{refs}\n"


def delegation(to_uri, target=ZONE_DN):
    """The zone cut at dc=com: dc=tovaris,dc=com refers to `to_uri`."""
    return referral(ZONE_DN, "dc: tovaris", f"{to_uri}/{target}")


def pointer(address, to_uri):
    dn = f"mail={address},{ZONE_DN}"
    return referral(dn, f"mail: {address}", f"{to_uri}/{dn}")


def expired_cert_der(zone, workdir):
    """A certificate for e@tovaris.com from the zone CA that expired in 2020."""
    d = os.path.join(workdir, "expired")
    os.makedirs(d)
    with open(os.path.join(d, "index.txt"), "w"):
        pass
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("1000\n")
    cnf = os.path.join(d, "ca.cnf")
    with open(cnf, "w") as f:
        f.write(f"[ca]\ndefault_ca = c\n[c]\ndatabase = {d}/index.txt\nnew_certs_dir = {d}\nserial = {d}/serial\n"
                "default_md = sha256\npolicy = p\nx509_extensions = ext\nunique_subject = no\n"
                "[p]\ncommonName = supplied\n[ext]\nbasicConstraints = critical,CA:FALSE\n"
                "keyUsage = critical,digitalSignature,keyAgreement\n"
                "extendedKeyUsage = emailProtection\nsubjectAltName = email:e@tovaris.com\n")
    key, csr, pem = (os.path.join(d, n) for n in ("e.key", "e.csr", "e.pem"))
    for cmd in (["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key],
                ["openssl", "req", "-new", "-key", key, "-subj", "/CN=e@tovaris.com", "-out", csr],
                ["openssl", "ca", "-batch", "-config", cnf, "-cert", zone.ca_crt, "-keyfile",
                 os.path.join(zone.dir, "ca.key"), "-passin", "file:" + zone.ca_pass,
                 "-startdate", "20200101000000Z", "-enddate", "20200201000000Z", "-rand_serial",
                 "-notext", "-in", csr, "-out", pem]):
        r = subprocess.run(cmd, capture_output=True, text=True)
        assert r.returncode == 0, (cmd, r.stderr)
    return subprocess.run(["openssl", "x509", "-in", pem, "-outform", "der"],
                          capture_output=True).stdout


class Net:
    """Servers created up front (so that their URIs are known), loaded with
    slapadd and started by start()."""

    def __init__(self, make_slapd):
        self.make_slapd = make_slapd
        self.servers = {}

    def server(self, name, suffix, mdb=False):
        """A server of the tests' database type (or back-mdb when `mdb`)."""
        s = self.make_slapd(name=name, modules=("back_mdb.la",) if mdb else keys.modules())
        database = keys.database_mdb if mdb else keys.database
        s.add_database(database(suffix, s.db_dir("db")))
        s.suffix = suffix
        self.servers[name] = s
        return s

    def load(self, name, ldif):
        s = self.servers[name]
        s.tool("add", "-q", "-b", s.suffix, input=ldif)

    def start(self):
        for s in self.servers.values():
            s.start()


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("lookupzone"))
    z = keys.Zone(workdir, DOMAIN, key_type="p256")
    lst = os.path.join(workdir, "list")
    with open(lst, "w") as f:
        f.write("a@tovaris.com\nother@tovaris.com\nr@tovaris.com\n")
    out = os.path.join(workdir, "members.ldif")
    r = z.admin("member", "bulk", lst, "-o", out, "--key-type", "p256", *z.issue_args())
    assert r.returncode == 0, r.stderr
    with open(out) as f:
        members = f.read()
    # r@ is revoked.
    blocks = members.strip().split("\n\n")
    blocks = [b.replace("keydirStatus: active", "keydirStatus: revoked")
              if "\nmail: r@tovaris.com\n" in b else b for b in blocks]
    members = "\n\n".join(blocks) + "\n\n"
    other_der = keys.raw_ldif_values(members, "userCertificate;binary")[1]
    z.members_ldif = z.zone_ldif() + members
    # Data a keydir database refuses to store, as a foreign or careless
    # server may serve it: m@ carries other@'s certificate, e@ an expired one.
    z.foreign_ldif = z.zone_ldif() + (
        f"dn: mail=m@tovaris.com,{ZONE_DN}\nobjectClass: keydirMember\nmail: m@tovaris.com\n"
        f"userCertificate;binary:: {keys.b64(other_der)}\n\n"
        f"dn: mail=e@tovaris.com,{ZONE_DN}\nobjectClass: keydirMember\nmail: e@tovaris.com\n"
        f"userCertificate;binary:: {keys.b64(expired_cert_der(z, workdir))}\n\n")
    a_der = keys.raw_ldif_values(members, "userCertificate;binary")[0]
    z.a_fingerprint = hashlib.sha256(a_der).hexdigest()
    return z


@pytest.fixture
def net(make_slapd):
    return Net(make_slapd)


def holder(net, zone, name="zone"):
    s = net.server(name, ZONE_DN)
    net.load(name, zone.members_ldif)
    return s


def foreign(net, zone):
    s = net.server("foreign", ZONE_DN, mdb=True)
    net.load("foreign", zone.foreign_ldif)
    return s


def lookup_json(*args):
    r = keys.lookup("--json", *args)
    return r, json.loads(r.stdout)


def test_direct_lookup_prints_pem_and_fingerprint(net, zone, tmp_path):
    z = holder(net, zone)
    net.start()
    r = keys.lookup("-H", z.uri, "a@tovaris.com")
    assert r.returncode == 0, r.stderr
    assert f"fingerprint: {zone.a_fingerprint}\n" in r.stdout
    assert f"dn: mail=a@tovaris.com,{ZONE_DN}\n" in r.stdout
    assert "(0 referral hops)" in r.stdout
    pem = tmp_path / "a.pem"
    pem.write_text(r.stdout)  # openssl skips the lines before BEGIN
    v = subprocess.run(["openssl", "verify", "-CAfile", zone.ca_crt, str(pem)],
                       capture_output=True, text=True)
    assert v.returncode == 0 and ": OK" in v.stdout, v.stdout + v.stderr
    der = subprocess.run(["openssl", "x509", "-in", str(pem), "-outform", "der"],
                         capture_output=True).stdout
    assert hashlib.sha256(der).hexdigest() == zone.a_fingerprint
    # The domain of the address is case-insensitive; -b may be given.
    assert keys.lookup("-H", z.uri, "-b", ZONE_DN, "a@TOVARIS.com").returncode == 0
    r, j = lookup_json("-H", z.uri, "a@tovaris.com")
    assert r.returncode == 0 and j["found"] is True
    assert j["certificates"][0]["fingerprint"] == zone.a_fingerprint
    assert j["certificates"][0]["pem"].startswith("-----BEGIN CERTIFICATE-----\n")


def test_not_found_and_unusable(net, zone):
    z = holder(net, zone)
    f = foreign(net, zone)
    net.start()
    r = keys.lookup("-H", z.uri, "nobody@tovaris.com")
    assert r.returncode == 1 and "no entry found" in r.stderr and r.stdout == ""
    r, j = lookup_json("-H", z.uri, "r@tovaris.com")
    assert r.returncode == 1 and j["found"] is False
    assert j["rejected"][0]["reason"] == "the member is revoked"
    r = keys.lookup("-H", f.uri, "e@tovaris.com")
    assert r.returncode == 1 and "expired on 2020-02-01 00:00:00 UTC" in r.stderr, r.stderr
    r = keys.lookup("-H", f.uri, "m@tovaris.com")
    assert r.returncode == 1, r.stderr
    assert "the certificate is for other@tovaris.com, not for m@tovaris.com" in r.stderr
    # A base outside the server's naming contexts: nothing there.
    assert keys.lookup("-H", z.uri, "-b", "dc=elsewhere,dc=org", "a@tovaris.com").returncode == 1


def test_trust_anchor(net, zone, tmp_path):
    z = holder(net, zone)
    net.start()
    assert keys.lookup("-H", z.uri, "--trust-anchor", zone.ca_crt, "a@tovaris.com").returncode == 0
    other = keys.Zone(str(tmp_path), "tovaris.com", key_type="p256")
    r = keys.lookup("-H", z.uri, "--trust-anchor", other.ca_crt, "a@tovaris.com")
    assert r.returncode == 1 and "does not chain to a trust anchor" in r.stderr, r.stderr
    r = keys.lookup("-H", z.uri, "--trust-anchor", str(tmp_path / "none.pem"), "a@tovaris.com")
    assert r.returncode == 2 and "none.pem" in r.stderr


def test_delegation_referral(net, zone):
    z = holder(net, zone)
    root = net.server("root", "dc=com")
    net.load("root", domain_entry("dc=com", "com") + delegation(z.uri))
    net.start()
    r, j = lookup_json("-H", root.uri, "a@tovaris.com")
    assert r.returncode == 0, r.stderr
    c = j["certificates"][0]
    assert (c["hops"], c["server"], c["fingerprint"]) == (1, z.uri, zone.a_fingerprint)
    # Stock ldapsearch sees the same referral (and -C follows it).
    s = subprocess.run(["ldapsearch", "-x", "-LLL", "-H", root.uri, "-b", ZONE_DN,
                        "(mail=a@tovaris.com)", "mail"], capture_output=True, text=True)
    assert s.returncode == 10 and f"{z.uri}/{ZONE_DN}" in s.stdout + s.stderr


def test_member_pointers_and_a_chain(net, zone):
    z = holder(net, zone)
    ptr = net.server("pointers", ZONE_DN)
    net.load("pointers", domain_entry(ZONE_DN, "tovaris")
             + pointer("other@tovaris.com", z.uri) + pointer("a@tovaris.com", z.uri))
    root = net.server("root", "dc=com")
    net.load("root", domain_entry("dc=com", "com") + delegation(ptr.uri))
    net.start()
    # The pointer server answers the zone search with one continuation
    # reference per member pointer; only a@'s is followed.
    r, j = lookup_json("-H", ptr.uri, "a@tovaris.com")
    assert r.returncode == 0, r.stderr
    assert j["certificates"][0]["hops"] == 1 and j["certificates"][0]["server"] == z.uri
    # root -> pointer server -> zone server.
    r, j = lookup_json("-H", root.uri, "a@tovaris.com")
    assert r.returncode == 0, r.stderr
    assert j["certificates"][0]["hops"] == 2
    assert keys.lookup("-H", root.uri, "nobody@tovaris.com").returncode == 1


def test_referral_loop_refused(net):
    one = net.server("loop1", "dc=com")
    two = net.server("loop2", "dc=com")
    three = net.server("self", "dc=com")
    net.load("loop1", domain_entry("dc=com", "com") + delegation(two.uri))
    net.load("loop2", domain_entry("dc=com", "com") + delegation(one.uri))
    net.load("self", domain_entry("dc=com", "com") + delegation(three.uri))
    net.start()
    for start in (one, three):
        r, j = lookup_json("-H", start.uri, "a@tovaris.com")
        assert r.returncode == 2, r.stderr
        assert "referral loop refused" in j["error"] and "referral loop refused" in r.stderr
        assert j["found"] is False


def test_chain_too_long(net, zone):
    z = holder(net, zone)
    chain = [net.server(f"hop{i}", "dc=com") for i in range(5)]
    for i, s in enumerate(chain):
        nxt = chain[i + 1].uri if i + 1 < len(chain) else z.uri
        net.load(f"hop{i}", domain_entry("dc=com", "com") + delegation(nxt))
    net.start()
    r, j = lookup_json("-H", chain[0].uri, "a@tovaris.com")
    assert r.returncode == 0, r.stderr
    assert j["certificates"][0]["hops"] == 5
    r = keys.lookup("-H", chain[0].uri, "--max-hops", "3", "a@tovaris.com")
    assert r.returncode == 2 and "more than 3 referral hops" in r.stderr, r.stderr
    assert keys.lookup("-H", chain[0].uri, "--max-hops", "5", "a@tovaris.com").returncode == 0


def test_only_ldap_urls_followed(net):
    bad = net.server("bad", "dc=com")
    other = net.server("bad2", "dc=com")
    net.load("bad", domain_entry("dc=com", "com")
             + referral(ZONE_DN, "dc: tovaris", "ldapi:///dc=tovaris,dc=com"))
    net.load("bad2", domain_entry("dc=com", "com")
             + referral(ZONE_DN, "dc: tovaris", "http://127.0.0.1/dc=tovaris,dc=com"))
    net.start()
    for s in (bad, other):
        r = keys.lookup("-H", s.uri, "a@tovaris.com")
        assert r.returncode == 2, r.stderr
        assert "only ldap:// and ldaps:// URLs are followed" in r.stderr


def test_dead_server_and_failover(net, zone):
    z = holder(net, zone)
    dead = f"ldap://127.0.0.1:{free_port()}"
    only_dead = net.server("onlydead", "dc=com")
    failover = net.server("failover", "dc=com")
    net.load("onlydead", domain_entry("dc=com", "com") + delegation(dead))
    net.load("failover", domain_entry("dc=com", "com")
             + referral(ZONE_DN, "dc: tovaris", f"{dead}/{ZONE_DN}", f"{z.uri}/{ZONE_DN}"))
    net.start()
    r = keys.lookup("-H", only_dead.uri, "--timeout", "3", "a@tovaris.com")
    assert r.returncode == 2 and "Can't contact LDAP server" in r.stderr, r.stderr
    r, j = lookup_json("-H", failover.uri, "--timeout", "3", "a@tovaris.com")
    assert r.returncode == 0, r.stderr
    assert j["certificates"][0]["server"] == z.uri
    # The first server itself not answering.
    r = keys.lookup("-H", dead, "--timeout", "3", "a@tovaris.com")
    assert r.returncode == 2


def test_bad_arguments():
    for args in ([], ["not an address"], ["--max-hops", "-1", "a@b.com"], ["--bogus", "a@b.com"],
                 ["a@b.com", "b@b.com"]):
        r = keys.lookup(*args)
        assert r.returncode == 2, (args, r.stderr)
        assert r.stderr.startswith("keydir-lookup: "), r.stderr


def test_a_member_whose_certificate_expired_can_still_be_revoked(net, zone):
    """The validity period is checked when a certificate is written, not on
    every later change: the expired member e@ (restored with slapadd) can
    still be revoked over LDAP, and a new expired certificate is refused."""
    if keys.DB_TYPE != "keydir":
        pytest.skip("key behaviour of the keydir backend")
    s = net.server("zone", ZONE_DN)
    net.load("zone", zone.zone_ldif() + "\n" + "dn: mail=e@" +
             zone.foreign_ldif.split("dn: mail=e@")[1])
    net.start()
    z = zone
    r = z.admin("member", "revoke", "e@tovaris.com", *z.ldap_args(s))
    assert r.returncode == 0, r.stderr
    rc, got, err = keys.search_raw(s.uri, f"mail=e@tovaris.com,{ZONE_DN}", "(objectClass=*)",
                                   ["keydirStatus"], binddn=z.rootdn, extra=("-M",))
    assert rc == 0 and got[0][1]["keydirStatus"] == [b"revoked"], (got, err)
    # A certificate that is expired when it is written is still refused.
    der = keys.raw_ldif_values(zone.foreign_ldif, "userCertificate;binary")[1]
    r = subprocess.run(["ldapmodify", "-x", "-H", s.uri, "-D", z.rootdn, "-w", keys.ROOTPW],
                       input=f"dn: mail=e@tovaris.com,{ZONE_DN}\nchangetype: modify\n"
                             f"add: userSMIMECertificate\nuserSMIMECertificate:: {keys.b64(der)}\n",
                       capture_output=True, text=True)
    assert r.returncode == 19 and "expired" in r.stderr, r.stderr


def member_block(ldif, address):
    """The LDIF block of `address` in `ldif`."""
    return next(b for b in ldif.split("\n\n") if f"\nmail: {address}\n" in b + "\n") + "\n\n"


def test_slapadd_quick_trusts_only_fitting_derived_values(net, zone):
    """slapadd -q stores a member whose keydirFingerprint is the digest of
    its certificates without parsing them; a member whose fingerprint does
    not fit, or that has none, gets every check and is refused."""
    if keys.DB_TYPE != "keydir":
        pytest.skip("key behaviour of the keydir backend")
    s = net.server("zone", ZONE_DN)
    a = member_block(zone.members_ldif, "a@tovaris.com")
    other = member_block(zone.members_ldif, "other@tovaris.com")
    other_fp = hashlib.sha256(keys.raw_ldif_values(other, "userCertificate;binary")[0]).hexdigest()
    # a@ claims other@'s fingerprint: the full check finds the mismatch.
    unfolded = a.replace("\n ", "")
    assert f"keydirFingerprint: {zone.a_fingerprint}\n" in unfolded
    wrong = unfolded.replace(zone.a_fingerprint, other_fp)
    r = s.tool("add", "-q", "-b", ZONE_DN, input=zone.zone_ldif() + "\n" + wrong, check=False)
    assert r.returncode != 0 and "keydirFingerprint does not match" in r.stderr, r.stderr
    # m@ holds other@'s certificate and no derived values: checked, refused.
    m = member_block(zone.foreign_ldif, "m@tovaris.com")
    r = s.tool("add", "-q", "-b", ZONE_DN, input=m, check=False)
    assert r.returncode != 0 and "not for m@tovaris.com" in r.stderr, r.stderr
    r = s.tool("cat", "-b", ZONE_DN, check=False)
    assert r.returncode == 0 and "mail=a@" not in r.stdout and "mail=m@" not in r.stdout
    # The fitting entry is stored, and serves its certificate.
    s.tool("add", "-q", "-b", ZONE_DN, input=a)
    net.start()
    r = keys.lookup("-H", s.uri, "a@tovaris.com")
    assert r.returncode == 0 and f"fingerprint: {zone.a_fingerprint}\n" in r.stdout, r.stderr
