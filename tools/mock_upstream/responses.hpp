#pragma once
// Pure builders for the OpenAI-shaped bodies the mock returns: no I/O, no shared state, so they
// are unit-testable and safe to call from any thread.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "directives.hpp"

namespace sy::mock {

inline constexpr std::string_view kDefaultContent = "Hello! This is the mock upstream.";
inline constexpr std::string_view kSystemFingerprint = "fp_mock";
inline constexpr int kDefaultEmbeddingDims = 8;
inline constexpr int kMaxEmbeddingDims = 4096;

// Splits at word starts; each piece after the first keeps its leading whitespace, so the pieces
// concatenate back to `text`.
[[nodiscard]] std::vector<std::string> split_words(std::string_view text);

// Splits into exactly min(n, code points) pieces of near-equal length, never inside a UTF-8
// sequence.
[[nodiscard]] std::vector<std::string> split_even(std::string_view text, std::int64_t n);

// `n` deterministic words ("Hello!", " This", " is", ...); n = 6 gives kDefaultContent.
[[nodiscard]] std::vector<std::string> generated_words(std::int64_t n);

// max(1, code points / 4).
[[nodiscard]] std::int64_t tokens_for_chars(std::int64_t code_points);
[[nodiscard]] std::int64_t count_code_points(std::string_view text);
// Code points of a message content: a string, or the `text` of a list of parts/blocks
// (Anthropic tool_result blocks: of their content too).
[[nodiscard]] std::int64_t content_code_points(const boost::json::value& content);

// Prompt tokens of a chat request: all message contents (strings and text parts).
[[nodiscard]] std::int64_t chat_prompt_tokens(const boost::json::object& request);
// Prompt tokens of an Anthropic Messages request: `system` and all message contents.
[[nodiscard]] std::int64_t anthropic_prompt_tokens(const boost::json::object& request);
// Prompt tokens of a Gemini request: `systemInstruction` and all `contents` text parts.
[[nodiscard]] std::int64_t gemini_prompt_tokens(const boost::json::object& request);
// Prompt tokens of a completions `prompt` or an embeddings `input`.
[[nodiscard]] std::int64_t text_prompt_tokens(const boost::json::value* prompt);

// Which provider's wire format a route speaks.
enum class Flavor {
    kOpenAI,     // /v1/chat/completions, ... (and OpenAI-compatible providers)
    kAzure,      // /openai/deployments/{d}/...?api-version=
    kAnthropic,  // /v1/messages
    kGemini,     // /v1beta/models/{model}:generateContent
};

// One tool call of a reply: its full arguments and the fragments a stream sends them in.
struct ToolCallPlan {
    std::string id;  // call_mock_<seq>[_k] (OpenAI, Azure), toolu_mock_<seq>[_k] (Anthropic)
    std::string name;
    std::string arguments;               // JSON text (verbatim when tool_arguments is not JSON)
    std::vector<std::string> fragments;  // concatenate to `arguments`
};

// What one chat or text completion answers; built once, rendered either as one JSON body or
// as a list of stream events, in any flavor.
struct Reply {
    Flavor flavor = Flavor::kOpenAI;
    std::string id;
    std::int64_t created = 0;
    std::string model;
    // Text pieces. OpenAI chat answers with tool calls carry no text; Anthropic and Gemini
    // answers send these (from `content`) before the tool calls.
    std::vector<std::string> pieces;
    std::vector<ToolCallPlan> tool_calls;
    // In the flavor's vocabulary: stop / tool_calls (OpenAI), end_turn / tool_use / max_tokens
    // (Anthropic), STOP / MAX_TOKENS (Gemini).
    std::string finish_reason = "stop";
    std::int64_t prompt_tokens = 1;
    std::int64_t completion_tokens = 0;
    std::int64_t cache_read_tokens = 0;
    std::int64_t cache_creation_tokens = 0;
};

// Plans a chat reply (`text` = false) or a text completion (`text` = true) in `flavor`'s
// vocabulary (ids, finish reasons, prompt token counting, max-token truncation for Anthropic
// and Gemini).
[[nodiscard]] Reply plan_reply(std::uint64_t seq,
                               bool text,
                               std::string_view model,
                               const Directives& d,
                               const boost::json::object& request,
                               Flavor flavor = Flavor::kOpenAI);

[[nodiscard]] std::string chat_completion_json(const Reply& r);
// The payloads of the `data:` events, without [DONE].
[[nodiscard]] std::vector<std::string> chat_stream_payloads(const Reply& r, bool include_usage);
[[nodiscard]] std::string text_completion_json(const Reply& r);
[[nodiscard]] std::vector<std::string> text_stream_payloads(const Reply& r, bool include_usage);

// Arguments for a tool call that satisfy the named (or else the first) request tool's schema in
// a shallow way. Tools may be given in OpenAI ({"type":"function","function":{...}}), Anthropic
// ({"name","input_schema"}) or Gemini ({"functionDeclarations":[...]}) form.
[[nodiscard]] std::string tool_arguments_for(const boost::json::object& request,
                                             std::string_view tool_name);
// Names of the request's tools, in order, in any of the forms above.
[[nodiscard]] std::vector<std::string> request_tool_names(const boost::json::object& request);

// Unit-length deterministic vector derived from the text.
[[nodiscard]] std::vector<float> embedding_for(std::string_view text, int dims);
[[nodiscard]] std::string base64_encode(std::string_view bytes);
[[nodiscard]] std::string embeddings_json(const boost::json::object& request,
                                          std::string_view model,
                                          const Directives& d);

[[nodiscard]] std::string models_json();
[[nodiscard]] std::string model_json(std::string_view id);

struct ErrorInfo {
    int status = 500;
    std::string message;
    std::string type;
    boost::json::value param;  // null or string
    boost::json::value code;   // null or string
};

// The error a fault directive asks for. `status` comes from d.status, or is implied by d.error.
[[nodiscard]] ErrorInfo fault_error(const Directives& d,
                                    std::string_view model,
                                    std::int64_t prompt_tokens);
[[nodiscard]] std::string error_json(const ErrorInfo& e);
[[nodiscard]] std::string error_json(std::string_view message,
                                     std::string_view type,
                                     std::string_view code = {});

}  // namespace sy::mock
