"""keydir-gateway: the findings of the security review (the mail path, real
slapd and real Postfix, keydirtest/gatewaynet.py): recipient addresses in
any case (#4), decrypted inner header fields (#10), what counts as already
encrypted (#11). Referrals from the key server (#5) are in
test_gateway_referral.py."""

import email

from keydirtest.gatewaynet import (BODY, by_recipients, cms_decrypt, inner_of, net,  # noqa: F401
                                   pki, strip_sink_fields)

SECRET = b"CONFIDENTIAL-123"


def _message(to):
    return (f"From: sender@corp.test\r\nTo: {to}\r\nSubject: case\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n").encode() + SECRET + b"\r\n"


def test_upper_case_recipient_is_encrypted_and_does_not_poison_the_cache(net, pki):
    """#4: ALICE@partner.test is alice@ (the directory matches `mail`
    without regard to case): encrypted to alice's certificate although the
    policy for partner.test is plain; and alice@ right after it (the key
    cache) is encrypted too."""
    net.start(policy="plain")
    alice = pki.members["alice@partner.test"]
    for to in ("ALICE@Partner.Test", "alice@partner.test", "Alice@partner.test"):
        net.sink.clear()
        net.send([to], data=_message(to))
        msgs = net.sink.wait_messages(1)
        diag = net.diagnostics()
        assert len(msgs) == 1, diag
        rcpts, msg, raw = msgs[0]
        assert [r.lower() for r in rcpts] == ["alice@partner.test"], diag
        assert SECRET not in raw, f"{to} went out in plain\n{diag}"
        assert msg.get_content_type() == "application/pkcs7-mime", diag
        rc, plain, err = cms_decrypt(strip_sink_fields(raw), alice, net.workdir)
        assert rc == 0 and SECRET in plain, err
    assert "action=plain" not in net.gateway.log()
