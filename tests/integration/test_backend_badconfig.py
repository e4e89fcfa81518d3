"""Configuration and storage faults of a keydir database: a directory that
does not exist or is not writable, unknown or malformed keydir directives,
a corrupt environment. Each stops slapd at start with a message naming the
problem (exit status 1, never a signal), or -- damage found only when a page
is read -- fails the operation with a result code while slapd keeps running."""

import os
import random
import shutil
import socket
import subprocess
import time

import pytest

from backend_pair import make_pair
from keydirtest.slapd import SLAPD, Slapd, database_keydir

LOG_LEVEL = "config"  # what an administrator runs: slapd -d config


def keydir_only(name, directory=None, extra=""):
    s = Slapd(name=name, debug_level=LOG_LEVEL)
    s.add_database(database_keydir("o=keydir", directory or s.db_dir("keydir"), extra=extra))
    return s


def fails_at_start(s, *texts):
    """Starts s expecting it to stop by itself; checks exit status and log,
    and that slaptest reports the same."""
    try:
        rc = s.start(expect_failure=True)
        log = s.log()
        assert rc == 1, f"exit status {rc}:\n{log}"
        for text in texts:
            assert text in log, f"{text!r} not in the log:\n{log}"
        r = s.tool("test", check=False)
        assert r.returncode == 1
        return log
    finally:
        s.cleanup()


def test_directory_does_not_exist(tmp_path):
    missing = str(tmp_path / "no" / "such")
    fails_at_start(keydir_only("nodir", missing), f"directory {missing} does not exist",
                   'database "o=keydir"')


def test_directory_is_a_file(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    fails_at_start(keydir_only("filedir", str(path)), f"directory {path} does not exist")


def test_directory_not_writable():
    """slapd running as nobody (slapd -u) cannot create the environment in
    a directory owned by root; with the directory given to nobody it can."""
    s = keydir_only("readonly")
    try:
        os.chmod(s.workdir, 0o755)
        shutil.chown(s.workdir, "nobody", "nogroup")
        s.write_config()
        os.chmod(s.conf_path, 0o644)
        directory = os.path.join(s.workdir, "db-keydir")
        cmd = [SLAPD, "-d", LOG_LEVEL, "-f", s.conf_path, "-h", s.uri + "/", "-u", "nobody",
               "-g", "nogroup"]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        log = r.stdout + r.stderr
        assert r.returncode == 1, log
        assert directory in log and "Permission denied" in log, log
        assert os.listdir(directory) == []  # nothing half-made
        # the control: the same start works once nobody may write there
        shutil.chown(directory, "nobody", "nogroup")
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True)
        try:
            s.proc = p  # so that cleanup stops it
            deadline = time.time() + 15
            while time.time() < deadline:
                assert p.poll() is None, "slapd as nobody failed with a writable directory"
                try:
                    socket.create_connection(("127.0.0.1", s.port), timeout=0.5).close()
                    break
                except OSError:
                    time.sleep(0.1)
            assert "id2entry.db" in os.listdir(directory)
        finally:
            s.stop()
    finally:
        s.cleanup()


@pytest.mark.parametrize("line,texts", [
    ("keydir-durability bogus", ['keydir-durability "bogus"', "sync, write-nosync or nosync"]),
    ("keydir-cachesize abc", ["keydir-cachesize", '"abc"']),
    ("keydir-cachesize 1000", ["keydir-cachesize 1000 is too small"]),
    ("keydir-checkpoint x y", ['keydir-checkpoint "x y"', "KBYTES MINUTES"]),
    ("keydir-checkpoint 1", ["keydir-checkpoint", "missing"]),
    ("index cn notags", ['index type "notags" is not supported', "subtypes"]),
    ("index cn,keydirTTL eq,sub", ['"keydirTTL" has no substrings matching rule']),
    ("index noSuchAttribute eq", ['"noSuchAttribute" undefined']),
    ("keydir-frobnicate 1", ["unknown directive <keydir-frobnicate>"]),
], ids=["durability", "cachesize-abc", "cachesize-small", "checkpoint-words",
        "checkpoint-one", "index-notags", "index-sub-unmatched", "index-undefined", "unknown"])
def test_bad_directive(line, texts):
    log = fails_at_start(keydir_only("directive", extra=line + "\n"), *texts)
    assert "line" in log  # names where


def corrupt(path, start, length, seed=1):
    data = bytearray(open(path, "rb").read())
    rnd = random.Random(seed)
    for i in range(start, min(start + length, len(data))):
        data[i] = rnd.randrange(256)
    open(path, "wb").write(data)


@pytest.mark.parametrize("damage", ["whole-file", "truncated", "first-pages"])
def test_corrupt_environment_stops_start(damage):
    s, dbs = make_pair(name="corrupt", debug_level=LOG_LEVEL)
    s.stop()
    path = os.path.join(dbs["keydir"].directory, "id2entry.db")
    size = os.path.getsize(path)
    if damage == "whole-file":
        corrupt(path, 0, size)
    elif damage == "truncated":
        with open(path, "r+b") as f:
            f.truncate(5000)
    else:
        corrupt(path, 4096, size)
    fails_at_start(s, 'database "o=keydir"', "id2entry.db" if damage != "first-pages" else "")


def test_damaged_page_fails_operations_not_slapd():
    """A damaged page in the middle of id2entry.db is found when it is read:
    Berkeley DB's page checksum fails, the operation gets unavailable (52)
    with a text, the log names the page, and slapd serves its other
    databases on."""
    s, dbs = make_pair(name="damaged", debug_level=LOG_LEVEL, data=False)
    try:
        d = dbs["keydir"]
        ldif = ["dn: {S}\nobjectClass: organization\no: keydir\n"]
        ldif += [f"dn: mail=u{i}@example.com,{{S}}\nobjectClass: keydirMember\n"
                 f"mail: u{i}@example.com\ndescription: {'x' * 300}\n" for i in range(1500)]
        assert d.add("\n".join(ldif)).rc == 0
        assert dbs["mdb"].add("dn: {S}\nobjectClass: organization\no: mdb\n").rc == 0
        s.stop()
        path = os.path.join(d.directory, "id2entry.db")
        pages = os.path.getsize(path) // 4096
        corrupt(path, (pages // 2) * 4096, 4096)
        s.start()
        r = d.search("", "(objectClass=*)", attrs=["1.1"])
        assert r.rc == 52, r.err
        assert "unavailable" in r.err
        assert 0 < len(r.rels) < 1501
        assert s.running()
        assert "checksum error" in s.log()
        assert dbs["mdb"].search("", scope="base").rc == 0
        s.stop()
        assert s.proc is None
    finally:
        s.cleanup()
