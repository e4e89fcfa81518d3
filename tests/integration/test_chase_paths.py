"""keychase on the patent's network: the FIG. 2 and FIG. 4 paths, the root
answering ldapsearch -C, the cache, negative answers, and client shapes."""

import subprocess
import time

import pytest

from keydirtest import ldaptools
from keydirtest.network import KeyNetwork


@pytest.fixture(scope="module")
def net(tmp_path_factory):
    n = KeyNetwork(str(tmp_path_factory.mktemp("net"))).build()
    try:
        n.start().load()
        yield n
    finally:
        n.cleanup()


def lookup(net, server, address, base="", attrs=("cn", "keydirSource", "keydirPath"), extra=()):
    return ldaptools.search(net.uri(server), base, f"(mail={address})", list(attrs), extra=extra)


def test_fig2_local_parent_root_pointer_holder(net):
    r = lookup(net, "local", "kconley@tovaris.com")
    assert r.rc == 0, r.err
    assert r.dns() == ["mail=kconley@tovaris.com,dc=tovaris,dc=com"]
    attrs = r.entries[0][1]
    assert attrs["keydirSource"] == ["chase"]
    path = attrs["keydirPath"]
    # example (the parent) does not have it, root1's pointer names tovaris.
    assert path[0].startswith(net.uri("example")) and "not found" in path[0]
    assert path[1].startswith(net.uri("root1")) and "referral" in path[1]
    assert path[2].startswith(net.uri("tovaris")) and "entry" in path[2]


def test_second_lookup_answered_from_cache(net):
    lookup(net, "local", "jdoe@tovaris.com")
    r = lookup(net, "local", "jdoe@tovaris.com")
    assert r.rc == 0, r.err
    assert r.entries[0][1]["keydirSource"] == ["cache"]
    assert "keydirPath" not in r.entries[0][1]


def test_fig4_multi_hop(net):
    r = lookup(net, "tovaris", "ann@sales.example.com", base="dc=tovaris,dc=com")
    assert r.rc == 0, r.err
    assert len(r.entries) == 1
    path = r.entries[0][1]["keydirPath"]
    servers = [p.split()[0] for p in path]
    assert servers == [net.uri(s) for s in ("root1", "keyspace", "example", "local")], path


def test_entry_outside_scope_named_below_the_base(net):
    r = lookup(net, "local", "kconley@tovaris.com", base="dc=sales,dc=example,dc=com")
    assert r.rc == 0, r.err
    assert r.dns() == ["mail=kconley@tovaris.com,dc=sales,dc=example,dc=com"]


def test_certificate_comes_intact(net):
    r = subprocess.run(["ldapsearch", "-LLL", "-x", "-H", net.uri("local"), "-b", "",
                        "(mail=kconley@tovaris.com)", "userCertificate;binary"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got = "".join(l.strip() for l in r.stdout.split("userCertificate;binary::")[1].splitlines()
                  if l and not l.startswith("dn:"))
    direct = subprocess.run(["ldapsearch", "-LLL", "-x", "-H", net.uri("tovaris"), "-b",
                             "dc=tovaris,dc=com", "(mail=kconley@tovaris.com)",
                             "userCertificate;binary"], capture_output=True, text=True)
    want = "".join(l.strip() for l in direct.stdout.split("userCertificate;binary::")[1].splitlines()
                   if l and not l.startswith("dn:"))
    assert got == want and len(got) > 100


def test_root_answers_ldapsearch_C(net):
    for address in ("kconley@tovaris.com", "bob@example.com"):
        r = ldaptools.search(net.uri("root1"), "", f"(mail={address})", ["mail"], extra=("-C",))
        assert r.rc == 0, r.err
        assert [dn for dn in r.dns() if not dn.startswith("ref:")] == \
            [f"mail={address},dc={address.split('@')[1].replace('.', ',dc=')}"]


def test_unknown_address_is_cached_negatively(net):
    r = lookup(net, "local", "nobody@tovaris.com")
    assert r.rc == 0, r.err
    assert r.entries == []
    before = time.time()
    r = lookup(net, "local", "nobody@tovaris.com")
    assert r.rc == 0 and r.entries == []
    mon = ldaptools.search(net.uri("local"), "cn=Databases,cn=Monitor",
                           "(olmKeychaseNegativeHits=*)", ["olmKeychaseNegativeHits"])
    hits = sum(int(v) for _, a in mon.entries for v in a.get("olmKeychaseNegativeHits", []))
    assert hits >= 1
    assert time.time() - before < 1


def test_thunderbird_filter_local_remote_unknown(net):
    filt = ("(&(|(objectClass=keydirMember)(objectClass=inetOrgPerson))"
            "(|(mail=ann@sales.example.com)(mail=kconley@tovaris.com)(mail=ghost@nowhere.org)))")
    r = ldaptools.search(net.uri("local"), "dc=sales,dc=example,dc=com", filt,
                         ["userCertificate;binary", "mail"])
    assert r.rc == 0, r.err
    mails = sorted(a["mail"][0] for _, a in r.entries)
    assert mails == ["ann@sales.example.com", "kconley@tovaris.com"]


def test_member_dn_base_search(net):
    dn = "mail=bob@example.com,dc=example,dc=com"
    r = ldaptools.search(net.uri("local"), dn, "(objectClass=*)", ["mail"], scope="base")
    assert r.rc == 0, r.err
    assert r.dns() == [dn]


def test_monitor_counts_chases_and_hops(net):
    lookup(net, "local", "bob@example.com")
    r = ldaptools.search(net.uri("local"), "cn=Databases,cn=Monitor", "(olmKeychaseChases=*)",
                         ["olmKeychaseChases", "olmKeychaseHops", "olmKeychaseLookups",
                          "olmKeychaseCacheHits", "olmKeychaseLocalHits"])
    assert r.rc == 0, r.err
    total = {}
    for _, attrs in r.entries:
        for k, v in attrs.items():
            total[k] = total.get(k, 0) + int(v[0])
    assert total["olmKeychaseChases"] >= 3
    assert total["olmKeychaseHops"] >= total["olmKeychaseChases"]
    assert total["olmKeychaseLookups"] > total["olmKeychaseChases"]


def test_pointer_to_unlisted_server_is_never_contacted(net):
    # The network's resolvers may follow referrals to its own servers only
    # (keychase-referral-allow): a zone that points at another port of
    # 127.0.0.1 (an internal service) gets no connection at all.
    from keydirtest.fakeldap import Counter
    counter = Counter()
    try:
        dn = "dc=internal,dc=com"
        ldif = (f"dn: {dn}\nobjectClass: referral\nobjectClass: extensibleObject\n"
                f"dc: internal\nref: {counter.uri}/{dn}\n")
        for root in ("root1", "root2"):
            r = ldaptools.add(net.uri(root), ldif, "cn=admin", extra=("-M",))
            assert r.rc == 0, r.err
        r = ldaptools.search(net.uri("local"), "", "(mail=probe@internal.com)", ["mail"])
        time.sleep(0.2)
    finally:
        counter.close()
    assert counter.connections == 0, counter.connections
    assert r.rc == 52, (r.rc, r.err)  # unavailable, not "not found"
    assert "keychase-referral-allow" in r.err, r.err
    assert f"127.0.0.1:{counter.port}" in r.err, r.err
