#pragma once
// Decoding and validation of OpenAI-format LLM requests (chat, completions, embeddings), and
// building the upstream body. No I/O; fuzzed by tests/fuzz.
//
// The pass-through path never builds a JSON DOM: the body is validated with a non-allocating
// parser, its top-level members are located in one scan, and the upstream body is the client's
// bytes with `model` replaced and gateway-only members cut out. Translating paths (another
// provider format, /completions on a chat model) ask for dom() and edit that instead.
//
// Thread safety: pure functions; an LlmRequest belongs to one request.

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sy/core/error.hpp"
#include "sy/core/json_scan.hpp"
#include "sy/providers/openai.hpp"

namespace sy::pipeline {

class LlmRequest {
public:
    // `text` must outlive the request (it is the HTTP request's body).
    LlmRequest(providers::Route r, std::string_view text) : route(r), text(text) {}

    providers::Route route = providers::Route::kChat;
    std::string_view text;  // the client's body, as received
    std::string model;      // as the client sent it
    bool stream = false;
    bool include_usage = false;
    std::optional<double> timeout_s;
    std::optional<double> stream_timeout_s;
    std::optional<std::string> mock_response;
    bool mock_timeout = false;
    bool mock_testing_rate_limit_error = false;
    bool mock_testing_fallbacks = false;
    bool mock_testing_context_fallbacks = false;
    bool mock_testing_content_policy_fallbacks = false;

    // Router controls (router.md §5.1, §6).
    std::optional<int> num_retries;
    struct Fallback {
        std::string model;
        std::string messages_json;  // replacement `messages` for that fallback; empty = keep
    };
    std::optional<std::vector<Fallback>> fallbacks;
    bool disable_fallbacks = false;
    json_scan::Span messages_span;  // chat / messages routes
    // Members the gateway's budget check reads (first occurrence; absent = nullopt), located by
    // the decoding scan so that no later step scans the body again.
    std::optional<json_scan::Span> user_span;
    std::optional<json_scan::Span> max_tokens_span;
    std::optional<json_scan::Span> max_completion_tokens_span;

    // Every top-level member of `text` as [begin, end) byte ranges, and whether it is forwarded
    // (gateway-only members are not).
    struct Piece {
        std::size_t begin = 0;
        std::size_t end = 0;
        bool keep = true;
    };
    std::vector<Piece> members;
    json_scan::Span model_span;

    // The body as a DOM without the gateway-only members; built on first use.
    boost::json::object& dom();
    bool has_dom() const { return dom_.has_value(); }

private:
    std::optional<boost::json::object> dom_;
};

// Validates `text`. Errors are 400 invalid_request_error with a message naming the field (and
// `param` set to it).
Result<LlmRequest> decode_request(providers::Route route, std::string_view text);

// Upstream JSON body: the client's body with `model` replaced, gateway-only members removed and
// deployment defaults merged (the client's values win). Leaves `req` reusable for another
// attempt.
// `drop` (optional): names removed for this deployment (litellm_params.additional_drop_params).
std::string build_upstream_body(LlmRequest& req,
                                std::string_view upstream_model,
                                const boost::json::object& defaults,
                                const std::vector<std::string>* drop = nullptr);

// The same request with its `messages` replaced by `messages_json` (a fallback's own messages,
// router.md §6). `storage` receives the new body text, which the result views.
Result<LlmRequest> with_messages(const LlmRequest& req, std::string_view messages_json,
                                 std::string& storage);

// "/chat/completions" etc., as used in error messages.
std::string_view route_label(providers::Route r);

}  // namespace sy::pipeline
