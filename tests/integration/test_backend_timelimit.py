"""Time limits on keydir and back-mdb: a search held up by a client that
does not read ends with timeLimitExceeded once it goes on."""

import base64
import time

import pytest

import ldapwire
from backend_pair import db, pair_server  # noqa: F401

BULK = 48               # entries in ou=bulk
BULK_BYTES = 128 << 10  # bytes of each one's userPKCS12

PAIR = {"data": False}


@pytest.fixture(scope="module")
def bulk(pair_server):
    """ou=bulk: BULK entries large enough that a search of them cannot be
    buffered whole in the sockets."""
    for d in pair_server.values():
        blocks = [f"dn: {{S}}\nobjectClass: organization\no: {d.kind}\n",
                  "dn: ou=bulk,{S}\nobjectClass: organizationalUnit\nou: bulk\n"]
        for i in range(BULK):
            value = base64.b64encode(bytes([i]) * BULK_BYTES).decode()
            blocks.append(f"dn: mail=bulk{i}@example.com,ou=bulk,{{S}}\nobjectClass: keydirMember\n"
                          f"mail: bulk{i}@example.com\nuserPKCS12:: {value}\n")
        r = d.add("\n".join(blocks))
        assert r.rc == 0, r.err
    return "ou=bulk"


def test_search_without_time_limit_reads_everything(db, bulk):
    c = ldapwire.Connection(db.server.port)
    try:
        c.send(ldapwire.search_request(1, db.dn(bulk), ldapwire.f_present("objectClass")))
        assert c.read_until_done(1) == (BULK + 1, 0, 0)
    finally:
        c.close()


def test_time_limit_exceeded(db, bulk):
    """A client that stops reading holds the search up; once it reads again
    the search ends with timeLimitExceeded (3) after the entries sent so far."""
    c = ldapwire.Connection(db.server.port, rcvbuf=4096)
    try:
        c.send(ldapwire.search_request(1, db.dn(bulk), ldapwire.f_present("objectClass"),
                                       time_limit=1))
        time.sleep(2.5)
        entries, refs, rc = c.read_until_done(1)
    finally:
        c.close()
    assert rc == 3
    assert 0 < entries < BULK + 1
