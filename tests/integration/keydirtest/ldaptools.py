"""The real ldap-utils (ldapsearch, ldapadd ...) driven from tests.

Each call returns a Result with the exit code (the LDAP result code for
ldap-utils), stdout, stderr, and for searches the entries parsed from LDIF.
"""

import base64
import subprocess
from dataclasses import dataclass, field

from .slapd import ROOTPW


@dataclass
class Result:
    rc: int
    out: str
    err: str
    entries: list = field(default_factory=list)  # [(dn, {attr: [values]})]

    def dns(self):
        return [dn for dn, _ in self.entries]

    def entry(self, dn):
        for d, attrs in self.entries:
            if d.lower() == dn.lower():
                return attrs
        return None


def parse_ldif(text):
    """Parses ldapsearch -LLL output into [(dn, {attr: [bytes-or-str]})]."""
    entries, cur_dn, attrs = [], None, {}
    lines = []
    for raw in text.splitlines():
        if raw.startswith(" ") and lines:
            lines[-1] += raw[1:]
        else:
            lines.append(raw)
    for line in lines + [""]:
        if line.startswith("#"):
            continue
        if not line.strip():
            if cur_dn is not None:
                entries.append((cur_dn, attrs))
            cur_dn, attrs = None, {}
            continue
        name, value = line.split(":", 1)
        if value.startswith(":"):
            value = base64.b64decode(value[1:].strip())
            try:
                value = value.decode()
            except UnicodeDecodeError:
                pass
        else:
            value = value[1:] if value.startswith(" ") else value
        if name.lower() == "dn":
            cur_dn = value
        elif name.lower() == "ref" and cur_dn is None:
            entries.append(("ref:" + value, {}))
        else:
            attrs.setdefault(name, []).append(value)
    return entries


def _run(cmd, input=None, timeout=60):
    r = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    return Result(r.returncode, r.stdout, r.stderr)


def auth(binddn, password):
    if binddn is None:
        return ["-x"]
    return ["-x", "-D", binddn, "-w", password if password is not None else ROOTPW]


def search(uri, base, filt="(objectClass=*)", attrs=(), scope="sub", binddn=None,
           password=None, extra=(), timeout=60):
    cmd = ["ldapsearch", "-LLL", "-o", "ldif-wrap=no", "-H", uri] + auth(binddn, password) + \
        ["-b", base, "-s", scope] + list(extra) + [filt] + list(attrs)
    r = _run(cmd, timeout=timeout)
    r.entries = parse_ldif(r.out)
    return r


def add(uri, ldif, binddn, password=None, extra=()):
    return _run(["ldapadd", "-H", uri] + auth(binddn, password) + list(extra), input=ldif)


def modify(uri, ldif, binddn, password=None, extra=()):
    return _run(["ldapmodify", "-H", uri] + auth(binddn, password) + list(extra), input=ldif)


def delete(uri, dn, binddn, password=None, extra=()):
    return _run(["ldapdelete", "-H", uri] + auth(binddn, password) + list(extra) + [dn])


def modrdn(uri, dn, newrdn, binddn, password=None, delete_old=True, newsup=None, extra=()):
    cmd = ["ldapmodrdn", "-H", uri] + auth(binddn, password) + list(extra)
    if delete_old:
        cmd.append("-r")
    if newsup:
        cmd += ["-s", newsup]
    return _run(cmd + [dn, newrdn])


def compare(uri, dn, assertion, binddn=None, password=None, extra=()):
    """ldapcompare: rc 6 = compareTrue, 5 = compareFalse."""
    return _run(["ldapcompare", "-H", uri] + auth(binddn, password) + list(extra) + [dn, assertion])


def whoami(uri, binddn, password):
    return _run(["ldapwhoami", "-H", uri] + auth(binddn, password))
