"""The patent's key network on 127.0.0.1 (FIG. 2 and FIG. 4), made of real
slapd processes running back_keydir and keychase. The demo
(doc/install.md) and the keychase tests use it.

    root1, root2   the root cluster (null suffix): member pointers for
                   tovaris.com, a delegation of example.com to the com key
                   space
    keyspace       the key space com (dc=com): delegations of the zones
    tovaris        the zone tovaris.com, holder of kconley@ and jdoe@
    example        the zone example.com: bob@; delegates sales.example.com
    local          a local node: its own zone sales.example.com (ann@) and a
                   catch-all database (null suffix); its parent is example,
                   then the root cluster

With replicated=True the network is as the issue of zones across machines
wants it: root1 and root2 are a multi-provider pair (syncrepl both ways),
and every zone has a secondary fed by syncrepl from its master (keyspace2,
tovaris2, example2, sales2). Delegations and pointers then name both
servers of a zone (several ref values, like NS records).

A client of `local` asking for kconley@tovaris.com is answered the FIG. 2
way: local -> its parent (example: not found) -> root1 (pointer) ->
tovaris. tovaris asking for ann@sales.example.com goes the FIG. 4 way:
root1 -> keyspace -> example -> local.
"""

import os
import time

from . import keys, ldaptools
from .slapd import GNUPG_SCHEMA, ROOTPW, Slapd

SERVERS = ("root1", "root2", "keyspace", "tovaris", "example", "local")
# Secondary -> its zone's master (with replicated=True).
SECONDARIES = {"keyspace2": "keyspace", "tovaris2": "tovaris", "example2": "example",
               "sales2": "local"}
SYNC_INDEX = "index entryCSN,entryUUID eq\n"
# What dirmngr looks OpenPGP keys up by (doc/keys.md, "OpenPGP keys").
OPENPGP_INDEX = "index gpgMailbox,gpgFingerprint,gpgSubFingerprint,pgpCertID,pgpKeyID eq\n"
# contextCSN is stored after every write, so that cn=monitor shows it at once.
SYNCPROV = "overlay syncprov\nsyncprov-checkpoint 1 1\nsyncprov-sessionlog 1000\n"

MEMBERS = {
    "tovaris.com": ["kconley@tovaris.com", "jdoe@tovaris.com"],
    "example.com": ["bob@example.com"],
    "sales.example.com": ["ann@sales.example.com"],
}


def dn_of(domain):
    return ",".join("dc=" + label for label in domain.split("."))


class KeyNetwork:
    """Builds, starts and stops the network; every server is a Slapd."""

    def __init__(self, workdir, key_type="p256", overlay_extra=None, zone_ttl=3600, signing=True,
                 publish=False, replicated=False, openpgp=False):
        """publish: tovaris.com tells the root cluster about its members
        itself (pointer publication, signed with its own key "tovaris"),
        instead of the roots being loaded with its pointers.
        replicated: a multi-provider root pair and a secondary per zone.
        openpgp: every server loads schema/gnupg.schema (GnuPG's LDAP
        keyserver schema) and indexes its gpg* attributes."""
        self.workdir = workdir
        self.publish = publish
        self.replicated = replicated
        self.openpgp = openpgp
        self.tovaris_key_file = os.path.join(workdir, "tovaris.key")
        os.makedirs(workdir, exist_ok=True)
        self.key_type = key_type
        self.overlay_extra = overlay_extra or {}
        self.zone_ttl = zone_ttl
        self.signing = signing
        self.key_file = os.path.join(workdir, "network.key")
        self.servers = {}
        modules = ("back_keydir.la", "keychase.la") + (("syncprov.la",) if replicated else ())
        for name in SERVERS + (tuple(SECONDARIES) if replicated else ()):
            server_id = {"root1": 1, "root2": 2}.get(name) if replicated else None
            self.servers[name] = Slapd(name=name, workdir=os.path.join(workdir, name),
                                       modules=modules,
                                       globals_extra=f"serverID {server_id}" if server_id else "",
                                       schema_files=(GNUPG_SCHEMA,) if openpgp else ())
            os.makedirs(self.servers[name].workdir, exist_ok=True)
        self.zones = {}
        self.member_ldif = {}

    # -- building ---------------------------------------------------------
    def uri(self, name):
        return self.servers[name].uri

    def servers_of(self, name):
        """A zone's servers: its master, then its secondary (if any)."""
        return [name] + [s for s, m in SECONDARIES.items() if m == name and s in self.servers]

    def _syncrepl(self, rid, provider, suffix):
        rootdn = "cn=admin," + suffix if suffix else "cn=admin"
        return (f"syncrepl rid={rid:03d} provider={self.uri(provider)} bindmethod=simple "
                f'binddn="{rootdn}" credentials={ROOTPW} searchbase="{suffix}" '
                'type=refreshAndPersist retry="1 +" timeout=3\n')

    def _database(self, server, suffix, dbname, overlay_lines, extra="", replication=None):
        """replication: None, "provider", "multiprovider" (the roots) or
        "secondary" (of the master SECONDARIES names)."""
        tail = ""
        if replication:
            extra += SYNC_INDEX
        if replication == "secondary":
            master = SECONDARIES[server]
            extra += self._syncrepl(1, master, suffix) + f"updateref {self.uri(master)}\n"
        elif replication == "multiprovider":
            other = "root2" if server == "root1" else "root1"
            extra += self._syncrepl(1 if other == "root1" else 2, other, suffix)
            extra += "multiprovider on\n"
        if replication in ("provider", "multiprovider"):
            tail = SYNCPROV
        s = self.servers[server]
        rootdn = "cn=admin," + suffix if suffix else "cn=admin"
        section = (
            "database keydir\n"
            f'suffix "{suffix}"\n'
            f'rootdn "{rootdn}"\n'
            f"rootpw {ROOTPW}\n"
            f"directory {s.db_dir(dbname)}\n"
            "index objectClass,mail,keydirFingerprint eq\n"
            + (OPENPGP_INDEX if self.openpgp else "")
            + f"{extra}"
            "overlay keychase\n"
            + (f"keychase-key network {self.key_file}\n" if self.signing else "")
            + (f"keychase-key tovaris {self.tovaris_key_file}\n" if self.publish else "")
            + "".join(line + "\n" for line in overlay_lines)
            + "".join(line + "\n" for line in self.overlay_extra.get(server, []))
            + tail
        )
        s.add_database(section)

    def _resolver_lines(self, parents=()):
        lines = []
        if parents:
            lines.append("keychase-upstream " + " ".join(self.uri(p) for p in parents))
        lines.append("keychase-root " + self.uri("root1") + " " + self.uri("root2"))
        lines.append("keychase-timeout 1")
        lines.append("keychase-total-timeout 5")
        # Referrals may lead to the network's own servers, and nowhere else:
        # they listen on 127.0.0.1, which the default ("public") refuses.
        lines.append("keychase-referral-allow " + " ".join(
            f"127.0.0.1:{s.port}" for s in self.servers.values()))
        if self.signing:
            lines.append("keychase-sign network")
        return lines

    def build(self):
        """Zones and members with keydir-admin, configurations, data."""
        if self.signing:
            r = keys.admin("secret", "new", "network", "-o", self.key_file)
            assert r.returncode == 0, r.stderr
        if self.publish:
            r = keys.admin("secret", "new", "tovaris", "-o", self.tovaris_key_file)
            assert r.returncode == 0, r.stderr
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

        rep = self.replicated
        roots = ["keychase-publisher tovaris tovaris.com"] if self.publish else []
        for root in ("root1", "root2"):
            self._database(root, "", "root", roots, replication=rep and "multiprovider")
        tovaris = self._resolver_lines()
        if self.publish:
            tovaris = [l for l in tovaris if not l.startswith("keychase-sign")] + [
                "keychase-sign tovaris",
                "keychase-publish-to " + self.uri("root1") + " " + self.uri("root2"),
                "keychase-publish-as " + " ".join(self.uri(s) for s in self.servers_of("tovaris")),
                "keychase-publish-queue " + os.path.join(self.servers["tovaris"].workdir,
                                                         "publish-queue"),
                "keychase-publish-retry-max 2"]
        sales = self._resolver_lines(parents=("example",))
        zones = (("keyspace", "dc=com", "com", []),
                 ("tovaris", "dc=tovaris,dc=com", "zone", tovaris),
                 ("example", "dc=example,dc=com", "zone", []),
                 ("local", "dc=sales,dc=example,dc=com", "zone", sales))
        for server, suffix, dbname, lines in zones:
            self._database(server, suffix, dbname, lines, replication=rep and "provider")
            for secondary in self.servers_of(server)[1:]:
                self._database(secondary, suffix, dbname,
                               [l for l in lines if not l.startswith("keychase-publish")],
                               replication="secondary")
        # A parent that peers ask about any address answers (signed) for
        # names outside its zones from a catch-all database.
        self._database("example", "", "catchall", [])
        self._database("local", "", "catchall", self._resolver_lines(parents=("example",)))
        return self

    def _refs(self, dn, server):
        """One ref per server of the zone `server` is the master of."""
        return "".join(f"ref: {self.uri(s)}/{dn}\n" for s in self.servers_of(server))

    def _referral(self, dn, server, rdn_attr="dc"):
        value = dn.split(",")[0].split("=", 1)[1]
        return (f"dn: {dn}\nobjectClass: referral\nobjectClass: extensibleObject\n"
                f"{rdn_attr}: {value}\n" + self._refs(dn, server))

    def _pointer(self, address, server):
        dn = f"mail={address},{dn_of(address.split('@')[1])}"
        return (f"dn: {dn}\nobjectClass: referral\nobjectClass: extensibleObject\n"
                f"mail: {address}\n" + self._refs(dn, server))

    def _load(self, server, suffix, ldif, manage=False):
        rootdn = "cn=admin," + suffix if suffix else "cn=admin"
        r = ldaptools.add(self.uri(server), ldif, rootdn, extra=("-M",) if manage else ())
        assert r.rc == 0, f"loading {server}: {r.err}"

    def load(self):
        """Loads every server's data over LDAP (the servers must run)."""
        # The roots: pointers to every tovaris.com member (the root is
        # authoritative for them: a keydirZone container), and example.com
        # delegated to the key space. With publication, tovaris.com's
        # pointers come from the zone itself, as its members are loaded
        # (so the roots are loaded first).
        root = ("dn: dc=com\nobjectClass: dcObject\nobjectClass: organization\ndc: com\no: com\n\n"
                + ("" if self.publish else
                   "dn: dc=tovaris,dc=com\nobjectClass: domain\nobjectClass: keydirZone\n"
                   f"dc: tovaris\nkeydirTTL: {self.zone_ttl}\n\n"
                   + "\n".join(self._pointer(a, "tovaris") for a in MEMBERS["tovaris.com"])
                   + "\n")
                + self._referral("dc=example,dc=com", "keyspace"))
        for name in ("root1",) if self.replicated else ("root1", "root2"):
            self._load(name, "", root, manage=True)
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
        if self.replicated:
            self.wait_replicated()
        return self

    def wait_replicated(self, timeout=30):
        """Waits until root2 and every secondary hold what their provider
        holds (the same entries, by entryCSN)."""
        pairs = [("root2", "root1", "")] + [
            (sec, master, self.zone_suffix(master)) for sec, master in SECONDARIES.items()]
        deadline = time.monotonic() + timeout
        for replica, provider, suffix in pairs:
            while True:
                want = self._csns(provider, suffix)
                if self._csns(replica, suffix) == want:
                    break
                if time.monotonic() > deadline:
                    raise AssertionError(f"{replica} did not catch up with {provider}")
                time.sleep(0.1)

    def zone_suffix(self, master):
        return {"keyspace": "dc=com", "tovaris": "dc=tovaris,dc=com",
                "example": "dc=example,dc=com", "local": "dc=sales,dc=example,dc=com"}[master]

    def _csns(self, server, suffix):
        rootdn = "cn=admin," + suffix if suffix else "cn=admin"
        r = ldaptools.search(self.uri(server), suffix, "(objectClass=*)", ["entryCSN"],
                             binddn=rootdn, password=ROOTPW, extra=("-M",))
        if r.rc != 0:
            return None
        return sorted((dn.lower(), tuple(a.get("entryCSN", []))) for dn, a in r.entries)

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
