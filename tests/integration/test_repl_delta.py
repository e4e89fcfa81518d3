"""delta-syncrepl between keydir databases: the master logs every
successful write into an accesslog database (overlay accesslog), the
secondary replays the logged operations (syncdata=accesslog) instead of
receiving whole entries.

The accesslog database is back-mdb or keydir; both are run. The secondary
is keydir."""

import pytest

import repl_support as RS
from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW

ADMIN = (RS.ZONE_ADMIN, ROOTPW)


@pytest.fixture(scope="module", params=["mdb", "keydir"], ids=["mdb-log", "keydir-log"])
def pair(request):
    made = RS.Servers()
    try:
        master = RS.provider(made, accesslog=request.param)
        secondary = RS.consumer(made, master, delta=True)
        master.start()
        r = ldaptools.add(master.uri, RS.zone_ldif() + "\n" + RS.members_ldif(20), *ADMIN)
        assert r.rc == 0, r.err
        secondary.start()
        RS.wait_same(master, secondary)
        yield master, secondary
    finally:
        made.cleanup()


def log_types(master):
    """reqType of every entry in the master's accesslog, in order."""
    r = ldaptools.search(master.uri, "cn=accesslog", "(objectClass=auditWriteObject)",
                         ["reqType", "reqStart"], scope="one", binddn=RS.ZONE_ADMIN,
                         password=ROOTPW)
    assert r.rc == 0, r.err
    return [a["reqType"][0] for _, a in sorted(r.entries, key=lambda e: e[1]["reqStart"][0])]


def changes(master, tag):
    """add, modify, modrdn (rename, then move) and delete on the master;
    tag "dNNN" deletes userNNN."""
    results = [
        ldaptools.add(master.uri, RS.member_ldif(f"{tag}@tovaris.com")
                      + "\n" + f"dn: ou={tag},{RS.ZONE}\nobjectClass: organizationalUnit\n"
                      f"ou: {tag}\n", *ADMIN),
        ldaptools.modify(master.uri, f"dn: {RS.member_dn(f'{tag}@tovaris.com')}\n"
                         "changetype: modify\nreplace: cn\ncn: Changed\n-\n"
                         "add: description\ndescription: two\n-\n"
                         "delete: description\ndescription: member " + f"{tag}@tovaris.com\n",
                         *ADMIN),
        ldaptools.modrdn(master.uri, RS.member_dn(f"{tag}@tovaris.com"),
                         f"mail={tag}-renamed@tovaris.com", *ADMIN),
        ldaptools.modrdn(master.uri, RS.member_dn(f"{tag}-renamed@tovaris.com"),
                         f"mail={tag}-renamed@tovaris.com", *ADMIN, newsup=f"ou={tag},{RS.ZONE}"),
        ldaptools.delete(master.uri, RS.member_dn(f"user{tag[-3:]}@tovaris.com"), *ADMIN),
    ]
    for r in results:
        assert r.rc == 0, r.err


def test_every_kind_of_change_is_replayed_from_the_log(pair):
    master, secondary = pair
    mark = RS.mark_log(secondary, "delta")
    changes(master, "d001")
    view = RS.wait_same(master, secondary)
    moved = f"mail=d001-renamed@tovaris.com,ou=d001,{RS.ZONE}"
    assert view[moved]["cn"] == ["Changed"]
    assert view[moved]["description"] == ["two"]
    assert RS.member_dn("user001@tovaris.com") not in view
    assert log_types(master)[-6:] == ["add", "add", "modify", "modrdn", "modrdn", "delete"]
    # The secondary applied operations, not entries.
    got = RS.log_since(secondary, mark)
    for op in ("be_add", "be_modify", "be_modrdn", "be_delete"):
        assert RS.count(rf"syncrepl_message_to_op: rid=001 {op} \S+ \(0\)", got) >= 1, (op, got)
    assert "LDAP_RES_SEARCH_ENTRY" not in got


def test_the_secondary_catches_up_from_the_log_after_a_restart(pair):
    master, secondary = pair
    RS.wait_same(master, secondary)
    secondary.stop()
    try:
        changes(master, "d002")
        r = ldaptools.add(master.uri, RS.members_ldif(10, prefix="away"), *ADMIN)
        assert r.rc == 0, r.err
    finally:
        mark = RS.mark_log(secondary, "restart")
        secondary.start()
    view = RS.wait_same(master, secondary)
    assert f"mail=d002-renamed@tovaris.com,ou=d002,{RS.ZONE}" in view
    assert RS.member_dn("away009@tovaris.com") in view
    assert RS.member_dn("user002@tovaris.com") not in view
    got = RS.log_since(secondary, mark)
    # Replayed from the log: 5 + 10 operations, no full reload.
    assert RS.count(r"syncrepl_message_to_op: rid=001 be_\w+ \S+ \(0\)", got) >= 15, got[-3000:]
    assert "LDAP_RES_SEARCH_ENTRY" not in got
    assert RS.context_csns(secondary) == RS.context_csns(master)


def test_a_failed_write_is_not_logged_or_replayed(pair):
    master, secondary = pair
    before = log_types(master)
    r = ldaptools.add(master.uri, RS.member_ldif("user010@tovaris.com"), *ADMIN)
    assert r.rc == 68, r.err  # already exists
    r = ldaptools.modify(master.uri, f"dn: {RS.member_dn('user011@tovaris.com')}\n"
                         "changetype: modify\nreplace: keydirStatus\nkeydirStatus: lost\n", *ADMIN)
    assert r.rc == 19, r.err  # constraint violation
    assert ldaptools.add(master.uri, RS.member_ldif("ok@tovaris.com"), *ADMIN).rc == 0
    RS.wait_same(master, secondary)
    # Failed writes are not logged (logsuccess TRUE keeps only successes).
    assert log_types(master) == before + ["add"]
