"""keydir-gateway as a daemon: its SMTP/LMTP dialogue and the statuses it
gives for bad input, its options and their errors, bounded concurrency,
graceful shutdown, and loop protection inside a misconfigured Postfix."""

import os
import signal
import smtplib
import socket
import stat
import time

import pytest

from keydirtest.gatewaynet import BODY, GATEWAY_DN, SUFFIX, net, pki  # noqa: F401
from keydirtest.mailgw import run_gateway
from keydirtest.slapd import free_port


def smtp(port, lmtp=False):
    c = smtplib.LMTP("127.0.0.1", port) if lmtp else smtplib.SMTP("127.0.0.1", port, timeout=30)
    if lmtp:
        c.sock.settimeout(30)
    return c


def test_dialogue_and_bad_input(net, pki):
    """Talking to the gateway directly: what it offers, and a clear status
    for every kind of bad input."""
    net.start(gateway_args=["--max-message-size", "100000", "--max-recipients", "3"])
    port = net.gateway.port
    c = smtp(port)
    code, msg = c.docmd("MAIL FROM:<a@corp.test>")
    assert code == 503 and b"EHLO" in msg
    code, msg = c.ehlo("client.test")
    assert code == 250
    assert c.has_extn("pipelining") and c.has_extn("8bitmime")
    assert c.has_extn("enhancedstatuscodes") and c.esmtp_features["size"] == "100000"
    assert c.docmd("RCPT TO:<alice@partner.test>")[0] == 503
    assert c.docmd("MAIL FROM:<bad address@corp.test>")[0] == 501
    assert c.docmd("MAIL FROM:sender@corp.test")[0] == 501
    code, msg = c.docmd("MAIL FROM:<a@corp.test> SIZE=200000")
    assert (code, msg[:5]) == (552, b"5.3.4")
    assert c.docmd("MAIL FROM:<a@corp.test> SMTPUTF8")[0] == 555
    assert c.docmd("MAIL FROM:<a@corp.test> BODY=8BITMIME")[0] == 250
    assert c.docmd("MAIL FROM:<b@corp.test>")[0] == 503  # nested
    code, msg = c.docmd("RCPT TO:<alice@@partner.test>")
    assert code == 501 and msg.startswith(b"5.1.3")
    assert c.docmd("RCPT TO:<>")[0] == 501
    assert c.docmd("RCPT TO:<alice@partner.test> NOTIFY=NEVER")[0] == 555
    assert c.docmd("XYZZY")[0] == 500
    assert c.docmd("NOOP")[0] == 250
    assert c.docmd("RSET")[0] == 250
    assert c.docmd("DATA")[0] == 503
    c.docmd("MAIL FROM:<a@corp.test>")
    assert c.docmd("DATA")[0] == 554  # no recipients
    assert c.docmd("X" * 3000)[0] == 500  # command line too long
    for r in ("a", "b", "c"):
        assert c.docmd(f"RCPT TO:<{r}@corp.test>")[0] == 250
    code, msg = c.docmd("RCPT TO:<d@corp.test>")
    assert code == 452 and msg.startswith(b"4.5.3")
    c.rset()
    # A message larger than the limit is read to its end and refused.
    c.mail("a@corp.test")
    c.rcpt("local@corp.test")
    code, msg = c.data(b"Subject: big\r\n\r\n" + (b"x" * 998 + b"\r\n") * 120)
    assert code == 552 and msg.startswith(b"5.3.4"), msg
    # Malformed MIME.
    c.mail("a@corp.test")
    c.rcpt("local@corp.test")
    code, msg = c.data(b"Subject: x\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
                       b"no parts\r\n")
    assert code == 554 and msg.startswith(b"5.6.0 Malformed MIME") and b"boundary" in msg, msg
    # The session is still usable.
    c.mail("a@corp.test")
    c.rcpt("local@corp.test")
    code, msg = c.data(b"Subject: fine\r\n\r\nfine\r\n")
    assert code == 250
    assert c.quit()[0] == 221
    assert net.postfix.wait_mailbox("local@corp.test", 1)


def test_lmtp_dialogue_replies_per_recipient(net, pki):
    net.start(config="policy-rule = nokey@partner.test reject\n")
    c = smtp(net.gateway.port, lmtp=True)
    code, _ = c.docmd("LHLO client.test")
    assert code == 250
    c.docmd("MAIL FROM:<sender@corp.test>")
    for r in ("alice@partner.test", "nokey@partner.test", "zed@elsewhere.test", "local@corp.test"):
        assert c.docmd(f"RCPT TO:<{r}>")[0] == 250
    assert c.docmd("DATA")[0] == 354
    c.send(BODY.replace(b"\r\n.", b"\r\n..") + b".\r\n")
    replies = [c.getreply() for _ in range(4)]
    codes = [r[0] for r in replies]
    assert codes == [250, 550, 450, 250], replies
    assert replies[1][1].startswith(b"5.7.1") and replies[2][1].startswith(b"4.7.1")
    c.quit()


def test_graceful_shutdown_and_bounded_sessions(net, pki):
    """--max-sessions 2: a third connection waits for its greeting until one
    of the first two ends. SIGTERM: idle sessions get 421 and the daemon
    exits 0 without waiting for the grace period."""
    net.start(gateway_args=["--max-sessions", "2"])
    port = net.gateway.port
    a, b = smtp(port), smtp(port)
    third = socket.create_connection(("127.0.0.1", port))
    third.settimeout(1.5)
    with pytest.raises(socket.timeout):
        third.recv(100)
    a.quit()
    third.settimeout(10)
    assert third.recv(100).startswith(b"220 ")
    b.ehlo("x")
    t0 = time.time()
    net.gateway.signal(signal.SIGTERM)
    net.gateway.proc.wait(timeout=20)
    assert net.gateway.proc.returncode == 0
    assert time.time() - t0 < 10
    b.sock.settimeout(5)
    assert b.getreply()[0] == 421
    log = net.gateway.log()
    assert "received SIGTERM" in log and "stopped" in log


def test_shutdown_finishes_the_message_in_progress(net, pki):
    """SIGTERM in the middle of DATA: the message is still processed and
    answered before the session closes."""
    net.start()
    c = smtp(net.gateway.port)
    c.ehlo("x")
    c.mail("sender@corp.test")
    c.rcpt("local@corp.test")
    assert c.docmd("DATA")[0] == 354
    c.send(b"Subject: in flight\r\n\r\nfirst half\r\n")
    time.sleep(0.3)
    net.gateway.signal(signal.SIGTERM)
    time.sleep(1.5)
    c.send(b"second half\r\n.\r\n")
    code, msg = c.getreply()
    assert code == 250, msg
    assert c.docmd("NOOP")[0] in (421, 250)
    net.gateway.proc.wait(timeout=20)
    box = net.postfix.wait_mailbox("local@corp.test", 1)
    assert box and b"second half" in box[0]


def test_mail_loop_is_broken(net, pki):
    """A Postfix whose re-injection listener still has the content filter
    sends every copy back to the gateway: plain copies carry the gateway's
    trace field and are refused (5.4.6) on the fourth pass; the sender gets
    the bounce instead of an endless loop."""
    net.start(reinject_filtered=True, config="policy-rule = plain.test plain\n")
    net.send(["carol@plain.test"])
    bounce = net.postfix.wait_mailbox("sender@corp.test", 1, timeout=60)
    assert bounce, net.diagnostics()
    assert b"5.4.6" in bounce[0] and b"Mail loop" in bounce[0]
    assert net.sink.messages() == []


@pytest.mark.parametrize("args,needle", [
    (["--ldap-base", "dc=test", "--policy", "encrypt"], "unknown policy 'encrypt'"),
    ([], "--ldap-base is required"),
    (["--ldap-base", "dc=test", "--listen", "127.0.0.1"], "expected HOST:PORT"),
    (["--ldap-base", "dc=test", "--next-hop", "127.0.0.1:99999"], "not a port number"),
    (["--ldap-base", "dc=test", "--cipher", "des"], "unknown cipher"),
    (["--ldap-base", "dc=test", "--rsa-padding", "pss"], "unknown RSA padding"),
    (["--ldap-base", "dc=test", "--policy-rule", "example.org"], "expected 'PATTERN POLICY'"),
    (["--ldap-base", "dc=test", "--local-domain", "corp.test"], "needs --key-password-file"),
    (["--ldap-base", "dc=test", "--max-sessions", "0"], "between 1 and"),
    (["--ldap-base", "dc=test", "--no-such-option"], "unrecognised option"),
    (["--ldap-base", "dc=test", "--sign", "maybe"], "expected yes or no"),
    (["--ldap-base", "dc=test", "--foreground", "--listen", "FREE"], "refusing to run as root"),
])
def test_bad_options_exit_2(args, needle):
    args = [f"127.0.0.1:{free_port()}" if a == "FREE" else a for a in args]
    r = run_gateway(args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert needle in r.stderr, r.stderr


def test_config_file_and_secret_files(tmp_path):
    conf = tmp_path / "gw.conf"
    conf.write_text("ldap-base = dc=test\npolicy = plain\npolicy-rule = example.org frobnicate\n")
    r = run_gateway(["--config", str(conf)])
    assert r.returncode == 2 and "unknown policy 'frobnicate'" in r.stderr
    conf.write_text("ldap-base = dc=test\nno-such-setting = 1\n")
    r = run_gateway(["--config", str(conf)])
    assert r.returncode == 2 and "no-such-setting" in r.stderr
    r = run_gateway(["--config", str(tmp_path / "missing.conf")])
    assert r.returncode == 2 and "cannot read" in r.stderr
    pw = tmp_path / "pw"
    pw.write_text("secret\n")
    os.chmod(pw, 0o644)
    r = run_gateway(["--ldap-base", "dc=test", "--bind-dn", "cn=x", "--bind-password-file", str(pw)])
    assert r.returncode == 2 and "readable by everyone" in r.stderr
    r = run_gateway(["--help"])
    assert r.returncode == 0 and "--key-password-file" in r.stdout and "--policy-rule" in r.stdout
    r = run_gateway(["--version"])
    assert r.returncode == 0 and r.stdout.startswith("keydir-gateway ")


def test_check_config(net, pki):
    """--check-config binds to the key server and greets the next hop."""
    net.start(start_gateway=False)
    args = [a for a in net.gateway.args if a != "--foreground"]
    r = run_gateway(args + ["--check-config"])
    assert r.returncode == 0, r.stderr
    assert "configuration OK" in r.stdout
    bad = list(args)
    bad[bad.index("--bind-password-file") + 1] = str(write_secret(net.workdir, "wrong"))
    r = run_gateway(bad + ["--check-config"])
    assert r.returncode == 1 and "Invalid credentials" in r.stderr
    net.slapd.stop()
    r = run_gateway(args + ["--check-config"])
    assert r.returncode == 1 and "key server" in r.stderr


def write_secret(directory, text):
    path = os.path.join(directory, "secret-" + text)
    with open(path, "w") as f:
        f.write(text + "\n")
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    return path


def test_example_configuration_parses(tmp_path, pki):
    """examples/gateway/keydir-gateway.conf is valid: with its secret files
    replaced on the command line (which wins over the file) it gets as far
    as asking the (absent) key server."""
    example = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "gateway",
                           "keydir-gateway.conf")
    secret = write_secret(str(tmp_path), "s3cret")
    r = run_gateway(["--config", example, "--bind-password-file", secret, "--key-password-file",
                     secret, "--trust-anchor", pki.ca_crt, "--ldap-uri",
                     f"ldap://127.0.0.1:{free_port()}/", "--next-hop", f"127.0.0.1:{free_port()}",
                     "--check-config"])
    assert r.returncode == 1, r.stderr
    assert "key server" in r.stderr and "next hop" in r.stderr


def test_address_in_use_exits_1():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        r = run_gateway(["--ldap-base", "dc=test", "--listen", f"127.0.0.1:{port}", "--user",
                         "nobody", "--foreground"])
    assert r.returncode == 1, r.stderr
    assert "cannot listen on 127.0.0.1:" in r.stderr and "in use" in r.stderr
