// tools/common/openpgp_listing: gpg's colon listing of one public key, and
// the pgpKeyInfo entry written from it.
#include <cppunit/extensions/HelperMacros.h>

#include "common/openpgp_listing.h"

namespace keydir {

namespace {

const char kFpr[] = "81066E2D5B090FBA045DB5555780686B5B47A7C1";
const char kSubFpr[] = "0123456789ABCDEF0123456789ABCDEF01234567";

std::string Listing() {
    return std::string("tru::1:1700000000:0:3:1:5\n") +
           "pub:u:255:22:5780686B5B47A7C1:1700000000:::u:::scSC:::::ed25519:::0:\n" +
           "fpr:::::::::" + kFpr + ":\n" +
           "uid:u::::1700000000::AAAA::Ann Member <Ann@Sales.Example.com>::::::::::0:\n" +
           "uid:r::::1700000000::BBBB::Old <old@sales.example.com>::::::::::0:\n" +
           "uid:u::::1700000000::CCCC::Colon\\x3a Name::::::::::0:\n" +
           "sub:u:255:18:89ABCDEF01234567:1700000000::::::e:::::cv25519::\n" +
           "fpr:::::::::" + kSubFpr + ":\n";
}

}  // namespace

class OpenPgpListingTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(OpenPgpListingTest);
    CPPUNIT_TEST(testParsesOneKey);
    CPPUNIT_TEST(testRefusesSecretNoneSeveralAndMalformed);
    CPPUNIT_TEST(testMailboxOfUserId);
    CPPUNIT_TEST(testKeyInfoEntry);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testParsesOneKey() {
        OpenPgpKey k;
        CPPUNIT_ASSERT(ParseGpgListing(Listing(), &k).ok());
        CPPUNIT_ASSERT_EQUAL(std::string(kFpr), k.fingerprint);
        CPPUNIT_ASSERT_EQUAL(std::string("5780686B5B47A7C1"), k.key_id);
        CPPUNIT_ASSERT_EQUAL(22, k.algorithm);
        CPPUNIT_ASSERT_EQUAL(255u, k.bits);
        CPPUNIT_ASSERT_EQUAL(int64_t{1700000000}, k.created);
        CPPUNIT_ASSERT(!k.revoked);
        // the revoked user ID is left out; \x3a is unescaped
        CPPUNIT_ASSERT_EQUAL(size_t{2}, k.user_ids.size());
        CPPUNIT_ASSERT_EQUAL(std::string("Colon: Name"), k.user_ids[1]);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, k.mailboxes.size());
        CPPUNIT_ASSERT_EQUAL(std::string("ann@sales.example.com"), k.mailboxes[0]);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, k.sub_fingerprints.size());
        CPPUNIT_ASSERT_EQUAL(std::string(kSubFpr), k.sub_fingerprints[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("89ABCDEF01234567"), k.sub_key_ids[0]);
    }

    void testRefusesSecretNoneSeveralAndMalformed() {
        OpenPgpKey k;
        std::string secret = Listing();
        secret.replace(0, secret.find("pub"), "");
        secret.replace(0, 3, "sec");
        CPPUNIT_ASSERT(!ParseGpgListing(secret, &k).ok());
        CPPUNIT_ASSERT(!ParseGpgListing("tru::1:1700000000:0:3:1:5\n", &k).ok());
        CPPUNIT_ASSERT(!ParseGpgListing(Listing() + Listing(), &k).ok());
        std::string bad_id = Listing();
        bad_id.replace(bad_id.find("5780686B5B47A7C1"), 16, "NOTHEX!!NOTHEX!!");
        CPPUNIT_ASSERT(!ParseGpgListing(bad_id, &k).ok());
        std::string bad_fpr = Listing();
        bad_fpr.replace(bad_fpr.find(kFpr), 40, "81066e2d");
        CPPUNIT_ASSERT(!ParseGpgListing(bad_fpr, &k).ok());
        std::string other = Listing();  // key ID not the fingerprint's
        other.replace(other.find("5780686B5B47A7C1"), 16, "0000000000000000");
        CPPUNIT_ASSERT(!ParseGpgListing(other, &k).ok());
    }

    void testMailboxOfUserId() {
        CPPUNIT_ASSERT_EQUAL(std::string("a@x.org"), MailboxOfUserId("A <A@X.org>"));
        CPPUNIT_ASSERT_EQUAL(std::string("a@x.org"), MailboxOfUserId("a@x.org"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), MailboxOfUserId("Just A Name"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), MailboxOfUserId("A <not an address>"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), MailboxOfUserId("A <a@b@c>"));
        CPPUNIT_ASSERT_EQUAL(std::string(""), MailboxOfUserId("A <@x.org>"));
    }

    void testKeyInfoEntry() {
        OpenPgpKey k;
        CPPUNIT_ASSERT(ParseGpgListing(Listing(), &k).ok());
        k.armored = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n...\n";
        CPPUNIT_ASSERT_EQUAL(std::string("pgpCertID=5780686B5B47A7C1,ou=GnuPG Keys,dc=x"),
                             PgpKeyInfoDn(k, "ou=GnuPG Keys,dc=x"));
        LdapAttrs a = PgpKeyInfoAttrs(k);
        CPPUNIT_ASSERT(a["objectClass"] == std::vector<std::string>{"pgpKeyInfo"});
        CPPUNIT_ASSERT(a["gpgFingerprint"] == std::vector<std::string>{kFpr});
        CPPUNIT_ASSERT(a["gpgSubFingerprint"] == std::vector<std::string>{kSubFpr});
        CPPUNIT_ASSERT(a["gpgMailbox"] == std::vector<std::string>{"ann@sales.example.com"});
        CPPUNIT_ASSERT(a["pgpKeyID"] == std::vector<std::string>{"5B47A7C1"});
        CPPUNIT_ASSERT(a["pgpRevoked"] == std::vector<std::string>{"0"});
        CPPUNIT_ASSERT(a["pgpKeyCreateTime"] == std::vector<std::string>{"20231114221320Z"});
        CPPUNIT_ASSERT(a["pgpKey"] == std::vector<std::string>{k.armored});
        CPPUNIT_ASSERT(a.count("pgpKeyExpireTime") == 0);
        CPPUNIT_ASSERT(a.count("pgpKeyType") == 0);  // only RSA and DSS/DH are named
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(OpenPgpListingTest);

}  // namespace keydir
