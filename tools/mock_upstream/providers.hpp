#pragma once
// Pure builders for the non-OpenAI wire shapes the mock speaks: Anthropic Messages (JSON, SSE
// events, errors), Gemini generateContent (JSON, SSE payloads, errors, blocked prompts) and
// Azure OpenAI errors, plus the flavor-aware fault replies used by every route. No I/O, no
// shared state: unit-testable and safe to call from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "directives.hpp"
#include "responses.hpp"

namespace sy::mock {

inline constexpr std::int64_t kAnthropicContextWindow = 200'000;
inline constexpr std::int64_t kGeminiContextWindow = 1'048'576;

// One server-sent event. An empty `event` sends no `event:` line (OpenAI, Gemini).
struct SseEvent {
    std::string event;
    std::string data;
};

// What ends each event on the wire: "\n\n", or "\r\n\r\n" for Gemini (as Google sends it).
[[nodiscard]] std::string_view sse_separator(Flavor flavor);

// ---- Anthropic ------------------------------------------------------------------------------

// "req_mock_<seq>", the `request-id` header and error `request_id`.
[[nodiscard]] std::string anthropic_request_id(std::uint64_t seq);
[[nodiscard]] std::string anthropic_message_json(const Reply& r);
// message_start, content_block_start, ping, content_block_delta (text_delta)...,
// content_block_stop, then per tool call content_block_start (tool_use),
// content_block_delta (input_json_delta)..., content_block_stop; message_delta and, unless
// `message_stop` is false, message_stop.
[[nodiscard]] std::vector<SseEvent> anthropic_stream_events(const Reply& r, bool message_stop);
[[nodiscard]] std::string anthropic_count_tokens_json(std::int64_t input_tokens);
[[nodiscard]] std::string anthropic_error_json(std::string_view type,
                                               std::string_view message,
                                               std::string_view request_id);

// ---- Gemini ---------------------------------------------------------------------------------

[[nodiscard]] std::string gemini_response_json(const Reply& r);
// One GenerateContentResponse per text piece, then one per function call; each carries the
// cumulative usageMetadata, the last also finishReason (unless `finish` is false).
[[nodiscard]] std::vector<std::string> gemini_stream_payloads(const Reply& r, bool finish);
// The blockReason a Gemini `error` directive asks for without a status (a 200 with
// promptFeedback and no candidates), or nullopt.
[[nodiscard]] std::optional<std::string> gemini_block_reason(const Directives& d);
[[nodiscard]] std::string gemini_blocked_json(const Reply& r, std::string_view block_reason);
[[nodiscard]] std::string gemini_count_tokens_json(std::int64_t total_tokens);
[[nodiscard]] std::string gemini_error_json(int code,
                                            std::string_view message,
                                            std::string_view status);

// ---- Azure ----------------------------------------------------------------------------------

// {"error":{"code":"<code>","message":"<message>"}}, Azure's own (non-OpenAI) error shape.
[[nodiscard]] std::string azure_error_json(std::string_view code, std::string_view message);

// ---- faults, any flavor ---------------------------------------------------------------------

struct FaultContext {
    Flavor flavor = Flavor::kOpenAI;
    std::string_view model;
    std::int64_t prompt_tokens = 1;
    std::string_view request_id;   // Anthropic: the error body's request_id
    std::string_view api_version;  // Azure: quoted in the 429 message
    std::string_view operation;    // Azure: "ChatCompletions_Create", "Embeddings_Create", ...
};

struct FaultReply {
    int status = 500;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;  // set after the common ones
};

// The error response `status` / `error` / `message` / `retry_after*` ask for, in the route's
// flavor (see the README block in mock_upstream.hpp).
[[nodiscard]] FaultReply fault_reply(const Directives& d, const FaultContext& ctx);
// What stream_error_after sends.
[[nodiscard]] SseEvent stream_error_event(const Directives& d, Flavor flavor);
// What malformed_after sends.
[[nodiscard]] SseEvent malformed_event(Flavor flavor);
// 404 body for an unknown route or a method mismatch.
[[nodiscard]] std::string not_found_json(Flavor flavor,
                                         std::string_view method,
                                         std::string_view path,
                                         std::string_view request_id);

// RFC 3339 UTC time `seconds` from now ("2025-01-01T00:00:00Z").
[[nodiscard]] std::string rfc3339_in(std::int64_t seconds);

}  // namespace sy::mock
