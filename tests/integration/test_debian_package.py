"""The Debian packages (tools/build-deb) installed on this machine: dpkg -i
of slapd-keydir, keydir-tools and keydir-gateway, then a slapd with a
cn=config directory (made with slaptest from a slapd.conf without any
modulepath) that loads the installed modules through cn=config, gets the
installed schema and a keydir database with ldapadd/ldapmodify, a member made
with the installed keydir-admin, and the installed keydir-lookup finding it.
The packages are purged afterwards, also on failure, so that later tests use
the build tree.

Building the packages takes many minutes, so the test runs only when
KEYDIR_DEB_DIR names a directory with the built .debs (tools/run-tests builds
them with tools/build-deb and sets it), or when KEYDIR_DEB_BUILD=1 asks it to
build them itself (into its temporary directory). It needs root (dpkg -i).
"""

import glob
import os
import subprocess

import pytest

from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW, SYSTEM_SCHEMA_DIR, TOP_SRCDIR, free_port

PACKAGES = ("slapd-keydir", "keydir-tools", "keydir-gateway")
MODULE_DIR = "/usr/lib/ldap"
ADMIN = "/usr/sbin/keydir-admin"
LOOKUP = "/usr/bin/keydir-lookup"
GATEWAY = "/usr/sbin/keydir-gateway"
DOMAIN = "tovaris.com"
SUFFIX = "dc=tovaris,dc=com"
ROOTDN = "cn=admin," + SUFFIX
MEMBER = "kconley@tovaris.com"

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="installs packages with dpkg -i: needs root"),
    pytest.mark.skipif(not os.environ.get("KEYDIR_DEB_DIR") and os.environ.get("KEYDIR_DEB_BUILD") != "1",
                       reason="set KEYDIR_DEB_DIR to the built .debs (tools/build-deb) "
                              "or KEYDIR_DEB_BUILD=1 to build them here"),
]


def run(cmd, check=True, timeout=300, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    if check:
        assert r.returncode == 0, f"{cmd[0]} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return r


def installed(package):
    r = run(["dpkg-query", "-W", "-f=${Status}", package], check=False)
    return r.returncode == 0 and "install ok installed" in r.stdout


def purge():
    run(["dpkg", "--purge"] + list(PACKAGES))
    for p in PACKAGES:
        assert not installed(p), f"{p} still installed after dpkg --purge"


def find_debs(directory):
    debs = {}
    for p in PACKAGES:
        found = sorted(glob.glob(os.path.join(directory, f"{p}_*.deb")))
        assert found, f"no {p}_*.deb in {directory}"
        debs[p] = found[-1]
    return debs


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    """The three packages, installed with dpkg -i; purged at the end."""
    directory = os.environ.get("KEYDIR_DEB_DIR")
    if not directory:
        directory = str(tmp_path_factory.mktemp("debs"))
        run([os.path.join(TOP_SRCDIR, "tools", "build-deb"), "--out", directory, "--no-lintian"],
            timeout=7200)
    debs = find_debs(directory)
    try:
        run(["dpkg", "-i"] + list(debs.values()))
        yield debs
    finally:
        purge()


def test_package_contents(packages):
    slapd_version = run(["dpkg-query", "-W", "-f=${Version}", "slapd"]).stdout
    source_version = run(["dpkg-query", "-W", "-f=${source:Version}", "slapd"]).stdout
    depends = run(["dpkg-query", "-W", "-f=${Depends}", "slapd-keydir"]).stdout
    assert f"slapd (= {slapd_version})" in depends, depends
    built_using = run(["dpkg-deb", "-f", packages["slapd-keydir"], "Built-Using"]).stdout.strip()
    assert built_using == f"openldap (= {source_version})"

    files = set(run(["dpkg", "-L", "slapd-keydir"]).stdout.split())
    for f in (f"{MODULE_DIR}/back_keydir.la", f"{MODULE_DIR}/back_keydir.so",
              f"{MODULE_DIR}/keychase.la", f"{MODULE_DIR}/keychase.so",
              f"{SYSTEM_SCHEMA_DIR}/keydir.schema", f"{SYSTEM_SCHEMA_DIR}/keydir.ldif",
              f"{SYSTEM_SCHEMA_DIR}/gnupg.schema", f"{SYSTEM_SCHEMA_DIR}/gnupg.ldif",
              "/usr/share/man/man5/slapd-keydir.5.gz", "/usr/share/man/man5/slapo-keychase.5.gz"):
        assert f in files, f
    files = set(run(["dpkg", "-L", "keydir-tools"]).stdout.split())
    for f in (ADMIN, LOOKUP, "/usr/bin/keydir-bench", "/usr/share/man/man8/keydir-admin.8.gz",
              "/usr/share/man/man1/keydir-lookup.1.gz", "/usr/share/man/man1/keydir-bench.1.gz"):
        assert f in files, f
    files = set(run(["dpkg", "-L", "keydir-gateway"]).stdout.split())
    for f in (GATEWAY, "/usr/share/man/man8/keydir-gateway.8.gz", "/etc/keydir/keydir-gateway.conf"):
        assert f in files, f
    assert any(f.endswith("/systemd/system/keydir-gateway.service") for f in files), files
    # postinst made the gateway's system user.
    pw = run(["getent", "passwd", "keydir-gateway"]).stdout.split(":")
    assert int(pw[2]) < 1000 and pw[6].strip() in ("/usr/sbin/nologin", "/bin/false"), pw


def test_gateway_reads_packaged_config(packages, make_slapd):
    """The shipped configuration parses (exit 2 would be a bad setting):
    --check-config reaches the key server and fails only on the next hop,
    where nothing listens."""
    s = make_slapd(modules=(), keydir_schema=False).start()
    r = run([GATEWAY, "--config", "/etc/keydir/keydir-gateway.conf", "--check-config",
             "--ldap-uri", s.uri + "/", "--next-hop", f"127.0.0.1:{free_port()}"],
            check=False, timeout=120)
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "next hop" in r.stderr and "key server" not in r.stderr, r.stderr


def config_ldif(text):
    return text.strip() + "\n"


def test_cn_config_module_database_member_lookup(packages, make_slapd, tmp_path):
    work = tmp_path / "server"
    work.mkdir()
    confdir = work / "slapd.d"
    confdir.mkdir()
    conf = work / "slapd.conf"
    # Only the system schema, no modulepath and no moduleload: the modules
    # come from the package through cn=config.
    conf.write_text(
        "".join(f"include {SYSTEM_SCHEMA_DIR}/{s}.schema\n" for s in ("core", "cosine", "inetorgperson"))
        + f"pidfile {work}/slapd.pid\nargsfile {work}/slapd.args\n"
        + f'database config\nrootdn "cn=config"\nrootpw {ROOTPW}\n')
    run(["slaptest", "-f", conf, "-F", confdir])
    assert "modulepath" not in conf.read_text()

    s = make_slapd(workdir=str(work), modules=(), keydir_schema=False)
    s.config_dir = str(confdir)
    s.start()
    cfg = dict(binddn="cn=config", password=ROOTPW)

    # The module list, as Debian's own slapd configuration has it, then the
    # overlay added to it with ldapmodify.
    r = ldaptools.add(s.uri, config_ldif(f"""
dn: cn=module,cn=config
objectClass: olcModuleList
cn: module
olcModulePath: {MODULE_DIR}
olcModuleLoad: back_keydir.la
"""), **cfg)
    assert r.rc == 0, r.err
    r = ldaptools.modify(s.uri, config_ldif("""
dn: cn=module{0},cn=config
changetype: modify
add: olcModuleLoad
olcModuleLoad: keychase.la
"""), **cfg)
    assert r.rc == 0, r.err
    r = ldaptools.search(s.uri, "cn=module{0},cn=config", attrs=["olcModuleLoad"], scope="base", **cfg)
    assert r.rc == 0, r.err
    loaded = [v.split("}", 1)[-1] for v in r.entries[0][1]["olcModuleLoad"]]
    assert loaded == ["back_keydir.la", "keychase.la"], loaded
    # Both modules registered their configuration classes.
    r = ldaptools.search(s.uri, "cn=schema,cn=config", scope="base",
                         attrs=["olcObjectClasses"], **cfg)
    assert r.rc == 0, r.err
    classes = " ".join(r.entries[0][1].get("olcObjectClasses", []))
    assert "olcKeydirConfig" in classes and "olcKeychaseConfig" in classes

    # The installed schema in its cn=config form.
    with open(os.path.join(SYSTEM_SCHEMA_DIR, "keydir.ldif")) as f:
        r = ldaptools.add(s.uri, f.read(), **cfg)
    assert r.rc == 0, r.err

    # A keydir database.
    db = work / "db-keydir"
    db.mkdir()
    r = ldaptools.add(s.uri, config_ldif(f"""
dn: olcDatabase=keydir,cn=config
objectClass: olcDatabaseConfig
objectClass: olcKeydirConfig
olcDatabase: keydir
olcSuffix: {SUFFIX}
olcRootDN: {ROOTDN}
olcRootPW: {ROOTPW}
olcDbDirectory: {db}
olcDbIndex: objectClass,mail,keydirFingerprint eq
"""), **cfg)
    assert r.rc == 0, r.err

    # A zone and a member, made with the installed keydir-admin.
    zones = tmp_path / "zones"
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    for name, text in (("ca", "ca passphrase"), ("p12", "p12 password"), ("bind", ROOTPW)):
        p = secrets / name
        p.write_text(text + "\n")
        p.chmod(0o600)
    run([ADMIN, "--zones", zones, "zone", "init", DOMAIN, "--ca-passphrase-file", secrets / "ca",
         "--key-type", "p256"])
    r = ldaptools.add(s.uri, (zones / DOMAIN / "zone.ldif").read_text(), binddn=ROOTDN)
    assert r.rc == 0, r.err
    run([ADMIN, "--zones", zones, "member", "add", MEMBER, "--key-type", "p256",
         "--ca-passphrase-file", secrets / "ca", "--p12-password-file", secrets / "p12",
         "-H", s.uri, "-D", ROOTDN, "-y", secrets / "bind"])

    # The installed keydir-lookup finds it, anonymously, and so does ldapsearch.
    r = run([LOOKUP, "-H", s.uri, "--trust-anchor", zones / DOMAIN / "ca.crt", MEMBER], timeout=120)
    assert f"dn: mail={MEMBER},{SUFFIX}" in r.stdout, r.stdout
    assert "fingerprint:" in r.stdout and "BEGIN CERTIFICATE" in r.stdout, r.stdout
    r = ldaptools.search(s.uri, SUFFIX, f"(mail={MEMBER})", attrs=["keydirStatus"])
    assert r.rc == 0, r.err
    assert r.dns() == [f"mail={MEMBER},{SUFFIX}"]
    assert r.entries[0][1]["keydirStatus"] == ["active"]
    s.stop()
