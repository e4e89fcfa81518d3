"""The patent's key network on 127.0.0.1 (FIG. 2 and FIG. 4), made of real
slapd processes running back_keydir and keychase. The README's demo and
the keychase tests use it.

    root1, root2   the root cluster (null suffix): member pointers for
                   tovaris.com, a delegation of example.com to the com key
                   space
    keyspace       the key space com (dc=com): delegations of the zones
    tovaris        the zone tovaris.com, holder of kconley@ and jdoe@
    example        the zone example.com: bob@; delegates sales.example.com
    local          a local node: its own zone sales.example.com (ann@) and a
                   catch-all database (null suffix); its parent is example,
                   then the root cluster

A client of `local` asking for kconley@tovaris.com is answered the FIG. 2
way: local -> its parent (example: not found) -> root1 (pointer) ->
tovaris. tovaris asking for ann@sales.example.com goes the FIG. 4 way:
root1 -> keyspace -> example -> local.
"""

import os

from . import keys, ldaptools
from .slapd import ROOTPW, Slapd

SERVERS = ("root1", "root2", "keyspace", "tovaris", "example", "local")

MEMBERS = {
    "tovaris.com": ["kconley@tovaris.com", "jdoe@tovaris.com"],
    "example.com": ["bob@example.com"],
    "sales.example.com": ["ann@sales.example.com"],
}


def dn_of(domain):
    return ",".join("dc=" + label for label in domain.split("."))


class KeyNetwork:
    """Builds, starts and stops the network; every server is a Slapd."""

    def __init__(self, workdir, key_type="p256", overlay_extra=None, zone_ttl=3600):
        self.workdir = workdir
        os.makedirs(workdir, exist_ok=True)
        self.key_type = key_type
        self.overlay_extra = overlay_extra or {}
        self.zone_ttl = zone_ttl
        self.servers = {}
        for name in SERVERS:
            self.servers[name] = Slapd(name=name, workdir=os.path.join(workdir, name),
                                       modules=("back_keydir.la", "keychase.la"))
            os.makedirs(self.servers[name].workdir, exist_ok=True)
        self.zones = {}
        self.member_ldif = {}

    # -- building ---------------------------------------------------------
    def uri(self, name):
        return self.servers[name].uri

    def _database(self, server, suffix, dbname, overlay_lines, extra=""):
        s = self.servers[server]
        rootdn = "cn=admin," + suffix if suffix else "cn=admin"
        section = (
            "database keydir\n"
            f'suffix "{suffix}"\n'
            f'rootdn "{rootdn}"\n'
            f"rootpw {ROOTPW}\n"
            f"directory {s.db_dir(dbname)}\n"
            "index objectClass,mail,keydirFingerprint eq\n"
            f"{extra}"
            "overlay keychase\n"
            + "".join(line + "\n" for line in overlay_lines)
            + "".join(line + "\n" for line in self.overlay_extra.get(server, []))
        )
        s.add_database(section)

    def _resolver_lines(self, parents=()):
        lines = []
        if parents:
            lines.append("keychase-upstream " + " ".join(self.uri(p) for p in parents))
        lines.append("keychase-root " + self.uri("root1") + " " + self.uri("root2"))
        lines.append("keychase-timeout 1")
        lines.append("keychase-total-timeout 5")
        return lines

    def build(self):
        """Zones and members with keydir-admin, configurations, data."""
        for domain in MEMBERS:
            z = keys.Zone(self.workdir, domain, key_type=self.key_type,
                          extra=("--ttl", str(self.zone_ttl)))
            self.zones[domain] = z
            ldif = []
            for address in MEMBERS[domain]:
                out = os.path.join(self.workdir, address + ".ldif")
                r = z.admin("member", "add", address, *z.issue_args(), "--key-type",
                            self.key_type, "-o", out)
                assert r.returncode == 0, r.stderr
                with open(out) as f:
                    ldif.append(f.read())
            self.member_ldif[domain] = ldif

        self._database("root1", "", "root", [])
        self._database("root2", "", "root", [])
        self._database("keyspace", "dc=com", "com", [])
        self._database("tovaris", "dc=tovaris,dc=com", "zone", self._resolver_lines())
        self._database("example", "dc=example,dc=com", "zone", [])
        self._database("local", "dc=sales,dc=example,dc=com", "zone",
                       self._resolver_lines(parents=("example",)))
        self._database("local", "", "catchall", self._resolver_lines(parents=("example",)))
        return self

    def _referral(self, dn, server, rdn_attr="dc"):
        value = dn.split(",")[0].split("=", 1)[1]
        return (f"dn: {dn}\nobjectClass: referral\nobjectClass: extensibleObject\n"
                f"{rdn_attr}: {value}\nref: {self.uri(server)}/{dn}\n")

    def _pointer(self, address, server):
        dn = f"mail={address},{dn_of(address.split('@')[1])}"
        return (f"dn: {dn}\nobjectClass: referral\nobjectClass: extensibleObject\n"
                f"mail: {address}\nref: {self.uri(server)}/{dn}\n")

    def _load(self, server, suffix, ldif, manage=False):
        rootdn = "cn=admin," + suffix if suffix else "cn=admin"
        r = ldaptools.add(self.uri(server), ldif, rootdn, extra=("-M",) if manage else ())
        assert r.rc == 0, f"loading {server}: {r.err}"

    def load(self):
        """Loads every server's data over LDAP (the servers must run)."""
        for domain, server in (("tovaris.com", "tovaris"), ("example.com", "example"),
                               ("sales.example.com", "local")):
            z = self.zones[domain]
            self._load(server, z.suffix, z.zone_ldif() + "\n" + "\n".join(self.member_ldif[domain]))
        # example.com delegates sales.example.com to the local node.
        self._load("example", "dc=example,dc=com",
                   self._referral("dc=sales,dc=example,dc=com", "local"), manage=True)
        # The key space com delegates both zones.
        self._load("keyspace", "dc=com",
                   "dn: dc=com\nobjectClass: dcObject\nobjectClass: organization\ndc: com\no: com\n\n"
                   + self._referral("dc=tovaris,dc=com", "tovaris") + "\n"
                   + self._referral("dc=example,dc=com", "example"), manage=True)
        # The roots: pointers to every tovaris.com member (the root is
        # authoritative for them: a keydirZone container), and example.com
        # delegated to the key space.
        root = ("dn: dc=com\nobjectClass: dcObject\nobjectClass: organization\ndc: com\no: com\n\n"
                "dn: dc=tovaris,dc=com\nobjectClass: domain\nobjectClass: keydirZone\n"
                f"dc: tovaris\nkeydirTTL: {self.zone_ttl}\n\n"
                + "\n".join(self._pointer(a, "tovaris") for a in MEMBERS["tovaris.com"]) + "\n"
                + self._referral("dc=example,dc=com", "keyspace"))
        for name in ("root1", "root2"):
            self._load(name, "", root, manage=True)
        return self

    # -- running ----------------------------------------------------------
    def start(self):
        for s in self.servers.values():
            s.start()
        return self

    def stop(self):
        for s in self.servers.values():
            s.stop()

    def cleanup(self):
        for s in self.servers.values():
            s.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
