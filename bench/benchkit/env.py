"""Where things are (build tree, tools, harness) and what the machine is."""

import os
import platform
import re
import subprocess
import sys
import time

TOP_SRCDIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD_DIR = os.path.abspath(os.environ.get("KEYDIR_BUILD_DIR", TOP_SRCDIR))

# The integration-test harness (Slapd, free_port, ldaptools) does the
# process handling; bench/run uses it as it is.
sys.path.insert(0, os.path.join(TOP_SRCDIR, "tests", "integration"))


def tool(name):
    """Path of a program built in tools/bench/, or an error that says how to build it."""
    path = os.path.join(BUILD_DIR, "tools", "bench", name)
    if not os.access(path, os.X_OK):
        raise SystemExit(f"bench/run: {path} is not built; run make in {BUILD_DIR} "
                         "(or set KEYDIR_BUILD_DIR to the build tree)")
    return path


def module_path(subdir, name):
    """The built slapd module backend/.libs/NAME.so (or None)."""
    path = os.path.join(BUILD_DIR, subdir, ".libs", name + ".so")
    return path if os.path.exists(path) else None


def _read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _run(cmd):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine():
    """A description of the machine and software the run used."""
    cpu = re.search(r"^model name\s*:\s*(.*)$", _read("/proc/cpuinfo"), re.M)
    mem = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    osr = re.search(r'^PRETTY_NAME="?([^"\n]*)', _read("/etc/os-release"), re.M)
    slapd = re.search(r"slapd ([0-9][^ ]*)", _run(["/usr/sbin/slapd", "-VV"]) or
                      subprocess.run(["/usr/sbin/slapd", "-VV"], capture_output=True,
                                     text=True).stderr)
    commit = _run(["git", "-C", TOP_SRCDIR, "rev-parse", "--short", "HEAD"])
    dirty = _run(["git", "-C", TOP_SRCDIR, "status", "--porcelain", "--untracked-files=no"])
    return {
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cpu": cpu.group(1).strip() if cpu else platform.processor(),
        "cpus": os.cpu_count(),
        "memory_gib": round(int(mem.group(1)) / 1048576, 1) if mem else None,
        "kernel": platform.release(),
        "os": osr.group(1) if osr else platform.system(),
        "slapd": slapd.group(1) if slapd else "?",
        "libdb": _run(["dpkg-query", "-W", "-f=${Version}", "libdb5.3"]) or "?",
        "openssl": _run(["openssl", "version"]) or "?",
        "commit": (commit + ("+changes" if dirty else "")) if commit else "?",
        "loadavg": _read("/proc/loadavg").split()[:3],
    }


def memory_bytes():
    m = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.M)
    return int(m.group(1)) * 1024 if m else 0


def loadavg():
    return _read("/proc/loadavg").split()[:3]


def memory_of(pid):
    """Resident memory of a process from /proc/PID/status, in MiB."""
    text = _read(f"/proc/{pid}/status")
    out = {}
    for key in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
        m = re.search(rf"^{key}:\s*(\d+) kB", text, re.M)
        out[key] = round(int(m.group(1)) / 1024, 1) if m else None
    return out


def disk_usage_mib(path):
    """Space taken by the files of a database directory, without Berkeley
    DB's region files (__db.*: the memory of its cache and locks, mapped
    from files) and without slapd's lock file."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for f in files:
            if f.startswith("__db.") or f == "lock.mdb" or f == "alock":
                continue
            try:
                total += os.stat(os.path.join(root, f)).st_blocks * 512
            except OSError:
                pass
    return round(total / 1048576, 1)
