"""Real clients' certificate lookups, replayed byte for byte against a node
with its own zone and a catch-all database (KeyNetwork's `local`: the zone
sales.example.com holding ann@ and xann@, and kconley@tovaris.com chased
through its parent and the roots), and the anonymous enumeration guard
(keychase-enumeration-limit, issue 12 items 1 and 5).

The filters come from the clients' source as the notes on clients record
them (the file named at each shape)."""

import base64
import contextlib
import os
import re
import shutil
import subprocess
import tempfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import pkcs7

from keydirtest import ldaptools
from keydirtest.network import KeyNetwork

BASE = "dc=sales,dc=example,dc=com"  # the client's own base (its organisation)
LOCAL = "ann@sales.example.com"      # held by local's zone
OTHER = "xann@sales.example.com"     # also held there; matches *ann@sales.example.com*
CHASED = "kconley@tovaris.com"       # held by tovaris, chased from local
ROOTDN = "cn=admin," + BASE


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = KeyNetwork(str(tmp_path_factory.mktemp("net"))).build()
    try:
        n.start().load()
        z = n.zones["sales.example.com"]
        out = os.path.join(n.workdir, OTHER + ".ldif")
        r = z.admin("member", "add", OTHER, *z.issue_args(), "--key-type", n.key_type, "-o", out)
        assert r.returncode == 0, r.stderr
        with open(out) as f:
            r = ldaptools.add(n.uri("local"), f.read(), z.rootdn)
        assert r.rc == 0, r.err
        yield n
    finally:
        n.cleanup()


def search(net, base, filt, attrs=(), scope="sub", server="local", **kw):
    return ldaptools.search(net.uri(server), base, filt, list(attrs), scope=scope, **kw)


def member(address, base=None):
    if base is None:
        base = ",".join("dc=" + label for label in address.split("@")[1].split("."))
    return f"mail={address},{base}"


def first_certificate(attrs):
    values = attrs.get("userCertificate;binary") or attrs.get("userCertificate")
    assert values, attrs
    der = values[0]
    if isinstance(der, str):
        der = der.encode("latin-1")
    return x509.load_der_x509_certificate(der)


def names(cert):
    return [a.value for a in cert.subject.get_attributes_for_oid(x509.NameOID.EMAIL_ADDRESS)] + [
        n for e in cert.extensions if isinstance(e.value, x509.SubjectAlternativeName)
        for n in e.value.get_values_for_type(x509.RFC822Name)]


# GnuPG dirmngr 2.2.40, dirmngr/ldap.c make_one_filter(): a bare address
# (gpgsm --list-external-keys carol@tovaris.com) becomes this substring
# disjunction, searched subtree under dirmngr.conf's base, all attributes.
def dirmngr_bare(address):
    return f"(|(sn=*{address}*)(|(cn=*{address}*)(mail=*{address}*)))"


@pytest.mark.parametrize("base,dn", [
    (BASE, member(CHASED, BASE)),         # named inside the client's base
    ("", member(CHASED)),                 # the catch-all: its own DN
], ids=["own-base", "catch-all"])
def test_dirmngr_bare_address_is_chased(net, base, dn):
    r = search(net, base, dirmngr_bare(CHASED), ["*", "keydirSource"])
    assert r.rc == 0, r.err
    assert r.dns() == [dn]
    attrs = r.entries[0][1]
    assert attrs["mail"] == [CHASED]
    assert attrs["keydirSource"][0] in ("chase", "cache")
    assert CHASED in names(first_certificate(attrs))


def test_dirmngr_bare_address_of_a_local_member_answers_that_member_only(net):
    """*ann@sales.example.com* also matches xann@: the lookup of ann@ does
    not hand it out."""
    r = search(net, BASE, dirmngr_bare(LOCAL), ["mail"])
    assert r.rc == 0, r.err
    assert r.dns() == [member(LOCAL)]


def test_dirmngr_angle_form(net):
    # dirmngr/ldap.c make_one_filter(): '<carol@tovaris.com>' -> (mail=...)
    r = search(net, BASE, f"(mail={CHASED})")
    assert r.rc == 0, r.err
    assert r.dns() == [member(CHASED, BASE)]


# Evolution (evolution-data-server src/addressbook/backends/ldap/
# e-book-backend-ldap.c func_exists/func_is/func_and, from e-book-utils.c's
# (and (exists "x509Cert") (or (is "email" a) (is "email" b)))): one-level
# scope on the book's base (e-source-ldap.c default), all attributes, only
# the first userCertificate value used (cert_populate, ber_values[0]).
def test_evolution_one_level_two_recipients(net):
    filt = f"(&(userCertificate=*)(|(mail={LOCAL})(mail={CHASED})))"
    r = search(net, BASE, filt, scope="one", extra=["-z", "100"])
    assert r.rc == 0, r.err
    assert sorted(r.dns()) == sorted([member(LOCAL), member(CHASED, BASE)])
    for dn, attrs in r.entries:
        address = attrs["mail"][0]
        assert address in dn
        assert address in names(first_certificate(attrs))


# Thunderbird address autocomplete (comm-central mailnews/addrbook/src/
# nsAbLDAPAutoCompleteSearch.js, default filterTemplate
# (|(cn=%v1*%v2-*)(mail=%v1*%v2-*)(sn=%v1*%v2-*)) once the whole address
# is typed, as the notes capture it.
def test_thunderbird_autocomplete_whole_address(net):
    a = CHASED
    r = search(net, BASE, f"(|(cn={a}*)(mail={a}*)(sn={a}*))", ["cn", "mail"])
    assert r.rc == 0, r.err
    assert r.dns() == [member(CHASED, BASE)]


# Thunderbird S/MIME (comm-central mailnews/extensions/smime/
# certFetchingStatus.js): (|(mail=a)(mail=b)), size limit 2N,
# usercertificate;binary only.
def test_thunderbird_certificate_fetch(net):
    r = search(net, BASE, f"(|(mail={LOCAL})(mail={CHASED}))", ["usercertificate;binary"],
               extra=["-z", "4"])
    assert r.rc == 0, r.err
    assert sorted(r.dns()) == sorted([member(LOCAL), member(CHASED, BASE)])
    for _, attrs in r.entries:
        first_certificate(attrs)


# Outlook (Windows, no source to cite): it asks for userSMIMECertificate,
# which it reads first and parses as RFC 2798's PKCS#7, then for
# userCertificate (MS-OXLDAP 2.2.5.2; Microsoft KB 2840546 and 884738); its
# "Internet directory" search is (mail=ADDRESS) on the configured base. The
# shape is the one the notes on clients record for it.
@pytest.mark.parametrize("address,dn", [(LOCAL, member(LOCAL)), (CHASED, member(CHASED, BASE))],
                         ids=["local", "chased"])
def test_outlook_reads_a_pkcs7_user_smime_certificate(net, address, dn):
    r = search(net, BASE, f"(mail={address})",
               ["userSMIMECertificate;binary", "userCertificate;binary"])
    assert r.rc == 0, r.err
    assert r.dns() == [dn]
    attrs = r.entries[0][1]
    values = attrs.get("userSMIMECertificate;binary") or attrs.get("userSMIMECertificate")
    assert values and len(values) == 1, attrs.keys()
    value = values[0] if isinstance(values[0], bytes) else values[0].encode("latin-1")
    certs = pkcs7.load_der_pkcs7_certificates(value)
    assert certs[0] == first_certificate(attrs)  # the member's, then its zone CA
    assert len(certs) == 2 and address in names(certs[0])


def test_base_search_of_member_dns(net):
    for dn in (member(LOCAL), member(CHASED)):
        r = search(net, dn, "(objectClass=*)", ["mail"], scope="base")
        assert r.rc == 0, r.err
        assert r.dns() == [dn]


@pytest.mark.parametrize("filt", [
    "(mail=*@tovaris.com)",                                   # a domain, no address
    f"(|(cn=*{CHASED}*)(sn=*{CHASED}*))",                      # names only, no mail
    "(mail=a@tovaris.com*b@tovaris.com)",                     # two addresses
], ids=["domain", "names-only", "two-addresses"])
def test_substrings_that_are_no_lookup_are_not_chased(net, filt):
    r = search(net, "", filt, ["keydirSource"])
    assert r.rc in (0, 4), r.err
    assert [dn for dn in r.dns() if "tovaris" in dn] == []


# -- enumeration (item 5) -----------------------------------------------------

@pytest.mark.parametrize("filt", ["(mail=*)", "(mail=*@sales.example.com)", "(objectClass=*)",
                                  "(mail=*ann*)"])
def test_anonymous_enumeration_gets_no_members(net, filt):
    r = search(net, BASE, filt, ["mail"])
    assert r.rc == 4, (r.rc, r.out, r.err)  # sizeLimitExceeded, with a reason
    assert [dn for dn in r.dns() if dn.lower().startswith("mail=")] == []
    assert "keychase-enumeration-limit" in r.err + r.out


def test_anonymous_enumeration_on_a_root_gets_no_pointers(net):
    """A root's pointers name members: references to them are not
    handed out either."""
    r = search(net, "", "(mail=*)", ["mail"], server="root1")
    assert r.rc == 4, (r.rc, r.out, r.err)
    assert [dn for dn in r.dns() if "mail=" in dn] == [], r.out


def test_anonymous_structure_is_still_readable(net):
    r = search(net, BASE, "(objectClass=*)", ["dc"], scope="base")
    assert r.rc == 0, r.err
    assert r.dns() == [BASE]


def test_rootdn_still_sees_every_member(net):
    r = search(net, BASE, "(mail=*)", ["mail"], binddn=ROOTDN)
    assert r.rc == 0, r.err
    assert sorted(r.dns()) == sorted([member(LOCAL), member(OTHER)])


def test_exact_lookups_still_work_for_anonymous_clients(net):
    r = search(net, BASE, f"(mail={OTHER})", ["mail"])
    assert r.rc == 0 and r.dns() == [member(OTHER)], r.err
    r = search(net, BASE, dirmngr_bare(OTHER), ["mail"])
    assert r.rc == 0 and r.dns() == [member(OTHER)], r.err


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    """A network whose local node lets anonymous searches have 1 member."""
    n = KeyNetwork(str(tmp_path_factory.mktemp("limited")),
                   overlay_extra={"local": ["keychase-enumeration-limit 1"]}).build()
    try:
        n.start().load()
        z = n.zones["sales.example.com"]
        out = os.path.join(n.workdir, OTHER + ".ldif")
        r = z.admin("member", "add", OTHER, *z.issue_args(), "--key-type", n.key_type, "-o", out)
        assert r.returncode == 0, r.stderr
        with open(out) as f:
            r = ldaptools.add(n.uri("local"), f.read(), z.rootdn)
        assert r.rc == 0, r.err
        yield n
    finally:
        n.cleanup()


def test_enumeration_limit_bounds_anonymous_searches(limited):
    r = search(limited, BASE, "(mail=*)", ["mail"])
    assert r.rc == 4, (r.rc, r.err)
    assert len(r.dns()) == 1
    # paging does not get the rest: a page of one member, then no more
    r = search(limited, BASE, "(mail=*)", ["mail"], extra=["-E", "pr=1/noprompt"])
    assert len([dn for dn in r.dns() if dn.startswith("mail=")]) == 1, r.out
    # a lookup still gets its member, and the other one only within the limit
    r = search(limited, BASE, dirmngr_bare(LOCAL), ["mail"])
    assert r.rc == 0, r.err
    assert member(LOCAL) in r.dns()


# -- the real gpgsm through dirmngr ------------------------------------------

@contextlib.contextmanager
def gnupg_home(net):
    """A GnuPG home whose dirmngr.conf points at local's zone base (the
    ldapserver line, as the notes on clients captured it); yields the
    environment to run GnuPG's tools in, and stops what they started."""
    home = tempfile.mkdtemp(prefix="gs", dir="/tmp")  # short: sockets live there
    try:
        os.chmod(home, 0o700)
        port = net.servers["local"].port
        with open(os.path.join(home, "dirmngr.conf"), "w") as f:
            f.write(f"ldapserver 127.0.0.1:{port}:::{BASE}:plain\n")
        yield dict(os.environ, GNUPGHOME=home)
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True,
                       timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def gpgsm_lookup(net, pattern):
    """gpgsm --list-external-keys PATTERN; returns (exit status, output)."""
    with gnupg_home(net) as env:
        r = subprocess.run(["gpgsm", "--batch", "--list-external-keys", pattern],
                           capture_output=True, text=True, timeout=60, env=env)
        return r.returncode, r.stdout + r.stderr


@pytest.mark.skipif(not shutil.which("gpgsm"), reason="gpgsm is not installed")
@pytest.mark.parametrize("pattern", [LOCAL, CHASED, f"<{CHASED}>"],
                         ids=["bare-local", "bare-chased", "angle-chased"])
def test_gpgsm_list_external_keys(net, pattern):
    rc, out = gpgsm_lookup(net, pattern)
    address = pattern.strip("<>")
    assert rc == 0, out
    assert address in out.lower(), out
    assert OTHER not in out.lower()


def dirmngr_client_lookup(net, pattern):
    """dirmngr-client --lookup PATTERN against a dirmngr started for it
    (Assuan LOOKUP: dirmngr builds the same filters as for gpgsm,
    dirmngr/ldap.c); returns (exit status, output)."""
    with gnupg_home(net) as env:
        r = subprocess.run(["gpgconf", "--launch", "dirmngr"], capture_output=True, text=True,
                           timeout=30, env=env)
        assert r.returncode == 0, r.stderr
        r = subprocess.run(["dirmngr-client", "--lookup", "--pem", pattern],
                           capture_output=True, text=True, timeout=60, env=env)
        return r.returncode, r.stdout + r.stderr


@pytest.mark.skipif(not shutil.which("dirmngr-client"), reason="dirmngr-client is not installed")
@pytest.mark.parametrize("pattern", [LOCAL, CHASED], ids=["local", "chased"])
def test_dirmngr_client_lookup(net, pattern):
    rc, out = dirmngr_client_lookup(net, pattern)
    assert rc == 0, out
    # --pem prints each certificate's base64 body, blocks apart
    blocks = [b for b in out.split("\n\n") if re.fullmatch(r"[A-Za-z0-9+/=\n]+", b.strip())]
    certs = [x509.load_der_x509_certificate(base64.b64decode(b)) for b in blocks]
    assert certs, out
    assert any(pattern in names(c) for c in certs), out
    assert not any(OTHER in names(c) for c in certs)
