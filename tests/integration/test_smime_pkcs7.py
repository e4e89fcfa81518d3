"""userSMIMECertificate in the RFC 2798 form (a PKCS#7 SignedData, as
Outlook writes and reads it) and as bare DER: accepted, served back as
written, refused precisely when broken, the derived attributes computed
from its certificates; certificate values go out usable first, newest
first (Evolution takes only the first)."""

import base64
import datetime
import hashlib
import json
import os
import subprocess

import pytest

from keydirtest import ldaptools
from keydirtest.mailgw import MailPki
from keydirtest.slapd import ROOTPW, Slapd, database_keydir

BASE = "dc=example,dc=com"
OLD = "dc=old,dc=test"  # keydir-allow-expired: holds an expired certificate
ADMIN = "cn=admin," + BASE
OLD_ADMIN = "cn=admin," + OLD
# What Outlook asks for (doc: clients-and-ecosystem, Outlook row).
OUTLOOK_ATTRS = ["userSMIMECertificate;binary", "userCertificate;binary"]


def pkcs7(*crts, workdir):
    """`openssl crl2pkcs7 -nocrl` of the PEM files `crts` (none: an empty
    SignedData), as DER."""
    args = ["openssl", "crl2pkcs7", "-nocrl", "-outform", "DER"]
    for c in crts:
        args += ["-certfile", c]
    if not crts:  # crl2pkcs7 -nocrl reads no input when given no file
        args += ["-in", "/dev/null"]
    r = subprocess.run(args, capture_output=True, check=True)
    return r.stdout


def print_certs(der, workdir):
    """The PEM certificates `openssl pkcs7 -print_certs` finds in `der`."""
    path = os.path.join(workdir, "value.p7")
    with open(path, "wb") as f:
        f.write(der)
    r = subprocess.run(["openssl", "pkcs7", "-inform", "DER", "-in", path, "-print_certs"],
                       capture_output=True, text=True, check=True)
    return [b[b.index("-----BEGIN"):].strip() for b in r.stdout.split("\n\n")
            if "BEGIN CERTIFICATE" in b]


def pem_blocks(*crts):
    out = []
    for c in crts:
        with open(c) as f:
            text = f.read()
        out.append(text[text.index("-----BEGIN"):].strip())
    return out


def b64(v):
    return base64.b64encode(v).decode()


def values(attrs, name):
    """The values of `name` whatever the case and ;binary, as bytes."""
    out = []
    for k, vs in attrs.items():
        if k.lower().split(";")[0] == name.lower():
            # parse_ldif gives str for values that are valid UTF-8
            out += [v if isinstance(v, bytes) else v.encode() for v in vs]
    return out


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("smime-pkcs7"))
    pki = MailPki(os.path.join(workdir, "pki"))
    s = Slapd(name="smime", workdir=os.path.join(workdir, "slapd"))
    s.add_database(database_keydir(BASE, s.db_dir("main")))
    s.add_database(database_keydir(OLD, s.db_dir("old"), extra="keydir-allow-expired on"))
    s.start()
    for suffix, admin in ((BASE, ADMIN), (OLD, OLD_ADMIN)):
        dc = suffix.split(",")[0].split("=")[1]
        r = ldaptools.add(s.uri, f"dn: {suffix}\nobjectClass: dcObject\nobjectClass: organization"
                          f"\ndc: {dc}\no: {dc}\n", admin)
        assert r.rc == 0, r.err
    yield {"slapd": s, "pki": pki, "workdir": workdir}
    s.stop()


def member_entry(dn, address, user_certs=(), smime_values=()):
    lines = [f"dn: {dn}", "objectClass: keydirMember", f"mail: {address}", f"cn: {address}"]
    lines += [f"userCertificate;binary:: {b64(d)}" for d in user_certs]
    lines += [f"userSMIMECertificate:: {b64(v)}" for v in smime_values]
    return "\n".join(lines) + "\n"


def read(node, dn, attrs=("*",), extra=()):
    r = ldaptools.search(node["slapd"].uri, dn, scope="base", attrs=list(attrs), extra=list(extra))
    assert r.rc == 0, r.err
    return r.entries[0][1]


def test_pkcs7_value_stored_and_served_to_outlook(node):
    pki, w = node["pki"], node["workdir"]
    m = pki.member("p7@example.com")
    value = pkcs7(m["crt"], workdir=w)
    dn = f"mail=p7@example.com,{BASE}"
    r = ldaptools.add(node["slapd"].uri, member_entry(dn, m["address"], [m["der"]], [value]), ADMIN)
    assert r.rc == 0, r.err
    got = read(node, dn, OUTLOOK_ATTRS)
    smime = values(got, "userSMIMECertificate")
    assert smime == [value]
    assert print_certs(smime[0], w) == pem_blocks(m["crt"])
    assert values(got, "userCertificate") == [m["der"]]
    e = read(node, dn)
    assert e["keydirFingerprint"] == [hashlib.sha256(m["der"]).hexdigest()]


def test_pkcs7_only_member_gets_derived_attributes(node):
    pki, w = node["pki"], node["workdir"]
    m = pki.member("only-p7@example.com")
    value = pkcs7(m["crt"], pki.ca_crt, workdir=w)  # with its chain, as Outlook may send it
    dn = f"mail=only-p7@example.com,{BASE}"
    r = ldaptools.add(node["slapd"].uri, member_entry(dn, m["address"], [], [value]), ADMIN)
    assert r.rc == 0, r.err
    e = read(node, dn)
    assert e["keydirFingerprint"] == [hashlib.sha256(m["der"]).hexdigest()]
    not_after = subprocess.run(["openssl", "x509", "-in", m["crt"], "-noout", "-enddate"],
                               capture_output=True, text=True, check=True).stdout
    when = datetime.datetime.strptime(not_after.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
    assert e["keydirNotAfter"] == [when.strftime("%Y%m%d%H%M%SZ")]
    # the bare DER others send is still accepted, and derives the same
    m2 = pki.member("bare@example.com")
    dn2 = f"mail=bare@example.com,{BASE}"
    r = ldaptools.add(node["slapd"].uri, member_entry(dn2, m2["address"], [], [m2["der"]]), ADMIN)
    assert r.rc == 0, r.err
    assert read(node, dn2)["keydirFingerprint"] == [hashlib.sha256(m2["der"]).hexdigest()]


def test_bad_pkcs7_refused_and_nothing_changes(node):
    pki, w = node["pki"], node["workdir"]
    uri = node["slapd"].uri
    m = pki.member("keep@example.com")
    other = pki.member("someone-else@example.com")
    good = pkcs7(m["crt"], workdir=w)
    dn = f"mail=keep@example.com,{BASE}"
    assert ldaptools.add(uri, member_entry(dn, m["address"], [m["der"]], [good]), ADMIN).rc == 0
    before = read(node, dn, ["*"], extra=["-M"])
    cases = [
        (good[:-7], 21, "userSMIMECertificate value 1: not a DER PKCS#7 SignedData (truncated"),
        (pkcs7(workdir=w), 21, "userSMIMECertificate value 1: the PKCS#7 SignedData holds no "
                               "certificate"),
        (good + b"\x00\x00", 21, "2 bytes follow it"),
        (b"\x30\x03\x02\x01\x05", 21, "userSMIMECertificate value 1: neither a PKCS#7 SignedData "
                                      "nor a DER X.509 certificate"),
        (pkcs7(other["crt"], workdir=w), 19, "userSMIMECertificate value 1: "),
    ]
    for value, rc, text in cases:
        r = ldaptools.modify(uri, f"dn: {dn}\nchangetype: modify\nreplace: userSMIMECertificate\n"
                             f"userSMIMECertificate:: {b64(value)}\n", ADMIN)
        assert r.rc == rc, (text, r.rc, r.err)
        assert text in r.err, r.err
        assert read(node, dn, ["*"], extra=["-M"]) == before
    r = ldaptools.add(uri, member_entry(f"mail=new@example.com,{BASE}", "new@example.com", [],
                                        [good[:40]]), ADMIN)
    assert r.rc == 21 and "truncated" in r.err, r.err
    assert ldaptools.search(uri, f"mail=new@example.com,{BASE}", scope="base").rc == 32


def test_values_go_out_usable_first_newest_first(node):
    pki, w = node["pki"], node["workdir"]
    uri = node["slapd"].uri
    a = "roll@example.com"
    now = datetime.datetime.now(datetime.timezone.utc)

    def stamp(days):
        return (now + datetime.timedelta(days=days)).strftime("%Y%m%d%H%M%SZ")

    older = pki.dated_member(a, stamp(-20), stamp(300), "-older")
    newer = pki.dated_member(a, stamp(-2), stamp(365), "-newer")
    expired = pki.expired_member(a)
    values_in = {
        "expired": pkcs7(expired["crt"], workdir=w),
        "older": pkcs7(older["crt"], workdir=w),
        "mixed": pkcs7(expired["crt"], older["crt"], workdir=w),
        "newer": pkcs7(newer["crt"], workdir=w),
    }
    dn = f"mail={a},{OLD}"
    ldif = member_entry(dn, a, [older["der"], expired["der"], newer["der"]],
                        [values_in[k] for k in ("expired", "older", "mixed", "newer")])
    r = ldaptools.add(uri, ldif, OLD_ADMIN)
    assert r.rc == 0, r.err
    # Evolution: one-level, all attributes, takes the first userCertificate
    r = ldaptools.search(uri, OLD, f"(&(userCertificate=*)(|(mail={a})))", scope="one",
                         extra=["-z", "100"])
    assert r.rc == 0, r.err
    got = r.entries[0][1]
    assert values(got, "userCertificate") == [newer["der"], older["der"]]
    # Outlook: the PKCS#7 values, the one that only holds the expired
    # certificate left out; "mixed" holds a usable one as well
    smime = values(read(node, dn, OUTLOOK_ATTRS), "userSMIMECertificate")
    assert smime[0] == values_in["newer"]
    assert sorted(smime[1:]) == sorted([values_in["older"], values_in["mixed"]])
    # ManageDsaIT: as stored
    stored = read(node, dn, ["userCertificate;binary"], extra=["-M"])
    assert values(stored, "userCertificate") == [older["der"], expired["der"], newer["der"]]


def test_bare_der_values_go_out_newest_first(node):
    """The serving order alone, with bare DER values only: Evolution's
    request gets the newest usable certificate first, whatever the order
    they were written in; the expired one is not served."""
    pki = node["pki"]
    uri = node["slapd"].uri
    a = "bare-roll@example.com"
    now = datetime.datetime.now(datetime.timezone.utc)

    def stamp(days):
        return (now + datetime.timedelta(days=days)).strftime("%Y%m%d%H%M%SZ")

    older = pki.dated_member(a, stamp(-30), stamp(200), "-older")
    newer = pki.dated_member(a, stamp(-1), stamp(365), "-newer")
    expired = pki.expired_member(a)
    dn = f"mail={a},{OLD}"
    r = ldaptools.add(uri, member_entry(dn, a, [older["der"], newer["der"], expired["der"]],
                                        [older["der"], newer["der"]]), OLD_ADMIN)
    assert r.rc == 0, r.err
    r = ldaptools.search(uri, OLD, f"(&(userCertificate=*)(|(mail={a})))", scope="one",
                         extra=["-z", "100"])
    assert r.rc == 0, r.err
    got = r.entries[0][1]
    assert values(got, "userCertificate") == [newer["der"], older["der"]]
    assert values(got, "userSMIMECertificate") == [newer["der"], older["der"]]


def test_keydir_lookup_reads_pkcs7_values(node):
    """keydir-lookup takes the certificates out of a PKCS#7 value instead of
    rejecting the value as a malformed certificate."""
    from keydirtest import keys

    pki, w = node["pki"], node["workdir"]
    m = pki.member("lookup-p7@example.com")
    dn = f"mail=lookup-p7@example.com,{BASE}"
    r = ldaptools.add(node["slapd"].uri, member_entry(dn, m["address"], [m["der"]],
                                                      [pkcs7(m["crt"], pki.ca_crt, workdir=w)]),
                      ADMIN)
    assert r.rc == 0, r.err
    r = keys.lookup("--json", "-H", node["slapd"].uri, "-b", BASE, m["address"])
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["rejected"] == [], j["rejected"]
    assert [c["fingerprint"] for c in j["certificates"]] == [hashlib.sha256(m["der"]).hexdigest()]
