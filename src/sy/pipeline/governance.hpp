#pragma once
// Stages `authorize` and `account` of the LLM pipeline (ARCHITECTURE.md §4) for virtual keys:
// model access, end-user checks and the budget reservation before the call; cost, settlement
// and the spend-ledger row after it. Never touches the database: the governor is in memory and
// the ledger appends to a local WAL.
//
// Rate limits plug in through RateLimitHook (src/sy/ratelimit, issue 6): admit() runs after the
// budget reservation and a rejection releases it (auth-budgets-limits.md §2 step 14).
//
// Thread safety: shared by all workers; all state lives in the governor and the ledger.

#include <string>

#include "sy/auth/governor.hpp"
#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"
#include "sy/pipeline/call_context.hpp"
#include "sy/store/ledger.hpp"

namespace sy::pipeline {

// The seam for rpm/tpm/parallel limits. The default admits everything.
class RateLimitHook {
public:
    virtual ~RateLimitHook() = default;
    // Admission for the call described by ctx (key, end user, model group). An Error is the 429
    // to send (with retry-after and x-ratelimit-* headers).
    virtual Status admit(CallContext& ctx, std::int64_t prompt_token_estimate) {
        (void)ctx;
        (void)prompt_token_estimate;
        return ok_status();
    }
    // Called exactly once per admitted call, with the tokens used (-1 when unknown).
    virtual void release(CallContext& ctx, std::int64_t total_tokens) {
        (void)ctx;
        (void)total_tokens;
    }
};

// Cost of a call: until the price table lands (src/sy/spend), the deployment's own
// input_cost_per_token / output_cost_per_token, else 0.
double cost_of(const config::Deployment& d, std::int64_t prompt_tokens,
               std::int64_t completion_tokens);

class Governance {
public:
    Governance(auth::Governor& gov, store::SpendLedger* ledger, RateLimitHook* limits = nullptr);

    // Before the call: `requested` as sent, `group` as resolved, `body` the client's JSON.
    Status authorize(CallContext& ctx, std::string_view requested, std::string_view group,
                     const config::Deployment& d, std::string_view body);
    // After the call (any outcome); idempotent. Computes the cost from ctx's tokens, settles
    // the reservation, and journals the spend row. Returns the cost.
    double finish(CallContext& ctx, std::string_view call_type);

private:
    auth::Governor& gov_;
    store::SpendLedger* ledger_;
    RateLimitHook default_limits_;
    RateLimitHook* limits_;
};

// "0.00042" style decimal for x-litellm-response-cost.
std::string format_cost(double cost);

}  // namespace sy::pipeline
