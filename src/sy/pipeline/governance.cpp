#include "sy/pipeline/governance.hpp"

#include <charconv>
#include <shared_mutex>

#include "sy/core/json_scan.hpp"
#include "sy/core/number_text.hpp"
#include "sy/observability/log.hpp"

namespace sy::pipeline {
namespace {

// A non-negative integer member's value (a `max_tokens`), or nullopt.
std::optional<std::int64_t> int_member(std::string_view body, const std::optional<json_scan::Span>& span) {
    if (!span) {
        return std::nullopt;
    }
    std::string_view v = body.substr(span->offset, span->length);
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || n < 0) {
        return std::nullopt;
    }
    return n;
}


}  // namespace

std::string format_cost(double cost) {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, cost);
    return ec == std::errc{} ? std::string(buf, p) : std::string("0");
}

Governance::Governance(auth::Governor& gov, store::SpendLedger* ledger, RateLimitHook* limits)
    : gov_(gov), ledger_(ledger), limits_(limits ? limits : &default_limits_) {}

const spend::ModelPrice* Governance::price_of(const config::Deployment& d) {
    // The lookup key is built in a per-thread buffer: this runs twice per request.
    thread_local std::string id;
    id.assign(d.id);
    id += '\n';
    id += d.model;
    {
        std::shared_lock lk(prices_mu_);
        if (auto it = prices_.find(id); it != prices_.end()) {
            return it->second ? &*it->second : nullptr;
        }
    }
    auto overrides = spend::PriceOverrides::from_deployment(
        d.input_cost_per_token, d.output_cost_per_token, d.model_info_json);
    if (!overrides) {
        obs::warn("price: ignoring the prices of deployment " + d.model_name + ": " +
                  overrides.error().message);
    }
    auto resolved =
        calc_.resolve(d.model, overrides ? overrides.value() : spend::PriceOverrides{}, d.provider);
    std::unique_lock lk(prices_mu_);
    auto [it, fresh] = prices_.try_emplace(id);
    if (fresh && resolved) {
        it->second = resolved->price;
    }
    if (!it->second && warned_.insert(d.model).second) {
        obs::warn("price: model " + d.model + " (" + d.model_name +
                  ") has no price; its calls cost 0. Set input_cost_per_token / "
                  "output_cost_per_token on the deployment.");
    }
    return it->second ? &*it->second : nullptr;
}

double Governance::cost_of(const config::Deployment& d, const spend::Usage& usage) {
    const spend::ModelPrice* p = price_of(d);
    return p ? spend::CostCalculator::cost(*p, usage.normalized()) : 0.0;
}

void Governance::report_unpriced(const std::vector<config::Deployment>& deployments) {
    for (const auto& d : deployments) {
        if (d.model_name.find('*') == std::string::npos && !d.mock_response) {
            (void)price_of(d);
        }
    }
}

Status Governance::reserve(CallContext& ctx, std::string_view requested, std::string_view group,
                           const config::Deployment& d, const LlmRequest& req,
                           std::int64_t& prompt_estimate, double& reserve) {
    ctx.deployment = &d;
    std::string_view body = req.text;
    if (ctx.end_user.empty()) {
        ctx.end_user =
            req.user_span ? json_scan::string_value(body.substr(req.user_span->offset, req.user_span->length))
                          : std::string();
    }
    if (ctx.key) {
        auto st = gov_.check_model(*ctx.key, requested, group);
        if (!st) {
            return st;
        }
    }
    if (!ctx.end_user.empty()) {
        if (auto c = gov_.customer(ctx.end_user); c && c->blocked) {
            return Error::make(Errc::kForbidden, "Authentication Error, End user=" + ctx.end_user +
                                                     " is blocked.");
        }
    }
    // Worst-case cost (§6.4): prompt estimate x input price + max output x output price.
    prompt_estimate = static_cast<std::int64_t>(body.size() / 4);
    auto max_out = int_member(body, req.max_completion_tokens_span);
    if (!max_out) {
        max_out = int_member(body, req.max_tokens_span);
    }
    reserve = spend::CostCalculator::worst_case_cost(price_of(d), prompt_estimate, max_out);
    auto adm = gov_.admit(ctx.key.get(), ctx.end_user, reserve, auth::SysClock::now());
    if (!adm) {
        return std::move(adm).error();
    }
    ctx.admission = std::move(adm).value();
    return ok_status();
}

http::Task<void> Governance::authorize(CallContext& ctx, std::string_view requested,
                                       std::string_view group, const config::Deployment& d,
                                       const LlmRequest& req, Status& st) {
    // `st` for every step: each local of this coroutine is room in its frame, which is
    // allocated per request (and recycled by Asio only when under ~1 KiB).
    std::int64_t prompt_estimate = 0;
    double reserved = 0;
    st = reserve(ctx, requested, group, d, req, prompt_estimate, reserved);
    if (!st) {
        co_return;
    }
    if (shared_budgets_) {
        st = co_await shared_budgets_->admit(ctx, reserved);
        if (!st) {
            gov_.settle(*ctx.admission, 0);
            ctx.admission.reset();
            co_return;
        }
    }
    if (!limits_->may_limit(ctx)) {
        co_return;
    }
    st = co_await limits_->admit(ctx, prompt_estimate);
    if (!st) {
        gov_.settle(*ctx.admission, 0);
        ctx.admission.reset();
        if (shared_budgets_) {
            shared_budgets_->settle(ctx, 0);
        }
    }
}

Status Governance::check_model(const CallContext& ctx, std::string_view requested,
                               std::string_view group) const {
    if (!ctx.key) {
        return ok_status();
    }
    return gov_.check_model(*ctx.key, requested, group);
}

double Governance::finish(CallContext& ctx, std::string_view call_type) {
    if (ctx.billed) {
        return ctx.cost;
    }
    ctx.billed = true;
    std::int64_t pt = std::max<std::int64_t>(0, ctx.prompt_tokens);
    std::int64_t ct = std::max<std::int64_t>(0, ctx.completion_tokens);
    const auto* d = static_cast<const config::Deployment*>(ctx.deployment);
    spend::Usage usage{.prompt_tokens = pt,
                       .completion_tokens = ct,
                       .cached_tokens = ctx.cached_tokens,
                       .cache_creation_tokens = ctx.cache_creation_tokens,
                       .reasoning_tokens = ctx.reasoning_tokens,
                       .duration_s = ctx.upstream_ms > 0 ? ctx.upstream_ms / 1000.0 : 0.0};
    ctx.cost = d && !ctx.cost_free ? cost_of(*d, usage) : 0.0;
    limits_->release(ctx);
    // The spend row goes into the ledger before the in-memory spend is settled, and a cache
    // reload cannot take its `since` in between (settle_gate): the reload then counts this call
    // exactly once, whether it reads the row (and keeps the settled value) or not.
    bool row = ledger_ && !(disable_spend_logs_ && ctx.cost == 0);
    bool settles = ctx.admission || (ctx.cost > 0 && (ctx.key || !ctx.end_user.empty()));
    std::shared_lock<std::shared_mutex> gate;
    if (row && settles) {
        gate = std::shared_lock<std::shared_mutex>(gov_.settle_gate());
    }
    if (row) {
        append_row(ctx, call_type, usage, d);
    }
    if (shared_budgets_) {
        shared_budgets_->settle(ctx, ctx.cost);
    }
    if (ctx.admission) {
        gov_.settle(*ctx.admission, ctx.cost);
    } else if (ctx.cost > 0 && (ctx.key || !ctx.end_user.empty())) {
        auth::Admission a;
        if (ctx.key) {
            a.scopes.push_back(auth::Governor::key_scope(ctx.key->token));
        }
        gov_.settle(a, ctx.cost);
    }
    return ctx.cost;
}

namespace {

// Appends `"name":` then a value to a JSON object being written by hand (a leading comma unless
// the object was just opened).
struct LineWriter {
    std::string& out;
    void key(std::string_view name) {
        if (out.back() != '{') {
            out += ',';
        }
        out += '"';
        out += name;  // fixed names: nothing to escape
        out += "\":";
    }
    void str(std::string_view name, std::string_view v) {
        key(name);
        json_scan::append_json_string(out, v);
    }
    void opt(std::string_view name, const std::optional<std::string>& v) {
        if (v) {
            str(name, *v);
        } else {
            key(name);
            out += "null";
        }
    }
    void num(std::string_view name, std::int64_t v) {
        key(name);
        append_int(out, v);
    }
    void real(std::string_view name, double v) {
        key(name);
        char buf[32];
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
        out.append(buf, ec == std::errc{} ? p : buf);
        if (ec != std::errc{}) {
            out += '0';
        }
    }
};

}  // namespace

void Governance::append_row(const CallContext& ctx, std::string_view call_type,
                            const spend::Usage& usage, const config::Deployment* d) {
    // The WAL line is written directly (no JSON tree): this runs once per request.
    std::int64_t pt = usage.prompt_tokens;
    std::int64_t ct = usage.completion_tokens;
    bool ok = ctx.status >= 200 && ctx.status < 300;
    auto end = auth::SysClock::now();
    static const std::optional<std::string> kNone;
    const auto& alias = ctx.key ? ctx.key->key_alias : kNone;
    const auto& user_id = ctx.key ? ctx.key->user_id : kNone;
    const auto& team_id = ctx.key ? ctx.key->team_id : kNone;
    std::string_view api_key = ctx.key ? std::string_view(ctx.key->token) : std::string_view();
    std::string line;
    line.reserve(960);  // served from glibc's per-thread cache (it stops at 1032 bytes)
    line += '{';
    LineWriter w{line};
    w.str("ledger_id", store::new_ledger_id());
    w.str("request_id", ctx.call_id);
    w.str("response_id", ctx.response_id);
    w.str("call_type", call_type);
    w.str("api_key", api_key);
    w.real("spend", ctx.cost);
    w.num("prompt_tokens", pt);
    w.num("completion_tokens", ct);
    w.num("total_tokens", pt + ct);
    w.str("startTime", auth::iso_millis(ctx.wall_start));
    w.str("endTime", auth::iso_millis(end));
    w.str("model", d ? std::string_view(d->upstream_model) : std::string_view(ctx.requested_model));
    w.str("model_id", ctx.model_id);
    w.str("model_group", ctx.model_group);
    w.str("custom_llm_provider", ctx.provider);
    w.str("api_base", ctx.api_base);
    w.str("user", user_id ? std::string_view(*user_id) : std::string_view());
    w.str("end_user", ctx.end_user);
    w.str("team_id", team_id ? std::string_view(*team_id) : std::string_view());
    w.key("metadata");
    line += '{';
    w.str("user_api_key", api_key);
    w.opt("user_api_key_alias", alias);
    w.opt("user_api_key_user_id", user_id);
    w.opt("user_api_key_team_id", team_id);
    w.str("status", ok ? "success" : "failure");
    w.num("attempted_retries", ctx.retries);
    w.num("attempted_fallbacks", ctx.fallbacks);
    if (!ok) {
        w.key("error_information");
        line += '{';
        w.str("error_code", std::to_string(ctx.status));
        w.str("error_class", ctx.error_class);
        w.str("llm_provider", ctx.provider);
        line += '}';
    }
    line += '}';
    w.str("cache_hit", "False");
    w.str("cache_key", "");
    w.str("requester_ip_address", ctx.client_ip);
    w.str("status", ok ? "success" : "failure");
    if (ctx.ttft_ms >= 0) {
        w.str("completionStartTime",
              auth::iso_millis(ctx.wall_start +
                               std::chrono::milliseconds(static_cast<long long>(ctx.ttft_ms))));
    }
    line += '}';
    ledger_->append_line(std::move(line));
}

}  // namespace sy::pipeline
