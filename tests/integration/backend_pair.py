"""A keydir database and a back-mdb database side by side, for the backend tests.

One slapd holds both databases with the same configuration (indexes, ACLs)
and the same content under different suffixes: o=keydir and o=mdb. Each
backend test runs against both (the `db` fixture is parametrized) and
expects the same answer from both; answers are compared with the suffix
normalised away (Db.norm). Where keydir differs on purpose, the test says
so and checks each side's documented behaviour.

A test module configures its server with a module-level dict PAIR (see
pair_server); the server lives for the module, and write tests work in a
subtree of their own (Db.fresh) so that they do not disturb each other.
"""

import base64
import itertools
import os
import re

import pytest

from backend_certs import certificate, member_attrs
from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW, Slapd, database_keydir, database_mdb

DBS = ("keydir", "mdb")
SUFFIXES = {"keydir": "o=keydir", "mdb": "o=mdb"}
MODULES = ("back_keydir.la", "back_mdb.la")
# The same equality indexes on both sides (database_keydir's list).
INDEXES = "objectClass,mail,keydirFingerprint"

ROOT = "root"  # bind as the database's rootdn


# -- the base data set -------------------------------------------------------

class Model:
    """One entry of the data set: a DN relative to the suffix and its
    attributes (lower-case names -> list of values)."""

    def __init__(self, rel, attrs):
        self.rel = rel
        self.attrs = {k.lower(): list(v) for k, v in attrs.items()}

    def get(self, attr):
        return self.attrs.get(attr.lower(), [])

    def has(self, attr, value=None):
        vals = [v.lower() for v in self.get(attr) if isinstance(v, str)]
        return bool(vals) if value is None else value.lower() in vals


def fingerprint(mail):
    """The keydirFingerprint of the data set's certificate for mail."""
    return certificate(mail, member_days(mail))[1]


def member_days(mail):
    """Days of validity of a member's certificate: they differ, so that
    keydirNotAfter can be searched with ordering filters."""
    return 400 + sum(mail.encode()) % 700


def member(i, parent="ou=people", domain="example.com", name="user"):
    mail = f"{name}{i:02d}@{domain}"
    attrs = {
        "objectClass": ["keydirMember"],
        "mail": [mail],
        "cn": [f"{name.capitalize()} {i:02d}"],
        "description": [f"member {i:02d}"],
        "keydirStatus": ["revoked" if i % 5 == 0 else "active"],
        **member_attrs(mail, member_days(mail)),
    }
    if i < 3:
        attrs["userPassword"] = [f"pw{i:02d}"]
    return Model(f"mail={name}{i:02d}@{domain},{parent}", attrs)


def person(cn, title):
    return Model(f"cn={cn},ou=staff", {
        "objectClass": ["inetOrgPerson"], "cn": [cn], "sn": [cn.capitalize()],
        "mail": [f"{cn}@staff.example.net"], "title": [title],
        "userPassword": [f"{cn}pw"],
    })


def base_entries(kind):
    """The data set every pair server starts with."""
    out = [Model("", {"objectClass": ["organization", "keydirZone"], "o": [kind],
                      "keydirTTL": ["3600"], "description": ["the zone"]})]
    out.append(Model("ou=people", {"objectClass": ["organizationalUnit"], "ou": ["people"]}))
    out += [member(i) for i in range(30)]
    out.append(Model("ou=contractors,ou=people",
                     {"objectClass": ["organizationalUnit"], "ou": ["contractors"]}))
    out += [member(i, "ou=contractors,ou=people", "example.org", "contractor") for i in range(3)]
    out.append(Model("ou=staff", {"objectClass": ["organizationalUnit"], "ou": ["staff"]}))
    out += [person("alice", "admin"), person("bob", "auditor"), person("carol", "clerk")]
    out.append(Model("ou=groups", {"objectClass": ["organizationalUnit"], "ou": ["groups"]}))
    out.append(Model("cn=admins,ou=groups", {"objectClass": ["groupOfNames"], "cn": ["admins"],
                                             "member": ["cn=alice,ou=staff,{S}"]}))
    out.append(Model("ou=private", {"objectClass": ["organizationalUnit"], "ou": ["private"],
                                    "description": ["hidden"]}))
    out.append(Model("cn=secret,ou=private", {"objectClass": ["organizationalRole"],
                                              "cn": ["secret"], "description": ["top secret"]}))
    return out


def to_ldif(entries, suffix):
    blocks = []
    for e in entries:
        dn = f"{e.rel},{suffix}" if e.rel else suffix
        lines = [f"dn: {dn}"]
        for name, values in e.attrs.items():
            for v in values:
                if isinstance(v, bytes):
                    lines.append(f"{name}:: {base64.b64encode(v).decode()}")
                else:
                    lines.append(f"{name}: {v.replace('{S}', suffix)}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


# -- result helpers ------------------------------------------------------------

def matched_dn(r):
    """The matched DN the tool printed, or None."""
    m = re.search(r"(?im)^\s*matched dn:\s*(.*?)\s*$", r.out + "\n" + r.err)
    return m.group(1) if m else None


def referrals(r):
    """Referral URLs of a result (ldapsearch 'Referral:' lines, ldapadd/
    ldapmodify 'referrals:' blocks)."""
    text = r.out + "\n" + r.err
    urls = re.findall(r"(?m)^\s*Referral:\s*(\S+)", text)
    m = re.search(r"(?ms)^\s*referrals:\s*\n((?:\s+\S+\n?)+)", text)
    if m:
        urls += m.group(1).split()
    return urls


def search_refs(r):
    """Continuation references (search result references) of a search."""
    return re.findall(r"(?m)^# ref(\S+)", r.out)


# -- one database of the pair ----------------------------------------------

class Db:
    """One of the two databases: builds DNs, runs the real tools as the
    rootdn (or another identity), normalises answers."""

    _counter = itertools.count()

    def __init__(self, server, kind):
        self.server = server
        self.kind = kind
        self.suffix = SUFFIXES[kind]
        self.rootdn = "cn=admin," + self.suffix
        self.directory = os.path.join(server.workdir, "db-" + kind)

    def __repr__(self):
        return f"Db({self.kind})"

    @property
    def uri(self):
        return self.server.uri

    def dn(self, rel=""):
        return f"{rel},{self.suffix}" if rel else self.suffix

    def rel(self, dn):
        """The DN relative to the suffix, lower case ('' for the suffix)."""
        low = dn.lower()
        suf = self.suffix.lower()
        if low == suf:
            return ""
        assert low.endswith("," + suf), f"{dn} is not below {self.suffix}"
        return low[: -len(suf) - 1]

    def norm(self, text):
        """Text with this database's suffix (and its o value) made neutral."""
        text = re.sub(re.escape(self.suffix) + r"\b", "o=SUFFIX", text, flags=re.I)
        return re.sub(r"(?im)^o: " + self.kind + "$", "o: SUFFIX", text)

    def norm_entry(self, attrs, skip=()):
        """An entry's attributes with the suffix normalised: {name: sorted values}."""
        out = {}
        for name, values in attrs.items():
            if name.lower() in skip:
                continue
            if name.lower() == "o":
                values = ["SUFFIX" if v == self.kind else v for v in values]
            out[name.lower()] = sorted(self.norm(str(v)) for v in values)
        return out

    def ldif(self, template):
        return template.replace("{S}", self.suffix)

    def fresh(self, prefix="t"):
        """A new, empty ou below the suffix for one test; returns its rel DN."""
        name = f"{prefix}{next(Db._counter)}"
        r = self.add(f"dn: ou={name},{{S}}\nobjectClass: organizationalUnit\nou: {name}\n")
        assert r.rc == 0, r.err
        return f"ou={name}"

    def _auth(self, bind, password):
        if bind is None:
            return None, None
        if bind == ROOT:
            return self.rootdn, ROOTPW
        return self.dn(bind), password

    # The real tools; DNs are relative to the suffix, LDIF uses {S}.
    def search(self, base="", filt="(objectClass=*)", attrs=(), scope="sub", bind=ROOT,
               password=None, extra=(), timeout=60):
        binddn, pw = self._auth(bind, password)
        r = ldaptools.search(self.uri, self.dn(base), filt, attrs, scope, binddn, pw,
                             extra, timeout)
        r.rels = sorted(self.rel(dn) for dn in r.dns() if not dn.startswith("ref:"))
        return r

    def add(self, template, bind=ROOT, password=None, extra=()):
        binddn, pw = self._auth(bind, password)
        return ldaptools.add(self.uri, self.ldif(template), binddn, pw, extra)

    def modify(self, template, bind=ROOT, password=None, extra=()):
        binddn, pw = self._auth(bind, password)
        return ldaptools.modify(self.uri, self.ldif(template), binddn, pw, extra)

    def delete(self, rel, bind=ROOT, password=None, extra=()):
        binddn, pw = self._auth(bind, password)
        return ldaptools.delete(self.uri, self.dn(rel), binddn, pw, extra)

    def modrdn(self, rel, newrdn, delete_old=True, newsup=None, bind=ROOT, password=None,
               extra=()):
        binddn, pw = self._auth(bind, password)
        return ldaptools.modrdn(self.uri, self.dn(rel), newrdn, binddn, pw, delete_old,
                                self.dn(newsup) if newsup is not None else None, extra)

    def compare(self, rel, assertion, bind=ROOT, password=None, extra=()):
        binddn, pw = self._auth(bind, password)
        return ldaptools.compare(self.uri, self.dn(rel), assertion, binddn, pw, extra)

    def entry(self, rel, attrs=("*", "+"), bind=ROOT, password=None):
        """The attributes of one entry ({name: [values]}), or None."""
        r = self.search(rel, attrs=attrs, scope="base", bind=bind, password=password)
        if r.rc != 0 or not r.entries:
            return None
        return r.entries[0][1]


# -- servers -----------------------------------------------------------------

def configure_pair(name="pair", db_extra=None, globals_extra="", workdir=None,
                   keydir_extra="", mdb_extra="", debug_level="0"):
    """A slapd (not started) with both databases; returns (slapd, {kind: Db}).

    db_extra(suffix) gives configuration lines (ACLs, limits ...) that both
    database sections get, written for their own suffix."""
    s = Slapd(name=name, modules=MODULES, globals_extra=globals_extra, workdir=workdir,
              debug_level=debug_level)
    for kind in DBS:
        suffix = SUFFIXES[kind]
        extra = db_extra(suffix) if db_extra else ""
        if kind == "keydir":
            s.add_database(database_keydir(suffix, s.db_dir(kind), extra=extra + keydir_extra))
        else:
            # database_mdb indexes objectClass,mail; add the rest of keydir's.
            s.add_database(database_mdb(suffix, s.db_dir(kind),
                                        extra="index keydirFingerprint eq\n" + extra + mdb_extra))
    return s, {kind: Db(s, kind) for kind in DBS}


def make_pair(data=True, **options):
    """Starts a configure_pair() slapd, loaded with the base data set."""
    s, dbs = configure_pair(**options)
    try:
        s.start()
        if data:
            for kind, d in dbs.items():
                r = d.add(to_ldif(base_entries(kind), d.suffix))
                assert r.rc == 0, f"loading {kind}: {r.err}"
    except BaseException:
        s.cleanup()
        raise
    return s, dbs


@pytest.fixture(scope="module")
def pair_server(request):
    """The module's server; options from the module's PAIR dict."""
    options = dict(getattr(request.module, "PAIR", {}))
    options.setdefault("name", request.module.__name__.replace("test_backend_", ""))
    s, dbs = make_pair(**options)
    yield dbs
    s.cleanup()


@pytest.fixture(params=DBS)
def db(request, pair_server):
    """Each database of the module's pair in turn."""
    d = pair_server[request.param]
    if not d.server.running():
        pytest.fail(f"slapd is not running any more:\n{d.server.log()}")
    return d


@pytest.fixture
def both(pair_server):
    """(keydir, mdb): for tests that compare the two directly."""
    return pair_server["keydir"], pair_server["mdb"]
