// Which addresses a search asks for, and how this server's own databases
// cover each of them.
#include <algorithm>

#include "chase/filter_shape.h"
#include "keychase.h"

namespace keydir {
namespace keychase {
namespace {

AttributeType* MailType() {
    static AttributeType* mail = at_find("mail");
    return mail;
}

void AddUnique(const MailAddress& a, size_t limit, std::vector<MailAddress>* out) {
    if (out->size() >= limit)
        return;
    if (std::find(out->begin(), out->end(), a) == out->end())
        out->push_back(a);
}

std::string Str(const struct berval& bv) {
    return std::string(bv.bv_val ? bv.bv_val : "", bv.bv_len);
}

// The address a substring assertion on mail looks up, if it is one
// (lib/chase/filter_shape.h): dirmngr's (mail=*ADDRESS*), Thunderbird's
// autocomplete once the whole address is typed (mail=ADDRESS*).
bool SubstringAddress(Filter* f, MailAddress* out) {
    if (!MailType() || !f->f_sub || f->f_sub_desc->ad_type != MailType())
        return false;
    SubstringAssertion sa;
    if (!BER_BVISNULL(&f->f_sub_initial))
        sa.initial = Str(f->f_sub_initial);
    for (BerVarray any = f->f_sub_any; any && !BER_BVISNULL(any); ++any)
        sa.any.push_back(Str(*any));
    if (!BER_BVISNULL(&f->f_sub_final))
        sa.final_piece = Str(f->f_sub_final);
    return AddressOfSubstring(sa, out);
}

// Equalities on mail, and substring assertions on mail that look up one
// address, also inside & and | (not under !: a negated address asks for
// everyone else). Substrings on cn and sn (dirmngr ORs them with the mail
// one) name no address by themselves; presence assertions
// ((userCertificate=*) in Evolution's AND) name none either, and the
// client's whole filter is tested on every entry keychase adds.
void Walk(Filter* f, int depth, size_t limit, std::vector<MailAddress>* out) {
    if (!f || depth > 32)
        return;
    switch (f->f_choice) {
        case LDAP_FILTER_EQUALITY:
            if (MailType() && f->f_av_desc->ad_type == MailType()) {
                MailAddress a;
                if (MailAddress::Parse(Str(f->f_av_value), &a).ok())
                    AddUnique(a, limit, out);
            }
            break;
        case LDAP_FILTER_SUBSTRINGS: {
            MailAddress a;
            if (SubstringAddress(f, &a))
                AddUnique(a, limit, out);
            break;
        }
        case LDAP_FILTER_AND:
        case LDAP_FILTER_OR:
            for (Filter* c = f->f_list; c; c = c->f_next)
                Walk(c, depth + 1, limit, out);
            break;
        default:
            break;
    }
}

}  // namespace

AttributeDescription* NamedAd(const char* name) {
    AttributeDescription* ad = nullptr;
    const char* text = nullptr;
    return slap_str2ad(name, &ad, &text) == LDAP_SUCCESS ? ad : nullptr;
}

AttributeDescription* MailAd() {
    static AttributeDescription* ad = NamedAd("mail");
    return ad;
}

std::vector<MailAddress> MailAddressesOf(Entry* e) {
    std::vector<MailAddress> out;
    Attribute* a = MailAd() ? attr_find(e->e_attrs, MailAd()) : nullptr;
    for (unsigned i = 0; a && i < a->a_numvals; ++i) {
        MailAddress addr;
        if (MailAddress::Parse(Str(a->a_nvals[i]), &addr).ok())
            out.push_back(addr);
    }
    return out;
}

void AddressesOfSearch(Operation* op, size_t limit, std::vector<MailAddress>* out) {
    out->clear();
    Walk(op->ors_filter, 0, limit, out);
    if (op->ors_scope == LDAP_SCOPE_BASE && op->o_req_ndn.bv_len) {
        MailAddress a;
        std::string dn(op->o_req_ndn.bv_val, op->o_req_ndn.bv_len);
        if (AddressFromMemberDn(dn, &a).ok())
            AddUnique(a, limit, out);
    }
}

void Classify(Operation* op, Wanted* w) {
    std::string member = w->address.MemberDn();
    struct berval dn = {member.size(), const_cast<char*>(member.c_str())};
    w->coverage = Coverage::kNotCovered;
    if (dnNormalize(0, nullptr, nullptr, &dn, &w->member_ndn, nullptr) != LDAP_SUCCESS)
        return;
    BackendDB* be = select_backend(&w->member_ndn, 0);
    if (!be)
        return;
    Operation op2 = *op;
    op2.o_bd = be;
    Entry* e = nullptr;
    if (be_entry_get_rw(&op2, &w->member_ndn, nullptr, nullptr, 0, &e) == LDAP_SUCCESS && e) {
        if (is_entry_referral(e)) {
            w->coverage = Coverage::kPointer;
            ber_dupbv(&w->referral_dn, &e->e_name);
            ber_dupbv(&w->referral_ndn, &e->e_nname);
            w->refs = get_entry_referrals(&op2, e);
            w->local_db = be;
            for (const MailAddress& a : MailAddressesOf(e))
                if (a == w->address)
                    w->referral_has_mail = true;
        } else {
            w->coverage = Coverage::kEntry;
            ber_dupbv(&w->local_dn, &e->e_name);
            ber_dupbv(&w->local_ndn, &e->e_nname);
            w->local_db = be;
        }
        be_entry_release_r(&op2, e);
        return;
    }
    // The closest existing ancestor in that database decides.
    struct berval pdn = w->member_ndn;
    while (pdn.bv_len > 0) {
        dnParent(&pdn, &pdn);
        // The root of a null-suffix database is no zone (a glue entry).
        if (pdn.bv_len == 0 || !dnIsSuffix(&pdn, &be->be_nsuffix[0]))
            break;
        Entry* p = nullptr;
        if (be_entry_get_rw(&op2, &pdn, nullptr, nullptr, 0, &p) != LDAP_SUCCESS || !p)
            continue;
        if (is_entry_referral(p)) {
            w->coverage = Coverage::kDelegated;
            ber_dupbv(&w->referral_dn, &p->e_name);
            ber_dupbv(&w->referral_ndn, &p->e_nname);
            w->refs = get_entry_referrals(&op2, p);
            w->local_db = be;
        } else {
            w->coverage = Coverage::kAuthoritative;
        }
        be_entry_release_r(&op2, p);
        return;
    }
}

void ReleaseWanted(Wanted* w) {
    ber_memfree(w->local_dn.bv_val);
    BER_BVZERO(&w->local_dn);
    ber_memfree(w->local_ndn.bv_val);
    BER_BVZERO(&w->local_ndn);
    if (w->refs)
        ber_bvarray_free(w->refs);
    w->refs = nullptr;
    ber_memfree(w->referral_dn.bv_val);
    BER_BVZERO(&w->referral_dn);
    ber_memfree(w->referral_ndn.bv_val);
    BER_BVZERO(&w->referral_ndn);
    ber_memfree(w->member_ndn.bv_val);
    BER_BVZERO(&w->member_ndn);
}

}  // namespace keychase
}  // namespace keydir
