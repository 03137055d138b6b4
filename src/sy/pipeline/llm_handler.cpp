#include "sy/pipeline/llm_handler.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cstdio>
#include <random>

#include "sy/core/ascii.hpp"
#include "sy/core/json_scan.hpp"
#include "sy/core/lifecycle.hpp"
#include "sy/core/number_text.hpp"
#include "sy/http/sse.hpp"
#include "sy/pipeline/completions_adapter.hpp"
#include "sy/pipeline/error_render.hpp"
#include "sy/pipeline/provider_adapter.hpp"
#include "sy/pipeline/stream_transform.hpp"
#include "sy/pipeline/test_hooks.hpp"
#include "sy/spend/usage.hpp"

namespace sy::pipeline {

using namespace std::string_view_literals;
namespace {

namespace json = boost::json;
using http::bhttp::field;

double ms_since(http::Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(http::Clock::now() - t0).count();
}

void add_line(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ", 2);
    out.append(value);
    out.append("\r\n", 2);
}

// A header line with a duration in milliseconds (three decimals).
void add_ms_line(std::string& out, std::string_view name, double ms) {
    out.append(name);
    out.append(": ", 2);
    append_fixed3(out, ms);
    out.append("\r\n", 2);
}

// A header line with an integer value.
void add_int_line(std::string& out, std::string_view name, std::int64_t v) {
    out.append(name);
    out.append(": ", 2);
    append_int(out, v);
    out.append("\r\n", 2);
}

// x-litellm-* headers as raw header lines (hot path twin of add_call_headers).
void append_call_headers(std::string& out, const CallContext& ctx) {
    add_line(out, "x-litellm-call-id", ctx.call_id);
    if (!ctx.model_id.empty()) {
        add_line(out, "x-litellm-model-id", ctx.model_id);
    }
    if (!ctx.model_group.empty()) {
        add_line(out, "x-litellm-model-group", ctx.model_group);
    }
    if (!ctx.api_base.empty()) {
        add_line(out, "x-litellm-model-api-base", ctx.api_base);
    }
    add_line(out, "x-litellm-version", kVersion);
    add_int_line(out, "x-litellm-attempted-retries", ctx.retries);
    add_int_line(out, "x-litellm-attempted-fallbacks", ctx.fallbacks);
    if (ctx.retries > 0) {
        add_int_line(out, "x-litellm-max-retries", ctx.max_retries);
    }
    out += ctx.rate_limit_headers;  // the caller's gateway limits (D24)
}

// llm_provider-<name> lines for allow-listed upstream headers (README D25). `f`: Beast fields
// (a stream's head) or ResponseFields (a complete answer).
template <class FieldList>
void append_provider_headers(std::string& out, const FieldList& f) {
    for (const auto& h : f) {
        std::string_view name(h.name_string().data(), h.name_string().size());
        if (providers::forwardable_provider_header(name)) {
            out += "llm_provider-"sv;
            for (char c : name) {
                out.push_back(ascii_lower(c));
            }
            out += ": "sv;
            out.append(h.value().data(), h.value().size());
            out += "\r\n"sv;
        }
    }
}

std::optional<double> header_seconds(const http::Request& r, std::string_view name) {
    auto it = r.find(name);
    if (it == r.end()) {
        return std::nullopt;
    }
    std::string v(it->value());
    char* end = nullptr;
    double d = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || d <= 0 || !std::isfinite(d) || d > 86400.0) {
        return std::nullopt;  // invalid or unbounded: ignored, the configured timeout applies
    }
    return d;
}

// Reads prompt/completion tokens from the JSON text of a `usage` object.
void capture_usage_value(std::string_view usage_json, CallContext& ctx) {
    auto u = spend::usage_from_json_text(usage_json);  // OpenAI, Anthropic, Gemini shapes
    if (!u) {
        return;
    }
    ctx.prompt_tokens = u->prompt_tokens;
    ctx.completion_tokens = u->completion_tokens;
    ctx.cached_tokens = u->cached_tokens;
    ctx.cache_creation_tokens = u->cache_creation_tokens;
    ctx.reasoning_tokens = u->reasoning_tokens;
}

// Same, from a whole response body (top-level `usage`).
void capture_usage(std::string_view text, CallContext& ctx) {
    auto span = json_scan::find_top_level(text, "usage");
    if (span) {
        capture_usage_value(text.substr(span->offset, span->length), ctx);
    }
}

// After [DONE], how long the rest of an upstream body may take to arrive before the connection
// is dropped instead of reused.
constexpr auto kDrainAfterDone = std::chrono::milliseconds(500);

Error stream_protocol_error(std::string_view label, std::string_view what) {
    return Error::make(Errc::kUpstreamProtocol, "litellm.InternalServerError: " + std::string(label) +
                                                    " - " + std::string(what));
}

http::Task<void> wait_timer(http::net::steady_timer& timer) {
    co_await timer.async_wait(http::kNoThrow);
}

Error unknown_model_error(const routing::ModelTable& table, providers::Route route,
                          std::string_view model) {
    std::string names;
    for (const auto& n : table.public_group_names()) {
        names += names.empty() ? "" : ", ";
        names += n;
    }
    return Error::make(Errc::kUnknownModel,
                       std::string(route_label(route)) + ": Invalid model name passed in model=" +
                           std::string(model) +
                           ". Call `/v1/models` to view available models for your key. "
                           "Available model groups: [" + names + "]")
        .with_param("model");
}

// router.md §2 step 10: nothing eligible in the group.
Error no_deployments_error(std::string_view model, int retry_after_s, bool pre_call_checks) {
    int n = std::max(1, retry_after_s);
    return Error::make(Errc::kRateLimited,
                       "No deployments available for selected model, Try again in " +
                           std::to_string(n) + " seconds. Passed model=" + std::string(model) +
                           ". pre-call-checks=" + (pre_call_checks ? "True" : "False"))
        .with_header("retry-after", std::to_string(n));
}

Failure transport_failure(const Error& raw, const providers::ErrorContext& err_ctx,
                          double timeout_s, CallContext& ctx) {
    Failure f;
    f.error = providers::map_transport_error(raw, err_ctx, timeout_s);
    f.cls = routing::classify(f.error, 0);
    ctx.error_class = f.error.code == Errc::kTimeout ? "Timeout" : "APIConnectionError";
    return f;
}

Failure status_failure(providers::ApiShape shape, int status, const std::vector<Header>& headers,
                       std::string_view body, const providers::ErrorContext& err_ctx) {
    Failure f;
    f.error = map_upstream_error(shape, status, headers, body, err_ctx);
    f.upstream_status = status;
    f.cls = routing::classify(f.error, status);
    f.retry_after_s = routing::provider_retry_after_s(headers);
    return f;
}

// LiteLLM's mock_testing_* hooks: a synthetic failure of the given kind, never counted against
// the deployment (README D28).
std::optional<Failure> synthetic_failure(const LlmRequest& req,
                                         const routing::DeploymentRuntime& d) {
    Failure f;
    f.synthetic = true;
    std::string label = d.target ? std::string(d.target->exception_label) : d.cfg->provider;
    if (req.mock_testing_fallbacks) {
        f.error = Error::make(Errc::kInternal,
                              "litellm.InternalServerError: " + label + " - mock_testing_fallbacks")
                      .with_status(500)
                      .with_type("api_error");
        f.cls = routing::FailureClass::kServer;
        f.skip_retries = true;
        return f;
    }
    if (req.mock_testing_context_fallbacks) {
        f.error = Error::make(Errc::kContextWindow,
                              "litellm.ContextWindowExceededError: " + label +
                                  " - mock_testing_context_fallbacks");
        f.cls = routing::FailureClass::kContextWindow;
        return f;
    }
    if (req.mock_testing_content_policy_fallbacks) {
        f.error = Error::make(Errc::kContentPolicy,
                              "litellm.ContentPolicyViolationError: " + label +
                                  " - mock_testing_content_policy_fallbacks");
        f.cls = routing::FailureClass::kContentPolicy;
        return f;
    }
    return std::nullopt;
}

// What an attempt tells the router about its deployment (router.md §4.1): test hooks and
// client disconnects say nothing.
routing::Outcome outcome_of(const AttemptResult& r, const CallContext& ctx, bool probe,
                            bool stream, routing::SteadyClock::duration took) {
    routing::Outcome o;
    o.probe = probe;
    o.stream = stream;
    o.latency_s = std::chrono::duration<double>(took).count();
    o.ttft_s = r.ttft_s;
    if (r.failure && !r.failure->synthetic) {
        o.kind = routing::Outcome::Kind::kFailure;
        o.cls = r.failure->cls;
        o.status = r.failure->upstream_status ? r.failure->upstream_status
                                              : r.failure->error.http_status();
        o.text = r.failure->error.message;
        o.retry_after_s = r.failure->retry_after_s;
    } else if (r.answered && !r.failure && !r.synthetic_answer) {
        o.kind = routing::Outcome::Kind::kSuccess;
        o.completion_tokens =
            static_cast<std::uint64_t>(std::max<std::int64_t>(ctx.completion_tokens, 0));
        o.total_tokens = o.completion_tokens +
                         static_cast<std::uint64_t>(std::max<std::int64_t>(ctx.prompt_tokens, 0));
    } else {
        o.kind = routing::Outcome::Kind::kNeutral;
    }
    return o;
}

}  // namespace

template <class Fields>
void add_call_headers(Fields& h, const CallContext& ctx) {
    h.set("x-litellm-call-id", ctx.call_id);
    if (!ctx.model_id.empty()) {
        h.set("x-litellm-model-id", ctx.model_id);
    }
    if (!ctx.model_group.empty()) {
        h.set("x-litellm-model-group", ctx.model_group);
    }
    if (!ctx.api_base.empty()) {
        h.set("x-litellm-model-api-base", ctx.api_base);
    }
    h.set("x-litellm-version", kVersion);
    h.set("x-litellm-attempted-retries", std::to_string(ctx.retries));
    h.set("x-litellm-attempted-fallbacks", std::to_string(ctx.fallbacks));
    if (ctx.retries > 0) {
        h.set("x-litellm-max-retries", std::to_string(ctx.max_retries));
    }
}

template void add_call_headers(http::Response&, const CallContext&);

LlmHandler::LlmHandler(const routing::ModelTable& table,
                       std::vector<std::unique_ptr<http::UpstreamPool>>& pools,
                       Governance* gov)
    : table_(table),
      router_(table, routing::RouterPolicy::from_settings(table.settings())),
      pools_(pools),
      gov_(gov) {}

namespace {
std::string_view call_type(providers::Route r) {
    switch (r) {
        case providers::Route::kCompletions:
            return "atext_completion";
        case providers::Route::kEmbeddings:
            return "aembedding";
        case providers::Route::kMessages:
            return "anthropic_messages";
        default:
            return "acompletion";
    }
}
}  // namespace

http::UpstreamPool& LlmHandler::pool_for(http::Exchange& ex) {
    return *pools_[static_cast<std::size_t>(ex.worker().index())];
}

http::Task<void> LlmHandler::reply_error(http::Exchange& ex, CallContext& ctx, const Error& e) {
    http::Response res = ctx.anthropic_format ? render_anthropic_error(e, ex.request().version())
                                              : render_error(e, ex.request().version());
    add_call_headers(res, ctx);
    ctx.status = e.http_status();
    if (ctx.error_class.empty()) {
        ctx.error_class = std::string(e.http_type());
    }
    co_await ex.respond(res);
}

http::Task<void> LlmHandler::reply_mock(http::Exchange& ex,
                                        CallContext& ctx,
                                        const LlmRequest& req,
                                        const std::string& text) {
    if (auto err = mock_response_error(text)) {
        co_await reply_error(ex, ctx, *err);
        co_return;
    }
    std::string head;
    ctx.status = 200;
    ctx.cost_free = true;  // mock_response costs 0 (§8)
    ctx.prompt_tokens = 10;
    ctx.completion_tokens = 20;
    if (req.stream) {
        head += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"sv;
        append_call_headers(head, ctx);
        ex.begin_stream_raw(head);
        std::string events = mock_response_stream(req.route, req.model, text, req.include_usage);
        co_await ex.write_chunk(events, true);
        co_return;
    }
    head += "Content-Type: application/json\r\n"sv;
    append_call_headers(head, ctx);
    add_line(head, "x-litellm-response-cost", "0");
    std::string body = mock_response_body(req.route, req.model, text);
    co_await ex.respond_raw(200, head, body);
}

http::Task<bool> LlmHandler::pause(http::Exchange& ex, double seconds) {
    http::net::steady_timer timer(co_await http::net::this_coro::executor,
                                  http::seconds_to_duration(seconds));
    auto wait = wait_timer(timer);
    const std::function<void()> stop_waiting = [&timer] { timer.cancel(); };
    co_return co_await ex.run_watching_client(wait, stop_waiting);
}

http::Task<void> LlmHandler::handle(http::Exchange& ex, providers::Route route, CallContext& ctx) {
    co_await handle_call(ex, route, ctx);
    // account: every call ends with a spend row, whatever the outcome (§9.1).
    if (gov_) {
        gov_->finish(ctx, call_type(route));
    }
}

Status LlmHandler::route_call(const http::Exchange& ex, CallContext& ctx, LlmRequest& req,
                              std::optional<routing::Resolved>& resolved) const {
    ctx.requested_model = req.model;
    ctx.stream = req.stream;
    if (!req.num_retries) {
        if (auto n = header_seconds(ex.request(), "x-litellm-num-retries"); n && *n <= 100) {
            req.num_retries = static_cast<int>(*n);
        }
    }
    // route: requested name -> model group.
    // A virtual key's own `aliases` come first (router.md §1 step 2).
    std::string_view lookup = req.model;
    if (ctx.key) {
        if (auto it = ctx.key->aliases.find(req.model); it != ctx.key->aliases.end()) {
            lookup = it->second;
        }
    }
    resolved = table_.resolve(lookup);
    if (!resolved) {
        return unknown_model_error(table_, req.route, req.model);
    }
    if (gov_) {
        ctx.model_group = resolved->group->name;
    }
    return ok_status();
}

Status LlmHandler::check_request_fallbacks(const CallContext& ctx, const LlmRequest& req) const {
    // The request's own fallbacks must be models this key may use.
    if (!gov_ || !req.fallbacks) {
        return ok_status();
    }
    for (const auto& f : *req.fallbacks) {
        auto fb = table_.resolve(f.model);
        auto st = gov_->check_model(ctx, f.model, fb ? std::string_view(fb->group->name)
                                                     : std::string_view(f.model));
        if (!st) {
            Error e = st.error();
            e.param = "fallbacks";
            return e;
        }
    }
    return ok_status();
}

http::Task<void> LlmHandler::handle_call(http::Exchange& ex, providers::Route route,
                                         CallContext& ctx) {
    // The synchronous steps run in plain functions and every failure goes through `st` and one
    // reply: each local and co_await temporary of this coroutine is room in its frame, which is
    // allocated per request (and recycled by Asio only under 1020 bytes).
    ctx.anthropic_format = route == providers::Route::kMessages;
    // parse: JSON, required fields and types, client-side credential rejection.
    auto decoded = decode_request(route, ex.request().body());
    std::optional<routing::Resolved> resolved;
    Status st = decoded ? route_call(ex, ctx, decoded.value(), resolved) : Status(decoded.error());
    // authorize: model access, end user, budget reservation, rate limits. The reservation is
    // priced with the group's first deployment; the spend is settled with the one that answered.
    if (st && gov_) {
        const routing::DeploymentRuntime* price_ref =
            resolved->pinned ? resolved->pinned
                             : (resolved->group->members.empty() ? nullptr
                                                                 : resolved->group->members.front());
        if (price_ref) {
            co_await gov_->authorize(ctx, decoded.value().model, ctx.model_group, *price_ref->cfg,
                                     decoded.value(), st);
        }
        if (st) {
            st = check_request_fallbacks(ctx, decoded.value());
        }
    }
    if (!st) {
        co_await reply_error(ex, ctx, st.error());
        co_return;
    }

    co_await serve(ex, route, ctx, decoded.value(), *resolved);
}

http::Task<void> LlmHandler::serve(http::Exchange& ex, providers::Route route, CallContext& ctx,
                                   LlmRequest& req, const routing::Resolved& resolved) {
    // Retries inside the group, then fallbacks to other groups (router.md §5, §6).
    std::vector<routing::DeploymentRuntime*> tried;
    AttemptResult first;
    co_await run_group(ex, ctx, req, resolved, tried, first);
    if (!first.failure || first.answered) {
        co_return;  // answered, or the client left
    }
    // (by reference: `first` lives in this frame; no temporary may cross the co_await, g++ 12)
    co_await handle_fallbacks(ex, route, ctx, req, resolved, *first.failure);
}

http::Task<void> LlmHandler::handle_fallbacks(http::Exchange& ex, providers::Route route,
                                              CallContext& ctx, LlmRequest& req,
                                              const routing::Resolved& resolved_group,
                                              const Failure& original) {
    const routing::Resolved* resolved = &resolved_group;
    // The mock_testing_* fallback hooks fail the requested group only (api.md §2.1).
    req.mock_testing_fallbacks = false;
    req.mock_testing_context_fallbacks = false;
    req.mock_testing_content_policy_fallbacks = false;
    if (req.disable_fallbacks) {
        co_await reply_error(ex, ctx, original.error);
        co_return;
    }
    std::vector<std::string> names;
    std::vector<std::string> request_names;
    if (req.fallbacks) {
        for (const auto& f : *req.fallbacks) {
            request_names.push_back(f.model);
        }
    }
    names = router_.fallbacks_for(resolved->group->name, original.cls,
                                  req.fallbacks ? &request_names : nullptr);
    if (names.empty()) {
        co_await reply_error(ex, ctx, original.error);
        co_return;
    }
    std::vector<const routing::ModelGroup*> visited{resolved->group};
    std::optional<Error> last_error;
    std::string storage;  // body text of a fallback with its own messages
    std::optional<LlmRequest> replaced;
    for (const auto& name : names) {
        auto fb = table_.resolve(name);
        if (!fb) {
            last_error = unknown_model_error(table_, route, name);
            continue;
        }
        if (std::find(visited.begin(), visited.end(), fb->group) != visited.end()) {
            continue;
        }
        visited.push_back(fb->group);
        ++ctx.fallbacks;
        LlmRequest* use = &req;
        if (req.fallbacks) {
            for (const auto& f : *req.fallbacks) {
                if (f.model == name && !f.messages_json.empty()) {
                    auto r2 = with_messages(req, f.messages_json, storage);
                    if (!r2) {
                        co_await reply_error(ex, ctx, r2.error());
                        co_return;
                    }
                    replaced.emplace(std::move(r2).value());
                    replaced->model = req.model;  // the client's name stays on the answer
                    replaced->mock_testing_fallbacks = false;
                    replaced->mock_testing_context_fallbacks = false;
                    replaced->mock_testing_content_policy_fallbacks = false;
                    use = &*replaced;
                }
            }
        }
        std::vector<routing::DeploymentRuntime*> fb_tried;
        AttemptResult r;
        co_await run_group(ex, ctx, *use, *fb, fb_tried, r);
        if (!r.failure || r.answered) {
            co_return;
        }
        last_error = r.failure->error;
    }
    // Every fallback failed: the original group's status and type (router.md §6).
    Error e = original.error;
    std::string list;
    for (const auto& n : names) {
        list += list.empty() ? "" : ", ";
        list += n;
    }
    e.message += ". Received Model Group=" + std::string(resolved->group->name) +
                 "\nAvailable Model Group Fallbacks=[" + list + "]";
    if (last_error) {
        e.message += "\nError doing the fallback: " + last_error->message;
    }
    co_await reply_error(ex, ctx, e);
}

namespace {

// An attempt that failed before (or instead of) calling the upstream.
AttemptResult failed_attempt(Error e, routing::FailureClass cls, bool synthetic = false) {
    AttemptResult r;
    Failure f;
    f.error = std::move(e);
    f.cls = cls;
    f.synthetic = synthetic;
    r.failure = std::move(f);
    return r;
}

}  // namespace

bool LlmHandler::rate_limit_hook(CallContext& ctx, LlmRequest& req,
                                 const routing::Resolved& target, AttemptResult& out) const {
    // mock_testing_rate_limit_error (api.md §2.1): the first attempt fails with a 429 before any
    // deployment is chosen; the flag is consumed and the normal retry runs.
    const routing::ModelGroup& group = *target.group;
    bool hook_429 = req.mock_testing_rate_limit_error;
    for (const auto* m : group.members) {
        hook_429 = hook_429 || m->cfg->mock_testing_rate_limit_error;
    }
    if (!hook_429) {
        return false;
    }
    req.mock_testing_rate_limit_error = false;
    ++ctx.attempts;
    out = failed_attempt(
        Error::make(Errc::kRateLimited,
                    "litellm.RateLimitError: This is a mock exception for model=" +
                        std::string(group.name) + ", to trigger a rate limit error."),
        routing::FailureClass::kRateLimit, true);
    return true;
}

routing::Selection LlmHandler::select(const LlmRequest& req, const routing::Resolved& target,
                                      const std::vector<routing::DeploymentRuntime*>& tried) {
    routing::Selection sel;
    if (target.pinned) {
        sel.deployment = target.pinned;  // a deployment id: retries stay on it
        return sel;
    }
    routing::SelectInput in;
    in.group = target.group;
    in.tried = tried;
    in.stream = req.stream;
    in.prompt_tokens = req.text.size() / 4;
    in.now = routing::SteadyClock::now();
    return router_.select(in);
}

void LlmHandler::begin_attempt(CallContext& ctx, const routing::ModelGroup& group,
                               routing::DeploymentRuntime& d, int n) {
    ++ctx.attempts;
    if (n > 0) {
        ++ctx.retries;
    }
    ctx.model_group = group.name;
    ctx.model_id = d.cfg->id;
    ctx.deployment = d.cfg;
    ctx.provider = d.cfg->provider;
    ctx.api_base = d.target ? std::string_view(d.target->url.display) : std::string_view();
}

double LlmHandler::retry_wait(CallContext& ctx, const LlmRequest& req,
                              const routing::Resolved& target,
                              const std::vector<routing::DeploymentRuntime*>& tried,
                              const routing::DeploymentRuntime& d, int n, const Failure& f,
                              routing::TimePoint now) {
    const auto& policy = router_.policy();
    if (f.skip_retries || !routing::retryable(f.cls)) {
        return -1;
    }
    bool untried = !target.pinned && router_.has_untried(*target.group, tried, now);
    if (f.cls == routing::FailureClass::kAuth && !untried) {
        return -1;
    }
    int allowed = policy.retries_for(req.num_retries, target.group->name, f.cls, d.cfg->num_retries);
    if (n >= allowed) {
        return -1;
    }
    ctx.max_retries = allowed;
    thread_local std::minstd_rand rng{std::random_device{}()};
    double jitter = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
    return policy.backoff_s(n, untried, f.retry_after_s, jitter);
}

http::Task<void> LlmHandler::run_group(http::Exchange& ex,
                                       CallContext& ctx,
                                       LlmRequest& req,
                                       const routing::Resolved& target,
                                       std::vector<routing::DeploymentRuntime*>& tried,
                                       AttemptResult& out) {
    // `out` holds each attempt's result; when a retry finds no deployment it still holds the
    // failure just seen, which is then the group's answer. The decisions run in plain functions
    // (their locals take no room in this per-request coroutine frame).
    const routing::ModelGroup& group = *target.group;
    const auto& policy = router_.policy();
    bool have_failure = rate_limit_hook(ctx, req, target, out);
    if (have_failure) {
        const routing::DeploymentRuntime* first = target.pinned ? target.pinned
                                                  : group.members.empty() ? nullptr
                                                                          : group.members.front();
        int allowed = policy.retries_for(req.num_retries, group.name, routing::FailureClass::kRateLimit,
                                         first ? first->cfg->num_retries : std::nullopt);
        if (allowed <= 0) {
            co_return;
        }
        ctx.max_retries = allowed;
        if (policy.retry_after_s > 0 && !co_await pause(ex, policy.retry_after_s)) {
            ctx.status = 499;
            ctx.error_class = "client_disconnected";
            out = AttemptResult{};
            co_return;
        }
    }
    for (int n = have_failure ? 1 : 0;; ++n) {
        routing::Selection sel = select(req, target, tried);
        if (!sel.deployment) {
            if (have_failure) {
                // The retry found every deployment cooling (often because of the failure just
                // seen): the client gets that failure, with its Retry-After.
                co_return;
            }
            out = failed_attempt(
                no_deployments_error(req.model, sel.retry_after_s, policy.enable_pre_call_checks),
                routing::FailureClass::kRateLimit);
            out.failure->no_deployment = true;
            co_return;
        }
        routing::DeploymentRuntime& d = *sel.deployment;
        tried.push_back(&d);
        begin_attempt(ctx, group, d, n);
        out = AttemptResult{};
        auto t0 = routing::SteadyClock::now();
        {
            routing::AttemptLease lease(*d.state, t0);
            co_await attempt(ex, ctx, req, target, d, sel.probe, t0, out);
        }
        auto now = routing::SteadyClock::now();
        if (!out.recorded) {
            router_.record(d, outcome_of(out, ctx, sel.probe, req.stream, now - t0), now);
        }
        if (out.answered || !out.failure) {
            co_return;  // answered (possibly with a mid-stream error event), or client gone
        }
        double wait = retry_wait(ctx, req, target, tried, d, n, *out.failure, now);
        if (wait < 0) {
            co_return;  // not retried: this failure is the group's answer
        }
        have_failure = true;
        if (wait > 0 && !co_await pause(ex, wait)) {
            ctx.status = 499;
            ctx.error_class = "client_disconnected";
            out = AttemptResult{};
            co_return;
        }
    }
}

LlmHandler::Prepared LlmHandler::prepare_attempt(http::Exchange& ex, CallContext& ctx,
                                                LlmRequest& req, const routing::Resolved& target,
                                                routing::DeploymentRuntime& d, bool probe,
                                                routing::TimePoint t0, Attempt& a,
                                                AttemptResult& out) {
    const providers::Route route = req.route;
    if (!d.target) {
        out = failed_attempt(
            Error::make(Errc::kProviderNotSupported, "provider not supported: " + d.cfg->provider),
            routing::FailureClass::kBadRequest);
        return Prepared::kDone;
    }
    // Deadlines (router.md §7): request > header > deployment > router settings.
    const auto& rs = table_.settings().router;
    double timeout_s = req.timeout_s.value_or(
        header_seconds(ex.request(), "x-litellm-timeout")
            .value_or(d.cfg->timeout_s.value_or(rs.timeout_s)));
    double stream_timeout_s = req.stream_timeout_s.value_or(
        header_seconds(ex.request(), "x-litellm-stream-timeout")
            .value_or(d.cfg->stream_timeout_s.value_or(rs.stream_timeout_s.value_or(timeout_s))));
    a.deployment = &d;
    a.probe = probe;
    a.t0 = t0;
    a.timeout_s = req.stream ? stream_timeout_s : timeout_s;

    // Test hooks (api.md §2.1): answered here, never forwarded, never counted against the
    // deployment's health (README D28).
    const std::optional<std::string>& mock_text =
        req.mock_response ? req.mock_response : d.cfg->mock_response;
    if (mock_text && (route == providers::Route::kChat || route == providers::Route::kCompletions)) {
        if (auto err = mock_response_error(*mock_text)) {
            out = failed_attempt(*err, routing::classify(*err, 0), true);
            return Prepared::kDone;
        }
        return Prepared::kMockAnswer;
    }
    if (auto hook = synthetic_failure(req, d)) {
        out.failure = std::move(hook);
        return Prepared::kDone;
    }
    if (req.mock_timeout || d.cfg->mock_timeout) {
        return Prepared::kMockTimeout;  // waits a.timeout_s
    }

    a.timeouts.connect =
        http::seconds_to_duration(std::min(timeout_s, config::kDefaultConnectTimeoutCapS));
    a.timeouts.first_byte = http::seconds_to_duration(req.stream ? stream_timeout_s : timeout_s);
    a.timeouts.idle = http::seconds_to_duration(timeout_s);
    a.err_ctx = {d.target->exception_label, ctx.model_group};

    std::string upstream_model = routing::ModelTable::upstream_model(d, target);
    auto plan = plan_upstream(d, table_.settings(), req, upstream_model);
    if (!plan) {
        out = failed_attempt(plan.error(), routing::classify(plan.error(), 0));
        return Prepared::kDone;
    }
    a.plan = std::move(plan).value();
    a.shape = d.target->shape;
    a.upstream = providers::build_request(*d.target, a.plan.route, std::move(a.plan.body),
                                          upstream_model, req.stream);
    // The upstream response's header fields live in the exchange's arena (reset per request).
    a.upstream.arena = ex.arena();
    return Prepared::kCall;
}

http::Task<void> LlmHandler::attempt(http::Exchange& ex,
                                     CallContext& ctx,
                                     LlmRequest& req,
                                     const routing::Resolved& target,
                                     routing::DeploymentRuntime& d, bool probe,
                                     routing::TimePoint t0,
                                     AttemptResult& out) {
    Attempt a;
    switch (prepare_attempt(ex, ctx, req, target, d, probe, t0, a, out)) {
        case Prepared::kDone:
            co_return;
        case Prepared::kMockAnswer:
            co_await reply_mock(ex, ctx, req, req.mock_response ? *req.mock_response
                                                                : *d.cfg->mock_response);
            out.answered = true;
            out.synthetic_answer = true;
            co_return;
        case Prepared::kMockTimeout:
            if (!co_await pause(ex, a.timeout_s)) {
                ctx.status = 499;
                ctx.error_class = "client_disconnected";
                co_return;
            }
            ctx.error_class = "Timeout";
            out = failed_attempt(mock_timeout_error(a.timeout_s), routing::FailureClass::kTimeout,
                                 true);
            co_return;
        case Prepared::kCall:
            break;
    }
    if (req.stream) {
        co_await dispatch_stream(ex, ctx, req, a, out);
    } else {
        co_await dispatch_unary(ex, ctx, req, a, out);
    }
}

std::optional<Failure> LlmHandler::unary_answer(CallContext& ctx, const LlmRequest& req,
                                                const Attempt& a,
                                                const http::UpstreamResponse& up,
                                                std::string& head, std::string& body) {
    // The common case (OpenAI-shaped answer, only `model` put back): one scan finds usage,
    // model and id; otherwise the provider's converter builds the body.
    std::string_view id_token;  // the response's `id` value (quotes included)
    std::string_view text = up.body();
    bool passthrough = response_is_passthrough(a.shape, a.plan, req);
    if (passthrough) {
        static constexpr std::string_view kKeys[] = {"usage", "model", "id"};
        std::optional<json_scan::Span> at[3];
        json_scan::find_top_level_many(text, kKeys, at, 3);
        if (at[0]) {
            capture_usage_value(text.substr(at[0]->offset, at[0]->length), ctx);
        }
        body.reserve(text.size() + req.model.size());
        json_scan::append_replacing_string(body, text, at[1], req.model);
        if (at[2]) {
            id_token = text.substr(at[2]->offset, at[2]->length);  // unchanged by the rewrite
        }
    } else {
        capture_usage(text, ctx);
        auto converted = convert_response(a.shape, a.plan, req, text);
        if (!converted) {
            Failure f;
            f.error = converted.error();
            f.cls = routing::FailureClass::kServer;
            return f;
        }
        body = std::move(converted).value();
        if (auto id = json_scan::find_top_level(body, "id")) {
            id_token = std::string_view(body).substr(id->offset, id->length);
        }
    }
    head.reserve(960);  // a chunk glibc's per-thread cache serves (it stops at 1032 bytes)
    auto ct = up.header("content-type");
    add_line(head, "Content-Type", ct ? *ct : std::string_view("application/json"));
    append_provider_headers(head, up.fields);
    append_call_headers(head, ctx);
    add_ms_line(head, "x-litellm-response-duration-ms", ctx.upstream_ms);
    add_ms_line(head, "x-litellm-overhead-duration-ms",
                std::max(0.0, ms_since(ctx.start) - ctx.upstream_ms));
    ctx.status = 200;
    if (gov_) {
        // The spend row is journaled before the response is sent (acknowledged rows survive a
        // kill -9), and the cost travels with the response.
        if (id_token.size() >= 2 && id_token.front() == '"') {
            ctx.response_id = std::string(id_token.substr(1, id_token.size() - 2));
        }
        add_line(head, "x-litellm-response-cost",
                 format_cost(gov_->finish(ctx, call_type(req.route))));
    }
    return std::nullopt;
}

http::Task<void> LlmHandler::dispatch_unary(http::Exchange& ex,
                                            CallContext& ctx,
                                            LlmRequest& req,
                                            Attempt& a,
                                            AttemptResult& out) {
    auto t0 = http::Clock::now();
    // The upstream call runs under a watch of the client socket: a client that goes away (or a
    // forced shutdown closing it) cancels the upstream request.
    std::optional<Result<http::UpstreamResponse>> result;
    http::UpstreamCancel cancel;
    const std::function<void()> cancel_call = [&cancel] { cancel.cancel(); };
    {
        http::Exchange::WatchScope watch(ex, cancel_call);
        co_await pool_for(ex).send_into(a.upstream, a.timeouts, &cancel, result);
    }
    ctx.upstream_ms = ms_since(t0);
    if (ex.client_gone() || !result) {
        ctx.status = 499;
        ctx.error_class = "client_disconnected";
        co_return;
    }
    Result<http::UpstreamResponse>& r = *result;
    if (!r) {
        out.failure = transport_failure(r.error(), a.err_ctx, a.timeout_s, ctx);
        co_return;
    }
    http::UpstreamResponse& up = r.value();
    if (up.status < 200 || up.status >= 300) {
        std::vector<Header> headers = up.headers();
        out.failure = status_failure(a.shape, up.status, headers, up.body(), a.err_ctx);
        co_return;
    }
    std::string head;
    std::string body;
    out.failure = unary_answer(ctx, req, a, up, head, body);
    if (out.failure) {
        co_return;
    }
    // The router learns the outcome before the client does: a client that fires its next
    // request the moment this answer arrives already sees the deployment's new state (e.g. a
    // successful half-open probe).
    out.answered = true;
    auto now = routing::SteadyClock::now();
    router_.record(*a.deployment, outcome_of(out, ctx, a.probe, false, now - a.t0), now);
    out.recorded = true;
    co_await ex.respond_raw(200, head, body);
    co_return;
}

// Relays one upstream SSE stream to the client (api.md §3, README D18). Holds the per-stream
// state so that failure handling is one method, and so a client disconnect can close the
// upstream connection from the watcher.
class StreamRelay {
public:
    StreamRelay(http::Exchange& ex,
                CallContext& ctx,
                const providers::ErrorContext& err_ctx,
                StreamTransformPtr transform)
        : ex_(ex), ctx_(ctx), err_ctx_(err_ctx), transform_(std::move(transform)) {}

    // Reads the stream to its end (or failure) and answers the client. A failure before the
    // first byte reached the client is returned in `out` (the caller may retry); after it, the
    // client gets a terminal SSE error event and `out` records both.
    http::Task<void> relay(std::unique_ptr<http::UpstreamStream>& s,
                           double first_chunk_timeout_s,
                           double idle_timeout_s,
                           AttemptResult& out);
    // Called when the client went away: closes the upstream connection (cancels the request).
    // The stream object itself stays alive until relay() returns: a read may be in flight.
    void cancel() {
        if (s_) {
            s_->abort();
        }
    }

private:
    http::Task<void> fail(const Error& e, AttemptResult& out);
    void note_usage() {
        if (transform_->prompt_tokens >= 0) {
            ctx_.prompt_tokens = transform_->prompt_tokens;
        }
        if (transform_->completion_tokens >= 0) {
            ctx_.completion_tokens = transform_->completion_tokens;
        }
    }

public:
    // A stream that ended before its usage arrived (cut, stall, client gone) is still billed
    // (issue 6): prompt tokens estimated from the request body (about 4 bytes per token), and
    // completion tokens from the events relayed (providers stream about one token per event).
    void estimate_missing_usage(std::string_view request_body) {
        note_usage();
        if (!started_) {
            return;  // nothing reached the client: the attempt is retried or fails as a whole
        }
        if (ctx_.prompt_tokens < 0) {
            ctx_.prompt_tokens = static_cast<std::int64_t>(request_body.size() / 4);
        }
        if (ctx_.completion_tokens < 0) {
            ctx_.completion_tokens = events_;
        }
    }

private:

    http::Exchange& ex_;
    CallContext& ctx_;
    const providers::ErrorContext& err_ctx_;
    StreamTransformPtr transform_;
    std::unique_ptr<http::UpstreamStream> s_;
    http::Clock::time_point t0_ = http::Clock::now();
    std::string out_;
    bool started_ = false;
    bool first_event_ = false;
    std::int64_t events_ = 0;  // upstream events seen
};

// Fails the stream: before the first byte the failure goes back to the retry loop; after it, a
// terminal SSE error event (never a clean [DONE], README D18).
http::Task<void> StreamRelay::fail(const Error& e, AttemptResult& out) {
    note_usage();
    ctx_.upstream_ms = ms_since(t0_);
    Failure f;
    f.error = e;
    f.cls = routing::classify(e, 0);
    out.failure = std::move(f);
    if (!started_) {
        co_return;
    }
    ctx_.error_class = std::string(e.http_type());
    // The chunked body is terminated properly after the error event, so the client connection
    // stays consistent and reusable; only the upstream connection is discarded.
    out_ += transform_->error_event(e);
    co_await ex_.write_chunk(out_, true);
    ctx_.status = 200;
    out.answered = true;
}

http::Task<void> StreamRelay::relay(std::unique_ptr<http::UpstreamStream>& s,
                                    double first_chunk_timeout_s,
                                    double idle_timeout_s,
                                    AttemptResult& out) {
    s_ = std::move(s);
    http::SseSplitter splitter;
    std::string raw;
    std::string scratch;
    std::string event_type;
    for (;;) {
        raw.clear();
        auto r = co_await s_->read_some(raw);
        if (ex_.client_gone()) {
            co_return;
        }
        if (!r) {
            Error err = providers::map_transport_error(
                r.error(), err_ctx_, s_->got_body() ? idle_timeout_s : first_chunk_timeout_s);
            co_await fail(err, out);
            co_return;
        }
        if (!splitter.feed(raw)) {
            Error err = stream_protocol_error(err_ctx_.exception_label,
                                              "stream event exceeds the size limit");
            co_await fail(err, out);
            co_return;
        }
        while (auto ev = splitter.next_event()) {
            if (!first_event_) {
                first_event_ = true;
                out.ttft_s = ms_since(t0_) / 1000.0;
            }
            event_type.clear();
            std::string_view data = http::sse_data_view(*ev, scratch);
            if (ev->rfind("event:", 0) == 0 || ev->find("\nevent:") != std::string_view::npos) {
                scratch = http::sse_data(*ev, &event_type);
                data = scratch;
            }
            ++events_;
            auto st = transform_->on_event(event_type, data, out_);
            if (!st) {
                Error err = st.error();
                co_await fail(err, out);
                co_return;
            }
        }
        // The upstream's end-of-answer marker completes the client's stream now, whatever the
        // upstream does next (api.md §3.1); its body is then drained briefly for reuse.
        if (s_->done() && !transform_->done()) {
            auto st = transform_->on_end(out_);
            if (!st) {
                Error err = st.error();
                co_await fail(err, out);
                co_return;
            }
        }
        bool finished = s_->done() || transform_->done();
        if (finished && !transform_->done()) {
            Error err = stream_protocol_error(err_ctx_.exception_label,
                                              "upstream stream ended without [DONE]");
            co_await fail(err, out);
            co_return;
        }
        if (!out_.empty() || finished) {
            if (!started_) {
                std::string head;
                head.reserve(960);
                head += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                        "x-accel-buffering: no\r\n";
                append_provider_headers(head, s_->head());
                append_call_headers(head, ctx_);
                ex_.begin_stream_raw(head);
                started_ = true;
                out.answered = true;
                ctx_.ttft_ms = ms_since(t0_);
                ctx_.status = 200;
            }
            if (!co_await ex_.write_chunk(out_, finished)) {
                co_return;
            }
            out_.clear();
        }
        if (finished) {
            break;
        }
    }
    note_usage();
    ctx_.upstream_ms = ms_since(t0_);
    if (!s_->done()) {
        co_await s_->drain(kDrainAfterDone);
    }
}

http::Task<void> LlmHandler::dispatch_stream(http::Exchange& ex,
                                             CallContext& ctx,
                                             LlmRequest& req,
                                             Attempt& a,
                                             AttemptResult& out) {
    // Declared first: it must outlive the relay and the upstream stream the relay owns.
    http::UpstreamCancel cancel;
    StreamTransformPtr transform = make_stream_transform(a.shape, a.plan, req, a.err_ctx);
    StreamRelay relay(ex, ctx, a.err_ctx, std::move(transform));
    auto op = stream_attempt(ex, ctx, a, relay, cancel, out);
    const std::function<void()> on_gone = [&relay, &cancel] {
        cancel.cancel();
        relay.cancel();
    };
    bool client_stayed = co_await ex.run_watching_client(op, on_gone);
    if (!client_stayed) {
        ctx.status = 499;
        ctx.error_class = "client_disconnected";
        out.answered = false;
        out.failure.reset();
        relay.estimate_missing_usage(req.text);
    } else if (out.answered && out.failure) {
        relay.estimate_missing_usage(req.text);  // cut or stalled after the first byte
    }
}

http::Task<void> LlmHandler::stream_attempt(http::Exchange& ex,
                                            CallContext& ctx,
                                            Attempt& a,
                                            StreamRelay& relay,
                                            http::UpstreamCancel& cancel,
                                            AttemptResult& out) {
    auto t0 = http::Clock::now();
    auto opened = co_await pool_for(ex).open_stream(a.upstream, a.timeouts, &cancel);
    if (ex.client_gone()) {
        co_return;
    }
    if (!opened) {
        out.failure = transport_failure(opened.error(), a.err_ctx, a.timeout_s, ctx);
        co_return;
    }
    std::unique_ptr<http::UpstreamStream> s = std::move(opened).value();
    if (s->status() < 200 || s->status() >= 300) {
        std::string body;
        auto st = co_await s->read_all(body, 1024 * 1024);
        (void)st;
        ctx.upstream_ms = ms_since(t0);
        std::vector<Header> headers = http::lowercase_headers(s->head());
        out.failure = status_failure(a.shape, s->status(), headers, body, a.err_ctx);
        co_return;
    }
    co_await relay.relay(s, a.timeout_s, std::chrono::duration<double>(a.timeouts.idle).count(),
                         out);
}

}  // namespace sy::pipeline
