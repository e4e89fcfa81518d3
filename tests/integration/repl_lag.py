"""Replication lag: an add on the master until the secondary answers it,
for refreshAndPersist and delta-syncrepl, keydir databases against the
same set-up with back-mdb, in one run.

Each add is made and then waited for (python-ldap on both ends; the
secondary is asked for the new entry every 0.5 ms), so each lag is that of
one change on an otherwise idle pair. The accesslog of delta-syncrepl is
back-mdb in both rows (the recommended set-up); the "keydir, keydir log"
row puts the log in keydir too.

    /usr/bin/python3 tests/integration/repl_lag.py [ADDS]     (default 200)

test_repl_lag.py runs it with fewer adds.
"""

import os
import statistics
import sys
import time

import ldap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import repl_support as RS  # noqa: E402
from keydirtest import ldaptools  # noqa: E402
from keydirtest.slapd import ROOTPW  # noqa: E402

ADMIN = (RS.ZONE_ADMIN, ROOTPW)

# (label, database kind, delta-syncrepl accesslog kind or None)
SETUPS = [
    ("refreshAndPersist", "keydir", None),
    ("refreshAndPersist", "mdb", None),
    ("delta-syncrepl", "keydir", "mdb"),
    ("delta-syncrepl", "mdb", "mdb"),
    ("delta-syncrepl, keydir log", "keydir", "keydir"),
]


def percentile(values, p):
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(p / 100.0 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def measure(kind, accesslog, adds, timeout=30):
    """Lags (seconds) of `adds` adds, and the master's add latencies."""
    made = RS.Servers()
    try:
        master = RS.provider(made, kind=kind, accesslog=accesslog, debug_level="none")
        secondary = RS.consumer(made, master, kind=kind, delta=bool(accesslog),
                                debug_level="none")
        master.start()
        assert ldaptools.add(master.uri, RS.zone_ldif(), *ADMIN).rc == 0
        secondary.start()
        RS.wait_same(master, secondary)
        writer = ldap.initialize(master.uri)
        writer.simple_bind_s(*ADMIN)
        reader = ldap.initialize(secondary.uri)
        reader.simple_bind_s()
        lags, acks = [], []
        for i in range(adds):
            address = f"lag{i:04d}@tovaris.com"
            dn = RS.member_dn(address)
            start = time.monotonic()
            writer.add_s(dn, [("objectClass", [b"keydirMember"]), ("mail", [address.encode()]),
                              ("cn", [b"lag"])])
            acks.append(time.monotonic() - start)
            while True:
                try:
                    if reader.search_s(dn, ldap.SCOPE_BASE, "(objectClass=*)", ["1.1"]):
                        break
                except ldap.NO_SUCH_OBJECT:
                    pass
                if time.monotonic() - start > timeout:
                    raise AssertionError(f"{dn} not on the secondary after {timeout}s")
                time.sleep(0.0005)
            lags.append(time.monotonic() - start)
        writer.unbind_s()
        reader.unbind_s()
        return lags, acks
    finally:
        made.cleanup()


def run(adds):
    """[(label, kind, accesslog, lags, acks)] for every set-up."""
    return [(label, kind, log) + measure(kind, log, adds) for label, kind, log in SETUPS]


def table(results, adds):
    ms = 1000.0
    lines = [f"replication lag, {adds} adds each (add sent on the master -> answered by the "
             "secondary), ms",
             f"{'mode':<28}{'database':<10}{'median':>8}{'p99':>8}{'max':>8}"
             f"{'add ack median':>16}"]
    for label, kind, log, lags, acks in results:
        lines.append(f"{label:<28}{kind:<10}{statistics.median(lags) * ms:>8.1f}"
                     f"{percentile(lags, 99) * ms:>8.1f}{max(lags) * ms:>8.1f}"
                     f"{statistics.median(acks) * ms:>16.1f}")
    return "\n".join(lines)


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(table(run(n), n))
