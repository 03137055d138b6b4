#include "sy/ratelimit/window.hpp"

#include <algorithm>

namespace sy::ratelimit::detail {

namespace {
std::size_t index_of(std::int64_t second) {
    auto m = second % kWindowSeconds;
    return static_cast<std::size_t>(m < 0 ? m + kWindowSeconds : m);
}
}  // namespace

std::int64_t SlidingWindow::used(std::int64_t now_s) const {
    std::int64_t sum = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        if (live(i, now_s)) {
            sum += counts_[i];
        }
    }
    return sum;
}

void SlidingWindow::add(std::int64_t second, std::int64_t delta) {
    std::size_t i = index_of(second);
    if (seconds_[i] != second) {
        if (seconds_[i] > second && counts_[i] != 0) {
            return;  // that second has already left the window
        }
        seconds_[i] = second;
        counts_[i] = 0;
    }
    counts_[i] = std::max<std::int64_t>(counts_[i] + delta, 0);
}

std::int64_t SlidingWindow::seconds_until_at_most(std::int64_t now_s, std::int64_t max_used) const {
    if (max_used < 0) {
        return kWindowSeconds;
    }
    for (std::int64_t k = 1; k < kWindowSeconds; ++k) {
        std::int64_t remaining = 0;
        for (std::size_t i = 0; i < counts_.size(); ++i) {
            if (live(i, now_s) && seconds_[i] > now_s + k - kWindowSeconds) {
                remaining += counts_[i];
            }
        }
        if (remaining <= max_used) {
            return k;
        }
    }
    return kWindowSeconds;
}

std::int64_t SlidingWindow::seconds_until_empty(std::int64_t now_s) const {
    std::int64_t newest = 0;
    bool any = false;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        if (live(i, now_s)) {
            newest = any ? std::max(newest, seconds_[i]) : seconds_[i];
            any = true;
        }
    }
    return any ? newest + kWindowSeconds - now_s : 0;
}

}  // namespace sy::ratelimit::detail
