"""keydir-gateway and referrals from its own key server (security review
#5), on the key network of keydirtest/network.py (real slapd with
back_keydir and keychase, real Postfix): the gateway of example.com asks
its zone's server `example`, which has delegated sales.example.com to the
`local` node; for ann@sales.example.com it answers with a continuation
reference, never with a chase. The gateway follows it (anonymously, bounded,
loops refused) and encrypts to ann's certificate; when the referral cannot
be followed, that is a lookup failure (deferred), never "no key" (which
with --policy plain would send the message in clear)."""

import os
import subprocess
import tempfile

import pytest

from keydirtest.gatewaynet import GatewayOnKeyNetwork, cms_decrypt, strip_sink_fields

ANN = GatewayOnKeyNetwork.ANN
BOB = "bob@example.com"
SECRET = b"SECRET-777"


def _gateway(args, trust_zones):
    workdir = tempfile.mkdtemp(prefix="keydir-gw-ref-")
    g = GatewayOnKeyNetwork(workdir, key_server="example", local_domain="example.com",
                            gateway_args=["--policy", "plain"] + args, trust_zones=trust_zones)
    try:
        yield g.start()
    finally:
        g.cleanup()
        if os.environ.get("KEYDIR_KEEP_TEST_DIRS") != "1":
            subprocess.run(["rm", "-rf", workdir])


@pytest.fixture
def example_gw():
    # The network runs on 127.0.0.1, which the default policy (public
    # hosts) refuses; its zones' CAs make the certificates checkable.
    yield from _gateway(["--referral-allow", "127.0.0.1"], trust_zones=True)


@pytest.fixture
def untrusting_gw():
    yield from _gateway(["--referral-allow", "127.0.0.1"], trust_zones=False)


@pytest.fixture
def default_policy_gw():
    yield from _gateway([], trust_zones=True)


def _message(to=ANN):
    return (b"From: Bob <bob@example.com>\r\nTo: " + to.encode() + b"\r\n"
            b"Subject: delegated\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + SECRET + b"\r\n")


def test_referral_from_key_server_is_followed(example_gw):
    g = example_gw
    g.send(BOB, [ANN], _message())
    msgs = g.sink.wait_messages(1)
    diag = g.gateway.log() + g.postfix.maillog()[-4000:]
    assert len(msgs) == 1 and msgs[0][0] == [ANN], diag
    wire = strip_sink_fields(msgs[0][2])
    assert SECRET not in wire, "sent in clear:\n" + diag
    assert msgs[0][1].get_content_type() == "application/pkcs7-mime", diag
    rc, plain, err = cms_decrypt(wire, g.member_key(ANN), g.workdir)
    assert rc == 0 and SECRET in plain, err
    assert f"to=<{ANN}>, action=encrypted" in g.gateway.log()


def test_referral_that_cannot_be_followed_defers(example_gw):
    g = example_gw
    g.net.servers["local"].stop()  # the server example.com delegated to
    g.send(BOB, [ANN], _message())
    assert g.gateway.wait_log(f"to=<{ANN}>, action=deferred", timeout=60), g.gateway.log()
    deferred = g.postfix.wait_deferred(1)
    assert [d["address"] for d in deferred] == [ANN], g.gateway.log()
    assert "4.4.3" in deferred[0]["delay_reason"]
    assert g.sink.messages() == [], "delivered although the key could not be looked up"
    assert "referral could not be followed" in g.gateway.log()


def _deferred(g, to, why):
    assert g.gateway.wait_log(f"to=<{to}>, action=deferred", timeout=60), g.gateway.log()
    deferred = g.postfix.wait_deferred(1)
    assert [d["address"] for d in deferred] == [to], g.gateway.log()
    assert g.sink.messages() == [], "delivered although the key could not be looked up"
    assert why in g.gateway.log(), g.gateway.log()


def test_no_entry_behind_a_referral_defers(example_gw):
    """An unsigned "no such member" from a server a referral named is what
    an attacker on that path would forge: never "no key" (second read)."""
    nobody = "nobody@sales.example.com"
    example_gw.send(BOB, [nobody], _message(nobody))
    _deferred(example_gw, nobody, "is not taken as")


def test_referral_certificates_need_trust_anchors(untrusting_gw):
    """Without --trust-anchor a certificate from a server nothing vouches
    for cannot be told from a forged one (second read)."""
    untrusting_gw.send(BOB, [ANN], _message())
    _deferred(untrusting_gw, ANN, "used only with --trust-anchor")


def test_referral_to_a_private_address_is_not_followed(default_policy_gw):
    """The default policy follows referrals to public hosts only: a zone
    cannot make the gateway probe internal services (second read)."""
    default_policy_gw.send(BOB, [ANN], _message())
    _deferred(default_policy_gw, ANN, "not followed")
