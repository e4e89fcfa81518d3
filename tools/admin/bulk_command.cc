// keydir-admin member bulk FILE -o LDIF: provisions many members offline.
// Key generation dominates (RSA-3072 especially), so members are made on
// several threads; the LDIF keeps the order of the input file.
#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>
#include <unordered_set>

#include "admin/command_util.h"
#include "admin/commands.h"
#include "admin/member.h"
#include "cert/address.h"
#include "common/atomic_file.h"

namespace keydir {
namespace {

struct Wanted {
    std::string address;
    std::string cn;
};

// One member per line: ADDRESS [COMMON NAME]; blank lines and # comments
// are skipped. Every line is checked before any key is made.
Status ReadList(const std::string& file, std::vector<Wanted>* out, std::string* domain) {
    std::ifstream in_file;
    std::istream* in = &std::cin;
    if (file != "-") {
        in_file.open(file);
        if (!in_file)
            return Status::IOError("cannot read " + file);
        in = &in_file;
    }
    std::unordered_set<std::string> seen;
    std::string line;
    for (size_t lineno = 1; std::getline(*in, line); ++lineno) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        size_t start = line.find_first_not_of(" \t");
        if (start == std::string::npos || line[start] == '#')
            continue;
        size_t end = line.find_first_of(" \t", start);
        std::string raw = line.substr(start, end == std::string::npos ? end : end - start);
        std::string cn;
        if (end != std::string::npos) {
            size_t cn_start = line.find_first_not_of(" \t", end);
            if (cn_start != std::string::npos)
                cn = line.substr(cn_start);
        }
        auto where = [&] { return file + ":" + std::to_string(lineno) + ": "; };
        Wanted w;
        Status s = ValidateAddress(raw, &w.address);
        if (!s.ok())
            return Status::InvalidArgument(where() + s.message());
        if (domain->empty())
            *domain = DomainOf(w.address);
        if (DomainOf(w.address) != *domain)
            return Status::InvalidArgument(where() + w.address + " is not in the zone " + *domain +
                                           " of the first address (one zone per run)");
        if (!seen.insert(w.address).second)
            return Status::InvalidArgument(where() + w.address + " is listed twice");
        w.cn = cn;
        out->push_back(std::move(w));
    }
    if (in->bad())
        return Status::IOError("cannot read " + file);
    if (out->empty())
        return Status::InvalidArgument(file + ": no address in it");
    return Status::OK();
}

}  // namespace

Status MemberBulk(const AdminOptions& o, const std::string& list_file, Env* env, Io io) {
    if (o.output.empty())
        return Status::InvalidArgument("member bulk needs -o FILE for the LDIF it writes");
    if (!o.ldap.uri.empty())
        return Status::InvalidArgument("member bulk writes LDIF for slapadd; it does not use -H");
    std::vector<Wanted> wanted;
    std::string domain;
    Status s = ReadList(list_file, &wanted, &domain);
    if (!s.ok())
        return s;
    std::unique_ptr<Zone> zone;
    s = Zone::Open(o.zones_root, domain, &zone);
    if (!s.ok())
        return s;
    std::unique_ptr<AtomicFile> out;
    s = AtomicFile::Create(o.output, 0600, &out);
    if (s.ok())
        s = zone->Lock();
    if (!s.ok())
        return s;
    IssueParams params;
    s = PrepareIssue(o, zone.get(), env, &params);
    if (!s.ok())
        return s;
    if (!o.force) {
        std::unordered_set<std::string> issued;
        s = zone->IssuedAddresses(&issued);
        if (!s.ok())
            return s;
        for (const auto& w : wanted)
            if (issued.count(w.address))
                return Status::Exists(
                    "the member " + w.address +
                    " exists already (issued.log of the zone; --force issues again)");
    }

    unsigned jobs = o.jobs > 0 ? static_cast<unsigned>(o.jobs)
                               : std::max(1u, std::thread::hardware_concurrency());
    jobs = std::min<unsigned>(jobs, static_cast<unsigned>(wanted.size()));
    // Each thread signs with its own copy of the CA key: an EVP_PKEY is
    // not documented as safe to use from several threads at once.
    std::vector<ossl::PKeyPtr> ca_keys;
    for (unsigned j = 0; j < jobs; ++j) {
        ca_keys.emplace_back(EVP_PKEY_dup(zone->ca_key()));
        if (!ca_keys.back())
            return Status::Unavailable("cannot copy the CA key: " + ossl::TakeError());
    }

    const size_t kBlock = 256;
    std::vector<std::string> ldif(kBlock), log(kBlock);
    std::string all_log;
    int64_t started = env->NowMonotonicMicros();
    uint64_t bytes = 0;
    for (size_t base = 0; base < wanted.size(); base += kBlock) {
        size_t count = std::min(kBlock, wanted.size() - base);
        std::atomic<size_t> next{0};
        std::atomic<bool> failed{false};
        std::vector<Status> errors(jobs);
        auto work = [&](unsigned j) {
            for (size_t i; !failed && (i = next++) < count;) {
                const Wanted& w = wanted[base + i];
                MemberMaterial m;
                Status st =
                    MakeMemberMaterial(*zone, ca_keys[j].get(), w.address, w.cn, params, env, &m);
                if (!st.ok()) {
                    errors[j] = Status::InvalidArgument(w.address + ": " + st.ToString());
                    failed = true;
                    return;
                }
                ldif[i] = MemberLdif(m);
                log[i] = IssueLogLine(env, m);
            }
        };
        std::vector<std::thread> threads;
        for (unsigned j = 1; j < jobs; ++j)
            threads.emplace_back(work, j);
        work(0);
        for (auto& t : threads)
            t.join();
        for (const auto& e : errors)
            if (!e.ok())
                return e;  // `out` is dropped: no LDIF file appears
        for (size_t i = 0; i < count; ++i) {
            s = out->Write(ldif[i]);
            if (!s.ok())
                return s;
            bytes += ldif[i].size();
            all_log += log[i];
        }
    }
    s = out->Commit();
    if (!s.ok())
        return s;
    double seconds = (env->NowMonotonicMicros() - started) / 1e6;
    s = zone->AppendLog(all_log);
    if (!s.ok())
        return s;
    std::ostringstream rate;
    rate.precision(1);
    rate << std::fixed << seconds << " s (" << (seconds > 0 ? wanted.size() / seconds : 0.0)
         << " members/s)";
    io.err << "member bulk: " << wanted.size() << " " << KeyTypeName(params.key_type)
           << " members of " << domain << " in " << rate.str() << " on " << jobs
           << (jobs == 1 ? " thread" : " threads") << "; " << o.output << ": " << bytes
           << " bytes of LDIF\n";
    return Status::OK();
}

}  // namespace keydir
