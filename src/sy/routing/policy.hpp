#pragma once
// Router policy: how an attempt's failure is classified, whether and how often it is retried,
// how long to wait before the retry, when a deployment cools down and for how long
// (router.md §4, §5). Built once from the config; pure functions otherwise.
//
// Thread safety: RouterPolicy is immutable after from_settings().

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"

namespace sy::routing {

enum class FailureClass : std::uint8_t {
    kRateLimit,      // upstream 429
    kAuth,           // upstream 401 / 403 / 404: the deployment itself is misconfigured
    kTimeout,        // timeout or 408
    kServer,         // 5xx, 529, connection / TLS / DNS failure, broken stream
    kBadRequest,     // 400, 413, 422, unsupported params: the request's fault
    kContextWindow,  // context window exceeded
    kContentPolicy,  // content policy violation
    kNeutral,        // client disconnect, gateway-internal error, test hook
};
inline constexpr std::size_t kFailureClassCount = 8;

// `upstream_status` is the provider's status (0 when no response arrived).
FailureClass classify(const Error& e, int upstream_status);

// LiteLLM's names for the classes in retry_policy / allowed_fails_policy
// ("RateLimitErrorRetries", "RateLimitErrorAllowedFails", ...).
std::string_view policy_name(FailureClass c);

// What a failure does to the deployment (router.md §4.1).
enum class CooldownEffect : std::uint8_t { kNow, kCount, kNever };
CooldownEffect cooldown_effect(FailureClass c);

// Whether a failure of this class may be retried within the group (§5.2). kAuth is retried only
// when an untried, non-cooling deployment is left (the caller knows).
bool retryable(FailureClass c);

using PerClass = std::array<std::optional<int>, kFailureClassCount>;

struct RouterPolicy {
    config::RoutingStrategy strategy = config::RoutingStrategy::kSimpleShuffle;
    int num_retries = config::kDefaultNumRetries;
    double retry_after_s = 0;  // floor before every retry (README D17)
    PerClass retry_policy{};
    std::map<std::string, PerClass> group_retry_policy;

    bool disable_cooldowns = false;
    double cooldown_time_s = config::kDefaultCooldownTimeS;
    bool legacy_allowed_fails = false;  // allowed_fails set explicitly or allowed_fails_policy
    int allowed_fails = config::kDefaultAllowedFails;
    PerClass allowed_fails_policy{};
    int failure_min_requests = 5;
    double failure_percent = 0.5;

    double latency_ttl_s = 3600;
    double latency_buffer = 0;
    std::size_t max_latency_list_size = 10;

    int max_fallbacks = config::kDefaultMaxFallbacks;
    bool enable_pre_call_checks = false;

    static RouterPolicy from_settings(const config::Settings& s);

    // router.md §5.1: request > group policy > class policy > deployment > router default.
    int retries_for(std::optional<int> request_retries,
                    std::string_view group,
                    FailureClass c,
                    std::optional<int> deployment_retries) const;

    // Whether the failure window `attempts`/`failures`/`class_failures` trips the cooldown rule
    // (§4.2).
    bool trips(FailureClass c, std::uint64_t attempts, std::uint64_t failures,
               std::uint64_t class_failures) const;

    // Cooldown length (§4.3); nullopt = this deployment never cools.
    std::optional<double> cooldown_length(std::optional<double> deployment_cooldown_s,
                                          std::optional<double> provider_retry_after_s) const;

    // Wait before retry number `n` (0-based) (§5.4). `jitter` in [0, 1).
    double backoff_s(int n, bool untried_available, std::optional<double> provider_retry_after_s,
                     double jitter) const;
};

// Seconds the provider asked us to wait, from retry-after-ms / retry-after (seconds or an HTTP
// date is not supported: ignored) / x-ratelimit-reset-requests|tokens ("1s", "6m0s", "20ms").
// `headers` are lowercase name/value pairs.
std::optional<double> provider_retry_after_s(const std::vector<Header>& headers);

// Parses OpenAI's reset durations: "20ms", "1s", "6m0s", "1h2m3.5s", or plain seconds.
std::optional<double> parse_reset_duration(std::string_view s);

}  // namespace sy::routing
