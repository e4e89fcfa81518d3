#include "workload.h"

#include <sstream>

namespace keydir {
namespace bench {
namespace {

const char* const kNames[kOpTypes] = {"lookup", "absent", "add", "modify"};

}  // namespace

const char* OpName(OpType t) {
    return kNames[static_cast<size_t>(t)];
}

Status OperationMix::Parse(const std::string& spec, OperationMix* out) {
    OperationMix mix;
    if (spec.empty())
        return Status::InvalidArgument("the workload is empty");
    std::stringstream in(spec);
    std::string item;
    while (std::getline(in, item, ',')) {
        std::string name = item, weight = "1";
        size_t eq = item.find('=');
        if (eq != std::string::npos) {
            name = item.substr(0, eq);
            weight = item.substr(eq + 1);
        } else if (spec.find(',') != std::string::npos) {
            return Status::InvalidArgument("workload '" + spec +
                                           "': give each part a weight, as in "
                                           "lookup=90,modify=10");
        }
        size_t t = 0;
        while (t < kOpTypes && name != kNames[t])
            ++t;
        if (t == kOpTypes)
            return Status::InvalidArgument("workload '" + spec + "': unknown operation '" + name +
                                           "' (expected lookup, absent, add or modify)");
        if (mix.weights_[t] != 0)
            return Status::InvalidArgument("workload '" + spec + "': '" + name + "' appears twice");
        if (weight.empty() || weight.find_first_not_of("0123456789") != std::string::npos ||
            weight.size() > 6)
            return Status::InvalidArgument("workload '" + spec + "': the weight of '" + name +
                                           "' must be a whole number up to 999999");
        uint32_t w = static_cast<uint32_t>(std::stoul(weight));
        mix.weights_[t] = w;
        mix.total_ += w;
    }
    if (mix.total_ == 0)
        return Status::InvalidArgument("workload '" + spec + "': all weights are 0");
    *out = mix;
    return Status::OK();
}

OpType OperationMix::Pick(std::mt19937_64* rng) const {
    uint64_t r = (*rng)() % total_;
    for (size_t t = 0; t < kOpTypes; ++t) {
        if (r < weights_[t])
            return static_cast<OpType>(t);
        r -= weights_[t];
    }
    return OpType::kLookup;  // not reached: weights sum to total_
}

std::string OperationMix::ToString() const {
    std::string out;
    for (size_t t = 0; t < kOpTypes; ++t) {
        if (weights_[t] == 0)
            continue;
        if (!out.empty())
            out += ",";
        out += kNames[t];
        out += "=" + std::to_string(weights_[t]);
    }
    return out;
}

Status Workload::Make(const OperationMix& mix, const AddressUniverse& universe, uint64_t stream,
                      uint64_t streams, std::unique_ptr<Workload>* out) {
    std::unique_ptr<Workload> w(new Workload);
    w->mix_ = mix;
    w->universe_ = universe;
    w->stream_ = stream;
    w->streams_ = streams;
    // Seeds distinct from the choosers' (streams 0..streams-1).
    std::seed_seq seq{static_cast<uint32_t>(universe.seed), static_cast<uint32_t>(stream),
                      0x6d6978u};
    w->rng_.seed(seq);
    Status s;
    if (mix.uses(OpType::kLookup) || mix.uses(OpType::kModify)) {
        if (!universe.present)
            return Status::InvalidArgument("lookup and modify need addresses");
        s = KeyChooser::Make(universe.distribution, universe.present->size(),
                             universe.zipf_exponent, universe.seed, stream, streams, &w->present_);
        if (!s.ok())
            return s;
    }
    if (mix.uses(OpType::kAbsent)) {
        if (!universe.absent)
            return Status::InvalidArgument("absent lookups need absent addresses");
        s = KeyChooser::Make(universe.distribution, universe.absent->size(), universe.zipf_exponent,
                             universe.seed ^ 0xab5e47ULL, stream, streams, &w->absent_);
        if (!s.ok())
            return s;
    }
    *out = std::move(w);
    return Status::OK();
}

Request Workload::Next() {
    Request r;
    r.type = mix_.Pick(&rng_);
    r.serial = serial_++;
    switch (r.type) {
        case OpType::kLookup:
        case OpType::kModify:
            r.address = universe_.present->At(present_->Next());
            break;
        case OpType::kAbsent:
            r.address = universe_.absent->At(absent_->Next());
            break;
        case OpType::kAdd:
            // Stream s adds s, s+streams, s+2*streams ...: never the same twice.
            r.address = universe_.add_pattern.Format(stream_ + streams_ * adds_++);
            break;
    }
    return r;
}

}  // namespace bench
}  // namespace keydir
