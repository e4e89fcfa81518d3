#include <cppunit/extensions/HelperMacros.h>

#include <cstdio>
#include <vector>

#include "tests/unit/temp_dir.h"
#include "tools/bench/bench_options.h"

namespace keydir {
namespace bench {

class BenchOptionsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(BenchOptionsTest);
    CPPUNIT_TEST(testDefaults);
    CPPUNIT_TEST(testFullCommandLine);
    CPPUNIT_TEST(testOpenLoopDefaults);
    CPPUNIT_TEST(testPasswordFile);
    CPPUNIT_TEST(testBadOptions);
    CPPUNIT_TEST(testHelp);
    CPPUNIT_TEST_SUITE_END();

    static Status Parse(std::vector<const char*> args, BenchConfig* c) {
        args.insert(args.begin(), "keydir-bench");
        return ParseCommandLine(static_cast<int>(args.size()), args.data(), Env::Default(), c);
    }

  public:
    void testDefaults() {
        BenchConfig c;
        Status s =
            Parse({"-b", "dc=x", "--address-pattern", "u%d@x.org", "--address-count", "10"}, &c);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("ldap://127.0.0.1/"), c.uri);
        CPPUNIT_ASSERT(!c.bind);
        CPPUNIT_ASSERT(!c.open_loop());
        CPPUNIT_ASSERT_EQUAL(1, c.outstanding_per_connection());
        CPPUNIT_ASSERT_EQUAL(std::string("lookup=1"), c.mix.ToString());
        CPPUNIT_ASSERT_EQUAL(std::string("dc=x"), c.dn_base);
        CPPUNIT_ASSERT_EQUAL(2, c.scope);
        CPPUNIT_ASSERT_EQUAL(size_t{1}, c.attributes.size());
    }

    void testFullCommandLine() {
        BenchConfig c;
        Status s = Parse({"-H",
                          "ldap://127.0.0.1:3890/",
                          "-D",
                          "cn=admin,dc=x",
                          "-w",
                          "pw",
                          "-b",
                          "dc=x",
                          "-W",
                          "lookup=90,modify=10",
                          "--addresses",
                          "/dev/null",
                          "-c",
                          "8",
                          "-m",
                          "4",
                          "-t",
                          "2",
                          "-n",
                          "5000",
                          "--warmup",
                          "0",
                          "--distribution",
                          "zipf",
                          "--zipf-exponent",
                          "0.99",
                          "-a",
                          "userCertificate;binary,mail",
                          "--scope",
                          "one",
                          "--json",
                          "--seed",
                          "9"},
                         &c);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        CPPUNIT_ASSERT(c.bind);
        CPPUNIT_ASSERT_EQUAL(std::string("pw"), c.password);
        CPPUNIT_ASSERT_EQUAL(8, c.connections);
        CPPUNIT_ASSERT_EQUAL(4, c.outstanding_per_connection());
        CPPUNIT_ASSERT_EQUAL(uint64_t{5000}, c.requests);
        CPPUNIT_ASSERT(c.distribution == Distribution::kZipf);
        CPPUNIT_ASSERT_EQUAL(size_t{2}, c.attributes.size());
        CPPUNIT_ASSERT_EQUAL(1, c.scope);
        CPPUNIT_ASSERT(c.json);
        CPPUNIT_ASSERT_EQUAL(uint64_t{9}, c.seed);
    }

    void testOpenLoopDefaults() {
        BenchConfig c;
        Status s = Parse({"-b", "dc=x", "-r", "5000", "-c", "4", "--address-pattern", "u%d@x.org",
                          "--address-count", "10", "-W", "add"},
                         &c);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        CPPUNIT_ASSERT(c.open_loop());
        CPPUNIT_ASSERT_EQUAL(100, c.outstanding_per_connection());
        // The run id keeps added names apart from other runs'; the domain
        // comes from the addresses.
        CPPUNIT_ASSERT(c.add_pattern.rfind("add-", 0) == 0);
        CPPUNIT_ASSERT(c.add_pattern.back() == '@');
    }

    void testPasswordFile() {
        TempDir dir;
        std::string path = dir.path() + "/pw";
        FILE* f = fopen(path.c_str(), "w");
        fputs("s3cret", f);
        fclose(f);
        BenchConfig c;
        Status s =
            Parse({"-b", "dc=x", "-D", "cn=a", "-y", path.c_str(), "--addresses", "/dev/null"}, &c);
        CPPUNIT_ASSERT_MESSAGE(s.ToString(), s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string("s3cret"), c.password);
        BenchConfig d;
        std::string missing = dir.path() + "/none";
        s = Parse({"-b", "dc=x", "-D", "cn=a", "-y", missing.c_str(), "--addresses", "/dev/null"},
                  &d);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT(s.message().find("password file") != std::string::npos);
    }

    void testBadOptions() {
        const std::vector<std::vector<const char*>> bad = {
            {"--addresses", "/dev/null"},                      // no base
            {"-b", "dc=x"},                                    // no addresses
            {"-b", "dc=x", "--address-pattern", "u%d@x.org"},  // no count
            {"-b", "dc=x", "--addresses", "f", "--address-pattern", "u%d@x", "--address-count",
             "1"},
            {"-b", "dc=x", "--addresses", "f", "--address-count", "5"},
            {"-b", "dc=x", "--addresses", "f", "-D", "cn=a"},  // no password
            {"-b", "dc=x", "--addresses", "f", "-w", "pw"},    // password, no DN
            {"-b", "dc=x", "--addresses", "f", "-D", "cn=a", "-w", "a", "-y", "/dev/null"},
            {"-b", "dc=x", "--addresses", "f", "-W", "delete"},
            {"-b", "dc=x", "--addresses", "f", "--distribution", "normal"},
            {"-b", "dc=x", "--addresses", "f", "--zipf-exponent", "-1"},
            {"-b", "dc=x", "--addresses", "f", "-c", "0"},
            {"-b", "dc=x", "--addresses", "f", "-c", "2", "-t", "3"},
            {"-b", "dc=x", "--addresses", "f", "-m", "0"},
            {"-b", "dc=x", "--addresses", "f", "-r", "0"},
            {"-b", "dc=x", "--addresses", "f", "-r", "-5"},
            {"-b", "dc=x", "--addresses", "f", "-n", "0"},
            {"-b", "dc=x", "--addresses", "f", "-n", "10", "-d", "5"},
            {"-b", "dc=x", "--addresses", "f", "-d", "0"},
            {"-b", "dc=x", "--addresses", "f", "--timeout", "0"},
            {"-b", "dc=x", "--addresses", "f", "--warmup", "-1"},
            {"-b", "dc=x", "--addresses", "f", "--filter", "(mail=x)"},
            {"-b", "dc=x", "--addresses", "f", "--scope", "children"},
            {"-b", "dc=x", "--addresses", "f", "--add-entry", "huge"},
            {"-b", "dc=x", "--addresses", "f", "--absent-pattern", "nobody"},
            {"-b", "dc=x", "--addresses", "f", "-c", "many"},
            {"-b", "dc=x", "--addresses", "f", "--no-such-option"},
            {"-b", "dc=x", "--addresses", "f", "stray"},
        };
        for (const auto& args : bad) {
            BenchConfig c;
            std::string line;
            for (const char* a : args)
                line += std::string(a) + " ";
            Status s = Parse(args, &c);
            CPPUNIT_ASSERT_MESSAGE(line, s.IsInvalidArgument());
            CPPUNIT_ASSERT_MESSAGE(line, !s.message().empty());
        }
    }

    void testHelp() {
        BenchConfig c;
        CPPUNIT_ASSERT(Parse({"--help"}, &c).ok());
        CPPUNIT_ASSERT(c.show_help);
        CPPUNIT_ASSERT(c.help_text.find("--rate") != std::string::npos);
        CPPUNIT_ASSERT(c.help_text.find("--workload") != std::string::npos);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(BenchOptionsTest);

}  // namespace bench
}  // namespace keydir
