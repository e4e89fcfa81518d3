// RecordCache (lib/store/record_cache.h) alone, and the store's reads
// through it: a hit never returns a value older than the last commit.
#include <cppunit/extensions/HelperMacros.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/dn_key.h"
#include "store/record_cache.h"
#include "store/store.h"
#include "temp_dir.h"
#include "store_test_util.h"

namespace keydir {

namespace {

RecordCache::Value V(const std::string& s) {
    return std::make_shared<const std::string>(s);
}

}  // namespace

class RecordCacheTest : public CppUnit::TestFixture {
    CPPUNIT_TEST_SUITE(RecordCacheTest);
    CPPUNIT_TEST(testMissThenHit);
    CPPUNIT_TEST(testDisabled);
    CPPUNIT_TEST(testLruEviction);
    CPPUNIT_TEST(testSetCapacityShrinks);
    CPPUNIT_TEST(testWriteErases);
    CPPUNIT_TEST(testStaleInsertAfterWriteRefused);
    CPPUNIT_TEST(testInsertDuringWriteRefused);
    CPPUNIT_TEST(testTicketDuringWriteNeverInserts);
    CPPUNIT_TEST(testStoreReadsSeeCommits);
    CPPUNIT_TEST(testStoreAbortKeepsOldValue);
    CPPUNIT_TEST(testStoreRenameMovesDn);
    CPPUNIT_TEST(testStoreStats);
    CPPUNIT_TEST(testStoreConcurrentReadersNeverStale);
    CPPUNIT_TEST_SUITE_END();

  public:
    void testMissThenHit() {
        RecordCache c(100, 4);
        uint64_t t;
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        c.Insert("a", V("1"), t);
        uint64_t t2;
        RecordCache::Value v = c.Lookup("a", &t2);
        CPPUNIT_ASSERT(v);
        CPPUNIT_ASSERT_EQUAL(std::string("1"), *v);
        RecordCache::Stats st = c.GetStats();
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), st.hits);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), st.misses);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), st.entries);
    }

    void testDisabled() {
        RecordCache c(0);
        uint64_t t;
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        c.Insert("a", V("1"), t);
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c.GetStats().entries);
        // Enabled later: writes fenced while disabled still count.
        c.BeginWrite("a");
        c.SetCapacity(10);
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        c.Insert("a", V("old"), t);
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        c.EndWrite("a");
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        c.Insert("a", V("new"), t);
        RecordCache::Value v = c.Lookup("a", &t);
        CPPUNIT_ASSERT(v);
        CPPUNIT_ASSERT_EQUAL(std::string("new"), *v);
    }

    void testLruEviction() {
        RecordCache c(3, 1);
        uint64_t t;
        for (const char* k : {"a", "b", "c"}) {
            c.Lookup(k, &t);
            c.Insert(k, V(k), t);
        }
        CPPUNIT_ASSERT(c.Lookup("a", &t));  // a is now the most recent
        c.Lookup("d", &t);
        c.Insert("d", V("d"), t);  // evicts b
        CPPUNIT_ASSERT(!c.Lookup("b", &t));
        CPPUNIT_ASSERT(c.Lookup("a", &t));
        CPPUNIT_ASSERT(c.Lookup("c", &t));
        CPPUNIT_ASSERT(c.Lookup("d", &t));
        CPPUNIT_ASSERT_EQUAL(uint64_t(3), c.GetStats().entries);
    }

    void testSetCapacityShrinks() {
        RecordCache c(8, 1);
        uint64_t t;
        for (int i = 0; i < 8; ++i) {
            std::string k = std::to_string(i);
            c.Lookup(k, &t);
            c.Insert(k, V(k), t);
        }
        c.SetCapacity(2);
        RecordCache::Stats st = c.GetStats();
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), st.entries);
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), st.capacity);
        CPPUNIT_ASSERT(c.Lookup("7", &t));
        c.SetCapacity(0);
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), c.GetStats().entries);
    }

    void testWriteErases() {
        RecordCache c(10, 2);
        uint64_t t;
        c.Lookup("a", &t);
        c.Insert("a", V("1"), t);
        c.BeginWrite("a");
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        c.EndWrite("a");
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
    }

    // A reader missed, read the old value; the write began, committed and
    // ended; the reader's insert comes last and must be refused.
    void testStaleInsertAfterWriteRefused() {
        RecordCache c(10, 1);
        uint64_t t;
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        c.BeginWrite("a");
        c.EndWrite("a");
        c.Insert("a", V("old"), t);
        uint64_t t2;
        CPPUNIT_ASSERT(!c.Lookup("a", &t2));
        // A write to another key of the same shard also fences (per shard).
        c.BeginWrite("b");
        c.EndWrite("b");
        c.Insert("a", V("old"), t2);
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        c.Insert("a", V("new"), t);
        RecordCache::Value v = c.Lookup("a", &t);
        CPPUNIT_ASSERT(v);
        CPPUNIT_ASSERT_EQUAL(std::string("new"), *v);
    }

    // The ticket was taken before the write began, the insert comes while
    // it is under way.
    void testInsertDuringWriteRefused() {
        RecordCache c(10, 1);
        uint64_t t;
        c.Lookup("a", &t);
        c.BeginWrite("a");
        c.Insert("a", V("old"), t);
        c.EndWrite("a");
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
    }

    // The ticket was taken while a write was under way: even after the
    // write ended it must not insert (the read may predate the commit).
    void testTicketDuringWriteNeverInserts() {
        RecordCache c(10, 1);
        uint64_t t;
        c.BeginWrite("a");
        c.Lookup("a", &t);
        c.EndWrite("a");
        c.Insert("a", V("old"), t);
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        // Two overlapping writes: fenced until both end.
        c.BeginWrite("a");
        c.BeginWrite("b");
        c.EndWrite("a");
        c.Lookup("a", &t);
        c.Insert("a", V("x"), t);
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        c.EndWrite("b");
        c.Insert("a", V("y"), t);  // the ticket was taken while b was written
        CPPUNIT_ASSERT(!c.Lookup("a", &t));
        c.Insert("a", V("z"), t);
        RecordCache::Value v = c.Lookup("a", &t);
        CPPUNIT_ASSERT(v);
        CPPUNIT_ASSERT_EQUAL(std::string("z"), *v);
    }

    StoreOptions Options(const TempDir& dir, size_t entries) {
        StoreOptions o;
        o.directory = dir.path();
        o.cache_bytes = 4 << 20;
        o.durability = Durability::kNoSync;
        o.entry_cache = entries;
        return o;
    }

    void testStoreReadsSeeCommits() {
        TempDir dir;
        std::unique_ptr<Store> store;
        ASSERT_OK(Store::Open(Options(dir, 100), &store));
        EntryId id = 0;
        ASSERT_OK(store->Update([&](Txn& t) {
            Status s = t.AppendEntry("v1", &id);
            return s.ok() ? t.InsertDn(Key("cn=a,dc=x"), id) : s;
        }));
        std::string r;
        for (int i = 0; i < 2; ++i) {  // miss, then hit
            ASSERT_OK(store->Get(id, &r));
            CPPUNIT_ASSERT_EQUAL(std::string("v1"), r);
        }
        ASSERT_OK(store->Update([&](Txn& t) { return t.PutEntry(id, "v2"); }));
        ASSERT_OK(store->Get(id, &r));
        CPPUNIT_ASSERT_EQUAL(std::string("v2"), r);
        std::shared_ptr<const std::string> shared;
        ASSERT_OK(store->GetShared(id, &shared));
        CPPUNIT_ASSERT_EQUAL(std::string("v2"), *shared);
        ASSERT_OK(store->Update([&](Txn& t) {
            Status s = t.DeleteEntry(id);
            return s.ok() ? t.DeleteDn(Key("cn=a,dc=x")) : s;
        }));
        CPPUNIT_ASSERT(store->Get(id, &r).IsNotFound());
        EntryId found;
        CPPUNIT_ASSERT(store->FindId(Key("cn=a,dc=x"), &found).IsNotFound());
    }

    void testStoreAbortKeepsOldValue() {
        TempDir dir;
        std::unique_ptr<Store> store;
        ASSERT_OK(Store::Open(Options(dir, 100), &store));
        EntryId id = 0;
        ASSERT_OK(store->Update([&](Txn& t) { return t.AppendEntry("v1", &id); }));
        std::string r;
        ASSERT_OK(store->Get(id, &r));
        Status s = store->Update([&](Txn& t) {
            Status ps = t.PutEntry(id, "v2");
            return ps.ok() ? Status::InvalidArgument("abort") : ps;
        });
        CPPUNIT_ASSERT(!s.ok());
        ASSERT_OK(store->Get(id, &r));
        CPPUNIT_ASSERT_EQUAL(std::string("v1"), r);
        ASSERT_OK(store->Get(id, &r));
        CPPUNIT_ASSERT_EQUAL(std::string("v1"), r);
    }

    void testStoreRenameMovesDn() {
        TempDir dir;
        std::unique_ptr<Store> store;
        ASSERT_OK(Store::Open(Options(dir, 100), &store));
        EntryId id = 0, found = 0;
        ASSERT_OK(store->Update([&](Txn& t) {
            Status s = t.AppendEntry("v1", &id);
            return s.ok() ? t.InsertDn(Key("cn=a,dc=x"), id) : s;
        }));
        ASSERT_OK(store->FindId(Key("cn=a,dc=x"), &found));
        ASSERT_OK(store->FindId(Key("cn=a,dc=x"), &found));  // from the cache
        CPPUNIT_ASSERT_EQUAL(id, found);
        ASSERT_OK(store->Update([&](Txn& t) {
            Status s = t.DeleteDn(Key("cn=a,dc=x"));
            return s.ok() ? t.InsertDn(Key("cn=b,dc=x"), id) : s;
        }));
        CPPUNIT_ASSERT(store->FindId(Key("cn=a,dc=x"), &found).IsNotFound());
        ASSERT_OK(store->FindId(Key("cn=b,dc=x"), &found));
        CPPUNIT_ASSERT_EQUAL(id, found);
    }

    void testStoreStats() {
        TempDir dir;
        std::unique_ptr<Store> store;
        ASSERT_OK(Store::Open(Options(dir, 1000), &store));
        EntryId id = 0;
        ASSERT_OK(store->Update([&](Txn& t) { return t.AppendEntry("v1", &id); }));
        std::string r;
        for (int i = 0; i < 3; ++i)
            ASSERT_OK(store->Get(id, &r));
        StoreStats st;
        ASSERT_OK(store->Stats(&st));
        CPPUNIT_ASSERT_EQUAL(uint64_t(2), st.entry_cache_hits);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), st.entry_cache_misses);
        CPPUNIT_ASSERT_EQUAL(uint64_t(1), st.entry_cache_entries);
        CPPUNIT_ASSERT(st.entry_cache_capacity >= 1000);
        store->SetEntryCache(0);
        ASSERT_OK(store->Stats(&st));
        CPPUNIT_ASSERT_EQUAL(uint64_t(0), st.entry_cache_entries);
        ASSERT_OK(store->Get(id, &r));
        CPPUNIT_ASSERT_EQUAL(std::string("v1"), r);
    }

    // Writers bump a version in each record and publish it once Update
    // returned (the acknowledgement); readers must never read a version
    // below the one acknowledged before their read began.
    void testStoreConcurrentReadersNeverStale() {
        TempDir dir;
        std::unique_ptr<Store> store;
        ASSERT_OK(Store::Open(Options(dir, 4), &store));  // small: evictions too
        constexpr int kEntries = 8;
        std::vector<EntryId> ids(kEntries);
        std::vector<std::atomic<int>> acked(kEntries);
        for (int i = 0; i < kEntries; ++i) {
            ASSERT_OK(store->Update([&](Txn& t) { return t.AppendEntry("0", &ids[i]); }));
            acked[i] = 0;
        }
        std::atomic<bool> stop{false};
        std::atomic<int> stale{0}, reads{0};
        std::vector<std::thread> readers;
        for (int r = 0; r < 3; ++r) {
            readers.emplace_back([&, r] {
                std::string rec;
                for (int n = r; !stop; ++n) {
                    int i = n % kEntries;
                    int before = acked[i].load();
                    if (!store->Get(ids[i], &rec).ok() || std::stoi(rec) < before)
                        ++stale;
                    ++reads;
                }
            });
        }
        while (reads.load() < 10)
            std::this_thread::yield();
        for (int v = 1; v <= 300; ++v) {
            int i = v % kEntries;
            ASSERT_OK(store->Update([&](Txn& t) { return t.PutEntry(ids[i], std::to_string(v)); }));
            acked[i] = v;
        }
        stop = true;
        for (auto& t : readers)
            t.join();
        CPPUNIT_ASSERT_EQUAL(0, stale.load());
    }
};

CPPUNIT_TEST_SUITE_REGISTRATION(RecordCacheTest);

}  // namespace keydir
