// Publisher: delivers a zone master's publications from its durable queue,
// in order, on a thread of its own. A delivery that fails for a reason
// that may pass (the upstream is down, busy, slow) is retried with
// exponential backoff; one the upstream refuses for good (not authorised,
// outside the zone, malformed) is dropped, logged and counted, so that it
// cannot block the publications behind it.
//
// Thread safety: every method may be called from any thread.
#ifndef KEYDIR_PUBLISH_PUBLISHER_H
#define KEYDIR_PUBLISH_PUBLISHER_H

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/env.h"
#include "publish/publication.h"
#include "publish/queue.h"

namespace keydir {

struct Delivery {
    enum class Outcome { kDelivered, kRetry, kRefused };
    Outcome outcome = Outcome::kRetry;
    std::string text;  // what the upstream (or the network) said

    static Delivery Delivered() { return {Outcome::kDelivered, ""}; }
    static Delivery Retry(std::string why) { return {Outcome::kRetry, std::move(why)}; }
    static Delivery Refused(std::string why) { return {Outcome::kRefused, std::move(why)}; }
};

// Sends one publication upstream (signed_sender.h is the real one).
class PublicationSender {
  public:
    virtual ~PublicationSender() = default;
    virtual Delivery Send(const Publication& p) = 0;
};

struct PublisherOptions {
    int64_t max_backoff_seconds = 300;  // the longest wait between two attempts
};

struct PublisherCounters {
    uint64_t queued = 0;       // waiting now
    uint64_t delivered = 0;    // since start
    uint64_t refused = 0;      // dropped: refused for good
    uint64_t failures = 0;     // attempts that will be retried
    int64_t last_success = 0;  // Unix seconds, 0: none yet
    std::string last_error;    // of the latest failed or refused attempt
};

class Publisher {
  public:
    // `queue` and `sender` must outlive the publisher. `log` receives one
    // line per failed or refused attempt (may be empty).
    Publisher(PublishQueue* queue, PublicationSender* sender, Env* env, PublisherOptions options,
              std::function<void(const std::string&)> log = nullptr);
    ~Publisher();

    // Durable when it returns; the thread is woken.
    Status Enqueue(const Publication& p);

    void Start();
    // Stops the thread after the attempt under way; the queue stays.
    void Stop();

    // Delivers the head if it is due. Returns the seconds to wait before
    // the next call: 0 to go on at once, -1 when the queue is empty. The
    // thread calls it; tests call it directly.
    int64_t RunOnce();

    void Reconfigure(PublisherOptions options);
    PublisherCounters Counters() const;

  private:
    void Loop();
    void Note(const std::string& line);

    PublishQueue* queue_;
    PublicationSender* sender_;
    Env* env_;
    std::function<void(const std::string&)> log_;

    mutable std::mutex mu_;
    std::condition_variable wake_;
    PublisherOptions options_;
    PublisherCounters counters_;
    bool stop_ = false;
    bool kicked_ = false;
    std::thread thread_;
};

}  // namespace keydir

#endif  // KEYDIR_PUBLISH_PUBLISHER_H
