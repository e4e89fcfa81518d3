#include <cppunit/extensions/HelperMacros.h>

#include "chase/filter_shape.h"

namespace keydir {

class ChaseFilterShapeTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(ChaseFilterShapeTest);
    CPPUNIT_TEST(testSubstringMatches);
    CPPUNIT_TEST(testClientShapesAreLookups);
    CPPUNIT_TEST(testJoinedInitialAndFinal);
    CPPUNIT_TEST(testNotLookups);
    CPPUNIT_TEST_SUITE_END();

    // "ab*cd*ef" -> initial ab, any cd, final ef (as RFC 4515 writes it).
    static SubstringAssertion S(const std::string& text) {
        SubstringAssertion s;
        std::vector<std::string> parts;
        size_t start = 0;
        for (;;) {
            size_t star = text.find('*', start);
            parts.push_back(text.substr(start, star == std::string::npos ? star : star - start));
            if (star == std::string::npos)
                break;
            start = star + 1;
        }
        CPPUNIT_ASSERT(parts.size() >= 2);
        if (!parts.front().empty())
            s.initial = parts.front();
        if (!parts.back().empty())
            s.final_piece = parts.back();
        for (size_t i = 1; i + 1 < parts.size(); ++i)
            if (!parts[i].empty())
                s.any.push_back(parts[i]);
        return s;
    }
    static std::string Lookup(const std::string& text) {
        MailAddress a;
        return AddressOfSubstring(S(text), &a) ? a.normalized() : "";
    }

  public:
    void testSubstringMatches() {
        CPPUNIT_ASSERT(SubstringMatches(S("*carol@tovaris.com*"), "carol@tovaris.com"));
        CPPUNIT_ASSERT(SubstringMatches(S("*carol@tovaris.com*"), "xcarol@tovaris.com"));
        CPPUNIT_ASSERT(SubstringMatches(S("CAROL@*"), "carol@tovaris.com"));
        CPPUNIT_ASSERT(SubstringMatches(S("a*b*c"), "abc"));
        CPPUNIT_ASSERT(!SubstringMatches(S("ab*bc"), "abc"));  // pieces may not overlap
        CPPUNIT_ASSERT(!SubstringMatches(S("a*c*b"), "abc"));  // in order
        CPPUNIT_ASSERT(!SubstringMatches(S("*carol@tovaris.com*"), "carol@tovaris.co"));
    }
    void testClientShapesAreLookups() {
        // dirmngr (dirmngr/ldap.c make_one_filter) for a bare address.
        CPPUNIT_ASSERT_EQUAL(std::string("carol@tovaris.com"), Lookup("*carol@tovaris.com*"));
        // Thunderbird autocomplete (nsAbLDAPAutoCompleteSearch.js) once the
        // whole address is typed.
        CPPUNIT_ASSERT_EQUAL(std::string("carol@tovaris.com"), Lookup("carol@tovaris.com*"));
        CPPUNIT_ASSERT_EQUAL(std::string("carol@tovaris.com"), Lookup("*Carol@Tovaris.COM"));
    }
    void testJoinedInitialAndFinal() {
        CPPUNIT_ASSERT_EQUAL(std::string("carol@tovaris.com"), Lookup("carol@*tovaris.com"));
        // ol@tovaris.com is an address too: ambiguous, so no lookup.
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("car*ol@tovaris.com"));
    }
    void testNotLookups() {
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("*"));
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("*@tovaris.com"));
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("*carol*"));
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("carol*"));
        // Two addresses.
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("a@x.org*b@y.org"));
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("*a@x.org*b@y.org*"));
        // The address does not satisfy the rest of the assertion.
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("x*carol@tovaris.com*"));
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("*carol@tovaris.com*z"));
        // The address once cannot satisfy two copies of it.
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("*carol@tovaris.com*carol@tovaris.com*"));
        // An invalid address is no address.
        CPPUNIT_ASSERT_EQUAL(std::string(), Lookup("*carol@tovaris*"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(ChaseFilterShapeTest);

}  // namespace keydir
