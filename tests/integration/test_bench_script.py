"""bench/run end to end, shrunk to seconds: it sets up its servers, runs
the local and chase rows in alternating rounds, prints the table and
writes the markdown and JSON, with the keydir backend and keychase from
the build tree; rows whose part is missing must say what they need."""

import json
import os
import re
import subprocess
import sys

from keydirtest.slapd import BUILD_DIR, TOP_SRCDIR

RUN = os.path.join(TOP_SRCDIR, "bench", "run")
HAVE_KEYCHASE = os.path.exists(os.path.join(BUILD_DIR, "overlay", ".libs", "keychase.so"))


def run(*args, timeout=600):
    return subprocess.run([sys.executable, RUN] + [str(a) for a in args], capture_output=True,
                          text=True, timeout=timeout, env=dict(os.environ))


def test_small_run_writes_the_table(tmp_path):
    md, js = tmp_path / "performance.md", tmp_path / "performance.json"
    r = run("--phases", "local,chase", "--rounds", 2, "--seconds", 0.3,
            "--warmup", 0.1, "--members", 400, "--slapadd-rounds", 1, "--chase-members", 400,
            "--cold-requests", 20, "--output", md, "--json", js, "--workdir", tmp_path / "work")
    assert r.returncode == 0, r.stderr[-3000:]
    text = md.read_text()
    assert "| back-mdb | keydir | ratio |" in text
    assert "stand-in" not in text
    # Local rows: two numbers and a ratio each.
    for title in ("lookup hit, 1 connection (ops/s", "lookup hit, 8 connections",
                  "synchronous add, 4 connections", "synchronous modify, 4 connections",
                  "slapadd -q of 400 members", "open loop at"):
        line = next(l for l in text.splitlines() if l.startswith("| " + title))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert re.match(r"^[\d,.]+", cells[1]) and re.match(r"^[\d,.]+", cells[2]), line
        assert re.match(r"^\d+\.\d\d$", cells[3]), line
    # Chase rows: the anchor measured; keychase measured once it is built.
    for title in ("cold chase, 1 hop", "cold chase, 2 hops (", "warm (cached) remote lookup",
                  "negative cache hit", "the same while the holder hangs"):
        line = next(l for l in text.splitlines() if l.startswith("| " + title))
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert re.match(r"^[\d,.]+", cells[1]), line
        if HAVE_KEYCHASE:
            assert re.match(r"^[\d,.]+", cells[2]), line
        else:
            assert cells[2].startswith("needs keychase"), line
    assert "| chain does not sign |" in text
    assert "## Targets" in text and "## How to reproduce" in text
    assert "bench/run --phases local,chase" in text
    data = json.loads(js.read_text())
    runs = [x for x in data["runs"] if x["rows"][0] == "lookup_hit_1"]
    # Alternating rounds: mdb, keydir, mdb, keydir.
    assert [(x["round"], x["column"]) for x in runs] == [(0, "mdb"), (0, "keydir"),
                                                         (1, "mdb"), (1, "keydir")]
    assert all(x["report"]["errors"] == 0 for x in data["runs"] if x["rows"][0] != "hang_local")
    assert data["failed"] == []
    # The work directory is removed at the end.
    assert os.listdir(tmp_path / "work") == []
    # The text table went to standard output.
    assert "Targets:" in r.stdout and "lookup hit, 4 connections" in r.stdout


def test_keydir_as_mdb_is_labelled_and_placed_between_markers(tmp_path):
    """Into a file with doc/performance.md's markers: the figures replace what
    was between them, their headings one level below the Figures section; the
    rest stays."""
    sys.path.insert(0, os.path.join(TOP_SRCDIR, "bench"))
    from benchkit.table import BEGIN_MARK, END_MARK
    md = tmp_path / "performance.md"
    md.write_text(f"# Performance\n\n## Figures\n\nbefore\n{BEGIN_MARK}\nold figures\n{END_MARK}\n"
                  "after\n")
    r = run("--keydir-as-mdb", "--phases", "local", "--rounds", 1, "--seconds", 0.2, "--warmup",
            0, "--members", 200, "--slapadd-rounds", 1, "--output", md)
    assert r.returncode == 0, r.stderr[-3000:]
    text = md.read_text()
    assert "| back-mdb | keydir (back-mdb stand-in) | ratio |" in text
    assert "these figures test the benchmark itself, not keydir" in text
    assert text.startswith("# Performance\n\n## Figures\n\nbefore\n" + BEGIN_MARK + "\n")
    assert text.endswith(END_MARK + "\nafter\n") and "old figures" not in text
    assert "\n### Targets\n" in text and "# keydir performance" not in text


def test_bad_arguments_exit_2(tmp_path):
    r = run("--phases", "local,nonsense", "--output", tmp_path / "x.md")
    assert r.returncode == 2 and "unknown part(s) nonsense" in r.stderr
    r = run("--keydir-as-mdb", "--chase-members", 100, "--output", tmp_path / "x.md")
    assert r.returncode == 2 and "chase zones are too small" in r.stderr
    assert not (tmp_path / "x.md").exists()
