// keydir-admin secret new NAME: a shared HMAC key for keychase-key.
#include <openssl/evp.h>

#include <climits>
#include <cstdlib>
#include <ostream>

#include "admin/commands.h"
#include "common/atomic_file.h"

namespace keydir {

Status SecretNew(const AdminOptions& o, const std::string& name, Env* env, Io io) {
    // The name appears in signed requests and in slapd.conf: keep it plain.
    bool ok = !name.empty() && name.size() <= 64;
    for (char c : name)
        ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == '_');
    if (!ok)
        return Status::InvalidArgument("'" + name +
                                       "' is not a usable key name (1 to 64 letters, digits, '.', "
                                       "'-' or '_')");
    std::string path = o.output.empty() ? name + ".key" : o.output;
    unsigned char key[32];  // 256 bits, the HMAC-SHA-256 block-safe size
    Status s = env->RandomBytes(key, sizeof key);
    if (!s.ok())
        return s;
    unsigned char b64[64];
    int len = EVP_EncodeBlock(b64, key, sizeof key);
    OPENSSL_cleanse(key, sizeof key);
    std::string text(reinterpret_cast<char*>(b64), static_cast<size_t>(len));
    text += "\n";
    OPENSSL_cleanse(b64, sizeof b64);
    s = WriteFileAtomically(path, text, 0600, /*replace=*/o.force);
    OPENSSL_cleanse(&text[0], text.size());
    if (s.IsExists())
        return Status::Exists(path + " exists already (--force replaces it)");
    if (!s.ok())
        return s;
    char resolved[PATH_MAX];
    std::string abs = realpath(path.c_str(), resolved) ? resolved : path;
    io.out << "keychase-key " << name << " " << abs << "\n";
    return Status::OK();
}

}  // namespace keydir
