#include <cppunit/extensions/HelperMacros.h>

#include "sign/hmac.h"
#include "sign_test_util.h"

namespace keydir {

using testing::Hex;

class SignHmacTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SignHmacTest);
    CPPUNIT_TEST(testRfc4231);
    CPPUNIT_TEST(testBlockSizeKeys);
    CPPUNIT_TEST(testIncrementalAndReuse);
    CPPUNIT_TEST(testPadsSharedAcrossMacs);
    CPPUNIT_TEST(testNames);
    CPPUNIT_TEST(testConstantTimeEquals);
    CPPUNIT_TEST_SUITE_END();

    static std::string Mac(MacAlgorithm alg, const std::string& key, const std::string& data) {
        Hmac h;
        CPPUNIT_ASSERT(h.Init(alg, key).ok());
        h.Update(data);
        std::string mac;
        CPPUNIT_ASSERT(h.Final(&mac).ok());
        return Hex(mac);
    }

  public:
    void testRfc4231() {
        // RFC 4231 test cases 1, 2 and 6 (a key longer than a block)
        std::string k1(20, '\x0b'), k6(131, '\xaa');
        CPPUNIT_ASSERT_EQUAL(
            std::string("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            Mac(MacAlgorithm::kHmacSha256, k1, "Hi There"));
        CPPUNIT_ASSERT_EQUAL(
            std::string("87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
                        "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"),
            Mac(MacAlgorithm::kHmacSha512, k1, "Hi There"));
        CPPUNIT_ASSERT_EQUAL(
            std::string("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            Mac(MacAlgorithm::kHmacSha256, "Jefe", "what do ya want for nothing?"));
        CPPUNIT_ASSERT_EQUAL(
            std::string("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"),
            Mac(MacAlgorithm::kHmacSha512, "Jefe", "what do ya want for nothing?"));
        std::string d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
        CPPUNIT_ASSERT_EQUAL(
            std::string("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            Mac(MacAlgorithm::kHmacSha256, k6, d6));
        CPPUNIT_ASSERT_EQUAL(
            std::string("80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
                        "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"),
            Mac(MacAlgorithm::kHmacSha512, k6, d6));
    }
    void testBlockSizeKeys() {
        std::string k64, k128;
        for (int i = 0; i < 64; ++i)
            k64 += static_cast<char>(i);
        for (int i = 0; i < 128; ++i)
            k128 += static_cast<char>(i);
        // expected values from Python's hmac module
        CPPUNIT_ASSERT_EQUAL(
            std::string("1dad230598e011a4e4eabc6c8da8f55ef9a66a8881d1e16e23ea116ae28231ec"),
            Mac(MacAlgorithm::kHmacSha256, k64, "block-size key"));
        CPPUNIT_ASSERT_EQUAL(
            std::string("695dc10b6e2b7f95bf21d58d04e30fb4f75b54f4701452b10e13694adcda2240"
                        "f63c91a3915c90203ae5f29596b4fc3f8d9b67455a2eb2719658f2b85aace95c"),
            Mac(MacAlgorithm::kHmacSha512, k128, "block-size key"));
    }
    void testIncrementalAndReuse() {
        std::string whole = Mac(MacAlgorithm::kHmacSha256, "Jefe", "what do ya want for nothing?");
        Hmac h;
        CPPUNIT_ASSERT(h.Init(MacAlgorithm::kHmacSha256, "Jefe").ok());
        h.Update("what do ");
        h.Update("");
        h.Update("ya want for nothing?");
        std::string mac;
        CPPUNIT_ASSERT(h.Final(&mac).ok());
        CPPUNIT_ASSERT_EQUAL(whole, Hex(mac));
        CPPUNIT_ASSERT(!h.Final(&mac).ok());  // Init again first
        Hmac moved(std::move(h));
        CPPUNIT_ASSERT(moved.Init(MacAlgorithm::kHmacSha256, "Jefe").ok());
        moved.Update("what do ya want for nothing?");
        CPPUNIT_ASSERT(moved.Final(&mac).ok());
        CPPUNIT_ASSERT_EQUAL(whole, Hex(mac));
    }
    void testPadsSharedAcrossMacs() {
        std::unique_ptr<HmacPads> pads;
        CPPUNIT_ASSERT(HmacPads::Make(MacAlgorithm::kHmacSha256, "Jefe", &pads).ok());
        for (int i = 0; i < 3; ++i) {
            Hmac h;
            CPPUNIT_ASSERT(h.Init(*pads).ok());
            h.Update("what do ya want for nothing?");
            std::string mac;
            CPPUNIT_ASSERT(h.Final(&mac).ok());
            CPPUNIT_ASSERT_EQUAL(
                std::string("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
                Hex(mac));
        }
    }
    void testNames() {
        MacAlgorithm a;
        CPPUNIT_ASSERT(MacAlgorithmFromName("hmac-sha256", &a) && a == MacAlgorithm::kHmacSha256);
        CPPUNIT_ASSERT(MacAlgorithmFromName("hmac-sha512", &a) && a == MacAlgorithm::kHmacSha512);
        CPPUNIT_ASSERT(!MacAlgorithmFromName("HMAC-SHA256", &a));
        CPPUNIT_ASSERT(!MacAlgorithmFromName("hmac-md5", &a));
        CPPUNIT_ASSERT_EQUAL(size_t(32), MacLength(MacAlgorithm::kHmacSha256));
        CPPUNIT_ASSERT_EQUAL(size_t(64), MacLength(MacAlgorithm::kHmacSha512));
    }
    void testConstantTimeEquals() {
        CPPUNIT_ASSERT(ConstantTimeEquals("abc", "abc"));
        CPPUNIT_ASSERT(!ConstantTimeEquals("abc", "abd"));
        CPPUNIT_ASSERT(!ConstantTimeEquals("abc", "ab"));
        CPPUNIT_ASSERT(ConstantTimeEquals("", ""));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignHmacTest);

}  // namespace keydir
