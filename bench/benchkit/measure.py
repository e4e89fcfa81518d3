"""Running keydir-bench and reading its JSON report."""

import json
import subprocess

from . import env
from keydirtest.slapd import ROOTPW  # noqa: E402


class BenchError(RuntimeError):
    pass


class Settings:
    """How long each measurement runs."""

    def __init__(self, rounds, seconds, warmup):
        self.rounds = rounds
        self.seconds = seconds
        self.warmup = warmup


def keydir_bench(uri, base, pattern=None, count=None, first=0, workload="lookup",
                 connections=1, outstanding=None, seconds=None, requests=None, warmup=0.0,
                 rate=None, distribution="uniform", bind_dn=None, absent_pattern=None,
                 timeout=10, extra=(), allow_errors=False, background=False):
    """Runs keydir-bench --json and returns the parsed report (or, with
    background=True, the running process)."""
    cmd = [env.tool("keydir-bench"), "-H", uri, "-b", base, "-W", workload, "-c",
           str(connections), "--warmup", str(warmup), "--distribution", distribution,
           "--timeout", str(timeout), "--json"]
    if pattern:
        cmd += ["--address-pattern", pattern, "--address-count", str(count), "--address-first",
                str(first)]
    if absent_pattern:
        cmd += ["--absent-pattern", absent_pattern]
    if outstanding:
        cmd += ["-m", str(outstanding)]
    if requests:
        cmd += ["-n", str(requests)]
    else:
        cmd += ["-d", str(seconds)]
    if rate:
        cmd += ["-r", str(rate)]
    if bind_dn:
        cmd += ["-D", bind_dn, "-w", ROOTPW]
    cmd += list(extra)
    if background:
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    limit = (seconds or 0) + warmup + timeout * 3 + 120
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    return parse(cmd, r.returncode, r.stdout, r.stderr, allow_errors)


def parse(cmd, returncode, stdout, stderr, allow_errors=False):
    if returncode == 2 or not stdout.strip():
        raise BenchError(f"keydir-bench could not run: {stderr.strip()}\n  {' '.join(cmd)}")
    report = json.loads(stdout)
    if report["errors"] and not allow_errors:
        raise BenchError("keydir-bench counted errors: " +
                         ", ".join(f"{e['count']} x {e['name']}" for e in report["errors_by_code"]) +
                         f"\n  {' '.join(cmd)}")
    return report


def finish(proc, allow_errors=True):
    """Waits for a background keydir-bench and parses its report."""
    out, err = proc.communicate(timeout=600)
    return parse(proc.args, proc.returncode, out, err, allow_errors)


def ops(report):
    return report["ops_per_second"]


def p50(report):
    return report["latency_us"]["p50"]


def p99(report):
    return report["latency_us"]["p99"]
