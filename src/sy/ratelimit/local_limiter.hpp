#pragma once
// In-process limiter: the limits of one instance (no Redis configured, or Redis down and
// fail-open, auth-budgets-limits.md §11.4). Sharded maps behind mutexes; an admission locks the
// shards of its descriptors in index order, so it is atomic over all scopes and deadlock-free.
// Idle descriptors (empty windows, nothing in flight) are dropped by a periodic sweep.
//
// Thread safety: all methods are thread-safe. Reservations must not outlive the limiter.

#include <cstddef>
#include <memory>

#include "sy/ratelimit/limiter.hpp"

namespace sy::ratelimit {

class LocalLimiter final : public Limiter {
public:
    explicit LocalLimiter(Clock clock = system_clock(), std::size_t shards = 64);
    ~LocalLimiter() override;

    // Synchronous admission: never waits on anything but a shard mutex.
    Result<Reservation> try_reserve(const Request& req);

    boost::asio::awaitable<Result<Reservation>> check_and_reserve(Request req) override;

    // Descriptors currently tracked (for tests and metrics).
    std::size_t tracked() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sy::ratelimit
