#pragma once
// Budgets shared by every gateway instance through Redis (auth-budgets-limits.md §6.4, §11.1;
// README D7, D10). Each budget-limited scope of a call (key, personal user, team, end user,
// global) has a hash `{budget:<scope>:<id>}` (spend, reserved, reset_at) and a lease set
// `{budget:<scope>:<id>}:leases`. Admission is one Lua script over all scopes: drop expired
// leases, apply a newer reset, and if every scope has `spend + reserved < max_budget`, add the
// worst-case cost to each scope's `reserved` under a lease (request timeout + 60 s, so a crashed
// instance cannot pin budget); else change nothing. Completion releases the lease and adds the
// actual cost. A hash that is absent (first use, Redis restarted) is seeded from this instance's
// view of the spend: the store's spend plus its own unflushed spend. Limits (max_budget) are
// always taken from the cache, so admin edits apply at once.
//
// The local governor still admits first (its reservation and lazy resets are what keeps the
// instance correct when Redis is down: fail-open to per-instance budgets, WARN every 30 s).
//
// Thread safety: shared by all workers; per-call state lives in the CallContext.

#include <atomic>
#include <chrono>

#include "sy/auth/governor.hpp"
#include "sy/kv/redis_client.hpp"
#include "sy/pipeline/governance.hpp"

namespace sy::pipeline {

class RedisBudgets final : public SharedBudgetHook {
public:
    // `gov` and `redis` must outlive the hook and every call it admitted.
    RedisBudgets(const auth::Governor& gov, kv::RedisClient& redis, std::chrono::seconds lease);

    http::Task<Status> admit(CallContext& ctx, double reserve) override;
    void settle(CallContext& ctx, double cost) override;

    // "{budget:key:<hash>}" for "k:<hash>" (exposed for tests).
    static std::string hash_key(std::string_view scope);

private:
    void warn_down(const std::string& detail);

    const auth::Governor& gov_;
    kv::RedisClient& redis_;
    std::chrono::seconds lease_;
    std::atomic<std::int64_t> last_warn_ms_{0};
};

}  // namespace sy::pipeline
