// What keydir-lookup prints: the usable certificates as PEM with their
// fingerprints (text), or one JSON object (--json).
#ifndef KEYDIR_TOOLS_LOOKUP_OUTPUT_H
#define KEYDIR_TOOLS_LOOKUP_OUTPUT_H

#include <string>

#include "base/json.h"
#include "base/status.h"
#include "lookup/resolver.h"

namespace keydir {

std::string TextOutput(const LookupResult& result);

// {"address":..., "found":bool, "certificates":[...], "rejected":[...],
//  "warnings":[...], "error": "..." (only on error)}
std::string JsonOutput(const std::string& address, const LookupResult& result,
                       const Status& status);

}  // namespace keydir

#endif  // KEYDIR_TOOLS_LOOKUP_OUTPUT_H
