// Helpers shared by the sign_*_test.cc files.
#ifndef KEYDIR_TESTS_UNIT_SIGN_TEST_UTIL_H
#define KEYDIR_TESTS_UNIT_SIGN_TEST_UTIL_H

#include <cstring>
#include <map>
#include <string>

#include "base/env.h"

namespace keydir {
namespace testing {

inline std::string Hex(const std::string& s) {
    static const char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
    return out;
}

inline std::string FromHex(const std::string& hex) {
    auto v = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::string out;
    for (size_t i = 0; i + 1 < hex.size(); i += 2)
        out += static_cast<char>(v(hex[i]) * 16 + v(hex[i + 1]));
    return out;
}

// A fake clock whose "random" bytes are a fixed pattern or a counter, and
// whose files live in memory: signatures become reproducible.
class DeterministicEnv : public FakeClockEnv {
  public:
    Status RandomBytes(void* out, size_t len) override {
        unsigned char* p = static_cast<unsigned char*>(out);
        if (!fixed_.empty()) {
            for (size_t i = 0; i < len; ++i)
                p[i] = static_cast<unsigned char>(fixed_[i % fixed_.size()]);
            return Status::OK();
        }
        for (size_t i = 0; i < len; ++i)
            p[i] = static_cast<unsigned char>(counter_ >> (8 * (i % 8)));
        ++counter_;
        return Status::OK();
    }
    Status ReadFile(const std::string& path, std::string* contents) override {
        auto it = files_.find(path);
        if (it == files_.end())
            return FakeClockEnv::ReadFile(path, contents);
        if (it->second.unreadable)
            return Status::IOError(path + ": Permission denied");
        *contents = it->second.data;
        return Status::OK();
    }
    Status FileMode(const std::string& path, unsigned* mode) override {
        auto it = files_.find(path);
        if (it == files_.end())
            return FakeClockEnv::FileMode(path, mode);
        *mode = it->second.mode;
        return Status::OK();
    }

    void SetFixedRandom(const std::string& bytes) { fixed_ = bytes; }
    void AddFile(const std::string& path, const std::string& data, unsigned mode,
                 bool unreadable = false) {
        files_[path] = File{data, mode, unreadable};
    }

  private:
    struct File {
        std::string data;
        unsigned mode;
        bool unreadable;
    };
    std::string fixed_;
    uint64_t counter_ = 1;
    std::map<std::string, File> files_;
};

}  // namespace testing
}  // namespace keydir

#endif  // KEYDIR_TESTS_UNIT_SIGN_TEST_UTIL_H
