"""A zone's secondary: a keydir database fed by syncrepl from the zone's
master (a keydir database under syncprov), as keydirtest.replication
configures them.

The master holds a zone made with keydir-admin: members with real keys
and certificates, and plain members. The secondary is refreshAndPersist
(changes arrive as they happen); another is refreshOnly (it polls)."""

import os
import time

import ldap
import pytest

import repl_support as RS
from keydirtest import keys, ldaptools
from keydirtest.slapd import ROOTPW

ZONE = RS.ZONE
ADMIN = (RS.ZONE_ADMIN, ROOTPW)


@pytest.fixture(scope="module")
def zone(tmp_path_factory):
    workdir = str(tmp_path_factory.mktemp("replzone"))
    z = keys.Zone(workdir, "tovaris.com", key_type="p256")
    z.workdir = workdir
    return z


@pytest.fixture(scope="module")
def pair(zone):
    """(master, secondary), running, the secondary in step."""
    made = RS.Servers()
    try:
        master = RS.provider(made, debug_level=RS.STATS_SYNC)
        secondary = RS.consumer(made, master)
        master.start()
        ldif = [zone.zone_ldif()]
        ldif += [RS.issue_member(zone, f"key{i}@tovaris.com", zone.workdir) for i in range(3)]
        ldif.append(RS.members_ldif(40))
        r = ldaptools.add(master.uri, "\n".join(ldif), *ADMIN)
        assert r.rc == 0, r.err
        secondary.start()
        RS.wait_same(master, secondary)
        yield master, secondary
    finally:
        made.cleanup()


def certificate(server, address):
    """The certificate a client gets for address (as bytes), or None."""
    rc, entries, err = keys.search_raw(server.uri, ZONE, f"(mail={address})",
                                       ["userCertificate;binary"])
    assert rc == 0, err
    if not entries:
        return None
    return entries[0][1].get("userCertificate;binary", [None])[0]


def test_the_secondary_holds_the_zone_and_serves_its_keys(pair):
    master, secondary = pair
    view = RS.wait_same(master, secondary)
    assert len(view) == 1 + 3 + 40
    for i in range(3):
        cert = certificate(secondary, f"key{i}@tovaris.com")
        assert cert and cert == certificate(master, f"key{i}@tovaris.com")
    # The derived attributes arrive as the master derived them.
    dn = RS.member_dn("key0@tovaris.com")
    assert view[dn]["keydirfingerprint"] and view[dn]["keydirnotafter"]
    assert RS.context_csns(secondary) == RS.context_csns(master)


def test_a_member_added_on_the_master_is_served_by_the_secondary_within_one_second(pair, zone):
    """The issue's bound: from the add sent to the master to the key being
    answered by the secondary (python-ldap on both ends, polling every
    5 ms), for each of several members."""
    master, secondary = pair
    addresses = [f"fast{i}@tovaris.com" for i in range(5)]
    ldifs = [RS.issue_member(zone, a, zone.workdir) for a in addresses]
    writer = ldap.initialize(master.uri)
    writer.simple_bind_s(*ADMIN)
    reader = ldap.initialize(secondary.uri)
    reader.simple_bind_s()
    lags = []
    try:
        for address, text in zip(addresses, ldifs):
            dn, attrs = parse_one(text)
            start = time.monotonic()
            writer.add_s(dn, list(attrs.items()))
            while True:
                found = reader.search_s(ZONE, ldap.SCOPE_SUBTREE, f"(mail={address})",
                                        ["userCertificate;binary"])
                if found and found[0][1].get("userCertificate;binary"):
                    break
                if time.monotonic() - start > 10:
                    pytest.fail(f"{address} not served by the secondary after 10 s")
                time.sleep(0.005)
            lags.append(time.monotonic() - start)
    finally:
        writer.unbind_s()
        reader.unbind_s()
    print("add on master -> served by secondary:", ", ".join(f"{x * 1000:.1f} ms" for x in lags))
    assert max(lags) < 1.0, f"lags {lags}"


def parse_one(ldif_text):
    """The DN and attributes ({name: [bytes]}) of a one-entry LDIF."""
    entries = {}
    dn = None
    unfolded = ldif_text.replace("\n ", "")
    for line in unfolded.splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(":"):
            import base64
            data = base64.b64decode(value[1:].strip())
        else:
            data = value.strip().encode()
        if name.lower() == "dn":
            dn = data.decode()
        else:
            entries.setdefault(name, []).append(data)
    return dn, entries


def test_every_kind_of_change_arrives(pair):
    master, secondary = pair
    changes = [
        ldaptools.modify(master.uri, f"dn: {RS.member_dn('user001@tovaris.com')}\n"
                         "changetype: modify\nreplace: cn\ncn: One\n-\nadd: description\n"
                         "description: second line\n", *ADMIN),
        # A revoked member: the secondary, as the master, hands out no key.
        ldaptools.modify(master.uri, f"dn: {RS.member_dn('key1@tovaris.com')}\n"
                         "changetype: modify\nreplace: keydirStatus\nkeydirStatus: revoked\n",
                         *ADMIN),
        ldaptools.modrdn(master.uri, RS.member_dn("user002@tovaris.com"),
                         "mail=renamed@tovaris.com", *ADMIN),
        ldaptools.delete(master.uri, RS.member_dn("user003@tovaris.com"), *ADMIN),
        ldaptools.add(master.uri, "dn: ou=moved," + ZONE + "\nobjectClass: organizationalUnit\n"
                      "ou: moved\n", *ADMIN),
        ldaptools.modrdn(master.uri, RS.member_dn("user004@tovaris.com"),
                         "mail=user004@tovaris.com", *ADMIN, newsup="ou=moved," + ZONE),
    ]
    for r in changes:
        assert r.rc == 0, r.err
    view = RS.wait_same(master, secondary)
    assert view[RS.member_dn("user001@tovaris.com")]["cn"] == ["One"]
    assert RS.member_dn("renamed@tovaris.com") in view
    assert RS.member_dn("user002@tovaris.com") not in view
    assert RS.member_dn("user003@tovaris.com") not in view
    assert f"mail=user004@tovaris.com,ou=moved,{ZONE}" in view
    assert certificate(secondary, "key1@tovaris.com") is None
    assert certificate(master, "key1@tovaris.com") is None


@pytest.mark.parametrize("how", ["stop", "kill9"])
def test_a_secondary_restarted_after_missing_changes_catches_up(pair, how):
    master, secondary = pair
    RS.wait_same(master, secondary)
    if how == "stop":
        secondary.stop()
    else:
        secondary.kill9()
    try:
        tag = f"away{how}"
        r = ldaptools.add(master.uri, RS.members_ldif(12, prefix=tag), *ADMIN)
        assert r.rc == 0, r.err
        assert ldaptools.delete(master.uri, RS.member_dn(f"{tag}003@tovaris.com"), *ADMIN).rc == 0
        assert ldaptools.modrdn(master.uri, RS.member_dn(f"{tag}004@tovaris.com"),
                                f"mail={tag}-four@tovaris.com", *ADMIN).rc == 0
        assert ldaptools.modify(master.uri, f"dn: {RS.member_dn(f'{tag}005@tovaris.com')}\n"
                                "changetype: modify\nreplace: cn\ncn: Five\n", *ADMIN).rc == 0
        # Not there yet: the secondary is down.
        assert not secondary.running()
    finally:
        secondary.start()
    view = RS.wait_same(master, secondary)
    assert RS.member_dn(f"{tag}011@tovaris.com") in view
    assert RS.member_dn(f"{tag}003@tovaris.com") not in view
    assert view[RS.member_dn(f"{tag}005@tovaris.com")]["cn"] == ["Five"]
    assert RS.context_csns(secondary) == RS.context_csns(master)


def test_a_write_to_the_secondary_is_referred_to_the_master(pair):
    master, secondary = pair
    before = RS.view(secondary)
    r = ldaptools.add(secondary.uri, RS.member_ldif("wrong@tovaris.com"), *ADMIN)
    assert r.rc == 10, r.err  # referral
    assert f"{master.uri}/{RS.member_dn('wrong@tovaris.com')}" in r.out + r.err
    r = ldaptools.modify(secondary.uri, f"dn: {RS.member_dn('user010@tovaris.com')}\n"
                         "changetype: modify\nreplace: cn\ncn: nope\n", *ADMIN)
    assert r.rc == 10, r.err
    r = ldaptools.delete(secondary.uri, RS.member_dn("user011@tovaris.com"), *ADMIN)
    assert r.rc == 10, r.err
    assert RS.view(secondary) == before
    assert not RS.has_entry(master, RS.member_dn("wrong@tovaris.com"))


def test_a_write_to_a_secondary_without_updateref_is_refused(pair, make_slapd):
    master, _ = pair
    s = RS.consumer(make_slapd, master, name="noref", updateref=False)
    s.start()
    RS.wait_same(master, s)
    r = ldaptools.add(s.uri, RS.member_ldif("wrong@tovaris.com"), *ADMIN)
    assert r.rc == 53, r.err  # unwillingToPerform
    assert "shadow context" in r.err
    assert not RS.has_entry(s, RS.member_dn("wrong@tovaris.com"))


def test_a_refresh_only_secondary_polls(pair, make_slapd):
    master, _ = pair
    mark = RS.mark_log(master, "refreshOnly")
    s = RS.consumer(make_slapd, master, name="poller", rid=2, type="refreshOnly",
                    interval="00:00:00:01")
    s.start()
    RS.wait_same(master, s)
    r = ldaptools.add(master.uri, RS.member_ldif("polled@tovaris.com"), *ADMIN)
    assert r.rc == 0, r.err
    view = RS.wait_same(master, s)
    assert RS.member_dn("polled@tovaris.com") in view
    # Each poll is a search of its own that ends (no persistent search).
    RS.wait_for(lambda: RS.count(r"syncprov_op_search: got a search with a cookie=rid=002",
                                 RS.log_since(master, mark)) >= 3, "three polls")
    assert "got a persistent search with a cookie=rid=002" not in RS.log_since(master, mark)


def test_a_secondary_with_a_wrong_credential_stays_empty_and_says_why(pair, make_slapd):
    master, _ = pair
    s = RS.consumer(make_slapd, master, name="wrongpw", rid=3, credentials="not-the-password")
    mark = RS.mark_log(master, "wrongpw")
    s.start()
    RS.wait_for(lambda: RS.count(r"ldap_sasl_bind_s failed \(49\)", RS.server_log(s)) >= 2,
                "the secondary to log its failed binds")
    log = RS.server_log(s)
    assert f'URI={master.uri} DN="{RS.ZONE_ADMIN}" ldap_sasl_bind_s failed (49)' in log
    assert "do_syncrepl: rid=003 rc 49 retrying" in log
    assert RS.count(r"RESULT tag=97 err=49", RS.log_since(master, mark)) >= 2
    assert RS.view(s) == {}
    r = ldaptools.search(s.uri, ZONE, scope="base")
    assert r.rc == 32, r.err  # noSuchObject: nothing arrived


def test_a_member_whose_certificate_has_expired_is_replicated(zone, make_slapd, tmp_path):
    """Certificates expire while their entries stay in the zone (the
    master keeps them, and serves no key for them). A secondary must copy
    the zone as it is: the master judged the certificate when it was
    written; the secondary does not judge it again by today's date."""
    from test_keys_lookup import expired_cert_der

    der = expired_cert_der(zone, str(tmp_path))
    expired = (f"dn: {RS.member_dn('e@tovaris.com')}\nobjectClass: keydirMember\n"
               f"mail: e@tovaris.com\nuserCertificate;binary:: {keys.b64(der)}\n")
    master = RS.provider(make_slapd, name="expmaster")
    # slapadd, as when a zone is restored from a backup (it keeps expired
    # certificates); over LDAP the master would refuse an expired one.
    master.tool("add", "-q", input=zone.zone_ldif() + "\n" + expired + "\n"
                + RS.members_ldif(3))
    master.start()
    secondary = RS.consumer(make_slapd, master, name="expsecondary")
    secondary.start()
    view = RS.wait_same(master, secondary)
    assert RS.member_dn("e@tovaris.com") in view
    assert certificate(secondary, "e@tovaris.com") is None  # expired: no key for clients
    # and the secondary is not stuck: later changes arrive.
    assert ldaptools.add(master.uri, RS.member_ldif("after@tovaris.com"), *ADMIN).rc == 0
    assert RS.member_dn("after@tovaris.com") in RS.wait_same(master, secondary)
