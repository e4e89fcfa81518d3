#include "base/env.h"

#include <openssl/rand.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace keydir {
namespace {

class PosixEnv : public Env {
  public:
    int64_t NowUnixSeconds() override {
        return std::chrono::duration_cast<std::chrono::seconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
    }
    int64_t NowMonotonicMicros() override {
        return std::chrono::duration_cast<std::chrono::microseconds>(
                   std::chrono::steady_clock::now().time_since_epoch())
            .count();
    }
    void SleepMicros(int64_t micros) override {
        std::this_thread::sleep_for(std::chrono::microseconds(micros));
    }
    Status RandomBytes(void* out, size_t len) override {
        if (RAND_bytes(static_cast<unsigned char*>(out), static_cast<int>(len)) != 1)
            return Status::Unavailable("the random number generator failed");
        return Status::OK();
    }
    Status NonceBytes(void* out, size_t len) override {
        struct Buffer {
            unsigned char bytes[4096];
            size_t used = sizeof bytes;
            pid_t pid = 0;
        };
        if (len == 0)
            return Status::OK();
        thread_local Buffer buf;
        // A forked child starts from a fresh buffer, or parent and child
        // would hand out the same nonces.
        if (buf.pid != getpid()) {
            buf.used = sizeof buf.bytes;
            buf.pid = getpid();
        }
        if (len > sizeof buf.bytes)
            return RandomBytes(out, len);
        if (sizeof buf.bytes - buf.used < len) {
            Status s = RandomBytes(buf.bytes, sizeof buf.bytes);
            if (!s.ok())
                return s;
            buf.used = 0;
        }
        memcpy(out, buf.bytes + buf.used, len);
        // Handed-out bytes are not kept.
        OPENSSL_cleanse(buf.bytes + buf.used, len);
        buf.used += len;
        return Status::OK();
    }
    Status ReadFile(const std::string& path, std::string* contents) override {
        std::ifstream in(path, std::ios::binary);
        if (!in)
            return Status::IOError(path + ": " + std::strerror(errno));
        std::ostringstream buf;
        buf << in.rdbuf();
        if (in.bad())
            return Status::IOError(path + ": read error");
        *contents = buf.str();
        return Status::OK();
    }
    Status FileMode(const std::string& path, unsigned* mode) override {
        struct stat st;
        if (::stat(path.c_str(), &st) != 0)
            return Status::IOError(path + ": " + std::strerror(errno));
        *mode = st.st_mode & 07777;
        return Status::OK();
    }
};

}  // namespace

Env* Env::Default() {
    static PosixEnv* env = new PosixEnv;  // never destroyed: used until exit
    return env;
}

}  // namespace keydir
