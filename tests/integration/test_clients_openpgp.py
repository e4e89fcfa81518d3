"""OpenPGP keys from a keydir zone (issue 15 part 4): GnuPG's LDAP keyserver
schema (schema/gnupg.schema) loaded next to keydir.schema, the zone
sales.example.com of KeyNetwork's `local` holding cn=pgpServerInfo and an
ou=GnuPG Keys key space, and the real gpg 2.2.40 (through its dirmngr)
sending, searching and receiving keys there, as the notes on clients
captured it against stock slapd. Each gpg runs with its own GNUPGHOME in a
short /tmp path, and everything it started is stopped afterwards."""

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
import time
import urllib.parse

import pytest

from keydirtest import ldaptools
from keydirtest.network import KeyNetwork
from keydirtest.slapd import GNUPG_SCHEMA, ROOTPW, Slapd

pytestmark = pytest.mark.skipif(not shutil.which("gpg"), reason="gpg is not installed")

ZONE = "dc=sales,dc=example,dc=com"
ROOTDN = "cn=admin," + ZONE
KEYSPACE = "ou=GnuPG Keys," + ZONE
ANN = "ann@sales.example.com"        # a member of local's zone
CHASED = "kconley@tovaris.com"       # held by tovaris


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = KeyNetwork(str(tmp_path_factory.mktemp("net")), openpgp=True).build()
    try:
        n.start().load()
        with open(os.path.join(n.zones["sales.example.com"].dir, "openpgp.ldif")) as f:
            r = ldaptools.add(n.uri("local"), f.read(), ROOTDN)  # from keydir-admin zone init
        assert r.rc == 0, r.err
        yield n
    finally:
        n.cleanup()


@contextlib.contextmanager
def gnupg_home():
    """A fresh GnuPG home (short: dirmngr's socket lives there); yields the
    environment, and stops what gpg started in it."""
    home = tempfile.mkdtemp(prefix="gp", dir="/tmp")
    try:
        os.chmod(home, 0o700)
        yield dict(os.environ, GNUPGHOME=home)
    finally:
        subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"], capture_output=True,
                       timeout=30)
        shutil.rmtree(home, ignore_errors=True)


def gpg(env, *args, keyserver=None, input=None):
    cmd = ["gpg", "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", ""]
    if keyserver:
        cmd += ["--keyserver", keyserver]
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=90, env=env,
                          input=input)


def make_key(env, address, name="Test Member"):
    """An ed25519 key with a cv25519 subkey for address; its fingerprint."""
    r = gpg(env, "--quick-gen-key", f"{name} <{address}>", "ed25519", "sign", "never")
    assert r.returncode == 0, r.stderr
    fpr = fingerprint(env, address)
    r = gpg(env, "--quick-add-key", fpr, "cv25519", "encr", "never")
    assert r.returncode == 0, r.stderr
    return fpr


def fingerprint(env, address):
    r = gpg(env, "--with-colons", "--list-keys", f"<{address}>")
    assert r.returncode == 0, r.stderr
    return [l.split(":")[9] for l in r.stdout.splitlines() if l.startswith("fpr:")][0]


def anonymous(net):
    return "ldap://127.0.0.1:%d" % net.servers["local"].port


def as_zone_admin(net):
    """The ldap:// URL form dirmngr binds with: ????bindname=,password=."""
    return "ldap://127.0.0.1:%d/????bindname=%s,password=%s" % (
        net.servers["local"].port, urllib.parse.quote(ROOTDN, safe=""), ROOTPW)


def keys_of(net, filt, attrs=("gpgMailbox", "gpgFingerprint", "pgpCertID")):
    r = ldaptools.search(net.uri("local"), KEYSPACE, filt, list(attrs), scope="sub")
    assert r.rc == 0, r.err
    return r


@pytest.fixture(scope="module")
def sent(net):
    """ann@'s OpenPGP key, sent to her zone by gpg bound as the zone admin."""
    with gnupg_home() as env:
        fpr = make_key(env, ANN, "Ann Member")
        r = gpg(env, "--send-keys", fpr, keyserver=as_zone_admin(net))
        assert r.returncode == 0, r.stderr
        return fpr


def test_schema_ldif_matches_schema():
    """schema/gnupg.ldif (cn=config) defines what gnupg.schema defines."""
    def definitions(path, keywords):
        text = open(path).read()
        text = re.sub(r"^#.*\n", "", text, flags=re.M).replace("\n ", " ").replace("\n\t", " ")
        out = []
        for line in text.splitlines():
            for kw in keywords:
                if line.lower().startswith(kw.lower()):
                    out.append(" ".join(line[len(kw):].split()))
        return out
    schema = definitions(GNUPG_SCHEMA, ("attributetype ", "objectclass "))
    ldif = definitions(GNUPG_SCHEMA[:-len(".schema")] + ".ldif",
                       ("olcAttributeTypes: ", "olcObjectClasses: "))
    assert len(schema) == 20
    assert schema == ldif


def test_schema_ldif_loads_under_cn_config(tmp_path):
    """ldapadd of schema/gnupg.ldif into a running cn=config slapd (as
    keys.md says), then a pgpKeyInfo entry is accepted by its database."""
    s = Slapd(name="cnconfig", workdir=str(tmp_path / "s"))
    os.makedirs(s.workdir)
    s.add_database(f'database keydir\nsuffix "{ZONE}"\nrootdn "{ROOTDN}"\nrootpw {ROOTPW}\n'
                   f"directory {s.db_dir('zone')}\n")
    try:
        cdir = os.path.join(s.workdir, "slapd.d")
        os.makedirs(cdir)
        s.tool("add", "-b", ZONE, input=f"dn: {ZONE}\nobjectClass: domain\ndc: sales\n")
        r = s.tool("test", "-F", cdir, check=False)
        assert r.returncode == 0, r.stderr
        s.config_dir = cdir
        s.start()
        with open(GNUPG_SCHEMA[:-len(".schema")] + ".ldif") as f:
            r = ldaptools.add(s.uri, f.read(), "cn=config", ROOTPW)
        assert r.rc == 0, r.err
        r = ldaptools.search(s.uri, "cn=schema,cn=config", "(cn=*gnupg)", ["olcObjectClasses"],
                             scope="one", binddn="cn=config", password=ROOTPW)
        assert r.rc == 0 and len(r.entries) == 1, r.err
        ldif = (f"dn: {KEYSPACE}\nobjectClass: organizationalUnit\nou: GnuPG Keys\n\n"
                f"dn: pgpCertID=0000000000000009,{KEYSPACE}\nobjectClass: pgpKeyInfo\n"
                "pgpCertID: 0000000000000009\npgpKey: k\ngpgMailbox: a@sales.example.com\n")
        r = ldaptools.add(s.uri, ldif, ROOTDN)
        assert r.rc == 0, r.err
    finally:
        s.cleanup()


def test_server_info_names_the_key_space(net):
    r = ldaptools.search(net.uri("local"), "cn=pgpServerInfo," + ZONE, "(objectClass=*)",
                         ["pgpBaseKeySpaceDN", "pgpSoftware", "pgpVersion"], scope="base")
    assert r.rc == 0, r.err
    attrs = r.entries[0][1]
    assert attrs["pgpBaseKeySpaceDN"] == [KEYSPACE]
    assert attrs["pgpSoftware"] == ["GnuPG"]
    assert attrs["pgpVersion"] == ["2"]


def test_send_keys_writes_a_pgp_key_info_entry(net, sent):
    r = keys_of(net, f"(gpgFingerprint={sent.lower()})",
                ("gpgMailbox", "gpgFingerprint", "gpgSubFingerprint", "pgpCertID", "pgpKey"))
    assert r.dns() == [f"pgpCertID={sent[-16:]},{KEYSPACE}"]
    attrs = r.entries[0][1]
    assert attrs["gpgMailbox"] == [ANN]
    assert len(attrs["gpgSubFingerprint"]) == 1
    assert attrs["pgpKey"][0].startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")


def test_send_keys_anonymously_is_refused(net, sent):
    """Only the zone's writers store keys: an anonymous --send-keys fails
    and the key stays as it was."""
    with gnupg_home() as env:
        make_key(env, "anon@sales.example.com")
        fpr = fingerprint(env, "anon@sales.example.com")
        r = gpg(env, "--send-keys", fpr, keyserver=anonymous(net))
        assert r.returncode != 0
    assert keys_of(net, "(gpgMailbox=anon@sales.example.com)").entries == []


@pytest.mark.parametrize("pattern", [f"<{ANN}>", ANN], ids=["mailbox", "user-id-substring"])
def test_search_keys(net, sent, pattern):
    """<addr> sends (&(gpgMailbox=addr)(!(|(pgpRevoked=1)(pgpDisabled=1)))),
    a bare address (pgpUserID=*addr*); both find ann@'s key."""
    with gnupg_home() as env:
        r = gpg(env, "--with-colons", "--search-keys", pattern, keyserver=anonymous(net))
        assert r.returncode == 0, r.stderr
        assert sent.upper() in r.stdout.upper(), r.stdout
        assert "Ann Member" in urllib.parse.unquote(r.stdout), r.stdout


def test_recv_keys_by_fingerprint(net, sent):
    """(|(gpgFingerprint=fpr)(gpgSubFingerprint=fpr)), fpr in lowercase."""
    with gnupg_home() as env:
        r = gpg(env, "--recv-keys", sent, keyserver=anonymous(net))
        assert r.returncode == 0, r.stderr
        assert fingerprint(env, ANN) == sent


def test_send_keys_again_replaces_the_entry(net, sent):
    """gpg modifies first (the entry exists now) and adds only when the
    modify answers noSuchObject: a second send keeps one entry."""
    with gnupg_home() as env:
        r = gpg(env, "--recv-keys", sent, keyserver=anonymous(net))
        assert r.returncode == 0, r.stderr
        r = gpg(env, "--send-keys", sent, keyserver=as_zone_admin(net))
        assert r.returncode == 0, r.stderr
    assert len(keys_of(net, f"(gpgFingerprint={sent})").entries) == 1


def test_revoked_key_is_not_found_by_mailbox(net):
    """pgpRevoked: 1 hides a key from the <addr> lookup (the client's filter
    says so); its fingerprint still finds it."""
    dn = f"pgpCertID=00000000DEADBEEF,{KEYSPACE}"
    ldif = (f"dn: {dn}\nobjectClass: pgpKeyInfo\npgpCertID: 00000000DEADBEEF\n"
            "pgpKey: not a key\npgpRevoked: 1\ngpgMailbox: rev@sales.example.com\n"
            "gpgFingerprint: 0000000000000000000000000000000000000000\n")
    r = ldaptools.add(net.uri("local"), ldif, ROOTDN)
    assert r.rc == 0, r.err
    filt = "(&(gpgMailbox=rev@sales.example.com)(!(|(pgpRevoked=1)(pgpDisabled=1))))"
    assert keys_of(net, filt).entries == []
    assert keys_of(net, "(|(gpgFingerprint=0000000000000000000000000000000000000000)"
                   "(gpgSubFingerprint=0000000000000000000000000000000000000000))").dns() == [dn]


# -- bad input ------------------------------------------------------------------

@pytest.mark.parametrize("value", ["not-hex", "81066e2d", "*", "g" * 40],
                         ids=["not-hex", "short", "star-literal", "40-non-hex"])
def test_malformed_fingerprint_filter_finds_nothing(net, sent, value):
    """A fingerprint that is no key's is an ordinary non-match: success, no
    entries (the value is escaped, so * is a literal)."""
    v = value.replace("*", r"\2a")
    r = keys_of(net, f"(|(gpgFingerprint={v})(gpgSubFingerprint={v}))")
    assert r.entries == []


def test_key_info_without_key_block_is_refused(net):
    ldif = (f"dn: pgpCertID=0000000000000001,{KEYSPACE}\nobjectClass: pgpKeyInfo\n"
            "pgpCertID: 0000000000000001\ngpgMailbox: nokey@sales.example.com\n")
    r = ldaptools.add(net.uri("local"), ldif, ROOTDN)
    assert r.rc == 65, (r.rc, r.err)  # objectClassViolation: pgpKey is a MUST


def test_key_info_without_mailbox_is_found_by_user_id_only(net):
    """gpgMailbox is optional (schema v1 writers do not set it): the entry is
    stored; the <addr> lookup does not find it, the user ID substring does."""
    dn = f"pgpCertID=0000000000000002,{KEYSPACE}"
    ldif = (f"dn: {dn}\nobjectClass: pgpKeyInfo\npgpCertID: 0000000000000002\n"
            "pgpKey: not a key\npgpUserID: Old Writer <old@sales.example.com>\n")
    r = ldaptools.add(net.uri("local"), ldif, ROOTDN)
    assert r.rc == 0, r.err
    assert keys_of(net, "(gpgMailbox=old@sales.example.com)").entries == []
    assert keys_of(net, "(pgpUserID=*old@sales.example.com*)").dns() == [dn]


def test_single_valued_key_block(net):
    ldif = (f"dn: pgpCertID=0000000000000003,{KEYSPACE}\nobjectClass: pgpKeyInfo\n"
            "pgpCertID: 0000000000000003\npgpKey: one\npgpKey: two\n")
    r = ldaptools.add(net.uri("local"), ldif, ROOTDN)
    assert r.rc == 19, (r.rc, r.err)  # constraintViolation: pgpKey is SINGLE-VALUE


def test_member_held_elsewhere_is_not_chased_yet(net):
    """OpenPGP lookups are answered from the zones and cache of the node
    asked; keychase does not chase them (slapo-keychase(5), BUGS): the
    search for a member of tovaris.com ends at once with no key."""
    with gnupg_home() as env:
        started = time.monotonic()
        r = gpg(env, "--search-keys", f"<{CHASED}>", keyserver=anonymous(net))
        assert time.monotonic() - started < 30
        assert CHASED not in r.stdout


# -- keydir-admin member add --openpgp / --openpgp-key --------------------------

def admin_add(net, address, *args):
    z = net.zones["sales.example.com"]
    return z.admin("member", "add", address, *z.issue_args(), "--key-type", net.key_type,
                   *z.ldap_args(net.servers["local"]), *args)


def test_admin_makes_an_openpgp_key(net, tmp_path):
    """--openpgp: gpg makes the key in a temporary home; the public key goes
    into the zone, the protected secret key into --openpgp-secret only."""
    address = "made@sales.example.com"
    secret = str(tmp_path / "made.sec.asc")
    r = admin_add(net, address, "--openpgp", "--openpgp-secret", secret)
    assert r.returncode == 0, r.stderr
    assert os.stat(secret).st_mode & 0o777 == 0o600
    with open(secret) as f:
        assert f.read().startswith("-----BEGIN PGP PRIVATE KEY BLOCK-----")
    r = keys_of(net, f"(gpgMailbox={address})",
                ("gpgFingerprint", "gpgSubFingerprint", "pgpKey", "pgpUserID"))
    assert len(r.entries) == 1
    attrs = r.entries[0][1]
    assert "PRIVATE" not in attrs["pgpKey"][0]
    fpr = attrs["gpgFingerprint"][0]
    with gnupg_home() as env:
        r = gpg(env, "--with-colons", "--search-keys", f"<{address}>", keyserver=anonymous(net))
        assert r.returncode == 0, r.stderr
        assert fpr in r.stdout.upper()
        r = gpg(env, "--recv-keys", fpr, keyserver=anonymous(net))
        assert r.returncode == 0, r.stderr
        # the secret key opens with the member's (PKCS#12) password
        with open(net.zones["sales.example.com"].kek) as f:
            password = f.read().strip()
        r = subprocess.run(["gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase",
                            password, "--import", secret], capture_output=True, text=True,
                           env=env, timeout=60)
        assert r.returncode == 0, r.stderr
    # the member's certificate entry is there too
    assert ldaptools.search(net.uri("local"), f"mail={address},{ZONE}", "(objectClass=*)",
                            ["mail"], scope="base").rc == 0


def test_admin_takes_an_exported_key(net, tmp_path):
    address = "taken@sales.example.com"
    with gnupg_home() as env:
        fpr = make_key(env, address, "Taken Member")
        exported = str(tmp_path / "taken.asc")
        r = gpg(env, "--armor", "--output", exported, "--export", fpr)
        assert r.returncode == 0, r.stderr
        secret = str(tmp_path / "taken.sec")
        r = gpg(env, "--output", secret, "--export-secret-keys", fpr)
        assert r.returncode == 0, r.stderr
    # bad input first: nothing is added
    r = admin_add(net, address, "--openpgp-key", secret)
    assert r.returncode == 2 and "holds a secret key" in r.stderr, r.stderr
    r = admin_add(net, "other@sales.example.com", "--openpgp-key", exported)
    assert r.returncode == 2 and "has no user ID <other@sales.example.com>" in r.stderr, r.stderr
    r = admin_add(net, address, "--openpgp-key", str(tmp_path / "missing.asc"))
    assert r.returncode == 2 and "not an OpenPGP key" in r.stderr, r.stderr
    assert keys_of(net, f"(gpgMailbox={address})").entries == []
    r = admin_add(net, address, "--openpgp-key", exported)
    assert r.returncode == 0, r.stderr
    assert keys_of(net, f"(gpgFingerprint={fpr.lower()})").dns() == [
        f"pgpCertID={fpr[-16:]},{KEYSPACE}"]


@pytest.mark.parametrize("args,message", [
    (["--openpgp"], "--openpgp needs --openpgp-secret FILE"),
    (["--openpgp-secret", "/tmp/x"], "--openpgp-secret applies to --openpgp only"),
    (["--openpgp", "--openpgp-secret", "/tmp/x", "--openpgp-key", "/tmp/y"],
     "exclude each other"),
], ids=["no-secret-file", "secret-without-openpgp", "both"])
def test_admin_openpgp_option_errors(net, args, message):
    r = admin_add(net, "opt@sales.example.com", *args)
    assert r.returncode == 2, r.stderr
    assert message in r.stderr


def test_admin_ldif_output_holds_both_entries(net, tmp_path):
    """-o FILE: the member's entry and its pgpKeyInfo entry, for ldapadd."""
    address = "ldif@sales.example.com"
    with gnupg_home() as env:
        fpr = make_key(env, address)
        exported = str(tmp_path / "ldif.asc")
        assert gpg(env, "--armor", "--output", exported, "--export", fpr).returncode == 0
    z = net.zones["sales.example.com"]
    out = str(tmp_path / "ldif.ldif")
    r = z.admin("member", "add", address, *z.issue_args(), "--key-type", net.key_type,
                "--openpgp-key", exported, "-o", out)
    assert r.returncode == 0, r.stderr
    with open(out) as f:
        r = ldaptools.add(net.uri("local"), f.read(), ROOTDN)
    assert r.rc == 0, r.err
    with gnupg_home() as env:
        r = gpg(env, "--recv-keys", fpr, keyserver=anonymous(net))
        assert r.returncode == 0, r.stderr
