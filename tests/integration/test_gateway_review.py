"""keydir-gateway: the findings of the security review (the mail path, real
slapd and real Postfix, keydirtest/gatewaynet.py): recipient addresses in
any case (#4), decrypted inner header fields (#10), what counts as already
encrypted (#11). Referrals from the key server (#5) are in
test_gateway_referral.py."""

import base64
import email
import os
import subprocess

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


def _opaque_signed(pki, workdir):
    """An opaque S/MIME signed message (CMS SignedData with the content
    inside) labelled as RFC 8551 allows: .p7m, no smime-type."""
    sender = pki.members["sender@corp.test"]
    inner = os.path.join(workdir, "signed-inner.mime")
    with open(inner, "wb") as f:
        f.write(b"Content-Type: text/plain; charset=us-ascii\r\n\r\n" + SECRET + b"\r\n")
    r = subprocess.run(["openssl", "cms", "-sign", "-nodetach", "-binary", "-in", inner,
                        "-signer", sender["crt"], "-inkey", sender["key"], "-outform", "DER"],
                       capture_output=True)
    assert r.returncode == 0, r.stderr
    b64 = base64.encodebytes(r.stdout).replace(b"\n", b"\r\n")
    return (b"From: sender@corp.test\r\nTo: alice@partner.test\r\nSubject: signed\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: application/pkcs7-mime; name=smime.p7m\r\n"
            b"Content-Transfer-Encoding: base64\r\n"
            b"Content-Disposition: attachment; filename=smime.p7m\r\n\r\n" + b64)


def _pasted_armour():
    return (b"From: sender@corp.test\r\nTo: alice@partner.test\r\nSubject: pasted\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
            b"-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA0xvcmVtaXBzdW0=\r\n=abcd\r\n"
            b"-----END PGP MESSAGE-----\r\n\r\nand the password is " + SECRET + b"\r\n")


def test_not_really_encrypted_mail_is_encrypted(net, pki):
    """#11: opaque signed data (.p7m without smime-type) and a text body that
    only starts with a PGP block are not "already encrypted": a recipient
    with a key gets them encrypted."""
    net.start(policy="plain")
    alice = pki.members["alice@partner.test"]
    for name, data in (("opaque signed", _opaque_signed(pki, net.workdir)),
                       ("pasted armour", _pasted_armour())):
        net.sink.clear()
        net.send(["alice@partner.test"], data=data)
        msgs = net.sink.wait_messages(1)
        diag = net.diagnostics()
        assert len(msgs) == 1, diag
        _, msg, raw = msgs[0]
        assert msg.get_content_type() == "application/pkcs7-mime", (name, diag)
        assert msg.get_param("smime-type") == "enveloped-data", (name, diag)
        rc, plain, err = cms_decrypt(strip_sink_fields(raw), alice, net.workdir)
        assert rc == 0, (name, err)
    assert "untouched" not in net.gateway.log()
