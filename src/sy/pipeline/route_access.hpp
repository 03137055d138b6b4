#pragma once
// Key-level route narrowing (auth-budgets-limits.md §3.2), applied after authentication and
// after the caller's role: `key_type` (llm_api, management, read_only, default),
// `allowed_routes` (exact paths, `prefix/*` patterns, or LiteLLM's route groups
// `llm_api_routes`, `info_routes`, `management_routes`), and UI tokens
// (`team_id: litellm-dashboard`: management and info routes only). Denied -> 403 auth_error.
//
// Thread safety: pure functions.

#include <string_view>

#include "sy/auth/governor.hpp"
#include "sy/core/error.hpp"

namespace sy::pipeline {

enum class RouteClass : std::uint8_t {
    kLlm,         // /chat/completions, /completions, /embeddings, /v1/messages, count_tokens
    kModels,      // /models, /v1/models, /model/info
    kInfo,        // GET /key/info, /user/info, /team/info, /customer/info
    kManagement,  // every other management route
    kHealth,      // /health
};

// Class of a management path (`is_get`: GET/HEAD).
RouteClass management_class(std::string_view path, bool is_get);

Status check_key_route(const auth::KeyInfo& key, std::string_view path, RouteClass c);

}  // namespace sy::pipeline
