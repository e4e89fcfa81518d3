// The real Env's nonces: unique, served across buffer refills and in a
// forked child, any length.
#include <cppunit/extensions/HelperMacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <string>

#include "base/env.h"

namespace keydir {

class EnvTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(EnvTest);
    CPPUNIT_TEST(testNoncesAreUniqueAcrossRefills);
    CPPUNIT_TEST(testNonceLongerThanTheBuffer);
    CPPUNIT_TEST(testForkedChildDrawsItsOwnNonces);
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

    // The child inherits the parent's half-used buffer; it must not hand
    // out the bytes the parent hands out next.
    void testForkedChildDrawsItsOwnNonces() {
        std::string first(16, '\0');
        CPPUNIT_ASSERT(Env::Default()->NonceBytes(&first[0], first.size()).ok());
        int fds[2];
        CPPUNIT_ASSERT_EQUAL(0, pipe(fds));
        pid_t pid = fork();
        CPPUNIT_ASSERT(pid >= 0);
        if (pid == 0) {
            std::string n(16, '\0');
            bool ok = Env::Default()->NonceBytes(&n[0], n.size()).ok() &&
                      write(fds[1], n.data(), n.size()) == 16;
            _exit(ok ? 0 : 1);
        }
        close(fds[1]);
        std::string child(16, '\0');
        ssize_t got = read(fds[0], &child[0], child.size());
        close(fds[0]);
        int status = 0;
        waitpid(pid, &status, 0);
        CPPUNIT_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        CPPUNIT_ASSERT_EQUAL(ssize_t(16), got);
        std::string next(16, '\0');
        CPPUNIT_ASSERT(Env::Default()->NonceBytes(&next[0], next.size()).ok());
        CPPUNIT_ASSERT(child != next);
        CPPUNIT_ASSERT(child != first);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(EnvTest);

}  // namespace keydir
