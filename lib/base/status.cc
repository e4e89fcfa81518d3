#include "base/status.h"

namespace keydir {

const char* StatusCodeName(Status::Code code) {
    switch (code) {
        case Status::Code::kOk:
            return "OK";
        case Status::Code::kNotFound:
            return "NotFound";
        case Status::Code::kExists:
            return "Exists";
        case Status::Code::kInvalidArgument:
            return "InvalidArgument";
        case Status::Code::kCorruption:
            return "Corruption";
        case Status::Code::kIOError:
            return "IOError";
        case Status::Code::kNoSpace:
            return "NoSpace";
        case Status::Code::kBusy:
            return "Busy";
        case Status::Code::kUnavailable:
            return "Unavailable";
        case Status::Code::kNotSupported:
            return "NotSupported";
        case Status::Code::kTimedOut:
            return "TimedOut";
        case Status::Code::kPermissionDenied:
            return "PermissionDenied";
    }
    return "Unknown";
}

std::string Status::ToString() const {
    if (ok())
        return "OK";
    std::string s = StatusCodeName(code_);
    if (!message_.empty()) {
        s += ": ";
        s += message_;
    }
    return s;
}

}  // namespace keydir
