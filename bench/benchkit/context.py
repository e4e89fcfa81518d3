"""What every phase of a run shares."""

import os
import subprocess
import sys
import time

from .measure import BenchError


class Context:
    def __init__(self, args, settings, backends, table, workdir):
        self.args = args
        self.settings = settings
        self.backends = backends
        self.table = table
        self.workdir = workdir
        self.raw = []       # every keydir-bench report, for --json
        self.notes = []     # paragraphs for the report
        self.extra = {}     # other figures (generation and load times)
        self.failures = []  # measurements that failed; the run exits 1
        self.labels = {
            "mdb": "back-mdb",
            "keydir": backends.label("keydir"),
            "anchor": "chain / pcache (OpenLDAP)",
            "keychase": "keychase",
        }
        self.started = time.monotonic()

    def say(self, msg):
        elapsed = time.monotonic() - self.started
        print(f"[{elapsed:6.0f}s] {msg}", file=sys.stderr, flush=True)

    def path(self, *parts):
        p = os.path.join(self.workdir, *parts)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        return p

    def directory(self, *parts):
        p = os.path.join(self.workdir, *parts)
        os.makedirs(p, exist_ok=True)
        return p

    def record(self, row_keys, column, rnd, report):
        self.raw.append({"rows": row_keys, "column": column, "round": rnd, "report": report})

    def fail(self, rows, column, error):
        """A column of some rows could not be measured: its cells say so
        (no partial medians) and the error goes into the report."""
        first = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        for row in rows:
            row.values.pop(column, None)
            row.skip(column, "failed, see notes")
        self.failures.append(f"{rows[0].title} / {self.labels.get(column, column)}: {first}")
        self.say(f"FAILED {rows[0].title} / {column}: {first}")

    def alternate(self, runs, outputs):
        """Runs the columns in turn, round after round (mdb, keydir, mdb,
        keydir ...), and adds each report's metrics to the rows. A column
        that fails is marked failed in these rows and not run again here.

        runs: [(column, fn(round) -> report)]; outputs: [(row, metric)].
        """
        failed = set()
        for rnd in range(self.settings.rounds):
            for column, fn in runs:
                if column in failed:
                    continue
                try:
                    report = fn(rnd)
                except (BenchError, subprocess.TimeoutExpired) as e:
                    failed.add(column)
                    self.fail([r for r, _ in outputs], column, e)
                    continue
                self.record([r.key for r, _ in outputs], column, rnd, report)
                for row, metric in outputs:
                    row.add(column, metric(report))
