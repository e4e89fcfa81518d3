// Searches that wait for a chase without holding a slapd worker thread.
//
// The search hook returns SLAPD_ASYNCOP: slapd lets go of the operation
// (its memory context included) and the worker thread serves other clients.
// The Resolver's threads chase; when the last address of the search is
// resolved, a task on slapd's thread pool takes the operation back, runs
// the local part of the search through the overlays below keychase with
// the answer callback on top, and finishes the operation as slapd would.
//
// The completion may only start once slapd's worker has finished returning
// from the search (it still writes op->o_bd on the way out, and counts the
// operation as asynchronous under the connection mutex): it waits until
// op->o_bd is back to frontendDB, then takes and releases c_mutex.
#include <sched.h>

#include <chrono>
#include <thread>

#include "keychase.h"

namespace keydir {
namespace keychase {
namespace {

struct AsyncSearch {
    Operation* op;
    Search* search;
};

bool InternalOperation(Operation* op) {
    return op->o_conn == nullptr || op->o_conn->c_connid == static_cast<unsigned long>(-1);
}

void WaitForWorkerToLetGo(Operation* op) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (__atomic_load_n(&op->o_bd, __ATOMIC_ACQUIRE) != frontendDB) {
        if (std::chrono::steady_clock::now() > deadline) {
            Debug(LDAP_DEBUG_ANY,
                  "keychase: conn=%lu op=%lu: worker slow to release the operation\n", op->o_connid,
                  op->o_opid);
            break;
        }
        sched_yield();
    }
    ldap_pvt_thread_mutex_lock(&op->o_conn->c_mutex);
    ldap_pvt_thread_mutex_unlock(&op->o_conn->c_mutex);
}

// On a slapd pool thread: finish the search.
void* Complete(void* ctx, void* arg) {
    AsyncSearch* as = static_cast<AsyncSearch*>(arg);
    Operation* op = as->op;
    Search* s = as->search;
    delete as;
    if (!ctx) {
        // slapd is shutting down and its pool takes no more work: let the
        // operation go unanswered, as slapd does with its own.
        delete s;
        op->o_callback = nullptr;
        void* op_slab = op->o_tmpmemctx;
        connection_op_finish(op);
        slap_op_free(op, nullptr);
        slap_sl_mem_destroy(reinterpret_cast<void*>(1), op_slab);
        return nullptr;
    }
    WaitForWorkerToLetGo(op);

    op->o_threadctx = ctx;
    op->o_tid = ldap_pvt_thread_pool_tid(ctx);
    void* thread_slab = slap_sl_mem_create(SLAP_SLAB_SIZE, SLAP_SLAB_STACK, ctx, 0);
    void* op_slab = op->o_tmpmemctx;
    slap_sl_mem_setctx(ctx, op_slab);
    op->o_bd = s->db;

    try {
        if (!op->o_abandon) {
            slap_overinst* on = s->on;
            BackendDB db = *s->db;
            db.be_flags |= SLAP_DBFLAG_OVERLAY;
            op->o_bd = &db;
            AnswerCallback(op, s);  // owns s from here
            s = nullptr;
            SlapReply rs = {REP_RESULT};
            overlay_op_walk(op, &rs, op_search, on->on_info, on->on_next);
            op->o_bd = on->on_info->oi_origdb;
        }
    } catch (...) {
        Debug(LDAP_DEBUG_ANY, "keychase: internal error completing a search\n");
    }
    // Abandoned (or failed before the callback took it): nobody else frees s.
    delete s;
    // Free whatever callbacks are left (they live in op's slab).
    op->o_callback = nullptr;
    connection_op_finish(op);
    slap_op_free(op, ctx);
    slap_sl_mem_setctx(ctx, thread_slab);
    slap_sl_mem_destroy(reinterpret_cast<void*>(1), op_slab);
    return nullptr;
}

void OneResolved(AsyncSearch* as) {
    if (--as->search->pending > 0)
        return;
    if (ldap_pvt_thread_pool_submit(&connection_pool, Complete, as) != 0) {
        // The pool refuses only while slapd shuts down; run it here.
        Complete(nullptr, as);
    }
}

}  // namespace

bool ConnectionChases::Take(unsigned long id, size_t max) {
    std::lock_guard<std::mutex> lock(mu_);
    size_t& n = in_flight_[id];
    if (n >= max)
        return false;
    ++n;
    return true;
}

void ConnectionChases::Give(unsigned long id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = in_flight_.find(id);
    if (it != in_flight_.end() && --it->second == 0)
        in_flight_.erase(it);
}

Resolution NotChased(const Settings& settings, bool per_connection) {
    Resolution r;
    r.kind = Resolution::Kind::kUnavailable;
    r.reason = per_connection ? "not looked up: this connection has " +
                                    std::to_string(settings.max_chases_per_connection) +
                                    " lookups under way at other key servers already"
                              : "not looked up: one search may make at most " +
                                    std::to_string(settings.max_chases_per_search) +
                                    " lookups at other key servers; ask again for the others";
    return r;
}

int StartAsync(Operation* op, SlapReply* rs, Search* s) {
    Instance* inst = Inst(s->on);
    if (InternalOperation(op)) {
        // An internal search cannot wait asynchronously: resolve in place.
        ResolveHere(s);
        AnswerCallback(op, s);
        return SLAP_CB_CONTINUE;
    }
    AsyncSearch* as = new AsyncSearch{op, s};
    s->pending = 1;  // held by this function until every chase is started
    // A search starts a few chases at most, and a connection has a few
    // under way at most: the others are answered from the cache only.
    const unsigned long connid = op->o_connid;
    size_t started = 0;
    for (Wanted& w : s->wanted) {
        if (w.coverage != Coverage::kNotCovered)
            continue;
        Resolution now;
        bool ready = inst->resolver->FromCache(w.address, &now);
        if (!ready && started >= inst->settings.max_chases_per_search) {
            now = NotChased(inst->settings, false);
            ready = true;
        } else if (!ready && !inst->connection_chases.Take(
                                 connid, inst->settings.max_chases_per_connection)) {
            now = NotChased(inst->settings, true);
            ready = true;
        }
        if (ready) {
            std::lock_guard<std::mutex> lock(s->mu);
            w.resolution = now;
            w.resolved = true;
            continue;
        }
        ++started;
        ++s->pending;
        Wanted* wp = &w;
        bool at_once;
        try {
            at_once = inst->resolver->Resolve(
                w.address, s->hops,
                [as, wp, inst, connid](const Resolution& r) {
                    inst->connection_chases.Give(connid);
                    // The search completes whatever this throws (a copy
                    // that cannot be made leaves the address unresolved).
                    try {
                        std::lock_guard<std::mutex> lock(as->search->mu);
                        wp->resolution = r;
                        wp->resolved = true;
                    } catch (...) {
                        wp->resolution.kind = Resolution::Kind::kUnavailable;
                    }
                    OneResolved(as);
                },
                &now);
        } catch (...) {
            // No chase was started for it (the callback was not kept).
            now = Resolution();
            now.kind = Resolution::Kind::kUnavailable;
            at_once = true;
        }
        if (at_once) {
            inst->connection_chases.Give(connid);
            std::lock_guard<std::mutex> lock(s->mu);
            w.resolution = now;
            w.resolved = true;
            --s->pending;
        }
    }
    if (--s->pending == 0) {
        // Everything was cached, or every chase ended already: answer now.
        delete as;
        AnswerCallback(op, s);
        return SLAP_CB_CONTINUE;
    }
    ++inst->counters.async_searches;
    return rs->sr_err = SLAPD_ASYNCOP;
}

}  // namespace keychase
}  // namespace keydir
