"""Replication with OpenLDAP's own syncrepl: a keydir database as syncprov
provider, replicated to a keydir consumer and to a back-mdb consumer.

This exercises what syncprov and syncrepl need of a backend: entry-get,
entryCSN filters (indexed), contextCSN kept by internal modifies, entryUUID
lookups on the consumer, and every write operation on both sides."""

import time

import pytest

from backend_pair import base_entries, to_ldif
from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW, Slapd, database_keydir, database_mdb

SUFFIX = "o=zone"
ROOTDN = "cn=admin,o=zone"
SYNC_INDEX = "index entryCSN,entryUUID eq\n"


def consumer_of(provider, kind):
    s = Slapd(name=f"consumer-{kind}", modules=("back_keydir.la", "back_mdb.la"))
    syncrepl = (f"syncrepl rid=001 provider={provider.uri} bindmethod=simple "
                f'binddn="{ROOTDN}" credentials={ROOTPW} searchbase="{SUFFIX}" '
                'type=refreshAndPersist retry="1 +" timeout=5\n' + SYNC_INDEX)
    make = database_keydir if kind == "keydir" else database_mdb
    s.add_database(make(SUFFIX, s.db_dir(kind), extra=syncrepl))
    return s


def view(s):
    """Every entry with every attribute as stored (replication keeps them
    all; ManageDsaIT, because keydir serves revoked members' entries
    without their certificates)."""
    r = ldaptools.search(s.uri, SUFFIX, attrs=["*", "+"], binddn=ROOTDN, password=ROOTPW,
                         extra=["-M"])
    if r.rc == 32:
        return {}
    assert r.rc == 0, r.err
    skip = {"hassubordinates", "structuralobjectclass", "subschemasubentry", "entrydn"}
    return {dn.lower(): {k.lower(): sorted(map(str, v)) for k, v in a.items()
                         if k.lower() not in skip}
            for dn, a in r.entries}


def wait_same(provider, consumer, timeout=30):
    deadline = time.time() + timeout
    want = view(provider)
    while True:
        got = view(consumer)
        if got == want:
            return want
        if time.time() > deadline:
            missing = sorted(set(want) - set(got))[:5]
            extra = sorted(set(got) - set(want))[:5]
            differ = [dn for dn in want if dn in got and want[dn] != got[dn]][:3]
            pytest.fail(f"consumer not in step after {timeout}s: missing {missing}, "
                        f"extra {extra}, differing {differ}")
        time.sleep(0.2)
        want = view(provider)


@pytest.fixture(scope="module")
def servers():
    provider = Slapd(name="provider", modules=("back_keydir.la", "syncprov.la"))
    provider.add_database(database_keydir(SUFFIX, provider.db_dir("keydir"),
                                          extra=SYNC_INDEX + "overlay syncprov\n"))
    consumers = [consumer_of(provider, kind) for kind in ("keydir", "mdb")]
    try:
        provider.start()
        r = ldaptools.add(provider.uri, to_ldif(base_entries("zone"), SUFFIX), ROOTDN)
        assert r.rc == 0, r.err
        for c in consumers:
            c.start()
        yield provider, consumers
    finally:
        for s in [provider] + consumers:
            s.cleanup()


@pytest.mark.parametrize("which", [0, 1], ids=["keydir-consumer", "mdb-consumer"])
def test_refresh(servers, which):
    provider, consumers = servers
    got = wait_same(provider, consumers[which])
    assert len(got) == len(base_entries("zone"))


def test_live_changes_reach_both_consumers(servers):
    provider, consumers = servers
    changes = [
        ("add", "dn: mail=live@example.com,ou=people,o=zone\nobjectClass: keydirMember\n"
                "mail: live@example.com\ncn: Live\n"),
        ("modify", "dn: mail=user03@example.com,ou=people,o=zone\nchangetype: modify\n"
                   "replace: keydirStatus\nkeydirStatus: revoked\n-\nadd: cn\ncn: Three\n"),
        ("delete", "mail=user04@example.com,ou=people,o=zone"),
        # (a member with a certificate cannot change address: it names the old one)
        ("modrdn", ("mail=live@example.com,ou=people,o=zone", "mail=alive@example.com")),
    ]
    for op, arg in changes:
        if op == "add":
            r = ldaptools.add(provider.uri, arg, ROOTDN)
        elif op == "modify":
            r = ldaptools.modify(provider.uri, arg, ROOTDN)
        elif op == "delete":
            r = ldaptools.delete(provider.uri, arg, ROOTDN)
        else:
            r = ldaptools.modrdn(provider.uri, arg[0], arg[1], ROOTDN)
        assert r.rc == 0, f"{op}: {r.err}"
    for c in consumers:
        got = wait_same(provider, c)
        assert "mail=user04@example.com,ou=people,o=zone" not in got
        assert "mail=alive@example.com,ou=people,o=zone" in got
        assert "mail=live@example.com,ou=people,o=zone" not in got


def test_consumer_catches_up_after_a_restart(servers):
    provider, consumers = servers
    keydir_consumer = consumers[0]
    wait_same(provider, keydir_consumer)
    keydir_consumer.stop()
    for i in range(20):
        r = ldaptools.add(provider.uri, f"dn: mail=while{i}@example.com,ou=people,o=zone\n"
                          f"objectClass: keydirMember\nmail: while{i}@example.com\n", ROOTDN)
        assert r.rc == 0, r.err
    assert ldaptools.delete(provider.uri, "mail=user07@example.com,ou=people,o=zone",
                            ROOTDN).rc == 0
    keydir_consumer.start()
    got = wait_same(provider, keydir_consumer)
    assert "mail=while19@example.com,ou=people,o=zone" in got
    # the consumer answers lookups through its own indexes
    r = ldaptools.search(keydir_consumer.uri, SUFFIX, "(mail=while7@example.com)", ["1.1"])
    assert r.dns() == ["mail=while7@example.com,ou=people,o=zone"]


def test_context_csn(servers):
    provider, consumers = servers
    for c in consumers:
        wait_same(provider, c)

    def csn(s):
        r = ldaptools.search(s.uri, SUFFIX, attrs=["contextCSN"], scope="base",
                             binddn=ROOTDN, password=ROOTPW)
        return r.entries[0][1].get("contextCSN")

    assert csn(provider) and all(csn(c) == csn(provider) for c in consumers)
