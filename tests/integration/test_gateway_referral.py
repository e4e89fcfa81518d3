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


@pytest.fixture
def example_gw():
    workdir = tempfile.mkdtemp(prefix="keydir-gw-ref-")
    g = GatewayOnKeyNetwork(workdir, key_server="example", local_domain="example.com",
                            gateway_args=["--policy", "plain"])
    try:
        yield g.start()
    finally:
        g.cleanup()
        if os.environ.get("KEYDIR_KEEP_TEST_DIRS") != "1":
            subprocess.run(["rm", "-rf", workdir])


def _message():
    return (b"From: Bob <bob@example.com>\r\nTo: Ann <ann@sales.example.com>\r\n"
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
