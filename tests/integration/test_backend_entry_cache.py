"""keydir's entry cache (keydir-entry-cache, lib/store/record_cache.h): a
writer modifies, renames, deletes and re-adds entries in a loop while
readers search them by mail and by DN; no reader ever sees a value older
than the last write acknowledged before its search began, nor finds a name
that a rename or delete took away. Also: the directive in cn=config and
the counters in cn=monitor."""

import random
import threading

import ldap
import pytest

from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW, database_keydir

SUFFIX = "o=cache"
ROOTDN = "cn=admin," + SUFFIX
SLOTS = 6
WRITES = 600
READERS = 3


def name(k, gen):
    return f"s{k}g{gen}@example.com"


def dn(k, gen):
    return f"mail={name(k, gen)},{SUFFIX}"


def entry(k, gen, version):
    return [("objectClass", [b"keydirMember", b"keydirZone"]),
            ("mail", [name(k, gen).encode()]), ("description", [f"v{version}".encode()]),
            ("keydirTTL", [b"0"])]


def connect(uri):
    conn = ldap.initialize(uri)
    conn.set_option(ldap.OPT_TIMEOUT, 60)
    conn.simple_bind_s(ROOTDN, ROOTPW)
    return conn


@pytest.fixture(params=[0, 1, 100000], ids=["no-cache", "tiny-cache", "big-cache"])
def server(make_slapd, request):
    s = make_slapd(name="entry-cache")
    s.add_database(database_keydir(SUFFIX, s.db_dir("c"), rootdn=ROOTDN,
                                   extra=f"keydir-entry-cache {request.param}\n"))
    s.start()
    conn = connect(s.uri)
    conn.add_s(SUFFIX, [("objectClass", [b"organization"]), ("o", [b"cache"])])
    conn.unbind_s()
    return s


class Truth:
    """What the writer has acknowledged, per slot: (gen, version, present),
    and how many writes to the slot began and ended (so that a reader knows
    whether a write was under way during its search)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = {}
        self.started = {}
        self.ended = {}

    def snapshot(self, k):
        """The acknowledged state, the writes ended and the writes begun."""
        with self.lock:
            return self.acked[k], self.ended[k], self.started[k]

    def begin(self, k):
        with self.lock:
            self.started[k] += 1

    def ack(self, k, state):
        with self.lock:
            self.acked[k] = state
            self.ended[k] += 1


def writer(uri, truth, stop, errors):
    conn = connect(uri)
    rnd = random.Random(7)
    version = 0
    try:
        for k in range(SLOTS):
            version += 1
            conn.add_s(dn(k, 0), entry(k, 0, version))
            truth.acked[k] = (0, version, True)
            truth.started[k] = truth.ended[k] = 0
        stop.ready.set()
        for _ in range(WRITES):
            k = rnd.randrange(SLOTS)
            gen, _, present = truth.acked[k]
            version += 1
            truth.begin(k)
            if not present:
                conn.add_s(dn(k, gen + 1), entry(k, gen + 1, version))
                truth.ack(k, (gen + 1, version, True))
                continue
            op = rnd.random()
            if op < 0.6:
                conn.modify_s(dn(k, gen), [(ldap.MOD_REPLACE, "description",
                                            [f"v{version}".encode()])])
                truth.ack(k, (gen, version, True))
            elif op < 0.85:
                conn.rename_s(dn(k, gen), f"mail={name(k, gen + 1)}", delold=1)
                old_version = truth.acked[k][1]
                truth.ack(k, (gen + 1, old_version, True))
            else:
                conn.delete_s(dn(k, gen))
                truth.ack(k, (gen, truth.acked[k][1], False))
    except Exception as e:  # noqa: BLE001 -- reported by the test
        errors.append(f"writer: {e!r}")
    finally:
        stop.set()
        stop.ready.set()
        conn.unbind_s()


def versions(results):
    out = []
    for _, attrs in results:
        for v in attrs.get("description", []):
            out.append(int(v.decode()[1:]))
    return out


def reader(uri, truth, stop, errors, seed, counts):
    conn = connect(uri)
    rnd = random.Random(seed)
    stop.ready.wait(60)
    try:
        while not stop.is_set():
            k = rnd.randrange(SLOTS)
            (gen, version, present), ended, _ = truth.snapshot(k)
            by_mail = conn.search_s(SUFFIX, ldap.SCOPE_SUBTREE, f"(mail={name(k, gen)})",
                                    ["description"])
            try:
                by_dn = conn.search_s(dn(k, gen), ldap.SCOPE_BASE, "(objectClass=*)",
                                      ["description"])
            except ldap.NO_SUCH_OBJECT:
                by_dn = []
            old = []
            if gen > 0:
                old = conn.search_s(SUFFIX, ldap.SCOPE_SUBTREE, f"(mail={name(k, gen - 1)})",
                                    ["1.1"])
                try:
                    old += conn.search_s(dn(k, gen - 1), ldap.SCOPE_BASE, "(objectClass=*)",
                                         ["1.1"])
                except ldap.NO_SUCH_OBJECT:
                    pass
            # A write begun before the search ended (even one begun before
            # it started, not yet acknowledged) may take the name away.
            overlapped = truth.snapshot(k)[2] != ended
            counts[0] += 1
            for how, res in (("mail", by_mail), ("dn", by_dn)):
                seen = versions(res)
                if [v for v in seen if v < version]:
                    errors.append(f"slot {k} by {how}: saw {seen}, acknowledged v{version}")
                if present and not seen and not overlapped:
                    errors.append(f"slot {k} by {how}: {name(k, gen)} missing, no write since")
                if not present and seen:
                    errors.append(f"slot {k} by {how}: deleted {name(k, gen)} still found")
            if old:
                errors.append(f"slot {k}: old name {name(k, gen - 1)} still found after rename")
            if len(errors) > 20:
                return
    except Exception as e:  # noqa: BLE001
        errors.append(f"reader: {e!r}")
    finally:
        conn.unbind_s()


def test_readers_never_see_an_older_value(server):
    truth = Truth()
    stop = threading.Event()
    stop.ready = threading.Event()
    errors, counts = [], [0]
    threads = [threading.Thread(target=writer, args=(server.uri, truth, stop, errors))]
    threads += [threading.Thread(target=reader, args=(server.uri, truth, stop, errors, i, counts))
                for i in range(READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not [t for t in threads if t.is_alive()], "threads hung"
    assert not errors, "\n".join(errors[:20])
    assert counts[0] > 50, counts
    # The end state, read again: every slot as last acknowledged.
    conn = connect(server.uri)
    for k in range(SLOTS):
        gen, version, present = truth.acked[k]
        res = conn.search_s(SUFFIX, ldap.SCOPE_SUBTREE, f"(mail={name(k, gen)})", ["description"])
        assert versions(res) == ([version] if present else []), (k, res)
    conn.unbind_s()


def monitor_counters(s):
    r = ldaptools.search(s.uri, "cn=Databases,cn=Monitor", f"(namingContexts={SUFFIX})",
                         ["olmKeydirEntryCacheHits", "olmKeydirEntryCacheMisses",
                          "olmKeydirEntryCacheEntries", "olmKeydirDnCacheHits",
                          "olmKeydirDnCacheMisses"],
                         scope="one", binddn="cn=monitor", password=ROOTPW)
    assert r.rc == 0 and len(r.entries) == 1, r.err
    return {k: int(v[0]) for k, v in r.entries[0][1].items() if k.startswith("olm")}


def test_monitor_counts_hits_and_config_changes_size(make_slapd):
    s = make_slapd(name="entry-cache-cfg")
    s.add_database(database_keydir(SUFFIX, s.db_dir("c"), rootdn=ROOTDN,
                                   extra="keydir-entry-cache 1000\n"))
    s.start()
    conn = connect(s.uri)
    conn.add_s(SUFFIX, [("objectClass", [b"organization"]), ("o", [b"cache"])])
    conn.add_s(dn(0, 0), entry(0, 0, 1))
    before = monitor_counters(s)
    for _ in range(5):
        conn.search_s(SUFFIX, ldap.SCOPE_SUBTREE, f"(mail={name(0, 0)})", ["description"])
    after = monitor_counters(s)
    assert after["olmKeydirEntryCacheHits"] >= before["olmKeydirEntryCacheHits"] + 8
    assert after["olmKeydirDnCacheHits"] > before["olmKeydirDnCacheHits"]
    assert after["olmKeydirEntryCacheEntries"] >= 2

    cfg = ldap.initialize(s.uri)
    cfg.simple_bind_s("cn=config", ROOTPW)
    dbs = cfg.search_s("cn=config", ldap.SCOPE_ONELEVEL, "(olcSuffix=" + SUFFIX + ")",
                       ["olcKeydirEntryCache"])
    assert dbs[0][1]["olcKeydirEntryCache"] == [b"1000"]
    cfg.modify_s(dbs[0][0], [(ldap.MOD_REPLACE, "olcKeydirEntryCache", [b"0"])])
    assert monitor_counters(s)["olmKeydirEntryCacheEntries"] == 0
    hits = monitor_counters(s)["olmKeydirEntryCacheHits"]
    # Disabled: reads still correct, nothing served from memory.
    conn.modify_s(dn(0, 0), [(ldap.MOD_REPLACE, "description", [b"v2"])])
    res = conn.search_s(SUFFIX, ldap.SCOPE_SUBTREE, f"(mail={name(0, 0)})", ["description"])
    assert versions(res) == [2]
    assert monitor_counters(s)["olmKeydirEntryCacheHits"] == hits
    with pytest.raises(ldap.LDAPError):
        cfg.modify_s(dbs[0][0], [(ldap.MOD_REPLACE, "olcKeydirEntryCache", [b"99999999999"])])
    cfg.modify_s(dbs[0][0], [(ldap.MOD_REPLACE, "olcKeydirEntryCache", [b"500"])])
    for _ in range(3):
        res = conn.search_s(SUFFIX, ldap.SCOPE_SUBTREE, f"(mail={name(0, 0)})", ["description"])
        assert versions(res) == [2]
    assert monitor_counters(s)["olmKeydirEntryCacheHits"] > hits
    conn.unbind_s()
    cfg.unbind_s()
