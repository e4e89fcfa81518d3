#include <cppunit/extensions/HelperMacros.h>

#include "gateway/address.h"

namespace keydir {
namespace gateway {

class GatewayAddressTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(GatewayAddressTest);
    CPPUNIT_TEST(testSmtpPath);
    CPPUNIT_TEST(testBadSmtpPaths);
    CPPUNIT_TEST(testMailboxSyntax);
    CPPUNIT_TEST(testHeaderAddresses);
    CPPUNIT_TEST(testControlBytesNeverReachTheReason);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testSmtpPath() {
        std::string a;
        std::vector<std::string> p;
        CPPUNIT_ASSERT(
            ParseSmtpPath("<Alice@Corp.TEST> SIZE=123 BODY=8BITMIME", false, &a, &p).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("Alice@corp.test"), a);
        CPPUNIT_ASSERT_EQUAL(size_t(2), p.size());
        CPPUNIT_ASSERT_EQUAL(std::string("BODY=8BITMIME"), p[1]);
        CPPUNIT_ASSERT(ParseSmtpPath("<>", true, &a, &p).ok());
        CPPUNIT_ASSERT(a.empty());
        CPPUNIT_ASSERT(ParseSmtpPath(" <@relay.test:bob@example.org>", false, &a, &p).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("bob@example.org"), a);
        CPPUNIT_ASSERT(ParseSmtpPath("<\"john doe\"@example.org>", false, &a, &p).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("\"john doe\"@example.org"), a);
    }
    void testBadSmtpPaths() {
        std::string a;
        std::vector<std::string> p;
        CPPUNIT_ASSERT(ParseSmtpPath("<>", false, &a, &p).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseSmtpPath("bob@example.org", false, &a, &p).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseSmtpPath("<bob@example.org", false, &a, &p).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseSmtpPath("<bob>", false, &a, &p).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseSmtpPath("<bob@exa mple.org>", false, &a, &p).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseSmtpPath("<bob..x@example.org>", false, &a, &p).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseSmtpPath("<bob@-example.org>", false, &a, &p).IsInvalidArgument());
        CPPUNIT_ASSERT(ParseSmtpPath("<bob@example.org>x", false, &a, &p).IsInvalidArgument());
        Status s = ParseSmtpPath("<a@b@c>", false, &a, &p);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT(s.message().find("not a valid mailbox") != std::string::npos);
    }
    void testMailboxSyntax() {
        CPPUNIT_ASSERT(IsValidMailbox("a.b+c@sub.example.org"));
        CPPUNIT_ASSERT(IsValidMailbox("x@[127.0.0.1]"));
        CPPUNIT_ASSERT(!IsValidMailbox(std::string(65, 'a') + "@example.org"));
        CPPUNIT_ASSERT(!IsValidMailbox("@example.org"));
        CPPUNIT_ASSERT(!IsValidMailbox("a@"));
        CPPUNIT_ASSERT(!IsValidMailbox("a@exa_mple.org"));
        CPPUNIT_ASSERT_EQUAL(std::string("example.org"), DomainOf("X@Example.ORG"));
    }
    void testHeaderAddresses() {
        auto v = ExtractAddresses(
            "\"Doe, John\" <John@Example.ORG>, bob@corp.test (Bob, the builder),"
            " team: carol@corp.test, <dave@corp.test>;, Eve <eve@x.test>");
        CPPUNIT_ASSERT_EQUAL(size_t(5), v.size());
        CPPUNIT_ASSERT_EQUAL(std::string("John@example.org"), v[0]);
        CPPUNIT_ASSERT_EQUAL(std::string("bob@corp.test"), v[1]);
        CPPUNIT_ASSERT_EQUAL(std::string("carol@corp.test"), v[2]);
        CPPUNIT_ASSERT_EQUAL(std::string("dave@corp.test"), v[3]);
        CPPUNIT_ASSERT_EQUAL(std::string("eve@x.test"), v[4]);
        CPPUNIT_ASSERT(ExtractAddresses("undisclosed-recipients:;").empty());
        CPPUNIT_ASSERT(SameAddress("A@B.c", "a@b.C"));
    }
    // Found by tests/fuzz/smtp-fuzzer: the reason of a refused path is sent
    // back in the 501 reply, and a quoted pair could hold a control byte.
    void testControlBytesNeverReachTheReason() {
        std::string a;
        std::vector<std::string> p;
        std::string path = "<al";
        path += std::string(2, '\0');
        path += "ice@local.example\r>";
        Status s = ParseSmtpPath(path, false, &a, &p);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT_EQUAL(
            std::string("\"al\\x00\\x00ice@local.example\\x0d\" is not a valid mailbox"),
            s.message());
        for (char c : s.message())
            CPPUNIT_ASSERT(static_cast<unsigned char>(c) >= 0x20 && c != 0x7f);
        // quoted-pairSMTP is a backslash and a printable character.
        CPPUNIT_ASSERT(IsValidMailbox("\"a\\\"b\"@example.org"));
        CPPUNIT_ASSERT(!IsValidMailbox("\"a\\\rb\"@example.org"));
        std::string nul = "\"a\\";
        nul += '\0';
        nul += "b\"@example.org";
        CPPUNIT_ASSERT(!IsValidMailbox(nul));
        CPPUNIT_ASSERT(!IsValidMailbox("\"a\\\x7f\"@example.org"));
        CPPUNIT_ASSERT(
            ParseSmtpPath("<\"a\\\rb\"@example.org>", false, &a, &p).IsInvalidArgument());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(GatewayAddressTest);

}  // namespace gateway
}  // namespace keydir
