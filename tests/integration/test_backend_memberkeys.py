"""Where keydir differs from back-mdb on purpose for keydirMember entries
(keydir.schema loaded): keydirFingerprint and keydirNotAfter are derived
from the certificates, and a revoked member is served without them unless
the client sends ManageDsaIT (slapd-keydir(5)). back-mdb stores and serves
whatever it is sent."""

from backend_certs import certificate, member_ldif
from backend_pair import db, pair_server  # noqa: F401

KEY_ATTRS = {"userCertificate;binary", "keydirFingerprint", "keydirNotAfter"}


def test_derived_values_must_match(db):
    ou = db.fresh()
    other = certificate("other@example.com")[1]
    ldif = (f"dn: mail=k@example.com,{ou},{{S}}\nobjectClass: keydirMember\nmail: k@example.com\n"
            + member_ldif("k@example.com").replace(certificate("k@example.com")[1], other))
    r = db.add(ldif)
    assert r.rc == (19 if db.kind == "keydir" else 0), r.err
    r = db.add(f"dn: mail=j@example.com,{ou},{{S}}\nobjectClass: keydirMember\n"
               f"mail: j@example.com\nkeydirFingerprint: {other}\n")  # no certificate at all
    assert r.rc == (19 if db.kind == "keydir" else 0), r.err


def test_matching_values_are_kept(db):
    ou = db.fresh()
    rel = f"mail=k@example.com,{ou}"
    assert db.add(f"dn: {rel},{{S}}\nobjectClass: keydirMember\nmail: k@example.com\n"
                  + member_ldif("k@example.com")).rc == 0
    der, fp, not_after = certificate("k@example.com")
    e = db.entry(rel, attrs=["*"])
    assert e["keydirFingerprint"] == [fp] and e["keydirNotAfter"] == [not_after]
    assert e["userCertificate;binary"] == [der]


def test_revoked_member_served_without_certificates(db):
    rel = "mail=user05@example.com,ou=people"  # keydirStatus: revoked
    served = set(db.entry(rel, attrs=["*"]))
    stored = set(db.search(rel, scope="base", attrs=["*"], extra=["-M"]).entries[0][1])
    assert KEY_ATTRS <= stored
    if db.kind == "keydir":
        assert not (KEY_ATTRS & served)
    else:
        assert KEY_ATTRS <= served
    # an active member's come with it on both
    assert KEY_ATTRS <= set(db.entry("mail=user06@example.com,ou=people", attrs=["*"]))
