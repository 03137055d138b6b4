#pragma once
// Helpers shared by the translation units of providers/gemini. Not part of the public API.
//
// Thread safety: pure functions.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sy/core/error.hpp"
#include "sy/providers/gemini/translate.hpp"

namespace sy::providers::gemini::detail {

namespace json = boost::json;

// Upstream JSON nests tool schemas and function arguments; 128 levels is far beyond real payloads
// while keeping recursion in Boost.JSON's copy/serialize (and our schema cleaner) bounded.
inline constexpr std::size_t kMaxParseDepth = 128;

// Token counts are clamped to this so sums can never overflow.
inline constexpr std::int64_t kMaxTokens = 1'000'000'000'000;

// Messages copied from upstream bodies into errors are cut at this many bytes.
inline constexpr std::size_t kMaxErrorMessageBytes = 2000;

inline constexpr std::string_view kLabel = "GeminiException";

// Parses `text` with bounded depth into `out`. Returns false on malformed JSON and writes a short
// reason to `why`.
bool parse_json(std::string_view text,
                json::value& out,
                std::string& why,
                json::storage_ptr sp = {});

const json::value* find(const json::object& o, std::string_view key);
const json::object* find_object(const json::object& o, std::string_view key);
const json::array* find_array(const json::object& o, std::string_view key);
// The string value of `key`, or `dflt` when absent or not a string.
std::string_view find_string(const json::object& o,
                             std::string_view key,
                             std::string_view dflt = {});

// An integer from int64/uint64/integral double; nullopt otherwise.
std::optional<std::int64_t> as_integer(const json::value* v);
// A token count: non-negative, clamped to kMaxTokens; 0 when absent or not a number.
std::int64_t token_count(const json::object* o, std::string_view key);

// Appends `s` as a JSON string literal.
void append_quoted(std::string& out, std::string_view s);
void append_int(std::string& out, std::int64_t v);

// `s` cut to at most `n` bytes without splitting a UTF-8 sequence.
std::string truncate_utf8(std::string_view s, std::size_t n);

// `s` with every invalid UTF-8 sequence replaced by U+FFFD (text that did not come from a JSON
// parser, e.g. a non-JSON error body, is written into JSON only after this).
std::string sanitize_utf8(std::string_view s);

bool contains_ci(std::string_view hay, std::string_view needle);
bool starts_with_ci(std::string_view s, std::string_view lower_prefix);

std::int64_t unix_now();

// `call_` + 24 lower-case hex digits (providers.md §4.2).
std::string new_tool_call_id();

// 400 invalid_request_error with `msg` as the message.
Error bad_request(std::string msg);
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
