// A fetched entry kept as bytes (the key cache's record) and what it says
// about how long it may be kept.
#ifndef KEYDIR_UPSTREAM_UPSTREAM_ENTRY_H
#define KEYDIR_UPSTREAM_UPSTREAM_ENTRY_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "upstream/upstream_client.h"

namespace keydir {

// Length-prefixed, versioned; Decode checks every length.
std::string EncodeUpstreamEntry(const UpstreamEntry& entry);
Status DecodeUpstreamEntry(std::string_view record, UpstreamEntry* entry);

// The values of an attribute (by name, ignoring case and options such as
// ";binary"), or nullptr.
const UpstreamAttribute* FindAttribute(const UpstreamEntry& entry, std::string_view name);

// The attributes a chase asks for and keeps: what a client needs to find
// and use a member's public keys. Private keys (userPKCS12) and passwords
// are not among them: they never leave their server through a chase.
const std::vector<std::string>& ChasedAttributes();

// Whether `name` (options such as ";binary" ignored, any case) is one of
// ChasedAttributes().
bool IsChasedAttribute(std::string_view name);

// Drops every attribute of entry that is not chased.
void KeepChasedAttributes(UpstreamEntry* entry);

// The zone's published TTL (keydirTTL) when the entry carries one.
std::optional<int64_t> EntryZoneTtl(const UpstreamEntry& entry);

// The earliest keydirNotAfter still in the future at `now` (Unix seconds);
// when every value is past, the latest one (so the cache refuses it); none
// when the entry has no keydirNotAfter.
std::optional<int64_t> EntryNotAfter(const UpstreamEntry& entry, int64_t now);

}  // namespace keydir

#endif  // KEYDIR_UPSTREAM_UPSTREAM_ENTRY_H
