#include "sign/canonical.h"

#include <algorithm>

#include "chase/dn.h"
#include "sign/canonical_writer.h"
#include "sign/ldap_filter.h"

namespace keydir {

Status CanonicalDnBytes(std::string_view text, std::string* out) {
    Dn dn;
    Status s = ParseDn(text, &dn);
    if (!s.ok())
        return s;
    // CanonicalDn() (chase/dn.h), done in place: this runs for every
    // signed request and entry.
    CanonicalWriter w;
    w.Reserve(text.size() + 16 * dn.rdns.size() + 4);
    w.U32(static_cast<uint32_t>(dn.rdns.size()));
    for (DnRdn& rdn : dn.rdns) {
        for (DnAva& ava : rdn) {
            for (char& c : ava.type)
                if (c >= 'A' && c <= 'Z')
                    c = static_cast<char>(c - 'A' + 'a');
            ava.value = CanonicalValue(ava.value);
        }
        if (rdn.size() > 1)
            std::sort(rdn.begin(), rdn.end(), [](const DnAva& a, const DnAva& b) {
                return a.type != b.type ? a.type < b.type : a.value < b.value;
            });
        w.U32(static_cast<uint32_t>(rdn.size()));
        for (const DnAva& ava : rdn) {
            w.Str(ava.type);
            w.Str(ava.value);
        }
    }
    *out = w.Take();
    return Status::OK();
}

Status CanonicalRequest(const SearchRequestParts& r, std::string* out) {
    if (r.scope > 3)
        return Status::InvalidArgument("search scope " + std::to_string(r.scope) + " is not 0-3");
    if (r.deref > 3)
        return Status::InvalidArgument("alias dereferencing " + std::to_string(r.deref) +
                                       " is not 0-3");
    std::string dn;
    Status s = CanonicalDnBytes(r.base_dn, &dn);
    if (!s.ok())
        return Status::InvalidArgument("search base: " + s.message());
    std::string filter;
    s = CanonicalFilter(r.filter, &filter);
    if (!s.ok())
        return s;
    std::vector<std::string> attrs;
    attrs.reserve(r.attributes.size());
    for (const std::string& a : r.attributes)
        attrs.push_back(CanonicalAttributeDescription(a));
    std::sort(attrs.begin(), attrs.end());
    CanonicalWriter w;
    w.Str(dn);
    w.U8(r.scope);
    w.U8(r.deref);
    w.U32(r.size_limit);
    w.U32(r.time_limit);
    w.U8(r.types_only ? 1 : 0);
    w.U8(r.manage_dsa_it ? 1 : 0);
    w.Str(filter);
    w.U32(static_cast<uint32_t>(attrs.size()));
    for (const std::string& a : attrs)
        w.Str(a);
    *out = w.Take();
    return Status::OK();
}

Status CanonicalEntry(const LdapEntry& entry, std::string* out) {
    std::string dn;
    Status s = CanonicalDnBytes(entry.dn, &dn);
    if (!s.ok())
        return Status::InvalidArgument("entry DN: " + s.message());
    std::vector<std::pair<std::string, const LdapAttribute*>> attrs;
    attrs.reserve(entry.attributes.size());
    for (const LdapAttribute& a : entry.attributes)
        attrs.emplace_back(CanonicalAttributeDescription(a.description), &a);
    std::sort(attrs.begin(), attrs.end(),
              [](const auto& x, const auto& y) { return x.first < y.first; });
    for (size_t i = 1; i < attrs.size(); ++i)
        if (attrs[i].first == attrs[i - 1].first)
            return Status::InvalidArgument("entry " + entry.dn + " has the attribute " +
                                           attrs[i].first + " twice");
    size_t size = dn.size() + 8;
    for (const auto& da : attrs) {
        size += da.first.size() + 8;
        for (const std::string& v : da.second->values)
            size += v.size() + 4;
    }
    CanonicalWriter w;
    w.Reserve(size);
    w.Str(dn);
    w.U32(static_cast<uint32_t>(attrs.size()));
    for (const auto& [desc, attr] : attrs) {
        std::vector<std::string_view> values(attr->values.begin(), attr->values.end());
        std::sort(values.begin(), values.end());
        w.Str(desc);
        w.U32(static_cast<uint32_t>(values.size()));
        for (std::string_view v : values)
            w.Str(v);
    }
    *out = w.Take();
    return Status::OK();
}

std::string CanonicalUrls(const std::vector<std::string>& urls) {
    CanonicalWriter w;
    w.U32(static_cast<uint32_t>(urls.size()));
    for (const std::string& u : urls)
        w.Str(u);
    return w.Take();
}

}  // namespace keydir
