"""slapd.conf and cn=config for keydir databases: slaptest converts a
slapd.conf, slapd starts from the cn=config directory, the olcKeydirConfig
attributes read back, and what may change at run time does."""

import os
import time

import pytest

from backend_pair import DBS, base_entries, configure_pair, to_ldif
from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW

KEYDIR_EXTRA = "keydir-cachesize 33554432\nkeydir-durability write-nosync\nkeydir-checkpoint 512 3\n"
LIMITS = "limits anonymous size.unchecked=5\n"


def config_search(s, filt, attrs=()):
    return ldaptools.search(s.uri, "cn=config", filt, attrs, binddn="cn=config", password=ROOTPW)


def config_modify(s, dn, body):
    return ldaptools.modify(s.uri, f"dn: {dn}\nchangetype: modify\n{body}", "cn=config", ROOTPW)


def keydir_config(s, suffix="o=keydir"):
    r = config_search(s, f"(&(objectClass=olcKeydirConfig)(olcSuffix={suffix}))")
    assert r.rc == 0 and len(r.entries) == 1, r.err
    return r.entries[0]


def monitor_value(s, attr):
    r = ldaptools.search(s.uri, "cn=Databases,cn=Monitor", "(namingContexts=o=keydir)",
                         [attr], scope="one", binddn="cn=monitor", password=ROOTPW)
    return r.entries[0][1][attr][0]


@pytest.fixture(scope="module")
def server():
    """A pair converted to cn=config with slaptest and started with -F."""
    s, dbs = configure_pair(name="config", keydir_extra=KEYDIR_EXTRA,
                            db_extra=lambda suffix: LIMITS)
    try:
        for kind, d in dbs.items():
            s.tool("add", "-b", d.suffix, input=to_ldif(base_entries(kind), d.suffix))
        cdir = os.path.join(s.workdir, "slapd.d")
        os.makedirs(cdir)
        r = s.tool("test", "-F", cdir, check=False)
        assert r.returncode == 0, r.stderr
        s.config_dir = cdir
        s.start()
        s.dbs = dbs
        yield s
    finally:
        s.cleanup()


def test_slaptest_converted_the_keydir_section(server):
    files = os.listdir(os.path.join(server.config_dir, "cn=config"))
    name = [f for f in files if f.endswith("keydir.ldif")]
    assert name, files
    text = open(os.path.join(server.config_dir, "cn=config", name[0])).read()
    assert "objectClass: olcKeydirConfig" in text
    assert "olcKeydirDurability: write-nosync" in text


def test_config_reads_back(server):
    dn, attrs = keydir_config(server)
    assert attrs["olcSuffix"] == ["o=keydir"]
    assert attrs["olcDbDirectory"] == [server.dbs["keydir"].directory]
    assert attrs["olcDbIndex"] == ["objectClass eq", "mail eq", "keydirFingerprint eq"]
    assert attrs["olcKeydirCacheSize"] == ["33554432"]
    assert attrs["olcKeydirDurability"] == ["write-nosync"]
    assert attrs["olcKeydirCheckpoint"] == ["512 3"]


def test_serves_from_cn_config(server):
    for d in server.dbs.values():
        r = d.search("", "(mail=user07@example.com)", attrs=["cn"])
        assert r.rc == 0 and r.entries[0][1]["cn"] == ["User 07"]


@pytest.mark.parametrize("attr,good,bad", [
    ("olcKeydirDurability", ["nosync", "sync", "write-nosync"], ["bogus", ""]),
    ("olcKeydirCheckpoint", ["256 1", "0 0", "512 3"], ["x y", "1 99999", "-1 5", "1"]),
    ("olcKeydirCacheSize", ["67108864", "33554432"], ["1000", "abc", "-5"]),
])
def test_change_at_run_time(server, attr, good, bad):
    dn, _ = keydir_config(server)
    for value in good:
        r = config_modify(server, dn, f"replace: {attr}\n{attr}: {value}\n")
        assert r.rc == 0, r.err
        assert keydir_config(server)[1][attr] == [value]
    for value in bad:
        r = config_modify(server, dn, f"replace: {attr}\n{attr}: {value}\n")
        assert r.rc != 0, f"{attr}: {value} was accepted"
        assert keydir_config(server)[1][attr] == [good[-1]]
    # the database works on
    d = server.dbs["keydir"]
    assert d.modify("dn: cn=alice,ou=staff,{S}\nchangetype: modify\nreplace: title\n"
                    f"title: {attr}\n").rc == 0


def test_cache_size_change_reaches_berkeley_db(server):
    dn, _ = keydir_config(server)
    before = int(monitor_value(server, "olmKeydirCacheBytes"))
    assert config_modify(server, dn, "replace: olcKeydirCacheSize\n"
                                     "olcKeydirCacheSize: 134217728\n").rc == 0
    after = int(monitor_value(server, "olmKeydirCacheBytes"))
    assert after > before and after >= 134217728 * 0.9, (before, after)
    assert config_modify(server, dn, "replace: olcKeydirCacheSize\n"
                                     "olcKeydirCacheSize: 33554432\n").rc == 0


def wait_indexed(d, filt, want, timeout=20):
    """Polls until an anonymous search (unchecked limit 5) of filt answers,
    which it does only through an index."""
    deadline = time.time() + timeout
    while True:
        r = d.search("", filt, attrs=["1.1"], bind=None)
        if r.rc == 0 or time.time() > deadline:
            break
        assert r.rc == 11, r.err
        time.sleep(0.2)
    assert r.rc == 0, f"{d.kind}: no index used for {filt} after {timeout}s"
    assert r.rels == want


@pytest.mark.parametrize("kind", DBS)
def test_index_added_at_run_time(server, kind):
    d = server.dbs[kind]
    r = config_search(server, f"(olcSuffix={d.suffix})")
    dn = r.entries[0][0]
    assert d.search("", "(cn=User 08)", attrs=["1.1"], bind=None).rc == 11
    r = config_modify(server, dn, "add: olcDbIndex\nolcDbIndex: cn eq\n")
    assert r.rc == 0, r.err
    wait_indexed(d, "(cn=User 08)", ["mail=user08@example.com,ou=people"])
    # the new index is kept up to date by writes
    assert d.modify("dn: mail=user08@example.com,ou=people,{S}\nchangetype: modify\n"
                    "replace: cn\ncn: Renamed 08\n").rc == 0
    wait_indexed(d, "(cn=User 08)", [])
    wait_indexed(d, "(cn=Renamed 08)", ["mail=user08@example.com,ou=people"])


def test_bad_index_types_are_refused(server):
    """An index type keydir does not keep, or that the attribute's matching
    rules cannot make, is refused with a message and changes nothing."""
    dn, before = keydir_config(server)
    for value, why in [("sn notags", "not supported"), ("sn eq,frobnicate", "not supported"),
                       ("sn ord", "ordering"), ("keydirTTL sub", "substrings"),
                       ("userPassword approx", "approximate"), ("noSuchAttribute eq", "undefined")]:
        r = config_modify(server, dn, f"add: olcDbIndex\nolcDbIndex: {value}\n")
        assert r.rc != 0, value
        assert why in r.err, (value, r.err)
    assert keydir_config(server)[1]["olcDbIndex"] == before["olcDbIndex"]


@pytest.mark.parametrize("kind", DBS)
def test_index_kinds_added_and_dropped_at_run_time(server, kind):
    """pres and sub indexes added through cn=config are built in the
    background and used; a deleted value takes every kind of its attribute."""
    d = server.dbs[kind]
    dn = config_search(server, f"(olcSuffix={d.suffix})").entries[0][0]
    assert d.search("", "(title=*)", attrs=["1.1"], bind=None).rc == 11
    assert d.search("", "(cn=*ser 09)", attrs=["1.1"], bind=None).rc == 11
    r = config_modify(server, dn, "add: olcDbIndex\nolcDbIndex: title pres\n"
                                  "olcDbIndex: description pres,sub\n")
    assert r.rc == 0, r.err
    wait_indexed(d, "(title=*)", ["cn=alice,ou=staff", "cn=bob,ou=staff", "cn=carol,ou=staff"])
    wait_indexed(d, "(description=*ber 09)", ["mail=user09@example.com,ou=people"])
    if kind == "keydir":
        # A second line for an indexed attribute adds the kinds it lacks.
        assert config_modify(server, dn, "add: olcDbIndex\nolcDbIndex: cn eq,sub\n").rc == 0
        wait_indexed(d, "(cn=*ser 09)", ["mail=user09@example.com,ou=people"])
        values = keydir_config(server)[1]["olcDbIndex"]
        assert "description pres,sub" in values and "cn eq,sub" in values, values
    r = config_modify(server, dn, "delete: olcDbIndex\nolcDbIndex: description pres,sub\n")
    assert r.rc == 0, r.err
    assert d.search("", "(description=*ber 09)", attrs=["1.1"], bind=None).rc == 11
    if kind == "keydir":
        assert not os.path.exists(os.path.join(d.directory, "idx_description;sub.db"))
        assert os.path.exists(os.path.join(d.directory, "idx_title;pres.db"))


def test_index_removed_at_run_time(server):
    d = server.dbs["keydir"]
    dn, attrs = keydir_config(server)
    assert "keydirFingerprint eq" in attrs["olcDbIndex"]
    r = config_modify(server, dn, "delete: olcDbIndex\nolcDbIndex: keydirFingerprint eq\n")
    assert r.rc == 0, r.err
    assert "keydirFingerprint eq" not in keydir_config(server)[1]["olcDbIndex"]
    # searches go on, unindexed: right answers (as the rootdn: no unchecked limit)
    fp = [e for e in base_entries("keydir") if e.rel.startswith("mail=user04@")][0]
    r = d.search("", f"(keydirFingerprint={fp.get('keydirFingerprint')[0]})", attrs=["1.1"])
    assert r.rels == ["mail=user04@example.com,ou=people"]
    assert not os.path.exists(os.path.join(d.directory, "idx_keydirFingerprint.db"))


def test_new_database_at_run_time(server, tmp_path):
    directory = tmp_path / "runtime"
    directory.mkdir()
    ldif = ("dn: olcDatabase=keydir,cn=config\nobjectClass: olcDatabaseConfig\n"
            "objectClass: olcKeydirConfig\nolcDatabase: keydir\nolcSuffix: o=runtime\n"
            f"olcRootDN: cn=admin,o=runtime\nolcRootPW: {ROOTPW}\n"
            f"olcDbDirectory: {directory}\nolcDbIndex: mail eq\n")
    r = ldaptools.add(server.uri, ldif, "cn=config", ROOTPW)
    assert r.rc == 0, r.err
    r = ldaptools.add(server.uri, "dn: o=runtime\nobjectClass: organization\no: runtime\n\n"
                      "dn: mail=a@example.com,o=runtime\nobjectClass: keydirMember\n"
                      "mail: a@example.com\n", "cn=admin,o=runtime", ROOTPW)
    assert r.rc == 0, r.err
    r = ldaptools.search(server.uri, "o=runtime", "(mail=a@example.com)", ["1.1"])
    assert r.dns() == ["mail=a@example.com,o=runtime"]
    assert os.path.exists(directory / "id2entry.db")
    # a database whose directory does not exist is refused, with a message
    bad = ldif.replace("o=runtime", "o=bad").replace(str(directory), str(tmp_path / "none"))
    r = ldaptools.add(server.uri, bad, "cn=config", ROOTPW)
    assert r.rc != 0
    assert "does not exist" in r.err, r.err
    assert ldaptools.search(server.uri, "o=runtime", "(mail=*)", ["1.1"]).rc == 0


def test_directory_changed_at_run_time(server, tmp_path):
    """A new olcDbDirectory reopens the database there (an empty one), and
    going back finds the data again; cn=monitor follows."""
    d = server.dbs["keydir"]
    dn, _ = keydir_config(server)
    other = tmp_path / "other"
    other.mkdir()
    assert config_modify(server, dn, f"replace: olcDbDirectory\nolcDbDirectory: {other}\n").rc == 0
    assert d.search("", scope="base").rc == 32
    assert monitor_value(server, "olmKeydirEntries") == "0"
    assert d.add("dn: {S}\nobjectClass: organization\no: keydir\n").rc == 0
    assert monitor_value(server, "olmKeydirEntries") == "1"
    assert config_modify(server, dn, "replace: olcDbDirectory\n"
                                     f"olcDbDirectory: {d.directory}\n").rc == 0
    r = d.search("", "(mail=user07@example.com)", attrs=["1.1"])
    assert r.rc == 0 and r.rels == ["mail=user07@example.com,ou=people"]
    assert int(monitor_value(server, "olmKeydirEntries")) > 40


def test_zz_settings_survive_a_restart(server):
    """Runs last (name): a restart from the cn=config directory keeps what
    was changed at run time, and the data."""
    dn, _ = keydir_config(server)
    assert config_modify(server, dn, "replace: olcKeydirDurability\n"
                                     "olcKeydirDurability: nosync\n").rc == 0
    server.restart()
    attrs = keydir_config(server)[1]
    assert attrs["olcKeydirDurability"] == ["nosync"]
    assert "cn eq" in attrs["olcDbIndex"]
    d = server.dbs["keydir"]
    r = d.search("", "(cn=Renamed 08)", attrs=["1.1"], bind=None)
    assert r.rc == 0 and r.rels == ["mail=user08@example.com,ou=people"]
    assert ldaptools.search(server.uri, "o=runtime", "(mail=a@example.com)", ["1.1"]).rc == 0


def test_slapd_conf_mode_shows_the_same_config():
    s, dbs = configure_pair(name="config-conf", keydir_extra=KEYDIR_EXTRA)
    try:
        s.start()
        attrs = keydir_config(s)[1]
        assert attrs["olcKeydirCacheSize"] == ["33554432"]
        assert attrs["olcKeydirCheckpoint"] == ["512 3"]
        assert attrs["olcDbDirectory"] == [dbs["keydir"].directory]
    finally:
        s.cleanup()


def test_cache_size_in_slapd_conf_applies_at_restart():
    """keydir-cachesize changed in slapd.conf takes effect at the next start
    (an existing Berkeley DB environment would keep its old pool)."""
    s, dbs = configure_pair(name="config-cache", keydir_extra="keydir-cachesize 33554432\n")
    try:
        s.start()
        small = int(monitor_value(s, "olmKeydirCacheBytes"))
        s.stop()
        s.databases[0] = s.databases[0].replace("33554432", "134217728")
        s.start()
        large = int(monitor_value(s, "olmKeydirCacheBytes"))
        assert small < 134217728 <= large, (small, large)
    finally:
        s.cleanup()
