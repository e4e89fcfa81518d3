"""Replication set up wrongly: what the administrator sees. (A wrong
credential and writes sent to a secondary are in test_repl_secondary.py.)"""

import pytest

import repl_support as RS
from keydirtest import ldaptools
from keydirtest import replication as R
from keydirtest.slapd import ROOTPW, database_keydir

ADMIN = (RS.ZONE_ADMIN, ROOTPW)


@pytest.fixture
def master(make_slapd):
    m = RS.provider(make_slapd)
    m.start()
    assert ldaptools.add(m.uri, RS.zone_ldif() + "\n" + RS.members_ldif(3), *ADMIN).rc == 0
    return m


def test_a_master_without_syncprov_leaves_the_secondary_empty_and_it_says_why(make_slapd):
    m = make_slapd(name="nosyncprov")
    m.add_database(database_keydir(RS.ZONE, m.db_dir("zone"), extra=R.SYNC_INDEX))
    m.suffix = RS.ZONE
    m.start()
    assert ldaptools.add(m.uri, RS.zone_ldif(), *ADMIN).rc == 0
    s = RS.consumer(make_slapd, m, debug_level="none")
    s.start()
    RS.wait_for(lambda: RS.count(r"got search entry without Sync State control",
                                 RS.server_log(s)) >= 2, "the secondary to say why")
    assert "do_syncrepl: rid=001 rc -1 retrying" in RS.server_log(s)
    assert RS.view(s) == {}


def test_a_secondary_without_keydir_schema_stays_empty_and_says_why(master, make_slapd):
    s = make_slapd(name="noschema", keydir_schema=False, debug_level="none")
    section = database_keydir(RS.ZONE, s.db_dir("zone"), extra=R.section_extra(
        R.SYNC_INDEX, R.consumer(1, master.uri, RS.ZONE, RS.ZONE_ADMIN, ROOTPW)))
    s.add_database(section.replace("objectClass,mail,keydirFingerprint eq", "objectClass,mail eq"))
    s.suffix = RS.ZONE
    s.start()
    RS.wait_for(lambda: RS.count(r"syncrepl_message_to_entry: rid=001 mods check "
                                 r"\(objectClass: value #1 invalid per syntax\)",
                                 RS.server_log(s)) >= 2, "the secondary to say why")
    assert RS.view(s) == {}


def test_a_consumer_database_without_rootdn_is_refused_at_start(master, make_slapd):
    s = make_slapd(name="norootdn")
    s.add_database(f'database keydir\nsuffix "{RS.ZONE}"\ndirectory {s.db_dir("zone")}\n'
                   + R.SYNC_INDEX + R.consumer(1, master.uri, RS.ZONE, RS.ZONE_ADMIN, ROOTPW))
    assert s.start(expect_failure=True) == 1
    assert "rootDN must be defined before syncrepl may be used" in s.log()


def test_an_unknown_syncrepl_type_is_refused_at_start(master, make_slapd):
    s = make_slapd(name="badtype")
    s.add_database(database_keydir(RS.ZONE, s.db_dir("zone"), extra=R.SYNC_INDEX +
                                   f'syncrepl rid=001 provider={master.uri} '
                                   f'searchbase="{RS.ZONE}" type=refreshSometimes\n'))
    assert s.start(expect_failure=True) == 1
    assert 'unknown sync type "refreshSometimes"' in s.log()


def test_the_configuration_helpers_refuse_what_slapd_would():
    with pytest.raises(ValueError):
        R.consumer(1, "ldap://h", RS.ZONE, RS.ZONE_ADMIN, ROOTPW, type="refreshSometimes")
    with pytest.raises(ValueError):
        R.consumer(1000, "ldap://h", RS.ZONE, RS.ZONE_ADMIN, ROOTPW)
    with pytest.raises(ValueError):
        R.consumer(1, "ldap://h", RS.ZONE, RS.ZONE_ADMIN, ROOTPW, syncdata="accesslog")
    with pytest.raises(ValueError):
        R.server_id(0)
    with pytest.raises(ValueError):
        R.multiprovider_member(1, {1: "ldap://h"}, "", "cn=admin", ROOTPW)
    with pytest.raises(ValueError):
        R.accesslog_database("cn=accesslog", "/tmp/x", "cn=admin", kind="ldif")
