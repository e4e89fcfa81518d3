"""What every phase of a run shares."""

import os
import sys
import time


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

    def alternate(self, runs, outputs):
        """Runs the columns in turn, round after round (mdb, keydir, mdb,
        keydir ...), and adds each report's metrics to the rows.

        runs: [(column, fn(round) -> report)]; outputs: [(row, metric)].
        """
        for rnd in range(self.settings.rounds):
            for column, fn in runs:
                report = fn(rnd)
                self.record([r.key for r, _ in outputs], column, rnd, report)
                for row, metric in outputs:
                    row.add(column, metric(report))
