"""The keydir module loads into the stock slapd and serves a zone."""
from keydirtest import ldaptools
from keydirtest.slapd import database_keydir

ZONE = """dn: dc=tovaris,dc=com
objectClass: dcObject
objectClass: organization
objectClass: keydirZone
dc: tovaris
o: Tovaris

dn: mail=kconley@tovaris.com,dc=tovaris,dc=com
objectClass: keydirMember
mail: kconley@tovaris.com
cn: K Conley
"""


def test_keydir_zone_answers_ldapsearch(make_slapd):
    s = make_slapd(name="smoke")
    s.add_database(database_keydir("dc=tovaris,dc=com", s.db_dir("zone")))
    s.start()
    r = ldaptools.add(s.uri, ZONE, "cn=admin,dc=tovaris,dc=com")
    assert r.rc == 0, r.err
    r = ldaptools.search(s.uri, "dc=tovaris,dc=com", "(mail=kconley@tovaris.com)", ["cn"])
    assert r.rc == 0, r.err
    assert r.dns() == ["mail=kconley@tovaris.com,dc=tovaris,dc=com"]
    assert r.entries[0][1]["cn"] == ["K Conley"]
