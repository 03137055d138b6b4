#pragma once
// Per-provider-format steps of a call, chosen by the deployment's ApiShape: the upstream body,
// the conversion of a complete answer, the stream transform and the error mapping. Everything
// format-specific the LLM pipeline needs goes through here.
//
// Thread safety: pure functions (the returned transform belongs to one stream).

#include <string>
#include <string_view>

#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"
#include "sy/pipeline/decode.hpp"
#include "sy/pipeline/stream_transform.hpp"
#include "sy/providers/openai.hpp"
#include "sy/routing/model_table.hpp"

namespace sy::pipeline {

// How the upstream call is shaped for this request.
struct UpstreamPlan {
    providers::Route route = providers::Route::kChat;  // upstream endpoint for OpenAI shapes
    bool completion_from_chat = false;  // client /completions answered by a chat endpoint
    // The gateway asked an OpenAI-format upstream for the final usage chunk (stream billing,
    // issue 6) although the client did not: the stream transform strips that chunk.
    bool usage_added = false;
    std::string body;
};

// Errors are client errors (400) for requests the deployment cannot take.
Result<UpstreamPlan> plan_upstream(const routing::DeploymentRuntime& d,
                                   const config::Settings& settings,
                                   LlmRequest& req,
                                   std::string_view upstream_model);

// True when convert_response() only puts the client's `model` back into an OpenAI-shaped body
// (no translation): the caller may then do that itself in the same scan that reads `usage`.
bool response_is_passthrough(providers::ApiShape shape,
                             const UpstreamPlan& plan,
                             const LlmRequest& req);

// A complete upstream answer (2xx body) -> the client's response body.
Result<std::string> convert_response(providers::ApiShape shape,
                                     const UpstreamPlan& plan,
                                     const LlmRequest& req,
                                     std::string_view upstream_body);

StreamTransformPtr make_stream_transform(providers::ApiShape shape,
                                         const UpstreamPlan& plan,
                                         const LlmRequest& req,
                                         const providers::ErrorContext& err_ctx);

// An upstream error response -> the client's error (providers.md §8), scrubbed, with
// retry-after kept and the model-group suffix.
Error map_upstream_error(providers::ApiShape shape,
                         int status,
                         const std::vector<Header>& headers,
                         std::string_view body,
                         const providers::ErrorContext& err_ctx);

}  // namespace sy::pipeline
