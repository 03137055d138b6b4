#pragma once
// Per-request state shared by the stages of one call (RequestContext). Lives in the session
// coroutine's frame; stages receive it by reference.
//
// Thread safety: used by one coroutine only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sy/auth/governor.hpp"
#include "sy/http/asio.hpp"
#include "sy/ratelimit/limiter.hpp"

namespace sy::pipeline {

struct CallContext {
    std::string call_id;
    http::Clock::time_point start = http::Clock::now();
    // Views of the request and the connection, which outlive the call's context.
    std::string_view method;
    std::string_view route;  // path as received
    std::string_view client_ip;
    bool llm_route = false;
    bool anthropic_format = false;  // /v1/messages: errors in Anthropic's envelope (api.md §5)

    std::string requested_model;
    // Views into the immutable model table, which outlives every request.
    std::string_view model_group;
    std::string_view model_id;
    std::string_view provider;
    std::string_view api_base;
    bool stream = false;

    int status = 0;
    std::string error_class;  // empty on success
    int attempts = 0;   // upstream attempts, all groups
    int retries = 0;    // attempts after the first within a group (x-litellm-attempted-retries)
    int fallbacks = 0;  // fallback groups tried (x-litellm-attempted-fallbacks)
    int max_retries = 0;  // effective num_retries once a retry happened (x-litellm-max-retries)
    double upstream_ms = -1;
    double ttft_ms = -1;
    std::int64_t prompt_tokens = -1;
    std::int64_t completion_tokens = -1;
    // Usage details for the price (subsets of the counts above; 0 when not reported).
    std::int64_t cached_tokens = 0;
    std::int64_t cache_creation_tokens = 0;
    std::int64_t reasoning_tokens = 0;

    // Governance (issue 6): who called, what was reserved, what the call cost.
    auth::KeyInfoConstPtr key;  // virtual key; null for the master key or no auth
    bool is_master = false;
    std::string end_user;       // body `user` / x-litellm-end-user-id / x-litellm-customer-id
    std::optional<auth::Admission> admission;
    auth::TimePoint wall_start = auth::SysClock::now();
    const void* deployment = nullptr;  // config::Deployment of the attempt, for prices
    std::string response_id;
    double cost = 0;
    bool billed = false;     // spend row written
    bool cost_free = false;  // mock_response: priced 0 (§8)
    // Rate limits: held from admission to finish(); x-ratelimit-* lines ("name: value\r\n")
    // for the success response (D24), empty when no gateway limit applies.
    ratelimit::Reservation rate_limit;
    std::string rate_limit_headers;
    // Shared (Redis) budget reservation: the scopes' keys and the lease; empty = none.
    std::vector<std::string> budget_keys;
    std::string budget_lease;
    double budget_reserved = 0;
};

}  // namespace sy::pipeline
