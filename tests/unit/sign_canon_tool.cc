// sign-canon: prints the canonical form (doc/signing.md §4.5) of search
// requests, one per input line, for tests/integration/test_sign_canonical_slapd.py.
//
// Input lines: base TAB scope TAB deref TAB filter TAB attributes (space
// separated). Output lines: the canonical request in hex, or "error: ..."
#include <iostream>
#include <sstream>
#include <string>

#include "sign/canonical.h"

int main() {
    static const char kHex[] = "0123456789abcdef";
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string base, scope, deref, filter, attrs;
        std::getline(in, base, '\t');
        std::getline(in, scope, '\t');
        std::getline(in, deref, '\t');
        std::getline(in, filter, '\t');
        std::getline(in, attrs);
        keydir::SearchRequestParts r;
        r.base_dn = base;
        r.scope = static_cast<uint8_t>(std::stoi(scope.empty() ? "0" : scope));
        r.deref = static_cast<uint8_t>(std::stoi(deref.empty() ? "0" : deref));
        r.filter = filter;
        std::istringstream names(attrs);
        for (std::string a; names >> a;)
            r.attributes.push_back(a);
        std::string out;
        keydir::Status s = keydir::CanonicalRequest(r, &out);
        if (!s.ok()) {
            std::cout << "error: " << s.message() << "\n";
            continue;
        }
        std::string hex;
        for (unsigned char c : out) {
            hex += kHex[c >> 4];
            hex += kHex[c & 15];
        }
        std::cout << hex << "\n";
    }
    return 0;
}
