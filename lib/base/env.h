// Env: the operating-system services libkeydir uses (clocks, randomness,
// files, sleeping), behind one interface so that unit tests can replace
// time and randomness with deterministic fakes.
#ifndef KEYDIR_BASE_ENV_H
#define KEYDIR_BASE_ENV_H

#include <cstdint>
#include <string>

#include "base/status.h"

namespace keydir {

class Env {
  public:
    virtual ~Env() = default;

    // The process-wide real environment. Never deleted.
    static Env* Default();

    // Seconds since the Unix epoch (wall clock; certificate validity, signing).
    virtual int64_t NowUnixSeconds() = 0;
    // Monotonic microseconds (timeouts, TTLs, latency).
    virtual int64_t NowMonotonicMicros() = 0;
    virtual void SleepMicros(int64_t micros) = 0;
    // Cryptographically strong random bytes.
    virtual Status RandomBytes(void* out, size_t len) = 0;
    // Bytes that must be unpredictable and unique but are not secret
    // (signature nonces). The real Env hands them out of a per-thread
    // buffer of RandomBytes output: a call to OpenSSL's generator for each
    // 16-byte nonce was 5% of a signing server's CPU.
    virtual Status NonceBytes(void* out, size_t len) { return RandomBytes(out, len); }
    // Reads a whole file.
    virtual Status ReadFile(const std::string& path, std::string* contents) = 0;
    // The permission bits of a file (st_mode & 07777).
    virtual Status FileMode(const std::string& path, unsigned* mode) = 0;
};

// An Env whose clocks only move when told to; for tests.
class FakeClockEnv : public Env {
  public:
    explicit FakeClockEnv(Env* base = Env::Default()) : base_(base) {}
    int64_t NowUnixSeconds() override { return unix_seconds_; }
    int64_t NowMonotonicMicros() override { return monotonic_micros_; }
    void SleepMicros(int64_t micros) override { monotonic_micros_ += micros; }
    Status RandomBytes(void* out, size_t len) override { return base_->RandomBytes(out, len); }
    Status ReadFile(const std::string& path, std::string* contents) override {
        return base_->ReadFile(path, contents);
    }
    Status FileMode(const std::string& path, unsigned* mode) override {
        return base_->FileMode(path, mode);
    }

    void SetUnixSeconds(int64_t s) { unix_seconds_ = s; }
    void AdvanceSeconds(int64_t s) {
        unix_seconds_ += s;
        monotonic_micros_ += s * 1000000;
    }

  private:
    Env* base_;
    int64_t unix_seconds_ = 1700000000;
    int64_t monotonic_micros_ = 1000000;
};

}  // namespace keydir

#endif  // KEYDIR_BASE_ENV_H
