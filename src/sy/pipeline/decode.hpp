#pragma once
// Decoding and validation of OpenAI-format LLM requests (chat, completions, embeddings), and
// building the upstream body. No I/O; fuzzed by tests/fuzz.
//
// Thread safety: pure functions.

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "sy/core/error.hpp"
#include "sy/providers/openai.hpp"

namespace sy::pipeline {

struct LlmRequest {
    // Move-constructs the body so that it keeps the parse arena (assignment would deep-copy).
    LlmRequest(providers::Route r, boost::json::object&& b) : route(r), body(std::move(b)) {}

    providers::Route route = providers::Route::kChat;
    boost::json::object body;  // client body with gateway-only fields removed
    std::string model;         // as the client sent it
    bool stream = false;
    bool include_usage = false;
    std::optional<double> timeout_s;
    std::optional<double> stream_timeout_s;
    std::optional<std::string> mock_response;
    bool mock_timeout = false;
    bool mock_testing_rate_limit_error = false;
};

// Parses and validates `text`. Errors are 400 invalid_request_error with a message naming the
// field (and `param` set to it).
Result<LlmRequest> decode_request(providers::Route route, std::string_view text);

// Upstream JSON body: the client's body with `model` replaced and deployment defaults merged
// (the client's values win).
std::string build_upstream_body(LlmRequest& req,
                                std::string_view upstream_model,
                                const boost::json::object& defaults);

// "/chat/completions" etc., as used in error messages.
std::string_view route_label(providers::Route r);

}  // namespace sy::pipeline
