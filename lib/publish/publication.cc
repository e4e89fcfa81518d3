#include "publish/publication.h"

#include "sign/canonical.h"
#include "sign/canonical_writer.h"
#include "sign/der.h"

namespace keydir {

const char* PublicationActionName(Publication::Action action) {
    return action == Publication::Action::kAdd ? "add" : "delete";
}

std::string EncodePublication(const Publication& p) {
    DerWriter w;
    w.BeginSequence();
    w.Enumerated(static_cast<uint64_t>(p.action));
    w.OctetString(p.member_dn);
    w.BeginSequence();
    for (const std::string& u : p.urls)
        w.OctetString(u);
    w.EndSequence();
    w.EndSequence();
    return w.Finish();
}

Status DecodePublication(std::string_view value, Publication* p) {
    DerReader in(value), seq;
    Status s = in.Sequence("publication", &seq);
    if (s.ok())
        s = in.End("publication");
    uint64_t action = 0;
    Publication out;
    if (s.ok())
        s = seq.Enumerated("action", 1, &action);
    if (s.ok())
        s = seq.OctetString("memberDN", 1, 1024, &out.member_dn);
    DerReader urls;
    if (s.ok())
        s = seq.Sequence("urls", &urls);
    while (s.ok() && !urls.empty()) {
        std::string u;
        s = urls.OctetString("url", 1, 1024, &u);
        if (out.urls.size() == kMaxPublicationUrls)
            return Status::InvalidArgument("publication: more than 16 URLs");
        out.urls.push_back(std::move(u));
    }
    if (s.ok())
        s = seq.End("publication");
    if (!s.ok())
        return s;
    out.action = static_cast<Publication::Action>(action);
    if (out.action == Publication::Action::kAdd && out.urls.empty())
        return Status::InvalidArgument("publication: an add names no URL");
    if (out.action == Publication::Action::kDelete && !out.urls.empty())
        return Status::InvalidArgument("publication: a delete names a URL");
    *p = std::move(out);
    return Status::OK();
}

Status CanonicalPublication(const Publication& p, std::string* out) {
    std::string dn;
    Status s = CanonicalDnBytes(p.member_dn, &dn);
    if (!s.ok())
        return s;
    CanonicalWriter w;
    w.U8(0xFF);
    w.Str("keydir-publish-v1");
    w.U8(static_cast<uint8_t>(p.action));
    w.Str(dn);
    w.U32(static_cast<uint32_t>(p.urls.size()));
    for (const std::string& u : p.urls)
        w.Str(u);
    *out = w.Take();
    return Status::OK();
}

}  // namespace keydir
