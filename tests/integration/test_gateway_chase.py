"""keydir-gateway on the key network (keydirtest/network.py): the gateway of
sales.example.com asks only its local key server; a recipient in another
zone (kconley@tovaris.com) is found because that server chases the key
(keychase: parent, root pointer, holder). The mail goes out encrypted to the
chased certificate, and an answer encrypted to ann@sales.example.com comes
in decrypted with ann's key from her zone. Real slapd (back_keydir,
keychase), real Postfix, keys made by keydir-admin."""

import base64
import email
import os
import subprocess
import tempfile

import pytest

from keydirtest import keys
from keydirtest.gatewaynet import cms_decrypt, strip_sink_fields
from keydirtest.mailgw import Gateway, Postfix, SmtpSink, swaks
from keydirtest.network import KeyNetwork

LOCAL_DOMAIN = "sales.example.com"
ANN = "ann@sales.example.com"
KCONLEY = "kconley@tovaris.com"


def member_key(workdir, net, address):
    """(certificate, key) PEM files of a member, from the userPKCS12 that
    keydir-admin wrote (opened with the zone's gateway key-encryption key)."""
    with open(os.path.join(net.workdir, address + ".ldif")) as f:
        p12 = keys.raw_ldif_values(f.read(), "userPKCS12")[0]
    kek = os.path.join(net.workdir, "gateway.kek")
    p12_path = os.path.join(workdir, address + ".p12")
    with open(p12_path, "wb") as f:
        f.write(p12)
    out = {}
    for what, flag in (("crt", "-clcerts"), ("key", "-nocerts")):
        path = os.path.join(workdir, f"{address}.{what}")
        r = subprocess.run(["openssl", "pkcs12", "-in", p12_path, "-passin", f"file:{kek}",
                            "-nodes", flag, "-out", path], capture_output=True)
        assert r.returncode == 0, r.stderr
        out[what] = path
    return out


@pytest.fixture
def chase_net(tmp_path_factory):
    workdir = tempfile.mkdtemp(prefix="keydir-gw-chase-")
    os.chmod(workdir, 0o755)
    net = KeyNetwork(os.path.join(workdir, "net"))
    parts = []
    try:
        net.build()
        net.start().load()
        sink = SmtpSink(workdir)
        parts.append(sink)
        sink.start()
        postfix = Postfix(workdir, sink.port, local_domain=LOCAL_DOMAIN, mailboxes=[ANN])
        parts.append(postfix)
        local_zone = net.zones[LOCAL_DOMAIN]
        gateway = Gateway(workdir, postfix.reinject_port, net.uri("local"), local_zone.suffix,
                          ["--local-domain", LOCAL_DOMAIN, "--key-password-file",
                           os.path.join(net.workdir, "gateway.kek"),
                           "--bind-dn", local_zone.rootdn, "--bind-password-file",
                           local_zone.bindpw])
        parts.append(gateway)
        postfix.content_filter = f"gwlmtp:inet:[127.0.0.1]:{gateway.port}"
        postfix.start()
        gateway.start()
        yield net, sink, postfix, gateway, workdir
    finally:
        for p in reversed(parts):
            p.stop()
        net.cleanup()
        if os.environ.get("KEYDIR_KEEP_TEST_DIRS") != "1":
            subprocess.run(["rm", "-rf", workdir])


def test_remote_recipient_chased_and_answer_decrypted(chase_net):
    net, sink, postfix, gateway, workdir = chase_net
    body = ("From: Ann <ann@sales.example.com>\r\nTo: K. Conley <kconley@tovaris.com>\r\n"
            "Subject: the offer\r\nMIME-Version: 1.0\r\n"
            "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
            "Our offer stands until Friday.\r\n").encode()
    r = swaks(postfix.port, ANN, [KCONLEY], body[:-2])
    assert r.returncode == 0, r.stderr
    msgs = sink.wait_messages(1)
    diag = gateway.log() + postfix.maillog()[-4000:]
    assert len(msgs) == 1 and msgs[0][0] == [KCONLEY], diag
    wire = strip_sink_fields(msgs[0][2])
    assert b"Our offer stands" not in wire
    assert msgs[0][1].get_content_type() == "application/pkcs7-mime"
    kconley = member_key(workdir, net, KCONLEY)
    rc, plain, err = cms_decrypt(wire, kconley, workdir)
    assert rc == 0, err
    assert plain == (b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
                     b"Our offer stands until Friday.\r\n")
    assert f"to=<{KCONLEY}>, action=encrypted" in gateway.log()

    # kconley's answer, encrypted to ann's certificate (as tovaris.com's
    # gateway would send it), arrives decrypted in ann's Maildir.
    ann = member_key(workdir, net, ANN)
    inner = os.path.join(workdir, "answer.mime")
    with open(inner, "wb") as f:
        f.write(b"Content-Type: text/plain; charset=us-ascii\r\n\r\nAccepted.\r\n")
    r = subprocess.run(["openssl", "cms", "-encrypt", "-aes256", "-binary", "-in", inner,
                        "-outform", "DER", "-recip", ann["crt"]], capture_output=True)
    assert r.returncode == 0, r.stderr
    b64 = base64.encodebytes(r.stdout).replace(b"\n", b"\r\n")
    answer = (b"From: kconley@tovaris.com\r\nTo: ann@sales.example.com\r\nSubject: Re: the offer\r\n"
              b"MIME-Version: 1.0\r\n"
              b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n"
              b"Content-Transfer-Encoding: base64\r\n\r\n" + b64)
    r = swaks(postfix.port, KCONLEY, [ANN], answer[:-2])
    assert r.returncode == 0, r.stderr
    box = postfix.wait_mailbox(ANN, 1)
    assert box, gateway.log() + postfix.maillog()[-4000:]
    m = email.message_from_bytes(box[0])
    assert ANN in m["X-Keydir-Decrypted"]
    assert m.get_payload().strip() == "Accepted."
