"""The gateway's test network: a slapd key server with the members, an
smtp-sink for the Internet, a private Postfix whose content_filter is the
gateway, and the gateway; plus helpers to look into S/MIME messages.
Fixtures `pki` (module scope) and `net` are imported by the test modules."""

import base64
import os
import subprocess
import tempfile

import pytest

from . import ldaptools
from .mailgw import Gateway, MailPki, Postfix, SmtpSink, member_ldif, swaks
from .slapd import database_mdb

# The key server's database. back-mdb on purpose: it stores what a keydir
# database would refuse (an expired certificate, one for another address),
# so that the gateway's own checks are tested. test_gateway_chase.py runs
# the gateway against back_keydir and keychase. To run these tests on
# back_keydir: `database_keydir` and the module "back_keydir.la".
DATABASE = database_mdb
DATABASE_MODULE = "back_mdb.la"

SUFFIX = "dc=test"
GATEWAY_DN = "cn=gateway,dc=test"
GATEWAY_PW = "gateway bind secret"
LOCAL = "corp.test"

ACL = f"""\
access to attrs=userPKCS12
  by dn.exact="{GATEWAY_DN}" read
  by * none
access to attrs=userPassword
  by anonymous auth
  by * none
access to *
  by * read
"""

BODY = (
    "From: Sender <sender@corp.test>\r\n"
    "To: Alice <alice@partner.test>, bob@partner.test, nokey@partner.test\r\n"
    "Cc: carol@plain.test\r\n"
    "Subject: quarterly figures\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "preamble\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: 8bit\r\n"
    "\r\n"
    "Die Zahlen sind gro\u00dfartig.\r\n"
    ".a line with a leading dot\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream; name=figures.bin\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAwQFBgcICQ==\r\n"
    "--b1--\r\n"
).encode()


def inner_of(raw_message):
    """The MIME entity a message would be encrypted as: its Content-* header
    fields and its body (the comparison value after `openssl cms -decrypt`)."""
    head, _, body = raw_message.partition(b"\r\n\r\n")
    fields, cur = [], []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") and cur:
            cur.append(line)
            continue
        if cur:
            fields.append(cur)
        cur = [line]
    if cur:
        fields.append(cur)
    keep = [b"\r\n".join(f) for f in fields if f[0].lower().startswith(b"content-")]
    return b"\r\n".join(keep) + b"\r\n\r\n" + body


def cms_decrypt(raw, member, workdir):
    """`openssl cms -decrypt` of a whole message with a member's key; returns
    (returncode, plaintext bytes, stderr)."""
    path = os.path.join(workdir, "in.eml")
    with open(path, "wb") as f:
        f.write(raw)
    r = subprocess.run(["openssl", "cms", "-decrypt", "-in", path, "-recip", member["crt"],
                        "-inkey", member["key"], "-binary"], capture_output=True)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def recipient_count(raw, workdir):
    """The number of RecipientInfos in an S/MIME message."""
    path = os.path.join(workdir, "count.eml")
    with open(path, "wb") as f:
        f.write(raw)
    r = subprocess.run(["openssl", "cms", "-cmsout", "-print", "-in", path],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout.count("d.ktri:") + r.stdout.count("d.kari:")


def strip_sink_fields(raw):
    """The message without the X-* envelope fields smtp-sink puts in front."""
    lines = raw.split(b"\r\n") if b"\r\n" in raw else raw.split(b"\n")
    i = 0
    while i < len(lines) and lines[i].split(b":")[0] in (
            b"X-Client-Addr", b"X-Client-Proto", b"X-Helo-Args", b"X-Mail-Args", b"X-Rcpt-Args"):
        i += 1
    sep = b"\r\n" if b"\r\n" in raw else b"\n"
    return sep.join(lines[i:])


@pytest.fixture(scope="module")
def pki():
    d = tempfile.mkdtemp(prefix="keydir-gw-pki-")
    p = MailPki(d)
    members = {
        "alice@partner.test": p.member("alice@partner.test"),
        "bob@partner.test": p.member("bob@partner.test", ec=True),
        "dave@partner.test": p.member("dave@partner.test"),
        "sender@corp.test": p.member("sender@corp.test"),
        "local@corp.test": p.member("local@corp.test"),
        "ecl@corp.test": p.member("ecl@corp.test", ec=True),
        "nop12@corp.test": p.member("nop12@corp.test"),
    }
    p.members = members
    p.expired = p.expired_member("old@partner.test")
    # revoked@: keydirStatus revoked. roll@: a new and an old certificate,
    # the old one also listed as keydirRevokedCertificate. two@: two valid
    # certificates during a rollover.
    p.revoked = p.member("revoked@partner.test")
    p.roll_new = p.member("roll@partner.test", name="roll-new")
    p.roll_old = p.member("roll@partner.test", name="roll-old")
    p.two_a = p.member("two@partner.test", name="two-a")
    p.two_b = p.member("two@partner.test", ec=True, name="two-b")
    yield p
    if os.environ.get("KEYDIR_KEEP_TEST_DIRS") != "1":
        subprocess.run(["rm", "-rf", d])


class MailNet:
    """The whole test network; `start()` brings it up, `cleanup()` down."""

    def __init__(self, make_slapd, pki, workdir):
        self.pki = pki
        self.workdir = workdir
        self.slapd = make_slapd(name="gw-keys", modules=(DATABASE_MODULE,))
        self.slapd.add_database(DATABASE(SUFFIX, self.slapd.db_dir("test"), extra=ACL))
        self.sink = SmtpSink(workdir)
        self.postfix = None
        self.gateway = None

    def load_directory(self):
        ldif = (f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n"
                "dc: test\no: test\n\n"
                f"dn: {GATEWAY_DN}\nobjectClass: organizationalRole\n"
                f"objectClass: simpleSecurityObject\ncn: gateway\nuserPassword: {GATEWAY_PW}\n\n")
        for zone in ("corp", "partner"):
            ldif += (f"dn: dc={zone},{SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n"
                     f"dc: {zone}\no: {zone}\n\n")
        for addr, m in self.pki.members.items():
            local, domain = addr.split("@")
            zone_dn = ",".join("dc=" + p for p in domain.split("."))
            ldif += member_ldif(m, f"mail={addr},{zone_dn}", with_p12=addr != "nop12@corp.test")
        ldif += member_ldif(self.pki.expired, "mail=old@partner.test,dc=partner,dc=test",
                            with_p12=False)
        ldif += member_ldif(self.pki.revoked, "mail=revoked@partner.test,dc=partner,dc=test",
                            with_p12=False, status="revoked")
        ldif += member_ldif(self.pki.roll_new, "mail=roll@partner.test,dc=partner,dc=test",
                            with_p12=False, extra_certs=[self.pki.roll_old["der"]],
                            revoked=[self.pki.roll_old["der"]])
        ldif += member_ldif(self.pki.two_a, "mail=two@partner.test,dc=partner,dc=test",
                            with_p12=False, extra_certs=[self.pki.two_b["der"]])
        r = ldaptools.add(self.slapd.uri, ldif, f"cn=admin,{SUFFIX}")
        assert r.rc == 0, r.err

    def start(self, gateway_args=(), lmtp=False, policy="hold", config=None, start_gateway=True,
              reinject_filtered=False):
        self.slapd.start()
        self.load_directory()
        self.sink.start()
        bind_pw = os.path.join(self.workdir, "bind-password")
        with open(bind_pw, "w") as f:
            f.write(GATEWAY_PW + "\n")
        os.chmod(bind_pw, 0o600)
        self.postfix = Postfix(self.workdir, self.sink.port, local_domain=LOCAL,
                               mailboxes=[a for a in self.pki.members if a.endswith("@" + LOCAL)],
                               reinject_filtered=reinject_filtered)
        # The content filter needs the gateway's port and the gateway the
        # re-injection port: make the gateway first, start Postfix, then it.
        self.gateway = Gateway(
            self.workdir, self.postfix.reinject_port, self.slapd.uri, SUFFIX,
            ["--bind-dn", GATEWAY_DN, "--bind-password-file", bind_pw,
             "--key-password-file", self.pki.passphrase_file, "--local-domain", LOCAL,
             "--policy", policy, "--trust-anchor", self.pki.ca_crt] + list(gateway_args),
            config=config)
        if lmtp:
            self.postfix.content_filter = f"gwlmtp:inet:[127.0.0.1]:{self.gateway.port}"
        else:
            self.postfix.content_filter = f"gwfilter:[127.0.0.1]:{self.gateway.port}"
        self.postfix.start()
        if start_gateway:
            self.gateway.start()
        return self

    def send(self, to, data=BODY, sender="sender@corp.test"):
        # swaks ends the data with CRLF itself.
        if data.endswith(b"\r\n"):
            data = data[:-2]
        r = swaks(self.postfix.port, sender, to, data)
        assert r.returncode == 0, r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")
        return r

    def diagnostics(self):
        return (f"--- gateway log\n{self.gateway.log() if self.gateway else ''}\n"
                f"--- postfix maillog\n{self.postfix.maillog()[-6000:] if self.postfix else ''}")

    def cleanup(self):
        for p in (self.gateway, self.postfix, self.sink):
            if p is not None:
                p.stop()


@pytest.fixture
def net(make_slapd, pki):
    workdir = tempfile.mkdtemp(prefix="keydir-gw-")
    n = MailNet(make_slapd, pki, workdir)
    yield n
    n.cleanup()
    if os.environ.get("KEYDIR_KEEP_TEST_DIRS") != "1":
        subprocess.run(["rm", "-rf", workdir])


def by_recipients(messages):
    return {tuple(sorted(rcpts)): (msg, raw) for rcpts, msg, raw in messages}




class GatewayOnKeyNetwork:
    """The gateway of sales.example.com on the patent's key network
    (keydirtest/network.py: back_keydir and keychase): its key server is the
    network's `local` node, its Postfix delivers ann@sales.example.com to a
    Maildir and everything else to an smtp-sink. Used by
    test_gateway_chase.py and examples/gateway/demo."""

    LOCAL_DOMAIN = "sales.example.com"
    ANN = "ann@sales.example.com"
    KCONLEY = "kconley@tovaris.com"

    def __init__(self, workdir, key_server="local", local_domain=None, gateway_args=(),
                 trust_zones=False, ldap_base=None):
        """key_server: the network's server the gateway asks (with the
        suffix of `local_domain`'s zone as its base, or `ldap_base`);
        gateway_args: more options; trust_zones: --trust-anchor with every
        zone's CA."""
        from .network import KeyNetwork

        self.trust_zones = trust_zones
        self.key_server = key_server
        self.local_domain = local_domain or self.LOCAL_DOMAIN
        self.gateway_args = list(gateway_args)
        self.ldap_base = ldap_base
        self.workdir = workdir
        os.chmod(workdir, 0o755)
        self.net = KeyNetwork(os.path.join(workdir, "net"))
        self.sink = self.postfix = self.gateway = None

    def start(self):
        self.net.build()
        self.net.start().load()
        self.sink = SmtpSink(self.workdir).start()
        from .network import MEMBERS

        self.postfix = Postfix(self.workdir, self.sink.port, local_domain=self.local_domain,
                               mailboxes=MEMBERS[self.local_domain])
        zone = self.net.zones[self.local_domain]
        extra = list(self.gateway_args)
        if self.trust_zones:
            anchors = os.path.join(self.workdir, "zone-cas.pem")
            with open(anchors, "w") as out:
                for z in self.net.zones.values():
                    with open(z.ca_crt) as f:
                        out.write(f.read())
            extra += ["--trust-anchor", anchors]
        self.gateway = Gateway(self.workdir, self.postfix.reinject_port,
                               self.net.uri(self.key_server),
                               zone.suffix if self.ldap_base is None else self.ldap_base,
                               ["--local-domain", self.local_domain, "--key-password-file",
                                self.kek(), "--bind-dn", zone.rootdn, "--bind-password-file",
                                zone.bindpw] + extra,
                               hostname="gw." + self.local_domain)
        self.postfix.content_filter = f"gwlmtp:inet:[127.0.0.1]:{self.gateway.port}"
        self.postfix.start()
        self.gateway.start()
        return self

    def kek(self):
        """The file with the passphrase of the members' userPKCS12."""
        return os.path.join(self.net.workdir, "gateway.kek")

    def member_key(self, address):
        """A member's certificate and key as PEM files (from the userPKCS12
        that keydir-admin wrote)."""
        from . import keys
        from .mailgw import pkcs12_to_pem

        with open(os.path.join(self.net.workdir, address + ".ldif")) as f:
            p12 = keys.raw_ldif_values(f.read(), "userPKCS12")[0]
        return pkcs12_to_pem(p12, self.kek(), self.workdir, address)

    def encrypt_to(self, address, inner, headers):
        """A message as another S/MIME gateway would send it to `address`:
        `headers` (CRLF) outside, `inner` (a MIME entity) encrypted."""
        path = os.path.join(self.workdir, "inner.mime")
        with open(path, "wb") as f:
            f.write(inner)
        r = subprocess.run(["openssl", "cms", "-encrypt", "-aes256", "-binary", "-in", path,
                            "-outform", "DER", "-recip", self.member_key(address)["crt"]],
                           capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(r.stderr.decode(errors="replace"))
        b64 = base64.encodebytes(r.stdout).replace(b"\n", b"\r\n")
        return (headers + b"MIME-Version: 1.0\r\n"
                b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n" + b64)

    def send(self, sender, recipients, data):
        if data.endswith(b"\r\n"):
            data = data[:-2]  # swaks ends the data with CRLF itself
        r = swaks(self.postfix.port, sender, recipients, data)
        if r.returncode != 0:
            raise RuntimeError(r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace"))

    def cleanup(self):
        for p in (self.gateway, self.postfix, self.sink):
            if p is not None:
                p.stop()
        self.net.cleanup()
