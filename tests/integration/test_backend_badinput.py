"""Bad input to a running slapd with keydir and back-mdb databases:
malformed DNs and filters (a malformed filter can only be sent as raw BER,
the client libraries refuse to encode one), oversized values. Each gets a
precise result, changes nothing, and slapd keeps running."""

import os
import random

import pytest

import ldapwire
from backend_pair import db, pair_server  # noqa: F401
from keydirtest import ldaptools

MAX_INCOMING = 4194303  # sockbuf_max_incoming_auth: 4 MB
PAIR = {"globals_extra": f"sockbuf_max_incoming_auth {MAX_INCOMING}\n"}

BAD_DNS = ["not a dn", "cn=x,,{S}", "=x,{S}", "cn=x\\zz,{S}", "cn,{S}"]


def still_serving(db):
    assert db.server.running(), db.server.log()
    r = db.search("mail=user01@example.com,ou=people", scope="base", attrs=["cn"])
    assert r.rc == 0 and r.entries[0][1]["cn"] == ["User 01"]


@pytest.mark.parametrize("dn", BAD_DNS)
def test_malformed_dn_every_operation(db, dn, tmp_path):
    dn = db.ldif(dn)
    results = {
        "search": ldaptools.search(db.uri, dn, binddn=db.rootdn),
        "add": ldaptools.add(db.uri, f"dn: {dn}\nobjectClass: person\ncn: x\nsn: x\n", db.rootdn),
        "modify": ldaptools.modify(db.uri, f"dn: {dn}\nchangetype: modify\nreplace: sn\nsn: y\n",
                                   db.rootdn),
        "delete": ldaptools.delete(db.uri, dn, db.rootdn),
        "modrdn": ldaptools.modrdn(db.uri, dn, "cn=y", db.rootdn),
        "compare": ldaptools.compare(db.uri, dn, "sn:x", db.rootdn),
    }
    for op, r in results.items():
        assert r.rc == 34, f"{op}: {r.rc} {r.out} {r.err}"
    r = ldaptools.modrdn(db.uri, db.dn("cn=alice,ou=staff"), "not an rdn", db.rootdn)
    assert r.rc == 34, r.err
    r = ldaptools.modrdn(db.uri, db.dn("cn=alice,ou=staff"), "cn=a", db.rootdn,
                         newsup="bad,,dn")
    assert r.rc == 34, r.err
    still_serving(db)


# Broken filters, as BER: each violates RFC 4511's Filter definition.
BROKEN_FILTERS = {
    "equality-without-value": ldapwire.sequence(ldapwire.octets("cn"), tag=0xA3),
    "and-with-a-bad-member": ldapwire.sequence(ldapwire.f_present("cn"),
                                               ldapwire.sequence(tag=0xA3), tag=0xA0),
    "length-past-the-end": b"\xa3\x7f\x04\x02cn",
    "not-with-two-filters": ldapwire.sequence(ldapwire.f_present("cn"),
                                              ldapwire.f_present("sn"), tag=0xA2),
}


@pytest.mark.parametrize("name", sorted(BROKEN_FILTERS))
def test_malformed_filter_protocol_error(db, name):
    c = ldapwire.Connection(db.server.port, timeout=10)
    try:
        c.send(ldapwire.search_request(1, db.suffix, BROKEN_FILTERS[name]))
        try:
            entries, refs, rc = c.read_until_done(1)
        except EOFError:
            pytest.fail("connection closed without a result")
        assert (entries, refs) == (0, 0)
        assert rc in (2, ("disconnect", 2)), rc  # protocolError
    finally:
        c.close()
    still_serving(db)


def test_garbage_on_the_wire(db):
    noise = random.Random(42).randbytes(512)
    for junk in [b"\x00" * 64, b"\x30\x84\xff\xff\xff\xff", noise,
                 b"GET / HTTP/1.0\r\n\r\n" + b"x" * 100]:
        c = ldapwire.Connection(db.server.port, timeout=10)
        try:
            c.send(junk)
            assert c.closed_by_server(), "slapd kept a connection that sent garbage"
        finally:
            c.close()
    still_serving(db)


def test_two_megabyte_value_round_trip(db, tmp_path):
    value = os.urandom(2 << 20)
    path = tmp_path / "value.bin"
    path.write_bytes(value)
    ou = db.fresh()
    rel = f"mail=big@example.com,{ou}"
    r = db.add(f"dn: {rel},{{S}}\nobjectClass: keydirMember\nmail: big@example.com\n"
               f"userPKCS12:< file://{path}\n")
    assert r.rc == 0, r.err
    got = db.entry(rel, attrs=["userPKCS12"])["userPKCS12"][0]
    assert isinstance(got, bytes) and got == value
    # and replaced by another one
    value2 = os.urandom(2 << 20)
    path.write_bytes(value2)
    r = db.modify(f"dn: {rel},{{S}}\nchangetype: modify\nreplace: userPKCS12\n"
                  f"userPKCS12:< file://{path}\n")
    assert r.rc == 0, r.err
    assert db.entry(rel, attrs=["userPKCS12"])["userPKCS12"][0] == value2


def test_value_larger_than_the_server_accepts(db, tmp_path):
    """A request bigger than sockbuf_max_incoming_auth: slapd drops the
    connection, stores nothing, and serves on."""
    path = tmp_path / "huge.bin"
    path.write_bytes(os.urandom(MAX_INCOMING + (1 << 20)))
    ou = db.fresh()
    rel = f"mail=huge@example.com,{ou}"
    r = db.add(f"dn: {rel},{{S}}\nobjectClass: keydirMember\nmail: huge@example.com\n"
               f"userPKCS12:< file://{path}\n")
    assert r.rc != 0
    assert "Can't contact LDAP server" in r.err or "connection" in r.err.lower(), r.err
    assert db.search(rel, scope="base").rc == 32
    still_serving(db)
