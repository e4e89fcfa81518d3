"""keydir-bench against a real slapd: the report is sane (operations
counted, no errors, percentiles ordered, JSON parses), the load shapes do
what they say, and failures are counted by result code."""

import json
import os
import signal
import subprocess
import time

import pytest

from keydirtest import ldaptools
from keydirtest.slapd import BUILD_DIR, ROOTPW, database_keydir, database_mdb, free_port

# The database under test: "keydir", or "mdb" for slapd's own.
DB_KIND = "keydir"

BASE = "dc=example,dc=com"
PATTERN = "user%d@example.com"
MEMBERS = 300
ADMIN = "cn=admin," + BASE
BENCH = os.path.join(BUILD_DIR, "tools", "bench", "keydir-bench")
MEMBERS_TOOL = os.path.join(BUILD_DIR, "tools", "bench", "bench-members")


MODULES = ("back_mdb.la",) if DB_KIND == "mdb" else ("back_keydir.la",)
SECTION = database_mdb if DB_KIND == "mdb" else database_keydir


def loaded(s, members):
    """Adds the zone's database to `s` and fills it with bench-members."""
    s.add_database(SECTION(BASE, s.db_dir("zone")))
    ldif = subprocess.run([MEMBERS_TOOL, "--base", BASE, "--pattern", PATTERN, "--count",
                           str(members), "--zone-entry", "--member-key", "p256"],
                          capture_output=True, text=True, check=True).stdout
    s.tool("add", "-q", "-b", BASE, input=ldif)
    return s.start()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from keydirtest.slapd import Slapd
    s = Slapd(name="bench", modules=MODULES, workdir=str(tmp_path_factory.mktemp("slapd")))
    yield loaded(s, MEMBERS)
    s.cleanup()


def bench(server_or_uri, *args, check_rc=None, timeout=120):
    uri = server_or_uri if isinstance(server_or_uri, str) else server_or_uri.uri
    cmd = [BENCH, "-H", uri] + [str(a) for a in args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if check_rc is not None:
        assert r.returncode == check_rc, (cmd, r.returncode, r.stdout, r.stderr)
    return r


def lookups(*extra):
    return ["-b", BASE, "--address-pattern", PATTERN, "--address-count", MEMBERS] + list(extra)


def report(server, *args, rc=0):
    r = bench(server, *args, "--json", check_rc=rc)
    return json.loads(r.stdout)


def assert_sane_latency(lat):
    assert 0 < lat["min"] <= lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["p99.9"] <= lat["max"]
    assert lat["min"] <= lat["mean"] <= lat["max"]


def test_closed_loop_lookups_report_is_sane(server):
    rep = report(server, *lookups("-c", 2, "-d", 1.5, "--warmup", 0.3))
    assert rep["mode"] == "closed" and rep["connections"] == 2 and rep["outstanding"] == 1
    assert rep["errors"] == 0 and rep["errors_by_code"] == []
    assert rep["operations"] > 50
    assert rep["by_operation"]["lookup"]["operations"] == rep["operations"]
    # Every lookup of a member returned exactly its entry.
    assert rep["by_operation"]["lookup"]["entries"] == rep["operations"]
    assert 1.3 < rep["measured_seconds"] < 3.0
    assert rep["ops_per_second"] == pytest.approx(rep["operations"] / rep["measured_seconds"],
                                                  rel=0.01)
    assert_sane_latency(rep["latency_us"])
    # libldap sets TCP_NODELAY on its sockets; keydir-bench checks it.
    assert rep["tcp_connections"] == 2 and rep["tcp_nodelay"] == 2


def test_text_report(server):
    r = bench(server, *lookups("-d", 0.5, "--warmup", 0), check_rc=0)
    assert "closed loop: 1 connection(s) x 1 outstanding" in r.stdout
    assert "p99.9" in r.stdout and "errors: none" in r.stdout
    assert "TCP_NODELAY on 1 of 1 connection(s)" in r.stdout


def test_request_count_is_exact(server):
    rep = report(server, *lookups("-n", 137, "--warmup", 0, "-c", 3, "-m", 2, "-t", 2,
                                  "--distribution", "zipf"))
    assert rep["operations"] == 137 and rep["errors"] == 0
    assert rep["threads"] == 2 and rep["outstanding"] == 2


def test_open_loop_keeps_its_rate(server):
    rep = report(server, *lookups("-r", 400, "-c", 2, "-d", 2, "--warmup", 0.2))
    assert rep["mode"] == "open" and rep["rate"] == 400
    # 400/s for 2 s, whatever the server does; latency counted from the due time.
    assert rep["operations"] == pytest.approx(800, rel=0.05)
    assert rep["errors"] == 0
    assert_sane_latency(rep["latency_us"])
    assert rep["schedule_lag_us"]["p50"] <= rep["schedule_lag_us"]["max"]


def test_open_loop_charges_a_stall_to_every_queued_request(server):
    """The server stops for 0.5 s in the middle of an open-loop run: the
    requests due during the stall wait, and their latency says so (no
    coordinated omission): p90 is above the stall's half."""
    proc = subprocess.Popen([BENCH, "-H", server.uri, *map(str, lookups(
        "-r", 200, "-d", 2, "--warmup", 0, "--json"))], stdout=subprocess.PIPE, text=True)
    time.sleep(0.7)
    server.signal(signal.SIGSTOP)
    time.sleep(0.5)
    server.signal(signal.SIGCONT)
    out, _ = proc.communicate(timeout=60)
    rep = json.loads(out)
    assert proc.returncode == 0 and rep["errors"] == 0
    assert rep["operations"] == pytest.approx(400, rel=0.05)
    # ~100 requests were due during the stall; they waited 0..500 ms.
    assert rep["latency_us"]["max"] >= 400_000
    assert rep["latency_us"]["p90"] >= 100_000


def test_absent_lookups_find_nothing(server):
    rep = report(server, *lookups("-W", "absent", "-n", 50, "--warmup", 0))
    assert rep["errors"] == 0 and rep["operations"] == 50
    assert rep["by_operation"]["absent"]["entries"] == 0
    assert rep["absent_addresses"] == MEMBERS


def test_mix_with_bind_adds_and_modifies(server):
    rep = report(server, *lookups("-W", "lookup=40,absent=20,add=20,modify=20", "-n", 300,
                                  "--warmup", 0, "-c", 4, "-D", ADMIN, "-w", ROOTPW,
                                  "--add-pattern", "mixadd%d@example.com"))
    assert rep["errors"] == 0 and rep["operations"] == 300
    by = rep["by_operation"]
    assert set(by) == {"lookup", "absent", "add", "modify"}
    assert all(by[k]["operations"] > 20 for k in by)
    assert sum(by[k]["operations"] for k in by) == 300
    # The adds are real entries of the member's shape.
    r = ldaptools.search(server.uri, BASE, "(mail=mixadd*)", ["mail", "userCertificate;binary",
                                                             "keydirFingerprint"])
    assert r.rc == 0 and len(r.entries) == by["add"]["operations"]
    assert all("keydirFingerprint" in attrs for _, attrs in r.entries)
    # Modifies replaced the description of members.
    r = ldaptools.search(server.uri, BASE, "(description=keydir-bench*)", ["description"])
    assert r.rc == 0 and 0 < len(r.entries) <= by["modify"]["operations"]


def test_addresses_file_and_password_file(server, tmp_path):
    addresses = tmp_path / "addresses"
    addresses.write_text("# some members\nuser1@example.com\n\nuser2@example.com\n")
    pw = tmp_path / "pw"
    pw.write_text(ROOTPW)
    rep = report(server, "-b", BASE, "--addresses", addresses, "-n", 20, "--warmup", 0, "-D",
                 ADMIN, "-y", pw)
    assert rep["addresses"] == 2 and rep["operations"] == 20 and rep["errors"] == 0


def test_errors_are_counted_by_result_code(server):
    # A base that does not exist: every request fails with noSuchObject (32).
    r = bench(server, "-b", "dc=nowhere", "--address-pattern", PATTERN, "--address-count", 10,
              "-n", 40, "--warmup", 0, "--json", check_rc=1)
    rep = json.loads(r.stdout)
    assert rep["operations"] == 0 and rep["errors"] == 40
    assert rep["errors_by_code"] == [{"code": 32, "name": "No such object", "count": 40}]


def test_lookup_that_finds_nothing_is_an_error(server):
    r = bench(server, "-b", BASE, "--address-pattern", "ghost%d@example.com", "--address-count",
              10, "-n", 15, "--warmup", 0, "--json", check_rc=1)
    rep = json.loads(r.stdout)
    assert rep["errors_by_code"] == [{"code": None, "name": "lookup found no entry", "count": 15}]


def test_hung_server_requests_time_out(server):
    server.signal(signal.SIGSTOP)
    try:
        r = bench(server, *lookups("-c", 2, "-n", 2, "--warmup", 0, "--timeout", 0.5, "--json"),
                  check_rc=1)
    finally:
        server.signal(signal.SIGCONT)
    rep = json.loads(r.stdout)
    assert rep["operations"] == 0
    assert rep["errors_by_code"] == [{"code": -5, "name": "Timed out", "count": 2}]


def test_server_gone_mid_run_is_counted(make_slapd):
    s = loaded(make_slapd(name="doomed", modules=MODULES), 20)
    proc = subprocess.Popen([BENCH, "-H", s.uri, "-b", BASE, "--address-pattern", PATTERN,
                             "--address-count", "20", "-d", "3", "--warmup", "0", "--json"],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(1)
    s.kill9()
    out, _ = proc.communicate(timeout=30)
    rep = json.loads(out)
    assert proc.returncode == 1
    assert rep["operations"] > 0
    assert [e["code"] for e in rep["errors_by_code"]] == [-1]  # Can't contact LDAP server


@pytest.mark.parametrize("args,message", [
    (["--address-pattern", PATTERN, "--address-count", "5"], "search base (-b) is required"),
    (["-b", BASE], "needs addresses"),
    (["-b", BASE, "--address-pattern", "nobody", "--address-count", "5"], "no %d"),
    (["-b", BASE, "--addresses", "/nonexistent/file"], "/nonexistent/file"),
    (["-b", BASE, "--address-pattern", PATTERN, "--address-count", "5", "-W", "delete"],
     "unknown operation 'delete'"),
    (["-b", BASE, "--address-pattern", PATTERN, "--address-count", "5", "-D", ADMIN, "-w",
      "wrong"], "Invalid credentials"),
])
def test_bad_usage_exits_2_with_a_message(server, args, message):
    r = bench(server, *args, check_rc=2)
    assert message in r.stderr and r.stdout == ""


def test_unreachable_server_exits_2():
    r = bench(f"ldap://127.0.0.1:{free_port()}", *lookups("-n", 1), check_rc=2)
    assert "cannot connect" in r.stderr


def test_help_and_version():
    r = subprocess.run([BENCH, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--rate" in r.stdout and "--workload" in r.stdout
    r = subprocess.run([BENCH, "--version"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("keydir-bench ")
