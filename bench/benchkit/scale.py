"""Zone-size rows: lookups in a zone of `scale_small` members against one
of `scale_big`, for each database. back-mdb and keydir each run in a slapd
of their own holding both zones (the same LDIF files serve both)."""

import os
import subprocess

from . import env, measure, servers

SMALL = ("dc=small,dc=bench", "user%d@small.bench")
BIG = ("dc=big,dc=bench", "user%d@big.bench")
KINDS = ("mdb", "keydir")


def run(ctx):
    t, s = ctx.table, ctx.settings
    sizes = {"small": ctx.args.scale_small, "big": ctx.args.scale_big}
    zones = {"small": SMALL, "big": BIG}
    ldif = {}
    for z in ("small", "big"):
        ldif[z] = ctx.path("ldif", f"scale-{z}.ldif")
        secs = servers.generate_members(ldif[z], zones[z][0], zones[z][1], sizes[z])
        ctx.say(f"generated {sizes[z]:,} members of {zones[z][0]} in {secs:.1f} s")

    srv, dirs = {}, {}
    for kind in KINDS:
        srv[kind] = servers.BenchSlapd(name=f"bench-scale-{kind}", modules=ctx.backends.modules,
                                       workdir=ctx.directory(f"scale-{kind}"))
        for z in ("small", "big"):
            dirs[kind, z] = srv[kind].db_dir(z)
            srv[kind].add_database(ctx.backends.section(
                kind, zones[z][0], dirs[kind, z], max(2, sizes[z] * 12 // (1 << 20) + 2)))
    load = t.row("scale_slapadd", f"slapadd -q of {sizes['big']:,} members", "s", "lower",
                 "scale")
    for kind in KINDS:
        for z in ("small", "big"):
            secs = servers.slapadd(srv[kind], zones[z][0], ldif[z])
            ctx.say(f"slapadd {kind} {z}: {secs:.1f} s")
            if z == "big":
                load.add(kind, secs)
    load.note = "one load each (the slapadd row of the local table alternates rounds)."
    for z in ("small", "big"):
        os.remove(ldif[z])

    try:
        for kind in KINDS:
            srv[kind].start(timeout=300)
        # Both databases start from a warm page cache, what a long-running
        # server has (keydir still fills its own cache in the warm-up), when
        # the files fit in half the memory; otherwise both start as they are.
        files = [os.path.join(root, f) for kind in KINDS for z in ("small", "big")
                 for root, _d, names in os.walk(dirs[kind, z]) for f in names]
        total = sum(os.path.getsize(f) for f in files)
        if total < env.memory_bytes() // 2:
            for f in files:
                subprocess.run(["cat", f], stdout=subprocess.DEVNULL)
        else:
            ctx.notes.append(f"The zone-size databases ({total / 2**30:.1f} GiB) do not fit in "
                             "half the memory: the page cache was not warmed before those rows.")
        for z, key in (("small", "scale_small"), ("big", "scale_big")):
            ctx.say(f"lookups in the {z} zone ({sizes[z]:,} members)")
            base, pattern = zones[z]
            row = t.row(key, f"lookup hit in a zone of {sizes[z]:,} members, 4 connections",
                        "ops/s", "higher", "scale")
            ctx.alternate(
                [(kind, (lambda k: lambda rnd: measure.keydir_bench(
                    srv[k].uri, base, pattern, sizes[z], connections=4, seconds=s.seconds,
                    warmup=s.warmup))(kind)) for kind in KINDS],
                [(row, measure.ops)])
        rss = t.row("scale_rss", f"slapd holding zones of {sizes['small']:,} and "
                    f"{sizes['big']:,} members, after the lookups: VmRSS", "MiB", "lower", "memory")
        for kind in KINDS:
            rss.add(kind, env.memory_of(srv[kind].proc.pid)["VmRSS"])
        disk = t.row("scale_disk", f"database of {sizes['big']:,} members on disk", "MiB", "lower",
                     "memory")
        for kind in KINDS:
            disk.add(kind, env.disk_usage_mib(dirs[kind, "big"]))
    finally:
        for kind in KINDS:
            srv[kind].stop()
