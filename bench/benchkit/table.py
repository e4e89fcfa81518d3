"""Rows of the performance table, their medians and ratios, the targets,
and the report as text and markdown."""

import statistics


class Row:
    """One measurement taken for two columns over several rounds."""

    def __init__(self, key, title, unit, better, group):
        self.key = key
        self.title = title
        self.unit = unit          # "ops/s", "us", "s", "MiB"
        self.better = better      # "higher" or "lower"
        self.group = group        # "local", "scale", "chase", "memory"
        self.values = {}          # column -> [per-round values]
        self.skipped = {}         # column -> why there is no value
        self.note = ""

    def add(self, column, value):
        self.values.setdefault(column, []).append(value)

    def skip(self, column, reason):
        self.skipped[column] = reason

    def median(self, column):
        v = self.values.get(column)
        return statistics.median(v) if v else None

    def spread(self, column):
        """Half the range of the rounds, relative to the median (noise)."""
        v = self.values.get(column)
        if not v or len(v) < 2:
            return None
        m = statistics.median(v)
        return (max(v) - min(v)) / 2 / m if m else None

    def ratio(self, a, b):
        """median(b) / median(a): the second column relative to the first."""
        x, y = self.median(a), self.median(b)
        if x in (None, 0) or y is None:
            return None
        return y / x

    def to_json(self):
        return {"key": self.key, "title": self.title, "unit": self.unit, "better": self.better,
                "group": self.group, "values": self.values, "skipped": self.skipped,
                "note": self.note}


class Table:
    def __init__(self):
        self.rows = []
        self.by_key = {}

    def row(self, key, title, unit, better, group):
        if key not in self.by_key:
            r = Row(key, title, unit, better, group)
            self.rows.append(r)
            self.by_key[key] = r
        return self.by_key[key]

    def get(self, key):
        return self.by_key.get(key)


# Columns of each group: (first, second); the ratio is second / first.
COLUMNS = {
    "local": ("mdb", "keydir"),
    "scale": ("mdb", "keydir"),
    "memory": ("mdb", "keydir"),
    "chase": ("anchor", "keychase"),
}


def fmt(value, unit):
    if value is None:
        return "-"
    if unit in ("s",):
        return f"{value:.2f}"
    if unit == "MiB":
        return f"{value:,.1f}"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def cell(row, column):
    if column in row.skipped and not row.values.get(column):
        return row.skipped[column]
    m = row.median(column)
    if m is None:
        return "-"
    s = row.spread(column)
    return fmt(m, row.unit) + (f" ±{s * 100:.0f}%" if s is not None and s >= 0.005 else "")


def ratio_text(row):
    a, b = COLUMNS[row.group]
    r = row.ratio(a, b)
    return "-" if r is None else f"{r:.2f}"


class Target:
    """A goal from the issue, checked against the medians."""

    def __init__(self, text, compute):
        self.text = text
        self.compute = compute  # table -> (value or None, ok or None, detail)


def _ratio(table, key_a, col_a, key_b, col_b):
    a, b = table.get(key_a), table.get(key_b)
    if not a or not b:
        return None, "not measured"
    x, y = a.median(col_a), b.median(col_b)
    if x is None:
        return None, a.skipped.get(col_a, "not measured")
    if y is None:
        return None, b.skipped.get(col_b, "not measured")
    return (y / x if x else None), ""


def ratio_target(text, key_b, col_b, key_a, col_a, op, bound):
    """Target: median(key_b, col_b) / median(key_a, col_a) OP bound."""
    def compute(table):
        r, why = _ratio(table, key_a, col_a, key_b, col_b)
        if r is None:
            return None, None, why
        ok = r >= bound if op == ">=" else r <= bound if op == "<=" else r < bound
        return r, ok, ""
    return Target(text, compute)


TARGETS = [
    ratio_target("local lookup hit, 1 connection: keydir / back-mdb >= 1.0",
                 "lookup_hit_1", "keydir", "lookup_hit_1", "mdb", ">=", 1.0),
    ratio_target("local lookup hit, 4 connections: keydir / back-mdb >= 1.0",
                 "lookup_hit_4", "keydir", "lookup_hit_4", "mdb", ">=", 1.0),
    ratio_target("local lookup hit, 8 connections: keydir / back-mdb >= 1.0",
                 "lookup_hit_8", "keydir", "lookup_hit_8", "mdb", ">=", 1.0),
    ratio_target("synchronous add: keydir / back-mdb >= 1.0",
                 "add_sync", "keydir", "add_sync", "mdb", ">=", 1.0),
    ratio_target("slapadd time: keydir / back-mdb <= 1.5",
                 "slapadd", "keydir", "slapadd", "mdb", "<=", 1.5),
    ratio_target("lookup in the big zone >= 0.9 x lookup in the small zone (keydir)",
                 "scale_big", "keydir", "scale_small", "keydir", ">=", 0.9),
    ratio_target("warm (cached) remote lookup >= 0.9 x local hit throughput (1 connection)",
                 "warm_1", "keychase", "lookup_hit_1", "keydir", ">=", 0.9),
    ratio_target("cold 2-hop chase p50 <= 4 x local hit p50",
                 "cold_2hop", "keychase", "lookup_hit_1_p50", "keydir", "<=", 4.0),
    ratio_target("cold 2-hop chase p50 below chain's (keychase / chain < 1)",
                 "cold_2hop", "keychase", "cold_2hop", "anchor", "<", 1.0),
    ratio_target("signing adds at most 5% to a cold chase (signed / unsigned p50 <= 1.05)",
                 "cold_2hop", "keychase", "cold_2hop_unsigned", "keychase", "<=", 1.05),
    ratio_target("local lookups while an upstream hangs >= 0.8 x normal (keychase)",
                 "hang_local", "keychase", "hang_normal", "keychase", ">=", 0.8),
]


def render_text(table, labels):
    out = []
    for group, heading in (("local", "Local database"), ("scale", "Zone size"),
                           ("chase", "Chasing"), ("memory", "Memory")):
        rows = [r for r in table.rows if r.group == group]
        if not rows:
            continue
        a, b = COLUMNS[group]
        out.append(f"{heading}: {labels[a]} vs {labels[b]}")
        w = max(len(r.title) + len(r.unit) + 3 for r in rows)
        out.append(f"  {'':{w}}  {labels[a]:>26}  {labels[b]:>26}  ratio")
        for r in rows:
            out.append(f"  {r.title + ' (' + r.unit + ')':{w}}  {cell(r, a):>26.26}  "
                       f"{cell(r, b):>26.26}  {ratio_text(r)}")
        out.append("")
    out.append("Targets:")
    for t in TARGETS:
        value, ok, why = t.compute(table)
        state = "not measured: " + why if value is None else f"{value:.2f} " + (
            "met" if ok else "NOT met")
        out.append(f"  {t.text}: {state}")
    return "\n".join(out)


def render_markdown(table, labels, machine, settings_text, command, notes):
    md = ["# keydir performance", ""]
    md.append(f"Measured by `bench/run` on {machine['date']}, commit {machine['commit']}.")
    md.append("")
    md.append(f"- Machine: {machine['cpu']}, {machine['cpus']} CPUs, {machine['memory_gib']} GiB "
              f"RAM; {machine['os']}, Linux {machine['kernel']}.")
    md.append(f"- Software: slapd {machine['slapd']}, libdb5.3 {machine['libdb']}, "
              f"{machine['openssl']}.")
    md.append(f"- Load average at start / end: {' '.join(machine['loadavg'])} / "
              f"{' '.join(machine.get('loadavg_end', []))} (the machine may be shared; "
              "ratios come from alternating rounds, so load hits both columns alike).")
    md.append(f"- Settings: {settings_text}.")
    md.append("")
    for n in notes:
        md.append(n)
        md.append("")
    md.append("Each cell is the median of the rounds, with ± half their range relative to the "
              "median; the ratio is the second column's median over the first's.")
    md.append("")
    for group, heading in (("local", "Local database: keydir vs back-mdb, one slapd, same members"),
                           ("scale", "Zone size: lookups in a small and a big zone"),
                           ("chase", "Chasing: keychase vs OpenLDAP's own chain overlay and pcache"),
                           ("memory", "Memory of slapd (MiB)")):
        rows = [r for r in table.rows if r.group == group]
        if not rows:
            continue
        a, b = COLUMNS[group]
        md.append(f"## {heading}")
        md.append("")
        md.append(f"| measurement | {labels[a]} | {labels[b]} | ratio |")
        md.append("|---|---:|---:|---:|")
        for r in rows:
            title = f"{r.title} ({r.unit}, {'higher' if r.better == 'higher' else 'lower'} is better)"
            md.append(f"| {title} | {cell(r, a)} | {cell(r, b)} | {ratio_text(r)} |")
        for r in rows:
            if r.note:
                md.append("")
                md.append(f"- {r.title}: {r.note}")
        md.append("")
    md.append("## Targets")
    md.append("")
    md.append("| target | measured | state |")
    md.append("|---|---:|---|")
    for t in TARGETS:
        value, ok, why = t.compute(table)
        if value is None:
            md.append(f"| {t.text} | - | not measured: {why} |")
        else:
            md.append(f"| {t.text} | {value:.2f} | {'met' if ok else '**not met**'} |")
    md.append("")
    md.append("## How to reproduce")
    md.append("")
    md.append("```")
    md.append("tools/setup                       # packages, OpenLDAP headers, build")
    md.append(command)
    md.append("```")
    md.append("")
    md.append("`bench/run --help` lists the options; doc/performance.md "
              "describes the rows and the set-up, keydir-bench(1) the load generator.")
    md.append("")
    return "\n".join(md)


BEGIN_MARK = "<!-- bench/run writes the figures below; edit bench/benchkit/table.py instead -->"
END_MARK = "<!-- end of the figures written by bench/run -->"


def place(markdown, existing, depth):
    """The text of the output file: `markdown` between the markers of
    `existing` (a file such as doc/performance.md, its headings moved `depth` levels
    down and its title dropped), or `markdown` alone when there are none."""
    if existing is None or BEGIN_MARK not in existing or END_MARK not in existing:
        return markdown
    lines = markdown.split("\n")
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    body = "\n".join(("#" * depth + line) if line.startswith("#") else line for line in lines)
    head, rest = existing.split(BEGIN_MARK, 1)
    _, tail = rest.split(END_MARK, 1)
    return head + BEGIN_MARK + "\n" + body.strip("\n") + "\n" + END_MARK + tail
