#include "chase/filter_shape.h"

#include <cctype>

namespace keydir {
namespace {

std::string Lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

bool SubstringMatches(const SubstringAssertion& s, std::string_view value) {
    std::string v = Lower(value);
    size_t begin = 0, end = v.size();
    if (s.initial) {
        std::string p = Lower(*s.initial);
        if (p.size() > end || v.compare(0, p.size(), p) != 0)
            return false;
        begin = p.size();
    }
    if (s.final_piece) {
        std::string p = Lower(*s.final_piece);
        if (p.size() > end - begin || v.compare(end - p.size(), p.size(), p) != 0)
            return false;
        end -= p.size();
    }
    // The any pieces in order, not overlapping each other or the ends.
    for (const std::string& piece : s.any) {
        std::string p = Lower(piece);
        if (p.empty())
            continue;
        size_t at = v.find(p, begin);
        if (at == std::string::npos || at + p.size() > end)
            return false;
        begin = at + p.size();
    }
    return true;
}

bool AddressOfSubstring(const SubstringAssertion& s, MailAddress* out) {
    std::vector<std::string> candidates;
    if (s.initial)
        candidates.push_back(*s.initial);
    candidates.insert(candidates.end(), s.any.begin(), s.any.end());
    if (s.final_piece)
        candidates.push_back(*s.final_piece);
    if (s.initial && s.final_piece)
        candidates.push_back(*s.initial + *s.final_piece);
    std::optional<MailAddress> found;
    for (const std::string& c : candidates) {
        MailAddress a;
        if (!MailAddress::Parse(c, &a).ok())
            continue;
        if (found && !(*found == a))
            return false;  // two different addresses: not one lookup
        found = a;
    }
    if (!found || !SubstringMatches(s, found->normalized()))
        return false;
    *out = *found;
    return true;
}

}  // namespace keydir
