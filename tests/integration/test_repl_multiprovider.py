"""A root cluster: two keydir databases with the null suffix in a
multi-provider set (serverID 1 and 2, syncrepl to each other,
multiprovider on, syncprov), holding pointers (referral entries at
members' DNs, written with ManageDsaIT).

One root killed with SIGKILL while pointers are being written loses none
of the writes it acknowledged, the other root serves them, and the killed
one converges when it is back; writes on both roots at once converge to the
same entries and the same contextCSN per serverID."""

import os
import shutil
import threading
import time

import ldap
import pytest
from ldap.controls.simple import ManageDSAITControl

import repl_support as RS
from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW

HOLDER = "ldap://tovaris.invalid:389"
BASE = ("dn: dc=com\nobjectClass: domain\ndc: com\n\n"
        "dn: dc=tovaris,dc=com\nobjectClass: domain\nobjectClass: keydirZone\ndc: tovaris\n"
        "keydirTTL: 3600\n")


@pytest.fixture(scope="module")
def roots():
    made = RS.Servers()
    try:
        root1, root2 = RS.multiprovider(made, 2)
        for r in (root1, root2):
            r.start()
        r = ldaptools.add(root1.uri, BASE, "cn=admin", ROOTPW)
        assert r.rc == 0, r.err
        RS.wait_same(root1, root2)
        yield root1, root2
    finally:
        made.cleanup()


def pointer(address):
    dn = RS.member_dn(address)
    return dn, [("objectClass", [b"referral", b"extensibleObject"]),
                ("mail", [address.encode()]),
                ("ref", [f"{HOLDER}/{dn}".encode()])]


class PointerWriter(threading.Thread):
    """Writes pointers one by one to the first root that answers, as a
    zone publishing to its root cluster does (same DN again on the next
    root after a failure; an add that finds the pointer already there was
    done). Records which root acknowledged each one."""

    def __init__(self, uris, addresses):
        super().__init__(daemon=True)
        self.uris = list(uris)
        self.addresses = addresses
        self.acked = {}  # address -> uri that acknowledged it
        self.failovers = 0
        self.error = None

    def connect(self, uri):
        c = ldap.initialize(uri)
        c.set_option(ldap.OPT_NETWORK_TIMEOUT, 2)
        c.set_option(ldap.OPT_TIMEOUT, 5)
        c.simple_bind_s("cn=admin", ROOTPW)
        return c

    def run(self):
        try:
            target = 0
            conn = self.connect(self.uris[target])
            for address in self.addresses:
                dn, attrs = pointer(address)
                while True:
                    try:
                        conn.add_ext_s(dn, attrs, serverctrls=[ManageDSAITControl()])
                        break
                    except ldap.ALREADY_EXISTS:
                        break
                    except (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.UNAVAILABLE, ldap.BUSY):
                        self.failovers += 1
                        target = (target + 1) % len(self.uris)
                        time.sleep(0.05)
                        try:
                            conn = self.connect(self.uris[target])
                        except ldap.LDAPError:
                            pass
                self.acked[address] = self.uris[target]
        except Exception as e:  # reported by the test
            self.error = e


def test_a_root_killed_while_pointers_are_written_loses_none(roots):
    root1, root2 = roots
    addresses = [f"p{i:03d}@tovaris.com" for i in range(80)]
    writer = PointerWriter([root1.uri, root2.uri], addresses)
    writer.start()
    RS.wait_for(lambda: len(writer.acked) >= 25, "25 pointers written to root1", interval=0.005)
    root1.kill9()
    writer.join(120)
    assert not writer.is_alive() and writer.error is None, writer.error
    on_root1 = [a for a, uri in writer.acked.items() if uri == root1.uri]
    on_root2 = [a for a, uri in writer.acked.items() if uri == root2.uri]
    assert len(on_root1) >= 25 and on_root2 and writer.failovers >= 1

    # root2 serves every pointer it acknowledged, and (replicated before
    # the kill) those root1 acknowledged.
    missing = [a for a in on_root2 if not RS.has_entry(root2, RS.member_dn(a))]
    assert missing == []
    already = sum(RS.has_entry(root2, RS.member_dn(a)) for a in on_root1)
    print(f"root1 acknowledged {len(on_root1)} before the kill; root2 had {already} of them "
          f"at once; root2 acknowledged {len(on_root2)}")

    # root1 lost nothing it acknowledged: back alone (root2 stopped, so
    # nothing can come from it), it holds every one of them.
    root2.stop()
    root1.start()
    lost = [a for a in on_root1 if not RS.has_entry(root1, RS.member_dn(a))]
    assert lost == [], f"root1 lost {lost} in the crash"

    # Both up: they converge, and both serve every acknowledged pointer.
    root2.start()
    view = RS.wait_same(root1, root2, base="")
    for a in addresses:
        assert RS.member_dn(a).lower() in view, a
    RS.wait_for(lambda: RS.context_csns(root1, "") == RS.context_csns(root2, ""),
                "the same contextCSN on both roots")
    # Served as a pointer: a referral to the holder, without ManageDsaIT.
    r = ldaptools.search(root2.uri, RS.member_dn(addresses[0]), scope="base")
    assert r.rc == 10, r.err
    assert f"{HOLDER}/{RS.member_dn(addresses[0])}" in r.out + r.err


def test_writes_on_both_roots_converge(roots):
    root1, root2 = roots
    RS.wait_same(root1, root2, base="")
    w1 = PointerWriter([root1.uri], [f"one{i:03d}@tovaris.com" for i in range(40)])
    w2 = PointerWriter([root2.uri], [f"two{i:03d}@tovaris.com" for i in range(40)])
    w1.start()
    w2.start()
    # Meanwhile the same entry is changed on both roots: one value wins
    # everywhere (the newest CSN).
    for i in range(6):
        for root in (root1, root2):
            r = ldaptools.modify(root.uri, "dn: dc=tovaris,dc=com\nchangetype: modify\n"
                                 f"replace: description\ndescription: {root.name} {i}\n",
                                 "cn=admin", ROOTPW)
            assert r.rc == 0, r.err
    w1.join(120)
    w2.join(120)
    assert w1.error is None and w2.error is None, (w1.error, w2.error)
    assert len(w1.acked) == 40 and len(w2.acked) == 40
    view = RS.wait_same(root1, root2, base="")
    for a in list(w1.acked) + list(w2.acked):
        assert RS.member_dn(a).lower() in view, a
    assert len(view["dc=tovaris,dc=com"]["description"]) == 1
    csns = RS.wait_for(lambda: (lambda a, b: a if a and a == b else None)(
        RS.context_csns(root1, ""), RS.context_csns(root2, "")), "the same contextCSN")
    assert sorted(csns) == [1, 2]  # one CSN per serverID, the same on both


def test_a_pointer_deleted_or_moved_on_one_root_is_gone_from_both(roots):
    root1, root2 = roots
    for a in ("del@tovaris.com", "mv@tovaris.com"):
        dn, _ = pointer(a)
        r = ldaptools.add(root1.uri, f"dn: {dn}\nobjectClass: referral\nobjectClass: "
                          f"extensibleObject\nmail: {a}\nref: {HOLDER}/{dn}\n", "cn=admin",
                          ROOTPW, extra=("-M",))
        assert r.rc == 0, r.err
    RS.wait_for(lambda: RS.has_entry(root2, RS.member_dn("mv@tovaris.com")), "the pointers")
    assert ldaptools.delete(root2.uri, RS.member_dn("del@tovaris.com"), "cn=admin", ROOTPW,
                            extra=("-M",)).rc == 0
    assert ldaptools.modrdn(root2.uri, RS.member_dn("mv@tovaris.com"), "mail=moved@tovaris.com",
                            "cn=admin", ROOTPW, delete_old=False, extra=("-M",)).rc == 0
    view = RS.wait_same(root1, root2, base="")
    assert RS.member_dn("del@tovaris.com").lower() not in view
    assert RS.member_dn("mv@tovaris.com").lower() not in view
    assert RS.member_dn("moved@tovaris.com").lower() in view


def test_a_root_restored_from_slapcat_keeps_its_context_csn_and_rejoins(roots):
    """Backup and restore of a root with slapcat and slapadd: the root
    entry and its contextCSN are part of the backup (as with back-mdb), so
    the restored root knows how far it is and the pair carries on."""
    root1, root2 = roots
    RS.wait_same(root1, root2, base="")
    RS.wait_for(lambda: RS.context_csns(root1, "") == RS.context_csns(root2, ""),
                "the same contextCSN on both roots")
    root1.stop()
    backup = root1.tool("cat").stdout
    assert backup.startswith("dn:\n") and "\ncontextCSN: " in backup.split("\n\n")[0], \
        backup[:400]
    saved = {int(line.split("#")[2], 16): line.split(": ", 1)[1]
             for line in backup.split("\n\n")[0].splitlines() if line.startswith("contextCSN: ")}
    directory = root1.db_dir("root")
    shutil.rmtree(directory)
    os.makedirs(directory)
    root1.tool("add", "-q", input=backup)
    root1.start()
    assert RS.context_csns(root1, "") == saved
    # Changes made on root2 meanwhile and afterwards reach the restored root.
    r = ldaptools.add(root2.uri, "dn: " + RS.member_dn("after-restore@tovaris.com") +
                      "\nobjectClass: referral\nobjectClass: extensibleObject\n"
                      "mail: after-restore@tovaris.com\nref: " + HOLDER + "/x\n",
                      "cn=admin", ROOTPW, extra=("-M",))
    assert r.rc == 0, r.err
    view = RS.wait_same(root1, root2, base="")
    assert RS.member_dn("after-restore@tovaris.com").lower() in view
