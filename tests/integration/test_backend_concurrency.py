"""Concurrency on keydir and back-mdb: many threads writing the same few
entries at once all succeed (keydir retries deadlocks inside), every change
counts, readers never see half a change, and adds racing a delete of their
parent leave no orphan."""

import random
import threading

import ldap

from backend_pair import db, pair_server  # noqa: F401
from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW

WRITERS = 8
OPS = 25
HOT = 3


def connect(d):
    conn = ldap.initialize(d.uri)
    conn.set_option(ldap.OPT_TIMEOUT, 60)
    conn.simple_bind_s(d.rootdn, ROOTPW)
    return conn


def run_threads(fns):
    errors = []

    def wrap(fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(repr(e))

    threads = [threading.Thread(target=wrap, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not [t for t in threads if t.is_alive()], "threads hung"
    return errors


def test_many_writers_on_the_same_entries(db):
    ou = db.fresh("hot")
    dns = [db.dn(f"mail=hot{k}@example.com,{ou}") for k in range(HOT)]
    for k, dn in enumerate(dns):
        assert db.add(f"dn: {dn}\nobjectClass: keydirMember\nobjectClass: keydirZone\n"
                      f"mail: hot{k}@example.com\ncn: start\ndescription: start\n"
                      "keydirTTL: 0\n").rc == 0
    done = [[] for _ in range(HOT)]  # values written, per entry
    lock = threading.Lock()
    stop = threading.Event()
    torn = []

    def writer(i):
        conn = connect(db)
        rnd = random.Random(i)
        for n in range(OPS):
            k = rnd.randrange(HOT)
            value = f"w{i}-{n}".encode()
            # cn and a description value change together, with a counter
            conn.modify_s(dns[k], [(ldap.MOD_INCREMENT, "keydirTTL", [b"1"]),
                                   (ldap.MOD_REPLACE, "cn", [value]),
                                   (ldap.MOD_ADD, "description", [value])])
            with lock:
                done[k].append(value.decode())
        conn.unbind_s()

    read_errors = []

    def reader():
        try:
            conn = connect(db)
            while not stop.is_set():
                for dn in dns:
                    _, attrs = conn.search_s(dn, ldap.SCOPE_BASE,
                                             attrlist=["cn", "description"])[0]
                    if attrs["cn"][0] not in attrs["description"]:
                        torn.append((dn, attrs["cn"][0]))
            conn.unbind_s()
        except Exception as e:  # noqa: BLE001 -- reported below
            read_errors.append(repr(e))

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for t in readers:
        t.start()
    errors = run_threads([lambda i=i: writer(i) for i in range(WRITERS)])
    stop.set()
    for t in readers:
        t.join(60)
    assert errors == [], errors[:5]
    assert read_errors == [], read_errors[:5]
    assert torn == [], "a reader saw cn without its description"
    for k in range(HOT):
        e = db.entry(f"mail=hot{k}@example.com,{ou}")
        assert e["keydirTTL"] == [str(len(done[k]))]
        assert sorted(e["description"]) == sorted(done[k] + ["start"])
    assert sum(len(v) for v in done) == WRITERS * OPS


def test_adds_racing_the_delete_of_their_parent(db):
    ou = db.fresh("race")
    parent = db.dn(f"ou=p,{ou}")
    assert db.add(f"dn: {parent}\nobjectClass: organizationalUnit\nou: p\n").rc == 0
    outcome = {}

    def adder(i):
        conn = connect(db)
        for n in range(20):
            try:
                conn.add_s(f"cn=c{i}-{n},{parent}", [("objectClass", [b"person"]),
                                                      ("cn", [f"c{i}-{n}".encode()]),
                                                      ("sn", [b"x"])])
            except ldap.NO_SUCH_OBJECT:
                return  # the parent is gone: fine
        conn.unbind_s()

    def deleter():
        conn = connect(db)
        for _ in range(200):
            try:
                children = conn.search_s(parent, ldap.SCOPE_ONELEVEL, attrlist=["1.1"])
                for dn, _ in children:
                    conn.delete_s(dn)
                conn.delete_s(parent)
                outcome["deleted"] = True
                return
            except (ldap.NOT_ALLOWED_ON_NONLEAF, ldap.NO_SUCH_OBJECT):
                continue
        conn.unbind_s()

    errors = run_threads([lambda i=i: adder(i) for i in range(4)] + [deleter])
    assert errors == [], errors[:5]
    r = db.search(ou, attrs=["1.1"])
    rels = set(r.rels)
    orphans = [rel for rel in rels if rel != ou and rel.split(",", 1)[1] not in rels]
    assert orphans == []
    if outcome.get("deleted"):
        assert rels == {ou}


def test_deadlock_counters_after_contention(pair_server):
    """Report (and sanity-check) keydir's deadlock and retry counters."""
    d = pair_server["keydir"]
    r = ldaptools.search(d.uri, "cn=Databases,cn=Monitor", "(namingContexts=o=keydir)",
                         ["olmKeydirDeadlocks", "olmKeydirRetries", "olmKeydirTxnAborted"],
                         scope="one", binddn="cn=monitor", password=ROOTPW)
    m = {k: int(v[0]) for k, v in r.entries[0][1].items()}
    print(f"\nkeydir after the concurrency tests: {m}")
    assert m["olmKeydirRetries"] >= 0 and m["olmKeydirDeadlocks"] >= 0
