#include "upstream/upstream_entry.h"

#include "cert/x509_util.h"

#include <strings.h>

#include <algorithm>
#include <cctype>
#include <ctime>

namespace keydir {
namespace {

constexpr char kMagic[4] = {'K', 'D', 'E', '1'};

void PutU32(std::string* out, uint32_t v) {
    for (int i = 3; i >= 0; --i)
        out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutBytes(std::string* out, std::string_view b) {
    PutU32(out, static_cast<uint32_t>(b.size()));
    out->append(b.data(), b.size());
}

class Reader {
  public:
    explicit Reader(std::string_view in) : in_(in) {}
    bool U32(uint32_t* v) {
        if (in_.size() < 4)
            return false;
        uint32_t r = 0;
        for (int i = 0; i < 4; ++i)
            r = (r << 8) | static_cast<unsigned char>(in_[i]);
        in_.remove_prefix(4);
        *v = r;
        return true;
    }
    bool Bytes(std::string* out) {
        uint32_t n;
        if (!U32(&n) || in_.size() < n)
            return false;
        out->assign(in_.data(), n);
        in_.remove_prefix(n);
        return true;
    }
    size_t left() const { return in_.size(); }

  private:
    std::string_view in_;
};

// "userCertificate;binary" matches "usercertificate".
bool SameAttribute(std::string_view have, std::string_view want) {
    size_t semi = have.find(';');
    if (semi != std::string_view::npos)
        have = have.substr(0, semi);
    return have.size() == want.size() && strncasecmp(have.data(), want.data(), want.size()) == 0;
}

}  // namespace

const std::vector<std::string>& ChasedAttributes() {
    static const std::vector<std::string> names = {
        "objectClass",
        "mail",
        "cn",
        "sn",
        "displayName",
        "userCertificate",
        "userSMIMECertificate",
        "keydirFingerprint",
        "keydirNotAfter",
        "keydirStatus",
        "keydirTTL",
        "keydirRevokedCertificate",
    };
    return names;
}

bool IsChasedAttribute(std::string_view name) {
    for (const std::string& want : ChasedAttributes())
        if (SameAttribute(name, want))
            return true;
    return false;
}

void KeepChasedAttributes(UpstreamEntry* entry) {
    auto& attrs = entry->attributes;
    attrs.erase(
        std::remove_if(attrs.begin(), attrs.end(),
                       [](const UpstreamAttribute& a) { return !IsChasedAttribute(a.name); }),
        attrs.end());
}

std::string EncodeUpstreamEntry(const UpstreamEntry& entry) {
    std::string out(kMagic, sizeof kMagic);
    PutBytes(&out, entry.dn);
    PutU32(&out, static_cast<uint32_t>(entry.attributes.size()));
    for (const UpstreamAttribute& a : entry.attributes) {
        PutBytes(&out, a.name);
        PutU32(&out, static_cast<uint32_t>(a.values.size()));
        for (const std::string& v : a.values)
            PutBytes(&out, v);
    }
    return out;
}

Status DecodeUpstreamEntry(std::string_view record, UpstreamEntry* entry) {
    if (record.size() < sizeof kMagic || record.compare(0, sizeof kMagic, kMagic, sizeof kMagic))
        return Status::Corruption("not an encoded entry");
    Reader r(record.substr(sizeof kMagic));
    UpstreamEntry e;
    uint32_t nattrs;
    if (!r.Bytes(&e.dn) || !r.U32(&nattrs) || nattrs > r.left() / 8)
        return Status::Corruption("truncated entry");
    for (uint32_t i = 0; i < nattrs; ++i) {
        UpstreamAttribute a;
        uint32_t nvals;
        if (!r.Bytes(&a.name) || !r.U32(&nvals) || nvals > r.left() / 4)
            return Status::Corruption("truncated attribute");
        a.values.resize(nvals);
        for (uint32_t j = 0; j < nvals; ++j)
            if (!r.Bytes(&a.values[j]))
                return Status::Corruption("truncated value");
        e.attributes.push_back(std::move(a));
    }
    if (r.left() != 0)
        return Status::Corruption("trailing bytes after the entry");
    *entry = std::move(e);
    return Status::OK();
}

const UpstreamAttribute* FindAttribute(const UpstreamEntry& entry, std::string_view name) {
    for (const UpstreamAttribute& a : entry.attributes)
        if (SameAttribute(a.name, name))
            return &a;
    return nullptr;
}

std::optional<int64_t> EntryZoneTtl(const UpstreamEntry& entry) {
    const UpstreamAttribute* a = FindAttribute(entry, "keydirTTL");
    if (!a || a->values.empty())
        return std::nullopt;
    const std::string& v = a->values[0];
    if (v.empty() || v.size() > 12)
        return std::nullopt;
    int64_t ttl = 0;
    for (char c : v) {
        if (!isdigit(static_cast<unsigned char>(c)))
            return std::nullopt;
        ttl = ttl * 10 + (c - '0');
    }
    return ttl;
}

std::optional<int64_t> EntryNotAfter(const UpstreamEntry& entry, int64_t now) {
    const UpstreamAttribute* a = FindAttribute(entry, "keydirNotAfter");
    if (!a)
        return std::nullopt;
    std::optional<int64_t> earliest_future, latest;
    for (const std::string& v : a->values) {
        int64_t t;
        if (!ParseGeneralizedTime(v, &t).ok())
            continue;
        if (!latest || t > *latest)
            latest = t;
        if (t > now && (!earliest_future || t < *earliest_future))
            earliest_future = t;
    }
    return earliest_future ? earliest_future : latest;
}

}  // namespace keydir
