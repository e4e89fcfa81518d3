#include "publish/publisher.h"

#include <chrono>

namespace keydir {

Publisher::Publisher(PublishQueue* queue, PublicationSender* sender, Env* env,
                     PublisherOptions options, std::function<void(const std::string&)> log)
    : queue_(queue), sender_(sender), env_(env), log_(std::move(log)), options_(options) {}

Publisher::~Publisher() {
    Stop();
}

Status Publisher::Enqueue(const Publication& p) {
    Status s = queue_->Push(p);
    if (s.ok()) {
        std::lock_guard<std::mutex> lock(mu_);
        kicked_ = true;
        wake_.notify_all();
    }
    return s;
}

void Publisher::Start() {
    std::lock_guard<std::mutex> lock(mu_);
    if (thread_.joinable())
        return;
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
}

void Publisher::Stop() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
        wake_.notify_all();
    }
    if (thread_.joinable())
        thread_.join();
}

void Publisher::Reconfigure(PublisherOptions options) {
    std::lock_guard<std::mutex> lock(mu_);
    options_ = options;
    kicked_ = true;  // a new upstream may take what waits at once
    wake_.notify_all();
}

PublisherCounters Publisher::Counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    PublisherCounters c = counters_;
    c.queued = queue_->size();
    return c;
}

void Publisher::Note(const std::string& line) {
    if (log_)
        log_(line);
}

int64_t Publisher::RunOnce() {
    QueuedPublication head;
    bool found = false;
    Status s = queue_->Front(&head, &found);
    if (!s.ok()) {
        Note("the publication queue cannot be read: " + s.ToString());
        return 60;
    }
    if (!found)
        return -1;
    int64_t now = env_->NowUnixSeconds();
    if (head.not_before > now)
        return head.not_before - now;

    Delivery d = sender_->Send(head.publication);
    const Publication& p = head.publication;
    std::string what = std::string(PublicationActionName(p.action)) + " " + p.member_dn;
    std::lock_guard<std::mutex> lock(mu_);
    switch (d.outcome) {
        case Delivery::Outcome::kDelivered:
            s = queue_->Remove(head.seq);
            ++counters_.delivered;
            counters_.last_success = env_->NowUnixSeconds();
            break;
        case Delivery::Outcome::kRefused:
            s = queue_->Remove(head.seq);
            ++counters_.refused;
            counters_.last_error = what + ": refused: " + d.text;
            Note("publication " + counters_.last_error + " (dropped)");
            break;
        case Delivery::Outcome::kRetry: {
            int64_t wait = PublishQueue::Backoff(head.attempts, options_.max_backoff_seconds, env_);
            s = queue_->Defer(head.seq, d.text, env_->NowUnixSeconds() + wait);
            ++counters_.failures;
            counters_.last_error = what + ": " + d.text;
            Note("publication " + counters_.last_error + " (attempt " +
                 std::to_string(head.attempts + 1) + ", again in " + std::to_string(wait) + " s)");
            if (s.ok())
                return wait;
            break;
        }
    }
    if (!s.ok()) {
        Note("the publication queue cannot be written: " + s.ToString());
        return 60;
    }
    return 0;
}

void Publisher::Loop() {
    for (;;) {
        {
            std::lock_guard<std::mutex> lock(mu_);
            if (stop_)
                return;
            kicked_ = false;
        }
        int64_t wait = RunOnce();
        if (wait == 0)
            continue;
        std::unique_lock<std::mutex> lock(mu_);
        auto woken = [this] { return stop_ || kicked_; };
        if (wait < 0)
            wake_.wait(lock, woken);
        else
            wake_.wait_for(lock, std::chrono::seconds(wait), woken);
    }
}

}  // namespace keydir
