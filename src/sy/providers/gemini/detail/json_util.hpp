#pragma once
// Helpers shared by the translation units of providers/gemini. Not part of the public API.
// The provider-neutral ones live in providers/common and are re-exported here.
//
// Thread safety: pure functions.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sy/core/error.hpp"
#include "sy/providers/common/json_util.hpp"
#include "sy/providers/gemini/translate.hpp"

namespace sy::providers::gemini::detail {

namespace json = boost::json;

using common::kMaxErrorMessageBytes;
using common::kMaxParseDepth;
using common::kMaxTokens;

inline constexpr std::string_view kLabel = "GeminiException";

using common::append_int;
using common::append_quoted;
using common::as_integer;
using common::bad_request;
using common::contains_ci;
using common::find;
using common::find_array;
using common::find_object;
using common::find_string;
using common::parse_json;
using common::sanitize_utf8;
using common::starts_with_ci;
using common::truncate_utf8;
using common::unix_now;

// A token count: non-negative, clamped to kMaxTokens; 0 when absent or not a number. Unlike
// common::token_count, an integer spelled as a string (proto3 JSON int64) is accepted.
std::int64_t token_count(const json::object* o, std::string_view key);

// `call_` + 24 lower-case hex digits (providers.md §4.2).
std::string new_tool_call_id();

// 500 kUpstreamProtocol: `litellm.InternalServerError: GeminiException - <detail>`.
Error protocol_error(std::string_view detail);
// 400 ContentPolicyViolationError for a prompt Gemini blocked (promptFeedback.blockReason).
Error blocked_prompt_error(const json::object& prompt_feedback);

// Google RPC status name (RESOURCE_EXHAUSTED, ...) -> the HTTP status Google sends it with.
int status_for_rpc_status(std::string_view rpc_status);

// The `error` object of a Gemini error body (`{"error":{...}}` or `[{"error":{...}}]`), if any.
const json::object* error_object(const json::value& body);

// Maps an already parsed Gemini error object (see map_gemini_error()).
Error map_error_object(int status, const json::object& err);

// Gemini finishReason -> OpenAI finish_reason (providers.md §4.2). `made_calls`: the candidate
// returned function calls (STOP -> tool_calls).
std::string_view finish_reason_for(std::string_view gemini_reason, bool made_calls);

// usageMetadata -> counts (missing fields are 0).
StreamUsage read_usage(const json::object& usage_metadata);
// OpenAI `usage` object: prompt/completion/total tokens with prompt_tokens_details.cached_tokens
// and completion_tokens_details.reasoning_tokens.
json::object usage_object(const StreamUsage& u);

}  // namespace sy::providers::gemini::detail
