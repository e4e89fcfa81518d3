"""slapd set-ups of the benchmark: database sections, members, loading."""

import os
import shutil
import subprocess
import time

from . import env
from keydirtest.slapd import ROOTPW, Slapd  # noqa: E402  (path set by env)

# The same equality indexes on both databases, so that they do the same work.
INDEXES = "objectClass,mail,keydirFingerprint"
MONITOR_SECTION = f'database monitor\nrootdn "cn=monitor"\nrootpw {ROOTPW}\n'


class BenchSlapd(Slapd):
    """A harness Slapd whose monitor database can be left out.

    pcache registers itself under cn=monitor at start and fails to (so
    slapd does not start) when stacked on back-ldap; the caching proxies
    run without cn=monitor.
    """

    def __init__(self, *args, monitor=True, **kw):
        # Debian's packaged configuration logs nothing (olcLogLevel: none).
        # slapd's built-in default, stats, sends two lines per operation to
        # syslog, and where no syslog daemon listens (a container) each
        # line costs a socket, a failed connect and a close: a quarter of
        # the server's CPU, the same for every database, that would hide
        # what the databases themselves cost.
        kw["globals_extra"] = "loglevel none\n" + kw.get("globals_extra", "")
        super().__init__(*args, **kw)
        self.monitor = monitor

    def config_text(self):
        text = super().config_text()
        return text if self.monitor else text.replace(MONITOR_SECTION, "")


def rootdn(suffix):
    return f"cn=admin,{suffix}" if suffix else "cn=admin"


def mdb_section(suffix, directory, maxsize_gib=8):
    return (f'database mdb\nsuffix "{suffix}"\nrootdn "{rootdn(suffix)}"\nrootpw {ROOTPW}\n'
            f"directory {directory}\nmaxsize {maxsize_gib << 30}\nindex {INDEXES} eq\n")


def keydir_section(suffix, directory, cachesize, extra=""):
    return (f'database keydir\nsuffix "{suffix}"\nrootdn "{rootdn(suffix)}"\nrootpw {ROOTPW}\n'
            f"directory {directory}\nindex {INDEXES} eq\nkeydir-cachesize {cachesize}\n{extra}")


class Backends:
    """Which database fills the keydir slot: keydir, or back-mdb standing in
    for it (--keydir-as-mdb) until the backend exists."""

    def __init__(self, keydir_as_mdb, cachesize):
        self.keydir_as_mdb = keydir_as_mdb
        self.cachesize = cachesize

    @property
    def modules(self):
        return ("back_mdb.la",) if self.keydir_as_mdb else ("back_mdb.la", "back_keydir.la")

    def section(self, kind, suffix, directory, maxsize_gib=8):
        if kind == "mdb" or self.keydir_as_mdb:
            return mdb_section(suffix, directory, maxsize_gib)
        return keydir_section(suffix, directory, self.cachesize)

    def label(self, kind):
        if kind == "keydir" and self.keydir_as_mdb:
            return "keydir (back-mdb stand-in)"
        return {"mdb": "back-mdb", "keydir": "keydir"}[kind]


def generate_members(path, base, pattern, count, first=0, zone_entry=True, seed=1):
    """Writes LDIF of `count` members with bench-members; returns seconds."""
    cmd = [env.tool("bench-members"), "--base", base, "--pattern", pattern, "--count",
           str(count), "--first", str(first), "--seed", str(seed), "--output", path]
    if zone_entry:
        cmd.append("--zone-entry")
    t = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"bench-members failed: {r.stderr.strip()}")
    return time.monotonic() - t


def slapadd(server, suffix, ldif_path, fresh_dir=None):
    """Loads LDIF into the database of `suffix` with slapadd -q; returns
    seconds. `fresh_dir` is emptied first."""
    if fresh_dir:
        shutil.rmtree(fresh_dir, ignore_errors=True)
        os.makedirs(fresh_dir)
    server.write_config()
    t = time.monotonic()
    r = subprocess.run([os.environ.get("SLAPD", "/usr/sbin/slapd"), "-T", "add", "-q", "-f",
                        server.conf_path, "-b", suffix, "-l", ldif_path],
                       capture_output=True, text=True, timeout=7200)
    seconds = time.monotonic() - t
    if r.returncode != 0:
        raise RuntimeError(f"slapadd into {suffix} failed ({r.returncode}): {r.stderr[-2000:]}")
    return seconds


def referral_ldif(suffix, referrals):
    """The top entry of `suffix` and one referral entry per (dn, url)."""
    rdn_type, rdn_value = suffix.split(",")[0].split("=", 1)
    out = f"dn: {suffix}\nobjectClass: domain\n{rdn_type}: {rdn_value}\n\n"
    for dn, url in referrals:
        t, v = dn.split(",")[0].split("=", 1)
        out += (f"dn: {dn}\nobjectClass: referral\nobjectClass: extensibleObject\n{t}: {v}\n"
                f"ref: {url}\n\n")
    return out


def slaptest(server):
    """(ok, messages): whether slapd accepts the server's configuration and
    loads its modules (-u: without opening the databases)."""
    server.write_config()
    r = subprocess.run([os.environ.get("SLAPD", "/usr/sbin/slapd"), "-T", "test", "-u", "-f",
                        server.conf_path], capture_output=True, text=True, timeout=60)
    return r.returncode == 0, r.stderr.strip()[-500:]
