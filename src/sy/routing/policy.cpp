#include "sy/routing/policy.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>

namespace sy::routing {
namespace {

namespace json = boost::json;

constexpr std::size_t idx(FailureClass c) { return static_cast<std::size_t>(c); }

// Reads {"<Class>Retries": n, ...} style objects into per-class slots.
PerClass read_per_class(const json::object& o, std::string_view suffix) {
    PerClass out{};
    for (std::size_t i = 0; i < kFailureClassCount; ++i) {
        auto name = policy_name(static_cast<FailureClass>(i));
        if (name.empty()) {
            continue;
        }
        std::string key = std::string(name) + std::string(suffix);
        if (auto* v = o.if_contains(key); v && v->is_int64() && v->get_int64() >= 0) {
            out[i] = static_cast<int>(std::min<std::int64_t>(v->get_int64(), 100));
        }
    }
    // LiteLLM has no separate class for these: they follow BadRequestError.
    out[idx(FailureClass::kContextWindow)] = out[idx(FailureClass::kBadRequest)];
    return out;
}

json::object parse_object(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return {};
    }
    return std::move(v.get_object());
}

std::optional<double> number_in(const json::object& o, std::string_view key) {
    if (auto* v = o.if_contains(key)) {
        if (v->is_number()) {
            return v->to_number<double>();
        }
    }
    return std::nullopt;
}

}  // namespace

FailureClass classify(const Error& e, int upstream_status) {
    if (e.code == Errc::kContextWindow) {
        return FailureClass::kContextWindow;
    }
    if (e.code == Errc::kContentPolicy) {
        return FailureClass::kContentPolicy;
    }
    int s = upstream_status;
    if (s == 0) {
        switch (e.code) {
            case Errc::kTimeout:
                return FailureClass::kTimeout;
            case Errc::kUpstreamConnection:
            case Errc::kUpstreamProtocol:
            case Errc::kServiceUnavailable:
                return FailureClass::kServer;
            case Errc::kRateLimited:
                return FailureClass::kRateLimit;
            case Errc::kBadRequest:
            case Errc::kBodyTooLarge:
                return FailureClass::kBadRequest;
            case Errc::kUpstreamStatus:
                s = e.http_status();
                break;
            default:
                return FailureClass::kNeutral;
        }
    }
    if (s == 429) {
        return FailureClass::kRateLimit;
    }
    if (s == 401 || s == 403 || s == 404) {
        return FailureClass::kAuth;
    }
    if (s == 408) {
        return FailureClass::kTimeout;
    }
    if (s >= 500 || s < 400) {
        return FailureClass::kServer;
    }
    return FailureClass::kBadRequest;
}

std::string_view policy_name(FailureClass c) {
    switch (c) {
        case FailureClass::kRateLimit:
            return "RateLimitError";
        case FailureClass::kAuth:
            return "AuthenticationError";
        case FailureClass::kTimeout:
            return "TimeoutError";
        case FailureClass::kServer:
            return "InternalServerError";
        case FailureClass::kBadRequest:
            return "BadRequestError";
        case FailureClass::kContentPolicy:
            return "ContentPolicyViolationError";
        case FailureClass::kContextWindow:
        case FailureClass::kNeutral:
            return "";
    }
    return "";
}

CooldownEffect cooldown_effect(FailureClass c) {
    switch (c) {
        case FailureClass::kRateLimit:
        case FailureClass::kAuth:
            return CooldownEffect::kNow;
        case FailureClass::kTimeout:
        case FailureClass::kServer:
            return CooldownEffect::kCount;
        default:
            return CooldownEffect::kNever;
    }
}

bool retryable(FailureClass c) {
    switch (c) {
        case FailureClass::kRateLimit:
        case FailureClass::kTimeout:
        case FailureClass::kServer:
        case FailureClass::kAuth:
            return true;
        default:
            return false;
    }
}

RouterPolicy RouterPolicy::from_settings(const config::Settings& s) {
    const auto& r = s.router;
    RouterPolicy p;
    p.strategy = r.routing_strategy;
    p.num_retries = r.num_retries;
    p.retry_after_s = r.retry_after_s;
    p.retry_policy = read_per_class(parse_object(r.retry_policy_json), "Retries");
    json::object other = parse_object(r.other_settings_json);
    if (auto* g = other.if_contains("model_group_retry_policy"); g && g->is_object()) {
        for (const auto& [group, v] : g->get_object()) {
            if (v.is_object()) {
                p.group_retry_policy[std::string(group)] = read_per_class(v.get_object(), "Retries");
            }
        }
    }
    p.disable_cooldowns = r.disable_cooldowns;
    p.cooldown_time_s = r.cooldown_time_s;
    json::object afp = parse_object(r.allowed_fails_policy_json);
    p.legacy_allowed_fails = r.allowed_fails_explicit || !afp.empty();
    p.allowed_fails = r.allowed_fails;
    p.allowed_fails_policy = read_per_class(afp, "AllowedFails");
    json::object args = parse_object(r.routing_strategy_args_json);
    if (auto ttl = number_in(args, "ttl"); ttl && *ttl > 0) {
        p.latency_ttl_s = *ttl;
    }
    if (auto b = number_in(args, "lowest_latency_buffer"); b && *b >= 0) {
        p.latency_buffer = *b;
    }
    if (auto n = number_in(args, "max_latency_list_size"); n && *n >= 1 && *n <= 1000) {
        p.max_latency_list_size = static_cast<std::size_t>(*n);
    }
    p.max_fallbacks = r.max_fallbacks;
    p.enable_pre_call_checks = r.enable_pre_call_checks;
    return p;
}

int RouterPolicy::retries_for(std::optional<int> request_retries,
                              std::string_view group,
                              FailureClass c,
                              std::optional<int> deployment_retries) const {
    if (request_retries) {
        return std::clamp(*request_retries, 0, 100);
    }
    if (auto it = group_retry_policy.find(std::string(group)); it != group_retry_policy.end()) {
        if (auto n = it->second[idx(c)]) {
            return *n;
        }
    }
    if (auto n = retry_policy[idx(c)]) {
        return *n;
    }
    if (deployment_retries) {
        return std::clamp(*deployment_retries, 0, 100);
    }
    return num_retries;
}

bool RouterPolicy::trips(FailureClass c, std::uint64_t attempts, std::uint64_t failures,
                         std::uint64_t class_failures) const {
    if (legacy_allowed_fails) {
        if (auto n = allowed_fails_policy[idx(c)]) {
            return class_failures > static_cast<std::uint64_t>(*n);
        }
        return failures > static_cast<std::uint64_t>(std::max(allowed_fails, 0));
    }
    return attempts >= static_cast<std::uint64_t>(failure_min_requests) &&
           static_cast<double>(failures) / static_cast<double>(attempts) > failure_percent;
}

std::optional<double> RouterPolicy::cooldown_length(
    std::optional<double> deployment_cooldown_s,
    std::optional<double> provider_retry_after_s) const {
    if (disable_cooldowns) {
        return std::nullopt;
    }
    if (deployment_cooldown_s) {
        if (*deployment_cooldown_s <= 0) {
            return std::nullopt;
        }
        return *deployment_cooldown_s;
    }
    if (provider_retry_after_s && *provider_retry_after_s > 0) {
        return std::min(*provider_retry_after_s, 300.0);
    }
    if (cooldown_time_s <= 0) {
        return std::nullopt;
    }
    return cooldown_time_s;
}

double RouterPolicy::backoff_s(int n, bool untried_available,
                               std::optional<double> provider_retry_after,
                               double jitter) const {
    double base = 0;
    if (!untried_available) {
        if (provider_retry_after && *provider_retry_after > 0 && *provider_retry_after <= 60) {
            base = *provider_retry_after;
        } else {
            double exp = 0.5 * std::pow(2.0, std::clamp(n, 0, 16));
            base = std::min(exp, 8.0) * (0.75 + 0.25 * std::clamp(jitter, 0.0, 1.0));
        }
    }
    return std::max(retry_after_s, base);
}

std::optional<double> parse_reset_duration(std::string_view s) {
    if (s.empty() || s.size() > 32) {
        return std::nullopt;
    }
    std::string text(s);
    const char* p = text.c_str();
    char* end = nullptr;
    double plain = std::strtod(p, &end);
    if (end != p && *end == '\0') {
        return plain >= 0 && std::isfinite(plain) ? std::optional(plain) : std::nullopt;
    }
    double total = 0;
    while (*p != '\0') {
        double v = std::strtod(p, &end);
        if (end == p || v < 0 || !std::isfinite(v)) {
            return std::nullopt;
        }
        p = end;
        if (p[0] == 'm' && p[1] == 's') {
            total += v / 1000.0;
            p += 2;
        } else if (*p == 'h') {
            total += v * 3600;
            ++p;
        } else if (*p == 'm') {
            total += v * 60;
            ++p;
        } else if (*p == 's') {
            total += v;
            ++p;
        } else {
            return std::nullopt;
        }
    }
    return total;
}

std::optional<double> provider_retry_after_s(const std::vector<Header>& headers) {
    std::optional<double> ms, secs, reset;
    for (const auto& h : headers) {
        if (h.name == "retry-after-ms") {
            char* end = nullptr;
            double v = std::strtod(h.value.c_str(), &end);
            if (end != h.value.c_str() && v >= 0 && std::isfinite(v)) {
                ms = v / 1000.0;
            }
        } else if (h.name == "retry-after") {
            char* end = nullptr;
            double v = std::strtod(h.value.c_str(), &end);
            if (end != h.value.c_str() && *end == '\0' && v >= 0 && std::isfinite(v)) {
                secs = v;
            }
        } else if (h.name == "x-ratelimit-reset-requests" || h.name == "x-ratelimit-reset-tokens") {
            if (auto v = parse_reset_duration(h.value)) {
                reset = std::max(reset.value_or(0.0), *v);
            }
        }
    }
    if (ms) {
        return ms;
    }
    if (secs) {
        return secs;
    }
    return reset;
}

}  // namespace sy::routing
