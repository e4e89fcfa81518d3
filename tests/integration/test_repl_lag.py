"""Replication lag, keydir against back-mdb (repl_lag.py; run that script
with 200 adds for the figures in doc/replication.md, "Figures"). Here with
KEYDIR_REPL_LAG_ADDS adds per set-up (default 30); the table is printed
(pytest -s)."""

import os
import statistics

import repl_lag


def test_replication_lag_keydir_and_mdb():
    adds = int(os.environ.get("KEYDIR_REPL_LAG_ADDS", "30"))
    results = repl_lag.run(adds)
    print()
    print(repl_lag.table(results, adds))
    for label, kind, log, lags, acks in results:
        assert len(lags) == adds
        # Well inside the bound of a second, even on a loaded machine.
        assert statistics.median(lags) < 1.0, (label, kind, log, lags)
