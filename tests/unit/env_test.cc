// The real Env's nonces: unique, served across buffer refills, any length.
#include <cppunit/extensions/HelperMacros.h>

#include <set>
#include <string>

#include "base/env.h"

namespace keydir {

class EnvTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EnvTest);
    CPPUNIT_TEST(testNoncesAreUniqueAcrossRefills);
    CPPUNIT_TEST(testNonceLongerThanTheBuffer);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testNoncesAreUniqueAcrossRefills() {
        std::set<std::string> seen;
        // 16-byte nonces: a 4 KB buffer holds 256, so 1,000 refill it
        // three times; an odd length leaves a tail that must not be reused.
        for (int i = 0; i < 1000; ++i) {
            std::string n(i % 7 == 0 ? 15 : 16, '\0');
            CPPUNIT_ASSERT(Env::Default()->NonceBytes(&n[0], n.size()).ok());
            CPPUNIT_ASSERT(seen.insert(n).second);
        }
        CPPUNIT_ASSERT(Env::Default()->NonceBytes(nullptr, 0).ok());
    }

    void testNonceLongerThanTheBuffer() {
        std::string a(10000, '\0'), b(10000, '\0');
        CPPUNIT_ASSERT(Env::Default()->NonceBytes(&a[0], a.size()).ok());
        CPPUNIT_ASSERT(Env::Default()->NonceBytes(&b[0], b.size()).ok());
        CPPUNIT_ASSERT(a != b);
        CPPUNIT_ASSERT(a.find(std::string(64, '\0')) == std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EnvTest);

}  // namespace keydir
