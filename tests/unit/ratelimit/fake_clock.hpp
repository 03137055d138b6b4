#pragma once
// A settable wall clock for limiter tests (no sleeps, no real time).

#include <atomic>
#include <chrono>

#include "sy/ratelimit/limiter.hpp"

namespace sy::ratelimit::test {

class FakeClock {
public:
    // 2026-01-01 12:00:00 UTC
    explicit FakeClock(std::int64_t epoch_ms = 1767268800000) : ms_(epoch_ms) {}
    void advance(std::chrono::milliseconds d) { ms_ += d.count(); }
    void set_ms(std::int64_t ms) { ms_ = ms; }
    std::chrono::system_clock::time_point now() const {
        return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms_.load()));
    }
    Clock clock() {
        return [this] { return now(); };
    }

private:
    std::atomic<std::int64_t> ms_;
};

}  // namespace sy::ratelimit::test
