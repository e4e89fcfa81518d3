#include <cppunit/extensions/HelperMacros.h>

#include "base/status.h"

namespace keydir {

class StatusTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(StatusTest);
    CPPUNIT_TEST(testOkByDefault);
    CPPUNIT_TEST(testCodesAndMessages);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testOkByDefault() {
        Status s;
        CPPUNIT_ASSERT(s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("OK"), s.ToString());
    }
    void testCodesAndMessages() {
        Status s = Status::NotFound("no entry");
        CPPUNIT_ASSERT(!s.ok());
        CPPUNIT_ASSERT(s.IsNotFound());
        CPPUNIT_ASSERT_EQUAL(std::string("NotFound: no entry"), s.ToString());
        CPPUNIT_ASSERT(Status::Busy("deadlock").IsBusy());
        CPPUNIT_ASSERT_EQUAL(std::string("Exists"), Status::Exists().ToString());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(StatusTest);

}  // namespace keydir
