#include "sy/routing/deployment_state.hpp"

#include <algorithm>
#include <cmath>

namespace sy::routing {
namespace {

std::int64_t ns_of(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

// --- MinuteWindow ---------------------------------------------------------------------------

MinuteWindow::Bucket& MinuteWindow::at(std::int64_t sec) {
    Bucket& b = b_[static_cast<std::size_t>(((sec % 60) + 60) % 60)];
    if (b.sec != sec) {
        b = Bucket{};
        b.sec = sec;
    }
    return b;
}

void MinuteWindow::add_attempt(std::int64_t sec) { ++at(sec).attempts; }

void MinuteWindow::add_failure(std::int64_t sec, FailureClass c) {
    Bucket& b = at(sec);
    ++b.failures;
    ++b.by_class[static_cast<std::size_t>(c)];
}

void MinuteWindow::add_tokens(std::int64_t sec, std::uint64_t n) { at(sec).tokens += n; }

MinuteWindow::Totals MinuteWindow::totals(std::int64_t sec) const {
    Totals t;
    for (const auto& b : b_) {
        if (b.sec > sec - 60 && b.sec <= sec) {
            t.attempts += b.attempts;
            t.failures += b.failures;
            t.tokens += b.tokens;
            for (std::size_t i = 0; i < kFailureClassCount; ++i) {
                t.by_class[i] += b.by_class[i];
            }
        }
    }
    return t;
}

int MinuteWindow::seconds_until_oldest_expires(std::int64_t sec) const {
    std::int64_t oldest = sec;
    for (const auto& b : b_) {
        if (b.sec > sec - 60 && b.sec <= sec && (b.attempts > 0 || b.tokens > 0)) {
            oldest = std::min(oldest, b.sec);
        }
    }
    return static_cast<int>(std::max<std::int64_t>(1, oldest + 60 - sec));
}

void MinuteWindow::clear() { b_ = {}; }

// --- LatencySamples -------------------------------------------------------------------------

void LatencySamples::add(TimePoint now, double value, std::size_t max_size) {
    s_.push_back({now, value});
    if (s_.size() > max_size) {
        s_.erase(s_.begin(), s_.begin() + static_cast<std::ptrdiff_t>(s_.size() - max_size));
    }
}

std::optional<double> LatencySamples::median(TimePoint now,
                                             std::chrono::duration<double> ttl) const {
    double v[1000];
    std::size_t n = 0;
    for (const auto& s : s_) {
        if (now - s.at <= ttl && n < std::size(v)) {
            v[n++] = s.value;
        }
    }
    if (n == 0) {
        return std::nullopt;
    }
    std::sort(v, v + n);
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

// --- DeploymentState ------------------------------------------------------------------------

std::int64_t DeploymentState::sec_of(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

DeploymentState::Gate DeploymentState::gate(TimePoint now) const {
    std::int64_t until = cooldown_until_ns_.load(std::memory_order_acquire);
    if (until != 0 && ns_of(now) < until) {
        return Gate::kCooling;
    }
    int p = probe_.load(std::memory_order_acquire);
    if (p == 2) {
        return Gate::kCooling;
    }
    return p == 1 ? Gate::kProbe : Gate::kOpen;
}

double DeploymentState::cooldown_remaining_s(TimePoint now) const {
    std::int64_t until = cooldown_until_ns_.load(std::memory_order_acquire);
    double left = until == 0 ? 0.0 : static_cast<double>(until - ns_of(now)) / 1e9;
    if (left > 0) {
        return left;
    }
    return probe_.load(std::memory_order_acquire) == 2 ? 1.0 : 0.0;
}

bool DeploymentState::claim_probe() {
    int expected = 1;
    return probe_.compare_exchange_strong(expected, 2, std::memory_order_acq_rel);
}

void DeploymentState::start_cooldown(TimePoint now, double seconds, int status,
                                     std::string reason) {
    auto len = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(std::clamp(seconds, 0.0, 86400.0)));
    cooldown_until_ns_.store(ns_of(now) + len.count(), std::memory_order_release);
    probe_.store(1, std::memory_order_release);
    std::lock_guard lk(mu_);
    ++s_.cooldowns;
    s_.last_status = status;
    if (reason.size() > 500) {
        reason.resize(500);
    }
    s_.last_error = std::move(reason);
    // A fresh start after the cooldown: old failures must not trip the rule again at once.
    outcomes_.clear();
}

void DeploymentState::record_success(TimePoint now, std::int64_t latency_us, bool probe) {
    if (probe) {
        probe_.store(0, std::memory_order_release);
    }
    std::lock_guard lk(mu_);
    ++s_.successes;
    s_.consecutive_failures = 0;
    s_.last_latency_us = latency_us;
    s_.last_status = 200;
    outcomes_.add_attempt(sec_of(now));
}

MinuteWindow::Totals DeploymentState::record_failure(TimePoint now, FailureClass c, int status,
                                                     std::string text, bool probe) {
    std::lock_guard lk(mu_);
    ++s_.failures;
    ++s_.consecutive_failures;
    s_.last_status = status;
    if (text.size() > 500) {
        text.resize(500);
    }
    s_.last_error = std::move(text);
    std::int64_t sec = sec_of(now);
    outcomes_.add_attempt(sec);
    outcomes_.add_failure(sec, c);
    if (probe) {
        // The probe failed: back to "probe available", the caller restarts the cooldown.
        probe_.store(1, std::memory_order_release);
    }
    return outcomes_.totals(sec);
}

void DeploymentState::record_neutral(bool probe) {
    if (probe) {
        int expected = 2;
        probe_.compare_exchange_strong(expected, 1, std::memory_order_acq_rel);
    }
}

void DeploymentState::begin_attempt(TimePoint now) {
    in_flight_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lk(mu_);
    usage_.add_attempt(sec_of(now));
}

void DeploymentState::end_attempt() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }

void DeploymentState::add_tokens(TimePoint now, std::uint64_t n) {
    std::lock_guard lk(mu_);
    usage_.add_tokens(sec_of(now), n);
}

MinuteWindow::Totals DeploymentState::usage(TimePoint now) const {
    std::lock_guard lk(mu_);
    return usage_.totals(sec_of(now));
}

int DeploymentState::seconds_until_usage_frees(TimePoint now) const {
    std::lock_guard lk(mu_);
    return usage_.seconds_until_oldest_expires(sec_of(now));
}

void DeploymentState::add_latency_sample(TimePoint now, double seconds, bool ttft,
                                         std::size_t max_size) {
    std::lock_guard lk(mu_);
    (ttft ? ttft_ : latency_).add(now, seconds, max_size);
}

std::optional<double> DeploymentState::latency_score(TimePoint now,
                                                     std::chrono::duration<double> ttl,
                                                     bool stream) const {
    std::lock_guard lk(mu_);
    if (stream) {
        if (auto t = ttft_.median(now, ttl)) {
            return t;
        }
    }
    return latency_.median(now, ttl);
}

DeploymentState::Snapshot DeploymentState::snapshot(TimePoint now,
                                                    std::chrono::duration<double> ttl) const {
    Snapshot out;
    {
        std::lock_guard lk(mu_);
        out = s_;
        out.latency_median_s = latency_.median(now, ttl);
        out.ttft_median_s = ttft_.median(now, ttl);
        auto t = outcomes_.totals(sec_of(now));
        out.window_attempts = t.attempts;
        out.window_failures = t.failures;
    }
    out.cooldown_remaining_s = cooldown_remaining_s(now);
    out.probing = probe_.load(std::memory_order_acquire) == 2;
    out.in_flight = in_flight();
    out.checked = checked();
    return out;
}

}  // namespace sy::routing
