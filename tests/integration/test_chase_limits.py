"""keychase against hostile upstreams: a server that streams more than a
base search can need, a black-holed zone that an anonymous client makes
the resolver chase many times over (security review #8, #9)."""

import threading
import time

import ldap
import pytest

from keydirtest import ldaptools
from keydirtest.fakeldap import BlackHole, Streamer
from keydirtest.network import KeyNetwork

TIMEOUT, TOTAL = 2, 4


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    # The review's set-up: 2 s per server, 4 s per chase, 8 threads.
    # The fake servers listen on ports of 127.0.0.1 of their own.
    local = [f"keychase-timeout {TIMEOUT}", f"keychase-total-timeout {TOTAL}",
             "keychase-threads 8", "keychase-referral-allow 127.0.0.1"]
    n = KeyNetwork(str(tmp_path_factory.mktemp("limits")),
                   overlay_extra={"local": local}).build()
    try:
        n.start().load()
        yield n
    finally:
        n.cleanup()


def delegate(net, label, uri):
    """Delegates <label>.com to `uri` at both roots."""
    dn = f"dc={label},dc=com"
    ldif = (f"dn: {dn}\nobjectClass: referral\nobjectClass: extensibleObject\n"
            f"dc: {label}\nref: {uri}/{dn}\n")
    for root in ("root1", "root2"):
        r = ldaptools.add(net.uri(root), ldif, "cn=admin", extra=("-M",))
        assert r.rc == 0, r.err


def vm_hwm_kb(net, name):
    with open(f"/proc/{net.servers[name].proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise AssertionError("no VmHWM")


def lookup(net, address, server="local"):
    return ldaptools.search(net.uri(server), "", f"(mail={address})", ["mail", "keydirPath"])


def test_streaming_upstream_is_cut_short(net):
    # 150 entries of 1 MB for a base search: the chase keeps at most one.
    streamer = Streamer(entries=150, value_bytes=1_000_000)
    try:
        delegate(net, "flood", streamer.uri)
        before = vm_hwm_kb(net, "local")
        r = lookup(net, "victim@flood.com")
        after = vm_hwm_kb(net, "local")
    finally:
        streamer.close()
    assert streamer.requests >= 1
    assert r.rc == 52, (r.rc, r.err)  # unavailable, not "not found"
    assert "flood.com" in r.err, r.err
    assert net.servers["local"].running()
    grown_mb = (after - before) / 1024
    print(f"VmHWM of the resolver: {before} kB -> {after} kB (+{grown_mb:.1f} MB); "
          f"the server wrote {streamer.sent_entries} of 150 entries")
    assert grown_mb < 30, grown_mb


def many_addresses_filter(domain, n, prefix="a"):
    return "(|" + "".join(f"(mail={prefix}{i}@{domain})" for i in range(n)) + ")"


def start_search(uri, flt):
    """An anonymous search sent and not waited for: (connection, msgid)."""
    conn = ldap.initialize(uri)
    conn.set_option(ldap.OPT_NETWORK_TIMEOUT, 5)
    return conn, conn.search("", ldap.SCOPE_SUBTREE, flt, ["mail"])


def finish(conn, msgid, timeout=60):
    try:
        conn.result(msgid, all=1, timeout=timeout)
        return 0, ""
    except ldap.LDAPError as e:
        info = e.args[0] if e.args and isinstance(e.args[0], dict) else {}
        return info.get("result", -1), info.get("info", "")
    finally:
        conn.unbind_s()


def test_black_holed_zone_does_not_starve_other_lookups(net):
    # The review's experiment: two anonymous searches, each for 64
    # addresses of a zone whose server never answers, then a lookup of an
    # address of another zone, not cached.
    hole = BlackHole()
    try:
        delegate(net, "evil", hole.uri)
        attackers = [start_search(net.uri("local"), many_addresses_filter("evil.com", 64, p))
                     for p in ("a", "b")]
        time.sleep(0.5)
        t0 = time.monotonic()
        r = lookup(net, "jdoe@tovaris.com")
        elapsed = time.monotonic() - t0
        print(f"legitimate lookup: {elapsed:.2f} s (total timeout {TOTAL} s); "
              f"black hole: {hole.connections} connections, {hole.searches} searches")
        assert r.rc == 0, (r.rc, r.err)
        assert [a for _, a in r.entries][0]["mail"] == ["jdoe@tovaris.com"]
        assert elapsed < TOTAL, elapsed
        results = [finish(c, m) for c, m in attackers]
    finally:
        hole.close()
    # The attackers hear that most of their addresses were not looked up.
    for rc, text in results:
        assert rc == 52, (rc, text)
        assert "evil.com" in text, text
    # At most 4 chases per search reached the black hole.
    assert hole.searches <= 8, hole.searches


def test_chases_per_connection_are_bounded(net):
    hole = BlackHole()
    try:
        delegate(net, "evil2", hole.uri)
        conn = ldap.initialize(net.uri("local"))
        msgids = [conn.search("", ldap.SCOPE_SUBTREE,
                              many_addresses_filter("evil2.com", 4, f"c{i}x"), ["mail"])
                  for i in range(6)]
        texts = []
        for m in msgids:
            try:
                conn.result(m, all=1, timeout=30)
                texts.append("")
            except ldap.LDAPError as e:
                texts.append(e.args[0].get("info", ""))
        conn.unbind_s()
    finally:
        hole.close()
    # 16 chases under way at once at most: of the 24 addresses, 8 were
    # answered without a chase (the text names the first failure only).
    assert all(t for t in texts), texts
    assert 8 < hole.searches <= 16, hole.searches
