// Pointer publication, the receiving side (a parent or a root): the
// extended operation KEYDIR_PUBLISH_OID. It is taken only signed, from a
// key that keychase-publisher allows for the member's domain, by the
// keychase database that holds the member's DN here; that database's
// pointer is then made true with internal writes as its rootdn (so that
// syncprov replicates them like any other write):
//
//   add     missing ancestors are created (domain; keydirZone for the
//           member's zone), the pointer entry (referral, extensibleObject,
//           mail, one ref per server) is added or its refs replaced;
//   delete  the pointer entry is deleted.
//
// Both are idempotent: what is already true is success. The answer is
// signed once the request verified. Result codes (slapo-keychase(5)):
// protocolError (2) bad value, invalidDNSyntax (34) not a member DN,
// constraintViolation (19) a URL that does not point at the member or a
// member entry in the way, noSuchObject (32) no keychase database holds
// the DN, strongerAuthRequired (8) unsigned, insufficientAccess (50) key
// not allowed for the domain, affectsMultipleDSAs (71) the DN is below a
// delegation here, other (80) a write failed.
#include <algorithm>

#include "keychase.h"

#include <ldif.h>
#include "publish/publication.h"
#include "signing.h"

namespace keydir {
namespace keychase {
namespace {

struct berval publish_oid = BER_BVC(KEYDIR_PUBLISH_OID);

std::string& ResultText() {
    static thread_local std::string text;
    return text;
}

int Answer(SlapReply* rs, int code, const std::string& text) {
    ResultText() = text;
    rs->sr_text = ResultText().empty() ? nullptr : ResultText().c_str();
    return rs->sr_err = code;
}

// An internal operation on `be` as its rootdn, with ManageDsaIT, whose
// result goes nowhere.
struct InternalOp {
    Operation op;
    SlapReply rs = {REP_RESULT};
    slap_callback cb = {nullptr, slap_null_cb, nullptr, nullptr};

    InternalOp(Operation* from, BackendDB* be, ber_tag_t tag, const struct berval* dn,
               const struct berval* ndn) {
        op = *from;
        op.o_tag = tag;
        op.o_bd = be;
        op.o_dn = be->be_rootdn;
        op.o_ndn = be->be_rootndn;
        op.o_req_dn = *dn;
        op.o_req_ndn = *ndn;
        op.o_callback = &cb;
        op.o_managedsait = SLAP_CONTROL_CRITICAL;
        op.o_ctrlflag[keychase_cid] = SLAP_CONTROL_NONE;
        op.o_dont_replicate = 0;
        BER_BVZERO(&op.o_csn);
    }
    int Done(std::string* text) {
        slap_graduate_commit_csn(&op);
        if (rs.sr_err != LDAP_SUCCESS && rs.sr_text)
            *text = rs.sr_text;
        return rs.sr_err;
    }
};

void LdifLine(std::string* ldif, const char* name, const std::string& value) {
    char* line =
        ldif_put_wrap(LDIF_PUT_VALUE, name, value.data(), value.size(), LDIF_LINE_WIDTH_MAX);
    if (line) {
        *ldif += line;
        ber_memfree(line);
    }
}

int AddFromLdif(Operation* from, BackendDB* be, const std::string& ldif, std::string* text) {
    std::vector<char> buf(ldif.begin(), ldif.end());
    buf.push_back('\0');
    Entry* e = str2entry2(buf.data(), 1);
    if (!e) {
        *text = "cannot build the entry";
        return LDAP_OTHER;
    }
    InternalOp io(from, be, LDAP_REQ_ADD, &e->e_name, &e->e_nname);
    io.op.ora_e = e;
    io.op.ora_modlist = nullptr;
    char textbuf[SLAP_TEXT_BUFLEN];
    const char* t = nullptr;
    int rc = entry_schema_check(&io.op, e, nullptr, 0, 1, nullptr, &t, textbuf, sizeof textbuf);
    if (rc == LDAP_SUCCESS)
        rc = slap_add_opattrs(&io.op, &t, textbuf, sizeof textbuf, 1);
    if (rc == LDAP_SUCCESS) {
        be->be_add(&io.op, &io.rs);
        rc = io.Done(text);
    } else {
        slap_graduate_commit_csn(&io.op);
        if (t)
            *text = t;
    }
    entry_free(io.op.ora_e);
    return rc;
}

Modifications* ReplaceMod(AttributeDescription* ad, const std::vector<std::string>& values) {
    Modifications* m = static_cast<Modifications*>(ch_calloc(1, sizeof(Modifications)));
    m->sml_op = LDAP_MOD_REPLACE;
    m->sml_desc = ad;
    m->sml_type = ad->ad_cname;
    m->sml_numvals = static_cast<int>(values.size());
    m->sml_values =
        static_cast<struct berval*>(ch_calloc(values.size() + 1, sizeof(struct berval)));
    for (size_t i = 0; i < values.size(); ++i)
        ber_str2bv(values[i].c_str(), values[i].size(), 1, &m->sml_values[i]);
    return m;
}

int ReplacePointer(Operation* from, BackendDB* be, Entry* e, const Publication& p,
                   const std::string& mail, std::string* text) {
    InternalOp io(from, be, LDAP_REQ_MODIFY, &e->e_name, &e->e_nname);
    Modifications* mods = ReplaceMod(slap_schema.si_ad_ref, p.urls);
    AttributeDescription* mail_ad = nullptr;
    const char* t = nullptr;
    if (slap_str2ad("mail", &mail_ad, &t) == LDAP_SUCCESS)
        mods->sml_next = ReplaceMod(mail_ad, {mail});
    io.op.orm_modlist = mods;
    io.op.orm_increment = 0;
    io.op.orm_no_opattrs = 0;
    char textbuf[SLAP_TEXT_BUFLEN];
    int rc = slap_mods_check(&io.op, io.op.orm_modlist, &t, textbuf, sizeof textbuf, nullptr);
    if (rc == LDAP_SUCCESS) {
        slap_mods_opattrs(&io.op, &io.op.orm_modlist, 1);
        be->be_modify(&io.op, &io.rs);
        rc = io.Done(text);
    } else {
        slap_graduate_commit_csn(&io.op);
        if (t)
            *text = t;
    }
    slap_mods_free(io.op.orm_modlist, 1);
    return rc;
}

int DeletePointer(Operation* from, BackendDB* be, Entry* e, std::string* text) {
    InternalOp io(from, be, LDAP_REQ_DELETE, &e->e_name, &e->e_nname);
    be->be_delete(&io.op, &io.rs);
    return io.Done(text);
}

// The entry at ndn in be (a copy: entry_free), or nullptr.
Entry* Fetch(Operation* from, BackendDB* be, struct berval* ndn) {
    Operation op2 = *from;
    op2.o_bd = be;
    Entry* e = nullptr;
    Entry* copy = nullptr;
    if (be_entry_get_rw(&op2, ndn, nullptr, nullptr, 0, &e) == LDAP_SUCCESS && e) {
        copy = entry_dup(e);
        be_entry_release_r(&op2, e);
    }
    return copy;
}

bool SameRefs(Entry* e, const std::vector<std::string>& urls) {
    Attribute* a = attr_find(e->e_attrs, slap_schema.si_ad_ref);
    if (!a)
        return false;
    std::vector<std::string> have;
    for (unsigned i = 0; i < a->a_numvals; ++i)
        have.emplace_back(a->a_vals[i].bv_val, a->a_vals[i].bv_len);
    std::vector<std::string> want = urls;
    std::sort(have.begin(), have.end());
    std::sort(want.begin(), want.end());
    return have == want;
}

// Creates the missing ancestors of the member's DN, top down; refuses when
// an ancestor here is a delegation.
int MakeAncestors(Operation* from, BackendDB* be, const MailAddress& address, std::string* text) {
    std::vector<std::string> missing;  // bottom up
    std::string dn = address.ZoneDn();
    for (;;) {
        struct berval bv = {dn.size(), const_cast<char*>(dn.c_str())}, ndn;
        if (dnNormalize(0, nullptr, nullptr, &bv, &ndn, nullptr) != LDAP_SUCCESS) {
            *text = "cannot normalize " + dn;
            return LDAP_INVALID_DN_SYNTAX;
        }
        bool within = dnIsSuffix(&ndn, &be->be_nsuffix[0]);
        Entry* e = within ? Fetch(from, be, &ndn) : nullptr;
        ber_memfree(ndn.bv_val);
        if (!within)
            break;
        if (e) {
            bool referral = is_entry_referral(e);
            entry_free(e);
            if (referral) {
                *text = dn +
                        " is delegated by this server (a referral): publish to the server "
                        "it names";
                return LDAP_AFFECTS_MULTIPLE_DSAS;
            }
            break;
        }
        missing.push_back(dn);
        size_t comma = dn.find(',');
        if (comma == std::string::npos)
            break;
        dn = dn.substr(comma + 1);
    }
    bool zone_class = oc_find("keydirZone") != nullptr;
    for (size_t i = missing.size(); i-- > 0;) {
        const std::string& d = missing[i];
        std::string ldif;
        LdifLine(&ldif, "dn", d);
        ldif += "objectClass: domain\n";
        if (i == 0 && zone_class)
            ldif += "objectClass: keydirZone\n";
        std::string rdn =
            d.substr(3, d.find(',') == std::string::npos ? std::string::npos : d.find(',') - 3);
        LdifLine(&ldif, "dc", rdn);
        int rc = AddFromLdif(from, be, ldif, text);
        if (rc != LDAP_SUCCESS && rc != LDAP_ALREADY_EXISTS) {
            *text = "cannot create " + d + ": " + *text;
            return rc;
        }
    }
    return LDAP_SUCCESS;
}

int ApplyAdd(Operation* op, BackendDB* be, const MailAddress& address, const Publication& p,
             std::string* text) {
    std::string dn = address.MemberDn();
    struct berval bv = {dn.size(), const_cast<char*>(dn.c_str())}, ndn;
    if (dnNormalize(0, nullptr, nullptr, &bv, &ndn, nullptr) != LDAP_SUCCESS) {
        *text = "cannot normalize " + dn;
        return LDAP_INVALID_DN_SYNTAX;
    }
    int rc = LDAP_OTHER;
    // A concurrent publication of the same member may win a race: look again.
    for (int attempt = 0; attempt < 3; ++attempt) {
        Entry* e = Fetch(op, be, &ndn);
        if (e) {
            if (!is_entry_referral(e)) {
                *text = "a member entry, not a pointer, is at " + dn;
                rc = LDAP_CONSTRAINT_VIOLATION;
            } else if (SameRefs(e, p.urls)) {
                rc = LDAP_SUCCESS;  // already true
            } else {
                rc = ReplacePointer(op, be, e, p, address.normalized(), text);
            }
            entry_free(e);
            if (rc != LDAP_NO_SUCH_OBJECT)
                break;
            continue;
        }
        rc = MakeAncestors(op, be, address, text);
        if (rc != LDAP_SUCCESS)
            break;
        std::string ldif;
        LdifLine(&ldif, "dn", dn);
        ldif += "objectClass: referral\nobjectClass: extensibleObject\n";
        LdifLine(&ldif, "mail", address.normalized());
        for (const std::string& u : p.urls)
            LdifLine(&ldif, "ref", u);
        rc = AddFromLdif(op, be, ldif, text);
        if (rc != LDAP_ALREADY_EXISTS)
            break;
    }
    ber_memfree(ndn.bv_val);
    return rc;
}

int ApplyDelete(Operation* op, BackendDB* be, const MailAddress& address, std::string* text) {
    std::string dn = address.MemberDn();
    struct berval bv = {dn.size(), const_cast<char*>(dn.c_str())}, ndn;
    if (dnNormalize(0, nullptr, nullptr, &bv, &ndn, nullptr) != LDAP_SUCCESS) {
        *text = "cannot normalize " + dn;
        return LDAP_INVALID_DN_SYNTAX;
    }
    int rc = LDAP_SUCCESS;  // nothing there: already true
    if (Entry* e = Fetch(op, be, &ndn)) {
        if (!is_entry_referral(e)) {
            *text = "a member entry, not a pointer, is at " + dn;
            rc = LDAP_CONSTRAINT_VIOLATION;
        } else {
            rc = DeletePointer(op, be, e, text);
            if (rc == LDAP_NO_SUCH_OBJECT)
                rc = LDAP_SUCCESS;
        }
        entry_free(e);
    }
    ber_memfree(ndn.bv_val);
    return rc;
}

bool MayPublish(const Settings& s, const std::string& key, const std::string& domain) {
    for (const auto& [name, domains] : s.publishers) {
        if (name != key)
            continue;
        for (const std::string& d : domains)
            if (domain == d ||
                (domain.size() > d.size() &&
                 domain.compare(domain.size() - d.size() - 1, std::string::npos, "." + d) == 0))
                return true;
    }
    return false;
}

// Checks a publication that verified and applies it.
int Apply(Operation* op, Instance* inst, BackendDB* be, const VerifiedRequest& verified,
          const Publication& p, const MailAddress& address, std::string* text) {
    if (!MayPublish(inst->settings, verified.key_name(), address.domain())) {
        *text = "key \"" + verified.key_name() + "\" may not publish pointers under " +
                address.domain() + " (keychase-publisher)";
        return LDAP_INSUFFICIENT_ACCESS;
    }
    for (const std::string& u : p.urls) {
        LdapUrl url;
        MailAddress target;
        Status s = ParseLdapUrl(u, &url);
        if (s.ok() &&
            !(url.has_dn && AddressFromMemberDn(url.dn, &target).ok() && target == address))
            s = Status::InvalidArgument("it does not name the member's DN");
        if (!s.ok()) {
            *text = "bad URL \"" + u + "\": " + s.message();
            return LDAP_CONSTRAINT_VIOLATION;
        }
    }
    if (p.action == Publication::Action::kAdd)
        return ApplyAdd(op, be, address, p, text);
    return ApplyDelete(op, be, address, text);
}

// Signs the answer to a verified publication (a control the client gets
// with the result; slapd frees it after sending).
void SignResult(Operation* op, SlapReply* rs, Instance* inst, const VerifiedRequest& verified) {
    AnswerSigner signer = inst->signing->StartAnswer(verified);
    std::string value;
    Status s = signer.Finish(rs->sr_err, {}, &value);
    if (!s.ok()) {
        Debug(LDAP_DEBUG_ANY, "%s keychase: the answer cannot be signed: %s\n", op->o_log_prefix,
              s.ToString().c_str());
        return;
    }
    // One block, as slap_free_ctrls() frees it.
    char* block =
        static_cast<char*>(op->o_tmpalloc(sizeof(LDAPControl) + value.size() + 1, op->o_tmpmemctx));
    LDAPControl* c = reinterpret_cast<LDAPControl*>(block);
    c->ldctl_oid = const_cast<char*>(kSignatureControlOid);
    c->ldctl_iscritical = 0;
    c->ldctl_value.bv_val = block + sizeof(LDAPControl);
    c->ldctl_value.bv_len = value.size();
    memcpy(c->ldctl_value.bv_val, value.data(), value.size());
    c->ldctl_value.bv_val[value.size()] = '\0';
    LDAPControl* ctrls[2] = {c, nullptr};
    slap_add_ctrls(op, rs, ctrls);
}

int Publish(Operation* op, SlapReply* rs) {
    std::string value = op->ore_reqdata
                            ? std::string(op->ore_reqdata->bv_val, op->ore_reqdata->bv_len)
                            : std::string();
    Publication p;
    Status s = DecodePublication(value, &p);
    if (!s.ok())
        return Answer(rs, LDAP_PROTOCOL_ERROR, s.message());
    MailAddress address;
    s = AddressFromMemberDn(p.member_dn, &address);
    if (!s.ok())
        return Answer(rs, LDAP_INVALID_DN_SYNTAX, "not a member DN: " + s.message());

    std::string dn = address.MemberDn();
    struct berval bv = {dn.size(), const_cast<char*>(dn.c_str())}, ndn;
    if (dnNormalize(0, nullptr, nullptr, &bv, &ndn, nullptr) != LDAP_SUCCESS)
        return Answer(rs, LDAP_INVALID_DN_SYNTAX, "cannot normalize " + dn);
    BackendDB* be = select_backend(&ndn, 0);
    ber_memfree(ndn.bv_val);
    Instance* inst = be ? FindInstance(be) : nullptr;
    if (!inst || !inst->signing)
        return Answer(rs, LDAP_NO_SUCH_OBJECT, "no database here with keychase holds " + dn);
    if (op->o_ctrlflag[keychase_cid] == SLAP_CONTROL_NONE) {
        ++inst->counters.publications_refused;
        return Answer(rs, LDAP_STRONG_AUTH_REQUIRED, "a publication must be signed");
    }

    std::string canonical;
    s = CanonicalPublication(p, &canonical);
    if (!s.ok())
        return Answer(rs, LDAP_INVALID_DN_SYNTAX, s.message());
    const PeerControl* pc = static_cast<const PeerControl*>(op->o_controls[keychase_cid]);
    std::string control(pc->value.bv_val ? pc->value.bv_val : "", pc->value.bv_len);
    std::optional<VerifiedRequest> verified;
    VerifyOutcome v = inst->signing->CheckRequestControls(RequestControlOids(op));
    if (v.ok())
        v = inst->signing->VerifyCanonical(&control, canonical, &verified);
    if (!v.ok()) {
        ++inst->counters.refused;
        ++inst->counters.publications_refused;
        Debug(LDAP_DEBUG_STATS, "%s keychase: refused a publication: %s\n", op->o_log_prefix,
              v.text.c_str());
        return Answer(rs, SuggestedLdapResultCode(v.result), v.text);  // unsigned
    }

    std::string text;
    int rc = Apply(op, inst, be, *verified, p, address, &text);
    if (rc == LDAP_SUCCESS)
        ++inst->counters.publications_applied;
    else
        ++inst->counters.publications_refused;
    Debug(rc == LDAP_SUCCESS ? LDAP_DEBUG_STATS : LDAP_DEBUG_ANY,
          "%s keychase: publication %s %s from key %s: %s%s%s\n", op->o_log_prefix,
          PublicationActionName(p.action), dn.c_str(), verified->key_name().c_str(),
          ldap_err2string(rc), text.empty() ? "" : ": ", text.c_str());
    Answer(rs, rc, text);
    SignResult(op, rs, inst, *verified);
    return rc;
}

extern "C" int kc_publish_exop(Operation* op, SlapReply* rs) {
    KC_GUARD(LDAP_OTHER, { return Publish(op, rs); })
}

}  // namespace

int PublishExopInit() {
    return load_extop(&publish_oid, 0, kc_publish_exop);
}

}  // namespace keychase
}  // namespace keydir
