#include "common/openpgp_listing.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>

namespace keydir {
namespace {

std::vector<std::string> Fields(std::string_view line) {
    std::vector<std::string> out;
    size_t start = 0;
    while (true) {
        size_t colon = line.find(':', start);
        out.emplace_back(
            line.substr(start, colon == std::string_view::npos ? colon : colon - start));
        if (colon == std::string_view::npos)
            return out;
        start = colon + 1;
    }
}

std::string Field(const std::vector<std::string>& f, size_t one_based) {
    return one_based <= f.size() ? f[one_based - 1] : std::string();
}

int HexDigit(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

// gpg escapes ':' and control characters in user IDs as \xHH.
std::string Unescape(std::string_view s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && HexDigit(s[i + 2]) >= 0 &&
            HexDigit(s[i + 3]) >= 0) {
            out += static_cast<char>(HexDigit(s[i + 2]) * 16 + HexDigit(s[i + 3]));
            i += 3;
        } else {
            out += s[i];
        }
    }
    return out;
}

bool IsHex(std::string_view s, size_t n) {
    if (s.size() != n)
        return false;
    for (char c : s)
        if (HexDigit(c) < 0)
            return false;
    return true;
}

std::string Upper(std::string s) {
    for (char& c : s)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
}

bool ToInt(const std::string& s, int64_t* out) {
    if (s.empty()) {
        *out = 0;
        return true;
    }
    char* end = nullptr;
    long long v = std::strtoll(s.c_str(), &end, 10);
    if (*end != '\0' || v < 0)
        return false;
    *out = v;
    return true;
}

}  // namespace

std::string MailboxOfUserId(std::string_view uid) {
    std::string_view addr = uid;
    size_t close = uid.rfind('>');
    if (close != std::string_view::npos) {
        size_t open = uid.rfind('<', close);
        if (open == std::string_view::npos)
            return "";
        addr = uid.substr(open + 1, close - open - 1);
    }
    size_t at = addr.find('@');
    if (at == 0 || at == std::string_view::npos || at + 1 >= addr.size() ||
        addr.find('@', at + 1) != std::string_view::npos)
        return "";
    std::string out;
    for (char c : addr) {
        if (std::isspace(static_cast<unsigned char>(c)) || c == '<' || c == '>')
            return "";
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

Status ParseGpgListing(std::string_view listing, OpenPgpKey* key) {
    *key = OpenPgpKey();
    enum { kNone, kPrimary, kSub, kOther } last = kNone;
    size_t start = 0;
    while (start < listing.size()) {
        size_t nl = listing.find('\n', start);
        std::string_view line =
            listing.substr(start, nl == std::string_view::npos ? nl : nl - start);
        start = nl == std::string_view::npos ? listing.size() : nl + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        std::vector<std::string> f = Fields(line);
        const std::string& type = f[0];
        if (type == "sec" || type == "ssb")
            return Status::InvalidArgument("a secret key: give the public key only");
        if (type == "pub") {
            if (last != kNone)
                return Status::InvalidArgument("more than one key: give exactly one");
            int64_t bits = 0, algo = 0;
            if (!ToInt(Field(f, 3), &bits) || !ToInt(Field(f, 4), &algo) ||
                !ToInt(Field(f, 6), &key->created) || !ToInt(Field(f, 7), &key->expires) ||
                !IsHex(Field(f, 5), 16))
                return Status::InvalidArgument("malformed key listing: " + std::string(line));
            key->bits = static_cast<unsigned>(bits);
            key->algorithm = static_cast<int>(algo);
            key->key_id = Upper(Field(f, 5));
            key->revoked = Field(f, 2) == "r";
            key->disabled = Field(f, 12).find('D') != std::string::npos;
            last = kPrimary;
        } else if (type == "sub") {
            if (last == kNone)
                return Status::InvalidArgument("malformed key listing: a subkey before its key");
            if (!IsHex(Field(f, 5), 16))
                return Status::InvalidArgument("malformed key listing: " + std::string(line));
            last = Field(f, 2) == "r" ? kOther : kSub;  // a revoked subkey is not listed
            if (last == kSub)
                key->sub_key_ids.push_back(Upper(Field(f, 5)));
        } else if (type == "fpr") {
            std::string fpr = Field(f, 10);
            if (!IsHex(fpr, 40) && !IsHex(fpr, 64))
                return Status::InvalidArgument("malformed fingerprint: " + fpr);
            if (last == kPrimary && key->fingerprint.empty())
                key->fingerprint = Upper(fpr);
            else if (last == kSub)
                key->sub_fingerprints.push_back(Upper(fpr));
            if (last == kSub)
                last = kOther;
        } else if (type == "uid") {
            if (last == kNone)
                return Status::InvalidArgument("malformed key listing: a user ID before its key");
            if (Field(f, 2) == "r")
                continue;  // revoked user IDs are not published
            std::string uid = Unescape(Field(f, 10));
            key->user_ids.push_back(uid);
            std::string mbox = MailboxOfUserId(uid);
            if (!mbox.empty())
                key->mailboxes.push_back(mbox);
        }
    }
    if (last == kNone)
        return Status::InvalidArgument("no OpenPGP public key");
    if (key->fingerprint.empty())
        return Status::InvalidArgument("malformed key listing: the key has no fingerprint");
    if (key->fingerprint.compare(key->fingerprint.size() - 16, 16, key->key_id) != 0 &&
        key->fingerprint.compare(0, 16, key->key_id) != 0)
        return Status::InvalidArgument("malformed key listing: key ID and fingerprint disagree");
    return Status::OK();
}

std::string PgpTime(int64_t seconds) {
    time_t t = static_cast<time_t>(seconds);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[32];
    strftime(buf, sizeof buf, "%Y%m%d%H%M%SZ", &tm);
    return buf;
}

std::string PgpKeyInfoDn(const OpenPgpKey& key, const std::string& key_space) {
    return "pgpCertID=" + key.key_id + "," + key_space;
}

LdapAttrs PgpKeyInfoAttrs(const OpenPgpKey& key) {
    LdapAttrs a;
    a["objectClass"] = {"pgpKeyInfo"};
    a["pgpCertID"] = {key.key_id};
    a["pgpKeyID"] = {key.key_id.substr(8)};
    a["pgpKey"] = {key.armored};
    a["pgpRevoked"] = {key.revoked ? "1" : "0"};
    a["pgpDisabled"] = {key.disabled ? "1" : "0"};
    a["pgpKeyCreateTime"] = {PgpTime(key.created)};
    if (key.expires)
        a["pgpKeyExpireTime"] = {PgpTime(key.expires)};
    if (key.bits)
        a["pgpKeySize"] = {std::to_string(key.bits)};
    if (key.algorithm >= 1 && key.algorithm <= 3)
        a["pgpKeyType"] = {"RSA"};
    else if (key.algorithm == 17)
        a["pgpKeyType"] = {"DSS/DH"};
    a["gpgFingerprint"] = {key.fingerprint};
    if (!key.user_ids.empty())
        a["pgpUserID"] = key.user_ids;
    std::vector<std::string> boxes;
    for (const std::string& m : key.mailboxes)
        if (std::find(boxes.begin(), boxes.end(), m) == boxes.end())
            boxes.push_back(m);
    if (!boxes.empty())
        a["gpgMailbox"] = boxes;
    if (!key.sub_fingerprints.empty())
        a["gpgSubFingerprint"] = key.sub_fingerprints;
    if (!key.sub_key_ids.empty())
        a["pgpSubKeyID"] = key.sub_key_ids;
    return a;
}

}  // namespace keydir
