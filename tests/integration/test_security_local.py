"""Security review findings 1, 2, 7 and 12 (doc/security.md): a node that
holds zones beside a catch-all database, with keychase on every database,
attacked by anonymous clients and by another tenant's gateway.

- 1: long and odd search bases that make keychase rename a local member
  must not crash slapd (it used to free the entry's names before the new
  ones existed: a double free with a base of ~8,160 bytes);
- 2: a member entry answered through keychase from another database (or
  from outside the search's scope) is read through its holding database:
  its ACLs for the client's identity, its usable-certificate filter, never
  userPKCS12, and no filter can test what the client cannot read;
- 7: a node with keychase-require-signed answers an unsigned client's
  uncached remote lookup with an error, not with "no such address";
- 12: a chase never fetches, caches or re-serves userPKCS12, whatever the
  holder's ACLs allow.
"""

import os

import pytest

from keydirtest import keys, ldaptools
from keydirtest.fakeldap import Liar
from keydirtest.network import KeyNetwork
from keydirtest.slapd import ROOTPW, Slapd

TOVARIS = "dc=tovaris,dc=com"
EXAMPLE = "dc=example,dc=com"
KC = "kc@tovaris.com"
REVOKED = "gone@tovaris.com"
EXAMPLE_GATEWAY = "cn=gateway," + EXAMPLE
TOVARIS_GATEWAY = "cn=gateway," + TOVARIS
GATEWAY_PW = "gateway-pw"


def zone_acl(zone):
    """The access directives keydir-admin zone init wrote for the zone."""
    with open(os.path.join(zone.dir, "slapd.conf")) as f:
        text = f.read()
    start = text.index("access to")
    return "".join(line + "\n" for line in text[start:].splitlines()
                   if line.startswith("access to") or line.startswith("    by "))


def gateway_ldif(suffix):
    return (f"dn: cn=gateway,{suffix}\nobjectClass: applicationProcess\n"
            f"objectClass: simpleSecurityObject\ncn: gateway\nuserPassword: {GATEWAY_PW}\n\n")


def member_ldif(zone, address):
    r = zone.admin("member", "add", address, "--key-type", "p256", *zone.issue_args())
    assert r.returncode == 0, r.stderr
    return r.stdout.rstrip("\n") + "\n\n"


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """Zones tovaris.com and example.com, each with keydir-admin's ACLs, and
    a catch-all null-suffix database with the default ACL, all three with
    keychase (no upstream: nothing is chased)."""
    workdir = str(tmp_path_factory.mktemp("seclocal"))
    tovaris = keys.Zone(workdir, "tovaris.com", key_type="p256")
    example = keys.Zone(workdir, "example.com", key_type="p256")
    s = Slapd(name="seclocal", modules=("back_keydir.la", "keychase.la"))
    for zone, suffix, name in ((tovaris, TOVARIS, "tovaris"), (example, EXAMPLE, "example")):
        s.add_database(keys.database_keydir(suffix, s.db_dir(name),
                                            extra=zone_acl(zone) + "overlay keychase\n"))
    s.add_database(keys.database_keydir("", s.db_dir("catchall"), extra="overlay keychase\n"))
    ldif = tovaris.zone_ldif() + gateway_ldif(TOVARIS)
    ldif += member_ldif(tovaris, KC) + member_ldif(tovaris, REVOKED)
    s.tool("add", "-q", "-b", TOVARIS, input=ldif)
    s.tool("add", "-q", "-b", EXAMPLE, input=example.zone_ldif() + gateway_ldif(EXAMPLE))
    s.start()
    r = tovaris.admin("member", "revoke", REVOKED, *tovaris.ldap_args(s))
    assert r.returncode == 0, r.stderr
    yield s
    s.cleanup()


def search(node, base, filt, attrs=("*",), scope="sub", binddn=None, password=None):
    rc, entries, err = keys.search_raw(node.uri, base, filt, list(attrs), binddn=binddn,
                                       password=password, extra=["-s", scope])
    assert rc == 0, (base, filt, rc, err)
    return entries


def alive(node):
    r = ldaptools.search(node.uri, TOVARIS, "(objectClass=*)", ["dn"], scope="base")
    return node.running() and r.rc == 0


# -- finding 1: the rename of a local member ---------------------------------

@pytest.mark.parametrize("length", [8000, 8100, 8150, 8160, 8170, 8180, 8190, 8300])
def test_long_base_naming_a_local_member_does_not_crash(node, length):
    base = "ou=" + "a" * (length - len("ou=,") - len(TOVARIS)) + "," + TOVARIS
    r = ldaptools.search(node.uri, base, f"(mail={KC})", ["mail"], scope="one")
    assert alive(node), f"slapd died on a base of {len(base)} bytes: {node.log()[-2000:]}"
    # Either the member comes back renamed below the base, or nothing does
    # (the new name would be too long): never anything else.
    for dn, _ in r.entries:
        assert dn.lower() == f"mail={KC},{base}".lower()


@pytest.mark.parametrize("base", [
    "o=anything",
    "cn=\\2C\\2B\\22\\5C\\3C\\3E\\3B,o=x",
    "cn=" + "\\41" * 2000 + ",o=x",
    "cn=\u00e9\u00e8\u4e2d,o=x",
    "cn=a+sn=b,o=x",
    "ou=" + "b" * 7000 + ",cn=" + "c" * 1100,
    ",".join(["ou=x"] * 1000),
], ids=["plain", "escapes", "hex-pairs", "utf8", "multi-valued", "two-long-rdns", "1000-rdns"])
def test_odd_bases_naming_a_local_member_do_not_crash(node, base):
    ldaptools.search(node.uri, base, f"(mail={KC})", ["mail"], scope="one")
    ldaptools.search(node.uri, base, f"(|(mail={KC})(mail={REVOKED}))", ["mail"], scope="sub")
    assert alive(node), node.log()[-2000:]


# -- finding 2: the holding database's view ----------------------------------

@pytest.mark.parametrize("base", ["", "o=anything", "ou=nothing," + TOVARIS])
def test_anonymous_never_reads_a_private_key_through_keychase(node, base):
    entries = search(node, base, f"(mail={KC})", ["*", "userPKCS12"])
    assert entries, f"the member should still be found from base {base!r}"
    for dn, attrs in entries:
        assert "userCertificate;binary" in attrs, attrs.keys()
        assert not any(a.lower().startswith("userpkcs12") for a in attrs), (base, dn)


@pytest.mark.parametrize("base", ["", "o=anything"])
def test_no_presence_oracle_on_private_keys(node, base):
    assert search(node, base, f"(&(mail={KC})(userPKCS12=*))") == []
    # The same filter at the zone, for comparison: the zone's ACL already hid it.
    assert search(node, TOVARIS, f"(&(mail={KC})(userPKCS12=*))") == []


def test_another_tenants_gateway_cannot_read_the_key(node):
    entries = search(node, EXAMPLE, f"(mail={KC})", ["userPKCS12", "mail"],
                     binddn=EXAMPLE_GATEWAY, password=GATEWAY_PW)
    for _, attrs in entries:
        assert not any(a.lower().startswith("userpkcs12") for a in attrs)


def test_the_zones_own_gateway_still_reads_it_at_the_zone(node):
    entries = search(node, TOVARIS, f"(mail={KC})", ["userPKCS12"],
                     binddn=TOVARIS_GATEWAY, password=GATEWAY_PW)
    assert entries and any(a.lower().startswith("userpkcs12") for a in entries[0][1])


def test_the_zones_gateway_does_not_get_it_through_keychase(node):
    # Through keychase (a base outside the zone) not even the gateway the
    # zone's ACL names gets it: private keys never leave through keychase.
    entries = search(node, "", f"(mail={KC})", ["userPKCS12", "mail"],
                     binddn=TOVARIS_GATEWAY, password=GATEWAY_PW)
    assert entries
    for _, attrs in entries:
        assert not any(a.lower().startswith("userpkcs12") for a in attrs)


@pytest.mark.parametrize("base", ["", "o=anything", "ou=nothing," + TOVARIS, TOVARIS])
def test_revoked_certificate_is_never_served(node, base):
    for _, attrs in search(node, base, f"(mail={REVOKED})", ["userCertificate;binary"]):
        assert "userCertificate;binary" not in attrs, base


def test_hidden_attribute_is_not_served_through_keychase(node):
    # userPassword is "by * none" except auth in the zone's ACL; the
    # catch-all's ACL would let anyone read it.
    ldif = f"dn: mail={KC},{TOVARIS}\nchangetype: modify\nadd: userPassword\nuserPassword: s3cret\n"
    r = ldaptools.modify(node.uri, ldif, "cn=admin," + TOVARIS, ROOTPW)
    assert r.rc == 0, r.err
    for base in ("", "o=anything"):
        entries = search(node, base, f"(mail={KC})", ["userPassword", "mail"])
        assert entries
        assert all("userPassword" not in attrs for _, attrs in entries)
        assert search(node, base, f"(&(mail={KC})(userPassword=s3cret))") == []


# -- finding 7: require-signed gives an error, not "absent" ------------------

def test_require_signed_refuses_with_an_error(tmp_path):
    s = Slapd(name="reqsigned", workdir=str(tmp_path), modules=("back_keydir.la", "keychase.la"))
    key = os.path.join(str(tmp_path), "net.key")
    r = keys.admin("secret", "new", "network", "-o", key)
    assert r.returncode == 0, r.stderr
    s.add_database(keys.database_keydir(
        "", s.db_dir("catchall"),
        extra=(f"overlay keychase\nkeychase-key network {key}\nkeychase-sign network\n"
               "keychase-root ldap://127.0.0.1:9/\nkeychase-require-signed on\n")))
    with s:  # started here, stopped at the end
        r = ldaptools.search(s.uri, "", "(mail=someone@elsewhere.example)", ["mail"])
        assert r.rc == 53, (r.rc, r.err)  # unwillingToPerform
        assert "keychase-require-signed" in r.err
        assert r.entries == []


# -- finding 12: chases never carry private keys -----------------------------

@pytest.fixture(scope="module")
def net(tmp_path_factory):
    # The network's holders run with slapd's default ACL: anyone may read
    # userPKCS12 there, as a lax holder would allow.
    n = KeyNetwork(str(tmp_path_factory.mktemp("secnet"))).build()
    try:
        n.start().load()
        yield n
    finally:
        n.cleanup()


def test_lax_holder_really_is_lax(net):
    entries = search_at(net, "tovaris", TOVARIS, "(mail=kconley@tovaris.com)", ["userPKCS12"])
    assert entries and any(a.lower().startswith("userpkcs12") for a in entries[0][1])


def search_at(net, server, base, filt, attrs):
    rc, entries, err = keys.search_raw(net.uri(server), base, filt, list(attrs),
                                       extra=["-s", "sub"])
    assert rc == 0, (server, filt, rc, err)
    return entries


@pytest.mark.parametrize("attrs", [["userPKCS12"], ["*"], ["*", "userPKCS12", "userPassword"]])
def test_chased_and_cached_entries_carry_no_private_key(net, attrs):
    for _ in range(2):  # chased, then from the cache
        entries = search_at(net, "local", "", "(mail=kconley@tovaris.com)", attrs + ["mail"])
        assert entries, "the remote member must still be found"
        for _, got in entries:
            assert not any(a.lower().startswith(("userpkcs12", "userpassword")) for a in got)
        assert search_at(net, "local", "", "(&(mail=jdoe@tovaris.com)(userPKCS12=*))",
                         ["mail"]) == []


# -- review #15, last point: a fetched entry named like a local one -------

def test_fetched_entry_is_named_by_the_address_not_by_the_upstream(tmp_path):
    liar = Liar(f"mail={KC},{TOVARIS}")  # a local member's DN on node
    s = Slapd(name="liarclient", workdir=str(tmp_path),
              modules=("back_keydir.la", "keychase.la"))
    s.add_database(keys.database_keydir(
        "", s.db_dir("catchall"), extra=f"overlay keychase\nkeychase-root {liar.uri}\n"))
    try:
        with s:  # started here, stopped at the end
            r = ldaptools.search(s.uri, "", "(mail=x@liar.test)", ["mail"])
            assert r.rc == 0, r.err
            assert [dn.lower() for dn in r.dns()] == ["mail=x@liar.test,dc=liar,dc=test"]
    finally:
        liar.close()
