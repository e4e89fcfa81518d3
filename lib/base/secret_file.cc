#include "base/secret_file.h"

#include <openssl/crypto.h>

#include <cstdio>

namespace keydir {

namespace {

std::string Octal(unsigned mode) {
    char buf[8];
    snprintf(buf, sizeof buf, "%04o", mode & 07777);
    return buf;
}

}  // namespace

void WipeSecret(std::string* secret) {
    if (!secret->empty())
        OPENSSL_cleanse(&(*secret)[0], secret->size());
    secret->clear();
}

Status ReadSecretFile(Env* env, const std::string& path, std::string* secret) {
    unsigned mode = 0;
    Status s = env->FileMode(path, &mode);
    if (!s.ok())
        return Status::IOError(path + " cannot be used: " + s.message());
    if (mode & 0006)
        return Status::PermissionDenied(path + (mode & 0004 ? " is readable" : " is writable") +
                                        " by everyone (mode " + Octal(mode) +
                                        "); allow its owner only: chmod 600 " + path);
    std::string text;
    s = env->ReadFile(path, &text);
    if (!s.ok())
        return Status::IOError(path + " cannot be read: " + s.message());
    if (!text.empty() && text.back() == '\n') {
        text.pop_back();
        if (!text.empty() && text.back() == '\r')
            text.pop_back();
    }
    if (text.empty())
        return Status::InvalidArgument(path + " is empty");
    *secret = std::move(text);
    return Status::OK();
}

}  // namespace keydir
