// Equality indexes: keys come from the attribute's equality matching rule
// (smr_indexer for stored values, smr_filter for assertions), so they match
// exactly what slapd's own backends compute; lib/store keeps key -> IDs.
#include <algorithm>
#include <iterator>

#include "back_keydir.h"

namespace keydir {
namespace backend {

const IndexSpec* FindIndex(KeydirDb* kd, AttributeType* type) {
    for (const IndexSpec& ix : kd->indexes)
        if (ix.type == type)
            return &ix;
    return nullptr;
}

int ValueIndexKeys(Operation* op, const IndexSpec& ix, AttributeDescription* ad, BerVarray values,
                   std::vector<IndexKey>* keys) {
    MatchingRule* mr = ad->ad_type->sat_equality;
    if (!mr || !mr->smr_indexer || !values)
        return LDAP_SUCCESS;
    BerVarray out = nullptr;
    int rc = mr->smr_indexer(LDAP_FILTER_EQUALITY, SLAP_INDEX_EQUALITY, ad->ad_type->sat_syntax, mr,
                             &ix.type->sat_cname, values, &out, op->o_tmpmemctx);
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
        const IndexSpec* ix = FindIndex(kd, a->a_desc->ad_type);
        if (!ix)
            continue;
        int rc = ValueIndexKeys(op, *ix, a->a_desc, a->a_nvals, keys);
        if (rc != LDAP_SUCCESS)
            return rc;
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
    const IndexSpec* ix = FindIndex(kd, ava->aa_desc->ad_type);
    MatchingRule* mr = ava->aa_desc->ad_type->sat_equality;
    if (!ix || !ix->ready || !mr || !mr->smr_filter)
        return LDAP_SUCCESS;
    BerVarray keys = nullptr;
    int rc =
        mr->smr_filter(LDAP_FILTER_EQUALITY, SLAP_INDEX_EQUALITY, ava->aa_desc->ad_type->sat_syntax,
                       mr, &ix->type->sat_cname, &ava->aa_value, &keys, op->o_tmpmemctx);
    if (rc != LDAP_SUCCESS || !keys)
        return LDAP_SUCCESS;
    Status s;
    for (int i = 0; keys[i].bv_val; ++i) {
        std::vector<EntryId> found;
        s = kd->store->IndexLookup(ix->name, std::string_view(keys[i].bv_val, keys[i].bv_len),
                                   &found);
        if (!s.ok())
            break;
        if (i == 0)
            ids->swap(found);
        else
            Intersect(ids, found);
    }
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
