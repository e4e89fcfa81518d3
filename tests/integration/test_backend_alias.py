"""Aliases: keydir stores alias entries but does not dereference them
(a deliberate, documented difference, slapd-keydir(5)); back-mdb does.

Whatever the client's -a (derefAliases) setting, a keydir search returns
the alias entry itself, as with -a never on both."""

import pytest

from backend_pair import db, pair_server  # noqa: F401

TARGET = "mail=user01@example.com,ou=people"


@pytest.fixture(scope="module")
def alias(pair_server):
    for d in pair_server.values():
        r = d.add("dn: ou=links,{S}\nobjectClass: organizationalUnit\nou: links\n\n"
                  "dn: cn=link,ou=links,{S}\nobjectClass: alias\nobjectClass: extensibleObject\n"
                  f"cn: link\naliasedObjectName: {TARGET},{{S}}\n")
        assert r.rc == 0, r.err
    return "cn=link,ou=links"


@pytest.mark.parametrize("deref", ["never", "search", "find", "always"])
@pytest.mark.parametrize("scope", ["base", "sub"])
def test_alias_dereferencing(db, alias, deref, scope):
    base = alias if scope == "base" else "ou=links"
    r = db.search(base, attrs=["1.1"], scope=scope, extra=["-a", deref])
    assert r.rc == 0, r.err
    as_stored = [alias] if scope == "base" else sorted([alias, "ou=links"])
    if db.kind == "keydir" or deref == "never":
        assert r.rels == as_stored
    elif scope == "base":
        assert r.rels == ([TARGET] if deref in ("find", "always") else as_stored)
    else:
        assert r.rels == (sorted([TARGET, "ou=links"]) if deref in ("search", "always")
                          else as_stored)


def test_alias_entry_reads_back(db, alias):
    e = db.entry(alias, attrs=["*"], )
    assert e["aliasedObjectName"] == [db.dn(TARGET)]
    assert sorted(e["objectClass"]) == ["alias", "extensibleObject"]
