#pragma once
// The rate-limit stage of the LLM pipeline (auth-budgets-limits.md §10; README D6, D9, D24):
// builds the descriptors of a call from its virtual key, the key's user and team, the end user
// and the proxy-wide settings, admits the call on a ratelimit::Limiter (RedisLimiter when a
// Redis is configured, else LocalLimiter), and settles the reservation with the call's tokens.
//
// Thread safety: LimiterHook is shared by all workers; it keeps no per-call state (the
// reservation lives in the CallContext).

#include <optional>

#include "sy/auth/governor.hpp"
#include "sy/config/settings.hpp"
#include "sy/pipeline/governance.hpp"
#include "sy/ratelimit/limiter.hpp"

namespace sy::pipeline {

struct RateLimitOptions {
    ratelimit::TokenCounting counting = ratelimit::TokenCounting::kTotal;  // D9
    std::optional<std::int64_t> global_max_parallel;  // global_max_parallel_requests
    bool fail_closed = false;  // fail_closed_rate_limit_enforcement (Redis down -> 503)

    // general_settings.token_rate_limit_type, global_max_parallel_requests,
    // fail_closed_rate_limit_enforcement.
    static RateLimitOptions from_settings(const config::Settings& s);
};

// The admission request for the call in `ctx` (key, end user and model group set), with
// `prompt_estimate` reserved in tpm windows as the counting mode says. The master key is exempt
// from every descriptor but `end_user` (D6); descriptors without a limit are left out.
ratelimit::Request limit_request(const auth::Governor& gov, const CallContext& ctx,
                                 const RateLimitOptions& opts, std::int64_t prompt_estimate);

// "name: value\r\n" lines for the response of an admitted call (empty when no rpm/tpm limit
// applies; then nothing overrides the provider's view, D24).
std::string header_lines(const std::vector<Header>& headers);

class LimiterHook final : public RateLimitHook {
public:
    // `gov` and `limiter` must outlive the hook and every call it admitted.
    LimiterHook(const auth::Governor& gov, ratelimit::Limiter& limiter, RateLimitOptions opts);

    http::Task<Status> admit(CallContext& ctx, std::int64_t prompt_token_estimate) override;
    void release(CallContext& ctx) override;
    // Some descriptor of limit_request() can apply: a virtual key, the global parallel cap
    // (not for the master key), or an end user.
    bool may_limit(const CallContext& ctx) const override;

private:
    const auth::Governor& gov_;
    ratelimit::Limiter& limiter_;
    RateLimitOptions opts_;
};

}  // namespace sy::pipeline
