#pragma once
// Client test hooks (api.md §2.1, README D28): `mock_response` answers without calling the
// upstream; three special values raise LiteLLM's errors instead; `mock_timeout` fails like a
// timeout. A synthetic failure never touches deployment health.
//
// Thread safety: pure functions.

#include <optional>
#include <string>
#include <string_view>

#include "sy/core/error.hpp"
#include "sy/providers/openai.hpp"

namespace sy::pipeline {

// The error a special mock_response value stands for, if any.
std::optional<Error> mock_response_error(std::string_view text);

// Complete response body (chat.completion or text_completion) for a mock_response.
std::string mock_response_body(providers::Route route,
                               std::string_view model,
                               std::string_view text);

// The SSE events (each "data: ...\n\n", ending with [DONE]) for a streamed mock_response.
std::string mock_response_stream(providers::Route route,
                                 std::string_view model,
                                 std::string_view text,
                                 bool include_usage);

Error mock_timeout_error(double timeout_s);

}  // namespace sy::pipeline
