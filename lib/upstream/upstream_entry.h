// A fetched entry kept as bytes (the key cache's record) and what it says
// about how long it may be kept.
#ifndef KEYDIR_UPSTREAM_UPSTREAM_ENTRY_H
#define KEYDIR_UPSTREAM_UPSTREAM_ENTRY_H

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "upstream/upstream_client.h"

namespace keydir {

// Length-prefixed, versioned; Decode checks every length.
std::string EncodeUpstreamEntry(const UpstreamEntry& entry);
Status DecodeUpstreamEntry(std::string_view record, UpstreamEntry* entry);

// The values of an attribute (by name, ignoring case and options such as
// ";binary"), or nullptr.
const UpstreamAttribute* FindAttribute(const UpstreamEntry& entry, std::string_view name);

// The zone's published TTL (keydirTTL) when the entry carries one.
std::optional<int64_t> EntryZoneTtl(const UpstreamEntry& entry);

// The earliest keydirNotAfter still in the future at `now` (Unix seconds);
// when every value is past, the latest one (so the cache refuses it); none
// when the entry has no keydirNotAfter.
std::optional<int64_t> EntryNotAfter(const UpstreamEntry& entry, int64_t now);

}  // namespace keydir

#endif  // KEYDIR_UPSTREAM_UPSTREAM_ENTRY_H
