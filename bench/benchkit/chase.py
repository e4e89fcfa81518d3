"""Chase rows: a lookup of an address held by another server, cold (chased
through 1 or 2 referrals), warm (cached), negative (cached "not found"),
and local lookups while an upstream hangs.

Both columns use the same topology on 127.0.0.1:

    holder   H  zones dc=one,dc=test and dc=two,dc=test (the members)
    keyspace K  dc=test, refers dc=two,dc=test to H
    root     R  refers dc=one,dc=test to H (1 hop) and dc=two,dc=test to K (2 hops)
    local    L  the server the client asks; also holds a local zone

The anchor column is OpenLDAP's own machinery. slapd 2.5.13 crashes
(SIGSEGV in pcache's response callback, on the second lookup of an
address) when pcache is stacked with the chain overlay, and fails an
assertion in ldap_chain_uri_cmp (chain.c:228) with chain-cache-uri TRUE;
so the anchor is split: cold chases and the hang go through the chain
overlay on a back-ldap database (chase-referrals off, chain-max-depth 2,
the key space and the holder listed with chain-uri; nothing is cached),
cached lookups through pcache on a back-ldap database that points at the
holder.

The keychase column runs when the keydir backend and the keychase overlay
are built, signed (keychase-key, keychase-sign; keychase-require-signed on
the servers peers ask) when keychase accepts the signing directives; cells
whose part is missing say what they need.
"""

import base64
import os
import signal
import subprocess
import threading
import time

from . import env, measure, servers
from keydirtest.slapd import ROOTPW  # noqa: E402

ONE = ("dc=one,dc=test", "user%d@one.test")
TWO = ("dc=two,dc=test", "user%d@two.test")
LOCAL = ("dc=local,dc=bench", "user%d@local.bench")
ABSENT = "nobody%d@one.test"
CHASE_TIMEOUT = 2  # seconds per hop, for keychase (chain has no equivalent)


def load_zones(srv, section, ldif, zones):
    for base, _ in zones:
        srv.add_database(section(base, srv.db_dir(base.split(",")[0].split("=")[1])))
    for base, _ in zones:
        servers.slapadd(srv, base, ldif[base])


class AnchorNetwork:
    """OpenLDAP's chain overlay and pcache, on back-mdb servers."""

    def __init__(self, ctx, ldif, chain_uris=("{holder}", "{keyspace}"), cache_uri=False):
        mk = servers.BenchSlapd
        mdb = servers.mdb_section
        self.servers = []
        self.holder = self._add(mk(name="anchor-holder", modules=("back_mdb.la",),
                                   workdir=ctx.directory("anchor", "holder")))
        load_zones(self.holder, mdb, ldif, (ONE, TWO))
        self.holder.start(timeout=120)
        self.keyspace = self._add(mk(name="anchor-keyspace", modules=("back_mdb.la",),
                                     workdir=ctx.directory("anchor", "keyspace")))
        self.keyspace.add_database(mdb("dc=test", self.keyspace.db_dir("test"), 1))
        self.keyspace.tool("add", "-b", "dc=test", input=servers.referral_ldif(
            "dc=test", [(TWO[0], f"{self.holder.uri}/{TWO[0]}")]))
        self.keyspace.start()
        self.root = self._add(mk(name="anchor-root", modules=("back_mdb.la",),
                                 workdir=ctx.directory("anchor", "root")))
        self.root.add_database(mdb("dc=test", self.root.db_dir("test"), 1))
        self.root.tool("add", "-b", "dc=test", input=servers.referral_ldif(
            "dc=test", [(ONE[0], f"{self.holder.uri}/{ONE[0]}"),
                        (TWO[0], f"{self.keyspace.uri}/{TWO[0]}")]))
        self.root.start()

        # The chasing node: back-ldap towards the root returns referrals,
        # the chain overlay follows them (up to 2 deep).
        self.chain = self._add(mk(name="anchor-chain", modules=("back_mdb.la", "back_ldap.la"),
                                  workdir=ctx.directory("anchor", "chain"), monitor=False))
        self.chain.add_database(
            f'database ldap\nsuffix "dc=test"\nrootdn "cn=admin,dc=test"\nrootpw {ROOTPW}\n'
            f'uri "{self.root.uri}/"\nchase-referrals no\n'
            "overlay chain\nchain-max-depth 2\nchain-return-error TRUE\n"
            f"chain-cache-uri {'TRUE' if cache_uri else 'FALSE'}\n" +
            "".join(f'chain-uri "{u.format(holder=self.holder.uri, keyspace=self.keyspace.uri)}"\n'
                    for u in chain_uris))
        load_zones(self.chain, mdb, ldif, (LOCAL,))
        self.chain.start()

        # The caching node: pcache on back-ldap towards the holder.
        self.pcache = self._add(mk(name="anchor-pcache",
                                   modules=("back_mdb.la", "back_ldap.la", "pcache.la"),
                                   workdir=ctx.directory("anchor", "pcache"), monitor=False))
        self.pcache.add_database(
            f'database ldap\nsuffix "{ONE[0]}"\nrootdn "cn=admin,{ONE[0]}"\nrootpw {ROOTPW}\n'
            f'uri "{self.holder.uri}/"\n'
            "overlay pcache\npcache mdb 200000 1 1000 60\n"
            "pcacheAttrset 0 mail userCertificate;binary\n"
            "pcacheTemplate (mail=) 0 3600 600\npcacheMaxQueries 200000\n"
            f"directory {self.pcache.db_dir('cache')}\nmaxsize {4 << 30}\nindex objectClass eq\n")
        self.pcache.start()

    def _add(self, s):
        self.servers.append(s)
        return s

    def stop(self):
        for s in self.servers:
            if s.running():
                try:
                    s.signal(signal.SIGCONT)
                except ProcessLookupError:
                    pass
            s.stop()


def keychase_status(ctx):
    """None if keychase can run here, else what it needs."""
    if ctx.backends.keydir_as_mdb:
        return "needs keychase (and the keydir backend; this run used --keydir-as-mdb)"
    if not env.module_path("overlay", "keychase"):
        return "needs keychase (overlay/.libs/keychase.so is not built)"
    return None


def _secret(ctx):
    path = ctx.path("keychase", "bench.key")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write(base64.b64encode(os.urandom(32)).decode() + "\n")
        os.chmod(path, 0o600)
    return path


def keychase_overlay(ctx, signing, resolver=None):
    """The keychase section of a server; `resolver` (the root's URI) makes a
    resolving node that chases and caches."""
    text = "overlay keychase\n"
    if signing:
        text += f"keychase-key bench {_secret(ctx)}\nkeychase-sign bench\n"
        # Servers that peers ask refuse unsigned chasing; the resolving node
        # serves its own (unsigned, anonymous) clients.
        if not resolver:
            text += "keychase-require-signed on\n"
    if resolver:
        # The benchmark's servers listen on 127.0.0.1 (not a public address).
        text += (f"keychase-root {resolver}\nkeychase-max-hops 4\n"
                 "keychase-referral-allow 127.0.0.1\n"
                 f"keychase-timeout {CHASE_TIMEOUT}\nkeychase-total-timeout {3 * CHASE_TIMEOUT}\n"
                 "keychase-cache-entries 200000\n"
                 "keychase-cache-ttl 3600\nkeychase-negative-ttl 600\n")
    return text


def signing_status(ctx):
    """None if keychase accepts the signing directives, else what is missing."""
    probe = servers.BenchSlapd(name="probe-signing", modules=("back_keydir.la", "keychase.la"),
                               workdir=ctx.directory("keychase", "probe"))
    probe.add_database(servers.keydir_section("dc=probe", probe.db_dir("p"), ctx.backends.cachesize,
                                              keychase_overlay(ctx, True)))
    ok, msg = servers.slaptest(probe)
    if ok:
        return None
    # The line that names the refused directive, without the file's path.
    lines = [l for l in msg.splitlines() if "keychase" in l] or msg.splitlines() or ["?"]
    ctx.notes.append("keychase signing is not available: slaptest said `" +
                     lines[0].split(": ", 1)[-1] + "`.")
    return "needs keychase signing"


class KeychaseNetwork:
    """The same topology on keydir databases with keychase."""

    def __init__(self, ctx, ldif, signing, name="keychase"):
        mk = servers.BenchSlapd
        mods = ("back_keydir.la", "keychase.la")
        cache = ctx.backends.cachesize
        overlay = keychase_overlay(ctx, signing)

        def section(base, d):
            return servers.keydir_section(base, d, cache, overlay)

        self.servers = []
        self.holder = self._add(mk(name=f"{name}-holder", modules=mods,
                                   workdir=ctx.directory(name, "holder")))
        load_zones(self.holder, section, ldif, (ONE, TWO))
        self.holder.start(timeout=120)
        self.keyspace = self._add(mk(name=f"{name}-keyspace", modules=mods,
                                     workdir=ctx.directory(name, "keyspace")))
        self.keyspace.add_database(section("dc=test", self.keyspace.db_dir("test")))
        self.keyspace.tool("add", "-b", "dc=test", input=servers.referral_ldif(
            "dc=test", [(TWO[0], f"{self.holder.uri}/{TWO[0]}")]))
        self.keyspace.start()
        # The root serves the null suffix, as a root cluster does.
        self.root = self._add(mk(name=f"{name}-root", modules=mods,
                                 workdir=ctx.directory(name, "root")))
        self.root.add_database(section("", self.root.db_dir("root")))
        self.root.tool("add", "-b", "", input=servers.referral_ldif(
            "dc=test", [(ONE[0], f"{self.holder.uri}/{ONE[0]}"),
                        (TWO[0], f"{self.keyspace.uri}/{TWO[0]}")]))
        self.root.start()
        self.local = self._add(mk(name=f"{name}-local", modules=mods, debug_level=os.environ.get("KC_DEBUG", "0"),
                                  workdir=ctx.directory(name, "local")))
        load_zones(self.local, section, ldif, (LOCAL,))
        self.local.add_database(servers.keydir_section(
            "", self.local.db_dir("catchall"), cache,
            keychase_overlay(ctx, signing, resolver=self.root.uri)))
        self.local.start()
        # One node serves the chain and the cache rows.
        self.chain = self.pcache = self.local

    _add = AnchorNetwork._add
    stop = AnchorNetwork.stop


def run(ctx):
    t, n = ctx.table, ctx.args.chase_members
    cold_n, warm_n = ctx.args.cold_requests, min(1000, n // 2)
    ldif = {}
    for base, pattern in (ONE, TWO, LOCAL):
        ldif[base] = ctx.path("ldif", f"chase-{base.split(',')[0].split('=')[1]}.ldif")
        servers.generate_members(ldif[base], base, pattern, n)

    rows = {
        "cold_1hop": t.row("cold_1hop", "cold chase, 1 hop (root -> holder): p50 latency", "us",
                           "lower", "chase"),
        "cold_2hop": t.row("cold_2hop", "cold chase, 2 hops (root -> key space -> holder): "
                           "p50 latency", "us", "lower", "chase"),
        "cold_2hop_unsigned": t.row("cold_2hop_unsigned", "cold chase, 2 hops, signing off: "
                                    "p50 latency", "us", "lower", "chase"),
        "warm_1": t.row("warm_1", "warm (cached) remote lookup, 1 connection", "ops/s", "higher",
                        "chase"),
        "warm_1_p50": t.row("warm_1_p50", "warm remote lookup, 1 connection: p50 latency", "us",
                            "lower", "chase"),
        "warm_4": t.row("warm_4", "warm remote lookup, 4 connections", "ops/s", "higher", "chase"),
        "negative_4": t.row("negative_4", "negative cache hit (absent address), 4 connections",
                            "ops/s", "higher", "chase"),
        "hang_normal": t.row("hang_normal", "local lookups on the chasing node, 4 connections",
                             "ops/s", "higher", "chase"),
        "hang_local": t.row("hang_local", "the same while the holder hangs (SIGSTOP) under 32 "
                            "chasing connections", "ops/s", "higher", "chase"),
        "rss_cache": t.row("rss_cache", f"caching node after {warm_n:,} keys and {warm_n:,} "
                           "absent addresses were cached: VmRSS", "MiB", "lower", "chase"),
    }
    rows["cold_2hop_unsigned"].skip("anchor", "chain does not sign")
    rows["rss_cache"].note = "one measurement after the warm and negative rows."
    rows["hang_normal"].note = ("the chasing node's own zone is back-mdb in the anchor and keydir "
                                "in the keychase column: compare each column's two rows, hang "
                                "over normal.")

    networks = {}
    try:
        ctx.say("starting the chain/pcache anchor network")
        networks["anchor"] = AnchorNetwork(ctx, ldif)
        kc_missing = keychase_status(ctx)
        sign_missing = None
        if kc_missing is None:
            sign_missing = signing_status(ctx)
            ctx.say("starting the keychase network" + (" (signing off: " + sign_missing + ")"
                                                        if sign_missing else ""))
            networks["keychase"] = KeychaseNetwork(ctx, ldif, signing=sign_missing is None)
            if sign_missing is None:
                networks["keychase-unsigned"] = KeychaseNetwork(ctx, ldif, signing=False,
                                                                name="keychase-unsigned")
        else:
            for r in rows.values():
                r.skip("keychase", kc_missing)
        if sign_missing:
            rows["cold_2hop_unsigned"].skip("keychase", sign_missing)
            ctx.notes.append("The keychase column ran with signing off (" + sign_missing +
                             "); its cold, warm and negative rows are to be signed.")
        cols = [c for c in ("anchor", "keychase") if c in networks]
        measure_rows(ctx, networks, cols, rows, n, cold_n, warm_n)
    finally:
        for net in networks.values():
            net.stop()


def measure_rows(ctx, networks, cols, rows, n, cold_n, warm_n):
    s = ctx.settings
    first_cold = n // 2  # cold slices lie above the warm set

    def cold(node, zone):
        def fn(rnd):
            return measure.keydir_bench(node.uri, zone[0], zone[1], cold_n,
                                        first=first_cold + rnd * cold_n, requests=cold_n,
                                        distribution="sequential", connections=1)
        return fn

    ctx.say("cold chases, 1 hop")
    ctx.alternate([(c, cold(networks[c].chain, ONE)) for c in cols],
                  [(rows["cold_1hop"], measure.p50)])
    ctx.say("cold chases, 2 hops")
    ctx.alternate([(c, cold(networks[c].chain, TWO)) for c in cols],
                  [(rows["cold_2hop"], measure.p50)])
    if "keychase-unsigned" in networks:
        ctx.say("cold chases, 2 hops, signing off")
        ctx.alternate([("keychase", cold(networks["keychase-unsigned"].chain, TWO))],
                      [(rows["cold_2hop_unsigned"], measure.p50)])

    # Fill the caches: every warm key and every absent address once.
    cache_cols = list(cols)
    for c in cols:
        node = networks[c].pcache
        try:
            measure.keydir_bench(node.uri, ONE[0], ONE[1], warm_n, requests=warm_n,
                                 distribution="sequential", connections=4)
            measure.keydir_bench(node.uri, ONE[0], ONE[1], warm_n, requests=warm_n,
                                 workload="absent", absent_pattern=ABSENT,
                                 distribution="sequential", connections=4)
        except (measure.BenchError, subprocess.TimeoutExpired) as e:
            ctx.fail([rows[k] for k in ("warm_1", "warm_1_p50", "warm_4", "negative_4",
                                        "rss_cache")], c, e)
            cache_cols.remove(c)

    def warm(node, **kw):
        return lambda rnd: measure.keydir_bench(node.uri, ONE[0], ONE[1], warm_n,
                                                seconds=s.seconds, warmup=s.warmup, **kw)

    ctx.say("warm (cached) remote lookups")
    ctx.alternate([(c, warm(networks[c].pcache, connections=1)) for c in cache_cols],
                  [(rows["warm_1"], measure.ops), (rows["warm_1_p50"], measure.p50)])
    ctx.alternate([(c, warm(networks[c].pcache, connections=4)) for c in cache_cols],
                  [(rows["warm_4"], measure.ops)])
    ctx.say("negative cache hits")
    ctx.alternate([(c, warm(networks[c].pcache, connections=4, workload="absent",
                            absent_pattern=ABSENT)) for c in cache_cols],
                  [(rows["negative_4"], measure.ops)])
    for c in cache_cols:
        if networks[c].pcache.running():
            rows["rss_cache"].add(c, env.memory_of(networks[c].pcache.proc.pid)["VmRSS"])

    ctx.say("local lookups while an upstream hangs")
    # The chasers ask for addresses no row has chased yet, a slice of its
    # own for every round and column: an address one round's chasers asked
    # for is cached once the holder resumes, and chasers answered from the
    # cache would measure CPU contention, not a hung upstream.
    hang_first = first_cold + s.rounds * cold_n
    slice_n = max(1, (n - hang_first) // (s.rounds * len(cols)))
    failed = set()
    for rnd in range(s.rounds):
        for ci, c in enumerate(cols):
            if c in failed:
                continue
            first = hang_first + (rnd * len(cols) + ci) * slice_n
            try:
                normal, hung = hang_round(ctx, networks[c], n, first, slice_n)
            except (measure.BenchError, subprocess.TimeoutExpired) as e:
                failed.add(c)
                ctx.fail([rows["hang_normal"], rows["hang_local"]], c, e)
                continue
            ctx.record(["hang_normal"], c, rnd, normal)
            ctx.record(["hang_local"], c, rnd, hung)
            rows["hang_normal"].add(c, measure.ops(normal))
            rows["hang_local"].add(c, measure.ops(hung))


def hang_round(ctx, net, n, chase_first, chase_count):
    """Local lookups on the chasing node, then the same while the holder is
    stopped and 32 connections chase addresses it holds."""
    s = ctx.settings
    node = net.chain

    def local(**kw):
        return measure.keydir_bench(node.uri, LOCAL[0], LOCAL[1], n, connections=4,
                                    seconds=s.seconds, warmup=s.warmup, **kw)

    normal = local()
    net.holder.signal(signal.SIGSTOP)
    resume = None
    try:
        chasers = measure.keydir_bench(
            node.uri, ONE[0], ONE[1], chase_count, first=chase_first, connections=32,
            seconds=s.seconds + s.warmup + 3, distribution="uniform", timeout=120,
            allow_errors=True, background=True)
        time.sleep(0.5)  # let the chases reach the holder and wait there
        # Resume the holder once the measured window is over, so that local
        # requests stuck behind it finish and are counted with their wait.
        resume = threading.Timer(s.warmup + s.seconds + 0.2,
                                 lambda: net.holder.signal(signal.SIGCONT))
        resume.start()
        hung = local(timeout=120, allow_errors=True)
    finally:
        if resume:
            resume.cancel()
        net.holder.signal(signal.SIGCONT)
    measure.finish(chasers)
    return normal, hung
