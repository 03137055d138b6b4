#pragma once
// What the router knows about one deployment at run time: recent outcomes (a 60 s window of
// one-second buckets), cooldown and its half-open probe, requests in flight, latency samples and
// rpm/tpm usage in the current minute.
//
// Time is always passed in (`now`), so every rule is testable with a fake clock. The cooldown and
// in-flight fields are atomics read on every selection; the windows sit behind a small mutex that
// is taken once per attempt outcome.
//
// Thread safety: all methods may be called from any worker thread.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sy/routing/policy.hpp"

namespace sy::routing {

using SteadyClock = std::chrono::steady_clock;
using TimePoint = SteadyClock::time_point;

// Counts over the last 60 s in one-second buckets (a bucket is reused when its second is stale).
class MinuteWindow {
public:
    struct Totals {
        std::uint64_t attempts = 0;
        std::uint64_t failures = 0;
        std::array<std::uint64_t, kFailureClassCount> by_class{};
        std::uint64_t tokens = 0;
    };
    void add_attempt(std::int64_t sec);
    void add_failure(std::int64_t sec, FailureClass c);
    void add_tokens(std::int64_t sec, std::uint64_t n);
    Totals totals(std::int64_t sec) const;
    // Seconds until the oldest bucket that still counts leaves the window (>= 1).
    int seconds_until_oldest_expires(std::int64_t sec) const;
    void clear();

private:
    struct Bucket {
        std::int64_t sec = -1;
        std::uint32_t attempts = 0;
        std::uint32_t failures = 0;
        std::array<std::uint32_t, kFailureClassCount> by_class{};
        std::uint64_t tokens = 0;
    };
    Bucket& at(std::int64_t sec);
    std::array<Bucket, 60> b_{};
};

// Latency samples with an expiry (router.md §3.3).
class LatencySamples {
public:
    void add(TimePoint now, double value, std::size_t max_size);
    // Median of the samples younger than `ttl`; nullopt when there are none.
    std::optional<double> median(TimePoint now, std::chrono::duration<double> ttl) const;

private:
    struct Sample {
        TimePoint at;
        double value;
    };
    std::vector<Sample> s_;  // oldest first, at most max_size
};

class DeploymentState {
public:
    // Verdict of the last active health check (router.md §11).
    enum class Checked : std::uint8_t { kUnknown, kHealthy, kUnhealthy };

    // --- cooldown -----------------------------------------------------------------------------
    enum class Gate : std::uint8_t {
        kOpen,      // eligible
        kProbe,     // eligible as the one half-open probe (claim with claim_probe())
        kCooling,   // in cooldown, or the probe is already in flight
    };
    Gate gate(TimePoint now) const;
    // Seconds left in the cooldown (0 when not cooling; >= 1 while the probe runs).
    double cooldown_remaining_s(TimePoint now) const;
    // Takes the half-open probe slot; false when another request took it first.
    bool claim_probe();
    // Puts the deployment in cooldown for `seconds` from `now`.
    void start_cooldown(TimePoint now, double seconds, int status, std::string reason);

    // --- outcomes -------------------------------------------------------------------------------
    struct Snapshot {
        std::uint64_t successes = 0;
        std::uint64_t failures = 0;
        std::uint64_t consecutive_failures = 0;
        std::uint64_t cooldowns = 0;  // times this deployment was cooled down
        std::int64_t last_latency_us = 0;
        int last_status = 0;
        std::string last_error;
        double cooldown_remaining_s = 0;
        bool probing = false;
        std::optional<double> latency_median_s;  // non-streaming score
        std::optional<double> ttft_median_s;     // streaming score
        std::uint64_t window_attempts = 0;
        std::uint64_t window_failures = 0;
        int in_flight = 0;
        Checked checked = Checked::kUnknown;
    };
    Snapshot snapshot(TimePoint now, std::chrono::duration<double> latency_ttl) const;

    // Records an attempt's end. `probe` is true when this attempt held the half-open slot: a
    // success closes the breaker; after a failure the caller (the Router) restarts the cooldown.
    void record_success(TimePoint now, std::int64_t latency_us, bool probe);
    // Returns the failure-window totals after counting this failure.
    MinuteWindow::Totals record_failure(TimePoint now, FailureClass c, int status, std::string text,
                                        bool probe);
    // An attempt that ended for a reason that says nothing about the deployment (the client
    // left, the request was bad): frees the probe slot if it held it.
    void record_neutral(bool probe);

    // --- load ---------------------------------------------------------------------------------
    void begin_attempt(TimePoint now);  // counts toward rpm and in-flight
    void end_attempt();                 // in-flight only
    int in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
    void add_tokens(TimePoint now, std::uint64_t n);
    MinuteWindow::Totals usage(TimePoint now) const;  // rpm/tpm in the current minute
    int seconds_until_usage_frees(TimePoint now) const;

    // --- active health checks (router.md §11) ---------------------------------------------------
    void set_checked(bool healthy) {
        checked_.store(static_cast<std::uint8_t>(healthy ? Checked::kHealthy : Checked::kUnhealthy),
                       std::memory_order_relaxed);
    }
    Checked checked() const { return static_cast<Checked>(checked_.load(std::memory_order_relaxed)); }

    // --- latency ------------------------------------------------------------------------------
    void add_latency_sample(TimePoint now, double seconds, bool ttft, std::size_t max_size);
    std::optional<double> latency_score(TimePoint now, std::chrono::duration<double> ttl,
                                        bool stream) const;

private:
    static std::int64_t sec_of(TimePoint t);

    // Cooldown end in steady-clock nanoseconds; 0 = never cooled.
    std::atomic<std::int64_t> cooldown_until_ns_{0};
    // 0 = closed, 1 = half-open probe available, 2 = probe in flight.
    std::atomic<int> probe_{0};
    std::atomic<int> in_flight_{0};
    std::atomic<std::uint8_t> checked_{0};

    mutable std::mutex mu_;
    Snapshot s_;           // counters part (guarded by mu_)
    MinuteWindow outcomes_;  // attempts and failures
    MinuteWindow usage_;     // requests and tokens (rpm/tpm)
    LatencySamples latency_;
    LatencySamples ttft_;
};

}  // namespace sy::routing
