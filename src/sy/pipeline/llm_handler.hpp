#pragma once
// The LLM call pipeline for /chat/completions, /completions and /embeddings:
//   parse -> route (model group -> deployment) -> dispatch (translate, call upstream with
//   deadlines, stream back) -> observe (passive health, context for the access log).
// Authentication happens before (app/http_router), as the first stage of every route.
//
// Thread safety: one LlmHandler serves all workers; it holds only immutable state and per-worker
// pools indexed by the worker that runs the request.

#include <memory>
#include <vector>

#include "sy/http/server.hpp"
#include "sy/http/upstream.hpp"
#include "sy/pipeline/call_context.hpp"
#include "sy/pipeline/decode.hpp"
#include "sy/pipeline/provider_adapter.hpp"
#include "sy/routing/model_table.hpp"

namespace sy::pipeline {

class StreamRelay;

class LlmHandler {
public:
    // `pools[i]` belongs to worker i.
    LlmHandler(const routing::ModelTable& table,
               std::vector<std::unique_ptr<http::UpstreamPool>>& pools);

    http::Task<void> handle(http::Exchange& ex, providers::Route route, CallContext& ctx);

    // Writes an error response for an LLM route (adds x-litellm-call-id etc.).
    static http::Task<void> reply_error(http::Exchange& ex, CallContext& ctx, const Error& e);

private:
    struct Attempt {
        routing::DeploymentRuntime* deployment = nullptr;
        http::UpstreamRequest upstream;
        http::UpstreamTimeouts timeouts;
        double timeout_s = 0;
        providers::ErrorContext err_ctx;
        providers::ApiShape shape = providers::ApiShape::kOpenAI;
        UpstreamPlan plan;  // upstream route and body; completions served by a chat model
        const std::string* mock_text = nullptr;  // test hook: the mock_response to answer with
    };
    enum class Next { kReplyError, kMock, kMockTimeout, kDispatch };

    Next prepare(http::Exchange& ex, providers::Route route, CallContext& ctx, LlmRequest& req,
                 Attempt& a, std::unique_ptr<Error>& err);
    http::Task<void> mock_timeout(http::Exchange& ex, CallContext& ctx, double t);
    void finish_unary(CallContext& ctx, LlmRequest& req, Attempt& a,
                      Result<http::UpstreamResponse>& r, std::string& head, std::string& body,
                      std::unique_ptr<Error>& err);

    http::Task<void> dispatch_unary(http::Exchange& ex, CallContext& ctx, LlmRequest& req,
                                    Attempt& a);
    http::Task<void> dispatch_stream(http::Exchange& ex, CallContext& ctx, LlmRequest& req,
                                     Attempt& a);
    http::Task<void> stream_attempt(http::Exchange& ex, CallContext& ctx, Attempt& a,
                                    StreamRelay& relay, http::UpstreamCancel& cancel);
    http::UpstreamPool& pool_for(http::Exchange& ex);
    static http::Task<void> reply_mock(http::Exchange& ex, CallContext& ctx, const LlmRequest& req,
                                       const std::string& text);

    const routing::ModelTable& table_;
    std::vector<std::unique_ptr<http::UpstreamPool>>& pools_;
};

// Adds the x-litellm-* headers known for this call to a response header.
template <class Fields>
void add_call_headers(Fields& h, const CallContext& ctx);

}  // namespace sy::pipeline
