#include "sy/app/http_router.hpp"

#include "sy/admin/health.hpp"
#include "sy/pipeline/route_access.hpp"
#include "sy/core/ids.hpp"
#include "sy/core/json_scan.hpp"
#include "sy/core/number_text.hpp"
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

// Routes served by admin::Management (issue 6).
bool is_store_route(std::string_view p) {
    static constexpr std::string_view kPrefixes[] = {"/key/", "/user/", "/team/", "/customer/",
                                                     "/end_user/", "/spend/", "/global/spend"};
    for (auto prefix : kPrefixes) {
        if (p.rfind(prefix, 0) == 0) {
            return true;
        }
    }
    return false;
}

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
                       std::vector<std::unique_ptr<http::UpstreamPool>>& pools,
                       StoreServices* services)
    : table_(table),
      life_(life),
      services_(services),
      pools_(pools),
      auth_(table.settings(), services ? &services->gov : nullptr),
      llm_(table, pools, services ? &services->governance : nullptr) {}

http::Task<Result<pipeline::Principal>> HttpRouter::authenticate(const http::Request& req) {
    auto p = auth_.authenticate(req);
    if (!p || p->miss_token.empty() || !services_) {
        co_return p;
    }
    std::string token = p->miss_token;
    store::Store* st = &services_->store;
    auto lookup = [st, token] { return st->get(store::keys_table(), {token}); };
    auto row = co_await services_->pool.run(std::move(lookup));
    if (!row) {
        co_return row.error();  // store unreachable: 503, never 401 (README D11)
    }
    services_->gov.note_lookup(token, row.value());
    auto again = auth_.authenticate(req);
    if (again && !again->miss_token.empty()) {
        co_return Error::make(Errc::kAuthInvalid,
                              "Authentication Error, Invalid proxy server token passed.");
    }
    co_return again;
}

http::Task<void> HttpRouter::management(http::Exchange& ex, pipeline::CallContext& ctx,
                                        std::string_view path, std::string_view query) {
    const auto& req = ex.request();
    auto principal = co_await authenticate(req);
    if (!principal) {
        ctx.status = principal.error().http_status();
        http::Response res = pipeline::render_error(principal.error(), req.version());
        co_await ex.respond(res);
        co_return;
    }
    if (principal->key) {
        bool get = req.method() == verb::get || req.method() == verb::head;
        auto allowed = pipeline::check_key_route(*principal->key, path,
                                                 pipeline::management_class(path, get));
        if (!allowed) {
            ctx.status = 403;
            http::Response res = pipeline::render_error(allowed.error(), req.version());
            co_await ex.respond(res);
            co_return;
        }
    }
    admin::Caller caller;
    caller.is_master = principal->is_master;
    caller.key = principal->key;
    if (caller.key && caller.key->user_id) {
        if (auto u = services_->gov.user(*caller.key->user_id)) {
            caller.role = u->role.empty() ? "internal_user" : u->role;
        }
    }
    bool is_get = req.method() == verb::get || req.method() == verb::head;
    std::string p(path);
    std::string q(query);
    std::string body = req.body();
    admin::Management* mgmt = &services_->mgmt;
    Invalidation* inv = services_->invalidation;
    // The handler blocks on the store: it runs on the store pool (ARCHITECTURE.md §2). A write
    // is announced to every instance before the reply goes out (README D11).
    std::shared_mutex* cache_mu = services_->cache_mu;
    auto call = [mgmt, inv, cache_mu, caller, is_get, p, q, body] {
        std::shared_lock<std::shared_mutex> writing;
        if (cache_mu && !is_get) {
            writing = std::shared_lock(*cache_mu);
        }
        admin::MgmtReply r = mgmt->handle(caller, is_get, p, q, body);
        if (writing.owns_lock()) {
            writing.unlock();
        }
        if (inv && !is_get && r.status >= 200 && r.status < 300) {
            if (auto change = change_of(p, body)) {
                inv->publish(*change);
            }
        }
        return r;
    };
    admin::MgmtReply reply = co_await services_->pool.run(std::move(call));
    http::Response res{static_cast<http::bhttp::status>(reply.status), req.version()};
    res.set(http::bhttp::field::content_type, "application/json");
    for (const auto& h : reply.headers) {
        res.set(h.name, h.value);
    }
    res.body() = std::move(reply.body);
    ctx.status = reply.status;
    co_await ex.respond(res);
}

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
        ctx.call_id = new_uuid_v7();
    }
    ctx.method = std::string_view(req.method_string().data(), req.method_string().size());
    ctx.client_ip = ex.client_ip();
    std::string_view target = req.target();
    ctx.route = target.substr(0, target.find('?'));
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
    bool slow = false;
    std::unique_ptr<Error> err = admit_cached(req, target.substr(0, target.find('?')), ctx, slow);
    if (slow) {
        // A virtual key the cache does not know yet: the full path looks it up in the store.
        co_await dispatch_other(ex, ctx);
        co_return;
    }
    if (err) {
        co_await pipeline::LlmHandler::reply_error(ex, ctx, *err);
        co_return;
    }
    co_await llm_.handle(ex, *route, ctx);
}

// The hot path's authenticate + narrow + principal-to-context steps, from the key cache only.
// Not a coroutine, so its locals stay out of dispatch()'s frame. `slow`: the key is not cached.
std::unique_ptr<Error> HttpRouter::admit_cached(const http::Request& req, std::string_view path,
                                                pipeline::CallContext& ctx, bool& slow) const {
    auto principal = auth_.authenticate(req);
    if (!principal) {
        return std::make_unique<Error>(principal.error());
    }
    if (!principal->miss_token.empty()) {
        slow = true;
        return nullptr;
    }
    return admit(*principal, req, path, pipeline::RouteClass::kLlm, ctx);
}

// Key-level route narrowing, then the principal and end user into the call context.
std::unique_ptr<Error> HttpRouter::admit(const pipeline::Principal& principal,
                                         const http::Request& req, std::string_view path,
                                         pipeline::RouteClass rc, pipeline::CallContext& ctx) const {
    if (principal.key && services_ && services_->db_down_since_ms &&
        services_->cached_keys_grace_s >= 0) {
        std::int64_t since = services_->db_down_since_ms->load(std::memory_order_relaxed);
        if (since != 0) {
            auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::steady_clock::now().time_since_epoch())
                              .count();
            if (static_cast<double>(now_ms - since) / 1000.0 > services_->cached_keys_grace_s) {
                // README D11: an unreachable store is a 503, never a 401.
                return std::make_unique<Error>(Error::make(
                    Errc::kServiceUnavailable,
                    "The key store has been unreachable for more than " +
                        std::to_string(static_cast<int>(services_->cached_keys_grace_s)) +
                        " s; virtual keys are refused until it is back "
                        "(general_settings.allow_requests_on_db_unavailable: true keeps serving "
                        "cached keys)."));
            }
        }
    }
    if (principal.key) {
        auto allowed = pipeline::check_key_route(*principal.key, path, rc);
        if (!allowed) {
            return std::make_unique<Error>(allowed.error());
        }
    }
    ctx.is_master = principal.is_master;
    ctx.key = principal.key;
    if (auto it = req.find("x-litellm-end-user-id"); it != req.end()) {
        ctx.end_user = std::string(it->value());
    } else if (auto it2 = req.find("x-litellm-customer-id"); it2 != req.end()) {
        ctx.end_user = std::string(it2->value());
    }
    return nullptr;
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
        // Management routes exist only with a master key (README D1).
        const auto& mk = table_.settings().general.master_key;
        if (mk && !mk->empty() && services_ && is_store_route(path)) {
            co_await management(ex, ctx, path, query);
            co_return;
        }
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
            http::Response res =
                admin::readiness(life_, version, services_ ? services_->db_ok.load() : true);
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
    auto principal = co_await authenticate(req);
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

    pipeline::RouteClass rc = llm || m.id == RouteId::kCountTokens ? pipeline::RouteClass::kLlm
                              : m.id == RouteId::kHealth           ? pipeline::RouteClass::kHealth
                                                                   : pipeline::RouteClass::kModels;
    if (auto denied = admit(*principal, req, path, rc, ctx)) {
        if (llm) {
            co_await pipeline::LlmHandler::reply_error(ex, ctx, *denied);
        } else {
            ctx.status = denied->http_status();
            http::Response res = pipeline::render_error(*denied, version);
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
            // A virtual key sees the groups it may call (its models, its team's).
            std::function<bool(const std::string&)> visible;
            if (ctx.key && services_) {
                const auto* gov = &services_->governance;
                visible = [gov, &ctx](const std::string& group) {
                    return gov->check_model(ctx, group, group).ok();
                };
            }
            http::Response res = admin::list_models(table_, version, visible);
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
            std::string model = query_param(query, "model");
            if (query_param(query, "probe") == "true") {
                if (!principal->is_master) {
                    Error e = Error::make(Errc::kForbidden,
                                          "/health?probe=true calls providers: admin only");
                    http::Response res = pipeline::render_error(e, version);
                    ctx.status = 403;
                    co_await ex.respond(res);
                    co_return;
                }
                std::map<std::string, pipeline::ProbeResult> probes;
                auto& pool = *pools_[static_cast<std::size_t>(ex.worker().index())];
                for (const auto& d : table_.deployments()) {
                    if (model.empty() || d->cfg->model_name == model) {
                        auto r = co_await pipeline::probe(pool, table_.settings(), *d);
                        probes.emplace(d->cfg->id, std::move(r));
                    }
                }
                http::Response res = admin::health(table_, model, details, version, &probes);
                co_await ex.respond(res);
                co_return;
            }
            http::Response res = admin::health(table_, model, details, version);
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
    // Each key is appended with its separator and quotes as one literal (`,"key":`).
    auto str = [](std::string_view key_part, std::string_view v) {
        line += key_part;
        json_scan::append_json_string(line, v);
    };
    auto num = [](std::string_view key_part, std::int64_t v) {
        line += key_part;
        append_int(line, v);
    };
    auto ms = [](std::string_view key_part, double v) {
        line += key_part;
        append_fixed3(line, v);
    };
    str(",\"call_id\":", ctx.call_id);
    str(",\"route\":", ctx.route);
    str(",\"method\":", ctx.method);
    num(",\"status\":", ctx.status);
    str(",\"requested_model\":", ctx.requested_model);
    str(",\"model_group\":", ctx.model_group);
    str(",\"model_id\":", ctx.model_id);
    str(",\"provider\":", ctx.provider);
    line += ctx.stream ? std::string_view(",\"stream\":true") : std::string_view(",\"stream\":false");
    ms(",\"duration_ms\":", dur);
    if (ctx.upstream_ms >= 0) {
        ms(",\"upstream_ms\":", ctx.upstream_ms);
    }
    if (ctx.ttft_ms >= 0) {
        ms(",\"ttft_ms\":", ctx.ttft_ms);
    }
    num(",\"attempts\":", ctx.attempts);
    if (ctx.prompt_tokens >= 0) {
        num(",\"prompt_tokens\":", ctx.prompt_tokens);
    }
    if (ctx.completion_tokens >= 0) {
        num(",\"completion_tokens\":", ctx.completion_tokens);
    }
    str(",\"client_ip\":", ctx.client_ip);
    if (!ctx.error_class.empty()) {
        str(",\"error_class\":", ctx.error_class);
    }
    line += '}';
    obs::write_json_line(line);
}

}  // namespace sy::app
