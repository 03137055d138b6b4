#pragma once
// Rate limits shared by every instance through Redis (README D7, D10; auth-budgets-limits.md
// §11.1): the same semantics as LocalLimiter, computed by one Lua script per admission, so an
// admission is atomic over all descriptors and N instances behave as one.
//
// Keys (hash-tagged per descriptor): `{rl:<descriptor>:<id>}:req` and `…:tok` are hashes of
// second -> count (expire 61 s after the last write); `…:par` is a sorted set of reservation
// ids scored by lease expiry, so a crashed instance's slots free themselves (§10.4).
// Bucket seconds come from this instance's clock (injectable); instances are assumed to be
// NTP-synchronised (1 s buckets tolerate the usual skew).
// Note: a script touching several descriptors needs them in one slot on Redis Cluster; this
// back-end targets a single Redis (or a primary with replicas).
//
// Settling is fire-and-forget (queued on the Redis client, never awaited).
//
// Redis failures (§11.4): fail-open by default — the request is admitted by an in-process
// LocalLimiter, with a WARN at most every 30 s and redis_up() false; with `fail_closed` the
// request gets 503. A reservation taken while Redis was down settles locally.
//
// Thread safety: thread-safe. Reservations must not outlive the limiter.

#include <atomic>
#include <chrono>
#include <memory>

#include "sy/kv/redis_client.hpp"
#include "sy/ratelimit/local_limiter.hpp"

namespace sy::ratelimit {

struct RedisLimiterOptions {
    bool fail_closed = false;  // fail_closed_rate_limit_enforcement
    std::chrono::seconds warn_every{30};
};

class RedisLimiter final : public Limiter {
public:
    // `redis` must outlive the limiter.
    RedisLimiter(kv::RedisClient& redis, RedisLimiterOptions options, Clock clock = system_clock());
    ~RedisLimiter() override;

    boost::asio::awaitable<Result<Reservation>> check_and_reserve(Request req) override;

    // False after the last admission failed to reach Redis (gauge litellm_redis_up, ours).
    bool redis_up() const { return up_.load(); }

private:
    class Ticket;
    Result<Reservation> fallback(const Request& req, const Error& why);

    kv::RedisClient& redis_;
    RedisLimiterOptions options_;
    Clock clock_;
    LocalLimiter local_;
    std::atomic<bool> up_{true};
    std::atomic<std::int64_t> last_warn_ms_{0};
    std::atomic<std::uint64_t> next_id_{0};
    std::string instance_;  // random prefix of reservation ids
};

}  // namespace sy::ratelimit
