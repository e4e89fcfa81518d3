// A fresh directory under $TMPDIR for one test, removed with its contents.
#ifndef KEYDIR_TESTS_UNIT_TEMP_DIR_H
#define KEYDIR_TESTS_UNIT_TEMP_DIR_H

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace keydir {

class TempDir {
  public:
    TempDir() {
        const char* base = std::getenv("TMPDIR");
        std::string templ = std::string(base ? base : "/tmp") + "/keydir-unit-XXXXXX";
        if (!mkdtemp(&templ[0]))
            throw std::runtime_error("mkdtemp failed");
        path_ = templ;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::string& path() const { return path_; }

  private:
    std::string path_;
};

}  // namespace keydir

#endif  // KEYDIR_TESTS_UNIT_TEMP_DIR_H
