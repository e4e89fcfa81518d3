"""Concurrent writers on a keydir master: the secondary misses none of the
changes.

syncprov tells a consumer, with each change, the newest CSN up to which
it has everything; the consumer ignores a change whose CSN is not newer
than that. This is only right if a backend's writes enter slapd's queue of
pending CSNs in CSN order (back-mdb makes its CSNs inside its single write
transaction). Several writers at once on a keydir master are the case
that shows it. back-mdb as master, and as secondary of a keydir master,
run the same way."""

import threading

import ldap
import pytest

import repl_support as RS
from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW

ADMIN = (RS.ZONE_ADMIN, ROOTPW)
WRITERS = 10
PER_WRITER = 90


def writer(uri, tag, errors):
    try:
        c = ldap.initialize(uri)
        c.simple_bind_s(*ADMIN)
        for i in range(PER_WRITER):
            dn = RS.member_dn(f"{tag}{i:03d}@tovaris.com")
            c.add_s(dn, [("objectClass", [b"keydirMember"]),
                         ("mail", [f"{tag}{i:03d}@tovaris.com".encode()])])
            c.modify_s(dn, [(ldap.MOD_REPLACE, "cn", [f"{tag} {i}".encode()])])
            if i % 3 == 0:
                c.delete_s(dn)
            elif i % 3 == 1:
                c.rename_s(dn, f"mail={tag}{i:03d}-r@tovaris.com")
        c.unbind_s()
    except Exception as e:  # reported by the test
        errors.append(e)


@pytest.mark.parametrize("master_kind,secondary_kind",
                         [("keydir", "keydir"), ("mdb", "keydir"), ("keydir", "mdb")],
                         ids=["keydir-keydir", "mdb-keydir", "keydir-mdb"])
def test_concurrent_writers_on_the_master_lose_nothing_on_the_secondary(
        make_slapd, master_kind, secondary_kind):
    master = RS.provider(make_slapd, kind=master_kind, debug_level="none")
    secondary = RS.consumer(make_slapd, master, kind=secondary_kind, debug_level=RS.SYNC)
    master.start()
    assert ldaptools.add(master.uri, RS.zone_ldif(), *ADMIN).rc == 0
    secondary.start()
    RS.wait_same(master, secondary)
    errors = []
    threads = [threading.Thread(target=writer, args=(master.uri, f"w{n}-", errors))
               for n in range(WRITERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert errors == []
    view = RS.wait_same(master, secondary, timeout=90)
    assert len(view) == 1 + WRITERS * (PER_WRITER - PER_WRITER // 3)
    ignored = RS.count(r"not new enough, ignored|CSN too old", RS.server_log(secondary))
    assert ignored == 0, f"the secondary ignored {ignored} changes as already seen"
