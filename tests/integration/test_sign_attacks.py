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
        wrong = key_file(os.path.join(workdir, "k2-wrong.key"), wrong_k2)

        self.zone = keys.Zone(workdir, "tovaris.com", key_type="p256")
        out = os.path.join(workdir, "k.ldif")
        r = self.zone.admin("member", "add", ADDRESS, *self.zone.issue_args(), "--key-type",
                            "p256", "-o", out)
        assert r.returncode == 0, r.stderr
        with open(out) as f:
            member = f.read()

        # B: the holder, knows k1, k2 and k4.
        self.b = make_slapd(name="holder", modules=("back_keydir.la", "keychase.la"))
        self.b.add_database(
            "database keydir\nsuffix \"dc=tovaris,dc=com\"\nrootdn \"cn=admin,dc=tovaris,dc=com\"\n"
            f"rootpw {ROOTPW}\ndirectory {self.b.db_dir('zone')}\nindex objectClass,mail eq\n"
            "overlay keychase\n"
            f"keychase-key k1 {files['k1']}\nkeychase-key k2 {files['k2']}\n"
            f"keychase-key k4 {files['k4']}\nkeychase-fudge {FUDGE}\n"
            "keychase-require-signed on\n")
        self.b.start()
        r = ldaptools.add(self.b.uri, self.zone.zone_ldif() + "\n" + member, self.zone.rootdn)
        assert r.rc == 0, r.err

        self.relay = Relay(self.b.port)
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

    def lookup(self):
        return ldaptools.search(self.a.uri, "", f"(mail={ADDRESS})", ["mail", "keydirPath"])

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


# -- requests made here: time and replay ---------------------------------------


def signed_search(setup, key="k1", time_signed=None, nonce=None):
    """A search of the member signed by sign_reference.py; returns the
    result code (0 found, else the LDAP error's code)."""
    time_signed = int(time.time()) if time_signed is None else time_signed
    nonce = nonce or secrets.token_bytes(16)
    canonical = ref.canonical_request(MEMBER_DN, 0, 0, 0, 0, False, False,
                                      f"(mail={ADDRESS})", ["mail"])
    mac_input = ref.request_mac_input(key, "hmac-sha256", time_signed, FUDGE, nonce, 0, False,
                                      canonical)
    mac = ref.mac("hmac-sha256", setup.secrets[key], mac_input)
    value = ref.control_value("request", key, "hmac-sha256", time_signed, FUDGE, nonce, 0, False, mac)
    conn = ldap.initialize(setup.b.uri)
    try:
        conn.search_ext_s(MEMBER_DN, ldap.SCOPE_BASE, f"(mail={ADDRESS})", ["mail"],
                          serverctrls=[LDAPControl(SIG_OID, True, encodedControlValue=value)])
        return 0
    except ldap.LDAPError as e:
        return e.args[0]["result"]
    finally:
        conn.unbind_s()


def test_reference_implementation_request_accepted(setup):
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
