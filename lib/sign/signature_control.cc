#include "sign/signature_control.h"

#include "sign/der.h"

namespace keydir {
namespace {

constexpr uint64_t kVersion = 2;

bool IsNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

bool IsValidAlgorithmName(std::string_view name) {
    if (name.empty() || name.size() > kMaxAlgorithmLen)
        return false;
    for (char c : name)
        if (!IsNameChar(c))
            return false;
    return true;
}

Status Invalid(const std::string& what) {
    return Status::InvalidArgument("signature control: " + what);
}

}  // namespace

bool IsValidKeyName(std::string_view name) {
    if (name.empty() || name.size() > kMaxKeyNameLen)
        return false;
    for (char c : name)
        if (!IsNameChar(c))
            return false;
    return true;
}

Status EncodeSignatureControl(const SignatureControl& c, std::string* value) {
    if (!IsValidKeyName(c.key_name))
        return Invalid("key name must be 1-64 of [A-Za-z0-9._-]");
    if (!IsValidAlgorithmName(c.algorithm))
        return Invalid("bad algorithm name");
    if (c.time_signed < 0 || c.time_signed > kMaxTimeSigned)
        return Invalid("time signed outside 48 bits");
    if (c.fudge > kMaxFudge)
        return Invalid("fudge above 65535");
    if (c.nonce.size() < kMinNonceLen || c.nonce.size() > kMaxNonceLen)
        return Invalid("nonce must be 16-64 bytes");
    if (c.hop_count > kMaxHopCount)
        return Invalid("hop count above 255");
    if (c.mac.size() > kMaxMacLen)
        return Invalid("MAC longer than 255 bytes");
    if (c.server.size() > kMaxServerLen)
        return Invalid("server longer than 255 bytes");
    if (c.direction == SignedDirection::kAnswer && (c.hop_count != 0 || c.recursion))
        return Invalid("an answer carries hop count 0 and recursion FALSE");
    if ((c.direction == SignedDirection::kAnswer) != c.server.empty())
        return Invalid("a request names the server asked, an answer none");
    DerWriter w;
    w.BeginSequence();
    w.Integer(kVersion);
    w.Enumerated(static_cast<uint64_t>(c.direction));
    w.OctetString(c.key_name);
    w.OctetString(c.algorithm);
    w.Integer(static_cast<uint64_t>(c.time_signed));
    w.Integer(c.fudge);
    w.OctetString(c.nonce);
    w.Integer(c.hop_count);
    w.Boolean(c.recursion);
    w.OctetString(c.server);
    w.OctetString(c.mac);
    w.EndSequence();
    *value = w.Finish();
    return Status::OK();
}

Status DecodeSignatureControl(std::string_view value, SignatureControl* out) {
    if (value.size() > kMaxControlValueLen)
        return Invalid("value is " + std::to_string(value.size()) + " bytes, more than 1024");
    DerReader top(value);
    DerReader r;
    Status s = top.Sequence("signature control", &r);
    if (!s.ok())
        return s;
    s = top.End("signature control");
    if (!s.ok())
        return s;

    SignatureControl c;
    uint64_t version = 0, direction = 0, time_signed = 0, fudge = 0, hops = 0;
    if (!(s = r.Integer("signature control version", UINT64_MAX, &version)).ok())
        return s;
    if (version != kVersion)
        return Invalid("version " + std::to_string(version) + " is not supported (only 2)");
    if (!(s = r.Enumerated("signature control direction", 1, &direction)).ok())
        return s;
    c.direction = static_cast<SignedDirection>(direction);
    if (!(s = r.OctetString("signature control key name", 1, kMaxKeyNameLen, &c.key_name)).ok())
        return s;
    if (!IsValidKeyName(c.key_name))
        return Invalid("key name has characters outside [A-Za-z0-9._-]");
    if (!(s = r.OctetString("signature control algorithm", 1, kMaxAlgorithmLen, &c.algorithm)).ok())
        return s;
    if (!IsValidAlgorithmName(c.algorithm))
        return Invalid("algorithm name has characters outside [A-Za-z0-9._-]");
    if (!(s = r.Integer("signature control time signed", kMaxTimeSigned, &time_signed)).ok())
        return s;
    c.time_signed = static_cast<int64_t>(time_signed);
    if (!(s = r.Integer("signature control fudge", kMaxFudge, &fudge)).ok())
        return s;
    c.fudge = static_cast<uint32_t>(fudge);
    if (!(s = r.OctetString("signature control nonce", kMinNonceLen, kMaxNonceLen, &c.nonce)).ok())
        return s;
    if (!(s = r.Integer("signature control hop count", kMaxHopCount, &hops)).ok())
        return s;
    c.hop_count = static_cast<uint32_t>(hops);
    if (!(s = r.Boolean("signature control recursion", &c.recursion)).ok())
        return s;
    if (!(s = r.OctetString("signature control server", 0, kMaxServerLen, &c.server)).ok())
        return s;
    if (!(s = r.OctetString("signature control MAC", 0, kMaxMacLen, &c.mac)).ok())
        return s;
    if (!(s = r.End("signature control")).ok())
        return s;
    if (c.direction == SignedDirection::kAnswer && (c.hop_count != 0 || c.recursion))
        return Invalid("an answer must carry hop count 0 and recursion FALSE");
    if (c.direction == SignedDirection::kRequest && c.server.empty())
        return Invalid("a request must name the server it is meant for");
    if (c.direction == SignedDirection::kAnswer && !c.server.empty())
        return Invalid("an answer must name no server");
    *out = std::move(c);
    return Status::OK();
}

}  // namespace keydir
