#pragma once
// Which Redis the gateway coordinates through (auth-budgets-limits.md §11.2, README D10): the
// first of litellm_settings.cache_params (host/port/password/url), router_settings.redis_*,
// env REDIS_URL, env REDIS_HOST (+ REDIS_PORT, default 6379; REDIS_PASSWORD). Used for every
// shared concern (rate limits, budgets, cooldowns, invalidation) whether or not `cache: true`.
//
// Thread safety: pure function of the settings and the environment getter.

#include <functional>
#include <optional>
#include <string>

#include "sy/config/settings.hpp"

namespace sy::config {

struct RedisEndpoint {
    std::string url;  // when given as a URL (then the fields below are unset)
    std::string host;
    int port = 6379;
    std::string username;
    std::string password;
    int db = 0;
    std::string source;  // "litellm_settings.cache_params", "router_settings", "REDIS_URL", ...
    // "host:port" for logs (never the password).
    std::string display() const;
};

using EnvGetter = std::function<const char*(const char*)>;

std::optional<RedisEndpoint> discover_redis(const Settings& s, const EnvGetter& env);

}  // namespace sy::config
