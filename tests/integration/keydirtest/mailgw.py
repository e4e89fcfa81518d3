"""Mail-side processes for the gateway's integration tests.

Postfix   a private Postfix instance (own config_directory, queue_directory,
          ports on 127.0.0.1) whose master runs in the foreground
          (`postfix start-fg`) in its own process group, so stopping it or
          the test run ending in any way takes every Postfix process with it.
SmtpSink  Postfix's smtp-sink, dumping each transaction to a file.
Gateway   a keydir-gateway process in the foreground.
MailPki   a CA, member certificates and PKCS#12 files made with the openssl CLI.
"""

import atexit
import email
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from .slapd import BUILD_DIR, free_port

GATEWAY = os.environ.get("KEYDIR_GATEWAY", os.path.join(BUILD_DIR, "gateway", "keydir-gateway"))
POSTFIX = "/usr/sbin/postfix"
SMTP_SINK = "/usr/sbin/smtp-sink"
UNPRIVILEGED = "nobody"

_running = []


def _stop_all():
    for p in list(_running):
        p.stop()


atexit.register(_stop_all)


def wait_port(port, proc, what, timeout=20, log=lambda: ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout}s:\n{log()}")


def _kill_group(proc, timeout=15):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def _tail(path, n=6000):
    try:
        with open(path, errors="replace") as f:
            return f.read()[-n:]
    except OSError:
        return ""


class _Process:
    """One child process in its own process group, logging to a file."""

    def __init__(self, workdir, name):
        self.workdir = workdir
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = None

    def _spawn(self, cmd, env=None):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=env)
        log.close()
        _running.append(self)

    def stop(self, timeout=15):
        _kill_group(self.proc, timeout)
        if self in _running:
            _running.remove(self)

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def log(self):
        return _tail(self.log_path)


class SmtpSink(_Process):
    """smtp-sink on a free port; every transaction becomes a file in dump_dir."""

    def __init__(self, workdir, lmtp=False, dump=True):
        super().__init__(workdir, "sink")
        self.dump = dump  # False: accept and discard (benchmarks)
        self.port = free_port()
        self.dump_dir = os.path.join(workdir, "sink")
        os.makedirs(self.dump_dir, exist_ok=True)
        shutil.chown(self.dump_dir, UNPRIVILEGED)
        self.lmtp = lmtp

    def start(self):
        cmd = [SMTP_SINK, "-u", UNPRIVILEGED]
        if self.dump:
            cmd += ["-d", os.path.join(self.dump_dir, "msg.")]
        if self.lmtp:
            cmd.append("-L")
        cmd += [f"127.0.0.1:{self.port}", "64"]
        self._spawn(cmd)
        wait_port(self.port, self.proc, "smtp-sink", log=self.log)
        return self

    def messages(self):
        """[(envelope recipients, email.message.Message, raw bytes)] of finished dumps."""
        out = []
        for path in sorted(glob.glob(os.path.join(self.dump_dir, "msg.*"))):
            with open(path, "rb") as f:
                # smtp-sink stores lines with LF: give them back their CRLF.
                raw = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            msg = email.message_from_bytes(raw)
            rcpts = [v.strip().split()[0].strip("<>").split(":", 1)[-1].strip("<>")
                     for v in msg.get_all("X-Rcpt-Args", [])]
            out.append((rcpts, msg, raw))
        return out

    def wait_messages(self, count, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            msgs = self.messages()
            if len(msgs) >= count:
                time.sleep(0.2)  # let a file being written finish
                return self.messages()
            time.sleep(0.1)
        return self.messages()

    def clear(self):
        for path in glob.glob(os.path.join(self.dump_dir, "msg.*")):
            os.unlink(path)


def _master_cf(smtpd_port, reinject_port, reinject_filtered=False):
    services = """\
127.0.0.1:{smtpd} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
# the gateway as an after-queue content filter (SMTP or LMTP)
gwfilter  unix  -       -       n       -       8       smtp
  -o smtp_send_xforward_command=yes
  -o disable_mime_output_conversion=yes
  -o smtp_generic_maps=
gwlmtp    unix  -       -       n       -       8       lmtp
  -o disable_mime_output_conversion=yes
# re-injection: no content filter, no address rewriting a second time
127.0.0.1:{reinject} inet n - n - - smtpd
  -o content_filter=
  -o smtpd_milters=
  -o receive_override_options=no_unknown_recipient_checks,no_header_body_checks,no_milters,no_address_mappings
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o mynetworks=127.0.0.0/8
  -o smtpd_authorized_xforward_hosts=127.0.0.0/8
"""
    if reinject_filtered:  # a misconfiguration that makes mail loop, for tests
        services = services.replace("  -o content_filter=\n", "")
    return services.format(smtpd=smtpd_port, reinject=reinject_port)


class Postfix(_Process):
    """A private Postfix: mail to `local_domain` goes to Maildirs, all other
    mail to `relay_port` (an smtp-sink); with `content_filter` set, every
    message passes through it first and comes back on `reinject_port`."""

    def __init__(self, workdir, relay_port, local_domain="corp.test", mailboxes=(),
                 content_filter=None, extra_main="", reinject_filtered=False):
        super().__init__(workdir, "postfix")
        self.root = os.path.join(workdir, "postfix")
        self.conf = os.path.join(self.root, "conf")
        self.queue = os.path.join(self.root, "queue")
        self.data = os.path.join(self.root, "data")
        self.maildir = os.path.join(self.root, "mail")
        self.logdir = os.path.join(self.root, "log")
        for d in (self.conf, self.queue, self.data, self.maildir, self.logdir):
            os.makedirs(d, exist_ok=True)
        os.chmod(workdir, 0o755)
        os.chmod(self.root, 0o755)
        shutil.chown(self.data, "postfix")
        shutil.chown(self.maildir, UNPRIVILEGED)
        self.port = free_port()
        self.reinject_port = free_port()
        self.relay_port = relay_port
        self.local_domain = local_domain
        self.mailboxes = list(mailboxes)
        self.content_filter = content_filter
        self.extra_main = extra_main
        self.reinject_filtered = reinject_filtered

    def main_cf(self):
        boxes = ", ".join(f"{m}={m.split('@')[0]}/" for m in self.mailboxes) or "x@invalid=x/"
        text = f"""\
compatibility_level = 3.6
queue_directory = {self.queue}
data_directory = {self.data}
myhostname = mx.{self.local_domain}
mydomain = {self.local_domain}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
smtputf8_enable = no
maillog_file_prefixes = {self.logdir}
maillog_file = {self.logdir}/maillog
virtual_mailbox_domains = {self.local_domain}
virtual_mailbox_base = {self.maildir}
virtual_mailbox_maps = inline:{{ {boxes} }}
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
default_transport = smtp:[127.0.0.1]:{self.relay_port}
smtp_dns_support_level = disabled
message_size_limit = 104857600
virtual_mailbox_limit = 209715200
queue_run_delay = 300s
minimal_backoff_time = 300s
gwfilter_destination_recipient_limit = 100
gwlmtp_destination_recipient_limit = 100
"""
        if self.content_filter:
            text += f"content_filter = {self.content_filter}\n"
        return text + self.extra_main

    def start(self):
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write(self.main_cf())
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(_master_cf(self.port, self.reinject_port, self.reinject_filtered))
        r = subprocess.run([POSTFIX, "-c", self.conf, "check"], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"postfix check failed: {r.stderr}")
        self._spawn([POSTFIX, "-c", self.conf, "start-fg"])
        wait_port(self.port, self.proc, "postfix", log=self.log)
        wait_port(self.reinject_port, self.proc, "postfix re-injection listener", log=self.log)
        return self

    def stop(self, timeout=15):
        if self.running():
            subprocess.run([POSTFIX, "-c", self.conf, "stop"], capture_output=True, timeout=30)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        super().stop(timeout)

    def maillog(self):
        return _tail(os.path.join(self.logdir, "maillog"), 20000)

    def queue_json(self):
        """The queue as postqueue -j shows it: [{queue_name, recipients: [...]}]."""
        r = subprocess.run(["postqueue", "-c", self.conf, "-j"], capture_output=True, text=True)
        return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]

    def flush(self):
        subprocess.run(["postqueue", "-c", self.conf, "-f"], capture_output=True)

    def wait_queue_empty(self, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if not self.queue_json():
                return True
            time.sleep(0.1)
        return False

    def wait_deferred(self, count, timeout=60):
        """Waits until `count` recipients are in the deferred queue; returns them."""
        deadline = time.time() + timeout
        rcpts = []
        while time.time() < deadline:
            rcpts = [r for m in self.queue_json() if m.get("queue_name") == "deferred"
                     for r in m.get("recipients", [])]
            if len(rcpts) >= count:
                return rcpts
            time.sleep(0.1)
        return rcpts

    def mailbox(self, address):
        """The files delivered to a local Maildir (new/), oldest first."""
        user = address.split("@")[0]
        files = glob.glob(os.path.join(self.maildir, user, "new", "*"))
        out = []
        for p in sorted(files, key=os.path.getmtime):
            with open(p, "rb") as f:
                out.append(f.read())
        return out

    def wait_mailbox(self, address, count, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            box = self.mailbox(address)
            if len(box) >= count:
                return box
            time.sleep(0.1)
        return self.mailbox(address)

    def sendmail(self, sender, recipients, data, extract=False):
        """Injects through Postfix's sendmail(1) (the pickup path)."""
        env = dict(os.environ, MAIL_CONFIG=self.conf)
        cmd = ["/usr/sbin/sendmail", "-f", sender] + (["-t"] if extract else ["--"] + list(recipients))
        return subprocess.run(cmd, input=data, capture_output=True, env=env, timeout=60)


class Gateway(_Process):
    """keydir-gateway in the foreground on a free port."""

    def __init__(self, workdir, next_hop_port, ldap_uri, ldap_base, extra_args=(), config=None,
                 hostname="gw.corp.test"):
        super().__init__(workdir, "gateway")
        self.port = free_port()
        self.args = ["--listen", f"127.0.0.1:{self.port}", "--next-hop", f"127.0.0.1:{next_hop_port}",
                     "--ldap-uri", ldap_uri, "--ldap-base", ldap_base, "--foreground",
                     "--user", UNPRIVILEGED, "--hostname", hostname, "--verbose"] + list(extra_args)
        if config:
            path = os.path.join(workdir, "gateway.conf")
            with open(path, "w") as f:
                f.write(config)
            self.args += ["--config", path]

    def start(self):
        self._spawn([GATEWAY] + self.args)
        wait_port(self.port, self.proc, "keydir-gateway", log=self.log)
        return self

    def signal(self, sig):
        os.killpg(self.proc.pid, sig)

    def wait_log(self, text, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if text in self.log():
                return True
            time.sleep(0.1)
        return False


def run_gateway(args, timeout=30):
    """Runs keydir-gateway to completion (for option checks)."""
    return subprocess.run([GATEWAY] + list(args), capture_output=True, text=True, timeout=timeout)


def swaks(port, sender, to, data=None, extra=(), timeout=60):
    """Sends one message with swaks; `to` is a list of envelope recipients."""
    cmd = ["swaks", "--server", f"127.0.0.1:{port}", "--from", sender,
           "--to", ",".join(to), "--hide-all"] + list(extra)
    if data is not None:
        cmd += ["--data", "-"]
    return subprocess.run(cmd, input=data, capture_output=True, timeout=timeout)


class MailPki:
    """A zone CA and members, made with the openssl CLI in `directory`."""

    def __init__(self, directory, passphrase="gateway key passphrase"):
        self.dir = directory
        os.makedirs(directory, exist_ok=True)
        self.passphrase_file = os.path.join(directory, "key-password")
        with open(self.passphrase_file, "w") as f:
            f.write(passphrase + "\n")  # the trailing newline is stripped by its readers
        os.chmod(self.passphrase_file, 0o600)
        self.passphrase = passphrase
        self.ca_key = os.path.join(directory, "ca.key")
        self.ca_crt = os.path.join(directory, "ca.crt")
        self._openssl("req", "-x509", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", self.ca_key, "-out", self.ca_crt, "-days", "3650",
                      "-subj", "/O=keydir test/CN=Test Zone CA",
                      "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                      "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def _openssl(self, *args, input=None):
        r = subprocess.run(["openssl"] + list(args), capture_output=True, input=input)
        if r.returncode != 0:
            raise RuntimeError(f"openssl {args[0]} failed: {r.stderr.decode(errors='replace')}")
        return r.stdout

    def member(self, address, ec=False, days=365, name=None):
        """Makes key, certificate (PEM and DER) and PKCS#12 for `address`;
        returns a dict of their paths and the DER bytes."""
        name = name or address.replace("@", "_at_")
        base = os.path.join(self.dir, name)
        key, csr, crt, ext = base + ".key", base + ".csr", base + ".crt", base + ".ext"
        ku = "digitalSignature,keyAgreement" if ec else "digitalSignature,keyEncipherment"
        with open(ext, "w") as f:
            f.write("[x]\nbasicConstraints=critical,CA:FALSE\n"
                    f"keyUsage=critical,{ku}\nextendedKeyUsage=emailProtection\n"
                    f"subjectAltName=email:{address}\nsubjectKeyIdentifier=hash\n"
                    "authorityKeyIdentifier=keyid\n")
        if ec:
            newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]
        else:
            newkey = ["-newkey", "rsa:2048"]
        self._openssl("req", "-new", *newkey, "-nodes", "-keyout", key, "-out", csr,
                      "-subj", f"/CN={address}")
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca_crt, "-CAkey", self.ca_key,
                      "-CAcreateserial", "-days", str(days), "-extfile", ext, "-extensions", "x",
                      "-out", crt)
        der = self._openssl("x509", "-in", crt, "-outform", "DER")
        p12 = base + ".p12"
        self._openssl("pkcs12", "-export", "-inkey", key, "-in", crt, "-name", address,
                      "-passout", f"file:{self.passphrase_file}", "-out", p12)
        with open(p12, "rb") as f:
            p12_der = f.read()
        return {"address": address, "key": key, "crt": crt, "der": der, "p12": p12_der}

    def expired_member(self, address):
        """A certificate for `address` that expired in 2021 (openssl ca can set
        both dates, openssl x509 -req cannot)."""
        return self.dated_member(address, "20200101000000Z", "20210101000000Z", "-expired")

    def dated_member(self, address, start, end, suffix):
        """A certificate for `address` valid from `start` to `end`
        (GeneralizedTime "YYYYMMDDHHMMSSZ"); `suffix` names its files."""
        base = os.path.join(self.dir, address.replace("@", "_at_") + suffix)
        key, csr, crt, ext, conf = (base + s for s in (".key", ".csr", ".crt", ".ext", ".cnf"))
        db = base + ".db"
        open(db, "w").close()
        with open(conf, "w") as f:
            f.write(f"[ca]\ndefault_ca=c\n[c]\ndatabase={db}\nnew_certs_dir={self.dir}\n"
                    f"serial={base}.srl\ndefault_md=sha256\npolicy=p\ncopy_extensions=none\n"
                    "[p]\ncommonName=supplied\n"
                    "[x]\nbasicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    f"extendedKeyUsage=emailProtection\nsubjectAltName=email:{address}\n")
        with open(base + ".srl", "w") as f:
            f.write(os.urandom(8).hex() + "\n")  # distinct: certificateExactMatch
        self._openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
                      "-subj", f"/CN={address}")
        self._openssl("ca", "-batch", "-config", conf, "-in", csr, "-out", crt, "-cert", self.ca_crt,
                      "-keyfile", self.ca_key, "-startdate", start,
                      "-enddate", end, "-extfile", conf, "-extensions", "x",
                      "-notext")
        der = self._openssl("x509", "-in", crt, "-outform", "DER")
        return {"address": address, "key": key, "crt": crt, "der": der}


def pkcs12_to_pem(p12, password_file, workdir, name):
    """Writes the certificate and the key of a DER PKCS#12 as PEM files;
    returns {"crt": path, "key": path} (the form cms_decrypt takes)."""
    p12_path = os.path.join(workdir, name + ".p12")
    with open(p12_path, "wb") as f:
        f.write(p12)
    out = {}
    for what, flag in (("crt", "-clcerts"), ("key", "-nocerts")):
        path = os.path.join(workdir, f"{name}.{what}")
        r = subprocess.run(["openssl", "pkcs12", "-in", p12_path, "-passin", f"file:{password_file}",
                            "-nodes", flag, "-out", path], capture_output=True)
        if r.returncode != 0:
            raise RuntimeError(f"openssl pkcs12: {r.stderr.decode(errors='replace')}")
        out[what] = path
    return out


def member_ldif(member, dn, with_p12=True, status="active", extra_certs=(), revoked=()):
    """The LDIF of a keydirMember entry (doc/design.md, "Naming")."""
    import base64

    def b64(v):
        return base64.b64encode(v).decode()

    lines = [f"dn: {dn}", "objectClass: keydirMember", f"mail: {member['address']}",
             f"cn: {member['address']}", f"keydirStatus: {status}"]
    for der in [member["der"]] + list(extra_certs):
        lines.append(f"userCertificate;binary:: {b64(der)}")
        lines.append(f"userSMIMECertificate:: {b64(der)}")
    for der in revoked:
        lines.append(f"keydirRevokedCertificate;binary:: {b64(der)}")
    if with_p12 and member.get("p12"):
        lines.append(f"userPKCS12:: {b64(member['p12'])}")
    return "\n".join(lines) + "\n\n"
