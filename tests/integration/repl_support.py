"""Shared pieces of the replication tests (test_repl_*.py): servers built
with keydirtest.replication, the zone data they replicate, and the checks
(two servers hold the same entries, contextCSN per serverID, waiting with
a deadline).

The database type of every server is a parameter (kind="keydir" or
"mdb"), so that a test can put back-mdb next to keydir where it compares.
"""

import os
import re
import time

from keydirtest import ldaptools
from keydirtest import replication as R
from keydirtest.slapd import ROOTPW, Slapd, database_keydir, database_mdb

ZONE = "dc=tovaris,dc=com"
ZONE_ADMIN = "cn=admin," + ZONE

# slapd debug levels (slapd -d): stats (256) for one line per operation,
# sync (16384) for syncprov's and syncrepl's own account of what they do.
STATS_SYNC = str(256 | 16384)
SYNC = "16384"

# Generous deadline for anything that is only "eventually" (a loaded
# 2-core machine); the tests that the issue bounds say so themselves.
DEADLINE = 60


def rootdn(suffix):
    return "cn=admin," + suffix if suffix else "cn=admin"


def database(kind, suffix, directory, extra=""):
    make = database_keydir if kind == "keydir" else database_mdb
    return make(suffix, directory, extra=extra)


# -- servers ---------------------------------------------------------------

def provider(make_slapd, name="master", kind="keydir", suffix=ZONE, sessionlog=1000,
             checkpoint=(100, 10), accesslog=None, debug_level=SYNC, extra=""):
    """A syncprov provider (not started). accesslog: None, or the kind of
    the accesslog database ("mdb"/"keydir") for delta-syncrepl, whose
    suffix is then cn=accesslog."""
    s = make_slapd(name=name, debug_level=debug_level,
                   modules=R.modules_for(provider=True, accesslog=bool(accesslog),
                                         mdb=kind == "mdb" or accesslog == "mdb"))
    parts = [R.SYNC_INDEX, extra, R.provider(checkpoint=checkpoint, sessionlog=sessionlog)]
    if accesslog:
        s.add_database(R.accesslog_database("cn=accesslog", s.db_dir("accesslog"), rootdn(suffix),
                                            kind=accesslog))
        parts.append(R.accesslog_overlay("cn=accesslog"))
    s.add_database(database(kind, suffix, s.db_dir("zone"), R.section_extra(*parts)))
    s.suffix = suffix
    s.kind = kind
    return s


def consumer(make_slapd, master, name="secondary", kind="keydir", suffix=ZONE, rid=1,
             credentials=ROOTPW, delta=False, debug_level=SYNC, **kw):
    """A syncrepl consumer of master (not started); kw go to
    replication.consumer (type, interval, updateref ...)."""
    s = make_slapd(name=name, debug_level=debug_level,
                   modules=R.modules_for(mdb=kind == "mdb"))
    if delta:
        line = R.delta_consumer(rid, master.uri, suffix, "cn=accesslog", rootdn(suffix),
                                credentials, **kw)
    else:
        line = R.consumer(rid, master.uri, suffix, rootdn(suffix), credentials, **kw)
    s.add_database(database(kind, suffix, s.db_dir("zone"), R.section_extra(R.SYNC_INDEX, line)))
    s.suffix = suffix
    s.kind = kind
    return s


def multiprovider(make_slapd, n=2, kind="keydir", suffix="", debug_level=SYNC, names=None):
    """n members of a multi-provider set (not started), serverIDs 1..n,
    each replicating from every other one."""
    names = names or [f"root{i}" for i in range(1, n + 1)]
    servers = [make_slapd(name=names[i], globals_extra=R.server_id(i + 1),
                          debug_level=debug_level,
                          modules=R.modules_for(provider=True, mdb=kind == "mdb"))
               for i in range(n)]
    for i, s in enumerate(servers):
        peers = {j + 1: o.uri for j, o in enumerate(servers) if o is not s}
        extra = R.section_extra(R.multiprovider_member(i + 1, peers, suffix, rootdn(suffix), ROOTPW))
        s.add_database(database(kind, suffix, s.db_dir("root"), extra))
        s.suffix = suffix
        s.kind = kind
    return servers


# -- data ------------------------------------------------------------------

def zone_ldif(suffix=ZONE):
    dc = suffix.split(",")[0].split("=", 1)[1]
    return (f"dn: {suffix}\nobjectClass: domain\nobjectClass: keydirZone\ndc: {dc}\n"
            "keydirTTL: 3600\n")


def member_ldif(address, suffix=ZONE, cn=None):
    """A member entry without a certificate (cheap to make by the hundred;
    the tests that need keys issue them with keydir-admin)."""
    return (f"dn: mail={address},{suffix}\nobjectClass: keydirMember\nmail: {address}\n"
            f"cn: {cn or address.split('@')[0]}\ndescription: member {address}\n")


def members_ldif(n, prefix="user", domain="tovaris.com", suffix=ZONE):
    return "\n".join(member_ldif(f"{prefix}{i:03d}@{domain}", suffix) for i in range(n))


def pointer_ldif(address, holder_uri, suffix=ZONE):
    """A root's pointer to a member: a referral entry at the member's DN."""
    dn = f"mail={address},{suffix}"
    return (f"dn: {dn}\nobjectClass: referral\nobjectClass: extensibleObject\n"
            f"mail: {address}\nref: {holder_uri}/{dn}\n")


def member_dn(address, suffix=ZONE):
    return f"mail={address},{suffix}"


# -- checks ----------------------------------------------------------------

# Operational attributes computed where they are read, not replicated
# (auditContext: the accesslog overlay's pointer to its log).
SKIP = {"hassubordinates", "structuralobjectclass", "subschemasubentry", "entrydn",
        "contextcsn", "auditcontext"}


def view(s, base=None):
    """Every entry below base (ManageDsaIT: referral entries as entries)
    with every user and operational attribute, as {dn: {attr: values}};
    None when the server does not answer."""
    base = s.suffix if base is None else base
    r = ldaptools.search(s.uri, base, attrs=["*", "+"], binddn=rootdn(s.suffix),
                         password=ROOTPW, extra=("-M",), timeout=30)
    if r.rc == 32:
        return {}
    if r.rc != 0:
        return None
    return {dn.lower(): {k.lower(): sorted(map(str, v)) for k, v in a.items()
                         if k.lower() not in SKIP}
            for dn, a in r.entries}


def context_csns(s, base=None):
    """contextCSN of the suffix as {serverID: CSN}."""
    base = s.suffix if base is None else base
    r = ldaptools.search(s.uri, base, attrs=["contextCSN"], scope="base",
                         binddn=rootdn(s.suffix), password=ROOTPW)
    if r.rc != 0 or not r.entries:
        return None
    out = {}
    for csn in r.entries[0][1].get("contextCSN", []):
        out[int(csn.split("#")[2], 16)] = csn
    return out


def has_entry(s, dn, manage=True):
    r = ldaptools.search(s.uri, dn, attrs=["1.1"], scope="base",
                         extra=("-M",) if manage else ())
    return r.rc == 0 and bool(r.entries)


def wait_for(predicate, what, timeout=DEADLINE, interval=0.1):
    """Polls predicate until true; fails with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def diff(want, got):
    missing = sorted(set(want) - set(got))[:5]
    extra = sorted(set(got) - set(want))[:5]
    differ = [dn for dn in want if dn in got and want[dn] != got[dn]][:3]
    detail = {dn: {k: (want[dn].get(k), got[dn].get(k)) for k in set(want[dn]) | set(got[dn])
                   if want[dn].get(k) != got[dn].get(k)} for dn in differ}
    return f"missing {missing}, extra {extra}, differing {detail}"


def wait_same(a, b, timeout=DEADLINE, base=None):
    """Waits until a and b hold the same entries (every attribute,
    entryUUID and entryCSN included); returns that view."""
    deadline = time.monotonic() + timeout
    while True:
        want, got = view(a, base), view(b, base)
        if want is not None and want == got:
            return want
        if time.monotonic() > deadline:
            raise AssertionError(f"{b.name} not in step with {a.name} after {timeout}s: "
                                 + (diff(want, got) if want is not None and got is not None
                                    else f"no answer ({want is None}, {got is None})"))
        time.sleep(0.2)


def log_since(s, mark):
    """The server's log after the marker line mark_log wrote."""
    with open(s.log_path, errors="replace") as f:
        text = f.read()
    return text.split(mark, 1)[1] if mark in text else ""


def mark_log(s, label):
    """Writes a marker into the server's log (slapd appends after it)."""
    mark = f"===== {label} {time.monotonic()} ====="
    with open(s.log_path, "a") as f:
        f.write(mark + "\n")
    return mark


def count(pattern, text):
    return len(re.findall(pattern, text))


def server_log(s):
    with open(s.log_path, errors="replace") as f:
        return f.read()


def read_file(path):
    with open(path) as f:
        return f.read()


def issue_member(zone, address, workdir):
    """A member with a real key pair and certificate, issued by keydir-admin
    (p256, fast); returns its LDIF."""
    out = os.path.join(workdir, address + ".ldif")
    r = zone.admin("member", "add", address, *zone.issue_args(), "--key-type", "p256", "-o", out)
    assert r.returncode == 0, r.stderr
    return read_file(out)


class Servers:
    """make_slapd for module-scoped fixtures: makes Slapd objects and
    cleans every one of them up (cleanup())."""

    def __init__(self):
        self.made = []

    def __call__(self, **kw):
        s = Slapd(**kw)
        self.made.append(s)
        return s

    def cleanup(self):
        for s in self.made:
            s.cleanup()
