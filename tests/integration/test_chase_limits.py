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
    local = [f"keychase-timeout {TIMEOUT}", f"keychase-total-timeout {TOTAL}",
             "keychase-threads 8"]
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
