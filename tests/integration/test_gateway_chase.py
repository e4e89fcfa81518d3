"""keydir-gateway on the key network (keydirtest/network.py): the gateway of
sales.example.com asks only its local key server; a recipient in another
zone (kconley@tovaris.com) is found because that server chases the key
(keychase: parent, root pointer, holder). The mail goes out encrypted to the
chased certificate, and an answer encrypted to ann@sales.example.com comes
in decrypted with ann's key from her zone. Real slapd (back_keydir,
keychase), real Postfix, keys made by keydir-admin."""

import email
import os
import subprocess
import tempfile

import pytest

from keydirtest.gatewaynet import GatewayOnKeyNetwork, cms_decrypt, strip_sink_fields
from keydirtest.mailgw import UNPRIVILEGED, run_gateway
from keydirtest.slapd import free_port

ANN = GatewayOnKeyNetwork.ANN
KCONLEY = GatewayOnKeyNetwork.KCONLEY


@pytest.fixture
def chase_net():
    workdir = tempfile.mkdtemp(prefix="keydir-gw-chase-")
    g = GatewayOnKeyNetwork(workdir)
    try:
        yield g.start()
    finally:
        g.cleanup()
        if os.environ.get("KEYDIR_KEEP_TEST_DIRS") != "1":
            subprocess.run(["rm", "-rf", workdir])


def test_remote_recipient_chased_and_answer_decrypted(chase_net):
    g = chase_net
    g.send(ANN, [KCONLEY],
           b"From: Ann <ann@sales.example.com>\r\nTo: K. Conley <kconley@tovaris.com>\r\n"
           b"Subject: the offer\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=us-ascii\r\n\r\nOur offer stands until Friday.\r\n")
    msgs = g.sink.wait_messages(1)
    diag = g.gateway.log() + g.postfix.maillog()[-4000:]
    assert len(msgs) == 1 and msgs[0][0] == [KCONLEY], diag
    wire = strip_sink_fields(msgs[0][2])
    assert b"Our offer stands" not in wire
    assert msgs[0][1].get_content_type() == "application/pkcs7-mime"
    rc, plain, err = cms_decrypt(wire, g.member_key(KCONLEY), g.workdir)
    assert rc == 0, err
    assert plain == (b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
                     b"Our offer stands until Friday.\r\n")
    assert f"to=<{KCONLEY}>, action=encrypted" in g.gateway.log()

    # kconley's answer, encrypted to ann's certificate (as tovaris.com's
    # gateway would send it), arrives decrypted in ann's Maildir.
    g.send(KCONLEY, [ANN], g.encrypt_to(
        ANN, b"Content-Type: text/plain; charset=us-ascii\r\n\r\nAccepted.\r\n",
        b"From: kconley@tovaris.com\r\nTo: ann@sales.example.com\r\nSubject: Re: the offer\r\n"))
    box = g.postfix.wait_mailbox(ANN, 1)
    assert box, g.gateway.log() + g.postfix.maillog()[-4000:]
    m = email.message_from_bytes(box[0])
    assert ANN in m["X-Keydir-Decrypted"]
    assert m.get_payload().strip() == "Accepted."


def test_decrypted_inner_header_fields_stay_inside(chase_net):
    """#10: header fields inside the encrypted entity (a forged From:,
    Subject:, Reply-To: and X-Keydir-Decrypted:) never become the delivered
    message's header fields; the outer ones and the gateway's own stay."""
    g = chase_net
    inner = (b"From: CEO <ceo@sales.example.com>\r\nSubject: wire the money\r\n"
             b"Reply-To: thief@evil.example\r\nX-Keydir-Decrypted: forged\r\n"
             b"Content-Type: text/plain; charset=us-ascii\r\n\r\nPay now.\r\n")
    g.send(KCONLEY, [ANN], g.encrypt_to(
        ANN, inner,
        b"From: kconley@tovaris.com\r\nTo: ann@sales.example.com\r\nSubject: hello\r\n"))
    box = g.postfix.wait_mailbox(ANN, 1)
    assert box, g.gateway.log() + g.postfix.maillog()[-4000:]
    m = email.message_from_bytes(box[0])
    assert m.get_all("From") == ["kconley@tovaris.com"], m.get_all("From")
    assert m.get_all("Subject") == ["hello"], m.get_all("Subject")
    assert m.get_all("Reply-To") is None
    decrypted = m.get_all("X-Keydir-Decrypted")
    assert len(decrypted) == 1 and "forged" not in decrypted[0] and ANN in decrypted[0]
    assert m.get_content_type() == "text/plain"
    assert m.get_payload().strip() == "Pay now."


def test_null_base_finds_chased_key():
    """--ldap-base "": the null DN, the natural base on a node whose
    catch-all database (`suffix ""`, keychase) chases every address."""
    workdir = tempfile.mkdtemp(prefix="keydir-gw-nullbase-")
    g = GatewayOnKeyNetwork(workdir, ldap_base="")
    try:
        g.start()
        g.send(ANN, [KCONLEY],
               b"From: Ann <ann@sales.example.com>\r\nTo: K. Conley <kconley@tovaris.com>\r\n"
               b"Subject: null base\r\nMIME-Version: 1.0\r\n"
               b"Content-Type: text/plain; charset=us-ascii\r\n\r\nFound from the root.\r\n")
        msgs = g.sink.wait_messages(1)
        diag = g.gateway.log() + g.postfix.maillog()[-4000:]
        assert len(msgs) == 1 and msgs[0][0] == [KCONLEY], diag
        wire = strip_sink_fields(msgs[0][2])
        assert b"Found from the root" not in wire
        rc, plain, err = cms_decrypt(wire, g.member_key(KCONLEY), g.workdir)
        assert rc == 0, err
        assert b"Found from the root." in plain
        assert f"to=<{KCONLEY}>, action=encrypted" in g.gateway.log()
    finally:
        g.cleanup()
        if os.environ.get("KEYDIR_KEEP_TEST_DIRS") != "1":
            subprocess.run(["rm", "-rf", workdir])


def test_invalid_base_refused_at_start():
    nowhere = f"ldap://127.0.0.1:{free_port()}/"
    for base, problem in (("not a dn", "is not a valid DN"), ("dc=example,", "is not a valid DN")):
        r = run_gateway(["--ldap-uri", nowhere, "--ldap-base", base, "--user", UNPRIVILEGED,
                         "--check-config"])
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert f"keydir-gateway: --ldap-base: '{base}' {problem}" in r.stderr, r.stderr
    r = run_gateway(["--ldap-uri", nowhere, "--user", UNPRIVILEGED, "--check-config"])
    assert r.returncode == 2 and "--ldap-base is required" in r.stderr, r.stderr
