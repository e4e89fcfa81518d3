// SignedSender: delivers a publication as the signed extended operation
// (publication.h) to the first of a list of upstream servers that takes
// it, and checks the signature on the answer.
//
// Outcomes: the first server that accepts it (an answer signed with the
// request's key) ends the delivery. A server that is down, slow, busy or
// answers unsigned is skipped; if any server was skipped that way the
// delivery is retried later, else (every server refused it) it is refused
// for good.
#ifndef KEYDIR_PUBLISH_SIGNED_SENDER_H
#define KEYDIR_PUBLISH_SIGNED_SENDER_H

#include <mutex>
#include <string>
#include <vector>

#include "publish/publisher.h"
#include "sign/signer.h"
#include "upstream/upstream_client.h"

namespace keydir {

struct SignedSenderOptions {
    std::vector<std::string> servers;  // ldap://host:port, asked in order
    std::string key_name;              // the keychase-sign key
    MacAlgorithm algorithm = MacAlgorithm::kHmacSha256;
    int64_t timeout_micros = 3000000;  // per server
    bool start_tls = false;
};

// Would a publication refused with this result code be refused again?
bool IsLastingRefusal(int ldap_result_code);

class SignedSender : public PublicationSender {
  public:
    // `client` and `signing` must outlive the sender.
    SignedSender(UpstreamClient* client, SigningContext* signing, SignedSenderOptions options)
        : client_(client), signing_(signing), options_(std::move(options)) {}

    Delivery Send(const Publication& p) override;
    void Reconfigure(SignedSenderOptions options);

  private:
    UpstreamClient* client_;
    SigningContext* signing_;
    std::mutex mu_;
    SignedSenderOptions options_;
};

}  // namespace keydir

#endif  // KEYDIR_PUBLISH_SIGNED_SENDER_H
