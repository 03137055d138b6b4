#include "sy/ratelimit/local_limiter.hpp"

#include <algorithm>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "sy/ratelimit/window.hpp"

namespace sy::ratelimit {

namespace {

constexpr std::uint32_t kSweepEvery = 256;  // admissions per shard between idle sweeps

struct Counter {
    detail::SlidingWindow requests;
    detail::SlidingWindow tokens;
    std::int64_t in_flight = 0;
};

struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Counter> counters;
    std::uint32_t ops = 0;
};

std::int64_t to_seconds(std::chrono::system_clock::time_point t) {
    return std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count();
}

}  // namespace

struct LocalLimiter::Impl {
    Clock clock;
    std::vector<std::unique_ptr<Shard>> shards;

    std::size_t shard_of(const std::string& key) const {
        return std::hash<std::string>{}(key) % shards.size();
    }

    struct Held {
        std::string key;
        std::size_t shard;
        bool tokens;    // reserved in the tpm window
        bool parallel;  // holds a parallel slot
    };

    class Ticket final : public Reservation::Ticket {
    public:
        Ticket(Impl& impl, std::vector<Held> held, std::int64_t estimate, std::int64_t second)
            : impl_(impl), held_(std::move(held)), estimate_(estimate), second_(second) {}
        void finish(std::optional<std::int64_t> actual) noexcept override {
            impl_.finish(held_, estimate_, second_, actual);
        }

    private:
        Impl& impl_;
        std::vector<Held> held_;
        std::int64_t estimate_;
        std::int64_t second_;
    };

    // §10.3 reconcile. A refund (actual < estimate, or failure) comes out of the bucket the
    // estimate went into, if it is still in the window, so it never turns into credit; extra
    // tokens (actual > estimate) are counted now.
    void finish(const std::vector<Held>& held,
                std::int64_t estimate,
                std::int64_t reserved_s,
                std::optional<std::int64_t> actual) noexcept {
        const std::int64_t now_s = to_seconds(clock());
        const std::int64_t delta = actual ? *actual - estimate : -estimate;
        for (const Held& h : held) {
            Shard& sh = *shards[h.shard];
            std::lock_guard lock(sh.mu);
            auto it = sh.counters.find(h.key);
            if (it == sh.counters.end()) {
                if (!(h.tokens && delta > 0)) {
                    continue;
                }
                it = sh.counters.try_emplace(h.key).first;
            }
            Counter& c = it->second;
            if (h.tokens) {
                if (delta > 0) {
                    c.tokens.add(now_s, delta);
                } else if (delta < 0 && reserved_s > now_s - detail::kWindowSeconds) {
                    c.tokens.add(reserved_s, delta);
                }
            }
            if (h.parallel && c.in_flight > 0) {
                --c.in_flight;
            }
        }
    }

    void sweep(Shard& sh, std::int64_t now_s) {
        for (auto it = sh.counters.begin(); it != sh.counters.end();) {
            const Counter& c = it->second;
            if (c.in_flight == 0 && c.requests.empty(now_s) && c.tokens.empty(now_s)) {
                it = sh.counters.erase(it);
            } else {
                ++it;
            }
        }
    }
};

LocalLimiter::LocalLimiter(Clock clock, std::size_t shards) : impl_(std::make_unique<Impl>()) {
    impl_->clock = std::move(clock);
    shards = std::max<std::size_t>(shards, 1);
    impl_->shards.reserve(shards);
    for (std::size_t i = 0; i < shards; ++i) {
        impl_->shards.push_back(std::make_unique<Shard>());
    }
}

LocalLimiter::~LocalLimiter() = default;

std::size_t LocalLimiter::tracked() const {
    std::size_t n = 0;
    for (const auto& sh : impl_->shards) {
        std::lock_guard lock(sh->mu);
        n += sh->counters.size();
    }
    return n;
}

boost::asio::awaitable<Result<Reservation>> LocalLimiter::check_and_reserve(Request req) {
    co_return try_reserve(req);
}

Result<Reservation> LocalLimiter::try_reserve(const Request& req) {
    if (req.descriptors.empty()) {
        return Reservation{};
    }
    const auto now = impl_->clock();
    const std::int64_t now_s = to_seconds(now);
    const std::int64_t estimate = std::max<std::int64_t>(req.estimated_tokens, 0);

    const std::size_t n = req.descriptors.size();
    std::vector<std::string> keys;
    std::vector<std::size_t> shard_ids;
    keys.reserve(n);
    shard_ids.reserve(n);
    for (const Descriptor& d : req.descriptors) {
        keys.push_back(d.key());
        shard_ids.push_back(impl_->shard_of(keys.back()));
    }
    // Lock every shard involved, in index order: atomic over all scopes, no deadlock.
    std::vector<std::size_t> order = shard_ids;
    std::sort(order.begin(), order.end());
    order.erase(std::unique(order.begin(), order.end()), order.end());
    std::vector<std::unique_lock<std::mutex>> locks;
    locks.reserve(order.size());
    for (std::size_t s : order) {
        locks.emplace_back(impl_->shards[s]->mu);
    }

    std::vector<Counter*> counters(n);
    std::vector<LimitStatus> statuses;
    std::optional<Rejection> rejection;
    auto reject = [&](const LimitStatus& st, std::int64_t retry) {
        if (!rejection || retry > rejection->retry_after_s) {
            rejection = Rejection{st, retry};
        }
    };
    for (std::size_t i = 0; i < n; ++i) {
        const Descriptor& d = req.descriptors[i];
        Counter& c = impl_->shards[shard_ids[i]]->counters[keys[i]];
        counters[i] = &c;
        auto status = [&](LimitKind k, std::int64_t limit, std::int64_t remaining,
                          std::int64_t reset) {
            return LimitStatus{d.scope, d.id, d.model_group, k, limit,
                               std::max<std::int64_t>(remaining, 0), reset};
        };
        if (d.limits.rpm) {
            const std::int64_t limit = *d.limits.rpm;
            const std::int64_t used = c.requests.used(now_s);
            statuses.push_back(status(LimitKind::kRequests, limit, limit - used,
                                      c.requests.seconds_until_empty(now_s)));
            if (used + 1 > limit) {
                reject(statuses.back(), c.requests.seconds_until_at_most(now_s, limit - 1));
            }
        }
        if (d.limits.tpm) {
            const std::int64_t limit = *d.limits.tpm;
            const std::int64_t used = c.tokens.used(now_s);
            statuses.push_back(status(LimitKind::kTokens, limit, limit - used,
                                      c.tokens.seconds_until_empty(now_s)));
            if (used >= limit) {
                reject(statuses.back(), c.tokens.seconds_until_at_most(now_s, limit - 1));
            }
        }
        if (d.limits.max_parallel && c.in_flight >= *d.limits.max_parallel) {
            reject(status(LimitKind::kParallel, *d.limits.max_parallel,
                          *d.limits.max_parallel - c.in_flight, 0),
                   1);
        }
    }
    if (rejection) {
        // Nothing is counted for a rejected request (D6); idle entries created above go at the
        // next sweep.
        return rejection_error(*rejection, statuses, now);
    }

    std::vector<Impl::Held> held;
    held.reserve(n);
    std::size_t si = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const Descriptor& d = req.descriptors[i];
        Counter& c = *counters[i];
        if (d.limits.rpm) {
            c.requests.add(now_s, 1);
            LimitStatus& st = statuses[si++];
            st.remaining = std::max<std::int64_t>(st.remaining - 1, 0);
            st.reset_s = c.requests.seconds_until_empty(now_s);
        }
        if (d.limits.tpm) {
            c.tokens.add(now_s, estimate);
            LimitStatus& st = statuses[si++];
            st.remaining = std::max<std::int64_t>(st.remaining - estimate, 0);
            st.reset_s = c.tokens.seconds_until_empty(now_s);
        }
        if (d.limits.max_parallel) {
            ++c.in_flight;
        }
        if (d.limits.tpm || d.limits.max_parallel) {
            held.push_back({keys[i], shard_ids[i], d.limits.tpm.has_value(),
                            d.limits.max_parallel.has_value()});
        }
    }
    for (std::size_t s : order) {
        Shard& sh = *impl_->shards[s];
        if (++sh.ops % kSweepEvery == 0) {
            impl_->sweep(sh, now_s);
        }
    }
    locks.clear();
    if (held.empty()) {
        return Reservation{nullptr, std::move(statuses)};
    }
    return Reservation{std::make_unique<Impl::Ticket>(*impl_, std::move(held), estimate, now_s),
                       std::move(statuses)};
}

}  // namespace sy::ratelimit
