// tools/common: files that appear whole or not at all, and LDIF records
// as the OpenLDAP tools read them.
#include <cppunit/extensions/HelperMacros.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/atomic_file.h"
#include "common/ldif.h"
#include "temp_dir.h"

namespace keydir {

namespace {

std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

size_t Entries(const std::string& dir) {
    size_t n = 0;
    for (auto it = std::filesystem::directory_iterator(dir);
         it != std::filesystem::directory_iterator(); ++it)
        ++n;
    return n;
}

}  // namespace

class CertToolsCommonTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(CertToolsCommonTest);
    CPPUNIT_TEST(testCommitWritesWholeFile);
    CPPUNIT_TEST(testDroppedFileLeavesNothing);
    CPPUNIT_TEST(testNoReplace);
    CPPUNIT_TEST(testUnwritableDestination);
    CPPUNIT_TEST(testLdifText);
    CPPUNIT_TEST(testLdifBinaryAndUnsafe);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testCommitWritesWholeFile() {
        TempDir dir;
        std::string path = dir.path() + "/out.ldif";
        std::unique_ptr<AtomicFile> f;
        CPPUNIT_ASSERT(AtomicFile::Create(path, 0600, &f).ok());
        CPPUNIT_ASSERT(f->Write("hello ").ok());
        CPPUNIT_ASSERT(!std::filesystem::exists(path));  // not before Commit
        CPPUNIT_ASSERT(f->Write("world").ok());
        CPPUNIT_ASSERT(f->Commit().ok());
        CPPUNIT_ASSERT_EQUAL(std::string("hello world"), Slurp(path));
        struct stat st;
        CPPUNIT_ASSERT_EQUAL(0, ::stat(path.c_str(), &st));
        CPPUNIT_ASSERT_EQUAL(0600u, static_cast<unsigned>(st.st_mode & 07777));
        CPPUNIT_ASSERT_EQUAL(size_t(1), Entries(dir.path()));
        // Replacing is the default.
        CPPUNIT_ASSERT(WriteFileAtomically(path, "new", 0644).ok());
        CPPUNIT_ASSERT_EQUAL(std::string("new"), Slurp(path));
    }

    void testDroppedFileLeavesNothing() {
        TempDir dir;
        std::string path = dir.path() + "/out.ldif";
        {
            std::unique_ptr<AtomicFile> f;
            CPPUNIT_ASSERT(AtomicFile::Create(path, 0600, &f).ok());
            CPPUNIT_ASSERT(f->Write("half").ok());
            CPPUNIT_ASSERT_EQUAL(size_t(1), Entries(dir.path()));  // the temporary file
        }
        CPPUNIT_ASSERT_EQUAL(size_t(0), Entries(dir.path()));
    }

    void testNoReplace() {
        TempDir dir;
        std::string path = dir.path() + "/secret.key";
        CPPUNIT_ASSERT(WriteFileAtomically(path, "first", 0600, false).ok());
        Status s = WriteFileAtomically(path, "second", 0600, false);
        CPPUNIT_ASSERT(s.IsExists());
        CPPUNIT_ASSERT_EQUAL(std::string("first"), Slurp(path));
        CPPUNIT_ASSERT_EQUAL(size_t(1), Entries(dir.path()));
    }

    void testUnwritableDestination() {
        TempDir dir;
        std::unique_ptr<AtomicFile> f;
        Status s = AtomicFile::Create(dir.path() + "/no/such/dir/out", 0600, &f);
        CPPUNIT_ASSERT(s.code() == Status::Code::kIOError);
        CPPUNIT_ASSERT_MESSAGE(s.message(), s.message().find("cannot write") != std::string::npos);
        s = AtomicFile::Create(dir.path(), 0600, &f);
        CPPUNIT_ASSERT(s.IsInvalidArgument());
        if (::geteuid() != 0) {  // root writes anywhere
            std::string ro = dir.path() + "/ro";
            ::mkdir(ro.c_str(), 0500);
            CPPUNIT_ASSERT(!AtomicFile::Create(ro + "/out", 0600, &f).ok());
        }
    }

    void testLdifText() {
        LdifRecord r("mail=a@x.org,dc=x,dc=org");
        r.Add("objectClass", "keydirMember").Add("mail", "a@x.org");
        CPPUNIT_ASSERT_EQUAL(std::string("dn: mail=a@x.org,dc=x,dc=org\nobjectClass: keydirMember\n"
                                         "mail: a@x.org\n\n"),
                             r.Text());
        LdifRecord m("dc=x");
        m.Line("changetype: modify")
            .Add("replace", "keydirStatus")
            .Add("keydirStatus", "revoked")
            .Line("-");
        CPPUNIT_ASSERT_EQUAL(std::string("dn: dc=x\nchangetype: modify\nreplace: keydirStatus\n"
                                         "keydirStatus: revoked\n-\n\n"),
                             m.Text());
    }

    void testLdifBinaryAndUnsafe() {
        LdifRecord r("dc=x");
        r.Add("userPKCS12", std::string("\x30\x82\x01\x00", 4), true).Add("cn", " leading space");
        CPPUNIT_ASSERT_EQUAL(
            std::string("dn: dc=x\nuserPKCS12:: MIIBAA==\ncn:: IGxlYWRpbmcgc3BhY2U=\n\n"),
            r.Text());
        // Long values are folded into lines of at most 78 characters.
        LdifRecord big("dc=x");
        big.Add("userCertificate;binary", std::string(3000, '\x01'), true);
        std::istringstream lines(big.Text());
        std::string line;
        size_t continuation = 0;
        while (std::getline(lines, line)) {
            CPPUNIT_ASSERT(line.size() <= 78);
            if (!line.empty() && line[0] == ' ')
                ++continuation;
        }
        CPPUNIT_ASSERT(continuation > 40);
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(CertToolsCommonTest);

}  // namespace keydir
