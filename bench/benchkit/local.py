"""Local rows: one slapd holding a back-mdb and a keydir database with the
same members; lookups, adds, modifies and slapadd, in alternating rounds;
then the memory of each database on its own."""

import os
import shutil
import time

from . import env, measure, servers

ZONES = {
    "mdb": ("dc=mdb,dc=bench", "user%d@mdb.bench"),
    "keydir": ("dc=keydir,dc=bench", "user%d@keydir.bench"),
}
KINDS = ("mdb", "keydir")


def maxsize_gib(members):
    # About 6 KB per member in back-mdb with its indexes, doubled for adds.
    return max(2, members * 12 // (1 << 20) + 2)


def run(ctx):
    t, n = ctx.table, ctx.args.members
    ldif = {}
    for kind in KINDS:
        base, pattern = ZONES[kind]
        ldif[kind] = ctx.path("ldif", f"local-{kind}.ldif")
        secs = servers.generate_members(ldif[kind], base, pattern, n)
        ctx.say(f"generated {n:,} members of {base} in {secs:.1f} s")
        ctx.extra[f"generate_{kind}_seconds"] = round(secs, 2)

    main = servers.BenchSlapd(name="bench-main", modules=ctx.backends.modules,
                              workdir=ctx.directory("main"))
    dirs = {kind: main.db_dir(kind) for kind in KINDS}
    for kind in KINDS:
        main.add_database(ctx.backends.section(kind, ZONES[kind][0], dirs[kind], maxsize_gib(n)))

    row = t.row("slapadd", f"slapadd -q of {n:,} members", "s", "lower", "local")
    for rnd in range(ctx.args.slapadd_rounds):
        for kind in KINDS:
            secs = servers.slapadd(main, ZONES[kind][0], ldif[kind], fresh_dir=dirs[kind])
            row.add(kind, secs)
            ctx.say(f"slapadd {kind} round {rnd + 1}: {secs:.1f} s")
    for kind in KINDS:
        os.remove(ldif[kind])
    disk = t.row("disk", f"database on disk after slapadd of {n:,} members", "MiB", "lower",
                 "memory")
    for kind in KINDS:
        disk.add(kind, env.disk_usage_mib(dirs[kind]))

    main.start(timeout=120)
    try:
        measure_main(ctx, main, n)
    finally:
        main.stop()
    measure_memory(ctx, dirs, n)
    shutil.rmtree(main.workdir, ignore_errors=True)  # room for the zone-size databases


def measure_main(ctx, main, n):
    s, t = ctx.settings, ctx.table

    def lookup(kind, **kw):
        base, pattern = ZONES[kind]
        kw.setdefault("seconds", s.seconds)
        kw.setdefault("warmup", s.warmup)
        return lambda rnd: measure.keydir_bench(main.uri, base, pattern, n, **kw)

    def runs(**kw):
        return [(kind, lookup(kind, **kw)) for kind in KINDS]

    ctx.say("lookup hit, 1 connection")
    ctx.alternate(runs(connections=1), [
        (t.row("lookup_hit_1", "lookup hit, 1 connection", "ops/s", "higher", "local"), measure.ops),
        (t.row("lookup_hit_1_p50", "lookup hit, 1 connection: p50 latency", "us", "lower", "local"),
         measure.p50)])
    for c in (4, 8):
        ctx.say(f"lookup hit, {c} connections")
        ctx.alternate(runs(connections=c), [
            (t.row(f"lookup_hit_{c}", f"lookup hit, {c} connections", "ops/s", "higher", "local"),
             measure.ops)])
    ctx.say("lookup hit, Zipf")
    ctx.alternate(runs(connections=4, distribution="zipf"), [
        (t.row("lookup_zipf_4", "lookup hit, Zipf s=1, 4 connections", "ops/s", "higher", "local"),
         measure.ops)])
    ctx.say("lookup of absent addresses")
    ctx.alternate(runs(connections=4, workload="absent"), [
        (t.row("lookup_absent_4", "lookup of an absent address, 4 connections", "ops/s", "higher",
               "local"), measure.ops)])

    # Open loop at half of back-mdb's closed-loop maximum: the latency a
    # server gives under a load it can carry, queueing included.
    rate = round(0.5 * t.get("lookup_hit_4").median("mdb"))
    ctx.say(f"open loop at {rate} lookups/s")
    ctx.alternate(runs(connections=4, rate=rate), [
        (t.row("open_p50", f"open loop at {rate:,}/s (half of back-mdb's 4-connection maximum): "
               "p50 latency", "us", "lower", "local"), measure.p50),
        (t.row("open_p99", f"open loop at {rate:,}/s: p99 latency", "us", "lower", "local"),
         measure.p99)])

    for workload, key, title in (("add", "add_sync", "synchronous add, 4 connections"),
                                 ("modify", "modify_sync", "synchronous modify, 4 connections"),
                                 ("lookup=90,absent=5,modify=5", "mix_4",
                                  "mix lookup 90% / absent 5% / modify 5%, 4 connections")):
        ctx.say(title)
        ctx.alternate(
            [(kind, lookup(kind, connections=4, workload=workload,
                           bind_dn=servers.rootdn(ZONES[kind][0]))) for kind in KINDS],
            [(t.row(key, title, "ops/s", "higher", "local"), measure.ops)])


def measure_memory(ctx, dirs, n):
    """Each database alone in a slapd: resident memory after start and after
    every member was read once (caches full)."""
    t = ctx.table
    idle = t.row("rss_idle", "slapd with one database, after start: VmRSS", "MiB", "lower", "memory")
    full = t.row("rss_full", f"after reading all {n:,} members: VmRSS", "MiB", "lower", "memory")
    peak = t.row("rss_peak", f"after reading all {n:,} members: VmHWM (peak)", "MiB", "lower",
                 "memory")
    for kind in KINDS:
        srv = servers.BenchSlapd(name=f"bench-mem-{kind}", modules=ctx.backends.modules,
                                 workdir=ctx.directory(f"mem-{kind}"))
        srv.add_database(ctx.backends.section(kind, ZONES[kind][0], dirs[kind], maxsize_gib(n)))
        srv.start(timeout=120)
        try:
            time.sleep(0.5)
            idle.add(kind, env.memory_of(srv.proc.pid)["VmRSS"])
            base, pattern = ZONES[kind]
            measure.keydir_bench(srv.uri, base, pattern, n, connections=4, requests=n,
                                 distribution="sequential")
            m = env.memory_of(srv.proc.pid)
            full.add(kind, m["VmRSS"])
            peak.add(kind, m["VmHWM"])
            ctx.extra[f"memory_{kind}"] = m
            ctx.say(f"memory {kind}: {m}")
        finally:
            srv.stop()
            shutil.rmtree(srv.workdir, ignore_errors=True)
    full.note = ("one round each: back-mdb's figure counts the pages of its memory "
                             "map that were touched; keydir's counts its Berkeley DB cache "
                             f"(keydir-cachesize {ctx.backends.cachesize}).")
