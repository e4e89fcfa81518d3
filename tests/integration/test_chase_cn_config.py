"""keychase configured through cn=config: the resolving node "local" of the
test network is converted from slapd.conf with slaptest and runs with
slapd -F; its directives read back as olcKeychase* attributes, it chases as
before, and changes made with ldapmodify take effect at once."""

import os
import re

import pytest

from keydirtest import ldaptools
from keydirtest.network import KeyNetwork
from keydirtest.slapd import ROOTPW

EXTRA = ["keychase-cache-ttl 600", "keychase-negative-ttl 7", "keychase-serve-stale 0",
         "keychase-max-hops 6", "keychase-enumeration-limit 2", "keychase-threads 3",
         "keychase-max-queued 40", "keychase-max-chases-per-search 4",
         "keychase-max-chases-per-connection 50", "keychase-cache-entries 5000"]


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = KeyNetwork(str(tmp_path_factory.mktemp("cnconfig")),
                   overlay_extra={"local": EXTRA}).build()
    try:
        local = n.servers["local"]
        cdir = os.path.join(local.workdir, "slapd.d")
        os.makedirs(cdir)
        # slaptest opens the databases read-only: they must exist (as with
        # back-mdb), so slapd creates them first.
        local.start()
        local.stop()
        r = local.tool("test", "-F", cdir, check=False)
        assert r.returncode == 0, r.stderr
        local.config_dir = cdir
        n.start().load()
        yield n
    finally:
        n.cleanup()


def overlay_entries(net):
    r = ldaptools.search(net.uri("local"), "cn=config", "(objectClass=olcKeychaseConfig)",
                         binddn="cn=config", password=ROOTPW)
    assert r.rc == 0, r.err
    return r.entries


def unordered(values):
    """X-ORDERED values without their {n} prefixes."""
    return [re.sub(r"^\{\d+\}", "", v) for v in values]


def catchall_overlay(net):
    """The overlay on local's catch-all database (suffix ""), the last one
    configured: the one that answers searches based at ""."""
    def database_number(dn):
        return int(re.search(r"olcDatabase=\{(\d+)\}", dn).group(1))
    return max(overlay_entries(net), key=lambda e: database_number(e[0]))


def modify(net, dn, body):
    return ldaptools.modify(net.uri("local"), f"dn: {dn}\nchangetype: modify\n{body}",
                            "cn=config", ROOTPW)


def lookup(net, filt):
    return ldaptools.search(net.uri("local"), "", filt, ["mail", "keydirSource"])


def test_slaptest_wrote_the_overlay_entries(net):
    d = os.path.join(net.servers["local"].config_dir, "cn=config")
    texts = []
    for root, _, files in os.walk(d):
        texts += [open(os.path.join(root, f)).read() for f in files if f.endswith(".ldif")]
    overlays = [t for t in texts if "objectClass: olcKeychaseConfig" in t]
    assert len(overlays) == 2, len(overlays)  # the zone's database and the catch-all


def test_directives_read_back(net):
    _, a = catchall_overlay(net)
    local = net.servers
    assert unordered(a["olcKeychaseUpstream"]) == [net.uri("example")]
    assert unordered(a["olcKeychaseRoot"]) == [net.uri("root1"), net.uri("root2")]
    # keychase-sign network: written out with its default algorithm. Before
    # this test, slaptest dropped it and both timeouts (a converted node
    # stopped signing).
    assert a["olcKeychaseSign"] == ["network hmac-sha256"]
    assert unordered(a["olcKeychaseKey"])[0].startswith("network ")
    assert sorted(unordered(a["olcKeychaseReferralAllow"])) == sorted(
        f"127.0.0.1:{s.port}" for s in local.values())
    want = {"olcKeychaseTimeout": "1", "olcKeychaseTotalTimeout": "5",
            "olcKeychaseCacheTTL": "600", "olcKeychaseNegativeTTL": "7",
            "olcKeychaseServeStale": "0", "olcKeychaseMaxHops": "6",
            "olcKeychaseEnumerationLimit": "2", "olcKeychaseThreads": "3",
            "olcKeychaseMaxQueued": "40", "olcKeychaseMaxChasesPerSearch": "4",
            "olcKeychaseMaxChasesPerConnection": "50", "olcKeychaseCacheEntries": "5000"}
    assert {k: a.get(k, [None])[0] for k in want} == want


def test_a_chase_works(net):
    r = lookup(net, "(mail=kconley@tovaris.com)")
    assert r.rc == 0, r.err
    assert [e[1]["mail"] for e in r.entries] == [["kconley@tovaris.com"]]
    assert r.entries[0][1].get("keydirSource"), r.entries


def test_a_change_at_run_time_takes_effect(net):
    dn, _ = catchall_overlay(net)
    assert modify(net, dn, "replace: olcKeychaseMaxChasesPerSearch\n"
                           "olcKeychaseMaxChasesPerSearch: 1\n").rc == 0
    try:
        r = lookup(net, "(|(mail=jdoe@tovaris.com)(mail=bob@example.com))")
        assert r.rc == 52, r.err  # the second address is not looked up
        assert len(r.entries) == 1 and "at most 1" in r.err, (r.entries, r.err)
    finally:
        assert modify(net, dn, "replace: olcKeychaseMaxChasesPerSearch\n"
                               "olcKeychaseMaxChasesPerSearch: 4\n").rc == 0
    r = lookup(net, "(|(mail=ann@sales.example.com)(mail=bob@example.com)(mail=jdoe@tovaris.com))")
    assert r.rc == 0, r.err
    assert sorted(e[1]["mail"][0] for e in r.entries) == [
        "ann@sales.example.com", "bob@example.com", "jdoe@tovaris.com"]


def test_bad_values_are_refused_and_change_nothing(net):
    dn, before = catchall_overlay(net)
    for body in ["replace: olcKeychaseMaxChasesPerSearch\nolcKeychaseMaxChasesPerSearch: 0\n",
                 "replace: olcKeychaseTimeout\nolcKeychaseTimeout: soon\n",
                 "add: olcKeychaseRoot\nolcKeychaseRoot: http://example.com/\n",
                 "replace: olcKeychaseSign\nolcKeychaseSign: nosuchkey\n"]:
        r = modify(net, dn, body)
        assert r.rc != 0, body
    assert catchall_overlay(net)[1] == before
