// The HMAC signature on server-to-server requests and answers
// (doc/signing.md; lib/sign does the cryptography).
//
// Asking side: every request keychase sends upstream is signed with the
// keychase-sign key, and an answer that does not verify is discarded as if
// the server had failed (the next one is asked; nothing is cached).
//
// Serving side: a request that carries the control is a peer's. It is
// verified before anything else and refused, unsigned, with a result code
// and text per failure when it does not verify; when it does, the answer
// is signed as it goes out. What the request may ask (recursion, hop
// count) is read from the verified request only.
#ifndef KEYDIR_OVERLAY_SIGNING_H
#define KEYDIR_OVERLAY_SIGNING_H

#include <optional>
#include <string>
#include <vector>

#include "keychase.h"
#include "sign/signer.h"

namespace keydir {
namespace keychase {

// What the control parser keeps for the search hook: the control's value
// and the limits as the client sent them (slapd adjusts ors_slimit and
// ors_tlimit to its own limits before the search runs).
struct PeerControl {
    struct berval value;
    int size_limit;
    int time_limit;
};

// Signs requests to upstreams and checks their answers.
class UpstreamSigning : public HopSecurity {
  public:
    explicit UpstreamSigning(Instance* inst) : inst_(inst) {}
    Status Prepare(const ChaseStep& step, UpstreamRequest* request,
                   std::unique_ptr<HopCheck>* check) override;

  private:
    Instance* inst_;
};

// The OIDs of the controls on the request, as received.
std::vector<std::string> RequestControlOids(Operation* op);

// Verifies a peer's request: it carries no control but the signature and
// ManageDsaIT, and its signature verifies. On failure the refusal has been sent (and
// the return is its result code); on success *verified holds the request.
int VerifyPeer(Operation* op, SlapReply* rs, Instance* inst,
               std::optional<VerifiedRequest>* verified);

// Signs the answer to a verified request as it is sent (a response
// callback installed below keychase's own, so that it sees what goes out).
void SignAnswer(Operation* op, Instance* inst, const VerifiedRequest& verified);

}  // namespace keychase
}  // namespace keydir

#endif  // KEYDIR_OVERLAY_SIGNING_H
