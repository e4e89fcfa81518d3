"""syncprov's session log on a keydir provider: a secondary that was away
for a few changes gets just those changes (syncprov replays its session
log, the secondary deletes what the log says was deleted) instead of a
present phase in which the master names every entry it holds.

Both cases run, so that the test shows the difference: with
syncprov-sessionlog the master's log shows syncprov_play_sessionlog and
the secondary's shows no REFRESH_PRESENT; without it, a present phase
(the master's FIND_PRESENT, the secondary's REFRESH_PRESENT)."""

import pytest

import repl_support as RS
from keydirtest import ldaptools
from keydirtest.slapd import ROOTPW

ADMIN = (RS.ZONE_ADMIN, ROOTPW)
ENTRIES = 80


@pytest.mark.parametrize("sessionlog", [1000, None], ids=["sessionlog", "no-sessionlog"])
def test_a_returning_secondary_gets_only_what_it_missed(make_slapd, sessionlog):
    master = RS.provider(make_slapd, sessionlog=sessionlog)
    secondary = RS.consumer(make_slapd, master)
    master.start()
    r = ldaptools.add(master.uri, RS.zone_ldif() + "\n" + RS.members_ldif(ENTRIES), *ADMIN)
    assert r.rc == 0, r.err
    secondary.start()
    RS.wait_same(master, secondary)

    secondary.stop()
    # A few changes while the secondary is away.
    assert ldaptools.add(master.uri, RS.member_ldif("new@tovaris.com"), *ADMIN).rc == 0
    assert ldaptools.modify(master.uri, f"dn: {RS.member_dn('user010@tovaris.com')}\n"
                            "changetype: modify\nreplace: cn\ncn: Ten\n", *ADMIN).rc == 0
    assert ldaptools.delete(master.uri, RS.member_dn("user020@tovaris.com"), *ADMIN).rc == 0
    master_mark = RS.mark_log(master, "back")
    secondary_mark = RS.mark_log(secondary, "back")
    secondary.start()
    view = RS.wait_same(master, secondary)
    assert RS.member_dn("new@tovaris.com") in view
    assert RS.member_dn("user020@tovaris.com") not in view
    assert view[RS.member_dn("user010@tovaris.com")]["cn"] == ["Ten"]

    sent = RS.log_since(master, master_mark)
    got = RS.log_since(secondary, secondary_mark)
    # What the secondary received as entries: the added and the modified one.
    entries = RS.count(r"syncrepl_entry: rid=001 LDAP_RES_SEARCH_ENTRY", got)
    if sessionlog:
        assert "syncprov_play_sessionlog" in sent, sent[-3000:]
        assert "picking a deleted entry" in sent
        assert "REFRESH_PRESENT" not in got
        assert "FIND_PRESENT" not in sent
        assert entries == 2, got[-3000:]
    else:
        assert "syncprov_play_sessionlog" not in sent
        assert "LDAP_RES_INTERMEDIATE - REFRESH_PRESENT" in got
        assert "FIND_PRESENT" in sent
