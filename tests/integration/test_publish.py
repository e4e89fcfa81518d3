"""Pointer publication on the key network: the zone tovaris.com tells the
root cluster where its members' keys are (signed with its own key), so
that the roots' pointers stay true as members come, go and are renamed;
publications wait in a durable queue while the roots are down; a key may
publish only under the domains keychase-publisher gives it; forged,
unsigned and malformed publications are refused and change nothing."""

import base64
import os
import time

import ldap
import pytest
from ldap.controls import LDAPControl
from ldap.extop import ExtendedRequest

import sign_reference as ref
from keydirtest import keys, ldaptools
from keydirtest.network import KeyNetwork
from keydirtest.slapd import ROOTPW

CONTROL_OID = "2.25.142655347163252810041593617359114918330.3.1"
TOVARIS = "dc=tovaris,dc=com"


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = KeyNetwork(str(tmp_path_factory.mktemp("pub")), publish=True).build()
    try:
        n.start().load()
        yield n
    finally:
        n.cleanup()


def member_dn(address):
    local, domain = address.split("@")
    return f"mail={address}," + ",".join("dc=" + x for x in domain.split("."))


def pointer(net, root, address):
    """The root's pointer entry for address (ManageDsaIT), or None."""
    r = ldaptools.search(net.uri(root), member_dn(address), attrs=["ref", "mail", "objectClass"],
                         scope="base", extra=("-M",))
    if r.rc in (10, 32):  # referral (below a delegation), noSuchObject
        return None
    assert r.rc == 0, r.err
    return r.entries[0][1] if r.entries else None


def wait_for(predicate, timeout=20, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def add_member(net, address):
    z = net.zones["tovaris.com"]
    r = z.admin("member", "add", address, *z.issue_args(), "--key-type", "p256",
                *z.ldap_args(net.servers["tovaris"]))
    assert r.returncode == 0, r.stderr


def monitor(net, server):
    r = ldaptools.search(net.uri(server), "cn=Databases,cn=Monitor",
                         "(objectClass=olmKeychase)", ["+"], binddn="cn=monitor",
                         password=ROOTPW)
    assert r.rc == 0, r.err
    out = {}
    for _, attrs in r.entries:
        for k, v in attrs.items():
            if k.startswith("olmKeychasePubl"):
                out[k] = v[0]
    return out


def test_loaded_members_are_published(net):
    for address in ("kconley@tovaris.com", "jdoe@tovaris.com"):
        for root in ("root1",):
            p = wait_for(lambda: pointer(net, root, address), what=f"{address} on {root}")
            assert p["ref"] == [f"{net.uri('tovaris')}/{member_dn(address)}"]
            assert p["mail"] == [address]
            assert "referral" in p["objectClass"]


def test_root_learns_a_new_member_and_ldapsearch_C_gets_the_key(net):
    add_member(net, "new1@tovaris.com")
    wait_for(lambda: pointer(net, "root1", "new1@tovaris.com"), what="the pointer")
    # A plain LDAP client chasing referrals itself (-C) from the root.
    r = ldaptools.search(net.uri("root1"), member_dn("new1@tovaris.com"),
                         attrs=["userCertificate;binary", "mail"], scope="base", extra=("-C",))
    assert r.rc == 0, r.err
    assert r.entries and r.entries[0][1]["mail"] == ["new1@tovaris.com"]
    assert "userCertificate;binary" in r.entries[0][1]
    # keychase on a resolving node finds it through the root too.
    r = ldaptools.search(net.uri("local"), "", "(mail=new1@tovaris.com)", ["mail", "keydirPath"])
    assert r.rc == 0, r.err
    assert r.entries and any(net.uri("root1") in p for p in r.entries[0][1]["keydirPath"])
    m = monitor(net, "tovaris")
    assert int(m["olmKeychasePublishDelivered"]) >= 3
    assert m["olmKeychasePublishQueue"] == "0"
    assert m["olmKeychasePublishLastSuccess"] != "19700101000000Z"
    assert int(monitor(net, "root1")["olmKeychasePublicationsApplied"]) >= 3


def test_delete_and_rename_keep_the_pointers_true(net):
    admin = ("cn=admin," + TOVARIS, ROOTPW)
    add_member(net, "gone@tovaris.com")
    # A member without a certificate yet (so that it may be renamed).
    r = ldaptools.add(net.uri("tovaris"), f"dn: {member_dn('old@tovaris.com')}\n"
                      "objectClass: keydirMember\nmail: old@tovaris.com\n", *admin)
    assert r.rc == 0, r.err
    wait_for(lambda: pointer(net, "root1", "old@tovaris.com"), what="the pointer")
    wait_for(lambda: pointer(net, "root1", "gone@tovaris.com"), what="the pointer")
    r = ldaptools.delete(net.uri("tovaris"), member_dn("gone@tovaris.com"), *admin)
    assert r.rc == 0, r.err
    wait_for(lambda: pointer(net, "root1", "gone@tovaris.com") is None, what="the deletion")
    # A rename: the old address's pointer goes, the new one's comes.
    r = ldaptools.modrdn(net.uri("tovaris"), member_dn("old@tovaris.com"),
                         "mail=renamed@tovaris.com", *admin)
    assert r.rc == 0, r.err
    wait_for(lambda: pointer(net, "root1", "renamed@tovaris.com"), what="the new pointer")
    wait_for(lambda: pointer(net, "root1", "old@tovaris.com") is None, what="the old pointer")
    assert pointer(net, "root1", "renamed@tovaris.com")["ref"] == [
        f"{net.uri('tovaris')}/{member_dn('renamed@tovaris.com')}"]


def test_a_failed_write_publishes_nothing(net):
    before = monitor(net, "tovaris")["olmKeychasePublishDelivered"]
    # A member that already exists: the add fails, no publication.
    r = ldaptools.add(net.uri("tovaris"),
                      f"dn: {member_dn('kconley@tovaris.com')}\nobjectClass: keydirMember\n"
                      "mail: kconley@tovaris.com\n", "cn=admin," + TOVARIS, ROOTPW)
    assert r.rc == 68
    time.sleep(0.5)
    assert monitor(net, "tovaris")["olmKeychasePublishDelivered"] == before


def test_queued_while_the_roots_are_down_survives_a_restart_and_is_delivered(net):
    net.servers["root1"].stop()
    net.servers["root2"].stop()
    try:
        add_member(net, "queued@tovaris.com")
        m = wait_for(lambda: (lambda m: m if int(m.get("olmKeychasePublishFailures", 0)) else
                              None)(monitor(net, "tovaris")), what="a failed delivery")
        assert m["olmKeychasePublishQueue"] == "1"
        assert "queued@tovaris.com" in m["olmKeychasePublishLastError"]
        # The queue is on disk: the zone master restarts with it.
        net.servers["tovaris"].restart()
        assert monitor(net, "tovaris")["olmKeychasePublishQueue"] == "1"
    finally:
        net.servers["root1"].start()
        net.servers["root2"].start()
    wait_for(lambda: pointer(net, "root1", "queued@tovaris.com"), timeout=30,
             what="the queued publication")
    wait_for(lambda: monitor(net, "tovaris")["olmKeychasePublishQueue"] == "0",
             what="an empty queue")


# -- forged and bad publications, sent directly --------------------------------
def server_of(net, name):
    """The canonical "host:port" of a server of the network (doc/signing.md §2)."""
    host, port = net.uri(name).split("//", 1)[1].rsplit(":", 1)
    return ref.canonical_server(host, port)


def signed_request(net, key_name, action, dn, urls, *, key=None, mutate=None, to="root1"):
    """A signed publication meant for server `to`."""
    with open(net.tovaris_key_file if key_name == "tovaris" else net.key_file) as f:
        secret = base64.b64decode(f.read().strip())
    if key is not None:
        secret = key
    canonical = ref.canonical_publication(action, dn, urls)
    now = int(time.time())
    nonce = os.urandom(16)
    data = ref.request_mac_input(key_name, "hmac-sha256", now, 300, nonce, 0, False,
                                 server_of(net, to), canonical)
    mac = ref.mac("hmac-sha256", secret, data)
    if mutate:
        mac = mutate(mac)
    control = ref.control_value("request", key_name, "hmac-sha256", now, 300, nonce, 0, False,
                                server_of(net, to), mac)
    return ref.publication_value(action, dn, urls), control


def send(net, server, value, control=None):
    """(result code, text, the answer's signature control value or None)"""
    conn = ldap.initialize(net.uri(server))
    try:
        ctrls = ([LDAPControl(CONTROL_OID, True, encodedControlValue=control)]
                 if control is not None else [])
        msgid = conn.extop(ExtendedRequest(ref.PUBLISH_OID, value), serverctrls=ctrls)
        try:
            _, _, _, rctrls, _, _ = conn.result4(msgid, all=1, add_ctrls=1, add_extop=1,
                                                 resp_ctrl_classes={CONTROL_OID: LDAPControl})
            rc, text = 0, ""
        except ldap.LDAPError as e:
            info = e.args[0]
            rc, text = info.get("result"), info.get("info", "")
            rctrls = info.get("ctrls", [])
        sig = None
        for c in rctrls or []:
            if isinstance(c, tuple):
                if c[0] == CONTROL_OID:
                    sig = c[2]
            elif c.controlType == CONTROL_OID:
                sig = c.encodedControlValue
        return rc, text, sig
    finally:
        conn.unbind_s()


def test_a_signed_publication_is_applied_and_the_answer_is_signed(net):
    dn = member_dn("direct@tovaris.com")
    urls = [f"{net.uri('tovaris')}/{dn}"]
    rc, text, sig = send(net, "root2", *signed_request(net, "tovaris", 0, dn, urls, to="root2"))
    assert rc == 0, text
    assert sig is not None
    assert pointer(net, "root2", "direct@tovaris.com")["ref"] == urls
    # Idempotent: the same again is success and changes nothing; so is
    # deleting twice.
    assert send(net, "root2", *signed_request(net, "tovaris", 0, dn, urls, to="root2"))[0] == 0
    assert send(net, "root2", *signed_request(net, "tovaris", 1, dn, [], to="root2"))[0] == 0
    assert send(net, "root2", *signed_request(net, "tovaris", 1, dn, [], to="root2"))[0] == 0
    assert pointer(net, "root2", "direct@tovaris.com") is None


def test_a_publication_meant_for_another_server_is_refused(net):
    """Security review #6, for publications: one signed for root1 and
    delivered to root2 (both hold the key) is refused, unsigned, and
    changes nothing."""
    dn = member_dn("elsewhere@tovaris.com")
    urls = [f"{net.uri('tovaris')}/{dn}"]
    rc, text, sig = send(net, "root2", *signed_request(net, "tovaris", 0, dn, urls, to="root1"))
    assert rc == 53, (rc, text)
    assert "signed for server" in text and server_of(net, "root1") in text, text
    assert sig is None
    assert pointer(net, "root2", "elsewhere@tovaris.com") is None


def test_publishing_outside_its_domain_is_refused(net):
    dn = member_dn("mallory@example.com")
    urls = [f"{net.uri('tovaris')}/{dn}"]
    rc, text, sig = send(net, "root1", *signed_request(net, "tovaris", 0, dn, urls))
    assert rc == 50, text  # insufficientAccess
    assert "may not publish pointers under example.com" in text
    assert sig is not None  # a verified request gets a signed refusal
    assert pointer(net, "root1", "mallory@example.com") is None
    # The shared network key is no publisher at all.
    dn = member_dn("mallory@tovaris.com")
    rc, text, _ = send(net, "root1",
                       *signed_request(net, "network", 0, dn, [f"{net.uri('tovaris')}/{dn}"]))
    assert rc == 50, text
    assert pointer(net, "root1", "mallory@tovaris.com") is None


@pytest.mark.parametrize("case,expected", [
    ("unsigned", 8),        # strongerAuthRequired
    ("bad-mac", 49),        # invalidCredentials
    ("wrong-key", 49),
    ("bad-value", 2),       # protocolError
    ("not-a-member-dn", 34),
    ("url-elsewhere", 19),  # constraintViolation: the URL names another DN
    ("not-ldap-url", 19),
])
def test_bad_publications_are_refused_and_change_nothing(net, case, expected):
    dn = member_dn("bad@tovaris.com")
    urls = [f"{net.uri('tovaris')}/{dn}"]
    if case == "unsigned":
        value, control = ref.publication_value(0, dn, urls), None
    elif case == "bad-mac":
        value, control = signed_request(net, "tovaris", 0, dn, urls,
                                        mutate=lambda m: bytes([m[0] ^ 1]) + m[1:])
    elif case == "wrong-key":
        value, control = signed_request(net, "tovaris", 0, dn, urls, key=b"k" * 32)
    elif case == "bad-value":
        value, control = b"\x30\x03\x0a\x01\x07", None
    elif case == "not-a-member-dn":
        value, control = signed_request(net, "tovaris", 0, "cn=bad,dc=tovaris,dc=com", urls)
    elif case == "url-elsewhere":
        other = f"{net.uri('tovaris')}/{member_dn('kconley@tovaris.com')}"
        value, control = signed_request(net, "tovaris", 0, dn, [other])
    else:
        value, control = signed_request(net, "tovaris", 0, dn, ["http://example.com/"])
    rc, text, _ = send(net, "root1", value, control)
    assert rc == expected, (rc, text)
    assert text
    assert pointer(net, "root1", "bad@tovaris.com") is None


def test_a_member_entry_is_never_replaced_by_a_pointer(net):
    # tovaris holds the real entry of kconley@: a publication sent to it
    # cannot turn it into a pointer (nor delete it).
    dn = member_dn("kconley@tovaris.com")
    rc, text, _ = send(net, "tovaris",
                       *signed_request(net, "tovaris", 1, dn, [], to="tovaris"))
    assert rc in (50, 19), text  # tovaris has no keychase-publisher: refused
    r = ldaptools.search(net.uri("tovaris"), dn, attrs=["mail"], scope="base")
    assert r.rc == 0 and r.entries
