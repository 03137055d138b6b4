#pragma once
// JSON, UTF-8 and error helpers shared by the provider translation modules (providers/anthropic,
// providers/gemini). Not part of the public API.
//
// Thread safety: pure functions.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sy/core/error.hpp"

namespace sy::providers::common {

namespace json = boost::json;

// Upstream JSON nests tool schemas and tool inputs; 128 levels is far beyond real payloads while
// keeping recursion in Boost.JSON's copy/serialize (and schema cleaners) bounded.
inline constexpr std::size_t kMaxParseDepth = 128;

// Token counts are clamped to this so sums can never overflow.
inline constexpr std::int64_t kMaxTokens = 1'000'000'000'000;

// Messages copied from upstream bodies into errors are cut at this many bytes.
inline constexpr std::size_t kMaxErrorMessageBytes = 2000;

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
// `s` starts with `lower_prefix` (which must be lower-case), ASCII case-insensitively.
bool starts_with_ci(std::string_view s, std::string_view lower_prefix);

std::int64_t unix_now();

// 400 invalid_request_error with `msg` as the message.
Error bad_request(std::string msg);
// 500 kUpstreamProtocol: `litellm.InternalServerError: <label> - <detail>`.
Error protocol_error(std::string_view label, std::string_view detail);

// Closes an OpenAI chat.completion.chunk whose single choice's `delta` was just written:
// `,"logprobs":null,"finish_reason":<reason or null>}]` then `,"usage":null` when the client
// asked for usage, then `}`.
void append_chunk_tail(std::string& out, std::string_view finish_reason, bool include_usage);

// The provider-neutral phrases of an upstream "prompt too long" message (providers add their
// own wording on top).
bool context_window_signal(std::string_view provider_message);

// Upstream status + provider message -> client error (providers.md §8):
// `litellm.<Class>: <label> - <message>`. `context_window`: the provider recognised the message
// as a context-window overflow (used for 400/413 only). `too_large_type`: the error type of a
// plain 413.
Error map_status_error(int status,
                       std::string_view provider_message,
                       std::string_view label,
                       bool context_window,
                       std::string_view too_large_type);

}  // namespace sy::providers::common
