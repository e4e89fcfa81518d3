// JSON string literals for the tools' --json output (keydir-lookup,
// keydir-bench).
#ifndef KEYDIR_BASE_JSON_H
#define KEYDIR_BASE_JSON_H

#include <string>

namespace keydir {

// `text` as a quoted JSON string: quote, backslash and control characters
// (and DEL) escaped; other bytes copied.
std::string JsonString(const std::string& text);

}  // namespace keydir

#endif  // KEYDIR_BASE_JSON_H
