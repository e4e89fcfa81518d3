"""keydir-gateway inside a real Postfix on 127.0.0.1: encryption, policies,
Bcc privacy, LMTP, inbound decryption, already-encrypted mail.

Each test builds the network of keydirtest/gatewaynet.py: a slapd key server
(schema/keydir.schema) holding the members, Postfix's smtp-sink standing in
for the Internet, a private Postfix whose content_filter is the gateway, and
the gateway re-injecting into Postfix. Mail goes in with swaks or
sendmail(1); what arrives in the sink and in the local Maildirs is decrypted
with `openssl cms` using the recipient's key. Every process is stopped at the
end, also when a test fails.
"""

import base64
import email
import os
import subprocess

from keydirtest.gatewaynet import (BODY, by_recipients, cms_decrypt, inner_of, net,  # noqa: F401
                                   pki, recipient_count, strip_sink_fields)

# ---------------------------------------------------------------------------


def test_outbound_split_encrypt_and_policies(net, pki):
    """Recipients with keys share one encrypted copy that `openssl cms
    -decrypt` turns back into the original content; carol (policy plain)
    gets the message unchanged; nokey (policy reject) bounces; zed (no
    rule, default hold) waits in the deferred queue."""
    rules = "policy-rule = plain.test plain\npolicy-rule = nokey@partner.test reject\n"
    net.start(config=rules)
    net.send(["alice@partner.test", "bob@partner.test", "nokey@partner.test", "carol@plain.test",
              "zed@elsewhere.test"])
    msgs = net.sink.wait_messages(2)  # the encrypted copy and the plain copy
    got = by_recipients(msgs)
    diag = net.diagnostics()
    assert ("alice@partner.test", "bob@partner.test") in got, diag
    enc_msg, enc_raw = got[("alice@partner.test", "bob@partner.test")]
    body = strip_sink_fields(enc_raw)
    assert enc_msg.get_content_type() == "application/pkcs7-mime"
    assert enc_msg.get_param("smime-type") == "enveloped-data"
    assert enc_msg.get_param("name") == "smime.p7m"
    assert enc_msg["Subject"] == "quarterly figures"
    assert enc_msg["To"].startswith("Alice <alice@partner.test>")
    assert "gw.corp.test" in enc_msg["X-Keydir-Gateway"]
    assert b"gro\xc3\x9fartig" not in enc_raw
    assert recipient_count(body, net.workdir) == 2
    for who in ("alice@partner.test", "bob@partner.test"):
        rc, plain, err = cms_decrypt(body, pki.members[who], net.workdir)
        assert rc == 0, err
        assert plain == inner_of(BODY)
    # aes-256-cbc by default
    r = subprocess.run(["openssl", "cms", "-cmsout", "-print", "-in",
                        os.path.join(net.workdir, "count.eml")], capture_output=True, text=True)
    assert "aes-256-cbc" in r.stdout

    assert ("carol@plain.test",) in got, diag
    plain_msg, plain_raw = got[("carol@plain.test",)]
    assert BODY.split(b"\r\n\r\n", 1)[1] in plain_raw  # body unchanged
    assert "policy plain" in plain_msg["X-Keydir-Gateway"]

    bounce = net.postfix.wait_mailbox("sender@corp.test", 1)
    assert len(bounce) == 1, diag
    assert b"<nokey@partner.test>: no usable encryption key" in bounce[0]
    assert b"5.7.1" in bounce[0]

    deferred = net.postfix.wait_deferred(1)
    assert [d["address"] for d in deferred] == ["zed@elsewhere.test"], diag
    assert "4.7.1" in deferred[0]["delay_reason"]
    log = net.gateway.log()
    assert "to=<alice@partner.test>, action=encrypted" in log
    assert "to=<nokey@partner.test>, refused at RCPT: 550 5.7.1" in log


def test_bcc_recipient_gets_its_own_copy(net, pki):
    """dave is only in the envelope (Bcc): his copy is encrypted to him alone,
    and alice's copy does not name him."""
    net.start()
    data = BODY.replace(b"To: Alice <alice@partner.test>, bob@partner.test, nokey@partner.test\r\n",
                        b"To: alice@partner.test\r\nBcc: dave@partner.test\r\n") \
               .replace(b"Cc: carol@plain.test\r\n", b"")
    # sendmail -t: Postfix takes the recipients from To/Bcc and drops Bcc.
    r = net.postfix.sendmail("sender@corp.test", [], data, extract=True)
    assert r.returncode == 0, r.stderr
    got = by_recipients(net.sink.wait_messages(2))
    diag = net.diagnostics()
    assert set(got) == {("alice@partner.test",), ("dave@partner.test",)}, diag
    for who in ("alice@partner.test", "dave@partner.test"):
        msg, raw = got[(who,)]
        body = strip_sink_fields(raw)
        assert msg["Bcc"] is None
        assert recipient_count(body, net.workdir) == 1
        rc, plain, err = cms_decrypt(body, pki.members[who], net.workdir)
        assert rc == 0, err
        other = "dave@partner.test" if who == "alice@partner.test" else "alice@partner.test"
        rc, _, _ = cms_decrypt(body, pki.members[other], net.workdir)
        assert rc != 0, f"{other} could decrypt {who}'s copy"
        assert b"dave" not in raw.split(b"\r\n\r\n", 1)[1]  # nothing in the body names dave


def test_lmtp_gives_each_recipient_its_own_status(net, pki):
    """With LMTP, the gateway answers per recipient after DATA: reject and
    hold apply even though the message was accepted as a whole, and the
    encrypted copy still goes out."""
    net.start(lmtp=True, config="policy-rule = nokey@partner.test reject\n")
    net.send(["alice@partner.test", "nokey@partner.test", "zed@elsewhere.test"])
    msgs = net.sink.wait_messages(1)
    got = by_recipients(msgs)
    diag = net.diagnostics()
    assert ("alice@partner.test",) in got, diag
    rc, plain, err = cms_decrypt(strip_sink_fields(got[("alice@partner.test",)][1]),
                                 pki.members["alice@partner.test"], net.workdir)
    assert rc == 0 and plain == inner_of(BODY), err
    bounce = net.postfix.wait_mailbox("sender@corp.test", 1)
    assert len(bounce) == 1 and b"<nokey@partner.test>: no usable encryption key" in bounce[0], diag
    deferred = net.postfix.wait_deferred(1)
    assert [d["address"] for d in deferred] == ["zed@elsewhere.test"], diag
    log = net.gateway.log()
    assert "to=<nokey@partner.test>, action=rejected" in log
    assert "to=<zed@elsewhere.test>, action=held" in log


def test_inbound_decryption_for_local_members(net, pki):
    """Mail from outside, encrypted to local@ (RSA) and ecl@ (EC), arrives in
    their Maildirs decrypted, with a header saying so; nop12@ has no private
    key in the directory and gets the message as it came, with the reason."""
    net.start()
    inner = ("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
             "Geheim: gr\u00fc\u00dfe\r\n").encode()
    src = os.path.join(net.workdir, "inner.mime")
    with open(src, "wb") as f:
        f.write(inner)
    out = os.path.join(net.workdir, "enc.p7m")
    r = subprocess.run(["openssl", "cms", "-encrypt", "-aes256", "-binary", "-in", src, "-out", out,
                        "-outform", "DER",
                        "-recip", pki.members["local@corp.test"]["crt"],
                        "-recip", pki.members["ecl@corp.test"]["crt"],
                        "-recip", pki.members["nop12@corp.test"]["crt"]], capture_output=True)
    assert r.returncode == 0, r.stderr
    with open(out, "rb") as f:
        b64 = base64.encodebytes(f.read()).replace(b"\n", b"\r\n")
    msg = (b"From: x@partner.test\r\nTo: local@corp.test, ecl@corp.test, nop12@corp.test\r\n"
           b"Subject: from outside\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n"
           b"Content-Transfer-Encoding: base64\r\n"
           b"X-Keydir-Decrypted: yes (forged by the sender)\r\n\r\n" + b64)
    net.send(["local@corp.test", "ecl@corp.test", "nop12@corp.test"], data=msg,
             sender="x@partner.test")
    diag = net.diagnostics()
    for who in ("local@corp.test", "ecl@corp.test"):
        box = net.postfix.wait_mailbox(who, 1)
        assert len(box) == 1, diag
        m = email.message_from_bytes(box[0])
        decrypted = m.get_all("X-Keydir-Decrypted")
        assert decrypted and len(decrypted) == 1 and who in decrypted[0], diag
        assert m["Subject"] == "from outside"
        assert m.get_content_type() == "text/plain"
        assert box[0].endswith("Geheim: gr\u00fc\u00dfe\r\n".encode()) or \
            box[0].endswith("Geheim: gr\u00fc\u00dfe\n".encode())
    box = net.postfix.wait_mailbox("nop12@corp.test", 1)
    assert len(box) == 1, diag
    m = email.message_from_bytes(box[0])
    assert m.get_content_type() == "application/pkcs7-mime"
    assert "no private key" in m["X-Keydir-Decrypt-Failed"]
    assert m["X-Keydir-Decrypted"] is None


def test_round_trip_out_and_in(net, pki):
    """One message from a member to another member of the same organisation
    through the outbound path (encrypted by this gateway as seen by a remote
    peer) and back in: what local@ reads is what sender wrote."""
    # Outbound: sender -> alice (remote); inbound: the sink's copy re-sent to local@.
    net.start()
    data = BODY.replace(b"To: Alice <alice@partner.test>, bob@partner.test, nokey@partner.test\r\n",
                        b"To: alice@partner.test, local@corp.test\r\n")
    net.send(["alice@partner.test"], data=data)
    got = by_recipients(net.sink.wait_messages(1))
    assert ("alice@partner.test",) in got, net.diagnostics()
    wire = strip_sink_fields(got[("alice@partner.test",)][1])
    assert b"gro\xc3\x9fartig" not in wire
    # The same kind of message arriving for a local member is decrypted.
    path = os.path.join(net.workdir, "inner2.mime")
    with open(path, "wb") as f:
        f.write(inner_of(data))
    r = subprocess.run(["openssl", "cms", "-encrypt", "-aes256", "-binary", "-in", path,
                        "-outform", "DER", "-recip", pki.members["local@corp.test"]["crt"]],
                       capture_output=True)
    b64 = base64.encodebytes(r.stdout).replace(b"\n", b"\r\n")
    head = wire.split(b"\r\n\r\n", 1)[0]
    net.send(["local@corp.test"], data=head + b"\r\n\r\n" + b64, sender="alice@partner.test")
    box = net.postfix.wait_mailbox("local@corp.test", 1)
    assert box, net.diagnostics()
    m = email.message_from_bytes(box[0])
    assert m.get_content_type() == "multipart/mixed"
    assert "gro\u00dfartig" in box[0].decode("utf-8", errors="replace")
    assert m["X-Keydir-Decrypted"]


def test_already_encrypted_mail_passes_untouched(net, pki):
    """S/MIME mail from a local sender goes out byte for byte as it came, also
    to a recipient without a key (LMTP: decided after DATA, per recipient)."""
    net.start(lmtp=True)
    path = os.path.join(net.workdir, "pre.mime")
    with open(path, "wb") as f:
        f.write(inner_of(BODY))
    r = subprocess.run(["openssl", "cms", "-encrypt", "-aes256", "-binary", "-in", path,
                        "-outform", "DER", "-recip", pki.members["alice@partner.test"]["crt"]],
                       capture_output=True)
    b64 = base64.encodebytes(r.stdout).replace(b"\n", b"\r\n")
    msg = (b"From: sender@corp.test\r\nTo: alice@partner.test, zed@elsewhere.test\r\n"
           b"Subject: pre-encrypted\r\nMessage-ID: <pre@corp.test>\r\n"
           b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n"
           b"Content-Transfer-Encoding: base64\r\n\r\n" + b64)
    net.send(["alice@partner.test", "zed@elsewhere.test"], data=msg)
    got = by_recipients(net.sink.wait_messages(1))
    assert ("alice@partner.test", "zed@elsewhere.test") in got, net.diagnostics()
    raw = strip_sink_fields(got[("alice@partner.test", "zed@elsewhere.test")][1])
    # The body byte for byte (smtp-sink ends its dump with an empty line).
    assert raw.split(b"\r\n\r\n", 1)[1].rstrip(b"\r\n") == b64.rstrip(b"\r\n")
    assert b"X-Keydir-Gateway" not in raw
    assert "already encrypted" in net.gateway.log()
