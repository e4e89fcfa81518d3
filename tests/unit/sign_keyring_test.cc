#include <cppunit/extensions/HelperMacros.h>
#include <sys/stat.h>

#include <fstream>

#include "sign/base64.h"
#include "sign/keyring.h"
#include "sign_test_util.h"
#include "temp_dir.h"

namespace keydir {

class SignKeyringTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(SignKeyringTest);
    CPPUNIT_TEST(testBase64);
    CPPUNIT_TEST(testBase64Rejects);
    CPPUNIT_TEST(testGoodKeyFiles);
    CPPUNIT_TEST(testMissingFile);
    CPPUNIT_TEST(testWorldReadableAndWritable);
    CPPUNIT_TEST(testUnreadable);
    CPPUNIT_TEST(testEmptyShortLongAndNotBase64);
    CPPUNIT_TEST(testKeyringNamesAndRotation);
    CPPUNIT_TEST_SUITE_END();

    TempDir dir_;

    std::string Write(const std::string& name, const std::string& text, unsigned mode) {
        std::string path = dir_.path() + "/" + name;
        std::ofstream(path) << text;
        chmod(path.c_str(), mode);
        return path;
    }
    static std::string Key(size_t n) {
        std::string k;
        for (size_t i = 0; i < n; ++i)
            k += static_cast<char>(i * 7 + 1);
        return k;
    }
    static void Fails(const Status& s, const std::string& fragment) {
        CPPUNIT_ASSERT_MESSAGE("accepted", !s.ok());
        CPPUNIT_ASSERT_MESSAGE(s.message() + " lacks " + fragment,
                               s.message().find(fragment) != std::string::npos);
    }

  public:
    void testBase64() {
        for (size_t n = 0; n < 70; ++n) {
            std::string k = Key(n), back;
            CPPUNIT_ASSERT(Base64Decode(Base64Encode(k), &back).ok());
            CPPUNIT_ASSERT_EQUAL(k, back);
        }
        std::string out;
        CPPUNIT_ASSERT(Base64Decode("aGVs\nbG8=\n", &out).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("hello"), out);
        CPPUNIT_ASSERT(Base64Decode("  aGVsbG8h \r\n", &out).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("hello!"), out);
        CPPUNIT_ASSERT_EQUAL(std::string("Zm9vYmFy"), Base64Encode("foobar"));
        CPPUNIT_ASSERT_EQUAL(std::string("Zm8="), Base64Encode("fo"));
    }
    void testBase64Rejects() {
        std::string out = "unchanged";
        Fails(Base64Decode("aGVsbG8", &out), "not a multiple of 4");
        Fails(Base64Decode("aGV*bG8=", &out), "unexpected character at byte 3");
        Fails(Base64Decode("aG=sbG8=", &out), "'=' before the end");
        Fails(Base64Decode("a===", &out), "more than two '='");
        Fails(Base64Decode("aGVsbG9=", &out), "non-zero bits");  // "hello" is aGVsbG8=
        Fails(Base64Decode("Zm9=", &out), "non-zero bits");
        CPPUNIT_ASSERT_EQUAL(std::string("unchanged"), out);
    }
    void testGoodKeyFiles() {
        Keyring ring;
        CPPUNIT_ASSERT(
            ring.AddKeyFile("a", Write("a.key", Base64Encode(Key(32)) + "\n", 0600)).ok());
        CPPUNIT_ASSERT(ring.AddKeyFile("b", Write("b.key", Base64Encode(Key(64)), 0640)).ok());
        std::string wrapped = Base64Encode(Key(96));
        wrapped.insert(64, "\n");
        CPPUNIT_ASSERT(ring.AddKeyFile("c", Write("c.key", wrapped + "\n", 0400)).ok());
        CPPUNIT_ASSERT_EQUAL(Key(32), ring.Find("a")->secret());
        CPPUNIT_ASSERT_EQUAL(Key(96), ring.Find("c")->secret());
        CPPUNIT_ASSERT_EQUAL(size_t(3), ring.size());
    }
    void testMissingFile() {
        Keyring ring;
        Fails(ring.AddKeyFile("a", dir_.path() + "/nope.key"), "No such file or directory");
        Fails(ring.AddKeyFile("a", dir_.path() + "/nope.key"), "nope.key cannot be used");
        CPPUNIT_ASSERT_EQUAL(size_t(0), ring.size());
    }
    void testWorldReadableAndWritable() {
        Keyring ring;
        std::string k = Base64Encode(Key(32));
        Status s = ring.AddKeyFile("a", Write("r.key", k, 0644));
        Fails(s, "is readable by everyone (mode 0644)");
        Fails(s, "chmod 600");
        CPPUNIT_ASSERT(s.code() == Status::Code::kPermissionDenied);
        Fails(ring.AddKeyFile("a", Write("w.key", k, 0602)), "is writable by everyone (mode 0602)");
        Fails(ring.AddKeyFile("a", Write("x.key", k, 0604)), "readable by everyone");
        CPPUNIT_ASSERT_EQUAL(size_t(0), ring.size());
    }
    void testUnreadable() {
        // root reads anything, so the unreadable file is simulated
        testing::DeterministicEnv env;
        env.AddFile("/keys/locked.key", Base64Encode(Key(32)), 0600, true);
        Keyring ring;
        Fails(ring.AddKeyFile("a", "/keys/locked.key", &env),
              "cannot be read: /keys/locked.key: Permission denied");
    }
    void testEmptyShortLongAndNotBase64() {
        Keyring ring;
        Fails(ring.AddKeyFile("a", Write("e.key", "", 0600)), "is empty");
        Fails(ring.AddKeyFile("a", Write("s.key", " \n\n", 0600)), "is empty");
        Fails(ring.AddKeyFile("a", Write("n.key", "not base64!\n", 0600)),
              "does not hold a base64 key");
        Status s = ring.AddKeyFile("a", Write("short.key", Base64Encode(Key(31)), 0600));
        Fails(s, "a key of 31 bytes, fewer than 32 (256 bits)");
        Fails(s, "openssl rand -base64 32");
        Fails(ring.AddKeyFile("a", Write("long.key", Base64Encode(Key(1025)), 0600)),
              "more than 1024 bytes");
        CPPUNIT_ASSERT_EQUAL(size_t(0), ring.size());
    }
    void testKeyringNamesAndRotation() {
        Keyring ring;
        CPPUNIT_ASSERT(ring.AddKey("old.2025", Key(32)).ok());
        CPPUNIT_ASSERT(ring.AddKey("new.2026", Key(40)).ok());
        Fails(ring.AddKey("new.2026", Key(32)), "defined twice");
        CPPUNIT_ASSERT(ring.AddKey("new.2026", Key(32)).IsExists());
        Fails(ring.AddKey("bad name", Key(32)), "must be 1-64");
        Fails(ring.AddKey("", Key(32)), "must be 1-64");
        Fails(ring.AddKey(std::string(65, 'k'), Key(32)), "must be 1-64");
        Fails(ring.AddKey("k", Key(31)), "shorter than 32");
        Fails(ring.AddKeyFile("bad/name", "/dev/null"), "must be 1-64");
        std::vector<std::string> names = ring.Names();
        CPPUNIT_ASSERT_EQUAL(size_t(2), names.size());
        CPPUNIT_ASSERT_EQUAL(std::string("new.2026"), names[0]);
        // a key in use survives its removal from the ring
        std::shared_ptr<const HmacKey> held = ring.Find("old.2025");
        CPPUNIT_ASSERT(ring.RemoveKey("old.2025").ok());
        CPPUNIT_ASSERT(ring.RemoveKey("old.2025").IsNotFound());
        CPPUNIT_ASSERT(!ring.Find("old.2025"));
        CPPUNIT_ASSERT_EQUAL(Key(32), held->secret());
        CPPUNIT_ASSERT(!ring.Find("missing"));
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(SignKeyringTest);

}  // namespace keydir
