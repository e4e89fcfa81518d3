#include "store/dn_key.h"

namespace keydir {

Status SplitDn(std::string_view dn, std::vector<std::string_view>* rdns) {
    rdns->clear();
    if (dn.empty())
        return Status::OK();
    size_t start = 0;
    for (size_t i = 0; i < dn.size(); ++i) {
        char c = dn[i];
        if (c == '\\') {
            if (i + 1 >= dn.size())
                return Status::InvalidArgument("DN ends in a backslash");
            ++i;  // the escaped character (or first hex digit) never splits
            continue;
        }
        if (c == ',') {
            if (i == start)
                return Status::InvalidArgument("DN has an empty RDN");
            rdns->push_back(dn.substr(start, i - start));
            start = i + 1;
        }
    }
    if (start >= dn.size())
        return Status::InvalidArgument("DN has an empty RDN");
    rdns->push_back(dn.substr(start));
    return Status::OK();
}

Status DnKeyFromDn(std::string_view ndn, std::string* key) {
    std::vector<std::string_view> rdns;
    Status s = SplitDn(ndn, &rdns);
    if (!s.ok())
        return s;
    key->clear();
    key->reserve(ndn.size());
    for (auto it = rdns.rbegin(); it != rdns.rend(); ++it) {
        if (!key->empty() || it != rdns.rbegin())
            key->push_back('\0');
        key->append(it->data(), it->size());
    }
    return Status::OK();
}

std::string_view ParentDnKey(std::string_view key) {
    size_t pos = key.rfind('\0');
    if (pos == std::string_view::npos)
        return std::string_view();
    return key.substr(0, pos);
}

size_t DnKeyDepth(std::string_view key) {
    if (key.empty())
        return 0;
    size_t depth = 1;
    for (char c : key)
        if (c == '\0')
            ++depth;
    return depth;
}

std::string DescendantPrefix(std::string_view key) {
    std::string prefix(key);
    if (!prefix.empty())
        prefix.push_back('\0');
    return prefix;
}

std::string SubtreeEnd(std::string_view key) {
    std::string end(key);
    end.push_back('\x01');
    return end;
}

bool IsDescendantKey(std::string_view ancestor, std::string_view candidate) {
    if (ancestor.empty())
        return !candidate.empty();
    return candidate.size() > ancestor.size() + 1 &&
           candidate.compare(0, ancestor.size(), ancestor) == 0 &&
           candidate[ancestor.size()] == '\0';
}

}  // namespace keydir
