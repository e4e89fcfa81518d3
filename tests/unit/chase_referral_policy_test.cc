#include <cppunit/extensions/HelperMacros.h>

#include "chase/referral_policy.h"

namespace keydir {
namespace {

ReferralPolicy Policy(std::vector<std::string> patterns) {
    ReferralPolicy p;
    Status s = ReferralPolicy::Parse(patterns, &p);
    CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
    return p;
}

// Resolves every name to the addresses given.
HostResolver ResolvesTo(std::vector<std::string> addresses) {
    return [addresses](const std::string&, std::vector<std::string>* out) {
        *out = addresses;
        return Status::OK();
    };
}

bool Allowed(const ReferralPolicy& p, const std::string& host, int port,
             const HostResolver& resolve = nullptr) {
    return p.Check(host, port, resolve).ok();
}

}  // namespace

class ReferralPolicyTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ReferralPolicyTest);
    CPPUNIT_TEST(testDefaultIsPublicAddresses);
    CPPUNIT_TEST(testAny);
    CPPUNIT_TEST(testNetworksAndPorts);
    CPPUNIT_TEST(testNames);
    CPPUNIT_TEST(testNamesResolvedForAddressPatterns);
    CPPUNIT_TEST(testBadPatterns);
    CPPUNIT_TEST(testPublicAddresses);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testDefaultIsPublicAddresses() {
        ReferralPolicy p;
        CPPUNIT_ASSERT(Allowed(p, "192.0.43.10", 389));
        CPPUNIT_ASSERT(!Allowed(p, "127.0.0.1", 389));
        CPPUNIT_ASSERT(!Allowed(p, "10.0.0.5", 389));
        CPPUNIT_ASSERT(!Allowed(p, "169.254.169.254", 80));
        CPPUNIT_ASSERT(!Allowed(p, "::1", 389));
        CPPUNIT_ASSERT(!Allowed(p, "fd00::1", 389));
        CPPUNIT_ASSERT(!Allowed(p, "::ffff:127.0.0.1", 389));
        Status s = p.Check("127.0.0.1", 389, nullptr);
        CPPUNIT_ASSERT(s.code() == Status::Code::kPermissionDenied);
        CPPUNIT_ASSERT_MESSAGE(s.message(), s.message().find("127.0.0.1:389") != std::string::npos);
        // An empty list is the default too.
        CPPUNIT_ASSERT(!Allowed(Policy({}), "127.0.0.1", 389));
    }
    void testAny() {
        ReferralPolicy p = Policy({"any"});
        CPPUNIT_ASSERT(Allowed(p, "127.0.0.1", 1));
        CPPUNIT_ASSERT(Allowed(p, "whatever.internal", 389));
        CPPUNIT_ASSERT(!Allowed(Policy({"any:636"}), "127.0.0.1", 389));
    }
    void testNetworksAndPorts() {
        ReferralPolicy p = Policy({"127.0.0.1:10389", "10.0.0.0/8", "[fd00::/8]:636"});
        CPPUNIT_ASSERT(Allowed(p, "127.0.0.1", 10389));
        CPPUNIT_ASSERT(!Allowed(p, "127.0.0.1", 10390));
        CPPUNIT_ASSERT(!Allowed(p, "127.0.0.2", 10389));
        CPPUNIT_ASSERT(Allowed(p, "10.255.0.1", 22));
        CPPUNIT_ASSERT(!Allowed(p, "11.0.0.1", 389));
        CPPUNIT_ASSERT(Allowed(p, "fd12::1", 636));
        CPPUNIT_ASSERT(!Allowed(p, "fd12::1", 389));
        // Listing replaces the default: public addresses only with "public".
        CPPUNIT_ASSERT(!Allowed(p, "192.0.43.10", 389));
        CPPUNIT_ASSERT(Allowed(Policy({"public", "10.0.0.0/8"}), "192.0.43.10", 389));
        CPPUNIT_ASSERT(Allowed(Policy({"[::1]:389"}), "::1", 389));
    }
    void testNames() {
        ReferralPolicy p = Policy({"keys.example.net", "*.corp.example:636"});
        CPPUNIT_ASSERT(Allowed(p, "keys.example.net", 389));
        CPPUNIT_ASSERT(Allowed(p, "KEYS.example.net", 389));
        CPPUNIT_ASSERT(!Allowed(p, "other.example.net", 389));
        CPPUNIT_ASSERT(Allowed(p, "a.b.corp.example", 636));
        CPPUNIT_ASSERT(!Allowed(p, "a.corp.example", 389));
        CPPUNIT_ASSERT(!Allowed(p, "corp.example", 636));
        CPPUNIT_ASSERT(!Allowed(p, "xcorp.example", 636));
        // A name pattern says nothing about addresses.
        CPPUNIT_ASSERT(!Allowed(p, "127.0.0.1", 389));
    }
    void testNamesResolvedForAddressPatterns() {
        ReferralPolicy p;  // public
        CPPUNIT_ASSERT(Allowed(p, "keys.example.org", 389, ResolvesTo({"192.0.43.10"})));
        CPPUNIT_ASSERT(!Allowed(p, "keys.example.org", 389, ResolvesTo({"127.0.0.1"})));
        // Every address must be allowed.
        CPPUNIT_ASSERT(
            !Allowed(p, "keys.example.org", 389, ResolvesTo({"192.0.43.10", "10.0.0.1"})));
        // No resolver: a name no pattern lists is refused.
        CPPUNIT_ASSERT(!Allowed(p, "keys.example.org", 389));
        HostResolver fails = [](const std::string&, std::vector<std::string>*) {
            return Status::Unavailable("no such name");
        };
        CPPUNIT_ASSERT(!Allowed(p, "keys.example.org", 389, fails));
        // A port on an address pattern applies to the name's addresses too.
        ReferralPolicy net = Policy({"10.0.0.0/8:389"});
        CPPUNIT_ASSERT(Allowed(net, "ldap.internal", 389, ResolvesTo({"10.1.1.1"})));
        CPPUNIT_ASSERT(!Allowed(net, "ldap.internal", 636, ResolvesTo({"10.1.1.1"})));
    }
    void testBadPatterns() {
        ReferralPolicy p;
        for (const char* bad : {"", "10.0.0.0/33", "[::1", "host:0", "host:99999", "a..b", "*.",
                                "bad name", "10.0.0.1/8/8", "[::1]x", "host/8"}) {
            Status s = ReferralPolicy::Parse({bad}, &p);
            CPPUNIT_ASSERT_MESSAGE(bad, s.code() == Status::Code::kInvalidArgument);
        }
        CPPUNIT_ASSERT_EQUAL(std::string("public"), p.patterns()[0]);
    }
    void testPublicAddresses() {
        std::array<uint8_t, 16> a;
        for (const char* priv :
             {"0.1.2.3", "10.1.1.1", "100.64.0.1", "127.0.0.1", "169.254.1.1", "172.16.0.1",
              "172.31.255.255", "192.168.1.1", "224.0.0.1", "255.255.255.255", "::", "::1",
              "fe80::1", "fc00::1", "ff02::1", "::127.0.0.1"}) {
            CPPUNIT_ASSERT_MESSAGE(priv, ParseIpAddress(priv, &a));
            CPPUNIT_ASSERT_MESSAGE(priv, !IsPublicAddress(a));
        }
        for (const char* pub : {"8.8.8.8", "172.32.0.1", "192.0.43.10", "2a00:1450::1"}) {
            CPPUNIT_ASSERT_MESSAGE(pub, ParseIpAddress(pub, &a));
            CPPUNIT_ASSERT_MESSAGE(pub, IsPublicAddress(a));
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ReferralPolicyTest);

}  // namespace keydir
