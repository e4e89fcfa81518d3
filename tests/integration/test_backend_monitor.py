"""cn=monitor for a keydir database: entry count (the real one), Berkeley DB
cache size and hit rate, transaction and operation counters."""

import re

import pytest

from backend_pair import base_entries, pair_server  # noqa: F401
from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW

PAIR = {"keydir_extra": "keydir-cachesize 16777216\n"}

COUNTERS = ["olmKeydirEntries", "olmKeydirCacheBytes", "olmKeydirCacheHits",
            "olmKeydirCacheMisses", "olmKeydirTxnCommitted", "olmKeydirTxnAborted",
            "olmKeydirTxnActive", "olmKeydirDeadlocks", "olmKeydirRetries",
            "olmKeydirSearches", "olmKeydirWrites"]


@pytest.fixture
def keydir(pair_server):
    return pair_server["keydir"]


def monitor(d, attrs=("+",), who=("cn=monitor", ROOTPW)):
    r = ldaptools.search(d.uri, "cn=Databases,cn=Monitor", f"(namingContexts={d.suffix})",
                         list(attrs), scope="one", binddn=who[0], password=who[1])
    assert r.rc == 0 and len(r.entries) == 1, r.err
    return r.entries[0][1]


def numbers(d):
    m = monitor(d, COUNTERS)
    return {k: int(m[k][0]) for k in COUNTERS}


def real_count(d):
    r = d.search("", attrs=["1.1"], extra=["-M"])
    assert r.rc == 0
    return len(r.rels)


def test_monitor_entry(keydir):
    m = monitor(keydir, ["*", "+"])
    assert "olmKeydirDatabase" in m["objectClass"]
    assert m["monitoredInfo"] == ["keydir"]
    for name in COUNTERS + ["olmKeydirCacheHitRate"]:
        assert name in m, name
    # hidden unless asked for: a plain read shows none of them
    assert not [k for k in monitor(keydir, ["*"]) if k.startswith("olmKeydir")]


def test_entry_count_is_the_real_one(keydir):
    assert numbers(keydir)["olmKeydirEntries"] == real_count(keydir) == len(base_entries("keydir"))
    ou = keydir.fresh()
    ldif = "\n".join(f"dn: cn=c{i},{ou},{{S}}\nobjectClass: person\ncn: c{i}\nsn: x\n"
                     for i in range(5))
    assert keydir.add(ldif).rc == 0
    assert numbers(keydir)["olmKeydirEntries"] == real_count(keydir)
    assert keydir.delete(f"cn=c0,{ou}").rc == 0
    assert keydir.modrdn(f"cn=c1,{ou}", "cn=renamed").rc == 0
    assert keydir.add(f"dn: cn=c2,{ou},{{S}}\nobjectClass: person\ncn: c2\nsn: x\n").rc == 68
    assert numbers(keydir)["olmKeydirEntries"] == real_count(keydir)


def test_cache_size_and_hit_rate(keydir):
    m = monitor(keydir, ["olmKeydirCacheBytes", "olmKeydirCacheHitRate"])
    size = int(m["olmKeydirCacheBytes"][0])
    assert 16777216 <= size <= 2 * 16777216  # Berkeley DB adds its own overhead
    for _ in range(3):
        keydir.search("", "(mail=user07@example.com)")
    rate = monitor(keydir, ["olmKeydirCacheHitRate"])["olmKeydirCacheHitRate"][0]
    assert re.match(r"^\d{1,3}\.\d\d$", rate) and 50.0 <= float(rate) <= 100.0, rate
    n = numbers(keydir)
    assert n["olmKeydirCacheHits"] > 0
    assert abs(float(rate) - 100.0 * n["olmKeydirCacheHits"] /
               (n["olmKeydirCacheHits"] + n["olmKeydirCacheMisses"])) < 1.0


def test_transaction_and_operation_counters(keydir):
    before = numbers(keydir)
    ou = keydir.fresh()  # one add
    assert keydir.add(f"dn: cn=x,{ou},{{S}}\nobjectClass: person\ncn: x\nsn: x\n").rc == 0
    assert keydir.modify(f"dn: cn=x,{ou},{{S}}\nchangetype: modify\nreplace: sn\nsn: y\n").rc == 0
    assert keydir.modify(f"dn: cn=x,{ou},{{S}}\nchangetype: modify\ndelete: title\n").rc == 16
    assert keydir.delete(f"cn=x,{ou}").rc == 0
    for _ in range(4):
        assert keydir.search(ou, attrs=["1.1"]).rc == 0
    after = numbers(keydir)
    assert after["olmKeydirTxnCommitted"] - before["olmKeydirTxnCommitted"] >= 4
    assert after["olmKeydirTxnAborted"] - before["olmKeydirTxnAborted"] >= 1  # the refused modify
    assert after["olmKeydirWrites"] - before["olmKeydirWrites"] == 5
    assert after["olmKeydirSearches"] - before["olmKeydirSearches"] >= 4
    assert after["olmKeydirTxnActive"] == 0
    assert after["olmKeydirDeadlocks"] >= 0 and after["olmKeydirRetries"] >= 0


def test_mdb_database_has_no_keydir_attributes(pair_server):
    m = monitor(pair_server["mdb"], ["*", "+"])
    assert not [k for k in m if k.startswith("olmKeydir")]
