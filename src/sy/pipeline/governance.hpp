#pragma once
// Stages `authorize` and `account` of the LLM pipeline (ARCHITECTURE.md §4) for virtual keys:
// model access, end-user checks and the budget reservation before the call; cost, settlement
// and the spend-ledger row after it. Never touches the database: the governor is in memory and
// the ledger appends to a local WAL.
//
// Rate limits plug in through RateLimitHook (LimiterHook in rate_limits.hpp): admit() runs after
// the budget reservation and a rejection releases it (auth-budgets-limits.md §2 step 14).
// Prices come from the bundled price table with per-deployment overrides (src/sy/spend, §8).
//
// Thread safety: shared by all workers; all state lives in the governor and the ledger.

#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "sy/auth/governor.hpp"
#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"
#include "sy/pipeline/call_context.hpp"
#include "sy/pipeline/decode.hpp"
#include "sy/http/asio.hpp"
#include "sy/spend/cost.hpp"
#include "sy/store/ledger.hpp"

namespace sy::pipeline {

// The seam for rpm/tpm/parallel limits. The default admits everything.
class RateLimitHook {
public:
    virtual ~RateLimitHook() = default;
    // Admission for the call described by ctx (key, end user, model group). An Error is the 429
    // to send (with retry-after and x-ratelimit-* headers). An admitted call may keep state in
    // ctx (ctx.rate_limit, ctx.rate_limit_headers).
    virtual http::Task<Status> admit(CallContext& ctx, std::int64_t prompt_token_estimate) {
        (void)ctx;
        (void)prompt_token_estimate;
        co_return ok_status();
    }
    // Called once when the call is finished (any outcome), with ctx's tokens set.
    virtual void release(CallContext& ctx) { (void)ctx; }
    // False when admit() would admit the call without looking at anything (no limit can apply
    // to it): the caller then skips the coroutine. May be true for calls that turn out to have
    // no applicable limit. A hook that limits must not answer false for a call it would limit.
    virtual bool may_limit(const CallContext& ctx) const {
        (void)ctx;
        return true;
    }
};

// The hook of a gateway without rate limits: admits everything.
class NoRateLimits final : public RateLimitHook {
public:
    bool may_limit(const CallContext& ctx) const override {
        (void)ctx;
        return false;
    }
};

// The seam for budgets shared between instances (RedisBudgets in shared_budget.hpp). admit() runs
// after the local reservation (ctx.admission set) and before rate limits; a rejection releases
// the local reservation. settle() runs once per admitted call (any outcome).
class SharedBudgetHook {
public:
    virtual ~SharedBudgetHook() = default;
    virtual http::Task<Status> admit(CallContext& ctx, double reserve) = 0;
    virtual void settle(CallContext& ctx, double cost) = 0;
};

class Governance {
public:
    Governance(auth::Governor& gov, store::SpendLedger* ledger, RateLimitHook* limits = nullptr);
    // general_settings.disable_spend_logs: calls that cost nothing write no spend-log row. Calls
    // with a cost are still journaled: their row carries the budget increments (exactly once).
    void set_disable_spend_logs(bool on) { disable_spend_logs_ = on; }

    // Before the call: `requested` as sent, `group` as resolved, `req` the decoded request
    // (its `user`, `max_tokens` and `max_completion_tokens` members are read). The verdict goes
    // to `out` (an out-parameter: no Status temporary in the caller's coroutine frame).
    http::Task<void> authorize(CallContext& ctx, std::string_view requested,
                               std::string_view group, const config::Deployment& d,
                               const LlmRequest& req, Status& out);
    // Model access alone (no reservation): for the groups a request's own `fallbacks` name
    // (router.md §6: body fallbacks are checked against the key, config fallbacks are not).
    Status check_model(const CallContext& ctx, std::string_view requested,
                       std::string_view group) const;
    // After the call (any outcome); idempotent. Computes the cost from ctx's tokens, settles
    // the reservation, and journals the spend row. Returns the cost.
    double finish(CallContext& ctx, std::string_view call_type);

    // The price that applies to a deployment (§8: litellm_params -> model_info -> base_model ->
    // the bundled map); nullptr = unpriced (one WARN per model). Resolved once per deployment.
    const spend::ModelPrice* price_of(const config::Deployment& d);
    // Cost of `usage` on `d` (0 when unpriced).
    double cost_of(const config::Deployment& d, const spend::Usage& usage);
    // Logs the unpriced deployments of a model list (start-up).
    void report_unpriced(const std::vector<config::Deployment>& deployments);
    // Budgets shared through Redis (null = per instance). Set before serving; must outlive this.
    void set_shared_budgets(SharedBudgetHook* hook) { shared_budgets_ = hook; }

private:
    // The synchronous part of authorize(): model access, blocked end user, the local budget
    // reservation (ctx.admission). Outside the coroutine so its temporaries take no frame room.
    // `prompt_estimate` receives the prompt size estimate, `reserve` the reserved cost.
    Status reserve(CallContext& ctx, std::string_view requested, std::string_view group,
                   const config::Deployment& d, const LlmRequest& req,
                   std::int64_t& prompt_estimate, double& reserve);
    // Journals the call's spend-log row (LiteLLM_SpendLogs shape).
    void append_row(const CallContext& ctx, std::string_view call_type, const spend::Usage& usage,
                    const config::Deployment* d);

    auth::Governor& gov_;
    store::SpendLedger* ledger_;
    NoRateLimits default_limits_;
    RateLimitHook* limits_;
    SharedBudgetHook* shared_budgets_ = nullptr;
    bool disable_spend_logs_ = false;
    spend::CostCalculator calc_;
    std::shared_mutex prices_mu_;
    // deployment id + model -> resolved price (nullopt = unpriced). Nodes are stable.
    std::unordered_map<std::string, std::optional<spend::ModelPrice>> prices_;
    std::unordered_set<std::string> warned_;  // unpriced models already logged
};

// "0.00042" style decimal for x-litellm-response-cost.
std::string format_cost(double cost);

}  // namespace sy::pipeline
