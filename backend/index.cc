// Indexes, as back-mdb keeps them: equality, presence, substring and
// approximate keys come from the attribute's matching rules (smr_indexer
// for stored values, smr_filter for assertions), so they are exactly the
// keys slapd's own backends compute; lib/store keeps key -> IDs, one store
// index per kind. Ordering filters read a range of equality keys where the
// matching rule's keys keep the values' order (integer, time, CSN).
#include <algorithm>
#include <iterator>

#include "back_keydir.h"

namespace keydir {
namespace backend {

namespace {

// Every value of an attribute with a presence index has this one key.
const std::string kPresenceKey("\0", 1);

// The matching rule whose indexer makes a kind's keys, and the filter
// choice it is called with.
MatchingRule* KindRule(AttributeType* type, IndexKind kind, ber_tag_t* use) {
    switch (kind) {
        case IndexKind::kEquality:
            *use = LDAP_FILTER_EQUALITY;
            return type->sat_equality;
        case IndexKind::kSubstrings:
            *use = LDAP_FILTER_SUBSTRINGS;
            return type->sat_substr;
        case IndexKind::kApprox:
            *use = LDAP_FILTER_APPROX;
            return type->sat_approx;
        case IndexKind::kPresence:
            break;
    }
    *use = LDAP_FILTER_PRESENT;
    return nullptr;
}

}  // namespace

std::string IndexName(AttributeType* type, IndexKind kind) {
    std::string name(type->sat_cname.bv_val, type->sat_cname.bv_len);
    switch (kind) {
        case IndexKind::kEquality:
            return name;  // the first kind keydir had: its files keep their names
        case IndexKind::kPresence:
            return name + ";pres";
        case IndexKind::kSubstrings:
            return name + ";sub";
        case IndexKind::kApprox:
            return name + ";approx";
    }
    return name;
}

const IndexSpec* FindIndex(KeydirDb* kd, AttributeType* type, IndexKind kind) {
    for (const IndexSpec& ix : kd->indexes)
        if (ix.type == type && ix.kind == kind)
            return &ix;
    return nullptr;
}

int ValueIndexKeys(Operation* op, const IndexSpec& ix, AttributeDescription* ad, BerVarray values,
                   std::vector<IndexKey>* keys) {
    if (!values || !values[0].bv_val)
        return LDAP_SUCCESS;
    if (ix.kind == IndexKind::kPresence) {
        keys->push_back(IndexKey{&ix.name, kPresenceKey});
        return LDAP_SUCCESS;
    }
    ber_tag_t use;
    MatchingRule* mr = KindRule(ad->ad_type, ix.kind, &use);
    if (!mr || !mr->smr_indexer)
        return LDAP_SUCCESS;
    BerVarray out = nullptr;
    int rc = mr->smr_indexer(use, ix.mask, ad->ad_type->sat_syntax, mr, &ix.type->sat_cname, values,
                             &out, op->o_tmpmemctx);
    if (rc != LDAP_SUCCESS)
        return rc;
    for (int i = 0; out && out[i].bv_val; ++i)
        keys->push_back(IndexKey{&ix.name, std::string(out[i].bv_val, out[i].bv_len)});
    if (out)
        ber_bvarray_free_x(out, op->o_tmpmemctx);
    return LDAP_SUCCESS;
}

int EntryIndexKeys(Operation* op, KeydirDb* kd, Entry* e, std::vector<IndexKey>* keys) {
    keys->clear();
    if (kd->indexes.empty())
        return LDAP_SUCCESS;
    for (Attribute* a = e->e_attrs; a; a = a->a_next) {
        for (const IndexSpec& ix : kd->indexes) {
            if (ix.type != a->a_desc->ad_type)
                continue;
            int rc = ValueIndexKeys(op, ix, a->a_desc, a->a_nvals, keys);
            if (rc != LDAP_SUCCESS)
                return rc;
        }
    }
    return LDAP_SUCCESS;
}

Status ApplyIndexKeys(Txn& t, const std::vector<IndexKey>& keys, EntryId id, bool add) {
    for (const IndexKey& k : keys) {
        Status s = add ? t.AddIndexKey(*k.index, k.key, id) : t.RemoveIndexKey(*k.index, k.key, id);
        if (!s.ok())
            return s;
    }
    return Status::OK();
}

namespace {

void Intersect(std::vector<EntryId>* acc, const std::vector<EntryId>& other) {
    std::vector<EntryId> out;
    std::set_intersection(acc->begin(), acc->end(), other.begin(), other.end(),
                          std::back_inserter(out));
    acc->swap(out);
}

void Union(std::vector<EntryId>* acc, const std::vector<EntryId>& other) {
    std::vector<EntryId> out;
    std::set_union(acc->begin(), acc->end(), other.begin(), other.end(), std::back_inserter(out));
    acc->swap(out);
}

// The entries that have every key (an assertion's keys, made by a matching
// rule's smr_filter); no keys: every entry is a candidate.
int KeyedCandidates(KeydirDb* kd, const IndexSpec& ix, BerVarray keys, std::vector<EntryId>* ids,
                    bool* all) {
    *all = true;
    if (!keys || !keys[0].bv_val)
        return LDAP_SUCCESS;
    for (int i = 0; keys[i].bv_val; ++i) {
        std::vector<EntryId> found;
        Status s = kd->store->IndexLookup(ix.name, std::string_view(keys[i].bv_val, keys[i].bv_len),
                                          &found);
        if (!s.ok())
            return LDAP_OTHER;
        if (i == 0)
            ids->swap(found);
        else
            Intersect(ids, found);
        if (ids->empty())
            break;
    }
    *all = false;
    return LDAP_SUCCESS;
}

// A ready index of this kind whose matching rule can make assertion keys.
const IndexSpec* UsableIndex(KeydirDb* kd, AttributeDescription* ad, IndexKind kind,
                             MatchingRule** mr) {
    const IndexSpec* ix = FindIndex(kd, ad->ad_type, kind);
    ber_tag_t use;
    *mr = KindRule(ad->ad_type, kind, &use);
    if (!ix || !ix->ready || (kind != IndexKind::kPresence && (!*mr || !(*mr)->smr_filter)))
        return nullptr;
    return ix;
}

int AssertionCandidates(Operation* op, KeydirDb* kd, AttributeDescription* ad, IndexKind kind,
                        void* assertion, std::vector<EntryId>* ids, bool* all) {
    *all = true;
    MatchingRule* mr = nullptr;
    const IndexSpec* ix = UsableIndex(kd, ad, kind, &mr);
    if (!ix)
        return LDAP_SUCCESS;
    ber_tag_t use;
    KindRule(ad->ad_type, kind, &use);
    BerVarray keys = nullptr;
    int rc = mr->smr_filter(use, ix->mask, ad->ad_type->sat_syntax, mr, &ix->type->sat_cname,
                            assertion, &keys, op->o_tmpmemctx);
    if (rc != LDAP_SUCCESS)
        return LDAP_SUCCESS;  // no keys for this assertion: scan
    rc = KeyedCandidates(kd, *ix, keys, ids, all);
    if (keys)
        ber_bvarray_free_x(keys, op->o_tmpmemctx);
    return rc;
}

int EqualityCandidates(Operation* op, KeydirDb* kd, AttributeAssertion* ava,
                       std::vector<EntryId>* ids, bool* all) {
    *all = true;
    if (ava->aa_desc == slap_schema.si_ad_entryDN) {
        // (entryDN=dn) is answered by the DN index itself.
        std::string key;
        EntryId id;
        *all = false;
        ids->clear();
        if (!DnKey(&ava->aa_value, &key).ok())
            return LDAP_SUCCESS;
        Status s = kd->store->FindId(key, &id);
        if (s.ok())
            ids->push_back(id);
        return s.ok() || s.IsNotFound() ? LDAP_SUCCESS : LDAP_OTHER;
    }
    return AssertionCandidates(op, kd, ava->aa_desc, IndexKind::kEquality, &ava->aa_value, ids,
                               all);
}

int PresenceCandidates(KeydirDb* kd, AttributeDescription* ad, std::vector<EntryId>* ids,
                       bool* all) {
    *all = true;
    MatchingRule* mr = nullptr;
    const IndexSpec* ix = UsableIndex(kd, ad, IndexKind::kPresence, &mr);
    // Every entry has an objectClass: its presence selects nothing.
    if (!ix || ad == slap_schema.si_ad_objectClass)
        return LDAP_SUCCESS;
    if (!kd->store->IndexLookup(ix->name, kPresenceKey, ids).ok())
        return LDAP_OTHER;
    *all = false;
    return LDAP_SUCCESS;
}

// (attr>=v) and (attr<=v): a range of equality keys where the ordering
// rule says its keys keep the order (back-mdb's test), else the presence
// index, else every entry; test_filter decides on each candidate.
int InequalityCandidates(Operation* op, KeydirDb* kd, AttributeAssertion* ava, bool at_least,
                         std::vector<EntryId>* ids, bool* all) {
    *all = true;
    AttributeType* type = ava->aa_desc->ad_type;
    MatchingRule* mr = nullptr;
    const IndexSpec* ix = UsableIndex(kd, ava->aa_desc, IndexKind::kEquality, &mr);
    if (!ix || !type->sat_ordering || !(type->sat_ordering->smr_usage & SLAP_MR_ORDERED_INDEX))
        return PresenceCandidates(kd, ava->aa_desc, ids, all);
    BerVarray keys = nullptr;
    int rc = mr->smr_filter(LDAP_FILTER_EQUALITY, ix->mask, type->sat_syntax, mr, &type->sat_cname,
                            &ava->aa_value, &keys, op->o_tmpmemctx);
    if (rc != LDAP_SUCCESS || !keys || !keys[0].bv_val) {
        if (keys)
            ber_bvarray_free_x(keys, op->o_tmpmemctx);
        return PresenceCandidates(kd, ava->aa_desc, ids, all);
    }
    Status s =
        kd->store->IndexRange(ix->name, std::string_view(keys[0].bv_val, keys[0].bv_len),
                              at_least ? Store::Bound::kAtLeast : Store::Bound::kAtMost, ids);
    ber_bvarray_free_x(keys, op->o_tmpmemctx);
    if (!s.ok())
        return LDAP_OTHER;
    *all = false;
    return LDAP_SUCCESS;
}

}  // namespace

int FilterCandidates(Operation* op, KeydirDb* kd, Filter* f, std::vector<EntryId>* ids, bool* all) {
    ids->clear();
    *all = true;
    switch (f->f_choice) {
        case SLAPD_FILTER_COMPUTED:
            if (f->f_result == LDAP_COMPARE_FALSE || f->f_result == SLAPD_COMPARE_UNDEFINED)
                *all = false;  // nothing can match
            return LDAP_SUCCESS;
        case LDAP_FILTER_EQUALITY:
            return EqualityCandidates(op, kd, f->f_ava, ids, all);
        case LDAP_FILTER_PRESENT:
            return PresenceCandidates(kd, f->f_desc, ids, all);
        case LDAP_FILTER_SUBSTRINGS:
            return AssertionCandidates(op, kd, f->f_sub_desc, IndexKind::kSubstrings, f->f_sub, ids,
                                       all);
        case LDAP_FILTER_APPROX:
            // Without an approximate rule, ~= is equality (as in back-mdb).
            if (!f->f_ava->aa_desc->ad_type->sat_approx)
                return EqualityCandidates(op, kd, f->f_ava, ids, all);
            return AssertionCandidates(op, kd, f->f_ava->aa_desc, IndexKind::kApprox,
                                       &f->f_ava->aa_value, ids, all);
        case LDAP_FILTER_GE:
            return InequalityCandidates(op, kd, f->f_ava, true, ids, all);
        case LDAP_FILTER_LE:
            return InequalityCandidates(op, kd, f->f_ava, false, ids, all);
        case LDAP_FILTER_AND: {
            bool first = true;
            for (Filter* c = f->f_and; c; c = c->f_next) {
                std::vector<EntryId> sub;
                bool sub_all;
                int rc = FilterCandidates(op, kd, c, &sub, &sub_all);
                if (rc != LDAP_SUCCESS)
                    return rc;
                if (sub_all)
                    continue;
                if (first)
                    ids->swap(sub);
                else
                    Intersect(ids, sub);
                first = false;
                *all = false;
                if (ids->empty())
                    break;
            }
            return LDAP_SUCCESS;
        }
        case LDAP_FILTER_OR: {
            for (Filter* c = f->f_or; c; c = c->f_next) {
                std::vector<EntryId> sub;
                bool sub_all;
                int rc = FilterCandidates(op, kd, c, &sub, &sub_all);
                if (rc != LDAP_SUCCESS)
                    return rc;
                if (sub_all) {
                    ids->clear();
                    return LDAP_SUCCESS;  // *all stays true
                }
                Union(ids, sub);
            }
            *all = false;
            return LDAP_SUCCESS;
        }
        default:
            return LDAP_SUCCESS;  // not indexed: every entry in scope
    }
}

}  // namespace backend
}  // namespace keydir
