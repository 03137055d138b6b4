#include "sy/pipeline/rate_limits.hpp"

#include <boost/json.hpp>

namespace sy::pipeline {
namespace {

ratelimit::Limits limits_of(const auth::Limits& l) {
    return ratelimit::Limits{.rpm = l.rpm, .tpm = l.tpm, .max_parallel = l.max_parallel};
}

// rpm/tpm only: users, teams and end users have no parallel limit in §10.1.
ratelimit::Limits rate_only(const auth::Limits& l) {
    return ratelimit::Limits{.rpm = l.rpm, .tpm = l.tpm};
}

template <class Map>
std::optional<std::int64_t> per_model(const Map& m, std::string_view group,
                                      std::string_view requested) {
    if (auto it = m.find(group); it != m.end()) {
        return it->second;
    }
    if (auto it = m.find(requested); it != m.end()) {
        return it->second;
    }
    return std::nullopt;
}

}  // namespace

RateLimitOptions RateLimitOptions::from_settings(const config::Settings& s) {
    RateLimitOptions o;
    if (s.general.global_max_parallel_requests) {
        o.global_max_parallel = *s.general.global_max_parallel_requests;
    }
    boost::system::error_code ec;
    auto other = boost::json::parse(s.general.other_settings_json, ec);
    if (!ec && other.is_object()) {
        const auto& obj = other.get_object();
        if (auto* t = obj.if_contains("token_rate_limit_type"); t && t->is_string()) {
            if (t->get_string() == "input") {
                o.counting = ratelimit::TokenCounting::kInput;
            } else if (t->get_string() == "output") {
                o.counting = ratelimit::TokenCounting::kOutput;
            }
        }
        if (auto* f = obj.if_contains("fail_closed_rate_limit_enforcement"); f && f->is_bool()) {
            o.fail_closed = f->get_bool();
        }
    }
    return o;
}

ratelimit::Request limit_request(const auth::Governor& gov, const CallContext& ctx,
                                 const RateLimitOptions& opts, std::int64_t prompt_estimate) {
    using ratelimit::Descriptor;
    ratelimit::Request req;
    if (const auth::KeyInfo* k = ctx.is_master ? nullptr : ctx.key.get()) {
        req.add(Descriptor::api_key(k->token, limits_of(k->limits)));
        ratelimit::Limits pm{.rpm = per_model(k->model_rpm_limit, ctx.model_group,
                                              ctx.requested_model),
                             .tpm = per_model(k->model_tpm_limit, ctx.model_group,
                                              ctx.requested_model)};
        req.add(Descriptor::model_per_key(k->token, std::string(ctx.model_group), pm));
        if (k->user_id) {
            if (auto u = gov.user(*k->user_id)) {
                req.add(Descriptor::user(*k->user_id, rate_only(u->limits)));
            }
        }
        if (k->team_id) {
            if (auto t = gov.team(*k->team_id)) {
                req.add(Descriptor::team(*k->team_id, rate_only(t->limits)));
            }
        }
    }
    if (!ctx.end_user.empty()) {  // also for the master key (D6)
        if (auto c = gov.customer(ctx.end_user)) {
            req.add(Descriptor::end_user(ctx.end_user, rate_only(c->limits)));
        }
    }
    if (!ctx.is_master && opts.global_max_parallel) {
        req.add(Descriptor::global({.max_parallel = opts.global_max_parallel}));
    }
    req.estimated_tokens =
        opts.counting == ratelimit::TokenCounting::kOutput ? 0 : std::max<std::int64_t>(0, prompt_estimate);
    return req;
}

std::string header_lines(const std::vector<Header>& headers) {
    std::string out;
    for (const Header& h : headers) {
        out.append(h.name).append(": ").append(h.value).append("\r\n");
    }
    return out;
}

LimiterHook::LimiterHook(const auth::Governor& gov, ratelimit::Limiter& limiter,
                         RateLimitOptions opts)
    : gov_(gov), limiter_(limiter), opts_(opts) {}

http::Task<Status> LimiterHook::admit(CallContext& ctx, std::int64_t prompt_token_estimate) {
    ratelimit::Request req = limit_request(gov_, ctx, opts_, prompt_token_estimate);
    if (req.descriptors.empty()) {
        co_return ok_status();
    }
    auto r = co_await limiter_.check_and_reserve(std::move(req));
    if (!r) {
        co_return std::move(r).error();
    }
    ctx.rate_limit = std::move(r).value();
    ctx.rate_limit_headers = header_lines(ctx.rate_limit.headers());
    co_return ok_status();
}

bool LimiterHook::may_limit(const CallContext& ctx) const {
    bool keyed = !ctx.is_master && ctx.key != nullptr;
    return keyed || !ctx.end_user.empty() || (!ctx.is_master && opts_.global_max_parallel);
}

void LimiterHook::release(CallContext& ctx) {
    if (!ctx.rate_limit.active()) {
        return;
    }
    // Tokens known (a completed call, or a stream cut short after its usage) -> settle with
    // what was used (D9); otherwise the estimate is given back.
    if (ctx.prompt_tokens >= 0 || ctx.completion_tokens >= 0) {
        ctx.rate_limit.settle(
            ratelimit::count_tokens(opts_.counting, ctx.prompt_tokens, ctx.completion_tokens));
    } else {
        ctx.rate_limit.cancel();
    }
}

}  // namespace sy::pipeline
