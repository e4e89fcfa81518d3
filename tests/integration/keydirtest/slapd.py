"""Real slapd processes on 127.0.0.1 for the integration tests.

A Slapd is one /usr/sbin/slapd process with a slapd.conf written from
parts, its own directory, a free port, and its log. It runs in the
foreground (-d) in its own process group, so that stopping it, or the test
run ending in any way, takes every process it started with it.
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

SLAPD = os.environ.get("SLAPD", "/usr/sbin/slapd")
TOP_SRCDIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
BUILD_DIR = os.path.abspath(os.environ.get("KEYDIR_BUILD_DIR", TOP_SRCDIR))
SYSTEM_SCHEMA_DIR = os.environ.get("KEYDIR_SYSTEM_SCHEMA", "/etc/ldap/schema")
SYSTEM_MODULE_DIR = os.environ.get("KEYDIR_SYSTEM_MODULES", "/usr/lib/ldap")
KEYDIR_SCHEMA = os.path.join(TOP_SRCDIR, "schema", "keydir.schema")
# GnuPG's LDAP keyserver schema (OpenPGP keys), loaded after keydir.schema.
GNUPG_SCHEMA = os.path.join(TOP_SRCDIR, "schema", "gnupg.schema")
ROOTPW = "secret"
# A sanitizer runtime to preload into slapd (and its tools), for modules
# built with --enable-sanitizers: slapd itself is not built with it.
SLAPD_PRELOAD = os.environ.get("KEYDIR_SLAPD_PRELOAD", "")
# With a preload: a build of the same sources without sanitizers for the
# slapd -T tools (slapadd ...), which only prepare the data of a test.
# slapadd with the ASan runtime preloaded was seen to hang at exit in
# p11-kit's destructor (freelocale waiting for glibc's locale lock).
TOOL_BUILD_DIR = os.environ.get("KEYDIR_TOOL_BUILD_DIR", "")


def slapd_env():
    """The environment slapd and slapd -T run with."""
    env = dict(os.environ)
    if SLAPD_PRELOAD:
        env["LD_PRELOAD"] = SLAPD_PRELOAD
    return env

_running = []


def _stop_all():
    for s in list(_running):
        s.stop()


atexit.register(_stop_all)


def _on_signal(signum, frame):
    _stop_all()
    raise SystemExit(128 + signum)


for _sig in (signal.SIGTERM, signal.SIGHUP):
    signal.signal(_sig, _on_signal)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def module_dirs(build_dir=None):
    """Where slapd finds our modules (the build tree) and the system's."""
    build_dir = build_dir or BUILD_DIR
    dirs = [
        os.path.join(build_dir, "backend", ".libs"),
        os.path.join(build_dir, "overlay", ".libs"),
        SYSTEM_MODULE_DIR,
    ]
    return [d for d in dirs if os.path.isdir(d)]


def database_mdb(suffix, directory, rootdn=None, extra=""):
    """A back-mdb database section (the reference the tests compare with)."""
    rootdn = rootdn or "cn=admin," + suffix if suffix else "cn=admin"
    return (
        "database mdb\n"
        f'suffix "{suffix}"\n'
        f'rootdn "{rootdn}"\n'
        f"rootpw {ROOTPW}\n"
        f"directory {directory}\n"
        "maxsize 1073741824\n"
        "index objectClass,mail eq\n"
        f"{extra}\n"
    )


def database_keydir(suffix, directory, rootdn=None, extra=""):
    """A keydir database section."""
    rootdn = rootdn or "cn=admin," + suffix if suffix else "cn=admin"
    return (
        "database keydir\n"
        f'suffix "{suffix}"\n'
        f'rootdn "{rootdn}"\n'
        f"rootpw {ROOTPW}\n"
        f"directory {directory}\n"
        "index objectClass,mail,keydirFingerprint eq\n"
        f"{extra}\n"
    )


class Slapd:
    """One slapd process. Use as a context manager or call start()/stop()."""

    def __init__(self, name="slapd", workdir=None, modules=("back_keydir.la",),
                 schemas=("core", "cosine", "inetorgperson"), keydir_schema=True,
                 globals_extra="", port=None, debug_level="none", schema_files=()):
        self.name = name
        self._own_workdir = workdir is None
        self.workdir = workdir or tempfile.mkdtemp(prefix=f"keydir-{name}-")
        self.port = port or free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.modules = list(modules)
        self.schemas = list(schemas)
        self.keydir_schema = keydir_schema
        self.schema_files = list(schema_files)  # more schema files, included last
        self.globals_extra = globals_extra
        self.databases = []
        self.debug_level = debug_level
        self.proc = None
        self.conf_path = os.path.join(self.workdir, "slapd.conf")
        self.config_dir = None  # when set: slapd -F config_dir (cn=config), not slapd.conf
        self.log_path = os.path.join(self.workdir, "slapd.log")
        self._module_build_dir = None  # tool(): another build's modules

    # -- configuration -------------------------------------------------
    def db_dir(self, name):
        """A fresh directory for a database, inside this server's workdir."""
        path = os.path.join(self.workdir, "db-" + name)
        os.makedirs(path, exist_ok=True)
        return path

    def add_database(self, section):
        self.databases.append(section)
        return self

    def config_text(self):
        lines = []
        for s in self.schemas:
            lines.append(f"include {SYSTEM_SCHEMA_DIR}/{s}.schema")
        if self.keydir_schema:
            lines.append(f"include {KEYDIR_SCHEMA}")
        for path in self.schema_files:
            lines.append(f"include {path}")
        lines.append(f"pidfile {self.workdir}/slapd.pid")
        lines.append(f"argsfile {self.workdir}/slapd.args")
        # One modulepath line: each one replaces the search path before it.
        lines.append("modulepath " + ":".join(module_dirs(self._module_build_dir)))
        modules = list(self.modules)
        if any(d.startswith("database mdb") for d in self.databases) and "back_mdb.la" not in modules:
            modules.append("back_mdb.la")
        for m in modules:
            lines.append(f"moduleload {m}")
        lines.append(self.globals_extra)
        lines.append("database config")
        lines.append('rootdn "cn=config"')
        lines.append(f"rootpw {ROOTPW}")
        lines.append("database monitor")
        lines.append('rootdn "cn=monitor"')
        lines.append(f"rootpw {ROOTPW}")
        lines.extend(self.databases)
        return "\n".join(lines) + "\n"

    def write_config(self):
        with open(self.conf_path, "w") as f:
            f.write(self.config_text())

    def config_args(self):
        """-F config_dir, or -f slapd.conf (written afresh)."""
        if self.config_dir:
            return ["-F", self.config_dir]
        self.write_config()
        return ["-f", self.conf_path]

    # -- tools (slapadd, slapcat, slaptest) ------------------------------
    def tool(self, tool, *args, input=None, check=True):
        """Runs `slapd -T<tool>` on this server's configuration."""
        env = slapd_env()
        if SLAPD_PRELOAD and TOOL_BUILD_DIR and not self.config_dir:
            self._module_build_dir = TOOL_BUILD_DIR
            env.pop("LD_PRELOAD", None)
        try:
            cmd = [SLAPD, "-T", tool] + self.config_args() + list(args)
        finally:
            self._module_build_dir = None
        r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=600, env=env)
        if check and r.returncode != 0:
            raise RuntimeError(f"slap{tool} failed ({r.returncode}): {r.stderr}")
        return r

    # -- process ---------------------------------------------------------
    def start(self, timeout=15, expect_failure=False):
        args = self.config_args()
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [SLAPD, "-d", self.debug_level] + args + ["-h", self.uri + "/"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=slapd_env())
        log.close()
        _running.append(self)
        if expect_failure:
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.stop()
                raise RuntimeError(f"{self.name}: slapd started but was expected to fail")
            _running.remove(self)
            return self.proc.returncode
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                _running.remove(self)
                raise RuntimeError(f"{self.name}: slapd exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name}: slapd did not listen on {self.uri} within {timeout}s:\n{self.log()}")

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Stops slapd (SIGTERM, then SIGKILL); idempotent."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        if self in _running:
            _running.remove(self)
        self.proc = None

    def kill9(self):
        """Kills slapd with SIGKILL, as a crash would."""
        self.stop(sig=signal.SIGKILL)

    def signal(self, sig):
        os.killpg(self.proc.pid, sig)

    def restart(self, **kw):
        self.stop()
        return self.start(**kw)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()[-8000:]
        except OSError:
            return ""

    def cleanup(self):
        self.stop()
        if self._own_workdir and os.environ.get("KEYDIR_KEEP_TEST_DIRS") != "1":
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.cleanup()
