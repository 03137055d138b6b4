#pragma once
// The LLM call pipeline for /chat/completions, /completions and /embeddings:
//   parse -> route (model group -> deployment, via routing::Router) -> dispatch (translate,
//   call upstream with deadlines, stream back) with retries inside the group and fallbacks to
//   other groups -> observe (router outcome, context for the access log).
// Authentication happens before (app/http_router), as the first stage of every route.
//
// Thread safety: one LlmHandler serves all workers; it holds only immutable state and per-worker
// pools indexed by the worker that runs the request.

#include <memory>
#include <optional>
#include <vector>

#include "sy/http/server.hpp"
#include "sy/http/upstream.hpp"
#include "sy/pipeline/call_context.hpp"
#include "sy/pipeline/decode.hpp"
#include "sy/pipeline/governance.hpp"
#include "sy/pipeline/provider_adapter.hpp"
#include "sy/routing/model_table.hpp"
#include "sy/routing/router.hpp"

namespace sy::pipeline {

class StreamRelay;

// How one upstream attempt went wrong, as the retry/fallback loop sees it.
struct Failure {
    Error error;
    routing::FailureClass cls = routing::FailureClass::kNeutral;
    int upstream_status = 0;              // provider status; 0 when none arrived
    std::optional<double> retry_after_s;  // provider's Retry-After / x-ratelimit-reset-*
    bool synthetic = false;               // test hook: never touches router state (README D28)
    bool no_deployment = false;           // every deployment cooling or at capacity
    bool skip_retries = false;            // go straight to fallbacks (mock_testing_fallbacks)
};

// The end of one attempt.
struct AttemptResult {
    bool answered = false;           // the client got a response (possibly a mid-stream error)
    std::optional<Failure> failure;  // set when the attempt failed (before or after answering)
    double ttft_s = -1;              // streaming: upstream time to first event
    bool synthetic_answer = false;   // answered by a test hook (no router sample)
    bool recorded = false;           // the outcome already went to the router
    bool client_gone() const { return !answered && !failure; }
};

class LlmHandler {
public:
    // `pools[i]` belongs to worker i.
    // `gov` (optional): model access, budgets and the spend ledger for virtual keys.
    LlmHandler(const routing::ModelTable& table,
               std::vector<std::unique_ptr<http::UpstreamPool>>& pools,
               Governance* gov = nullptr);

    http::Task<void> handle(http::Exchange& ex, providers::Route route, CallContext& ctx);

    // Writes an error response for an LLM route (adds x-litellm-call-id etc.).
    static http::Task<void> reply_error(http::Exchange& ex, CallContext& ctx, const Error& e);

    const routing::Router& router() const { return router_; }
    routing::Router& router() { return router_; }  // composition only (before serving)

private:
    struct Attempt {
        routing::DeploymentRuntime* deployment = nullptr;
        http::UpstreamRequest upstream;
        http::UpstreamTimeouts timeouts;
        double timeout_s = 0;
        providers::ErrorContext err_ctx;
        providers::ApiShape shape = providers::ApiShape::kOpenAI;
        UpstreamPlan plan;  // upstream route and body; completions served by a chat model
        bool probe = false;     // this attempt holds the deployment's half-open probe
        routing::TimePoint t0;  // attempt start
    };

    // parse -> authorize -> route with retries and fallbacks (account runs in handle()).
    http::Task<void> handle_call(http::Exchange& ex, providers::Route route, CallContext& ctx);
    // handle_call's synchronous steps (plain functions: their locals take no room in the
    // per-request coroutine frames). The requested model's group (or the unknown-model error).
    Status route_call(const http::Exchange& ex, CallContext& ctx, LlmRequest& req,
                      std::optional<routing::Resolved>& resolved) const;
    // The request's own `fallbacks` must be models the key may use.
    Status check_request_fallbacks(const CallContext& ctx, const LlmRequest& req) const;
    // The authorized call: retries in its group, then fallbacks (a coroutine of its own: in
    // handle_call's frame, the group's outcome would push it past Asio's recycling limit).
    http::Task<void> serve(http::Exchange& ex, providers::Route route, CallContext& ctx,
                           LlmRequest& req, const routing::Resolved& resolved);
    // After the requested group failed: fallbacks to other groups (router.md §6), or the error.
    // A coroutine of its own so that the common path's frame stays small.
    http::Task<void> handle_fallbacks(http::Exchange& ex, providers::Route route,
                                      CallContext& ctx, LlmRequest& req,
                                      const routing::Resolved& resolved,
                                      const Failure& original);
    // Retries within one model group (router.md §5): `out` receives the answer or the group's
    // last failure.
    http::Task<void> run_group(http::Exchange& ex, CallContext& ctx, LlmRequest& req,
                               const routing::Resolved& target,
                               std::vector<routing::DeploymentRuntime*>& tried,
                               AttemptResult& out);
    // run_group's synchronous steps. mock_testing_rate_limit_error: true with `out` set to the
    // hook's 429 when it applies to this group.
    bool rate_limit_hook(CallContext& ctx, LlmRequest& req, const routing::Resolved& target,
                         AttemptResult& out) const;
    routing::Selection select(const LlmRequest& req, const routing::Resolved& target,
                              const std::vector<routing::DeploymentRuntime*>& tried);
    static void begin_attempt(CallContext& ctx, const routing::ModelGroup& group,
                              routing::DeploymentRuntime& d, int n);
    // Seconds to wait before retrying after failure `f` of attempt `n`; negative: no retry.
    double retry_wait(CallContext& ctx, const LlmRequest& req, const routing::Resolved& target,
                      const std::vector<routing::DeploymentRuntime*>& tried,
                      const routing::DeploymentRuntime& d, int n, const Failure& f,
                      routing::TimePoint now);
    // One upstream call to `d` (or a test hook standing in for it); its end goes to `out`.
    http::Task<void> attempt(http::Exchange& ex, CallContext& ctx, LlmRequest& req,
                             const routing::Resolved& target, routing::DeploymentRuntime& d,
                             bool probe, routing::TimePoint t0, AttemptResult& out);
    // attempt()'s synchronous part: deadlines, test hooks, the upstream request in `a`.
    enum class Prepared {
        kCall,         // `a` is ready to send
        kDone,         // `out` holds the attempt's end (a failure before any call)
        kMockAnswer,   // mock_response: answer it
        kMockTimeout,  // mock_timeout: wait a.timeout_s, then time out
    };
    Prepared prepare_attempt(http::Exchange& ex, CallContext& ctx, LlmRequest& req,
                             const routing::Resolved& target, routing::DeploymentRuntime& d,
                             bool probe, routing::TimePoint t0, Attempt& a, AttemptResult& out);
    http::Task<void> dispatch_unary(http::Exchange& ex, CallContext& ctx, LlmRequest& req,
                                    Attempt& a, AttemptResult& out);
    // The client's answer to a 2xx upstream response: usage into ctx, `head` lines and `body`
    // (the spend row journaled on the way); a Failure when the body cannot be converted. A plain
    // function: its locals take no room in dispatch_unary's coroutine frame.
    std::optional<Failure> unary_answer(CallContext& ctx, const LlmRequest& req, const Attempt& a,
                                        const http::UpstreamResponse& up, std::string& head,
                                        std::string& body);
    http::Task<void> dispatch_stream(http::Exchange& ex, CallContext& ctx, LlmRequest& req,
                                     Attempt& a, AttemptResult& out);
    http::Task<void> stream_attempt(http::Exchange& ex, CallContext& ctx, Attempt& a,
                                    StreamRelay& relay, http::UpstreamCancel& cancel,
                                    AttemptResult& out);
    // Waits `seconds` unless the client leaves first (false).
    static http::Task<bool> pause(http::Exchange& ex, double seconds);
    http::UpstreamPool& pool_for(http::Exchange& ex);
    static http::Task<void> reply_mock(http::Exchange& ex, CallContext& ctx, const LlmRequest& req,
                                       const std::string& text);

    const routing::ModelTable& table_;
    routing::Router router_;
    std::vector<std::unique_ptr<http::UpstreamPool>>& pools_;
    Governance* gov_ = nullptr;
};

// Adds the x-litellm-* headers known for this call to a response header.
template <class Fields>
void add_call_headers(Fields& h, const CallContext& ctx);

}  // namespace sy::pipeline
