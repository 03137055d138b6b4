#pragma once
// The one place where an Error becomes an HTTP response (api.md §12.2 envelope:
// {"error":{"message","type","param","code":"<status>"}}).
//
// Thread safety: pure functions.

#include <string>

#include "sy/core/error.hpp"
#include "sy/http/server.hpp"

namespace sy::pipeline {

std::string error_json(const Error& e);
http::Response render_error(const Error& e, unsigned http_version = 11);

// Anthropic's error shape for /v1/messages: {"type":"error","error":{"type","message"}} (D22).
http::Response render_anthropic_error(const Error& e, unsigned http_version = 11);

// The SSE event sent when a stream fails after bytes reached the client.
std::string error_sse_event(const Error& e);

}  // namespace sy::pipeline
