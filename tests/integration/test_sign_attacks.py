"""Authenticated chaining on real slapd processes: a resolver A asks the
holder B of tovaris.com through a tampering relay. Every attack on a
request is refused by B (unsigned, with its own result code, counted);
every attack on an answer is discarded by A as if B had failed; the honest
traffic beside them keeps working. Requests signed by the independent
Python implementation (sign_reference.py) probe the time and replay checks
directly.
"""

import base64
import os
import secrets
import subprocess
import time

import ldap
import pytest
from ldap.controls import LDAPControl

import sign_reference as ref
from keydirtest import keys, ldaptools
from keydirtest.relay import (F_ALG, F_KEY, F_MAC, SEARCH_DONE, SEARCH_ENTRY, SEARCH_REQUEST,
                              Relay)
from keydirtest.slapd import ROOTPW, Slapd

SIG_OID = "2.25.142655347163252810041593617359114918330.3.1"
FLUSH_OID = "2.25.142655347163252810041593617359114918330.4.1"
ADDRESS = "kconley@tovaris.com"
MEMBER_DN = "mail=kconley@tovaris.com,dc=tovaris,dc=com"
FUDGE = 10


def key_file(path, secret):
    with open(path, "w") as f:
        f.write(base64.b64encode(secret).decode() + "\n")
    os.chmod(path, 0o600)
    return path


class Setup:
    def __init__(self, workdir, make_slapd):
        self.workdir = workdir
        self.secrets = {n: secrets.token_bytes(32) for n in ("k1", "k2", "k3", "k4")}
        wrong_k2 = secrets.token_bytes(32)
        files = {n: key_file(os.path.join(workdir, f"{n}.key"), s) for n, s in self.secrets.items()}
        self.files, self.make_slapd, self.c = files, make_slapd, None
        wrong = key_file(os.path.join(workdir, "k2-wrong.key"), wrong_k2)

        self.zone = keys.Zone(workdir, "tovaris.com", key_type="p256")
        out = os.path.join(workdir, "k.ldif")
        r = self.zone.admin("member", "add", ADDRESS, *self.zone.issue_args(), "--key-type",
                            "p256", "-o", out)
        assert r.returncode == 0, r.stderr
        with open(out) as f:
            member = f.read()

        # B: the holder, knows k1, k2 and k4. A reaches it through the relay,
        # an address B names as its own (keychase-self), as behind a port
        # forward: requests are signed for the relay's host:port.
        self.b = make_slapd(name="holder", modules=("back_keydir.la", "keychase.la"))
        self.relay = Relay(self.b.port)
        self.b.add_database(
            "database keydir\nsuffix \"dc=tovaris,dc=com\"\nrootdn \"cn=admin,dc=tovaris,dc=com\"\n"
            f"rootpw {ROOTPW}\ndirectory {self.b.db_dir('zone')}\nindex objectClass,mail eq\n"
            "overlay keychase\n"
            f"keychase-key k1 {files['k1']}\nkeychase-key k2 {files['k2']}\n"
            f"keychase-key k4 {files['k4']}\nkeychase-fudge {FUDGE}\n"
            "keychase-require-signed on\n"
            f"keychase-self {self.relay.uri}\n")
        self.b.start()
        r = ldaptools.add(self.b.uri, self.zone.zone_ldif() + "\n" + member, self.zone.rootdn)
        assert r.rc == 0, r.err

        # A: a resolver with no cache, so that every lookup crosses the relay.
        self.a = make_slapd(name="resolver", modules=("back_keydir.la", "keychase.la"))
        self.a.add_database(
            "database keydir\nsuffix \"\"\nrootdn \"cn=admin\"\n"
            f"rootpw {ROOTPW}\ndirectory {self.a.db_dir('catchall')}\n"
            "overlay keychase\n"
            f"keychase-root {self.relay.uri}\nkeychase-timeout 2\nkeychase-cache-entries 0\n"
            # The test's servers listen on 127.0.0.1 only.
            "keychase-referral-allow 127.0.0.1\n"
            f"keychase-key k1 {files['k1']}\nkeychase-key k2 {wrong}\n"
            f"keychase-key k3 {files['k3']}\nkeychase-key k4 {files['k4']}\n"
            "keychase-sign k1\n")
        self.a.start()

    def lookup(self, server=None):
        return ldaptools.search((server or self.a).uri, "", f"(mail={ADDRESS})",
                                ["mail", "keydirPath"])

    def cached_resolver(self):
        """C: a resolver like A through the same relay, but with a cache (and
        its default negative TTL of 300 s), made on first use."""
        if getattr(self, "c", None) is None:
            self.c = self.make_slapd(name="cached", modules=("back_keydir.la", "keychase.la"))
            self.c.add_database(
                "database keydir\nsuffix \"\"\nrootdn \"cn=admin\"\n"
                f"rootpw {ROOTPW}\ndirectory {self.c.db_dir('catchall')}\n"
                "overlay keychase\n"
                f"keychase-root {self.relay.uri}\nkeychase-timeout 2\n"
                f"keychase-key k1 {self.files['k1']}\nkeychase-sign k1\n")
            self.c.start()
        # start from an empty cache (an earlier test found the key)
        r = subprocess.run(["ldapexop", "-x", "-H", self.c.uri, "-D", "cn=admin", "-w", ROOTPW,
                            FLUSH_OID], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return self.c

    def honest_works(self):
        self.relay.tamper = None
        r = self.lookup()
        assert r.rc == 0 and r.dns() == [MEMBER_DN], (r.rc, r.err)

    def sign_with(self, name):
        dn = "olcOverlay={0}keychase,olcDatabase={2}keydir,cn=config"
        r = ldaptools.modify(self.a.uri, f"dn: {dn}\nchangetype: modify\nreplace: olcKeychaseSign\n"
                             f"olcKeychaseSign: {name}\n", "cn=config")
        assert r.rc == 0, r.err

    def counter(self, server, attr):
        r = ldaptools.search(server.uri, "cn=Databases,cn=Monitor", f"({attr}=*)", [attr])
        values = [v for _, a in r.entries for v in a.get(attr, [])]
        return values


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    made = []

    def factory(**kw):
        s = Slapd(**kw)
        made.append(s)
        return s

    s = Setup(str(tmp_path_factory.mktemp("sign")), factory)
    try:
        yield s
    finally:
        s.relay.close()
        for x in made:
            x.cleanup()


def refusals(setup):
    return dict(v.rsplit(": ", 1) for v in setup.counter(setup.b, "olmKeychaseRefusals"))


def rejected(setup):
    return int(setup.counter(setup.a, "olmKeychaseRejectedAnswers")[0])


def attack_request(setup, mutate, reason):
    """Mutates the signature or the request on its way to B."""
    before = int(refusals(setup).get(reason, 0))

    def tamper(direction, msg):
        if direction == "up" and msg.op.tag == SEARCH_REQUEST and msg.signature():
            mutate(msg)
            return [msg.encode()]
        return [msg.encode()]

    setup.relay.tamper = tamper
    r = setup.lookup()
    assert r.rc == 52, (r.rc, r.err)  # A's only upstream failed
    assert int(refusals(setup).get(reason, 0)) == before + 1, refusals(setup)
    setup.honest_works()


def test_honest_lookup(setup):
    setup.honest_works()


def test_forged_mac(setup):
    def mutate(msg):
        sig = msg.signature()
        mac = bytearray(sig.field(F_MAC).content)
        mac[0] ^= 0x01
        sig.field(F_MAC).content = bytes(mac)
        sig.commit()
    attack_request(setup, mutate, "bad MAC")


def test_truncated_mac(setup):
    def mutate(msg):
        sig = msg.signature()
        sig.field(F_MAC).content = sig.field(F_MAC).content[:16]
        sig.commit()
    attack_request(setup, mutate, "bad MAC length")


def test_overlong_mac(setup):
    def mutate(msg):
        sig = msg.signature()
        sig.field(F_MAC).content = sig.field(F_MAC).content + b"\x00" * 8
        sig.commit()
    attack_request(setup, mutate, "bad MAC length")


def test_unknown_key_name(setup):
    def mutate(msg):
        sig = msg.signature()
        sig.field(F_KEY).content = b"nosuchkey"
        sig.commit()
    attack_request(setup, mutate, "unknown key")


def test_algorithm_swapped(setup):
    def mutate(msg):
        sig = msg.signature()
        sig.field(F_ALG).content = b"hmac-sha512"
        sig.commit()
    attack_request(setup, mutate, "bad MAC length")


def test_filter_altered_after_signing(setup):
    def mutate(msg):
        # (mail=kconley@...) -> (mail=jconley@...): same length, other member.
        flt = msg.op.children[6]
        value = flt.children[1]
        value.content = value.content.replace(b"kconley", b"jconley")
    attack_request(setup, mutate, "bad MAC")


def test_signed_with_a_key_the_server_does_not_have(setup):
    before = int(refusals(setup).get("unknown key", 0))
    setup.sign_with("k3")
    try:
        assert setup.lookup().rc == 52
    finally:
        setup.sign_with("k1")
    assert int(refusals(setup)["unknown key"]) == before + 1
    setup.honest_works()


def test_signed_with_the_wrong_secret(setup):
    before = int(refusals(setup).get("bad MAC", 0))
    setup.sign_with("k2")  # A's k2 is not B's k2
    try:
        assert setup.lookup().rc == 52
    finally:
        setup.sign_with("k1")
    assert int(refusals(setup)["bad MAC"]) == before + 1
    setup.honest_works()


def attack_answer(setup, tamper):
    before = rejected(setup)
    setup.relay.tamper = tamper
    r = setup.lookup()
    assert r.rc == 52 and "answer refused" in r.err, (r.rc, r.err)
    assert rejected(setup) == before + 1
    setup.honest_works()


def test_answer_entry_changed(setup):
    def tamper(direction, msg):
        if direction == "down" and msg.op.tag == SEARCH_ENTRY:
            for attr in msg.op.children[1].children:
                if attr.children[0].content.lower() == b"cn":
                    attr.children[1].children[0].content = b"Mallory"
        return [msg.encode()]
    attack_answer(setup, tamper)


def test_answer_entry_dropped(setup):
    def tamper(direction, msg):
        if direction == "down" and msg.op.tag == SEARCH_ENTRY:
            return []
        return [msg.encode()]
    attack_answer(setup, tamper)


def test_answer_result_code_changed(setup):
    def tamper(direction, msg):
        if direction == "down" and msg.op.tag == SEARCH_DONE:
            msg.op.children[0].content = bytes([32])  # noSuchObject
        return [msg.encode()]
    attack_answer(setup, tamper)


def test_answer_replayed_onto_another_request(setup):
    recorded = []

    def record(direction, msg):
        if direction == "down" and msg.op.tag in (SEARCH_ENTRY, SEARCH_DONE):
            recorded.append(msg.encode())
        return [msg.encode()]

    setup.relay.tamper = record
    assert setup.lookup().rc == 0
    old = list(recorded)

    def replay(direction, msg):
        if direction == "down" and msg.op.tag in (SEARCH_ENTRY, SEARCH_DONE):
            if msg.op.tag == SEARCH_ENTRY:
                return []
            out = []
            for raw in old:  # the earlier answer, renumbered for this request
                from keydirtest.relay import Message
                m = Message(raw)
                m.msgid = msg.msgid
                out.append(m.encode())
            return out
        return [msg.encode()]
    attack_answer(setup, replay)


# -- controls the MAC does not cover (security review #3) --------------------

SUBENTRIES_OID = "1.3.6.1.4.1.4203.1.10.1"
PAGED_OID = "1.2.840.113556.1.4.319"
SYNC_OID = "1.3.6.1.4.1.4203.1.9.1.1"


@pytest.mark.parametrize("oid,value,critical", [
    # RFC 3672 subentries TRUE: the backend hides every normal entry
    (SUBENTRIES_OID, b"\x01\x01\xff", True),
    # RFC 2696 pagedResults, size 0, no cookie: the page ends before the first entry
    (PAGED_OID, b"\x30\x05\x02\x01\x00\x04\x00", False),
    # RFC 4533 sync, refreshOnly, non-critical: no syncprov on B, slapd would
    # ignore it; keychase refuses every control the MAC does not cover
    (SYNC_OID, b"\x30\x03\x0a\x01\x01", False),
], ids=["subentries", "paged0", "sync"])
def test_request_control_added_by_mitm(setup, oid, value, critical):
    """A MITM appends a control to the signed request. B refuses it (unsigned,
    unwillingToPerform, counted as a foreign control) instead of signing
    "success, no entries"; the resolver with a cache does not turn the
    refusal into a cached "not found": once the relay is honest again, the
    key is found."""
    c = setup.cached_resolver()
    before = int(refusals(setup).get("foreign control", 0))

    def tamper(direction, msg):
        if direction == "up" and msg.op.tag == SEARCH_REQUEST and msg.signature():
            msg.add_control(oid, value, critical)
        return [msg.encode()]

    setup.relay.tamper = tamper
    try:
        r = setup.lookup(c)
        assert r.rc == 52, (r.rc, r.err, r.out)  # an error, not "success, no entry"
        assert r.entries == []
        r = setup.lookup()  # A, no cache: the same
        assert r.rc == 52, (r.rc, r.err, r.out)
    finally:
        setup.relay.tamper = None
    assert int(refusals(setup).get("foreign control", 0)) == before + 2, refusals(setup)
    r = setup.lookup(c)
    assert r.rc == 0 and r.dns() == [MEMBER_DN], (r.rc, r.err)
    setup.honest_works()


def test_request_with_foreign_control_refused_with_text(setup):
    """Sent directly (signed by sign_reference.py): the refusal's code and text."""
    rc, text = signed_search_text(setup, extra=[LDAPControl(SUBENTRIES_OID, True,
                                                            encodedControlValue=b"\x01\x01\xff")])
    assert rc == 53, (rc, text)
    assert SUBENTRIES_OID in text and "does not cover" in text, text
    rc, text = signed_search_text(setup, extra=[LDAPControl("2.16.840.1.113730.3.4.2", True)],
                                  manage_dsa_it=True)
    assert rc == 0, (rc, text)


# -- answers bound to the server asked (security review #6) -------------------


def test_mitm_reconnects_to_another_server_holding_the_key(setup):
    """D asks for the member at an address that is B's (B names it in
    keychase-self); a MITM connects it to R, an unrelated catch-all keydir
    server that holds the same key k1 and would sign "not found". R refuses
    the request as meant for another server; D's lookup fails (52) instead
    of caching "not found", and once D reaches B the key is found."""
    r = setup.make_slapd(name="unrelated", modules=("back_keydir.la", "keychase.la"),
                         debug_level="stats")
    r.add_database(
        "database keydir\nsuffix \"\"\nrootdn \"cn=admin\"\n"
        f"rootpw {ROOTPW}\ndirectory {r.db_dir('catchall')}\n"
        "overlay keychase\n"
        f"keychase-key k1 {setup.files['k1']}\nkeychase-require-signed on\n")
    r.start()
    mitm = Relay(r.port)  # the path to "B" that actually leads to R
    d = setup.make_slapd(name="misled", modules=("back_keydir.la", "keychase.la"))
    d.add_database(
        "database keydir\nsuffix \"\"\nrootdn \"cn=admin\"\n"
        f"rootpw {ROOTPW}\ndirectory {d.db_dir('catchall')}\n"
        "overlay keychase\n"
        f"keychase-root {mitm.uri}\nkeychase-timeout 2\n"
        f"keychase-key k1 {setup.files['k1']}\nkeychase-sign k1\n")
    d.start()
    try:
        # B would accept what D signs for mitm.uri: B names it as its own.
        dn = "olcOverlay={0}keychase,olcDatabase={2}keydir,cn=config"
        res = ldaptools.modify(setup.b.uri, f"dn: {dn}\nchangetype: modify\nadd: olcKeychaseSelf\n"
                               f"olcKeychaseSelf: {mitm.uri}\n", "cn=config")
        assert res.rc == 0, res.err
        res = setup.lookup(d)
        assert res.rc == 52, (res.rc, res.err, res.out)  # not "success, no entry"
        assert res.entries == []
        got = dict(v.rsplit(": ", 1) for v in setup.counter(r, "olmKeychaseRefusals"))
        assert got.get("misdirected") == "1", got
        assert "signed for server" in r.log() and mitm.uri.split("//")[1] in r.log()
        # the MITM goes away: D now reaches B, and nothing wrong was cached
        res = ldaptools.modify(d.uri, f"dn: {dn}\nchangetype: modify\n"
                               f"replace: olcKeychaseRoot\nolcKeychaseRoot: {setup.relay.uri}\n",
                               "cn=config")
        assert res.rc == 0, res.err
        res = setup.lookup(d)
        assert res.rc == 0 and res.dns() == [MEMBER_DN], (res.rc, res.err, res.out)
    finally:
        mitm.close()


# -- requests made here: time and replay ---------------------------------------


def signed_search_text(setup, key="k1", time_signed=None, nonce=None, extra=(),
                       manage_dsa_it=False, bind=None):
    """A search of the member signed by sign_reference.py; returns the
    result code (0 found, else the LDAP error's code) and the error's text."""
    time_signed = int(time.time()) if time_signed is None else time_signed
    nonce = nonce or secrets.token_bytes(16)
    canonical = ref.canonical_request(MEMBER_DN, 0, 0, 0, 0, False, manage_dsa_it,
                                      f"(mail={ADDRESS})", ["mail"])
    server = ref.canonical_server("127.0.0.1", setup.b.port)
    mac_input = ref.request_mac_input(key, "hmac-sha256", time_signed, FUDGE, nonce, 0, False,
                                      server, canonical)
    mac = ref.mac("hmac-sha256", setup.secrets[key], mac_input)
    value = ref.control_value("request", key, "hmac-sha256", time_signed, FUDGE, nonce, 0, False,
                              server, mac)
    conn = ldap.initialize(setup.b.uri)
    try:
        if bind:
            conn.simple_bind_s(*bind)
        conn.search_ext_s(MEMBER_DN, ldap.SCOPE_BASE, f"(mail={ADDRESS})", ["mail"],
                          serverctrls=[LDAPControl(SIG_OID, True, encodedControlValue=value)] +
                          list(extra))
        return 0, ""
    except ldap.LDAPError as e:
        return e.args[0]["result"], e.args[0].get("info", "")
    finally:
        conn.unbind_s()


def signed_search(setup, key="k1", time_signed=None, nonce=None):
    """signed_search_text(), the result code only."""
    return signed_search_text(setup, key, time_signed, nonce)[0]


def test_reference_implementation_request_accepted(setup):
    assert signed_search(setup) == 0


def test_signed_request_on_a_bound_connection_refused(setup):
    """What a server shows depends on who is bound, which the MAC does not
    cover: a relay binding its own account would get a genuinely signed
    "no entries" (second read of the review)."""
    rc, text = signed_search_text(setup, bind=("cn=config", "secret"))
    assert rc == 53 and "anonymous" in text, (rc, text)
    assert signed_search(setup) == 0


@pytest.mark.parametrize("skew", [FUDGE + 1, -(FUDGE + 1)])
def test_time_skewed_beyond_fudge(setup, skew):
    assert signed_search(setup, time_signed=int(time.time()) + skew) == 53


def test_time_within_fudge(setup):
    assert signed_search(setup, time_signed=int(time.time()) - (FUDGE - 2)) == 0


def test_replayed_request(setup):
    nonce = secrets.token_bytes(16)
    now = int(time.time())
    assert signed_search(setup, time_signed=now, nonce=nonce) == 0
    assert signed_search(setup, time_signed=now, nonce=nonce) == 50


def test_garbage_control_is_protocol_error(setup):
    conn = ldap.initialize(setup.b.uri)
    with pytest.raises(ldap.PROTOCOL_ERROR):
        conn.search_ext_s(MEMBER_DN, ldap.SCOPE_BASE, "(objectClass=*)", ["mail"],
                          serverctrls=[LDAPControl(SIG_OID, True, encodedControlValue=b"\x30\x03garbage")])
    conn.unbind_s()


def test_unsigned_client_gets_local_data_only(setup):
    # keychase-require-signed on: no control, an ordinary lookup of B's own data.
    r = ldaptools.search(setup.b.uri, "dc=tovaris,dc=com", f"(mail={ADDRESS})", ["mail"])
    assert r.rc == 0 and r.dns() == [MEMBER_DN]


def test_key_rotation_with_two_keys_live(setup):
    setup.sign_with("k4")
    try:
        setup.honest_works()
        # B retires k1: requests signed with it are refused, k4 goes on.
        dn = "olcOverlay={0}keychase,olcDatabase={2}keydir,cn=config"
        r = ldaptools.modify(setup.b.uri, f"dn: {dn}\nchangetype: modify\ndelete: olcKeychaseKey\n"
                             "olcKeychaseKey: {0}k1 " + os.path.join(setup.workdir, "k1.key") + "\n",
                             "cn=config")
        assert r.rc == 0, r.err
        setup.honest_works()
        assert signed_search(setup, key="k1") == 48
        assert signed_search(setup, key="k4") == 0
    finally:
        setup.sign_with("k1")
