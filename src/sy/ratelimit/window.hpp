#pragma once
// Sliding 60-second window of 1-second buckets (README D6, auth-budgets-limits.md §10.2).
// Internal to the ratelimit module; the Redis back-end implements the same arithmetic in Lua.
//
// Thread safety: none; callers lock.

#include <array>
#include <cstdint>

namespace sy::ratelimit::detail {

inline constexpr std::int64_t kWindowSeconds = 60;

class SlidingWindow {
public:
    // Σ buckets with second ∈ (now - 60, now].
    std::int64_t used(std::int64_t now_s) const;
    void add(std::int64_t second, std::int64_t delta);  // buckets never go below 0
    // Smallest k in [1, 60] such that the buckets still in the window at now_s + k sum to at
    // most `max_used`; 60 when none fits sooner (everything has left by then). A negative
    // max_used (a limit of 0) also returns 60: the client is told to wait a full window.
    std::int64_t seconds_until_at_most(std::int64_t now_s, std::int64_t max_used) const;
    // Seconds until the window is empty (0 when already empty).
    std::int64_t seconds_until_empty(std::int64_t now_s) const;
    bool empty(std::int64_t now_s) const { return used(now_s) == 0; }

private:
    bool live(std::size_t i, std::int64_t now_s) const {
        return seconds_[i] > now_s - kWindowSeconds && seconds_[i] <= now_s && counts_[i] != 0;
    }
    std::array<std::int64_t, kWindowSeconds> counts_{};
    std::array<std::int64_t, kWindowSeconds> seconds_{};
};

}  // namespace sy::ratelimit::detail
