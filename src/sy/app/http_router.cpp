#include "sy/app/http_router.hpp"

#include "sy/admin/health.hpp"
#include "sy/core/ids.hpp"
#include "sy/core/json_scan.hpp"
#include "sy/observability/log.hpp"
#include "sy/pipeline/auth.hpp"
#include "sy/pipeline/error_render.hpp"
#include "sy/pipeline/token_estimate.hpp"

namespace sy::app {
namespace {

using http::bhttp::verb;

enum class RouteId {
    kNone,
    kRoot,
    kLiveliness,
    kReadiness,
    kHealth,
    kChat,
    kCompletions,
    kEmbeddings,
    kMessages,
    kCountTokens,
    kModels,
    kModelById,
    kManagement,  // LiteLLM admin API (/key/*, /user/*, ...): issue 6
};

bool is_management_path(std::string_view p) {
    static constexpr std::string_view kPrefixes[] = {
        "/key/",  "/user/",    "/team/",    "/customer/", "/end_user/", "/budget/",
        "/organization/", "/spend/", "/global/", "/model/", "/v2/model/", "/model_group/",
        "/cache/", "/utils/", "/metrics"};
    for (auto prefix : kPrefixes) {
        if (p.rfind(prefix, 0) == 0) {
            return true;
        }
    }
    return false;
}

struct RouteMatch {
    RouteId id = RouteId::kNone;
    verb method = verb::get;
    std::string_view param;
};

RouteMatch match_route(std::string_view path) {
    auto strip_v1 = [](std::string_view p) {
        return p.rfind("/v1/", 0) == 0 ? p.substr(3) : p;
    };
    if (path == "/") {
        return {RouteId::kRoot, verb::get, {}};
    }
    if (path == "/health/liveliness" || path == "/health/liveness") {
        return {RouteId::kLiveliness, verb::get, {}};
    }
    if (path == "/health/readiness") {
        return {RouteId::kReadiness, verb::get, {}};
    }
    if (path == "/health") {
        return {RouteId::kHealth, verb::get, {}};
    }
    std::string_view p = strip_v1(path);
    if (p == "/chat/completions") {
        return {RouteId::kChat, verb::post, {}};
    }
    if (p == "/completions") {
        return {RouteId::kCompletions, verb::post, {}};
    }
    if (p == "/embeddings") {
        return {RouteId::kEmbeddings, verb::post, {}};
    }
    if (path == "/v1/messages") {
        return {RouteId::kMessages, verb::post, {}};
    }
    if (path == "/v1/messages/count_tokens") {
        return {RouteId::kCountTokens, verb::post, {}};
    }
    if (p == "/models") {
        return {RouteId::kModels, verb::get, {}};
    }
    if (path.rfind("/v1/models/", 0) == 0 && path.size() > 11) {
        return {RouteId::kModelById, verb::get, path.substr(11)};
    }
    if (is_management_path(path)) {
        return {RouteId::kManagement, verb::unknown, {}};
    }
    return {};
}

http::Response count_tokens(std::string_view body, unsigned version) {
    auto n = pipeline::estimate_input_tokens(body);
    if (!n) {
        return pipeline::render_anthropic_error(n.error(), version);
    }
    http::Response res{http::bhttp::status::ok, version};
    res.set(http::bhttp::field::content_type, "application/json");
    res.body() = "{\"input_tokens\":" + std::to_string(n.value()) + "}";
    return res;
}

std::string query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view kv = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        auto eq = kv.find('=');
        if (kv.substr(0, eq) == name) {
            return eq == std::string_view::npos ? std::string() : std::string(kv.substr(eq + 1));
        }
    }
    return {};
}

}  // namespace

HttpRouter::HttpRouter(const routing::ModelTable& table,
                       const Lifecycle& life,
                       std::vector<std::unique_ptr<http::UpstreamPool>>& pools)
    : table_(table), life_(life), auth_(table.settings()), llm_(table, pools) {}

http::Response HttpRouter::protocol_error(int status, std::string_view message) {
    Errc code = status == 413 ? Errc::kBodyTooLarge : Errc::kBadRequest;
    return pipeline::render_error(
        Error::make(code, std::string(message)).with_status(status));
}

std::optional<http::Response> HttpRouter::screen_head(const http::Request& head) {
    std::string_view target = head.target();
    RouteMatch m = match_route(target.substr(0, target.find('?')));
    bool needs_key = m.id != RouteId::kNone && m.id != RouteId::kRoot &&
                     m.id != RouteId::kLiveliness && m.id != RouteId::kReadiness &&
                     head.method() != verb::options;
    if (!needs_key) {
        return std::nullopt;
    }
    auto principal = auth_.authenticate(head);
    if (principal) {
        return std::nullopt;
    }
    bool anthropic = m.id == RouteId::kMessages || m.id == RouteId::kCountTokens;
    return anthropic ? pipeline::render_anthropic_error(principal.error(), head.version())
                     : pipeline::render_error(principal.error(), head.version());
}

http::Task<void> HttpRouter::handle(http::Exchange& ex) {
    pipeline::CallContext ctx;
    const auto& req = ex.request();
    if (auto it = req.find("x-litellm-call-id"); it != req.end() && valid_call_id(it->value())) {
        ctx.call_id = std::string(it->value());
    } else {
        ctx.call_id = new_call_id();
    }
    ctx.method = std::string(req.method_string());
    ctx.client_ip = ex.client_ip();
    std::string_view target = req.target();
    ctx.route = std::string(target.substr(0, target.find('?')));
    co_await dispatch(ex, ctx);
    if (ctx.llm_route) {
        access_log(ctx);
    }
}

http::Task<void> HttpRouter::dispatch(http::Exchange& ex, pipeline::CallContext& ctx) {
    // Hot path: an LLM route called with its method. It holds no response or error locals, so
    // its coroutine frame stays small (frames over ~1 KiB bypass Asio's frame recycling and
    // glibc's thread cache); everything else goes through dispatch_other().
    const auto& req = ex.request();
    std::string_view target = req.target();
    RouteMatch m = match_route(target.substr(0, target.find('?')));
    std::optional<providers::Route> route;
    switch (m.id) {
        case RouteId::kChat:
            route = providers::Route::kChat;
            break;
        case RouteId::kCompletions:
            route = providers::Route::kCompletions;
            break;
        case RouteId::kEmbeddings:
            route = providers::Route::kEmbeddings;
            break;
        case RouteId::kMessages:
            route = providers::Route::kMessages;
            break;
        default:
            break;
    }
    if (!route || req.method() != m.method) {
        co_await dispatch_other(ex, ctx);
        co_return;
    }
    ctx.llm_route = true;
    ctx.anthropic_format = m.id == RouteId::kMessages;
    {
        auto principal = auth_.authenticate(req);
        if (!principal) {
            co_await pipeline::LlmHandler::reply_error(ex, ctx, principal.error());
            co_return;
        }
    }
    co_await llm_.handle(ex, *route, ctx);
}

http::Task<void> HttpRouter::dispatch_other(http::Exchange& ex, pipeline::CallContext& ctx) {
    const auto& req = ex.request();
    const unsigned version = req.version();
    std::string_view target = req.target();
    auto qpos = target.find('?');
    std::string_view path = target.substr(0, qpos);
    std::string_view query = qpos == std::string_view::npos ? "" : target.substr(qpos + 1);

    if (req.method() == verb::options) {
        http::Response res{http::bhttp::status::no_content, version};
        res.set("access-control-allow-origin", "*");
        res.set("access-control-allow-methods", "GET, POST, OPTIONS");
        res.set("access-control-allow-headers", "*");
        res.set("access-control-max-age", "600");
        co_await ex.respond(res);
        co_return;
    }

    RouteMatch m = match_route(path);
    if (m.id == RouteId::kNone) {
        ctx.status = 404;
        http::Response res = pipeline::render_error(
            Error::make(Errc::kNotFound, "Not Found: " + std::string(path)), version);
        co_await ex.respond(res);
        co_return;
    }
    if (m.id == RouteId::kManagement) {
        // Management routes exist only with a master key (README D1). None is implemented yet.
        const auto& mk = table_.settings().general.master_key;
        Error e = (!mk || mk->empty())
                      ? Error::make(Errc::kForbidden,
                                    "Management routes are disabled: no master_key is configured. "
                                    "Set general_settings.master_key (or LITELLM_MASTER_KEY).")
                      : Error::make(Errc::kNotFound, "Not implemented yet: " + std::string(path))
                            .with_status(501);
        if (mk && !mk->empty()) {
            auto p = auth_.authenticate(req);
            if (!p) {
                e = p.error();
            }
        }
        ctx.status = e.http_status();
        http::Response res = pipeline::render_error(e, version);
        co_await ex.respond(res);
        co_return;
    }
    if (req.method() != m.method && !(m.method == verb::get && req.method() == verb::head)) {
        ctx.status = 405;
        http::Response res = pipeline::render_error(
            Error::make(Errc::kMethodNotAllowed, "Method Not Allowed").with_status(405), version);
        res.set(http::bhttp::field::allow, m.method == verb::get ? "GET" : "POST");
        co_await ex.respond(res);
        co_return;
    }

    // Public routes (no credential).
    switch (m.id) {
        case RouteId::kLiveliness: {
            http::Response res = admin::liveliness(version);
            co_await ex.respond(res);
            co_return;
        }
        case RouteId::kReadiness: {
            http::Response res = admin::readiness(life_, version);
            co_await ex.respond(res);
            co_return;
        }
        case RouteId::kRoot: {
            http::Response res{http::bhttp::status::ok, version};
            res.set(http::bhttp::field::content_type, "application/json");
            res.body() = std::string("{\"status\":\"ok\",\"service\":\"switchyard\",\"version\":\"") +
                         kVersion + "\"}";
            co_await ex.respond(res);
            co_return;
        }
        default:
            break;
    }

    bool llm = m.id == RouteId::kChat || m.id == RouteId::kCompletions ||
               m.id == RouteId::kEmbeddings || m.id == RouteId::kMessages;
    ctx.llm_route = llm;
    ctx.anthropic_format = m.id == RouteId::kMessages || m.id == RouteId::kCountTokens;

    // authenticate: first stage of every non-public route.
    auto principal = auth_.authenticate(req);
    if (!principal) {
        if (llm) {
            co_await pipeline::LlmHandler::reply_error(ex, ctx, principal.error());
        } else {
            ctx.status = principal.error().http_status();
            http::Response res = pipeline::render_error(principal.error(), version);
            co_await ex.respond(res);
        }
        co_return;
    }

    switch (m.id) {
        case RouteId::kChat:
            co_await llm_.handle(ex, providers::Route::kChat, ctx);
            co_return;
        case RouteId::kCompletions:
            co_await llm_.handle(ex, providers::Route::kCompletions, ctx);
            co_return;
        case RouteId::kEmbeddings:
            co_await llm_.handle(ex, providers::Route::kEmbeddings, ctx);
            co_return;
        case RouteId::kMessages:
            co_await llm_.handle(ex, providers::Route::kMessages, ctx);
            co_return;
        case RouteId::kCountTokens: {
            http::Response res = count_tokens(req.body(), version);
            co_await ex.respond(res);
            co_return;
        }
        case RouteId::kModels: {
            http::Response res = admin::list_models(table_, version);
            co_await ex.respond(res);
            co_return;
        }
        case RouteId::kModelById: {
            auto res = admin::get_model(table_, m.param, version);
            if (!res) {
                http::Response nf = pipeline::render_error(
                    Error::make(Errc::kNotFound, "Model not found: " + std::string(m.param)),
                    version);
                co_await ex.respond(nf);
                co_return;
            }
            co_await ex.respond(*res);
            co_return;
        }
        case RouteId::kHealth: {
            bool details = principal->is_master;
            http::Response res =
                admin::health(table_, query_param(query, "model"), details, version);
            co_await ex.respond(res);
            co_return;
        }
        default:
            break;
    }
    http::Response nf = pipeline::render_error(Error::make(Errc::kNotFound, "Not Found"), version);
    co_await ex.respond(nf);
}

void HttpRouter::access_log(const pipeline::CallContext& ctx) const {
    if (!obs::enabled(obs::Level::kInfo)) {
        return;
    }
    // Built by hand into one buffer: one line per request is on the hot path. No field can hold
    // a secret (ids, names, numbers), so the line is not scrubbed.
    auto dur = std::chrono::duration<double, std::milli>(http::Clock::now() - ctx.start).count();
    thread_local std::string line;
    line.clear();
    obs::append_line_prefix(line, obs::Level::kInfo, "request");
    auto str = [](std::string_view key, std::string_view v) {
        line += ",\"";
        line += key;
        line += "\":";
        json_scan::append_json_string(line, v);
    };
    auto raw = [](std::string_view key, std::string_view v) {
        line += ",\"";
        line += key;
        line += "\":";
        line += v;
    };
    str("call_id", ctx.call_id);
    str("route", ctx.route);
    str("method", ctx.method);
    raw("status", std::to_string(ctx.status));
    str("requested_model", ctx.requested_model);
    str("model_group", ctx.model_group);
    str("model_id", ctx.model_id);
    str("provider", ctx.provider);
    raw("stream", ctx.stream ? "true" : "false");
    raw("duration_ms", obs::format_double(dur));
    if (ctx.upstream_ms >= 0) {
        raw("upstream_ms", obs::format_double(ctx.upstream_ms));
    }
    if (ctx.ttft_ms >= 0) {
        raw("ttft_ms", obs::format_double(ctx.ttft_ms));
    }
    raw("attempts", std::to_string(ctx.attempts));
    if (ctx.prompt_tokens >= 0) {
        raw("prompt_tokens", std::to_string(ctx.prompt_tokens));
    }
    if (ctx.completion_tokens >= 0) {
        raw("completion_tokens", std::to_string(ctx.completion_tokens));
    }
    str("client_ip", ctx.client_ip);
    if (!ctx.error_class.empty()) {
        str("error_class", ctx.error_class);
    }
    line += '}';
    obs::write_json_line(line);
}

}  // namespace sy::app
