// What keydir-bench asks: a mix of operation types with weights, and for
// each request the address it concerns.
#ifndef KEYDIR_TOOLS_BENCH_WORKLOAD_H
#define KEYDIR_TOOLS_BENCH_WORKLOAD_H

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "address_set.h"
#include "base/status.h"
#include "key_chooser.h"

namespace keydir {
namespace bench {

enum class OpType { kLookup = 0, kAbsent, kAdd, kModify };
constexpr size_t kOpTypes = 4;
const char* OpName(OpType t);

// Weights of the operation types: "lookup", "add", or a mix such as
// "lookup=80,absent=10,modify=10" (integer weights, any sum).
class OperationMix {
  public:
    static Status Parse(const std::string& spec, OperationMix* out);
    OpType Pick(std::mt19937_64* rng) const;
    uint32_t weight(OpType t) const { return weights_[static_cast<size_t>(t)]; }
    bool uses(OpType t) const { return weight(t) > 0; }
    // The canonical text, e.g. "lookup=80,modify=20".
    std::string ToString() const;

  private:
    std::array<uint32_t, kOpTypes> weights_{};
    uint32_t total_ = 0;
};

struct Request {
    OpType type = OpType::kLookup;
    std::string address;
    uint64_t serial = 0;  // per-stream counter, for modify values
};

// The address sets a workload draws from, shared by all threads.
struct AddressUniverse {
    std::shared_ptr<const AddressSet> present;  // lookup and modify
    std::shared_ptr<const AddressSet> absent;   // absent lookups
    AddressPattern add_pattern;                 // new members
    Distribution distribution = Distribution::kUniform;
    double zipf_exponent = 1.0;
    uint64_t seed = 1;
};

// One stream of requests (one per client thread). Streams with distinct
// `stream` numbers draw independently and never add the same address.
class Workload {
  public:
    static Status Make(const OperationMix& mix, const AddressUniverse& universe, uint64_t stream,
                       uint64_t streams, std::unique_ptr<Workload>* out);
    Request Next();

  private:
    Workload() = default;
    OperationMix mix_;
    AddressUniverse universe_;
    std::mt19937_64 rng_;
    std::unique_ptr<KeyChooser> present_, absent_;
    uint64_t stream_ = 0, streams_ = 1;
    uint64_t adds_ = 0, serial_ = 0;
};

}  // namespace bench
}  // namespace keydir

#endif  // KEYDIR_TOOLS_BENCH_WORKLOAD_H
