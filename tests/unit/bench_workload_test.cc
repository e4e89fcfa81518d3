#include <cppunit/extensions/HelperMacros.h>

#include <set>

#include "tests/unit/temp_dir.h"
#include "tools/bench/address_set.h"
#include "tools/bench/ldap_text.h"
#include "tools/bench/workload.h"

namespace keydir {
namespace bench {

class BenchWorkloadTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(BenchWorkloadTest);
    CPPUNIT_TEST(testMixParse);
    CPPUNIT_TEST(testMixBad);
    CPPUNIT_TEST(testMixRatios);
    CPPUNIT_TEST(testPatternFormat);
    CPPUNIT_TEST(testPatternBad);
    CPPUNIT_TEST(testAddressFile);
    CPPUNIT_TEST(testAddressFileBad);
    CPPUNIT_TEST(testWorkloadDrawsFromTheRightSets);
    CPPUNIT_TEST(testAddsNeverRepeatAcrossStreams);
    CPPUNIT_TEST(testEscaping);
    CPPUNIT_TEST(testLdifLine);
    CPPUNIT_TEST_SUITE_END();

    static AddressUniverse Universe(uint64_t n) {
        AddressUniverse u;
        AddressPattern p, a, add;
        CPPUNIT_ASSERT(AddressPattern::Parse("user%d@example.com", &p).ok());
        CPPUNIT_ASSERT(AddressPattern::Parse("nobody%d@example.com", &a).ok());
        CPPUNIT_ASSERT(AddressPattern::Parse("new%d@example.com", &add).ok());
        std::unique_ptr<AddressSet> present, absent;
        CPPUNIT_ASSERT(AddressSet::FromPattern(p, 0, n, &present).ok());
        CPPUNIT_ASSERT(AddressSet::FromPattern(a, 0, n, &absent).ok());
        u.present = std::move(present);
        u.absent = std::move(absent);
        u.add_pattern = add;
        return u;
    }

  public:
    void testMixParse() {
        OperationMix m;
        CPPUNIT_ASSERT(OperationMix::Parse("lookup", &m).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("lookup=1"), m.ToString());
        CPPUNIT_ASSERT(!m.uses(OpType::kAdd));
        CPPUNIT_ASSERT(OperationMix::Parse("modify=10,lookup=80,absent=5,add=5", &m).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("lookup=80,absent=5,add=5,modify=10"), m.ToString());
        CPPUNIT_ASSERT_EQUAL(10u, m.weight(OpType::kModify));
        CPPUNIT_ASSERT(OperationMix::Parse("lookup=3,add=0", &m).ok());
        CPPUNIT_ASSERT(!m.uses(OpType::kAdd));
    }

    void testMixBad() {
        OperationMix m;
        for (const char* bad :
             {"", "delete", "lookup=", "lookup=-1", "lookup=1.5", "lookup=1,lookup=2", "lookup,add",
              "lookup=0", "lookup=1,,add=1", "lookup=9999999"})
            CPPUNIT_ASSERT_MESSAGE(bad, OperationMix::Parse(bad, &m).IsInvalidArgument());
    }

    void testMixRatios() {
        OperationMix m;
        CPPUNIT_ASSERT(OperationMix::Parse("lookup=70,absent=20,modify=10", &m).ok());
        std::mt19937_64 rng(8);
        int counts[kOpTypes] = {};
        for (int i = 0; i < 100000; ++i)
            ++counts[static_cast<int>(m.Pick(&rng))];
        CPPUNIT_ASSERT(counts[0] > 69000 && counts[0] < 71000);
        CPPUNIT_ASSERT(counts[1] > 19000 && counts[1] < 21000);
        CPPUNIT_ASSERT_EQUAL(0, counts[2]);
        CPPUNIT_ASSERT(counts[3] > 9300 && counts[3] < 10700);
    }

    void testPatternFormat() {
        AddressPattern p;
        CPPUNIT_ASSERT(AddressPattern::Parse("user%d@example.com", &p).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("user42@example.com"), p.Format(42));
        CPPUNIT_ASSERT(AddressPattern::Parse("u%06d@x.org", &p).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("u000042@x.org"), p.Format(42));
        CPPUNIT_ASSERT_EQUAL(std::string("u1234567@x.org"), p.Format(1234567));
        CPPUNIT_ASSERT(AddressPattern::Parse("a%%b%d@x.org", &p).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("a%b7@x.org"), p.Format(7));
        std::unique_ptr<AddressSet> s;
        CPPUNIT_ASSERT(AddressSet::FromPattern(p, 10, 3, &s).ok());
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, s->size());
        CPPUNIT_ASSERT_EQUAL(std::string("a%b12@x.org"), s->At(2));
    }

    void testPatternBad() {
        AddressPattern p;
        for (const char* bad : {"user@example.com", "u%d%d@x.org", "u%s@x.org", "u%6d@x.org", "u%d",
                                "%d@", "u %d@x.org", "u%d@x@y", "u%0999d@x.org", "u%"})
            CPPUNIT_ASSERT_MESSAGE(bad, AddressPattern::Parse(bad, &p).IsInvalidArgument());
        std::unique_ptr<AddressSet> s;
        CPPUNIT_ASSERT(AddressPattern::Parse("u%d@x.org", &p).ok());
        CPPUNIT_ASSERT(AddressSet::FromPattern(p, 0, 0, &s).IsInvalidArgument());
    }

    void testAddressFile() {
        TempDir dir;
        std::string path = dir.path() + "/addresses";
        FILE* f = fopen(path.c_str(), "w");
        fputs("# members\n a@x.org \n\nb@x.org\r\nc@y.org\n", f);
        fclose(f);
        std::unique_ptr<AddressSet> s;
        Status st = AddressSet::FromFile(Env::Default(), path, &s);
        CPPUNIT_ASSERT_MESSAGE(st.ToString(), st.ok());
        CPPUNIT_ASSERT_EQUAL(uint64_t{3}, s->size());
        CPPUNIT_ASSERT_EQUAL(std::string("a@x.org"), s->At(0));
        CPPUNIT_ASSERT_EQUAL(std::string("b@x.org"), s->At(1));
        CPPUNIT_ASSERT_EQUAL(std::string("y.org"), DomainOf(s->At(2)));
    }

    void testAddressFileBad() {
        TempDir dir;
        std::unique_ptr<AddressSet> s;
        CPPUNIT_ASSERT(!AddressSet::FromFile(Env::Default(), dir.path() + "/missing", &s).ok());
        std::string path = dir.path() + "/bad";
        FILE* f = fopen(path.c_str(), "w");
        fputs("a@x.org\nnot an address\n", f);
        fclose(f);
        Status st = AddressSet::FromFile(Env::Default(), path, &s);
        CPPUNIT_ASSERT(st.IsInvalidArgument());
        CPPUNIT_ASSERT(st.message().find(":2:") != std::string::npos);  // names the line
        f = fopen(path.c_str(), "w");
        fputs("# only a comment\n", f);
        fclose(f);
        CPPUNIT_ASSERT(AddressSet::FromFile(Env::Default(), path, &s).IsInvalidArgument());
    }

    void testWorkloadDrawsFromTheRightSets() {
        OperationMix m;
        CPPUNIT_ASSERT(OperationMix::Parse("lookup=1,absent=1,add=1,modify=1", &m).ok());
        std::unique_ptr<Workload> w;
        CPPUNIT_ASSERT(Workload::Make(m, Universe(50), 0, 1, &w).ok());
        for (int i = 0; i < 2000; ++i) {
            Request r = w->Next();
            const std::string& a = r.address;
            switch (r.type) {
                case OpType::kLookup:
                case OpType::kModify:
                    CPPUNIT_ASSERT(a.rfind("user", 0) == 0);
                    CPPUNIT_ASSERT(std::stoi(a.substr(4)) < 50);
                    break;
                case OpType::kAbsent:
                    CPPUNIT_ASSERT(a.rfind("nobody", 0) == 0);
                    break;
                case OpType::kAdd:
                    CPPUNIT_ASSERT(a.rfind("new", 0) == 0);
                    break;
            }
        }
    }

    void testAddsNeverRepeatAcrossStreams() {
        OperationMix m;
        CPPUNIT_ASSERT(OperationMix::Parse("add", &m).ok());
        std::set<std::string> seen;
        for (uint64_t stream = 0; stream < 3; ++stream) {
            std::unique_ptr<Workload> w;
            CPPUNIT_ASSERT(Workload::Make(m, Universe(5), stream, 3, &w).ok());
            for (int i = 0; i < 500; ++i)
                CPPUNIT_ASSERT(seen.insert(w->Next().address).second);
        }
        OperationMix lookup;
        CPPUNIT_ASSERT(OperationMix::Parse("lookup", &lookup).ok());
        std::unique_ptr<Workload> w;
        AddressUniverse none;
        CPPUNIT_ASSERT(Workload::Make(lookup, none, 0, 1, &w).IsInvalidArgument());
    }

    void testEscaping() {
        CPPUNIT_ASSERT_EQUAL(std::string("mail=a@x.org,dc=x,dc=org"),
                             MemberDn("a@x.org", "dc=x,dc=org"));
        CPPUNIT_ASSERT_EQUAL(std::string("a\\,b\\+c\\=d\\\\e"), EscapeDnValue("a,b+c=d\\e"));
        CPPUNIT_ASSERT_EQUAL(std::string("\\#a\\ "), EscapeDnValue("#a "));
        CPPUNIT_ASSERT_EQUAL(std::string("a\\2a\\28\\29\\5c"), EscapeFilterValue("a*()\\"));
        CPPUNIT_ASSERT_EQUAL(std::string("(mail=x\\2a@y)"), FilterFor("(mail=%s)", "x*@y"));
        CPPUNIT_ASSERT_EQUAL(std::string("(|(mail=a@b)(cn=100%))"),
                             FilterFor("(|(mail=%s)(cn=100%%))", "a@b"));
    }

    void testLdifLine() {
        CPPUNIT_ASSERT_EQUAL(std::string("mail: a@x.org\n"), LdifLine("mail", "a@x.org"));
        CPPUNIT_ASSERT_EQUAL(std::string("cn:: IGxlYWRpbmc=\n"), LdifLine("cn", " leading"));
        CPPUNIT_ASSERT_EQUAL(std::string("b:: AAE=\n"), LdifLine("b", std::string("\0\1", 2)));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BenchWorkloadTest);

}  // namespace bench
}  // namespace keydir
