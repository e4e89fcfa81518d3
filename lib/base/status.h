// Status: the outcome of an operation in libkeydir, with a message a person
// can read. Modelled on LevelDB's Status: cheap when OK, explicit codes the
// slapd glue maps onto LDAP result codes.
#ifndef KEYDIR_BASE_STATUS_H
#define KEYDIR_BASE_STATUS_H

#include <string>
#include <utility>

namespace keydir {

class Status {
  public:
    enum class Code {
        kOk = 0,
        kNotFound,          // no such key or entry
        kExists,            // key already present
        kInvalidArgument,   // caller passed something malformed
        kCorruption,        // stored data is not what we wrote
        kIOError,           // the operating system refused (permissions, disk)
        kNoSpace,           // the disk or a region is full
        kBusy,              // lock conflict or deadlock; retrying may succeed
        kUnavailable,       // the store or a peer cannot serve now
        kNotSupported,      // the request is understood but not implemented
        kTimedOut,          // a deadline passed
        kPermissionDenied,  // refused by a security check
    };

    Status() = default;
    static Status OK() { return Status(); }
    static Status NotFound(std::string m = "") { return Status(Code::kNotFound, std::move(m)); }
    static Status Exists(std::string m = "") { return Status(Code::kExists, std::move(m)); }
    static Status InvalidArgument(std::string m) {
        return Status(Code::kInvalidArgument, std::move(m));
    }
    static Status Corruption(std::string m) { return Status(Code::kCorruption, std::move(m)); }
    static Status IOError(std::string m) { return Status(Code::kIOError, std::move(m)); }
    static Status NoSpace(std::string m) { return Status(Code::kNoSpace, std::move(m)); }
    static Status Busy(std::string m) { return Status(Code::kBusy, std::move(m)); }
    static Status Unavailable(std::string m) { return Status(Code::kUnavailable, std::move(m)); }
    static Status NotSupported(std::string m) { return Status(Code::kNotSupported, std::move(m)); }
    static Status TimedOut(std::string m) { return Status(Code::kTimedOut, std::move(m)); }
    static Status PermissionDenied(std::string m) {
        return Status(Code::kPermissionDenied, std::move(m));
    }

    bool ok() const { return code_ == Code::kOk; }
    bool IsNotFound() const { return code_ == Code::kNotFound; }
    bool IsExists() const { return code_ == Code::kExists; }
    bool IsBusy() const { return code_ == Code::kBusy; }
    bool IsCorruption() const { return code_ == Code::kCorruption; }
    bool IsInvalidArgument() const { return code_ == Code::kInvalidArgument; }
    Code code() const { return code_; }
    const std::string& message() const { return message_; }
    // The same status with `context` put before its message, e.g.
    // s.WithContext("--bind-password-file: ").
    Status WithContext(const std::string& context) const {
        return ok() ? *this : Status(code_, context + message_);
    }

    // "NotFound: message" for logs and test failures.
    std::string ToString() const;

  private:
    Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

    Code code_ = Code::kOk;
    std::string message_;
};

const char* StatusCodeName(Status::Code code);

}  // namespace keydir

#endif  // KEYDIR_BASE_STATUS_H
