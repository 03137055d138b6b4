#include "sy/pipeline/llm_handler.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cstdio>

#include "sy/core/json_scan.hpp"
#include "sy/core/lifecycle.hpp"
#include "sy/http/sse.hpp"
#include "sy/pipeline/completions_adapter.hpp"
#include "sy/pipeline/error_render.hpp"
#include "sy/pipeline/provider_adapter.hpp"
#include "sy/pipeline/stream_transform.hpp"
#include "sy/pipeline/test_hooks.hpp"

namespace sy::pipeline {
namespace {

namespace json = boost::json;
using http::bhttp::field;

double ms_since(http::Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(http::Clock::now() - t0).count();
}

std::string fmt_ms(double v) {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
    return ec == std::errc{} ? std::string(buf, p) : std::string("0");
}

void add_line(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out += ": ";
    out.append(value);
    out += "\r\n";
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
    add_line(out, "x-litellm-attempted-retries",
             ctx.attempts > 1 ? std::to_string(ctx.attempts - 1) : "0");
    add_line(out, "x-litellm-attempted-fallbacks", "0");
}

// llm_provider-<name> lines for allow-listed upstream headers (README D25).
void append_provider_headers(std::string& out, const http::Fields& f) {
    for (const auto& h : f) {
        std::string_view name(h.name_string().data(), h.name_string().size());
        if (providers::forwardable_provider_header(name)) {
            out += "llm_provider-";
            for (char c : name) {
                out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
            }
            out += ": ";
            out.append(h.value().data(), h.value().size());
            out += "\r\n";
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

// Same, from a whole response body (top-level `usage`).
void capture_usage(std::string_view text, CallContext& ctx) {
    auto span = json_scan::find_top_level(text, "usage");
    if (span) {
        read_usage_tokens(text.substr(span->offset, span->length), ctx.prompt_tokens,
                          ctx.completion_tokens);
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

http::Task<void> send_into(http::UpstreamPool& pool,
                           const http::UpstreamRequest& req,
                           http::UpstreamTimeouts t,
                           http::UpstreamCancel& cancel,
                           std::optional<Result<http::UpstreamResponse>>& out) {
    auto r = co_await pool.send(req, t, &cancel);
    out.emplace(std::move(r));
}

bool is_failure_for_health(int status) { return status == 0 || status >= 500 || status == 429 ||
                                                status == 401 || status == 403 || status == 404 ||
                                                status == 408; }

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
    h.set("x-litellm-attempted-retries", ctx.attempts > 1 ? std::to_string(ctx.attempts - 1) : "0");
    h.set("x-litellm-attempted-fallbacks", "0");
}

template void add_call_headers(http::Response&, const CallContext&);

LlmHandler::LlmHandler(const routing::ModelTable& table,
                       std::vector<std::unique_ptr<http::UpstreamPool>>& pools)
    : table_(table), pools_(pools) {}

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
    ctx.prompt_tokens = 10;
    ctx.completion_tokens = 20;
    if (req.stream) {
        head += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n";
        append_call_headers(head, ctx);
        ex.begin_stream_raw(head);
        std::string events = mock_response_stream(req.route, req.model, text, req.include_usage);
        co_await ex.write_chunk(events, true);
        co_return;
    }
    head += "Content-Type: application/json\r\n";
    append_call_headers(head, ctx);
    add_line(head, "x-litellm-response-cost", "0");
    std::string body = mock_response_body(req.route, req.model, text);
    co_await ex.respond_raw(200, head, body);
}

// Everything handle() decides before its first await, without awaiting: route, deadlines, test
// hooks and the upstream request. Not a coroutine, so its many locals (errors, names) do not
// enlarge handle()'s frame. On kReplyError, `err` holds the error to answer with.
LlmHandler::Next LlmHandler::prepare(http::Exchange& ex,
                                     providers::Route route,
                                     CallContext& ctx,
                                     LlmRequest& req,
                                     Attempt& a,
                                     std::unique_ptr<Error>& err) {
    auto fail = [&err](Error e) {
        err = std::make_unique<Error>(std::move(e));
        return Next::kReplyError;
    };
    ctx.requested_model = req.model;
    ctx.stream = req.stream;

    // route: requested name -> model group -> one deployment.
    auto resolved = table_.resolve(req.model);
    if (!resolved) {
        std::string names;
        for (const auto& n : table_.public_group_names()) {
            names += names.empty() ? "" : ", ";
            names += n;
        }
        return fail(Error::make(Errc::kUnknownModel,
                                std::string(route_label(route)) +
                                    ": Invalid model name passed in model=" + req.model +
                                    ". Call `/v1/models` to view available models for your key. "
                                    "Available model groups: [" + names + "]")
                        .with_param("model"));
    }
    routing::DeploymentRuntime* d =
        resolved->pinned ? resolved->pinned : table_.pick(*resolved->group);
    ctx.model_group = resolved->group->name;
    ctx.model_id = d->cfg->id;
    ctx.provider = d->cfg->provider;
    if (!d->target) {
        return fail(Error::make(Errc::kProviderNotSupported,
                                "provider not supported: " + d->cfg->provider));
    }
    ctx.api_base = d->target->url.display;

    // Deadlines (router.md §7): request > header > deployment > router settings.
    const auto& rs = table_.settings().router;
    double timeout_s = req.timeout_s.value_or(
        header_seconds(ex.request(), "x-litellm-timeout")
            .value_or(d->cfg->timeout_s.value_or(rs.timeout_s)));
    double stream_timeout_s = req.stream_timeout_s.value_or(
        header_seconds(ex.request(), "x-litellm-stream-timeout")
            .value_or(d->cfg->stream_timeout_s.value_or(rs.stream_timeout_s.value_or(timeout_s))));

    // Test hooks (api.md §2.1): answered here, never forwarded, never counted against the
    // deployment's health (README D28).
    const std::optional<std::string>& mock_text =
        req.mock_response ? req.mock_response : d->cfg->mock_response;
    if (mock_text && (route == providers::Route::kChat || route == providers::Route::kCompletions)) {
        a.mock_text = &*mock_text;
        return Next::kMock;
    }
    a.timeout_s = req.stream ? stream_timeout_s : timeout_s;
    if (req.mock_timeout || d->cfg->mock_timeout) {
        return Next::kMockTimeout;
    }

    a.deployment = d;
    a.timeouts.connect = http::seconds_to_duration(std::min(timeout_s, config::kDefaultConnectTimeoutCapS));
    a.timeouts.first_byte = http::seconds_to_duration(req.stream ? stream_timeout_s : timeout_s);
    a.timeouts.idle = http::seconds_to_duration(timeout_s);
    a.err_ctx = {d->target->exception_label, ctx.model_group};

    // dispatch
    std::string upstream_model = routing::ModelTable::upstream_model(*d, *resolved);
    auto plan = plan_upstream(*d, table_.settings(), req, upstream_model);
    if (!plan) {
        return fail(plan.error());
    }
    a.plan = std::move(plan).value();
    a.shape = d->target->shape;
    a.upstream = providers::build_request(*d->target, a.plan.route, std::move(a.plan.body),
                                          upstream_model, req.stream);
    a.upstream.arena = ex.arena();
    return Next::kDispatch;
}

http::Task<void> LlmHandler::mock_timeout(http::Exchange& ex, CallContext& ctx, double t) {
    http::net::steady_timer timer(co_await http::net::this_coro::executor,
                                  http::seconds_to_duration(t));
    auto wait = wait_timer(timer);
    const std::function<void()> stop_waiting = [&timer] { timer.cancel(); };
    if (!co_await ex.run_watching_client(wait, stop_waiting)) {
        ctx.status = 499;
        ctx.error_class = "client_disconnected";
        co_return;
    }
    Error e = mock_timeout_error(t);
    ctx.error_class = "Timeout";
    co_await reply_error(ex, ctx, e);
}

http::Task<void> LlmHandler::handle(http::Exchange& ex, providers::Route route, CallContext& ctx) {
    ctx.anthropic_format = route == providers::Route::kMessages;
    // parse: JSON, required fields and types, client-side credential rejection.
    auto decoded = decode_request(route, ex.request().body());
    if (!decoded) {
        co_await reply_error(ex, ctx, decoded.error());
        co_return;
    }
    LlmRequest& req = decoded.value();
    Attempt a;
    std::unique_ptr<Error> err;
    switch (prepare(ex, route, ctx, req, a, err)) {
        case Next::kReplyError:
            co_await reply_error(ex, ctx, *err);
            co_return;
        case Next::kMock:
            co_await reply_mock(ex, ctx, req, *a.mock_text);
            co_return;
        case Next::kMockTimeout:
            co_await mock_timeout(ex, ctx, a.timeout_s);
            co_return;
        case Next::kDispatch:
            break;
    }
    ctx.attempts = 1;
    if (req.stream) {
        co_await dispatch_stream(ex, ctx, req, a);
    } else {
        co_await dispatch_unary(ex, ctx, req, a);
    }
}

http::Task<void> LlmHandler::dispatch_unary(http::Exchange& ex,
                                            CallContext& ctx,
                                            LlmRequest& req,
                                            Attempt& a) {
    auto t0 = http::Clock::now();
    // The upstream call runs under a watch of the client socket: a client that goes away (or a
    // forced shutdown closing it) cancels the upstream request.
    std::optional<Result<http::UpstreamResponse>> result;
    http::UpstreamCancel cancel;
    auto op = send_into(pool_for(ex), a.upstream, a.timeouts, cancel, result);
    const std::function<void()> cancel_call = [&cancel] { cancel.cancel(); };
    bool stayed = co_await ex.run_watching_client(op, cancel_call);
    ctx.upstream_ms = ms_since(t0);
    if (!stayed || !result) {
        ctx.status = 499;
        ctx.error_class = "client_disconnected";
        co_return;
    }
    std::string head;
    std::string body;
    std::unique_ptr<Error> err;
    finish_unary(ctx, req, a, *result, head, body, err);
    if (err) {
        co_await reply_error(ex, ctx, *err);
        co_return;
    }
    co_await ex.respond_raw(200, head, body);
}

// The synchronous tail of dispatch_unary: health bookkeeping, usage, the response head and body
// (or, in `err`, the error to answer with). Not a coroutine, so that its locals stay out of
// dispatch_unary's frame.
void LlmHandler::finish_unary(CallContext& ctx,
                              LlmRequest& req,
                              Attempt& a,
                              Result<http::UpstreamResponse>& r,
                              std::string& head,
                              std::string& body,
                              std::unique_ptr<Error>& err) {
    auto& state = *a.deployment->state;
    if (!r) {
        Error e = providers::map_transport_error(r.error(), a.err_ctx, a.timeout_s);
        state.record_failure(0, e.message);
        ctx.error_class = e.code == Errc::kTimeout ? "Timeout" : "APIConnectionError";
        err = std::make_unique<Error>(std::move(e));
        return;
    }
    http::UpstreamResponse& up = r.value();
    if (up.status < 200 || up.status >= 300) {
        Error e = map_upstream_error(a.shape, up.status, up.headers(), up.body(), a.err_ctx);
        if (is_failure_for_health(up.status)) {
            state.record_failure(up.status, e.message);
        }
        err = std::make_unique<Error>(std::move(e));
        return;
    }
    state.record_success(static_cast<std::int64_t>(ctx.upstream_ms * 1000));
    capture_usage(up.body(), ctx);

    head.reserve(768);
    auto ct = up.header("content-type");
    add_line(head, "Content-Type", ct ? *ct : std::string_view("application/json"));
    append_provider_headers(head, up.msg.base());
    append_call_headers(head, ctx);
    add_line(head, "x-litellm-response-duration-ms", fmt_ms(ctx.upstream_ms));
    add_line(head, "x-litellm-overhead-duration-ms",
             fmt_ms(std::max(0.0, ms_since(ctx.start) - ctx.upstream_ms)));
    auto converted = convert_response(a.shape, a.plan, req, up.body());
    if (!converted) {
        Error e = converted.error();
        state.record_failure(500, e.message);
        err = std::make_unique<Error>(std::move(e));
        return;
    }
    body = std::move(converted).value();
    ctx.status = 200;
}

// Relays one upstream SSE stream to the client (api.md §3, README D18). Holds the per-stream
// state so that failure handling is one method, and so a client disconnect can close the
// upstream connection from the watcher.
class StreamRelay {
public:
    StreamRelay(http::Exchange& ex,
                CallContext& ctx,
                routing::DeploymentState& state,
                const providers::ErrorContext& err_ctx,
                StreamTransformPtr transform)
        : ex_(ex), ctx_(ctx), state_(state), err_ctx_(err_ctx), transform_(std::move(transform)) {}

    // Reads the stream to its end (or failure) and answers the client.
    http::Task<void> relay(std::unique_ptr<http::UpstreamStream>& s,
                           double first_chunk_timeout_s,
                           double idle_timeout_s);
    // Called when the client went away: closes the upstream connection (cancels the request).
    // The stream object itself stays alive until relay() returns: a read may be in flight.
    void cancel() {
        if (s_) {
            s_->abort();
        }
    }

private:
    http::Task<void> fail(const Error& e);
    void note_usage() {
        if (transform_->prompt_tokens >= 0) {
            ctx_.prompt_tokens = transform_->prompt_tokens;
        }
        if (transform_->completion_tokens >= 0) {
            ctx_.completion_tokens = transform_->completion_tokens;
        }
    }

    http::Exchange& ex_;
    CallContext& ctx_;
    routing::DeploymentState& state_;
    const providers::ErrorContext& err_ctx_;
    StreamTransformPtr transform_;
    std::unique_ptr<http::UpstreamStream> s_;
    http::Clock::time_point t0_ = http::Clock::now();
    std::string out_;
    bool started_ = false;
};

// Fails the stream: a normal error response before the first byte, a terminal SSE error event
// after it (never a clean [DONE], README D18).
http::Task<void> StreamRelay::fail(const Error& e) {
    state_.record_failure(e.http_status(), e.message);
    note_usage();
    ctx_.upstream_ms = ms_since(t0_);
    ctx_.error_class = std::string(e.http_type());
    if (!started_) {
        co_await LlmHandler::reply_error(ex_, ctx_, e);
        co_return;
    }
    // The chunked body is terminated properly after the error event, so the client connection
    // stays consistent and reusable; only the upstream connection is discarded.
    out_ += transform_->error_event(e);
    co_await ex_.write_chunk(out_, true);
    ctx_.status = 200;
}

http::Task<void> StreamRelay::relay(std::unique_ptr<http::UpstreamStream>& s,
                                    double first_chunk_timeout_s,
                                    double idle_timeout_s) {
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
            co_await fail(err);
            co_return;
        }
        if (!splitter.feed(raw)) {
            Error err = stream_protocol_error(err_ctx_.exception_label,
                                              "stream event exceeds the size limit");
            co_await fail(err);
            co_return;
        }
        while (auto ev = splitter.next_event()) {
            event_type.clear();
            std::string_view data = http::sse_data_view(*ev, scratch);
            if (ev->rfind("event:", 0) == 0 || ev->find("\nevent:") != std::string_view::npos) {
                scratch = http::sse_data(*ev, &event_type);
                data = scratch;
            }
            auto st = transform_->on_event(event_type, data, out_);
            if (!st) {
                Error err = st.error();
                co_await fail(err);
                co_return;
            }
        }
        // The upstream's end-of-answer marker completes the client's stream now, whatever the
        // upstream does next (api.md §3.1); its body is then drained briefly for reuse.
        if (s_->done() && !transform_->done()) {
            auto st = transform_->on_end(out_);
            if (!st) {
                Error err = st.error();
                co_await fail(err);
                co_return;
            }
        }
        bool finished = s_->done() || transform_->done();
        if (finished && !transform_->done()) {
            Error err = stream_protocol_error(err_ctx_.exception_label,
                                              "upstream stream ended without [DONE]");
            co_await fail(err);
            co_return;
        }
        if (!out_.empty() || finished) {
            if (!started_) {
                std::string head;
                head.reserve(1024);
                head += "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
                        "x-accel-buffering: no\r\n";
                append_provider_headers(head, s_->head());
                append_call_headers(head, ctx_);
                ex_.begin_stream_raw(head);
                started_ = true;
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
    state_.record_success(static_cast<std::int64_t>(ctx_.upstream_ms * 1000));
    if (!s_->done()) {
        co_await s_->drain(kDrainAfterDone);
    }
}

http::Task<void> LlmHandler::dispatch_stream(http::Exchange& ex,
                                             CallContext& ctx,
                                             LlmRequest& req,
                                             Attempt& a) {
    // Declared first: it must outlive the relay and the upstream stream the relay owns.
    http::UpstreamCancel cancel;
    StreamTransformPtr transform = make_stream_transform(a.shape, a.plan, req, a.err_ctx);
    StreamRelay relay(ex, ctx, *a.deployment->state, a.err_ctx, std::move(transform));
    auto attempt = stream_attempt(ex, ctx, a, relay, cancel);
    const std::function<void()> on_gone = [&relay, &cancel] {
        cancel.cancel();
        relay.cancel();
    };
    bool client_stayed = co_await ex.run_watching_client(attempt, on_gone);
    if (!client_stayed) {
        ctx.status = 499;
        ctx.error_class = "client_disconnected";
    }
}

http::Task<void> LlmHandler::stream_attempt(http::Exchange& ex,
                                            CallContext& ctx,
                                            Attempt& a,
                                            StreamRelay& relay,
                                            http::UpstreamCancel& cancel) {
    auto t0 = http::Clock::now();
    auto& state = *a.deployment->state;
    auto opened = co_await pool_for(ex).open_stream(a.upstream, a.timeouts, &cancel);
    if (ex.client_gone()) {
        co_return;
    }
    if (!opened) {
        Error e = providers::map_transport_error(opened.error(), a.err_ctx, a.timeout_s);
        state.record_failure(0, e.message);
        ctx.error_class = e.code == Errc::kTimeout ? "Timeout" : "APIConnectionError";
        co_await reply_error(ex, ctx, e);
        co_return;
    }
    std::unique_ptr<http::UpstreamStream> s = std::move(opened).value();
    if (s->status() < 200 || s->status() >= 300) {
        std::string body;
        auto st = co_await s->read_all(body, 1024 * 1024);
        (void)st;
        ctx.upstream_ms = ms_since(t0);
        Error e = map_upstream_error(a.shape, s->status(), http::lowercase_headers(s->head()),
                                                body, a.err_ctx);
        if (is_failure_for_health(s->status())) {
            state.record_failure(s->status(), e.message);
        }
        co_await reply_error(ex, ctx, e);
        co_return;
    }
    co_await relay.relay(s, a.timeout_s, std::chrono::duration<double>(a.timeouts.idle).count());
}

}  // namespace sy::pipeline
