"""Operational attributes on keydir and back-mdb: set on add, kept or
updated as they should be by modify and modrdn, refused from clients."""

import re
import time

import pytest

from backend_pair import both, db, pair_server  # noqa: F401

PAIR = {"db_extra": lambda s: "access to * by users write by * read\n"}

BOB = {"bind": "cn=bob,ou=staff", "password": "bobpw"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
CSN = re.compile(r"^\d{14}\.\d{6}Z#[0-9a-f]{6}#[0-9a-f]{3}#[0-9a-f]{6}$")
TIME = re.compile(r"^\d{14}Z$")


@pytest.fixture
def fresh(db):
    ou = db.fresh()
    rel = f"mail=op@example.com,{ou}"
    assert db.add(f"dn: {rel},{{S}}\nobjectClass: keydirMember\nmail: op@example.com\n"
                  "cn: one\n").rc == 0
    return rel


def test_set_on_add(db, fresh):
    e = db.entry(fresh)
    assert UUID.match(e["entryUUID"][0])
    assert CSN.match(e["entryCSN"][0])
    assert TIME.match(e["createTimestamp"][0])
    assert e["createTimestamp"] == e["modifyTimestamp"]
    assert e["creatorsName"] == e["modifiersName"] == [db.rootdn]
    assert e["structuralObjectClass"] == ["keydirMember"]
    assert e["entryDN"] == [db.dn(fresh)]
    assert e["subschemaSubentry"] == ["cn=Subschema"]
    assert e["hasSubordinates"] == ["FALSE"]


def test_operational_attributes_only_when_asked(db, fresh):
    assert set(db.entry(fresh, attrs=["*"])) == {"objectClass", "mail", "cn"}
    assert set(db.entry(fresh, attrs=["entryUUID", "hasSubordinates"])) == \
        {"entryUUID", "hasSubordinates"}


def test_kept_and_updated_by_modify(db, fresh):
    before = db.entry(fresh)
    time.sleep(1.1)  # so that the timestamps (seconds) can differ
    r = db.modify(f"dn: {fresh},{{S}}\nchangetype: modify\nreplace: cn\ncn: two\n", **BOB)
    assert r.rc == 0, r.err
    after = db.entry(fresh)
    for kept in ("entryUUID", "createTimestamp", "creatorsName", "structuralObjectClass"):
        assert after[kept] == before[kept], kept
    assert after["modifiersName"] == [db.dn("cn=bob,ou=staff")]
    assert after["modifyTimestamp"][0] > before["modifyTimestamp"][0]
    assert after["entryCSN"][0] > before["entryCSN"][0]


def test_kept_by_modrdn(db, fresh):
    before = db.entry(fresh)
    r = db.modrdn(fresh, "mail=renamed@example.com", delete_old=False, **BOB)
    assert r.rc == 0, r.err
    after = db.entry(fresh.replace("mail=op@", "mail=renamed@"))
    assert after["entryUUID"] == before["entryUUID"]
    assert after["createTimestamp"] == before["createTimestamp"]
    assert after["modifiersName"] == [db.dn("cn=bob,ou=staff")]
    assert after["entryCSN"][0] > before["entryCSN"][0]


def test_has_subordinates_follows_children(db):
    ou = db.fresh()
    assert db.entry(ou)["hasSubordinates"] == ["FALSE"]
    assert db.add(f"dn: cn=c,{ou},{{S}}\nobjectClass: person\ncn: c\nsn: c\n").rc == 0
    assert db.entry(ou)["hasSubordinates"] == ["TRUE"]
    assert db.compare(ou, "hasSubordinates:TRUE").rc == 6
    assert db.delete(f"cn=c,{ou}").rc == 0
    assert db.entry(ou)["hasSubordinates"] == ["FALSE"]


@pytest.mark.parametrize("attr,value", [
    ("entryUUID", "00000000-0000-0000-0000-000000000001"),
    ("entryCSN", "20200101000000.000000Z#000000#000#000000"),
    ("createTimestamp", "20200101000000Z"),
    ("creatorsName", "cn=someone"),
    ("hasSubordinates", "TRUE"),
])
def test_clients_cannot_set_them(db, fresh, attr, value):
    before = db.entry(fresh)
    for who in (BOB, {}):
        r = db.modify(f"dn: {fresh},{{S}}\nchangetype: modify\nreplace: {attr}\n{attr}: {value}\n",
                      **who)
        assert r.rc in (19, 53), r.err  # constraintViolation / unwillingToPerform
    assert db.entry(fresh) == before


def test_relax_control_lets_the_rootdn_set_them(db):
    """The rootdn with the relax control (what slapadd-like migrations use)
    keeps the values it gives."""
    ou = db.fresh()
    r = db.add(f"dn: cn=r,{ou},{{S}}\nobjectClass: person\ncn: r\nsn: r\n"
               "entryUUID: 11111111-2222-3333-4444-555555555555\n"
               "createTimestamp: 20200101000000Z\ncreatorsName: cn=migrated\n",
               extra=["-e", "relax"])
    assert r.rc == 0, r.err
    e = db.entry(f"cn=r,{ou}")
    assert e["entryUUID"] == ["11111111-2222-3333-4444-555555555555"]
    assert e["createTimestamp"] == ["20200101000000Z"]
    assert e["creatorsName"] == ["cn=migrated"]


def test_entry_uuids_are_unique(db):
    r = db.search("", attrs=["entryUUID"])
    uuids = [v for _, a in r.entries for v in a["entryUUID"]]
    assert len(uuids) == len(set(uuids)) == len(r.entries)


def test_same_codes_as_mdb(both):
    keydir, mdb = both
    codes = []
    for d in both:
        ou = d.fresh()
        assert d.add(f"dn: cn=x,{ou},{{S}}\nobjectClass: person\ncn: x\nsn: x\n").rc == 0
        row = []
        for attr, value in [("entryUUID", "00000000-0000-0000-0000-000000000001"),
                            ("modifyTimestamp", "20200101000000Z"),
                            ("structuralObjectClass", "person"), ("entryDN", "cn=y")]:
            row.append(d.modify(f"dn: cn=x,{ou},{{S}}\nchangetype: modify\n"
                                f"replace: {attr}\n{attr}: {value}\n").rc)
        codes.append(row)
    assert codes[0] == codes[1]
