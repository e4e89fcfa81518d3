"""keydir-gateway and the key server: which certificates are used, what
happens when the key server is down or slow, who may read private keys,
sign-then-encrypt and the cipher options. Real slapd, real Postfix."""

import os
import signal
import subprocess
import time

from keydirtest import ldaptools
from keydirtest.gatewaynet import (BODY, GATEWAY_DN, GATEWAY_PW, SUFFIX, by_recipients,  # noqa: F401
                                   cms_decrypt, inner_of, net, pki, recipient_count,
                                   strip_sink_fields)


def test_key_server_down_defers_and_recovers(net, pki):
    """No key server: every outbound recipient is deferred (4.4.3), nothing
    leaves in plain even with --policy plain; when the key server is back,
    Postfix's retry delivers the message encrypted."""
    net.start(policy="plain", gateway_args=["--key-cache-ttl", "0"])
    net.slapd.stop()
    net.send(["alice@partner.test", "carol@plain.test"])
    deferred = net.postfix.wait_deferred(2)
    diag = net.diagnostics()
    assert sorted(d["address"] for d in deferred) == ["alice@partner.test", "carol@plain.test"], diag
    assert all("4.4.3" in d["delay_reason"] for d in deferred), diag
    assert net.sink.messages() == []
    net.slapd.start()
    net.postfix.flush()
    got = by_recipients(net.sink.wait_messages(2))
    assert ("alice@partner.test",) in got and ("carol@plain.test",) in got, net.diagnostics()
    rc, plain, err = cms_decrypt(strip_sink_fields(got[("alice@partner.test",)][1]),
                                 pki.members["alice@partner.test"], net.workdir)
    assert rc == 0 and plain == inner_of(BODY), err
    assert "policy plain" in got[("carol@plain.test",)][0]["X-Keydir-Gateway"]
    assert net.postfix.wait_queue_empty()


def test_key_server_hanging_defers_in_bounded_time(net, pki):
    """A key server that accepts but never answers (SIGSTOP) makes the
    gateway give up after --ldap-timeout and defer, not hang."""
    net.start(gateway_args=["--ldap-timeout", "2", "--key-cache-ttl", "0"])
    net.slapd.signal(signal.SIGSTOP)
    try:
        t0 = time.time()
        net.send(["alice@partner.test"])
        deferred = net.postfix.wait_deferred(1, timeout=30)
        elapsed = time.time() - t0
        assert [d["address"] for d in deferred] == ["alice@partner.test"], net.diagnostics()
        assert "4.4.3" in deferred[0]["delay_reason"]
        assert elapsed < 20, f"deferral took {elapsed:.1f}s"
        assert net.sink.messages() == []
    finally:
        net.slapd.signal(signal.SIGCONT)


def test_lookup_failure_policy_sends_plain_only_when_the_policy_says_so(net, pki):
    """--lookup-failure policy: with the key server down, a recipient whose
    policy is plain gets the message in plain; a hold recipient waits."""
    net.start(gateway_args=["--lookup-failure", "policy", "--key-cache-ttl", "0"],
              config="policy-rule = plain.test plain\n")
    net.slapd.stop()
    net.send(["carol@plain.test", "alice@partner.test"])
    got = by_recipients(net.sink.wait_messages(1))
    assert list(got) == [("carol@plain.test",)], net.diagnostics()
    deferred = net.postfix.wait_deferred(1)
    assert [d["address"] for d in deferred] == ["alice@partner.test"]
    assert "4.7.1" in deferred[0]["delay_reason"]


def test_unusable_certificates_are_not_used(net, pki):
    """expired (old@), keydirStatus revoked (revoked@): no usable key, so the
    policy applies (plain here, to see it). roll@: the certificate listed in
    keydirRevokedCertificate is skipped. two@: both valid certificates of a
    rollover are used."""
    net.start(policy="plain")
    for who in ("old@partner.test", "revoked@partner.test", "roll@partner.test",
                "two@partner.test"):
        net.send([who], data=BODY.replace(b"To: Alice <alice@partner.test>,",
                                          b"To: " + who.encode() + b","))
    got = by_recipients(net.sink.wait_messages(4))
    diag = net.diagnostics()
    assert len(got) == 4, diag
    for who in ("old@partner.test", "revoked@partner.test"):
        msg, raw = got[(who,)]
        assert msg.get_content_type() == "multipart/mixed", diag
        assert "policy plain" in msg["X-Keydir-Gateway"]
    log = net.gateway.log()
    assert "expired" in log
    assert "revoked" in log
    roll = strip_sink_fields(got[("roll@partner.test",)][1])
    assert recipient_count(roll, net.workdir) == 1
    assert cms_decrypt(roll, pki.roll_new, net.workdir)[0] == 0
    assert cms_decrypt(roll, pki.roll_old, net.workdir)[0] != 0
    two = strip_sink_fields(got[("two@partner.test",)][1])
    assert recipient_count(two, net.workdir) == 2
    for m in (pki.two_a, pki.two_b):
        rc, plain, err = cms_decrypt(two, m, net.workdir)
        assert rc == 0, err


def test_newest_certificate_selection(net, pki):
    net.start(gateway_args=["--cert-selection", "newest"])
    net.send(["two@partner.test"])
    got = by_recipients(net.sink.wait_messages(1))
    two = strip_sink_fields(got[("two@partner.test",)][1])
    assert recipient_count(two, net.workdir) == 1, net.diagnostics()


def test_only_the_gateway_reads_private_keys(net, pki):
    """userPKCS12 is readable by the gateway's bind DN and nobody else, and a
    wrong --bind-password-file keeps the gateway from starting to decrypt."""
    net.start()
    dn = "mail=local@corp.test,dc=corp,dc=test"
    anon = ldaptools.search(net.slapd.uri, dn, attrs=["userPKCS12", "userCertificate;binary"],
                            scope="base")
    assert anon.rc == 0
    attrs = anon.entry(dn)
    assert "userPKCS12" not in attrs and "userCertificate;binary" in attrs
    gw = ldaptools.search(net.slapd.uri, dn, attrs=["userPKCS12"], scope="base",
                          binddn=GATEWAY_DN, password=GATEWAY_PW)
    assert "userPKCS12" in gw.entry(dn)


def test_sign_then_encrypt(net, pki):
    """--sign yes: the sender is a local member, so the content is signed
    with its key first; alice decrypts and openssl verifies the signature
    against the zone CA and gets the original entity back."""
    net.start(gateway_args=["--sign", "yes"])
    net.send(["alice@partner.test"])
    got = by_recipients(net.sink.wait_messages(1))
    body = strip_sink_fields(got[("alice@partner.test",)][1])
    rc, signed, err = cms_decrypt(body, pki.members["alice@partner.test"], net.workdir)
    assert rc == 0, err
    assert b"multipart/signed" in signed and b'protocol="application/pkcs7-signature"' in signed
    path = os.path.join(net.workdir, "signed.eml")
    with open(path, "wb") as f:
        f.write(signed)
    # As mail clients do: the signed part is read as canonical text (CRLF).
    r = subprocess.run(["openssl", "cms", "-verify", "-in", path, "-CAfile", pki.ca_crt,
                        "-purpose", "smimesign"], capture_output=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout == inner_of(BODY)


def test_oaep_and_gcm_options(net, pki):
    net.start(gateway_args=["--rsa-padding", "oaep", "--cipher", "aes-256-gcm"])
    net.send(["alice@partner.test", "bob@partner.test"])
    got = by_recipients(net.sink.wait_messages(1))
    msg, raw = got[("alice@partner.test", "bob@partner.test")]
    assert msg.get_param("smime-type") == "authEnveloped-data"
    body = strip_sink_fields(raw)
    recipient_count(body, net.workdir)
    r = subprocess.run(["openssl", "cms", "-cmsout", "-print", "-in",
                        os.path.join(net.workdir, "count.eml")], capture_output=True, text=True)
    assert "rsaesOaep" in r.stdout and "aes-256-gcm" in r.stdout
    assert "dhSinglePass-stdDH-sha256kdf-scheme" in r.stdout  # bob's EC key
    for who in ("alice@partner.test", "bob@partner.test"):
        rc, plain, err = cms_decrypt(body, pki.members[who], net.workdir)
        assert rc == 0 and plain == inner_of(BODY), err
