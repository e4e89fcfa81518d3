#include <cppunit/extensions/HelperMacros.h>

#include <map>

#include "base/ascii.h"
#include "gateway/key_source.h"
#include "tests/unit/gateway_test_pki.h"

namespace keydir {
namespace gateway {

namespace {

// A directory that matches `mail` as slapd does (caseIgnoreIA5Match) and
// counts the searches it gets.
class FakeDirectory : public Directory {
  public:
    std::map<std::string, MemberRecord> records;  // by lower-case address
    Status failure = Status::OK();                // returned for every lookup when set
    std::vector<std::string> asked;

    Status Lookup(const std::string& address, bool, MemberRecord* out) override {
        asked.push_back(address);
        if (!failure.ok())
            return failure;
        auto it = records.find(Lower(address));
        if (it == records.end())
            return Status::NotFound("no entry");
        *out = it->second;
        return Status::OK();
    }
};

}  // namespace

class GatewayKeySourceTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(GatewayKeySourceTest);
    CPPUNIT_TEST(testUpperCaseRecipientMatchesCertificate);
    CPPUNIT_TEST(testCacheKeyedByNormalisedAddress);
    CPPUNIT_TEST(testKeyServerFailureIsNotNotFound);
    CPPUNIT_TEST(testLdapResultMapping);
    CPPUNIT_TEST(testReferralAnswerAgainstAKeyIsNotNoKey);
    CPPUNIT_TEST_SUITE_END();

  public:
    void setUp() override {
        LoadCryptoProviders();
        static const std::string der = [] {
            testpki::Pki pki;
            return testpki::Der(pki.Member("kc4@tovaris.com", true).cert.get());
        }();
        MemberRecord r;
        r.dn = "mail=kc4@tovaris.com,dc=tovaris,dc=com";
        r.status = "active";
        r.certificates = {der};
        dir_.records["kc4@tovaris.com"] = r;
    }

    // Security review #4: KC4@ is kc4@; its certificate is found and usable.
    void testUpperCaseRecipientMatchesCertificate() {
        DirectoryKeySource keys(&dir_, KeySourceOptions());
        std::vector<CertPtr> certs;
        Status s = keys.RecipientCertificates("KC4@Tovaris.COM", &certs);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        CPPUNIT_ASSERT_EQUAL(size_t(1), certs.size());
    }

    // One member, one cache entry and one decision: the spelling that came
    // first does not decide for the others.
    void testCacheKeyedByNormalisedAddress() {
        DirectoryKeySource keys(&dir_, KeySourceOptions());
        for (const char* a : {"KC4@tovaris.com", "kc4@tovaris.com", "Kc4@TOVARIS.com"}) {
            std::vector<CertPtr> certs;
            Status s = keys.RecipientCertificates(a, &certs);
            CPPUNIT_ASSERT_MESSAGE(std::string(a) + ": " + s.ToString(), s.ok());
            CPPUNIT_ASSERT_EQUAL(size_t(1), certs.size());
        }
        CPPUNIT_ASSERT_EQUAL(size_t(1), dir_.asked.size());
        CPPUNIT_ASSERT_EQUAL(std::string("kc4@tovaris.com"), dir_.asked[0]);
    }

    // A key server that cannot answer (an LDAP error, a referral it could
    // not follow) is never "no key", and is not cached.
    void testKeyServerFailureIsNotNotFound() {
        dir_.failure = Status::Unavailable("searching: Server is unwilling to perform (53)");
        DirectoryKeySource keys(&dir_, KeySourceOptions());
        std::vector<CertPtr> certs;
        for (int i = 0; i < 2; ++i) {
            Status s = keys.RecipientCertificates("kc4@tovaris.com", &certs);
            CPPUNIT_ASSERT(!s.ok());
            CPPUNIT_ASSERT(!s.IsNotFound());
        }
        CPPUNIT_ASSERT_EQUAL(size_t(2), dir_.asked.size());
    }

    // Security review #5 and #7: of the key server's result codes only
    // noSuchObject means "not in the directory"; a referral nobody followed
    // and unwillingToPerform (keychase-require-signed refusing an unsigned
    // client) are lookup failures (the gateway defers by default).
    void testLdapResultMapping() {
        CPPUNIT_ASSERT(KeyServerResult(0, "x").ok());           // success
        CPPUNIT_ASSERT(KeyServerResult(4, "x").ok());           // sizeLimitExceeded
        CPPUNIT_ASSERT(KeyServerResult(32, "x").IsNotFound());  // noSuchObject
        for (int rc : {10, 53, 51, 52, 80, 1, 2, 50, 3, 11, 48, 49, 64, 71, -1, -5, -7}) {
            Status s = KeyServerResult(rc, "searching");
            CPPUNIT_ASSERT_MESSAGE(std::to_string(rc), !s.ok() && !s.IsNotFound());
        }
        Status s = KeyServerResult(53, "searching");
        CPPUNIT_ASSERT(s.code() == Status::Code::kUnavailable);
        CPPUNIT_ASSERT(s.message().find("53") != std::string::npos);
    }

  private:
    FakeDirectory dir_;

    // What a server a referral named says against a key (revoked, no
    // certificate, a certificate that fails the checks) is unchecked: a
    // lookup failure, never "no key" (second read of the review); the same
    // from the key server itself is "no key".
    void testReferralAnswerAgainstAKeyIsNotNoKey() {
        MemberRecord garbage;
        garbage.dn = "mail=x@tovaris.com,dc=tovaris,dc=com";
        garbage.certificates = {"not a certificate"};
        MemberRecord revoked = dir_.records["kc4@tovaris.com"];
        revoked.status = "revoked";
        MemberRecord none;
        none.dn = garbage.dn;
        for (const MemberRecord& base : {garbage, revoked, none}) {
            for (bool via_referral : {false, true}) {
                FakeDirectory dir;
                MemberRecord r = base;
                r.via_referral = via_referral;
                dir.records["kc4@tovaris.com"] = r;
                DirectoryKeySource keys(&dir, KeySourceOptions());
                std::vector<CertPtr> certs;
                Status s = keys.RecipientCertificates("kc4@tovaris.com", &certs);
                CPPUNIT_ASSERT_MESSAGE(s.ToString(), !s.ok());
                CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.IsNotFound() == !via_referral);
            }
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(GatewayKeySourceTest);

}  // namespace gateway
}  // namespace keydir
