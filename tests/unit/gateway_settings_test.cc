#include <cppunit/extensions/HelperMacros.h>

#include "gateway/settings.h"

#include "temp_dir.h"

#include <fstream>
#include <string>
#include <vector>

namespace keydir {
namespace gateway {

class GatewaySettingsTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(GatewaySettingsTest);
    CPPUNIT_TEST(testLdapBaseRequired);
    CPPUNIT_TEST(testNullBase);
    CPPUNIT_TEST(testValidBases);
    CPPUNIT_TEST(testInvalidBase);
    CPPUNIT_TEST_SUITE_END();

    // ParseConfig over "keydir-gateway" followed by `args`.
    static Status Parse(std::vector<std::string> args, Config* config) {
        args.insert(args.begin(), "keydir-gateway");
        std::vector<char*> argv;
        for (std::string& a : args)
            argv.push_back(&a[0]);
        argv.push_back(nullptr);
        bool exit_now = false;
        std::string text;
        return ParseConfig(static_cast<int>(args.size()), argv.data(), config, &exit_now, &text);
    }

  public:
    void testLdapBaseRequired() {
        Config c;
        Status s = Parse({"--hostname", "gw.test"}, &c);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        CPPUNIT_ASSERT(s.message().find("--ldap-base is required") != std::string::npos);
    }
    void testNullBase() {
        Config c;
        c.ldap_base = "unchanged";
        Status s = Parse({"--hostname", "gw.test", "--ldap-base", ""}, &c);
        CPPUNIT_ASSERT_MESSAGE(s.message(), s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string(), c.ldap_base);
        // ldap-base = (no value) in the --config file is the null DN too.
        TempDir dir;
        const std::string file = dir.path() + "/gateway.conf";
        std::ofstream(file) << "ldap-base =\nhostname = gw.test\n";
        Config d;
        d.ldap_base = "unchanged";
        s = Parse({"--config", file}, &d);
        CPPUNIT_ASSERT_MESSAGE(s.message(), s.ok());
        CPPUNIT_ASSERT_EQUAL(std::string(), d.ldap_base);
    }
    void testValidBases() {
        for (const char* base : {"dc=example,dc=com", "o=Tovaris\\, Inc.,c=DE",
                                 "ou=People+l=Berlin,dc=example,dc=com", "DC = x , DC = y"}) {
            Config c;
            Status s = Parse({"--hostname", "gw.test", "--ldap-base", base}, &c);
            CPPUNIT_ASSERT_MESSAGE(std::string(base) + ": " + s.message(), s.ok());
            CPPUNIT_ASSERT_EQUAL(std::string(base), c.ldap_base);
        }
    }
    void testInvalidBase() {
        for (const char* base : {"not a dn", "dc=example,", "=x", "dc=a,,dc=b"}) {
            Config c;
            Status s = Parse({"--hostname", "gw.test", "--ldap-base", base}, &c);
            CPPUNIT_ASSERT_MESSAGE(base, s.IsInvalidArgument());
            CPPUNIT_ASSERT_MESSAGE(s.message(),
                                   s.message().find("--ldap-base: '" + std::string(base) +
                                                    "' is not a valid DN") != std::string::npos);
        }
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(GatewaySettingsTest);

}  // namespace gateway
}  // namespace keydir
